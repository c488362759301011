#!/bin/bash
# Re-records the goldens of the differential suite with the real
# container-structure-test: CST_REF_BIN, else container-structure-test on
# PATH.  COMPAT_ONLY=GLOB re-records only the pairs whose id matches.
#
# CST commits images for globalEnvVars and setup and does not always remove
# them; every image and container it makes from the suite's images carries
# their dev.cst.compat.image label, and those that appeared during the run
# are removed at its end.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/engine.sh"
cst_ensure_engine
"$here/images/build.sh"

CST_REF_BIN=${CST_REF_BIN:-$(command -v container-structure-test || true)}
[ -n "$CST_REF_BIN" ] || { echo "regen.sh: no container-structure-test (set CST_REF_BIN)" >&2; exit 2; }
export CST_REF_BIN
echo "regen.sh: recording with $("$CST_REF_BIN" version 2>/dev/null | head -n1 || echo "$CST_REF_BIN")" >&2

labelled() { # ps|images
	if [ "$1" = ps ]; then
		docker ps -aq --no-trunc --filter label=dev.cst.compat.image
	else
		docker images -aq --no-trunc --filter label=dev.cst.compat.image
	fi | sort -u
}

before_ps=$(mktemp)
before_img=$(mktemp)
labelled ps >"$before_ps"
labelled images >"$before_img"

cleanup() {
	labelled ps | comm -13 "$before_ps" - | xargs -r docker rm -f >/dev/null || true
	labelled images | comm -13 "$before_img" - | xargs -r docker rmi -f >/dev/null 2>&1 || true
	rm -f "$before_ps" "$before_img"
}
trap cleanup EXIT

python3 "$here/compat.py" record
