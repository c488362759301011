#!/bin/sh
# Makes sure a Docker Engine answers before engine tests run.
#
# Source it and call cst_ensure_engine, or run it.  A running engine is left
# alone.  When /_ping does not answer and we are root, dockerd is started
# in the background (its log in a temporary file, named on failure) and
# given up to CST_ENGINE_WAIT seconds (120: a loaded machine starts it slowly) to answer.
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

cst_ensure_engine() {
	cst_engine_ping && return 0
	sock=$(cst_engine_socket)
	if [ -n "$sock" ] && [ "$(id -u)" = 0 ] && command -v dockerd >/dev/null 2>&1; then
		log=$(mktemp "${TMPDIR:-/tmp}/cst-dockerd.XXXXXX")
		echo "engine.sh: starting dockerd (log: $log)" >&2
		setsid dockerd --host "unix://$sock" >"$log" 2>&1 < /dev/null &
		i=0
		while [ "$i" -lt "${CST_ENGINE_WAIT:-120}" ]; do
			cst_engine_ping && return 0
			sleep 1
			i=$((i + 1))
		done
		echo "engine.sh: dockerd did not answer within ${CST_ENGINE_WAIT:-120} s; its log:" >&2
		tail -n 20 "$log" >&2
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
