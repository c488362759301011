# Helpers shared by tests/e2e/faults.bats and tests/e2e/signals.bats.
# Source it from setup(); it expects CST_BIN and a scratch directory in T.

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
