#!/bin/bash
# Feeds cst's TAP reports to prove and checks its verdict: a report of
# passing tests passes, one with failures fails on exactly the failed test
# points, and no report makes prove complain about the TAP or YAML itself.
#
#   check-tap.sh REPORT_FIXTURE
set -u
fixture=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

status=0
n=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	echo "not ok $n - $1"
	[ -f "$work/log" ] && head -c 4000 "$work/log" | sed 's/^/# /'
	status=1
}

# Runs prove on a report; its output goes to $work/log, its status to $rc.
run_prove() {
	local file=$1
	(cd "$work" && prove -e cat "$file") >"$work/log" 2>&1
	rc=$?
}

echo "1..12"
for c in pass mixed long empty; do
	if "$fixture" tap "$c" "$work/$c.tap" 2>"$work/log"; then
		ok "generate $c report"
	else
		not_ok "generate $c report"
	fi
done

if [ "$(head -n1 "$work/pass.tap")" = "TAP version 13" ]; then
	ok "reports declare TAP version 13"
else
	not_ok "reports declare TAP version 13"
fi

run_prove "$work/pass.tap"
if [ $rc -eq 0 ] && grep -q '^Result: PASS' "$work/log"; then
	ok "prove passes the all-pass report"
else
	not_ok "prove passes the all-pass report"
fi

run_prove "$work/mixed.tap"
if [ $rc -ne 0 ] && grep -q 'Failed: 5' "$work/log" && grep -q 'Failed tests:  2-3, 5-7' "$work/log"; then
	ok "prove fails the report with failures on tests 2-3, 5-7"
else
	not_ok "prove fails the report with failures on tests 2-3, 5-7"
fi
if ! grep -qi 'parse error\|YAMLish\|unsupported' "$work/log"; then
	ok "prove finds no TAP or YAML errors in the report with failures"
else
	not_ok "prove finds no TAP or YAML errors in the report with failures"
fi

run_prove "$work/long.tap"
if [ $rc -ne 0 ] && grep -q 'Failed tests\?:  1$' "$work/log" && ! grep -qi 'parse error\|YAMLish' "$work/log"; then
	ok "prove reads the 1 MiB report and fails its one test"
else
	not_ok "prove reads the 1 MiB report and fails its one test"
fi

run_prove "$work/empty.tap"
if [ $rc -ne 0 ] && grep -qi 'bail' "$work/log"; then
	ok "prove fails a report without tests"
else
	not_ok "prove fails a report without tests"
fi

# The diagnostics must read back, byte for byte, through the YAML reader
# prove itself uses: every value the fixture can carry unchanged.
here=$(cd "$(dirname "$0")" && pwd)
for c in mixed long; do
	"$fixture" --yaml-expect "$c" | sort >"$work/$c.want"
	if perl "$here/tap-yaml.pl" "$work/$c.tap" 2>"$work/log" | sort >"$work/$c.got" &&
		[ -s "$work/$c.want" ] && [ -z "$(comm -23 "$work/$c.want" "$work/$c.got")" ]; then
		ok "TAP::Parser reads back the diagnostics of the $c report"
	else
		comm -23 "$work/$c.want" "$work/$c.got" | cut -c1-200 >>"$work/log"
		not_ok "TAP::Parser reads back the diagnostics of the $c report"
	fi
done
exit $status
