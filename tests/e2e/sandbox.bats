#!/usr/bin/env bats
# Network sandboxes: the command tests of a job slot join the network
# namespace of one small container (cst's pause image) instead of getting
# a network each.  Checked here: the tests join it and keep their
# verdicts, tests that can change the network keep their own, and the
# sandboxes go with the run whichever way it ends.

setup_file() {
	. "$CST_TESTS/lib/run.sh"
	cst_engine_setup busybox || return $?
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
	# The pause image's tag, moved by a test, goes back to the real one.
	[ -n "${pause_ref:-}" ] && docker tag "$pause_id" "$pause_ref" || true
}

# The running sandboxes of the run with that pid.
sandboxes_of() { # pid
	docker ps -q --filter "label=dev.cst.pid=$1" --filter label=dev.cst.sandbox | wc -l
}

# n tests that print their host name; the last one fails.
write_hostnames() { # n
	{
		echo "schemaVersion: 2.0.0"
		echo "commandTests:"
		for i in $(seq 1 "$1"); do
			echo "  - name: h$i"
			echo "    command: hostname"
		done
		echo "  - name: fails"
		echo "    command: sh"
		echo "    args: [\"-c\", \"exit 1\"]"
	} > hosts.yaml
}

@test "a scratch image's command tests join a sandbox per job slot; nothing is left, failing test or not" {
	write_hostnames 6
	run_cst test --image cst-test/busybox:1 --config hosts.yaml --jobs 2 -o json -v info
	echo "$output"; echo "$errout"
	[ "$status" -eq 1 ]
	[[ "$errout" == *"cst: command tests join a network sandbox per job slot (cst-pause:"* ]]
	[ "$(jq -c '[.Results[] | .Pass]' <<<"$output")" = '[true,true,true,true,true,true,false]' ]
	# The host name is the sandbox's: the 6 tests ran in two namespaces.
	[ "$(jq -r '.Results[] | .Stdout // empty' <<<"$output" | grep . | sort -u | wc -l)" -eq 2 ]
	# 7 tests and 2 sandboxes
	[ "$(created_by "$pid")" -eq 9 ]
	[ "$(left_by "$pid")" -eq 0 ]

	# The old way: a network, and a host name, per test.
	run_cst test --image cst-test/busybox:1 --config hosts.yaml --jobs 2 -o json -v info --network-per-test
	echo "$errout"
	[ "$status" -eq 1 ]
	[[ "$errout" != *"network sandbox"* ]]
	[ "$(jq -r '.Results[] | .Stdout // empty' <<<"$output" | grep . | sort -u | wc -l)" -eq 6 ]
	[ "$(created_by "$pid")" -eq 7 ]
	[ "$(left_by "$pid")" -eq 0 ]
}

# Docker 20.10's libnetwork can deadlock when two containers leave a
# network at the same moment; the sandboxes leave theirs one at a time.
@test "the sandboxes leave the network one at a time: each is gone before the next one stops" {
	write_hostnames 8
	marker=cst-test-leave-$$-$RANDOM
	docker events --since "$(date +%s.%N)" --filter type=container --filter type=volume \
		--filter event=die --filter event=destroy --filter event=create \
		--format '{{.Type}} {{.Action}} {{.Actor.ID}} {{index .Actor.Attributes "dev.cst.sandbox"}}' \
		>"$T/leaves" 2>&1 3>&- &
	leaves_pid=$!
	run_cst test --image cst-test/busybox:1 --config hosts.yaml --jobs 4
	docker volume create "$marker" >/dev/null
	wait_for 120 grep -q "^volume create $marker" "$T/leaves"
	kill "$leaves_pid"
	docker volume rm "$marker" >/dev/null
	cat "$T/leaves"
	[ "$status" -eq 1 ]
	# 4 sandboxes, each stopping (die) only after the one before it is
	# gone (destroy).
	grep -E '^container (die|destroy) [0-9a-f]+ 1$' "$T/leaves" > sandbox-events
	[ "$(grep -c '^container die' sandbox-events)" -eq 4 ]
	awk <sandbox-events '
		$2 == "die" { if (open) bad = 1; open = $3 }
		$2 == "destroy" { if ($3 != open) bad = 1; open = "" }
		END { exit bad }'
	[ "$(left_by "$pid")" -eq 0 ]
}

