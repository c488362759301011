#!/usr/bin/env bats
# The command line as users meet it: help, version, usage and config
# errors, exit codes.  No engine needed.

setup() {
	CST="${CST_BIN:?CST_BIN is set by meson test}"
	T="$BATS_TEST_TMPDIR"
}

@test "cst --help lists the commands" {
	run "$CST" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"cst test --image IMAGE --config FILE"* ]]
	[[ "$output" == *"validate"* ]]
}

@test "cst test --help lists CST's flags" {
	run "$CST" test --help
	[ "$status" -eq 0 ]
	for flag in --image --config --driver --output --test-report --quiet --no-color --pull --save \
		--runtime --platform --metadata --image-from-oci-layout --default-image-tag \
		--ignore-ref-annotation --junit-suite-name --force --verbosity; do
		[[ "$output" == *"$flag"* ]] || { echo "missing $flag"; return 1; }
	done
}

@test "every flag of cst test --help is in the man page" {
	man_text=$(MANWIDTH=200 man -l "$CST_TESTS/../doc/cst.1" 2>/dev/null || cat "$CST_TESTS/../doc/cst.1")
	flags=$("$CST" test --help | grep -oE -- '--[a-z][a-z-]+' | sort -u)
	[ -n "$flags" ]
	for f in $flags; do
		grep -qF -- "$f" <<<"${man_text//\\-/-}" || { echo "man page lacks $f"; return 1; }
	done
}

@test "cst version" {
	run "$CST" version
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^cst\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "usage errors exit 2 and name the problem" {
	run "$CST" test --image x
	[ "$status" -eq 2 ]
	[[ "$output" == *"--config"* ]]
	run "$CST" test --image x --config c.yaml --output xml
	[ "$status" -eq 2 ]
	[[ "$output" == *"unsupported output format 'xml'"* ]]
	run "$CST" frobnicate
	[ "$status" -eq 2 ]
}

@test "a bad config prints located errors, exits 2, runs nothing; the report file says why" {
	cat >"$T/bad.yaml" <<'YAML'
schemaVersion: 2.0.0
fileExistenceTests:
  - name: shell
    path: /bin/sh
    shouldExists: true
  - name: ""
    path: /etc
YAML
	run "$CST" test --driver tar --image "$T/missing.tar" --config "$T/bad.yaml" --test-report "$T/report.json"
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad.yaml:5:5: "*"shouldExists"*"shouldExist"* ]]
	[[ "$output" == *"bad.yaml:6:"* ]]
	[ "$(jq -c '[.Pass, .Fail, .Results[0].Name]' "$T/report.json")" = '[0,1,""]' ]
	[[ "$(jq -r '.Results[0].Errors[0]' "$T/report.json")" == *"bad.yaml:5:5: "*"shouldExists"* ]]
	# the image was never opened: its absence is not what is reported
	[[ "$output" != *"missing.tar"* ]]
}

@test "an unknown config extension is rejected" {
	printf 'schemaVersion: 2.0.0\n' >"$T/tests.txt"
	run "$CST" validate "$T/tests.txt"
	[ "$status" -eq 2 ]
	[[ "$output" == *"tests.txt"* ]]
}

@test "cst validate accepts good configs and reports every bad one" {
	cat >"$T/good.yaml" <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: echo
    command: echo
    args: [hi]
    expectedOutput: ["hi"]
YAML
	cat >"$T/bad.json" <<'JSON'
{"schemaVersion": "2.0.0",
 "fileContentTests": [{"name": "x", "path": "/etc/os-release", "expectedContents": ["("]}]}
JSON
	run "$CST" validate "$T/good.yaml"
	[ "$status" -eq 0 ]
	[[ "$output" == *"good.yaml: ok"* ]]
	run "$CST" validate "$T/good.yaml" "$T/bad.json"
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad.json:2:"*"regex"* ]]
}
