#!/usr/bin/env bats
# Engine faults against cst test with the docker driver: an engine that
# cannot be reached or does not answer, one that stops mid-run, an image
# removed mid-run, a command that never ends or prints without end, and a
# run of 200 command tests.  Each must end with a clear message, the right
# exit code and nothing of the run left in the engine.

setup_file() {
	. "$CST_TESTS/lib/run.sh"
	cst_engine_setup busybox || return $?
}

setup() {
	: "${CST_BIN:?CST_BIN is set by meson test}"
	T="$BATS_TEST_TMPDIR"
	cd "$T"
	. "$CST_TESTS/lib/engine.sh"
	. "$CST_TESTS/lib/run.sh"
	cat > one.yaml <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: one
    command: "true"
YAML
}

teardown() {
	[ -f "$T/listener.pid" ] && kill "$(cat "$T/listener.pid")" 2>/dev/null || true
	[ -n "${pid:-}" ] && kill -KILL "$pid" 2>/dev/null || true
	if [ -n "${engine_stopped:-}" ]; then
		# A second dockerd does not start while the first one's pid file
		# is there.
		wait_for 120 sh -c "! kill -0 $engine_stopped 2>/dev/null" || true
		cst_ensure_engine 3>&- || echo "the engine could not be restarted" >&2
	fi
	docker images -q --filter "label=dev.cst.test.faults=$BATS_ROOT_PID" | xargs -r docker rmi -f >/dev/null 2>&1 || true
}

@test "no engine at DOCKER_HOST's socket: exit 2 naming the socket" {
	DOCKER_HOST="unix://$T/missing.sock" start_cst test --image cst-test/busybox:1 --config one.yaml
	wait_cst 30
	cat "$T/stderr"
	[ "$status" -eq 2 ]
	grep -q "cannot connect to the Docker engine at unix://$T/missing.sock: No such file or directory" "$T/stderr"
}

@test "nothing listening at a tcp:// DOCKER_HOST: exit 2 naming the address" {
	DOCKER_HOST=tcp://127.0.0.1:1 start_cst test --image cst-test/busybox:1 --config one.yaml
	wait_cst 30
	cat "$T/stderr"
	[ "$status" -eq 2 ]
	grep -q "cannot connect to the Docker engine at tcp://127.0.0.1:1: Connection refused" "$T/stderr"
}

@test "a socket this user may not use: exit 2 saying permission denied" {
	# A socket file with mode 000, as a user other than root (root may
	# use any file).
	dir=$(mktemp -d "${TMPDIR:-/tmp}/cst-faults.XXXXXX")
	chmod 755 "$dir"
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$dir/docker.sock"
	chmod 000 "$dir/docker.sock"
	cp one.yaml "$dir/"
	chmod 644 "$dir/one.yaml"
	as=()
	if [ "$(id -u)" = 0 ]; then
		cp "$CST_BIN" "$dir/cst"
		chmod 755 "$dir/cst"
		as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
		bin=$dir/cst
	else
		bin=$CST_BIN
	fi
	status=0
	"${as[@]}" env DOCKER_HOST="unix://$dir/docker.sock" HOME="$dir" "$bin" test --image cst-test/busybox:1 \
		--config "$dir/one.yaml" >"$T/stdout" 2>"$T/stderr" || status=$?
	rm -rf "$dir"
	cat "$T/stderr"
	[ "$status" -eq 2 ]
	grep -q "cannot connect to the Docker engine at unix://$dir/docker.sock: Permission denied (is this user allowed to use it" "$T/stderr"
}

@test "an engine that accepts but never answers: exit 2 in bounded time" {
	python3 "$CST_TESTS/faults/stall-listener.py" > "$T/port" &
	echo $! > "$T/listener.pid"
	wait_for 120 test -s "$T/port"
	t0=$(date +%s)
	DOCKER_HOST="tcp://127.0.0.1:$(cat "$T/port")" start_cst test --image cst-test/busybox:1 --config one.yaml
	wait_cst 90
	cat "$T/stderr"
	[ "$status" -eq 2 ]
	[ $(($(date +%s) - t0)) -lt 60 ]
	grep -q "no answer from the engine at tcp://127.0.0.1:$(cat "$T/port") within" "$T/stderr"
}

