#!/bin/sh
# Builds cst-bench/huge:12 (see Dockerfile: Debian 12 plus 2 GB of random
# data) only when it is missing or was built from other sources.  Only the
# benchmark builds it (`make bench`), never `make check`: it takes minutes
# and 2 GB of disk.  `build.sh --remove` removes it again.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
docker=${DOCKER:-docker}
base=cst-bench/debian:12
huge=cst-bench/huge:12

die() { echo "huge/build.sh: $*" >&2; exit 1; }

if [ "${1:-}" = --remove ]; then
	"$docker" rmi "$huge" >/dev/null 2>&1 || true
	exit 0
fi

lock=${TMPDIR:-/tmp}/cst-bench-images.lock
exec 9>"$lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

h=$({ cat "$here/Dockerfile"; "$docker" image inspect -f '{{.Id}}' "$base"; } | sha256sum | cut -c1-16) ||
	die "no $base (testdata/images/debian/build.sh builds it)"
[ "$("$docker" image inspect -f '{{ index .Config.Labels "dev.cst.bench.source" }}' "$huge" 2>/dev/null || true)" = "$h" ] &&
	exit 0
ctx=$(mktemp -d "${TMPDIR:-/tmp}/cst-bench-huge.XXXXXX")
trap 'rm -rf "$ctx" "$ctx.log"' EXIT
cp "$here/Dockerfile" "$ctx/Dockerfile"
echo "huge/build.sh: building $huge (2 GB of random data, a few minutes)" >&2
"$docker" build -q --force-rm --network none --build-arg "BASE=$base" --label "dev.cst.bench.source=$h" \
	-t "$huge" "$ctx" >"$ctx.log" 2>&1 ||
	{ cat "$ctx.log" >&2; die "building $huge failed"; }
echo "huge/build.sh: built $huge" >&2
