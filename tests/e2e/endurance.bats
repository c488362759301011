#!/usr/bin/env bats
# Endurance: many cst runs on one engine at once and one after another, a
# report onto a full file system, and a run with few file descriptors.
# Each leaves nothing in the engine and gives the same verdicts as a
# single quiet run.

setup_file() {
	. "$CST_TESTS/lib/run.sh"
	cst_engine_setup busybox || return $?
}

setup() {
	: "${CST_BIN:?CST_BIN is set by meson test}"
	T="$BATS_TEST_TMPDIR"
	cd "$T"
	. "$CST_TESTS/lib/run.sh"
	# File tests of every kind, some meant to fail, and command tests.
	cat > files.yaml <<'YAML'
schemaVersion: 2.0.0
fileExistenceTests:
  - name: root
    path: /
  - name: suid
    path: /usr/local/bin/suid-box
    permissions: "urwxr-xr-x"
  - name: owner
    path: /home/cst
    uid: 1000
  - name: absent
    path: /no/such/file
fileContentTests:
  - name: through a symlink
    path: /etc/cst/hello-link
    expectedContents: ["^hello from cst"]
  - name: a failing content
    path: /etc/cst/hello.txt
    expectedContents: ["^nonesuch"]
metadataTest:
  workdir: /srv
YAML
	cat > commands.yaml <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: env
    command: sh
    args: ["-c", "echo $GREETING"]
    expectedOutput: ["^hello world\n$"]
  - name: exit code
    command: sh
    args: ["-c", "exit 3"]
    exitCode: 3
  - name: a failing one
    command: "false"
YAML
}

teardown() {
	stop_events
	mountpoint -q "$T/full" 2>/dev/null && umount "$T/full" || true
}

# Pass or fail per test, in report order.
verdicts() { # report.json
	jq -c '[.Results[] | {Name, Pass}]' "$1"
}

# Every cst process whose pid is in the file: what they left in the engine
# (one query, not one per run).
left_by_any() { # pidfile
	{
		docker ps -a --filter label=dev.cst.pid --format '{{.Label "dev.cst.pid"}}'
		docker images -aq --filter label=dev.cst.pid |
			xargs -r docker image inspect --format '{{index .Config.Labels "dev.cst.pid"}}' 2>/dev/null
	} | grep -Fxf "$1" | wc -l
}

dockerd_fds() {
	ls "/proc/$(cat /var/run/docker.pid)/fd" | wc -l
}

@test "16 runs at once on one image share a cache: same verdicts, nothing left, the cache still good" {
	export CST_CACHE_DIR="$T/cache"
	"$CST_BIN" test --image cst-test/busybox:1 -c files.yaml -c commands.yaml -o json --no-cache \
		> want.json 2>/dev/null || true
	verdicts want.json > want
	[ "$(jq '.Total' want.json)" -eq 10 ]
	"$CST_BIN" test --image cst-test/busybox:1 -c files.yaml -o json --no-cache > wantf.json 2>/dev/null || true
	verdicts wantf.json > wantf
	pids=()
	for i in $(seq 1 16); do
		env --default-signal=INT "$CST_BIN" test --image cst-test/busybox:1 -c files.yaml -c commands.yaml \
			-o json --jobs 2 >"out.$i" 2>"err.$i" &
		pids+=($!)
	done
	bad=0
	for i in $(seq 1 16); do
		st=0
		wait "${pids[$((i - 1))]}" || st=$?
		if [ "$st" -ne 1 ] || ! diff want <(verdicts "out.$i"); then
			echo "run $i: exit $st"; cat "err.$i"
			bad=$((bad + 1))
		fi
	done
	printf '%s\n' "${pids[@]}" > pids
	[ "$bad" -eq 0 ]
	[ "$(left_by_any pids)" -eq 0 ]
	# The cache they wrote at once answers the next run alone.
	watch_events
	run_cst test --image cst-test/busybox:1 -c files.yaml -o json
	[ "$status" -eq 1 ]
	diff wantf <(jq -c '[.Results[] | {Name, Pass}]' <<<"$output")
	[ "$(created_by "$pid")" -eq 0 ]
	stop_events
}

@test "300 file-test runs then 30 command-test runs: memory, engine descriptors and containers stay flat" {
	[ -s /var/run/docker.pid ] || {
		[ "${CI:-}" != true ] || { echo "no /var/run/docker.pid to read dockerd's descriptors"; return 1; }
		skip "dockerd's pid is not known here"
	}
	export CST_CACHE_DIR="$T/cache"
	# One run fills the cache first: the soak measures warm runs.
	"$CST_BIN" test --image cst-test/busybox:1 -c files.yaml -q || true
	fds0=$(dockerd_fds)
	: > pids
	: > rss
	for i in $(seq 1 300); do
		/usr/bin/time -f '%M' -o "time.$((i % 2))" "$CST_BIN" test --image cst-test/busybox:1 \
			-c files.yaml -o json >out 2>err &
		p=$!
		echo "$p" >> pids
		st=0
		wait "$p" || st=$?
		[ "$st" -eq 1 ] || { echo "run $i: exit $st"; cat err; false; }
		tail -n 1 "time.$((i % 2))" >> rss
	done
	for i in $(seq 1 30); do
		st=0
		"$CST_BIN" test --image cst-test/busybox:1 -c commands.yaml -o json --jobs 2 >out 2>err || st=$?
		[ "$st" -eq 1 ] || { echo "command run $i: exit $st"; cat err; false; }
		[ "$(jq '.Pass' out)" -eq 2 ]
	done
	first=$(head -n 10 rss | sort -n | tail -n 1)
	last=$(tail -n 10 rss | sort -n | tail -n 1)
	# The engine's own descriptors: connections cst left open would stay.
	# Whatever else uses the engine comes and goes, so the count is given
	# time to settle back.
	settled() { [ "$(dockerd_fds)" -le $((fds0 + 20)) ]; }
	wait_for 120 settled || true
	fds1=$(dockerd_fds)
	echo "peak RSS of the first 10 runs ${first} KiB, of the last 10 ${last} KiB; dockerd fds $fds0 -> $fds1"
	# Each run is a process of its own: its peak must not grow with the
	# runs before it (a cache that grows, say).  Allow 1 MiB of noise.
	[ "$last" -le $((first + 1024)) ]
	[ "$fds1" -le $((fds0 + 20)) ]
	[ "$(left_by_any pids)" -eq 0 ]
}

