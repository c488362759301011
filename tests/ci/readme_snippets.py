#!/usr/bin/env python3
"""The code blocks of README.md's "## CI recipes" section, for tests.

  readme_snippets.py README.md get HEADING LANG   print the first LANG block under ### HEADING
  readme_snippets.py README.md check              every yaml block parses, every sh block
                                                  passes `sh -n`, every groovy block has
                                                  balanced braces; prints problems, exits 1
"""
import re
import subprocess
import sys

import yaml


def blocks(readme):
    """(subsection heading, language, code) for each fenced block of ## CI recipes."""
    with open(readme, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^## CI recipes\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    if not m:
        raise SystemExit("README.md has no '## CI recipes' section")
    heading = ""
    out = []
    lines = m.group(1).split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("### "):
            heading = line[4:].strip()
        fence = re.match(r"^(\s*)```(\w*)\s*$", line)
        if fence:
            indent, lang = fence.group(1), fence.group(2)
            code = []
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                code.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
                i += 1
            out.append((heading, lang, "\n".join(code) + "\n"))
        i += 1
    return out


def main():
    readme, cmd = sys.argv[1], sys.argv[2]
    bl = blocks(readme)
    if cmd == "get":
        heading, lang = sys.argv[3], sys.argv[4]
        for h, l, code in bl:
            if h == heading and l == lang:
                sys.stdout.write(code)
                return 0
        print(f"no {lang} block under '### {heading}'", file=sys.stderr)
        return 1
    problems = []
    langs = set()
    for h, lang, code in bl:
        where = f"'{h or 'CI recipes'}' {lang} block"
        langs.add(lang)
        if lang == "yaml":
            try:
                doc = yaml.safe_load(code)
                if not isinstance(doc, dict):
                    problems.append(f"{where}: not a mapping")
            except yaml.YAMLError as e:
                problems.append(f"{where}: {e}")
        elif lang == "sh":
            r = subprocess.run(["sh", "-n"], input=code, text=True, capture_output=True)
            if r.returncode != 0:
                problems.append(f"{where}: sh -n: {r.stderr.strip()}")
        elif lang == "groovy":
            if code.count("{") != code.count("}") or code.count("(") != code.count(")"):
                problems.append(f"{where}: unbalanced braces")
    for want in ("yaml", "sh", "groovy", "make"):
        if want not in langs:
            problems.append(f"no {want} block")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
