"""Checks schemas/cst-config.schema.json against the config fixtures.

Every config under testdata/ (a .yaml/.yml/.json file with a top-level
schemaVersion key, outside any invalid/ directory) must validate.  Of the
fixtures in testdata/configs/invalid/, those listed in MUST_REJECT must fail
validation; the rest are listed in EXEMPT with the reason a schema cannot
see their problem.  A fixture in neither list fails the test, so every new
one gets classified.

Usage: check_config_schema.py SCHEMA TESTDATA_DIR  (prints TAP)
"""

import json
import os
import sys

import jsonschema
import yaml

MUST_REJECT = {
    "bad-bool.yaml",
    "bad-exec-by.yaml",
    "empty-command.yaml",
    "empty-env-value.yaml",
    "empty-env-key.yaml",
    "empty-name.yaml",
    "empty-path.yaml",
    "empty-setup.yaml",
    "empty-teardown.yaml",
    "missing-command.yaml",
    "missing-name.yaml",
    "metadata-env.yaml",
    "missing-schema-version.yaml",
    "multiple-errors.yaml",
    "unknown-key.json",
    "unknown-key.yaml",
    "unsupported-schema-version.yaml",
    "v1-metadata.yaml",
    "v1-uid.yaml",
    "v1-file-system.yaml",
    "file-system-no-assertion.yaml",
    "bad-sha256.yaml",
    "bad-file-type.yaml",
    "bad-base-layer.yaml",
    "v2-command-list.yaml",
    "wrong-type.json",
    "wrong-type.yaml",
}

EXEMPT = {
    "alias-bomb.yaml": "expands to a billion nodes; never loaded here",
    "bad-extension.conf": "not a config format",
    "bad-metadata-regex.yaml": "regex syntax is not checked by the schema",
    "bad-regex.yaml": "regex syntax is not checked by the schema",
    "bad-glob.yaml": "glob syntax is not checked by the schema",
    "deep-nesting.yaml": "a parser limit, not a schema rule",
    "duplicate-key.yaml": "parsers keep the last duplicate",
    "syntax-error.json": "does not parse",
    "syntax-error.yaml": "does not parse",
}


def load(path):
    with open(path, "rb") as f:
        if path.endswith(".json"):
            return json.load(f)
        return yaml.safe_load(f)


def first_error(validator, doc):
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    if not errors:
        return None
    e = errors[0]
    return "/".join(str(p) for p in e.path) + ": " + e.message


def main():
    schema_path, testdata = sys.argv[1], sys.argv[2]
    with open(schema_path, "rb") as f:
        schema = json.load(f)
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    failures = []
    checked = 0
    passed = [0]

    def ok(line):
        passed[0] += 1
        print("ok - " + line)

    for dirpath, dirnames, filenames in os.walk(testdata):
        dirnames[:] = sorted(d for d in dirnames if d != "invalid")
        for name in sorted(filenames):
            if not name.endswith((".yaml", ".yml", ".json")):
                continue
            path = os.path.join(dirpath, name)
            try:
                doc = load(path)
            except (ValueError, yaml.YAMLError) as e:
                if os.sep + "configs" + os.sep + "valid" + os.sep in path:
                    failures.append(f"{path}: does not load: {e}")
                continue
            if not isinstance(doc, dict) or "schemaVersion" not in doc:
                if os.sep + "configs" + os.sep + "valid" + os.sep in path:
                    failures.append(f"{path}: no schemaVersion")
                continue
            checked += 1
            err = first_error(validator, doc)
            if err:
                failures.append(f"{path}: rejected: {err}")
            else:
                ok(f"{path} validates")

    invalid_dir = os.path.join(testdata, "configs", "invalid")
    for name in sorted(os.listdir(invalid_dir)):
        path = os.path.join(invalid_dir, name)
        if name in EXEMPT:
            print(f"# {path} exempt: {EXEMPT[name]}")
            continue
        if name not in MUST_REJECT:
            failures.append(f"{path}: add it to MUST_REJECT or EXEMPT")
            continue
        checked += 1
        if first_error(validator, load(path)) is None:
            failures.append(f"{path}: accepted by the schema")
        else:
            ok(f"{path} rejected")

    for name in sorted(MUST_REJECT | set(EXEMPT)):
        if not os.path.exists(os.path.join(invalid_dir, name)):
            failures.append(f"{invalid_dir}/{name}: listed but missing")

    if checked == 0:
        failures.append("no configs found")
    for f in failures:
        print("not ok - " + f)
    print(f"1..{passed[0] + len(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
