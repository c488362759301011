#!/bin/sh
# Makes sure a Docker Engine answers before engine tests run.
#
# Source it and call cst_ensure_engine, or run it.  A running engine is left
# alone.  When /_ping does not answer and we are root, the engine is started
# in the background, its logs in temporary files named on failure, and given
# up to CST_ENGINE_WAIT seconds (120: a loaded machine starts it slowly) to
# answer.
#
# containerd is started on its own first and waited for.  dockerd can start
# it itself, but then gives it a fixed 15 s and exits when that passes, which
# a freshly booted, loaded CI machine does not always meet.  A dockerd that
# exits before it answers is started again while time remains.
#
# Returns 0 when an engine answers.  Otherwise 77 (the skip status of
# meson and automake) — except with CI=true, where a missing engine is a
# failure (1): CI must never skip the engine tests silently.

cst_engine_socket() {
	case ${DOCKER_HOST:-unix:///var/run/docker.sock} in
	unix://*) h=${DOCKER_HOST:-unix:///var/run/docker.sock}; echo "${h#unix://}" ;;
	*) echo "" ;;
	esac
}

cst_engine_ping() {
	sock=$(cst_engine_socket)
	if [ -n "$sock" ]; then
		[ -S "$sock" ] && curl -fsS --max-time 5 --unix-socket "$sock" http://localhost/_ping >/dev/null 2>&1
	else
		docker version >/dev/null 2>&1
	fi
}

# A pid file whose process is gone (a killed run, a machine restored from a
# snapshot) makes the next daemon wait for a process that never answers.
cst_engine_clear_stale() {
	for pidfile in /var/run/docker.pid /var/run/docker/containerd/containerd.pid \
		/run/containerd/containerd.pid; do
		[ -f "$pidfile" ] || continue
		p=$(cat "$pidfile" 2>/dev/null)
		if [ -z "$p" ] || ! kill -0 "$p" 2>/dev/null; then
			rm -f "$pidfile"
		fi
	done
}

CST_CONTAINERD_SOCK=/run/containerd/containerd.sock

# Answers when containerd serves its socket: `ctr version` asks it over gRPC.
cst_containerd_ping() {
	[ -S "$CST_CONTAINERD_SOCK" ] &&
		ctr --address "$CST_CONTAINERD_SOCK" --timeout 5s version >/dev/null 2>&1
}

# Seconds left of the wait, from the deadline set in cst_ensure_engine.
cst_engine_left() {
	echo $((cst_deadline - $(date +%s)))
}

cst_start_containerd() {
	cst_containerd_ping && return 0
	command -v containerd >/dev/null 2>&1 && command -v ctr >/dev/null 2>&1 || return 1
	cst_containerd_log=$(mktemp "${TMPDIR:-/tmp}/cst-containerd.XXXXXX")
	cst_conf=$(mktemp "${TMPDIR:-/tmp}/cst-containerd-conf.XXXXXX")
	# Only what dockerd uses: the Kubernetes CRI plugin costs start-up time.
	printf 'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n' > "$cst_conf"
	echo "engine.sh: starting containerd (log: $cst_containerd_log)" >&2
	setsid containerd --config "$cst_conf" >"$cst_containerd_log" 2>&1 < /dev/null &
	while [ "$(cst_engine_left)" -gt 0 ]; do
		cst_containerd_ping && return 0
		sleep 1
	done
	echo "engine.sh: containerd did not answer; its log:" >&2
	tail -n 20 "$cst_containerd_log" >&2
	return 1
}

cst_ensure_engine() {
	cst_engine_ping && return 0
	sock=$(cst_engine_socket)
	if [ -n "$sock" ] && [ "$(id -u)" = 0 ] && command -v dockerd >/dev/null 2>&1; then
		cst_deadline=$(($(date +%s) + ${CST_ENGINE_WAIT:-120}))
		cst_engine_clear_stale
		# Without a containerd of our own, dockerd starts its own.
		cst_containerd_opt=
		cst_start_containerd && cst_containerd_opt="--containerd=$CST_CONTAINERD_SOCK"
		cst_tries=0
		while [ "$(cst_engine_left)" -gt 0 ]; do
			cst_dockerd_log=$(mktemp "${TMPDIR:-/tmp}/cst-dockerd.XXXXXX")
			echo "engine.sh: starting dockerd (log: $cst_dockerd_log)" >&2
			# shellcheck disable=SC2086 # one option or none
			setsid dockerd --host "unix://$sock" $cst_containerd_opt >"$cst_dockerd_log" 2>&1 < /dev/null &
			cst_dpid=$!
			cst_tries=$((cst_tries + 1))
			while [ "$(cst_engine_left)" -gt 0 ] && kill -0 "$cst_dpid" 2>/dev/null; do
				cst_engine_ping && return 0
				sleep 1
			done
			cst_engine_ping && return 0
			kill -0 "$cst_dpid" 2>/dev/null && break
			echo "engine.sh: dockerd exited before it answered (try $cst_tries); its log:" >&2
			tail -n 20 "$cst_dockerd_log" >&2
			cst_engine_clear_stale
		done
		echo "engine.sh: dockerd did not answer within ${CST_ENGINE_WAIT:-120} s; its log:" >&2
		tail -n 20 "$cst_dockerd_log" >&2
	fi
	if [ "${CI:-}" = true ]; then
		echo "engine.sh: no Docker Engine at ${DOCKER_HOST:-unix:///var/run/docker.sock} (CI=true: failing)" >&2
		return 1
	fi
	echo "engine.sh: no Docker Engine at ${DOCKER_HOST:-unix:///var/run/docker.sock}; skipping" >&2
	return 77
}

# Run directly: ensure and exit with the status.
case $0 in
*engine.sh) cst_ensure_engine; exit $? ;;
esac
