#!/bin/sh
# Builds the images the engine tests use, each only when it is missing or was
# built from other sources (a hash of the sources is kept as a label), so it
# is cheap to call before every test.
#
# Usage: build.sh [busybox|busybox-user|paths|debian|all]...   (default: busybox busybox-user)
#
# busybox       cst-test/busybox:1       FROM scratch + Debian's busybox-static
# busybox-user  cst-test/busybox-user:1  an ENTRYPOINT and a non-root USER
# paths         cst-test/paths:1         symlinks for path resolution tests
# debian        cst-test/debian:bookworm debootstrap --variant=minbase (slow;
#               from the Debian mirror apt uses; DEBIAN_MIRROR overrides it)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
docker=${DOCKER:-docker}
busybox_bin=${BUSYBOX:-/bin/busybox}

die() { echo "build.sh: $*" >&2; exit 1; }

# Two test programs may call us at once; building the same tag twice is
# harmless but slow.
lock=${TMPDIR:-/tmp}/cst-test-images.lock
exec 9>"$lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

source_hash() { # dir [extra text]
	{
		(cd "$here/$1" && find . -type f | LC_ALL=C sort | while read -r f; do
			printf '%s %s\n' "$f" "$(sha256sum < "$f" | cut -d' ' -f1)"
			stat -c '%a' "$f"
		done)
		printf '%s\n' "${2:-}"
	} | sha256sum | cut -c1-16
}

built_hash() { # tag
	"$docker" image inspect -f '{{ index .Config.Labels "dev.cst.test.source" }}' "$1" 2>/dev/null || true
}

build_dir() { # dir tag hash [file to add to the context]
	ctx=$(mktemp -d)
	trap 'rm -rf "$ctx"' EXIT
	cp -R "$here/$1/." "$ctx/"
	if [ $# -ge 4 ]; then cp "$4" "$ctx/"; fi
	# The legacy builder warns about its deprecation on every call: show
	# its output only when the build fails.
	"$docker" build -q --label "dev.cst.test.source=$3" -t "$2" "$ctx" >"$ctx.log" 2>&1 ||
		{ cat "$ctx.log" >&2; rm -f "$ctx.log"; die "building $2 failed"; }
	rm -f "$ctx.log"
	rm -rf "$ctx"
	trap - EXIT
	echo "build.sh: built $2" >&2
}

busybox_hash() {
	[ -x "$busybox_bin" ] || die "$busybox_bin missing (apt-get install busybox-static)"
	source_hash busybox "$(sha256sum < "$busybox_bin")"
}

build_busybox() {
	h=$(busybox_hash)
	[ "$(built_hash cst-test/busybox:1)" = "$h" ] && return 0
	case $(file -b "$busybox_bin" 2>/dev/null || echo static) in
	*dynamically*) die "$busybox_bin is not static (apt-get install busybox-static)" ;;
	esac
	build_dir busybox cst-test/busybox:1 "$h" "$busybox_bin"
}

build_busybox_user() {
	build_busybox
	h=$(source_hash busybox-user "$(busybox_hash)")
	[ "$(built_hash cst-test/busybox-user:1)" = "$h" ] && return 0
	build_dir busybox-user cst-test/busybox-user:1 "$h"
}

build_paths() {
	build_busybox
	h=$(source_hash paths "$(busybox_hash)")
	[ "$(built_hash cst-test/paths:1)" = "$h" ] && return 0
	build_dir paths cst-test/paths:1 "$h"
}

build_debian() {
	h=$(printf 'debian bookworm minbase 1\n' | sha256sum | cut -c1-16)
	[ "$(built_hash cst-test/debian:bookworm)" = "$h" ] && return 0
	command -v debootstrap >/dev/null 2>&1 || die "debootstrap missing (apt-get install debootstrap)"
	mirror=${DEBIAN_MIRROR:-$("$here/apt-mirror.sh")} || die "no Debian mirror"
	root=$(mktemp -d)
	trap 'rm -rf "$root"' EXIT
	debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 ||
		{ cat "$root.log" >&2; die "debootstrap failed"; }
	rm -f "$root.log"
	rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
	tar -C "$root" --numeric-owner -c . | "$docker" import \
		--change "LABEL dev.cst.test.source=$h" \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'CMD ["bash"]' - cst-test/debian:bookworm >/dev/null
	rm -rf "$root"
	trap - EXIT
	echo "build.sh: built cst-test/debian:bookworm" >&2
}

[ $# -gt 0 ] || set -- busybox busybox-user
for what in "$@"; do
	case $what in
	busybox) build_busybox ;;
	busybox-user) build_busybox_user ;;
	paths) build_paths ;;
	debian) build_debian ;;
	all) build_busybox; build_busybox_user; build_paths; build_debian ;;
	*) die "unknown image '$what'" ;;
	esac
done
