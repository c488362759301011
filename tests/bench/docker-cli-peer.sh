#!/bin/bash
# The benchmark's baseline: the checks of a suite done the way a Makefile
# would do them without a structure-test tool, with the plain docker CLI,
# one step after the other:
#
#   file existence  docker create + docker cp PATH - (header only)
#   file content    docker create + docker cp PATH - | tar -xO
#   metadata        docker image inspect
#   command         docker run --rm; with a setup command: docker run, docker
#                   commit, docker run --rm on the commit, docker rmi (as CST)
#
# Usage: docker-cli-peer.sh IMAGE PLAN
# PLAN is NAME.plan from gen_suites.py: one tab-separated step a line.
# Prints a one-line summary; exits 1 if a check failed, 2 on usage errors.
#
# The file tests' containers are removed with one `docker rm` at the end,
# which makes this baseline faster than one removal per test would.
set -u

docker=${DOCKER:-docker}
[ $# -eq 2 ] || { echo "usage: docker-cli-peer.sh IMAGE PLAN" >&2; exit 2; }
image=$1
plan=$2
[ -r "$plan" ] || { echo "docker-cli-peer.sh: cannot read $plan" >&2; exit 2; }

pass=0
fail=0
containers=()
cleanup() {
	if [ ${#containers[@]} -gt 0 ]; then "$docker" rm -f "${containers[@]}" >/dev/null; fi
	containers=()
}
trap cleanup EXIT
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $1: $2" >&2; }

# The first line of `tar -tv` for PATH: its mode, owner and name.  tar and
# docker stop at the first line (SIGPIPE), so a directory's subtree is not
# streamed to the end.
stat_line() { # container path
	"$docker" cp "$1:$2" - 2>/dev/null | tar --numeric-owner -tvf - 2>/dev/null | head -n 1
}

check_exist() { # name path lsmode uid/gid
	local cid line
	cid=$("$docker" create "$image") || { bad "$1" "docker create failed"; return; }
	containers+=("$cid")
	line=$(stat_line "$cid" "$2")
	if [ -z "$line" ]; then
		bad "$1" "$2 does not exist"
		return
	fi
	read -r mode owner _ <<<"$line"
	if [ "$3" != '*' ] && [ "$mode" != "$3" ]; then
		bad "$1" "$2 has mode $mode, want $3"
	elif [ "$4" != '*' ] && [ "$owner" != "$4" ]; then
		bad "$1" "$2 is owned by $owner, want $4"
	else
		ok
	fi
}

check_absent() { # name path
	local cid line
	cid=$("$docker" create "$image") || { bad "$1" "docker create failed"; return; }
	containers+=("$cid")
	line=$(stat_line "$cid" "$2")
	if [ -n "$line" ]; then bad "$1" "$2 exists"; else ok; fi
}

check_content() { # name path literal
	local cid found=0
	cid=$("$docker" create "$image") || { bad "$1" "docker create failed"; return; }
	# -L: a content test reads through a final symlink.
	containers+=("$cid")
	"$docker" cp -L "$cid:$2" - 2>/dev/null | tar -xOf - 2>/dev/null | grep -Fq -- "$3" && found=1
	if [ "$found" = 1 ]; then ok; else bad "$1" "$2 does not contain '$3'"; fi
}

check_meta() { # name env-entry cmd-json label-key label-regex
	local got
	got=$("$docker" image inspect -f '{{range .Config.Env}}{{println .}}{{end}}{{json .Config.Cmd}}
{{index .Config.Labels "'"$4"'"}}' "$image") || { bad "$1" "docker image inspect failed"; return; }
	if ! grep -Fxq -- "$2" <<<"$got"; then
		bad "$1" "env $2 missing"
	elif ! grep -Fxq -- "$3" <<<"$got"; then
		bad "$1" "cmd is not $3"
	elif ! tail -n 1 <<<"$got" | grep -Eq -- "$5"; then
		bad "$1" "label $4 does not match $5"
	else
		ok
	fi
}

check_command() { # name expected setup argv...
	local name=$1 expected=$2 setup=$3 out run_image=$image tmp=
	shift 3
	if [ "$setup" != - ]; then
		local cid
		cid=$("$docker" create --entrypoint '' "$image" sh -c "$setup") &&
			"$docker" start -a "$cid" >/dev/null 2>&1
		tmp=$("$docker" commit "$cid") || { bad "$name" "setup failed"; "$docker" rm "$cid" >/dev/null; return; }
		"$docker" rm "$cid" >/dev/null
		run_image=$tmp
	fi
	if out=$("$docker" run --rm --entrypoint '' "$run_image" "$@" 2>/dev/null) &&
		grep -Fq -- "$expected" <<<"$out"; then
		ok
	else
		bad "$name" "output '$out' lacks '$expected'"
	fi
	if [ -n "$tmp" ]; then "$docker" rmi "$tmp" >/dev/null; fi
}

while IFS=$'\t' read -r -a step; do
	case ${step[0]} in
	exist) check_exist "${step[@]:1}" ;;
	absent) check_absent "${step[@]:1}" ;;
	content) check_content "${step[@]:1}" ;;
	meta) check_meta "${step[@]:1}" ;;
	cmd) check_command "${step[@]:1}" ;;
	*) echo "docker-cli-peer.sh: unknown step '${step[0]}' in $plan" >&2; exit 2 ;;
	esac
done <"$plan"
cleanup

echo "docker-cli-peer: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