# (A privileged test goes the same way, by the same rule, which the unit
# tests check: this engine cannot run privileged containers.)
@test "tests with capabilities get networks of their own: what they change stays theirs" {
	cat > caps.yaml <<'YAML'
schemaVersion: 2.0.0
containerRunOptions:
  capabilities: [NET_ADMIN]
commandTests:
  - name: caps changes lo
    command: sh
    args: ["-c", "ip link set lo mtu 1400 && cat /sys/class/net/lo/mtu && hostname >&2"]
    expectedOutput: ["^1400\n$"]
YAML
	cat > plain.yaml <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: plain a
    command: sh
    args: ["-c", "cat /sys/class/net/lo/mtu && hostname >&2"]
    expectedOutput: ["^65536\n$"]
  - name: plain b
    command: sh
    args: ["-c", "cat /sys/class/net/lo/mtu && hostname >&2"]
    expectedOutput: ["^65536\n$"]
YAML
	# One slot: the tests run one after the other, in config order.
	run_cst test --image cst-test/busybox:1 -c caps.yaml -c plain.yaml -c caps.yaml --jobs 1 -o json
	echo "$output"; echo "$errout"
	[ "$status" -eq 0 ]
	hosts=$(jq -r '[.Results[] | .Stderr | rtrimstr("\n")] | join(" ")' <<<"$output")
	read -r caps a b caps2 <<<"$hosts"
	echo "caps $caps, plain $a $b, caps again $caps2"
	[ -n "$caps2" ]
	[ "$a" = "$b" ]
	[ "$caps" != "$a" ] && [ "$caps2" != "$a" ] && [ "$caps" != "$caps2" ]
	# 4 tests and one sandbox, which the plain tests joined
	[ "$(created_by "$pid")" -eq 5 ]
	[ "$(left_by "$pid")" -eq 0 ]
}

@test "--network none or host: no sandboxes, every test as before" {
	write_hostnames 2
	for net in none host; do
		run_cst test --image cst-test/busybox:1 --config hosts.yaml --jobs 2 -v info --network "$net"
		echo "$errout"
		[ "$status" -eq 1 ]
		[[ "$errout" != *"network sandbox"* ]]
		[ "$(created_by "$pid")" -eq 3 ]
		[ "$(left_by "$pid")" -eq 0 ]
	done
}

@test "the demo's verdicts are the same with and without sandboxes" {
	cfg="$CST_TESTDATA/demo/structure-tests.yaml"
	verdicts() { jq -c '[.Results[] | {Name, Pass, Errors}]' "$1"; }
	run_cst test --image cst-test/busybox:1 --config "$cfg" --jobs 2 -o json --test-report sandbox.json
	[ "$status" -eq 0 ]
	run_cst test --image cst-test/busybox:1 --config "$cfg" --jobs 2 -o json --test-report own.json --network-per-test
	[ "$status" -eq 0 ]
	verdicts sandbox.json; verdicts own.json
	[ "$(verdicts sandbox.json)" = "$(verdicts own.json)" ]
	[ "$(jq .Pass sandbox.json)" -eq 9 ]
}