@test "a command printing 1 GiB is cut and marked, memory stays bounded, the run goes on" {
	cat > big.yaml <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: a gibibyte of zeros
    command: sh
    args: ["-c", "head -c 1073741824 /dev/zero"]
  - name: lines without end
    command: "yes"
  - name: after them
    command: echo
    args: ["still here"]
    expectedOutput: ["^still here\n$"]
YAML
	t0=$(date +%s)
	if [ -x /usr/bin/time ]; then
		start_cst test --image cst-test/busybox:1 --config big.yaml --jobs 1 --output junit
		wait_cst 300
		# GNU time reports the peak resident set size in KiB.
		/usr/bin/time -f '%M' "$CST_BIN" test --image cst-test/busybox:1 --config big.yaml --jobs 1 \
			--output junit -q 2>"$T/time" >/dev/null || true
		peak=$(tail -n 1 "$T/time")
	else
		start_cst test --image cst-test/busybox:1 --config big.yaml --jobs 1 --output junit
		peak=0
		while kill -0 "$pid" 2>/dev/null; do
			p=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
			[ "${p:-0}" -gt "$peak" ] && peak=$p
			sleep 0.05
		done
		wait_cst 300
	fi
	secs=$(($(date +%s) - t0))
	echo "exit $status; peak RSS ${peak} KiB; ${secs} s"
	cat "$T/stderr"
	[ "$status" -eq 1 ]
	grep -q 'stdout was cut at 33554432 bytes' "$T/stdout"
	[ "$(grep -c 'stdout was cut at 33554432 bytes' "$T/stdout")" -eq 2 ]
	grep -q 'tests="3" failures="2"' "$T/stdout"
	[ "$peak" -gt 0 ]
	# AddressSanitizer's shadow memory and quarantine multiply RSS; the
	# bound is on cst's buffers, not on them.
	limit=$((200 * 1024))
	if grep -q __asan_init "$CST_BIN" 2>/dev/null; then
		limit=$((limit * 4))
	fi
	[ "$peak" -lt "$limit" ]
	[ "$(left_by "$pid")" -eq 0 ]
}

@test "a command that closes its output but runs on is killed at the timeout" {
	cat > detached.yaml <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: closes its streams
    command: sh
    args: ["-c", "echo bye; exec >&- 2>&-; sleep 120"]
YAML
	t0=$(date +%s)
	start_cst test --image cst-test/busybox:1 --config detached.yaml --timeout 5
	wait_cst 150
	cat "$T/stdout"
	[ "$status" -eq 1 ]
	# killed at the timeout, not at the end of the sleep
	[ $(($(date +%s) - t0)) -lt 100 ]
	grep -q "timed out after" "$T/stdout"
	grep -q "bye" "$T/stdout"
	[ "$(left_by "$pid")" -eq 0 ]
}

@test "the image removed mid-run: exit 2 saying so, nothing left" {
	# An image of its own (not another tag of a shared one), to be removed
	# by ID whatever its tags.
	printf 'FROM cst-test/busybox:1\nLABEL dev.cst.test.faults=%s\n' "$BATS_ROOT_PID" |
		docker build -q -t "cst-test/doomed:$BATS_ROOT_PID" - > "$T/image"
	img=$(cat "$T/image")
	{
		echo "schemaVersion: 2.0.0"
		echo "commandTests:"
		for i in $(seq 1 40); do
			echo "  - name: t$i"
			echo "    command: \"true\""
		done
	} > doomed.yaml
	start_cst test --image "cst-test/doomed:$BATS_ROOT_PID" --config doomed.yaml --jobs 1
	wait_for 120 sh -c "[ -n \"\$(docker ps -aq --filter label=dev.cst.pid=$pid)\" ]"
	# The engine refuses to remove an image while a container of it runs
	# (for a moment after `docker ps` stops listing it, too).  Held still,
	# cst starts nothing new, and the `true` it may have running ends by
	# itself: the removal then falls between two tests whatever the load,
	# with most of the tests still to come.
	kill -STOP "$pid"
	wait_for 120 sh -c "docker rmi -f $img >/dev/null 2>&1"
	kill -CONT "$pid"
	wait_cst 120
	cat "$T/stderr"
	[ "$status" -eq 2 ]
	grep -q "the image cst-test/doomed:$BATS_ROOT_PID was removed from the engine during the run" "$T/stderr"
	[ "$(left_by "$pid")" -eq 0 ]
}

