#!/bin/sh
# Prints the Debian mirror apt is configured with (deb822 sources first,
# then the one-line format), so that a debootstrapped image comes from
# where this machine's packages do.  Exits 1, saying so, when apt names
# none: DEBIAN_MIRROR then has to be given.
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }' "$f"
done | head -n 1 | grep . && exit 0
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] || continue
	awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:.*\/debian\/?$/) { print $i; exit } }' "$f"
done | head -n 1 | grep . && exit 0
echo "apt-mirror.sh: apt's configuration names no Debian mirror; set DEBIAN_MIRROR" >&2
exit 1