@test "a sandbox removed mid-run: its slot goes on with networks of their own, every test passes" {
	mkdir "$T/host"
	cat > gone.yaml <<YAML
schemaVersion: 2.0.0
containerRunOptions:
  bindMounts: ["$T/host:/host"]
commandTests:
  - name: waits for the sandbox to go
    command: sh
    args: ["-c", "touch /host/started; while [ ! -e /host/go ]; do sleep 0.1; done; echo a"]
    expectedOutput: ["^a\\n\$"]
  - name: after it
    command: echo
    args: ["b"]
    expectedOutput: ["^b\\n\$"]
YAML
	start_cst test --image cst-test/busybox:1 --config gone.yaml --jobs 1 -o json -v info
	wait_for 120 test -e "$T/host/started"
	[ "$(sandboxes_of "$pid")" -eq 1 ]
	docker rm -f "$(docker ps -q --filter "label=dev.cst.pid=$pid" --filter label=dev.cst.sandbox)" >/dev/null
	touch "$T/host/go"
	wait_cst 120
	cat "$T/stdout"; cat "$T/stderr"
	[ "$status" -eq 0 ]
	grep -q "network sandbox .* stopped; this job slot's command tests run on networks of their own" "$T/stderr"
	[ "$(left_by "$pid")" -eq 0 ]
	pid=
}

@test "a sandbox that cannot start: tests run on networks of their own, as -v info says" {
	write_hostnames 2
	run_cst test --image cst-test/busybox:1 --config hosts.yaml --jobs 2 -v info
	[ "$status" -eq 1 ]
	ref=$(grep -o 'cst-pause:[^)]*' <<<"$errout")
	pause_id=$(docker image inspect -f '{{.Id}}' "$ref")
	pause_ref=$ref
	# That name on an image without the pause program.
	docker tag cst-test/busybox:1 "$ref"
	run_cst test --image cst-test/busybox:1 --config hosts.yaml --jobs 2 -v info -o json
	docker tag "$pause_id" "$ref"
	pause_ref=
	echo "$output"; echo "$errout"
	[ "$status" -eq 1 ]
	[ "$(jq -c '[.Results[] | .Pass]' <<<"$output")" = '[true,true,false]' ]
	[ "$(grep -c "starting a network sandbox: .*; this job slot's command tests run on networks of their own" <<<"$errout")" -eq 2 ]
	# the two sandboxes that did not start, and the tests
	[ "$(created_by "$pid")" -eq 5 ]
	[ "$(left_by "$pid")" -eq 0 ]
}

# Tests that sleep until the run is stopped.
write_sleepers() {
	{
		echo "schemaVersion: 2.0.0"
		echo "commandTests:"
		for i in 1 2 3 4; do
			echo "  - name: s$i"
			echo "    command: sleep"
			echo "    args: [\"60\"]"
		done
	} > sleep.yaml
}

@test "SIGINT and SIGTERM mid-run remove the sandboxes with the tests" {
	write_sleepers
	for sig in INT TERM; do
		start_cst test --image cst-test/busybox:1 --config sleep.yaml --jobs 2
		# both sandboxes and both slots' tests running
		wait_for 120 sh -c "[ \"\$(docker ps -q --filter label=dev.cst.pid=$pid | wc -l)\" -ge 4 ]"
		[ "$(sandboxes_of "$pid")" -eq 2 ]
		kill -"$sig" "$pid"
		wait_cst 60
		cat "$T/stderr"
		if [ "$sig" = INT ]; then [ "$status" -eq 130 ]; else [ "$status" -eq 143 ]; fi
		[ "$(left_by "$pid")" -eq 0 ]
	done
	pid=
}

@test "a SIGKILLed run's sandboxes are removed by the next run" {
	write_sleepers
	start_cst test --image cst-test/busybox:1 --config sleep.yaml --jobs 2
	wait_for 120 sh -c "[ \"\$(docker ps -q --filter label=dev.cst.pid=$pid | wc -l)\" -ge 4 ]"
	kill -KILL "$pid"
	wait_cst 10
	[ "$status" -eq 137 ]
	killed=$pid
	[ "$(sandboxes_of "$killed")" -eq 2 ]
	write_hostnames 1
	run_cst test --image cst-test/busybox:1 --config hosts.yaml
	echo "$errout"
	[ "$status" -eq 1 ]
	[ "$(left_by "$killed")" -eq 0 ]
	[ "$(left_by "$pid")" -eq 0 ]
}