@test "200 command tests in one run: all pass, in config order, nothing left" {
	{
		echo "schemaVersion: 2.0.0"
		echo "commandTests:"
		for i in $(seq 1 200); do
			printf '  - name: t%03d\n    command: echo\n    args: ["out-%d"]\n    expectedOutput: ["^out-%d\\n$"]\n' \
				"$i" "$i" "$i"
		done
	} > many.yaml
	t0=$(date +%s)
	start_cst test --image cst-test/busybox:1 --config many.yaml --jobs 4 --output json
	wait_cst 600
	secs=$(($(date +%s) - t0))
	echo "exit $status in ${secs} s"
	cat "$T/stderr"
	[ "$status" -eq 0 ]
	jq -e '.Pass == 200 and .Fail == 0' "$T/stdout"
	jq -r '.Results[].Name' "$T/stdout" > names
	for i in $(seq 1 200); do printf 'Command Test: t%03d\n' "$i"; done > want
	diff want names
	[ "$(left_by "$pid")" -eq 0 ]
}

# Stopping the engine disturbs everything else that uses it: this test runs
# only where it can start the engine again itself, as root with the default
# socket (meson runs the e2e tests one at a time).
@test "the engine stopped mid-run: exit 2 at once; after its restart the next run removes the leftovers" {
	sock=$(cst_engine_socket)
	if [ "$(id -u)" != 0 ] || [ "$sock" != /var/run/docker.sock ] || [ ! -s /var/run/docker.pid ] ||
		! command -v dockerd >/dev/null; then
		[ "${CI:-}" != true ] || { echo "cannot stop and restart the engine here"; return 1; }
		skip "needs root and a dockerd it can restart"
	fi
	cat > slow.yaml <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: with setup
    setup: [["sh", "-c", "echo x > /x"]]
    command: sleep
    args: ["300"]
  - name: a
    command: sleep
    args: ["300"]
  - name: b
    command: sleep
    args: ["300"]
YAML
	start_cst test --image cst-test/busybox:1 --config slow.yaml --jobs 2
	wait_for 120 sh -c "[ \"\$(docker ps -q --filter label=dev.cst.pid=$pid | wc -l)\" -ge 2 ]"
	dpid=$(cat /var/run/docker.pid)
	engine_stopped=$dpid
	t0=$(date +%s)
	kill -TERM "$dpid"
	wait_cst 200
	secs=$(($(date +%s) - t0))
	echo "exit $status ${secs} s after the engine was stopped"
	cat "$T/stderr"
	[ "$status" -eq 2 ]
	# at once: not when the sleeps would have ended
	[ "$secs" -lt 150 ]
	grep -q "the Docker engine stopped during the run" "$T/stderr"
	broken=$pid

	# Start it again once the old one is gone.
	wait_for 120 sh -c "! kill -0 $dpid 2>/dev/null"
	cst_ensure_engine 3>&-
	engine_stopped=
	left=$(left_by "$broken")
	echo "left after the restart: $left"

	start_cst test --image cst-test/busybox:1 --config one.yaml
	wait_cst 120
	cat "$T/stderr"
	[ "$status" -eq 0 ]
	[ "$left" -eq 0 ] || grep -Eq '^cst: removed [0-9]+ leftovers? of earlier cst runs' "$T/stderr"
	[ "$(left_by "$broken")" -eq 0 ]
	[ "$(left_by "$pid")" -eq 0 ]
}
