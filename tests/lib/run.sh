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

# Records, from now on, the containers the engine creates and removes, with
# the dev.cst.pid label of each, in $T/events.  Asked afterwards
# (`docker events --since`), a busy engine has forgotten them: it keeps
# only its last 256 events.  Call from setup(); stop_events in teardown().
watch_events() {
	docker events --since "$(date +%s.%N)" --filter type=container --filter type=volume \
		--filter event=create --filter event=destroy \
		--format '{{.Type}} {{.Action}} {{.Actor.ID}} {{index .Actor.Attributes "dev.cst.pid"}}' \
		>"$T/events" 2>"$T/events.err" 3>&- &
	events_pid=$!
}

stop_events() {
	[ -n "${events_pid:-}" ] && kill "$events_pid" 2>/dev/null || true
	events_pid=
}

# Containers the run with that pid created since watch_events.  A marker
# volume made now is the last event to wait for: the engine sends events
# in order, so every container event before it has arrived by then.
created_by() { # pid
	marker=cst-test-marker-$$-$RANDOM
	docker volume create "$marker" >/dev/null
	wait_for 120 grep -q "^volume create $marker" "$T/events" || {
		echo "created_by: the engine's events did not arrive:" >&2
		cat "$T/events.err" >&2
		return 1
	}
	docker volume rm "$marker" >/dev/null
	awk -v p="$1" '$1 == "container" && $2 == "create" && $4 == p' "$T/events" | wc -l
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

# Starts Debian's docker-registry on a free port of 127.0.0.1, its storage
# and log under DIR (pid in DIR/pid), and exports REGISTRY=127.0.0.1:PORT
# once it answers.  The port is free when chosen but may be taken before
# the registry binds it: then it is tried again on another.
start_registry() { # dir
	local dir=$1 try port
	mkdir -p "$dir/data"
	for try in 1 2 3 4 5; do
		port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
		cat >"$dir/config.yml" <<-YAML
		version: 0.1
		log:
		  level: warn
		storage:
		  filesystem:
		    rootdirectory: $dir/data
		  delete:
		    enabled: true
		http:
		  addr: 127.0.0.1:$port
		YAML
		docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 3>&- &
		echo $! >"$dir/pid"
		REGISTRY="127.0.0.1:$port"
		wait_for 120 sh -c "curl -fsS http://$REGISTRY/v2/ >/dev/null 2>&1 || ! kill -0 $(cat "$dir/pid") 2>/dev/null"
		if curl -fsS "http://$REGISTRY/v2/" >/dev/null 2>&1; then
			export REGISTRY
			return 0
		fi
		kill "$(cat "$dir/pid")" 2>/dev/null || true
	done
	echo "docker-registry did not answer:" >&2
	cat "$dir/log" >&2
	return 1
}
