#!/usr/bin/env bash
# Builds the libFuzzer harnesses (if needed) and runs each for a bounded
# time with its seeds and dictionary.
#
# Usage: tests/fuzz/run.sh [HARNESS...]     (default: all of them)
# Environment:
#   FUZZ_SECONDS   seconds per harness (default 30)
#   FUZZ_BUILD     build directory (default build-fuzz)
#   FUZZ_OUT       where corpora and crash inputs go (default $FUZZ_BUILD/fuzz-out)
#
# Prints the executions each harness reached.  A crash, leak, sanitizer
# report or timeout fails the script; the input that caused it is kept
# under $FUZZ_OUT/crashes/HARNESS/ and should be added to
# tests/fuzz/regressions/HARNESS/ with the fix, where `meson test`
# replays it from then on.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${FUZZ_SECONDS:-30}
build=${FUZZ_BUILD:-build-fuzz}
out=${FUZZ_OUT:-$build/fuzz-out}
all=(fuzz_config_yaml fuzz_config_json fuzz_docker_save fuzz_oci fuzz_layer fuzz_engine fuzz_regex fuzz_snapshot fuzz_glob)
harnesses=("${@:-${all[@]}}")

if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" -Dfuzzers=true -Dtests=false \
		-Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C "$build" -j2 "${harnesses[@]/#/tests/fuzz/}" >/dev/null

dict_of() {
	case $1 in
	fuzz_config_yaml) echo config_yaml ;;
	fuzz_config_json) echo config_json ;;
	fuzz_docker_save | fuzz_oci) echo image ;;
	*) echo "${1#fuzz_}" ;;
	esac
}

# Seeds: the committed corpus and regressions, plus every config under
# testdata/ for the config harnesses.
seed_dirs() {
	local h=$1
	for d in tests/fuzz/corpus/"$h" tests/fuzz/regressions/"$h"; do
		[ -d "$d" ] && echo "$d"
	done
	case $h in
	fuzz_config_yaml) echo "$out/seeds/$h" ;;
	fuzz_config_json) echo "$out/seeds/$h" ;;
	esac
	return 0
}
mkdir -p "$out/seeds/fuzz_config_yaml" "$out/seeds/fuzz_config_json"
find testdata tests/image -name '*.yaml' -o -name '*.yml' | while read -r f; do
	cp "$f" "$out/seeds/fuzz_config_yaml/$(echo "$f" | tr / _)"
done
find testdata -name '*.json' -path '*configs*' | while read -r f; do
	cp "$f" "$out/seeds/fuzz_config_json/$(echo "$f" | tr / _)"
done

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

failed=()
printf '%-18s %10s %8s %s\n' harness execs cover result
for h in "${harnesses[@]}"; do
	corpus="$out/corpus/$h"
	crashes="$out/crashes/$h"
	mkdir -p "$corpus" "$crashes"
	log="$out/$h.log"
	set +e
	# -timeout: one input running for 10 s is a hang, a finding like a crash.
	"$build/tests/fuzz/$h" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-dict="tests/fuzz/dict/$(dict_of "$h").dict" -print_final_stats=1 \
		-artifact_prefix="$crashes/" "$corpus" $(seed_dirs "$h") >"$log" 2>&1
	rc=$?
	set -e
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cover=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
	if [ $rc -eq 0 ]; then
		result=ok
	else
		result="FAILED (rc $rc; log $log; inputs in $crashes)"
		failed+=("$h")
	fi
	printf '%-18s %10s %8s %s\n' "$h" "${execs:-?}" "${cover:-?}" "$result"
	if [ $rc -ne 0 ]; then
		grep -E 'ERROR|SUMMARY|runtime error|==[0-9]+==' "$log" | head -20 >&2 || true
	fi
done

if [ ${#failed[@]} -ne 0 ]; then
	echo "fuzz: findings in: ${failed[*]}" >&2
	exit 1
fi
