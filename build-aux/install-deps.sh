#!/usr/bin/env bash
# Installs what building and testing cst needs on Debian 12, only what is
# missing, so that running it again costs nothing.
set -euo pipefail

packages=(
	gcc pkg-config meson ninja-build
	libyaml-dev libjansson-dev libarchive-dev libpcre2-dev libcurl4-openssl-dev libssl-dev
	libcmocka-dev bats libxml2-utils perl python3 python3-yaml python3-jsonschema
	docker.io busybox-static curl stress-ng jq time libc6-dev
	chromium python3-junitparser docker-registry man-db make
	clang-14 clang libclang-rt-14-dev valgrind cppcheck
	openssh-server openssh-client socat openssl procps
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run as root or install them" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
