# Helpers of the end-to-end tests that run cst against the engine.
# Source it from setup_file() and setup(); the run helpers expect CST_BIN
# and a scratch directory in T.

# For setup_file(): makes sure an engine answers (skipping the file when
# there is none, outside CI) and builds the test images named.
cst_engine_setup() { # image...
	. "$CST_TESTS/lib/engine.sh"
	# (fd 3 is bats' own: a dockerd started here must not hold it.)
	cst_ensure_engine 3>&- || {
		rc=$?
		[ "$rc" -eq 77 ] && skip "no Docker Engine"
		return "$rc"
	}
	"$CST_TESTDATA/images/build.sh" "$@"
}

# What a run left in the engine: containers and images labelled with the
# pid of that cst process.
left_by() { # pid
	{
		docker ps -aq --filter "label=dev.cst.pid=$1"
		docker images -aq --filter "label=dev.cst.pid=$1"
	} | wc -l
}

# Starts cst in the background: sets pid; output in $T/stdout, $T/stderr.
# A background job of a non-interactive shell starts with SIGINT ignored;
# cst installs its own handler, but a SIGINT sent before that would be lost,
# so the default action is restored first.
start_cst() {
	env --default-signal=INT "$CST_BIN" "$@" >"$T/stdout" 2>"$T/stderr" &
	pid=$!
}

# Waits at most $1 seconds for pid to exit; sets status (124 when it did
# not, after killing it so that the test cannot hang).
wait_cst() { # seconds
	deadline=$(($(date +%s) + $1))
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$(date +%s)" -ge "$deadline" ]; then
			kill -KILL "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
			status=124
			return 0
		fi
		sleep 0.1
	done
	wait "$pid" && status=0 || status=$?
}

# Runs cst to its end (at most 300 s) in the background, so that its pid
# (the dev.cst.pid label of everything it creates) is known; sets pid,
# status, output (stdout) and errout.
run_cst() {
	start_cst "$@"
	wait_cst 300
	output=$(cat "$T/stdout")
	errout=$(cat "$T/stderr")
}

# Containers the run with that pid created since a time (date +%s.%N), as
# the engine's events tell: they are gone by the time the run ends.
created_by() { # pid since
	docker events --since "$2" --until "$(date +%s.%N)" --filter type=container --filter event=create \
		--filter "label=dev.cst.pid=$1" --format '{{.ID}}' | wc -l
}

# Polls a shell condition every 0.1 s for at most $1 seconds.
wait_for() { # seconds command...
	n=$(($1 * 10))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# The dev.cst.host label cst gives objects made from this shell's host and
# pid namespace.
host_identity() {
	echo "$(cat /proc/sys/kernel/random/boot_id)/$(stat -L -c %i /proc/self/ns/pid)"
}

# A pid that no process has: a child that has exited and been reaped.
dead_pid() {
	sh -c 'exit 0' &
	p=$!
	wait "$p"
	echo "$p"
}
