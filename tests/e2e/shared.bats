#!/usr/bin/env bats
# --shared-container against a real engine: command tests without setup run
# as execs in one container per set of run options, with the verdicts of a
# container per test; the one difference (tests see each other's changes)
# is shown; timeouts, interruption, --save and images that cannot keep a
# shared container running leave nothing behind.

setup_file() {
	. "$CST_TESTS/lib/run.sh"
	cst_engine_setup busybox busybox-user || return $?
}

setup() {
	: "${CST_BIN:?CST_BIN is set by meson test}"
	T="$BATS_TEST_TMPDIR"
	cd "$T"
	. "$CST_TESTS/lib/run.sh"
	watch_events
}

teardown() {
	stop_events
	[ -n "${pid:-}" ] && kill -KILL "$pid" 2>/dev/null || true
	docker images -q --filter "label=dev.cst.test.shared=$BATS_ROOT_PID" | xargs -r docker rmi -f >/dev/null 2>&1 || true
}

# Pass or fail per test, in report order.
verdicts() { # report.json
	jq -c '[.Results[] | {Name, Pass}]' "$1"
}

# An image made from cst-test/busybox:1 by the Dockerfile lines given,
# labelled so that teardown removes it.
build_variant() { # tag dockerfile-lines...
	tag=$1
	shift
	printf 'FROM cst-test/busybox:1\nLABEL dev.cst.test.shared=%s\n' "$BATS_ROOT_PID" > "$T/Dockerfile"
	printf '%s\n' "$@" >> "$T/Dockerfile"
	docker build -q -t "$tag" "$T" >/dev/null 2>&1
}

write_semantics_configs() {
	# Checks of every kind, some meant to fail, across the three ways the
	# run options change how a command runs.
	cat > plain.yaml <<'YAML'
schemaVersion: 2.0.0
globalEnvVars:
  - key: GLOBAL
    value: "g-$CST_IMAGE"
commandTests:
  - name: env from image, globals and the test
    command: sh
    args: ["-c", "echo $GREETING $GLOBAL; env | grep -E '^(MINE|CST_IMAGE)=' | sort; pwd; echo oops >&2"]
    envVars:
      - key: MINE
        value: mine
    expectedOutput: ["^hello world g-busybox\nCST_IMAGE=busybox\nMINE=mine\n/srv\n$"]
    expectedError: ["^oops\n$"]
  - name: exit code
    command: sh
    args: ["-c", "echo out; exit 3"]
    exitCode: 3
  - name: wrong exit code fails
    command: "false"
  - name: excluded output fails
    command: echo
    args: ["secret"]
    excludedOutput: ["secret"]
  - name: the image user
    command: id
    args: ["-u"]
    expectedOutput: ["^(0|1000)\n$"]
  - name: no tty
    command: sh
    args: ["-c", "test -t 1 && echo tty || echo notty"]
    expectedOutput: ["^notty\n$"]
  - name: missing binary fails
    command: no-such-binary
YAML
	cat > user.yaml <<'YAML'
schemaVersion: 2.0.0
containerRunOptions:
  user: "4242:4243"
commandTests:
  - name: run as the given user
    command: sh
    args: ["-c", "id -u; id -g"]
    expectedOutput: ["^4242\n4243\n$"]
  - name: cannot write as that user
    command: sh
    args: ["-c", "echo x > /etc/cst-owned"]
    exitCode: 0
YAML
	cat > tty.yaml <<'YAML'
schemaVersion: 2.0.0
containerRunOptions:
  allocateTty: true
  envVars: ["CST_SHARED_HOST_VAR"]
commandTests:
  - name: a tty, both streams on stdout with CRLF
    command: sh
    args: ["-c", "test -t 1 && echo tty; echo to-err >&2; env | grep -E '^(TERM|CST_SHARED_HOST_VAR)=' | sort"]
    expectedOutput: ["^tty\r\nto-err\r\nCST_SHARED_HOST_VAR=from-host\r\nTERM=xterm\r\n$"]
  - name: exit code with a tty
    command: sh
    args: ["-c", "exit 5"]
    exitCode: 5
YAML
}

