#!/bin/bash
# The differential suite as `make check` runs it (TAP): needs an engine,
# builds the suite's images, then compares cst (CST_BIN) with the goldens.
set -u

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/engine.sh"
cst_ensure_engine
rc=$?
if [ "$rc" -eq 77 ]; then
	echo "1..0 # SKIP no Docker Engine"
	exit 0
fi
[ "$rc" -eq 0 ] || { echo "Bail out! no Docker Engine"; exit 1; }
"$here/images/build.sh" || { echo "Bail out! building the compat images failed"; exit 1; }
exec python3 "$here/compat.py" check
