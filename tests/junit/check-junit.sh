#!/bin/bash
# Validates cst's JUnit reports against tests/junit/junit.xsd with xmllint,
# and checks that the schema is not vacuous: it must reject the report shape
# container-structure-test itself writes (no classname, no per-suite counts,
# no failure message, exponent times).
#
#   check-junit.sh REPORT_FIXTURE
set -u
fixture=$1
here=$(cd "$(dirname "$0")" && pwd)
xsd=$here/junit.xsd
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

status=0
n=0
check() {
	n=$((n + 1))
	local desc=$1
	shift
	if "$@" >"$work/log" 2>&1; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc"
		sed 's/^/# /' "$work/log"
		status=1
	fi
}
rejects() {
	! xmllint --noout --schema "$xsd" "$1"
}

echo "1..9"
for c in empty pass mixed long; do
	check "generate $c report" "$fixture" junit "$c" "$work/$c.xml"
	check "$c report is valid JUnit" xmllint --noout --schema "$xsd" "$work/$c.xml"
done
check "the schema rejects CST's own JUnit shape" rejects "$here/not-junit-cst-shape.xml"
exit $status
