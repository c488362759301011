#!/bin/sh
# Builds the benchmark's images, each only when it is missing or was built
# from other sources (a hash of them is kept as a label):
#
#   cst-bench/debian:12         Debian 12 minbase from debootstrap, imported as
#                               one layer (about 200 MB, about 7,000 files)
#   cst-bench/debian-layers:12  the same plus 3 layers that delete, replace and
#                               add files (whiteouts and an opaque directory)
#
# Usage: build.sh            (needs root for debootstrap, and a Docker Engine)
# DEBIAN_MIRROR overrides the mirror; by default it is the one apt uses.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
docker=${DOCKER:-docker}
base=cst-bench/debian:12
layers=cst-bench/debian-layers:12

die() { echo "debian/build.sh: $*" >&2; exit 1; }

lock=${TMPDIR:-/tmp}/cst-bench-images.lock
exec 9>"$lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

built_hash() { # tag
	"$docker" image inspect -f '{{ index .Config.Labels "dev.cst.bench.source" }}' "$1" 2>/dev/null || true
}

source_hash() { # file...
	cat "$@" | sha256sum | cut -c1-16
}

build_base() {
	h=$(printf 'debootstrap minbase bookworm 1\n' | source_hash -)
	[ "$(built_hash "$base")" = "$h" ] && return 0
	if ! command -v debootstrap >/dev/null 2>&1; then
		[ "$(id -u)" = 0 ] || die "debootstrap missing (apt-get install debootstrap)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null ||
			die "installing debootstrap failed"
	fi
	mirror=${DEBIAN_MIRROR:-$("$here/../apt-mirror.sh")} || die "no Debian mirror"
	root=$(mktemp -d "${TMPDIR:-/tmp}/cst-bench-rootfs.XXXXXX")
	trap 'rm -rf "$root" "$root.log"' EXIT
	# mktemp makes it 0700, and it becomes the image's "/".
	chmod 0755 "$root"
	echo "debian/build.sh: debootstrap bookworm from $mirror (a few minutes)" >&2
	debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 ||
		{ tail -n 30 "$root.log" >&2; die "debootstrap failed"; }
	# Numeric owners: the image must not depend on this host's user names.
	tar -C "$root" --numeric-owner -c . | "$docker" import \
		--change "LABEL dev.cst.bench.source=$h" \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'CMD ["bash"]' - "$base" >/dev/null
	rm -rf "$root" "$root.log"
	trap - EXIT
	echo "debian/build.sh: built $base" >&2
}

build_layers() {
	# Rebuilt when the Dockerfile or the base image changes.
	h=$({ cat "$here/Dockerfile.layers"; "$docker" image inspect -f '{{.Id}}' "$base"; } | source_hash -)
	[ "$(built_hash "$layers")" = "$h" ] && return 0
	ctx=$(mktemp -d "${TMPDIR:-/tmp}/cst-bench-ctx.XXXXXX")
	trap 'rm -rf "$ctx" "$ctx.log"' EXIT
	cp "$here/Dockerfile.layers" "$ctx/Dockerfile"
	# The legacy builder prints a deprecation notice on every call: show
	# its output only when the build fails.
	"$docker" build -q --build-arg "BASE=$base" --label "dev.cst.bench.source=$h" \
		-t "$layers" "$ctx" >"$ctx.log" 2>&1 ||
		{ cat "$ctx.log" >&2; die "building $layers failed"; }
	rm -rf "$ctx" "$ctx.log"
	trap - EXIT
	echo "debian/build.sh: built $layers" >&2
}

build_base
build_layers
