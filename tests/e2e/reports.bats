#!/usr/bin/env bats
# What a report says about the run: the image (checked against the
# engine's own inspect), JUnit classnames as CI servers split them, the
# progress meter on a terminal and never on a pipe.

setup_file() {
	. "$CST_TESTS/lib/run.sh"
	cst_engine_setup busybox || return $?
}

setup() {
	CST="${CST_BIN:?CST_BIN is set by meson test}"
	T="$BATS_TEST_TMPDIR"
	cd "$T"
	. "$CST_TESTS/lib/run.sh"
	mkdir -p tests
	cat > tests/structure.yaml <<'YAML'
schemaVersion: 2.0.0
fileExistenceTests:
  - name: sh
    path: /bin/sh
commandTests:
  - name: hello
    command: echo
    args: [hello]
    expectedOutput: ["^hello\n$"]
YAML
	IMAGE=cst-test/busybox:1
	IMAGE_ID=$(docker image inspect --format '{{.Id}}' "$IMAGE")
	[[ "$IMAGE_ID" == sha256:* ]]
}

@test "JSON: CST's keys, then what was tested, the ID as the engine knows it" {
	run_cst test --image "$IMAGE" -c tests/structure.yaml -o json
	echo "$output"; echo "$errout"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.Pass, .Fail, .Total, (.Results | length)]' <<<"$output")" = '[2,0,2,2]' ]
	[ "$(jq -r 'keys_unsorted | join(",")' <<<"$output")" = "Pass,Fail,Total,Duration,Results,Provenance" ]
	[ "$(jq -r .Provenance.Image <<<"$output")" = "$IMAGE" ]
	[ "$(jq -r .Provenance.ImageID <<<"$output")" = "$IMAGE_ID" ]
	[ "$(jq -r .Provenance.Driver <<<"$output")" = docker ]
	[ "$(jq -r .Provenance.Platform <<<"$output")" = "$(docker image inspect --format '{{.Os}}/{{.Architecture}}' "$IMAGE")" ]
	[ "$(jq -r .Provenance.Version <<<"$output")" = "$("$CST" version | cut -d' ' -f2)" ]
	[ "$(jq -r .Provenance.Hostname <<<"$output")" = "$(hostname)" ]
	[[ "$(jq -r .Provenance.StartTime <<<"$output")" =~ ^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z$ ]]
	# A locally built image was never pushed: no repo digest, no key.
	[ "$(jq -r '.Provenance | has("RepoDigest")' <<<"$output")" = false ]
}

@test "JUnit: provenance properties, hostname and timestamp, still valid against the schema" {
	run_cst test --image "$IMAGE" -c tests/structure.yaml -o junit --test-report report.xml
	[ "$status" -eq 0 ]
	cat report.xml
	xmllint --noout --schema "$CST_TESTS/junit/junit.xsd" report.xml
	grep -qF "<property name=\"cst.image.id\" value=\"$IMAGE_ID\"/>" report.xml
	grep -qF "<property name=\"cst.image\" value=\"$IMAGE\"/>" report.xml
	grep -qE "<testsuite [^>]* hostname=\"$(hostname)\" timestamp=\"20[0-9-]{8}T[0-9:]{8}\">" report.xml
}

@test "JUnit classname: relative to the working directory, dots that CI servers do not split" {
	run_cst test --image "$IMAGE" -c "$T/tests/structure.yaml" -o junit
	[ "$status" -eq 0 ]
	[ "$(grep -c 'classname="tests.structure_yaml"' <<<"$output")" -eq 2 ]
	# Outside the working directory: the file's own name.
	mkdir -p elsewhere
	cd elsewhere
	run_cst test --image "$IMAGE" -c "$T/tests/structure.yaml" -o junit
	[ "$status" -eq 0 ]
	[ "$(grep -c 'classname="structure_yaml"' <<<"$output")" -eq 2 ]
}

