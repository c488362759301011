#!/usr/bin/env bats
# SIGINT, SIGTERM and SIGKILL against cst test with the docker driver:
# whatever the moment, an interrupted run exits 128+signal, removes every
# container and image it made, and leaves its report file absent or whole;
# what a SIGKILLed run leaves, the next run on this host removes.

setup_file() {
	. "$CST_TESTS/lib/run.sh"
	cst_engine_setup busybox || return $?
}

setup() {
	: "${CST_BIN:?CST_BIN is set by meson test}"
	T="$BATS_TEST_TMPDIR"
	cd "$T"
	. "$CST_TESTS/lib/run.sh"
	# One command test: a run that starts and ends.
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
	# Objects made by hand for a test carry this label.
	docker ps -aq --filter "label=dev.cst.test.faults=$BATS_ROOT_PID" | xargs -r docker rm -f >/dev/null 2>&1 || true
	docker images -q --filter "label=dev.cst.test.faults=$BATS_ROOT_PID" | xargs -r docker rmi -f >/dev/null 2>&1 || true
}

# Every phase of a run: reading the image's files (export), setup steps
# committed to images, command tests in parallel.
write_busy_config() {
	cat > busy.yaml <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: with setup
    setup:
      - ["sh", "-c", "echo one > /one"]
      - ["sh", "-c", "echo two > /two"]
    command: cat
    args: ["/one", "/two"]
  - name: s1
    command: sleep
    args: ["2"]
  - name: s2
    command: sleep
    args: ["2"]
  - name: s3
    command: sleep
    args: ["2"]
  - name: s4
    command: sh
    args: ["-c", "echo out; sleep 2"]
fileContentTests:
  - name: hello
    path: /etc/cst/hello.txt
    expectedContents: ["hello"]
fileExistenceTests:
  - name: root
    path: /
YAML
}

@test "SIGINT and SIGTERM at random moments of 20 runs: 130/143, nothing left, report absent or whole" {
	write_busy_config
	bad=0
	for i in $(seq 1 20); do
		if [ $((i % 2)) -eq 0 ]; then sig=INT; want=130; else sig=TERM; want=143; fi
		rm -f "$T/report.json"
		delay=$(printf '%d.%03d' $((RANDOM % 3)) $((RANDOM % 1000)))
		start_cst test --image cst-test/busybox:1 --config busy.yaml --jobs 2 --test-report "$T/report.json"
		sleep "$delay"
		kill -"$sig" "$pid"
		wait_cst 30
		left=$(left_by "$pid")
		report=absent
		if [ -e "$T/report.json" ]; then
			report=whole
			jq -e '.Total == 7' "$T/report.json" >/dev/null || report=broken
		fi
		echo "run $i: SIG$sig after ${delay}s: exit $status, $left left, report $report"
		if [ "$status" -ne "$want" ] || [ "$left" -ne 0 ] || [ "$report" = broken ]; then
			bad=$((bad + 1))
			cat "$T/stderr"
			docker ps -aq --filter "label=dev.cst.pid=$pid" | xargs -r docker rm -f >/dev/null
			docker images -aq --filter "label=dev.cst.pid=$pid" | xargs -r docker rmi -f >/dev/null
		fi
		# No temporary file of the atomic report write is left either.
		[ -z "$(find "$T" -maxdepth 1 -name '.report.json.*')" ] || { echo "report temp file left"; bad=$((bad + 1)); }
	done
	pid=
	[ "$bad" -eq 0 ]
}

@test "SIGINT while the engine pulls: the run stops at once" {
	python3 "$CST_TESTS/faults/stall-listener.py" > "$T/port" &
	echo $! > "$T/listener.pid"
	wait_for 120 test -s "$T/port"
	port=$(cat "$T/port")
	cat > root.yaml <<'YAML'
schemaVersion: 2.0.0
fileExistenceTests:
  - name: root
    path: /
YAML
	# The engine's pull hangs on a registry that never answers.
	start_cst test --image "127.0.0.1:$port/cst-test/stalled:1" --pull --config root.yaml
	wait_for 120 grep -q Pulling "$T/stderr"
	t0=$(date +%s%N)
	kill -INT "$pid"
	wait_cst 60
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "exit $status after ${ms} ms"; cat "$T/stderr"
	[ "$status" -eq 130 ]
	[ "$ms" -lt 30000 ]
	[ "$(left_by "$pid")" -eq 0 ]
}