@test "the same verdicts with and without --shared-container" {
	write_semantics_configs
	export CST_SHARED_HOST_VAR=from-host
	for image in cst-test/busybox:1 cst-test/busybox-user:1; do
		args=(test --image "$image" -c plain.yaml -c user.yaml -c tty.yaml --jobs 2 -o json)
		run_cst "${args[@]}" --test-report own.json
		echo "$image, own containers: $(verdicts own.json)"
		[ "$status" -eq 1 ]
		[ "$(left_by "$pid")" -eq 0 ]
		run_cst "${args[@]}" --test-report shared.json --shared-container
		echo "$image, shared: $(verdicts shared.json)"; echo "$errout"
		[ "$status" -eq 1 ]
		[ "$(left_by "$pid")" -eq 0 ]
		[ "$(verdicts own.json)" = "$(verdicts shared.json)" ]
		# what is meant to fail fails, and nothing else
		[ "$(jq '[.Results[] | select(.Pass | not) | .Name]' shared.json)" = "$(jq -n '[
			"Command Test: wrong exit code fails", "Command Test: excluded output fails",
			"Command Test: missing binary fails", "Command Test: cannot write as that user"]')" ]
		# a missing binary fails with the engine's reason in both
		for f in own.json shared.json; do
			jq -r '.Results[] | select(.Name == "Command Test: missing binary fails") | .Errors[0]' "$f" |
				grep -F '"no-such-binary": executable file not found in $PATH'
		done
	done
}

@test "one container for the tests without setup, per set of run options; setup tests keep theirs" {
	{
		echo "schemaVersion: 2.0.0"
		echo "commandTests:"
		for i in 1 2 3 4 5 6; do
			echo "  - name: t$i"
			echo "    command: sh"
			echo "    args: [\"-c\", \"echo out-$i; echo err-$i >&2; exit $i\"]"
			echo "    expectedOutput: [\"^out-$i\\n\$\"]"
			echo "    expectedError: [\"^err-$i\\n\$\"]"
			echo "    exitCode: $i"
		done
		echo "  - name: with setup"
		echo "    setup: [[\"sh\", \"-c\", \"echo made > /made\"]]"
		echo "    command: cat"
		echo "    args: [\"/made\"]"
		echo "    expectedOutput: [\"^made\\n\$\"]"
	} > many.yaml
	cat > opts.yaml <<'YAML'
schemaVersion: 2.0.0
containerRunOptions:
  user: "1000"
commandTests:
  - name: other run options a
    command: id
    args: ["-u"]
    expectedOutput: ["^1000\n$"]
  - name: other run options b
    command: id
    args: ["-u"]
    expectedOutput: ["^1000\n$"]
YAML
	run_cst test --image cst-test/busybox:1 -c many.yaml -c opts.yaml --jobs 2 -o json --shared-container
	echo "$output"; echo "$errout"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"Pass":9'* ]]
	# a shared container for each config's run options, the setup test's
	# two (its setup step, then the test itself) and the network sandbox
	# they join
	[ "$(created_by "$pid")" -eq 5 ]
	[ "$(left_by "$pid")" -eq 0 ]

	# without the flag: one per test, one more for the setup step, and a
	# network sandbox per job slot
	run_cst test --image cst-test/busybox:1 -c many.yaml -c opts.yaml --jobs 2 -o json
	[ "$status" -eq 0 ]
	[ "$(created_by "$pid")" -eq 12 ]
}

@test "a test sees what an earlier test changed only with --shared-container" {
	cat > order.yaml <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: writes a file
    command: sh
    args: ["-c", "echo left-here > /tmp/from-earlier-test"]
  - name: finds it
    command: cat
    args: ["/tmp/from-earlier-test"]
    expectedOutput: ["^left-here\n$"]
YAML
	run_cst test --image cst-test/busybox:1 --config order.yaml --jobs 1 -o json
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"No such file or directory"* ]]
	run_cst test --image cst-test/busybox:1 --config order.yaml --jobs 1 -o json --shared-container
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(left_by "$pid")" -eq 0 ]
}

@test "a timeout kills the shared container; the tests after it pass in a new one" {
	cat > hang.yaml <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: hangs
    command: sh
    args: ["-c", "echo started; sleep 120"]
    timeout: 5
  - name: after a
    command: echo
    args: ["a"]
    expectedOutput: ["^a\n$"]
  - name: after b
    command: echo
    args: ["b"]
    expectedOutput: ["^b\n$"]
YAML
	run_cst test --image cst-test/busybox:1 --config hang.yaml --jobs 1 -o json --shared-container
	echo "$output"; echo "$errout"
	[ "$status" -eq 1 ]
	[ "$(jq -c '[.Results[] | .Pass]' <<<"$output")" = '[false,true,true]' ]
	[[ "$output" == *"started"* ]]
	[[ "$output" == *"timed out after 5 s"* ]]
	[[ "$output" != *"incorrect error code"* ]]
	[ "$(created_by "$pid")" -eq 2 ]
	[ "$(left_by "$pid")" -eq 0 ]
}

