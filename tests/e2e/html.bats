#!/usr/bin/env bats
# The HTML report as people meet it: written by cst, opened in a browser
# (headless Chromium), read on a phone.  The image is a rootfs tar read by
# the tar driver, so no engine is needed.

setup() {
	CST="${CST_BIN:?CST_BIN is set by meson test}"
	T="$BATS_TEST_TMPDIR"
	CHECK="$CST_TESTS/html/check_page.py"

	mkdir -p "$T/root/bin" "$T/root/etc/app"
	printf '#!/bin/sh\necho app 1.0\n' >"$T/root/bin/app"
	chmod 755 "$T/root/bin/app"
	printf 'greeting=hello\n' >"$T/root/etc/app/app.conf"
	tar --owner=0 --group=0 --numeric-owner -C "$T/root" -cf "$T/rootfs.tar" .
	cat >"$T/meta.json" <<'JSON'
{"config": {"Env": ["PATH=/bin"], "User": "1000", "Labels": {"org.opencontainers.image.title": "app"}}}
JSON
	cat >"$T/tests.yaml" <<'YAML'
schemaVersion: 2.0.0
fileExistenceTests:
  - name: app
    path: /bin/app
    permissions: -rwxr-xr-x
  - name: no compiler
    path: /usr/bin/cc
    shouldExist: false
  - name: <b>missing</b> & gone
    path: /etc/missing.conf
fileContentTests:
  - name: greeting
    path: /etc/app/app.conf
    expectedContents: ["^greeting=hello\n$"]
  - name: wrong greeting
    path: /etc/app/app.conf
    expectedContents: ["greeting=<script>alert(1)</script>"]
metadataTest:
  user: "1000"
  labels:
    - key: org.opencontainers.image.title
      value: app
YAML
}

cst_html() {
	"$CST" test --driver tar --image "$T/rootfs.tar" --metadata "$T/meta.json" --config "$T/tests.yaml" "$@"
}

# Runs Debian's chromium the way a CI job would: no sandbox (no user
# namespaces in containers), no GPU, nothing fetched, a profile of its own.
chromium_headless() {
	local profile
	profile=$(mktemp -d "$T/profile.XXXXXX")
	timeout 120 chromium --headless --no-sandbox --disable-gpu \
		--disable-background-networking --disable-component-update --disable-sync --no-first-run \
		--user-data-dir="$profile" "$@" 2>>"$T/chromium.log"
}

# A copy of the report with tests/html/probe.js appended, dumped as DOM.
dump_probed() {
	local report="$1" out="$2"
	{
		cat "$report"
		printf '<script>\n'
		cat "$CST_TESTS/html/probe.js"
		printf '</script>\n'
	} >"$T/probed.html"
	chromium_headless --window-size=390,844 --dump-dom "file://$T/probed.html" >"$out"
}

@test "-o html with --test-report writes one self-contained page" {
	run cst_html -o html --test-report "$T/report.html"
	[ "$status" -eq 1 ]
	[ -s "$T/report.html" ]
	run python3 "$CHECK" static "$T/report.html"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qF '<title>FAIL: 4 passed, 2 failed</title>' "$T/report.html"
}

@test "-o html without --test-report writes the page to stdout" {
	run cst_html -o html
	[ "$status" -eq 1 ]
	[[ "${lines[0]}" == "<!DOCTYPE html>" ]]
	[[ "$output" == *'data-pass="4" data-fail="2" data-total="6"'* ]]
	[[ "$output" == *'</html>' ]]
}

@test "--test-report FILE.html with the default text output is JSON, as in CST" {
	run cst_html --test-report "$T/report.html"
	[ "$status" -eq 1 ]
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert (d["Pass"], d["Fail"]) == (4, 2), d' \
		"$T/report.html"
}

@test "chromium: failures first with their errors, passes folded, fits a phone" {
	cst_html -o html --test-report "$T/report.html" || [ $? -eq 1 ]
	dump_probed "$T/report.html" "$T/dom.html"
	run python3 "$CHECK" dom "$T/dom.html" --pass 4 --fail 2 \
		--failure 'File Existence Test: <b>missing</b> & gone' \
		--failure 'File Content Test: wrong greeting' \
		--text 'not found in file content' --text 'greeting=<script>alert(1)</script>' \
		--provenance "image=$T/rootfs.tar" --provenance driver=tar --provenance "hostname=$(hostname)"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "chromium: the screenshot shows the page with its colours" {
	cst_html -o html --test-report "$T/report.html" || [ $? -eq 1 ]
	chromium_headless --window-size=390,844 --screenshot="$T/report.png" "file://$T/report.html"
	[ -s "$T/report.png" ]
	run python3 "$CHECK" png "$T/report.png" --width 390 --height 844
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "chromium: markup, control characters and bad UTF-8 in results stay text" {
	fixture="$CST_BUILD/tests/report_fixture"
	[ -x "$fixture" ]
	"$fixture" html mixed "$T/mixed.html"
	run python3 "$CHECK" static "$T/mixed.html"
	[ "$status" -eq 0 ]
	dump_probed "$T/mixed.html" "$T/dom.html"
	run python3 "$CHECK" dom "$T/dom.html" --pass 2 --fail 5 \
		--failure 'Command Test: several errors' --failure 'License Test' \
		--text "Command Test: echo <a> & \"b\" 'c'" \
		--text 'error: <bad> & worse' \
		--text $'a\u2401b\u241b[31mred' \
		--text $'bad byte \ufffd and bell \u2407 in error' \
		--provenance $'image=images/app & <"new">\t\'x\'.tar' --provenance platform=linux/arm64/v8 \
		--provenance start=2026-01-01T00:00:00Z
	echo "$output"
	[ "$status" -eq 0 ]
}