@test "SIGINT while the image's files are read: prompt exit, nothing left" {
	# A file system large enough that its export takes a moment.
	printf 'FROM cst-test/busybox:1\nLABEL dev.cst.test.faults=%s\nRUN head -c 200000000 /dev/urandom > /big\n' \
		"$BATS_ROOT_PID" | docker build -q -t "cst-test/faults-big:$BATS_ROOT_PID" - >/dev/null 2>&1
	cat > files.yaml <<'YAML'
schemaVersion: 2.0.0
fileContentTests:
  - name: hello
    path: /etc/cst/hello.txt
    expectedContents: ["hello"]
YAML
	# The export, not per-path reads: one content test would cost one
	# request, over before the signal could come.
	start_cst test --image "cst-test/faults-big:$BATS_ROOT_PID" --config files.yaml --read-plan=export
	# The export reads a created, never started container.
	wait_for 120 sh -c "[ -n \"\$(docker ps -aq --filter label=dev.cst.pid=$pid --filter status=created)\" ]"
	t0=$(date +%s%N)
	kill -INT "$pid"
	wait_cst 60
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "exit $status after ${ms} ms"; cat "$T/stderr"
	[ "$status" -eq 130 ]
	[ "$ms" -lt 30000 ]
	[ "$(left_by "$pid")" -eq 0 ]
}

@test "SIGTERM between setup commits: committed images are removed too" {
	{
		echo "schemaVersion: 2.0.0"
		echo "commandTests:"
		echo "  - name: many steps"
		echo "    setup:"
		for i in 1 2 3 4 5 6 7 8; do
			echo "      - [\"sh\", \"-c\", \"head -c 5000000 /dev/urandom > /f$i\"]"
		done
		echo "    command: ls"
	} > setup.yaml
	start_cst test --image cst-test/busybox:1 --config setup.yaml --jobs 1
	wait_for 60 sh -c "[ -n \"\$(docker images -aq --filter label=dev.cst.pid=$pid)\" ]"
	kill -TERM "$pid"
	wait_cst 30
	cat "$T/stderr"
	[ "$status" -eq 143 ]
	[ "$(left_by "$pid")" -eq 0 ]
}

@test "SIGTERM during parallel command tests: every container is removed at once" {
	{
		echo "schemaVersion: 2.0.0"
		echo "commandTests:"
		for i in 1 2 3 4 5 6; do
			echo "  - name: t$i"
			echo "    command: sleep"
			echo "    args: [\"60\"]"
		done
	} > par.yaml
	start_cst test --image cst-test/busybox:1 --config par.yaml --jobs 4
	wait_for 60 sh -c "[ \"\$(docker ps -q --filter label=dev.cst.pid=$pid | wc -l)\" -ge 4 ]"
	t0=$(date +%s%N)
	kill -TERM "$pid"
	wait_cst 30
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "exit $status after ${ms} ms"; cat "$T/stderr"
	[ "$status" -eq 143 ]
	# the containers were stopped, not waited for (they sleep 60 s)
	[ "$ms" -lt 30000 ]
	[ "$(left_by "$pid")" -eq 0 ]
}