@test "TAP: provenance as comments before the plan, which prove accepts" {
	run_cst test --image "$IMAGE" -c tests/structure.yaml -o tap --test-report report.tap
	[ "$status" -eq 0 ]
	cat report.tap
	[ "$(sed -n 2p report.tap)" = "# image: $IMAGE" ]
	grep -qxF "# image.id: $IMAGE_ID" report.tap
	[ "$(grep -n '^1\.\.2$' report.tap | cut -d: -f1)" -gt "$(grep -n '^# image.id:' report.tap | cut -d: -f1)" ]
	prove --exec cat report.tap
}

@test "text: CST's output by default, one provenance line with -v info" {
	run_cst test --image "$IMAGE" -c tests/structure.yaml
	[ "$status" -eq 0 ]
	[[ "$output" != *"Tested:"* ]]
	run_cst test --image "$IMAGE" -c tests/structure.yaml -v info
	[ "$status" -eq 0 ]
	echo "$output"
	[ "$(grep -c '^Tested: ' <<<"$output")" -eq 1 ]
	grep -qF "Tested: image $IMAGE, image ID $IMAGE_ID, platform " <<<"$output"
	# Under the banner, above the first result.
	[ "$(grep -n '^Tested: ' <<<"$output" | cut -d: -f1)" -eq 5 ]
}

# A command test that outlasts the meter's one second: the container's own
# sleep, not the test's, decides how long the run takes.
slow_config() {
	cat > slow.yaml <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: quick
    command: echo
    args: [hi]
  - name: slow
    command: sleep
    args: ["2"]
YAML
}

@test "progress: a meter on a terminal, erased before the report" {
	slow_config
	script -qfec "$CST test --image $IMAGE -c slow.yaml" /dev/null </dev/null >pty.out
	cat -A pty.out | head -5
	grep -qaE $'\r\033\\[2Kcst: command tests: [0-2] of 2 done' pty.out
	# The line is erased before the report starts on it.
	grep -qaF $'\r\033[2K\033[35m\r\n====' pty.out || grep -qaF $'\r\033[2K\r\n====' pty.out
	grep -qaF 'PASS' pty.out
}

@test "progress: nothing on a pipe or with -q" {
	slow_config
	run_cst test --image "$IMAGE" -c slow.yaml
	[ "$status" -eq 0 ]
	[[ "$errout" != *"command tests:"* ]]
	[[ "$errout" != *$'\033'* ]]
	script -qfec "$CST test -q --image $IMAGE -c slow.yaml" /dev/null </dev/null >pty.out
	! grep -qa 'command tests:' pty.out
	[ ! -s pty.out ]
}

@test "did you mean: commands and flags" {
	run "$CST" tset
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown command 'tset': did you mean 'cst test'?"* ]]
	run "$CST" test --confg x.yaml --image "$IMAGE"
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown flag --confg: did you mean --config?"* ]]
}

@test "an image error says its cause once" {
	run_cst test --image cst-test/no-such-image:0 -c tests/structure.yaml
	[ "$status" -eq 2 ]
	echo "$errout"
	[ "$errout" = "cst: no such image: cst-test/no-such-image:0 (use --pull to pull it)" ]
	# The engine calls a malformed reference a missing image; it is not.
	run_cst test --image UPPER:1 -c tests/structure.yaml
	[ "$status" -eq 2 ]
	echo "$errout"
	[[ "$errout" == "cst: image 'UPPER:1': invalid reference format"* ]]
	[[ "${errout,,}" != *"no such image"* ]]
}

@test "tar driver: a saved image's ID is its config's digest, as in the engine" {
	docker save "$IMAGE" -o image.tar
	run_cst test --driver tar --image image.tar -c tests/structure.yaml -o json
	echo "$output"
	[ "$(jq -r .Provenance.ImageID <<<"$output")" = "$IMAGE_ID" ]
	[ "$(jq -r .Provenance.Driver <<<"$output")" = tar ]
	[ "$(jq -r .Provenance.Image <<<"$output")" = image.tar ]
}
