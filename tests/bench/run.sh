#!/bin/bash
# The benchmark's entry point (`make bench`): builds the images once,
# generates the suites from them once, then measures cst and its peers.
#
# Environment:
#   BUILD             meson build directory (default: build); cst is BUILD/cst/cst
#   CST_BENCH_BIN     the cst binary to measure instead
#   CST_UPSTREAM_BIN  Google's container-structure-test, measured too when given
#                     (or when container-structure-test is on PATH)
#   BENCH_RUNS        runs per suite and tool (default 3)
#   BENCH_PEER_RUNS   runs of the docker CLI peer (default BENCH_RUNS)
#   BENCH_PEER_BIG=1  run the docker CLI peer on the big suite too (once)
#   BENCH_SUITES      comma-separated suites to run (default: all)
#   BENCH_WORK        where suites, image archives and bench.json go
#                     (default: BUILD/bench)
#   BENCH_HUGE=0      leave out the huge image (2 GB of random data, built
#                     once by testdata/images/huge/build.sh, which --remove
#                     removes) and its suites huge12 and huge200
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac

die() { echo "bench: $*" >&2; exit 1; }

cst=${CST_BENCH_BIN:-}
if [ -z "$cst" ]; then
	for c in "$build/cst/cst" "$build/cst"; do
		if [ -f "$c" ] && [ -x "$c" ]; then cst=$c; break; fi
	done
fi
[ -n "$cst" ] || die "no cst binary under $build (run make build, or set CST_BENCH_BIN)"

# debootstrap builds the image; GNU time measures peak RSS (bench.py says
# why wait4() alone cannot).
missing=()
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || die "missing packages: ${missing[*]} (apt-get install ${missing[*]})"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
		die "installing ${missing[*]} failed"
fi

# Debian's python3 first: the scripts need only its standard library.
python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3) || die "python3 missing"

sh "$root/testdata/images/debian/build.sh"

work=${BENCH_WORK:-$build/bench}
suites=$work/suites
mkdir -p "$suites"
images=(cst-bench/debian:12 cst-bench/debian-layers:12)
# Suites are regenerated only when an image or the generator changed.
stamp=$( {
	docker image inspect -f '{{.Id}}' "${images[@]}"
	sha256sum <"$here/gen_suites.py"
} | sha256sum | cut -c1-16)
if [ "$(cat "$suites/.stamp" 2>/dev/null || true)" != "$stamp" ]; then
	echo "bench: generating suites from the images' file lists" >&2
	"$python" "$here/gen_suites.py" "$suites" "${images[@]}"
	echo "$stamp" >"$suites/.stamp"
fi

if [ "${BENCH_HUGE:-1}" != 0 ]; then
	sh "$root/testdata/images/huge/build.sh"
	hstamp=$( {
		docker image inspect -f '{{.Id}}' cst-bench/huge:12
		sha256sum <"$here/gen_suites.py"
	} | sha256sum | cut -c1-16)
	if [ "$(cat "$suites/.huge-stamp" 2>/dev/null || true)" != "$hstamp" ]; then
		echo "bench: generating the huge suites from the huge image's file list" >&2
		"$python" "$here/gen_suites.py" --huge "$suites" cst-bench/huge:12
		echo "$hstamp" >"$suites/.huge-stamp"
	fi
else
	rm -f "$suites/huge.json" "$suites"/huge*.yaml "$suites"/huge*.plan "$suites/.huge-stamp"
fi

exec "$python" "$here/bench.py" --cst "$cst" --suites "$suites" --work "$work" \
	--json "$work/bench.json" --runs "${BENCH_RUNS:-3}"