@test "a report onto a full file system: exit 2, the old report untouched, no partial file" {
	if [ "$(id -u)" != 0 ]; then
		[ "${CI:-}" != true ] || { echo "mounting a tmpfs needs root"; return 1; }
		skip "mounting a tmpfs needs root"
	fi
	mkdir full
	mount -t tmpfs -o size=256k tmpfs full
	echo '{"old": "report"}' > full/report.json
	# Fill what is left: dd stops at ENOSPC.
	dd if=/dev/zero of=full/filler bs=4k 2>/dev/null || true
	run_cst test --driver tar --image "$(save_busybox)" -c files.yaml -o junit --test-report "$T/full/report.json"
	echo "$errout"
	[ "$status" -eq 2 ]
	[[ "$errout" == *"full/report.json"* ]]
	[[ "$errout" == *"No space left on device"* ]]
	[ "$(cat full/report.json)" = '{"old": "report"}' ]
	[ "$(ls -A full | sort | tr '\n' ' ')" = "filler report.json " ]
}

@test "64 file descriptors: a clear error or the right verdicts, never a crash" {
	"$CST_BIN" test --image cst-test/busybox:1 -c files.yaml -c commands.yaml -o json --no-cache \
		> want.json 2>/dev/null || true
	verdicts want.json > want
	for n in 64 16 8; do
		(ulimit -n "$n" && exec "$CST_BIN" test --image cst-test/busybox:1 -c files.yaml -c commands.yaml \
			-o json --no-cache --jobs 8) >out 2>err &
		pid=$!
		st=0
		wait "$pid" || st=$?
		echo "ulimit -n $n: exit $st"; cat err
		case $st in
		1) diff want <(verdicts out) ;;
		2) grep -q "Too many open files (raise the limit, ulimit -n, or lower --jobs)" err ;;
		*) false ;;
		esac
		[ "$(left_by "$pid")" -eq 0 ]
	done
}

# A docker save of cst-test/busybox:1, once per file.
save_busybox() {
	f="$BATS_FILE_TMPDIR/busybox.tar"
	[ -s "$f" ] || docker save -o "$f" cst-test/busybox:1
	echo "$f"
}

@test "64 tests printing 32 MiB each: the run's output budget holds memory, later tests fail saying so" {
	{
		echo "schemaVersion: 2.0.0"
		echo "commandTests:"
		for i in $(seq 1 64); do
			echo "  - name: t$i"
			echo "    command: sh"
			echo "    args: [\"-c\", \"head -c 33554432 /dev/zero | tr '\\\\\\\\0' x\"]"
		done
	} > loud.yaml
	/usr/bin/time -f '%M' -o time "$CST_BIN" test --image cst-test/busybox:1 -c loud.yaml -o json --jobs 4 \
		--test-report report.json -q 2>err || true
	peak=$(tail -n 1 time)
	budgeted=$(jq '[.Results[] | select(.Errors // [] | any(test("output budget of 268435456 bytes")))] | length' report.json)
	whole=$(jq '[.Results[] | select(.Pass)] | length' report.json)
	echo "peak RSS ${peak} KiB; $whole whole outputs, $budgeted cut by the budget"; cat err
	[ "$(jq '.Total' report.json)" -eq 64 ]
	# 8 outputs fit in 256 MiB; the others were cut by the budget.
	[ "$whole" -le 8 ]
	[ "$budgeted" -ge 56 ]
	[ "$((whole + budgeted))" -eq 64 ]
	# The budget plus a fixed overhead; AddressSanitizer's shadow memory
	# and quarantine multiply RSS.
	limit=$(((256 + 64) * 1024))
	if grep -q __asan_init "$CST_BIN" 2>/dev/null; then
		limit=$((limit * 3))
	fi
	[ "$peak" -lt "$limit" ]
}

@test "32 MiB of NUL bytes: the JSON report stays proportional and says what it left out" {
	cat > nul.yaml <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: zeros
    command: sh
    args: ["-c", "head -c 33554432 /dev/zero"]
YAML
	run_cst test --image cst-test/busybox:1 -c nul.yaml -o json --test-report report.json -q
	[ "$status" -eq 0 ]
	size=$(stat -c %s report.json)
	echo "report: $size bytes"
	# Each NUL is six bytes escaped: written whole, 192 MiB.
	[ "$size" -lt $((65 * 1024 * 1024)) ]
	jq -r '.Results[0].Stdout' report.json | tail -c 200 | grep -q "the report shows [0-9]* of the 33554432 bytes of this output"
}
