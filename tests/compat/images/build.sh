#!/bin/sh
# Builds the images of the differential suite, each only when it is missing
# or was built from other sources (a hash of the sources, and of the base
# image's, is kept as a label), so it is cheap to call before every run.
#
#   cst-test/compat:1        compat/        (FROM cst-test/busybox:1)
#   cst-test/compat-entry:1  compat-entry/  (FROM cst-test/compat:1)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
docker=${DOCKER:-docker}

die() { echo "compat/images/build.sh: $*" >&2; exit 1; }

"$here/../../../testdata/images/build.sh" busybox

exec 9>"${TMPDIR:-/tmp}/cst-compat-images.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

label() { # tag
	"$docker" image inspect -f '{{ index .Config.Labels "dev.cst.test.source" }}' "$1" 2>/dev/null || true
}

source_hash() { # dir base-hash
	{
		(cd "$here/$1" && find . \( -type f -o -type d \) | LC_ALL=C sort | while read -r f; do
			[ -f "$f" ] && printf '%s %s\n' "$f" "$(sha256sum < "$f" | cut -d' ' -f1)"
			printf '%s %s\n' "$f" "$(stat -c '%a' "$f")"
		done)
		printf '%s\n' "$2"
	} | sha256sum | cut -c1-16
}

build() { # dir tag base-tag
	base=$(label "$3")
	[ -n "$base" ] || die "$3 missing"
	h=$(source_hash "$1" "$base")
	[ "$(label "$2")" = "$h" ] && return 0
	log=$(mktemp)
	"$docker" build -q --label "dev.cst.test.source=$h" -t "$2" "$here/$1" >"$log" 2>&1 ||
		{ cat "$log" >&2; rm -f "$log"; die "building $2 failed"; }
	rm -f "$log"
	echo "compat/images/build.sh: built $2" >&2
}

build compat cst-test/compat:1 cst-test/busybox:1
build compat-entry cst-test/compat-entry:1 cst-test/compat:1
