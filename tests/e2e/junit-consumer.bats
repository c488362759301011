#!/usr/bin/env bats
# cst's JUnit as CI servers read it: parsed with junitparser (Debian's
# python3-junitparser, the library behind many CI report plugins) and
# compared with what cst's JSON report says about the same run.  The image
# is a rootfs tar read by the tar driver, so no engine is needed.

setup() {
	CST="${CST_BIN:?CST_BIN is set by meson test}"
	T="$BATS_TEST_TMPDIR"
	# Debian's python3 carries junitparser; a python3 earlier on PATH may not.
	PY=python3
	[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
	"$PY" -c 'import junitparser' || { echo "python3-junitparser is not installed (build-aux/install-deps.sh)"; return 1; }

	mkdir -p "$T/root/usr/local/bin" "$T/root/etc"
	printf '#!/bin/sh\necho 1.0\n' >"$T/root/usr/local/bin/app"
	chmod 755 "$T/root/usr/local/bin/app"
	printf 'ID=app\n' >"$T/root/etc/os-release"
	tar --owner=0 --group=0 --numeric-owner -C "$T/root" -cf "$T/rootfs.tar" .
	printf '%s\n' '{"config": {"Env": ["PATH=/usr/local/bin"], "User": "app"}}' >"$T/meta.json"

	cat >"$T/files.yaml" <<'YAML'
schemaVersion: 2.0.0
fileExistenceTests:
  - name: app
    path: /usr/local/bin/app
    permissions: -rwxr-xr-x
    uid: 0
  - name: wrong owner & mode
    path: /usr/local/bin/app
    permissions: -rwx------
    uid: 1000
fileContentTests:
  - name: os-release
    path: /etc/os-release
    expectedContents: ["^ID=app\n$"]
  - name: "<two> missing \"strings\""
    path: /etc/os-release
    expectedContents: ["VERSION_ID=", "PRETTY_NAME="]
YAML
	cat >"$T/meta.yaml" <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: version
    command: app
    expectedOutput: ["^1.0\n$"]
metadataTest:
  user: root
YAML
}

run_cst() {
	"$CST" test --driver tar --image "$T/rootfs.tar" --metadata "$T/meta.json" \
		--config "$T/files.yaml" --config "$T/meta.yaml" "$@"
}

@test "junitparser reads the same counts, verdicts and failure messages as the JSON report" {
	run run_cst -o junit --test-report "$T/report.xml"
	[ "$status" -eq 1 ]
	run run_cst -o json --test-report "$T/report.json"
	[ "$status" -eq 1 ]
	run "$PY" "$CST_TESTS/ci/junit_matches_json.py" "$T/report.xml" "$T/report.json" \
		container-structure-test.test \
		files_yaml files_yaml files_yaml files_yaml meta_yaml meta_yaml
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "junitparser: the numbers and messages a CI page would show" {
	run run_cst -o junit --test-report "$T/report.xml"
	[ "$status" -eq 1 ]
	run "$PY" "$CST_TESTS/ci/read_junit.py" "$T/report.xml"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$T/read.json"
	"$PY" - "$T/read.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert (r["tests"], r["failures"], r["errors"], r["skipped"]) == (6, 4, 0, 0), r
suite = r["suites"][0]
assert (suite["tests"], suite["failures"], suite["errors"]) == (6, 4, 0), suite
by_name = {c["name"]: c for c in r["cases"]}
assert by_name["File Existence Test: app"]["passed"]
assert by_name["File Content Test: os-release"]["passed"]
owner = by_name["File Existence Test: wrong owner & mode"]
assert not owner["passed"] and len(owner["failures"]) >= 1, owner
assert any("-rwx------" in m for m in owner["failures"]), owner
two = by_name['File Content Test: <two> missing "strings"']
assert len(two["failures"]) == 2, two
assert "VERSION_ID=" in two["failures"][0] and "PRETTY_NAME=" in two["failures"][1], two
assert not by_name["Command Test: version"]["passed"]
assert not by_name["Metadata Test"]["passed"]
assert all(c["failures"] for c in r["cases"] if not c["passed"]), "a failed case without a <failure>"
PY
}

@test "junitparser sees --junit-suite-name and a clean run with no failures" {
	cat >"$T/pass.yaml" <<'YAML'
schemaVersion: 2.0.0
fileExistenceTests:
  - name: app
    path: /usr/local/bin/app
YAML
	run "$CST" test --driver tar --image "$T/rootfs.tar" --metadata "$T/meta.json" --config "$T/pass.yaml" \
		-o junit --junit-suite-name "release gate" --test-report "$T/pass.xml"
	[ "$status" -eq 0 ]
	run "$CST" test --driver tar --image "$T/rootfs.tar" --metadata "$T/meta.json" --config "$T/pass.yaml" \
		-o json --test-report "$T/pass.json"
	[ "$status" -eq 0 ]
	run "$PY" "$CST_TESTS/ci/junit_matches_json.py" "$T/pass.xml" "$T/pass.json" "release gate" pass_yaml
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "the CI recipes in README.md parse: YAML loads, shell passes sh -n, Groovy braces balance" {
	run "$PY" "$CST_TESTS/ci/readme_snippets.py" "$CST_TESTS/../README.md" check
	echo "$output"
	[ "$status" -eq 0 ]
}