@test "after a SIGKILL the next run removes the leftovers and says so" {
	cat > slow.yaml <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: with setup
    setup: [["sh", "-c", "echo x > /x"]]
    command: sleep
    args: ["60"]
  - name: plain
    command: sleep
    args: ["60"]
YAML
	start_cst test --image cst-test/busybox:1 --config slow.yaml --jobs 2
	# Both tests' containers running, and the setup's commit made: the
	# plain test's container may well start before the setup is done.
	wait_for 60 sh -c "[ \"\$(docker ps -q --filter label=dev.cst.pid=$pid | wc -l)\" -ge 2 ] &&
		[ \"\$(docker images -q --filter label=dev.cst.pid=$pid | wc -l)\" -ge 1 ]"
	kill -KILL "$pid"
	wait_cst 10
	[ "$status" -eq 137 ]
	killed=$pid
	# Nothing could clean up: both containers and the setup image remain.
	[ "$(left_by "$killed")" -ge 3 ]

	# Any cst run on this engine removes them: another one may have been
	# first, and then this one has nothing to say.
	left=$(left_by "$killed")
	start_cst test --image cst-test/busybox:1 --config one.yaml
	wait_cst 120
	cat "$T/stderr"
	[ "$status" -eq 0 ]
	[ "$left" -eq 0 ] || grep -Eq '^cst: removed [0-9]+ leftovers of earlier cst runs' "$T/stderr"
	[ "$(left_by "$killed")" -eq 0 ]
	[ "$(left_by "$pid")" -eq 0 ]
}

@test "leftovers of live runs, of other hosts and of --save are not touched" {
	me=$(host_identity)
	dead=$(dead_pid)
	mark="dev.cst.test.faults=$BATS_ROOT_PID"
	make() { # name labels...
		n=$1
		shift
		args=()
		for l in "$@"; do args+=(--label "$l"); done
		docker create --label "$mark" "${args[@]}" --name "cst-faults-$n-$BATS_ROOT_PID" cst-test/busybox:1 true >/dev/null
	}
	make dead dev.cst.run=f1 "dev.cst.pid=$dead" "dev.cst.host=$me"
	make live dev.cst.run=f2 "dev.cst.pid=$BATS_ROOT_PID" "dev.cst.host=$me"
	make elsewhere dev.cst.run=f3 "dev.cst.pid=$dead" "dev.cst.host=00000000-0000-0000-0000-000000000000/1"
	make saved dev.cst.run=f4 "dev.cst.pid=$dead"
	printf 'FROM cst-test/busybox:1\nLABEL %s dev.cst.run=f5 dev.cst.pid=%s dev.cst.host=%s\n' "$mark" "$dead" "$me" |
		docker build -q - > "$T/image"
	img=$(cat "$T/image")
	[ -n "$img" ]

	start_cst test --image cst-test/busybox:1 --config one.yaml
	wait_cst 120
	cat "$T/stderr"
	[ "$status" -eq 0 ]
	# (Where other cst runs share the engine, one of them may have removed
	# these first: the message is checked by the SIGKILL test.)
	! docker inspect "cst-faults-dead-$BATS_ROOT_PID" >/dev/null 2>&1
	! docker image inspect "$img" >/dev/null 2>&1
	docker inspect "cst-faults-live-$BATS_ROOT_PID" >/dev/null
	docker inspect "cst-faults-elsewhere-$BATS_ROOT_PID" >/dev/null
	docker inspect "cst-faults-saved-$BATS_ROOT_PID" >/dev/null
}

@test "a leftover whose command holds a NUL byte is removed like any other" {
	# Go strings carry NUL into the engine's replies; the docker CLI cannot
	# write one into a command, the API can.
	body=$(jq -nc --arg me "$(host_identity)" --arg pid "$(dead_pid)" --arg mark "$BATS_ROOT_PID" \
		'{Image: "cst-test/busybox:1", Cmd: ["echo", "a\u0000b"],
		  Labels: {"dev.cst.run": "f6", "dev.cst.pid": $pid, "dev.cst.host": $me, "dev.cst.test.faults": $mark}}')
	. "$CST_TESTS/lib/engine.sh"
	id=$(curl -fsS --unix-socket "$(cst_engine_socket)" -H 'Content-Type: application/json' -d "$body" \
		http://localhost/containers/create | jq -r .Id)
	[ -n "$id" ]
	start_cst test --image cst-test/busybox:1 --config one.yaml
	wait_cst 120
	cat "$T/stderr"
	[ "$status" -eq 0 ]
	! grep -q "could not remove leftovers" "$T/stderr"
	! docker inspect "$id" >/dev/null 2>&1
}

@test "--save leaves no host label, so no later run removes what it kept" {
	start_cst test --image cst-test/busybox:1 --config one.yaml --save
	wait_cst 120
	[ "$status" -eq 0 ]
	saved=$pid
	kept=$(docker ps -aq --filter "label=dev.cst.pid=$saved")
	[ -n "$kept" ]
	start_cst test --image cst-test/busybox:1 --config one.yaml
	wait_cst 120
	[ "$status" -eq 0 ]
	[ "$(docker ps -aq --filter "label=dev.cst.pid=$saved")" = "$kept" ]
	docker rm -f $kept >/dev/null
}