@test "a test running beside one that times out is run again and passes" {
	# The other test's first run never ends by itself, so the kill at the
	# timeout always finds it running (its exec starts beside the hanging
	# one, well within the 10 s); its second run ends at once.  Each run
	# notes its start on the host.
	mkdir "$T/host"
	cat > beside.yaml <<YAML
schemaVersion: 2.0.0
containerRunOptions:
  bindMounts: ["$T/host:/host"]
commandTests:
  - name: hangs
    command: sh
    args: ["-c", "sleep 120"]
    timeout: 10
  - name: slow but fine
    command: sh
    args: ["-c", "echo start >> /host/runs; [ \$(grep -c start /host/runs) -ge 2 ] || sleep 120; echo done"]
    expectedOutput: ["^done\\n\$"]
    timeout: 100
YAML
	run_cst test --image cst-test/busybox:1 --config beside.yaml --jobs 2 -o json --shared-container
	echo "$output"; echo "$errout"; cat "$T/host/runs"
	[ "$status" -eq 1 ]
	[ "$(jq -c '[.Results[] | .Pass]' <<<"$output")" = '[false,true]' ]
	# cut short by the kill, then run again from the start
	[ "$(grep -c start "$T/host/runs")" -eq 2 ]
	[ "$(created_by "$pid")" -eq 2 ]
	[ "$(left_by "$pid")" -eq 0 ]
}

@test "SIGINT during a shared run leaves nothing behind" {
	{
		echo "schemaVersion: 2.0.0"
		echo "commandTests:"
		for i in 1 2 3 4; do
			echo "  - name: t$i"
			echo "    command: sleep"
			echo "    args: [\"120\"]"
		done
	} > long.yaml
	start_cst test --image cst-test/busybox:1 --config long.yaml --jobs 2 --shared-container
	# the shared container runs, with both execs in it
	running() {
		id=$(docker ps -q --filter "label=dev.cst.pid=$pid")
		[ -n "$id" ] && [ "$(docker top "$id" | grep -c 'sleep 120')" -ge 2 ]
	}
	wait_for 60 running
	kill -INT "$pid"
	wait_cst 30
	cat "$T/stderr"
	[ "$status" -eq 130 ]
	[ "$(left_by "$pid")" -eq 0 ]
}

@test "--save keeps the shared container and names it" {
	cat > save.yaml <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: one
    command: "true"
  - name: two
    command: "true"
YAML
	run_cst test --image cst-test/busybox:1 --config save.yaml --save --shared-container
	echo "$errout"
	[ "$status" -eq 0 ]
	kept=$(docker ps -aq --filter "label=dev.cst.pid=$pid")
	running=$(docker ps -q --filter "label=dev.cst.pid=$pid")
	docker rm -f $kept >/dev/null
	[ "$(wc -w <<<"$kept")" -eq 1 ]
	[[ "$errout" == *"kept container $kept"* ]]
	# stopped, as the containers of tests are
	[ -z "$running" ]
}

@test "an image that cannot keep a shared container running: containers of their own, said once" {
	cat > two.yaml <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: one
    command: echo
    args: ["one"]
    expectedOutput: ["^one\n$"]
  - name: two
    command: echo
    args: ["two"]
    expectedOutput: ["^two\n$"]
  - name: three
    command: echo
    args: ["three"]
    expectedOutput: ["^three\n$"]
YAML
	# no cat at all: the shared container cannot start
	build_variant cst-test/shared-nocat:1 'RUN rm /bin/cat'
	run_cst test --image cst-test/shared-nocat:1 --config two.yaml --jobs 2 -o json --shared-container
	echo "$output"; echo "$errout"
	[ "$status" -eq 0 ]
	[ "$(grep -c 'shared-container: cannot start a shared container' <<<"$errout")" -eq 1 ]
	[ "$(left_by "$pid")" -eq 0 ]

	# a cat that exits at once: the container stops before it ran a command
	build_variant cst-test/shared-cat-exits:1 'RUN rm /bin/cat && printf "#!/bin/sh\nexit 0\n" > /bin/cat && chmod 755 /bin/cat'
	run_cst test --image cst-test/shared-cat-exits:1 --config two.yaml --jobs 2 -o json --shared-container
	echo "$output"; echo "$errout"
	[ "$status" -eq 0 ]
	[ "$(grep -c 'stopped before it ran a command' <<<"$errout")" -eq 1 ]
	[ "$(left_by "$pid")" -eq 0 ]
}
