#!/usr/bin/env python3
"""Checks on cst's HTML report as a browser sees it (used by tests/e2e/html.bats).

  check_page.py static REPORT
      the page loads nothing and runs nothing: no scripts, links, frames,
      images, src/href attributes, CSS url() or @import
  check_page.py dom DUMP --pass N --fail N [--failure NAME]... [--text TEXT]...
      DUMP is `chromium --dump-dom` of a copy of the report with
      tests/html/probe.js appended; checks the element structure and the
      layout facts the probe measured (phone width, folded passes)
  check_page.py png FILE --width W --height H
      FILE is a PNG of the given size that shows the red of a failure and
      the green of a pass, i.e. the page rendered with its styles

Prints what is wrong and exits 1; silent and 0 when all is well.
"""
import argparse
import json
import re
import struct
import sys
import zlib
from html.parser import HTMLParser

# The elements cst's page is made of, plus the probe's <script>.
PAGE_TAGS = {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "span", "div",
             "ul", "li", "section", "article", "details", "summary", "p", "pre", "script", "dl", "dt", "dd"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag = tag
        self.attrs = dict(attrs)
        self.parent = parent
        self.children = []
        self.text = []

    def classes(self):
        return set((self.attrs.get("class") or "").split())

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()

    def find_all(self, tag=None, cls=None, id_=None):
        return [n for n in self.walk()
                if (tag is None or n.tag == tag)
                and (cls is None or cls <= n.classes())
                and (id_ is None or n.attrs.get("id") == id_)]

    def all_text(self):
        return "".join(self.text) + "".join(c.all_text() for c in self.children)


class Tree(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", [], None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        # Text is kept in document order relative to children by giving it
        # its own node.
        t = Node("#text", [], self.cur)
        t.text.append(data)
        self.cur.children.append(t)


def parse(path):
    with open(path, encoding="utf-8") as f:
        data = f.read()
    tree = Tree()
    tree.feed(data)
    tree.close()
    return data, tree.root


def check_static(path, problems):
    data, root = parse(path)
    if not data.startswith("<!DOCTYPE html>"):
        problems.append("does not start with <!DOCTYPE html>")
    for n in root.walk():
        if n.tag in ("script", "link", "iframe", "frame", "object", "embed", "img", "video", "audio", "base"):
            problems.append(f"has a <{n.tag}> element")
        for a in ("src", "href", "srcset", "action", "data", "poster"):
            if a in n.attrs:
                problems.append(f"<{n.tag}> has a {a} attribute")
    for style in root.find_all("style"):
        css = style.all_text()
        if re.search(r"url\s*\(|@import", css):
            problems.append("the stylesheet loads something (url() or @import)")
    if not root.find_all("meta") or not any(m.attrs.get("name") == "viewport" for m in root.find_all("meta")):
        problems.append("no viewport meta: unusable on a phone")


def check_provenance(h, want, problems):
    """want: {class: value} the header's provenance list must show."""
    dls = h.find_all("dl", id_="provenance")
    if len(dls) != 1:
        problems.append(f"{len(dls)} dl#provenance in the summary header, want 1")
        return
    for key, value in want.items():
        dd = dls[0].find_all("dd", cls={key})
        if len(dd) != 1 or dd[0].all_text() != value:
            problems.append(f"provenance {key}: {[d.all_text() for d in dd]!r}, want {value!r}")
        if dls[0].attrs.get("data-" + key) != value:
            problems.append(f"provenance data-{key}={dls[0].attrs.get('data-' + key)!r}, want {value!r}")


def check_dom(path, want_pass, want_fail, failures, texts, problems, provenance=None):
    _, root = parse(path)
    hdr = root.find_all("header", id_="summary")
    if len(hdr) != 1:
        problems.append(f"{len(hdr)} header#summary elements, want 1")
        return
    h = hdr[0]
    for key, want in (("data-pass", want_pass), ("data-fail", want_fail), ("data-total", want_pass + want_fail)):
        if h.attrs.get(key) != str(want):
            problems.append(f"summary {key}={h.attrs.get(key)!r}, want {want}")
    counts = " ".join(h.all_text().split())
    for phrase in (f"{want_pass} passed", f"{want_fail} failed", f"{want_pass + want_fail} total"):
        if phrase not in counts:
            problems.append(f"summary text {counts!r} lacks {phrase!r}")

    sections = [n.attrs.get("id") for n in root.find_all("section")]
    want_sections = (["failures"] if want_fail else []) + (["passes"] if want_pass else [])
    if sections != want_sections:
        problems.append(f"sections {sections}, want {want_sections} (failures first)")

    fails = root.find_all("article", cls={"result", "fail"})
    passes = root.find_all("details", cls={"result", "pass"})
    if len(fails) != want_fail:
        problems.append(f"{len(fails)} failed results, want {want_fail}")
    if len(passes) != want_pass:
        problems.append(f"{len(passes)} passed results, want {want_pass}")
    for a in fails:
        errs = a.find_all("li", cls={"error"})
        if not errs or not all(e.all_text().strip() for e in errs):
            problems.append(f"failure {a.attrs.get('data-name')!r} shows no error")
        names = a.find_all("h3")
        if not names or names[0].all_text() != a.attrs.get("data-name"):
            problems.append(f"failure {a.attrs.get('data-name')!r}: heading differs from its name")
    for d in passes:
        if "open" in d.attrs:
            problems.append(f"pass {d.attrs.get('data-name')!r} is unfolded")
        if not d.find_all("summary"):
            problems.append(f"pass {d.attrs.get('data-name')!r} has no <summary>")
    fail_names = [a.attrs.get("data-name") for a in fails]
    for name in failures:
        if name not in fail_names:
            problems.append(f"failure {name!r} not among {fail_names}")
    body_text = root.all_text()
    for t in texts:
        if t not in body_text:
            problems.append(f"page text lacks {t!r}")

    # Every element is one the report writes: markup in names, errors or
    # output must have stayed text.
    for n in root.walk():
        if not n.tag.startswith("#") and n.tag not in PAGE_TAGS:
            problems.append(f"unexpected <{n.tag}> element: text was taken for markup")

    if provenance:
        check_provenance(h, provenance, problems)

    probe = root.find_all("pre", id_="probe")
    if len(probe) != 1:
        problems.append("no probe result: the page did not render in the browser")
        return
    facts = json.loads(probe[0].all_text())
    if facts["scrollWidth"] > facts["viewportWidth"]:
        problems.append(f"page is {facts['scrollWidth']}px wide in a {facts['viewportWidth']}px viewport")
    if facts["narrowScrollWidth"] > facts["narrowWidth"]:
        problems.append(f"page needs {facts['narrowScrollWidth']}px at a {facts['narrowWidth']}px phone width")
    if facts["bodyFontPx"] < 14:
        problems.append(f"body text is {facts['bodyFontPx']}px: too small on a phone")
    for key in ("failsVisible", "failErrorsVisible", "passesClosed", "passSummariesVisible", "failsAbovePasses"):
        if not facts[key]:
            problems.append(f"layout: {key} is false ({facts})")
    if facts["failCount"] != want_fail or facts["passCount"] != want_pass:
        problems.append(f"browser counted {facts['failCount']} failures, {facts['passCount']} passes")
    if want_fail and facts["barFailWidth"] <= 0:
        problems.append("summary bar shows no failures")
    if want_pass and facts["barPassWidth"] <= 0:
        problems.append("summary bar shows no passes")
    want_verdict = "PASS" if want_fail == 0 and want_pass > 0 else "FAIL"
    if facts["verdict"] != want_verdict:
        problems.append(f"verdict {facts['verdict']!r}, want {want_verdict}")
    for key, value in (provenance or {}).items():
        shown = facts.get("provenance", {}).get(key)
        if shown != value:
            problems.append(f"browser shows provenance {key} as {shown!r}, want {value!r}")


def png_pixels(path):
    """Decodes an 8-bit RGB or RGBA, non-interlaced PNG into rows of bytes."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if ctype == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = hdr
    if depth != 8 or color not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG (depth {depth}, colour type {color}, interlace {interlace})")
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def check_png(path, want_w, want_h, problems):
    try:
        w, h, bpp, rows = png_pixels(path)
    except (OSError, ValueError, zlib.error, TypeError, struct.error) as e:
        problems.append(f"{path}: {e}")
        return
    if (w, h) != (want_w, want_h):
        problems.append(f"screenshot is {w}x{h}, want {want_w}x{want_h}")
    red = green = 0
    colours = set()
    for row in rows:
        for x in range(0, len(row), bpp):
            r, g, b = row[x], row[x + 1], row[x + 2]
            colours.add((r, g, b))
            if r > 150 and g < 100 and b < 100:
                red += 1
            elif g > 100 and r < 100 and b < 100:
                green += 1
    if len(colours) < 16:
        problems.append(f"screenshot has {len(colours)} colours: the page did not render")
    if red < 50:
        problems.append(f"screenshot shows {red} red pixels: no failure marking")
    if green < 50:
        problems.append(f"screenshot shows {green} green pixels: no pass marking")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("static")
    s.add_argument("report")
    d = sub.add_parser("dom")
    d.add_argument("dump")
    d.add_argument("--pass", dest="npass", type=int, required=True)
    d.add_argument("--fail", dest="nfail", type=int, required=True)
    d.add_argument("--failure", action="append", default=[])
    d.add_argument("--text", action="append", default=[])
    d.add_argument("--provenance", action="append", default=[], metavar="KEY=VALUE")
    p = sub.add_parser("png")
    p.add_argument("png")
    p.add_argument("--width", type=int, required=True)
    p.add_argument("--height", type=int, required=True)
    args = ap.parse_args()

    problems = []
    if args.cmd == "static":
        check_static(args.report, problems)
    elif args.cmd == "dom":
        prov = dict(kv.split("=", 1) for kv in args.provenance)
        check_dom(args.dump, args.npass, args.nfail, args.failure, args.text, problems, prov)
    else:
        check_png(args.png, args.width, args.height, problems)
    for msg in problems:
        print(msg)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
