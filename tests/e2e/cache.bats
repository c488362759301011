#!/usr/bin/env bats
# The index cache of the docker driver: a second run of an image answers its
# file tests from the saved index (no container), with the verdicts of the
# first; a cache that is missing, damaged, unwritable or lacks what a run
# wants only costs time.

setup_file() {
	. "$CST_TESTS/lib/run.sh"
	cst_engine_setup busybox || return $?
}

setup() {
	CST="${CST_BIN:?CST_BIN is set by meson test}"
	T="$BATS_TEST_TMPDIR"
	cd "$T"
	. "$CST_TESTS/lib/run.sh"
	watch_events
	# meson's environment turns the cache off for the other tests.
	export CST_CACHE_DIR="$T/cache"
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
    gid: 1000
  - name: deleted in a later step
    path: /etc/cst/gone.txt
    shouldExist: false
  - name: a failing one
    path: /no/such/file
fileContentTests:
  - name: through a symlink
    path: /etc/cst/hello-link
    expectedContents: ["second line"]
  - name: a failing content
    path: /etc/os-release
    expectedContents: ["^ID=nonesuch"]
metadataTest:
  workdir: /srv
YAML
	cat > passwd.yaml <<'YAML'
schemaVersion: 2.0.0
fileContentTests:
  - name: root in passwd
    path: /etc/passwd
    expectedContents: ["^root:"]
YAML
}

teardown() {
	stop_events
	if [ -n "${BUILT:-}" ]; then
		docker rmi -f "$BUILT" >/dev/null 2>&1 || true
		docker image prune -f --filter label=dev.cst.test.cache >/dev/null 2>&1 || true
	fi
}

# The report without its timings.
verdicts() {
	python3 -c '
import json, sys
d = json.load(sys.stdin)
d.pop("Duration", None)
d.get("Provenance", {}).pop("StartTime", None)
for r in d["Results"]:
    r.pop("Duration", None)
print(json.dumps(d, sort_keys=True))'
}

@test "a second run answers file tests from the cache: no container, the same verdicts" {
	run_cst test --image cst-test/busybox:1 --config files.yaml --output json -v info
	echo "$output"; echo "$errout"
	[ "$status" -eq 1 ]
	[ "$(created_by "$pid")" -eq 1 ]
	[[ "$errout" == *"index cache: saved $T/cache/"*"-export.idx"* ]]
	cold=$(printf '%s' "$output" | verdicts)
	[[ "$cold" == *'"Fail": 2'* ]]
	[[ "$cold" == *'"Pass": 6'* ]]

	run_cst test --image cst-test/busybox:1 --config files.yaml --output json -v info
	echo "$errout"
	[ "$status" -eq 1 ]
	[[ "$errout" == *"index cache: read $T/cache/"* ]]
	[ "$(created_by "$pid")" -eq 0 ]
	[ "$(printf '%s' "$output" | verdicts)" = "$cold" ]
	# The cache dir is private: indexes name what an image holds.
	[ "$(stat -c %a "$T/cache")" = 700 ]
}

@test "a run that wants other contents reads the image again, and the cache then serves both" {
	run_cst test --image cst-test/busybox:1 --config files.yaml -q
	[ "$status" -eq 1 ]
	run_cst test --image cst-test/busybox:1 --config passwd.yaml -v info
	echo "$output"; echo "$errout"
	[ "$status" -eq 0 ]
	[[ "$errout" == *"lacks contents this run wants"* ]]
	[ "$(created_by "$pid")" -eq 1 ]
	for cfg in files.yaml passwd.yaml; do
		run_cst test --image cst-test/busybox:1 --config "$cfg" -v info
		echo "$errout"
		[[ "$errout" == *"index cache: read"* ]]
		[ "$(created_by "$pid")" -eq 0 ]
	done
	[ "$(ls "$T/cache" | wc -l)" -eq 1 ]
}

@test "a damaged or truncated index is read past, never believed" {
	run_cst test --image cst-test/busybox:1 --config files.yaml --output json
	cold=$(printf '%s' "$output" | verdicts)
	idx=$(ls "$T"/cache/*.idx)
	size=$(stat -c %s "$idx")
	# A changed byte in the middle (a mode, a name, a length or a content).
	python3 -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 0x55; open(p, "wb").write(b)' "$idx"
	run_cst test --image cst-test/busybox:1 --config files.yaml --output json -v info
	echo "$errout"
	[ "$status" -eq 1 ]
	[[ "$errout" == *"checksum mismatch"* || "$errout" == *"malformed"* || "$errout" == *"out of bounds"* ]]
	[ "$(printf '%s' "$output" | verdicts)" = "$cold" ]
	# The run saved a good one again.
	run_cst test --image cst-test/busybox:1 --config files.yaml -v info -q
	[[ "$errout" == *"index cache: read"* ]]

	truncate -s $((size / 3)) "$idx"
	run_cst test --image cst-test/busybox:1 --config files.yaml --output json -v info
	[[ "$errout" == *"truncated"* ]]
	[ "$(printf '%s' "$output" | verdicts)" = "$cold" ]

	# One that others could have written is not believed either.
	run_cst test --image cst-test/busybox:1 --config files.yaml -q
	chmod 0666 "$idx"
	run_cst test --image cst-test/busybox:1 --config files.yaml -v info -q
	[[ "$errout" == *"not this user's own file"* ]]

	echo "not an index" > "$idx"
	run_cst test --image cst-test/busybox:1 --config files.yaml --output json -v info
	[[ "$errout" == *"not an index snapshot"* ]]
	[ "$(printf '%s' "$output" | verdicts)" = "$cold" ]
}

@test "a cache that cannot be written costs time only, and says so at -v info only" {
	echo "a file, not a directory" > "$T/notadir"
	CST_CACHE_DIR="$T/notadir/cache" run_cst test --image cst-test/busybox:1 --config passwd.yaml
	echo "$output"; echo "$errout"
	[ "$status" -eq 0 ]
	[ -z "$errout" ]
	CST_CACHE_DIR="$T/notadir/cache" run_cst test --image cst-test/busybox:1 --config passwd.yaml -v info
	[ "$status" -eq 0 ]
	[[ "$errout" == *"index cache: cannot create $T/notadir/cache"* ]]
}

@test "where the cache is: --cache-dir, CST_CACHE_DIR, XDG_CACHE_HOME, ~/.cache; --no-cache and an empty CST_CACHE_DIR turn it off" {
	run_cst test --image cst-test/busybox:1 --config passwd.yaml --cache-dir "$T/flag"
	[ "$status" -eq 0 ]
	[ "$(ls "$T/flag" | wc -l)" -eq 1 ]

	mkdir home
	(
		unset CST_CACHE_DIR XDG_CACHE_HOME
		HOME="$T/home" "$CST" test --image cst-test/busybox:1 --config passwd.yaml -q
		XDG_CACHE_HOME="$T/xdg" HOME="$T/home" "$CST" test --image cst-test/busybox:1 --config passwd.yaml -q
		HOME="$T/nohome" "$CST" test --image cst-test/busybox:1 --config passwd.yaml -q --no-cache
		CST_CACHE_DIR= HOME="$T/nohome" "$CST" test --image cst-test/busybox:1 --config passwd.yaml -q
	)
	[ "$(ls "$T/home/.cache/cst" | wc -l)" -eq 1 ]
	[ "$(ls "$T/xdg/cst" | wc -l)" -eq 1 ]
	[ ! -e "$T/nohome" ]

	run_cst test --image cst-test/busybox:1 --config passwd.yaml --cache-dir "$T/x" --no-cache
	[ "$status" -eq 2 ]
	[[ "$errout" == *"--cache-dir and --no-cache cannot be used together"* ]]
}

@test "a rebuilt image under the same name is read anew" {
	BUILT=cst-test/cache-rebuilt:1
	mkdir ctx
	for v in one two; do
		printf 'FROM cst-test/busybox:1\nLABEL dev.cst.test.cache=1\nRUN echo %s > /version\n' "$v" > ctx/Dockerfile
		docker build -q -t "$BUILT" ctx >/dev/null
		cat > v.yaml <<YAML
schemaVersion: 2.0.0
fileContentTests:
  - name: version
    path: /version
    expectedContents: ["^$v\\n\$"]
YAML
		for i in 1 2; do
			run_cst test --image "$BUILT" --config v.yaml
			echo "$output"
			[ "$status" -eq 0 ]
		done
	done
	[ "$(ls "$T/cache" | wc -l)" -eq 2 ]
}

@test "the least recently used indexes go past 64" {
	mkdir -p "$T/cache"
	for i in $(seq 1 70); do
		f=$(printf '%s/%064d-export.idx' "$T/cache" "$i")
		echo old > "$f"
		touch -d "2020-01-01 00:00:$((i % 60))" "$f"
	done
	run_cst test --image cst-test/busybox:1 --config passwd.yaml
	[ "$status" -eq 0 ]
	[ "$(ls "$T/cache" | wc -l)" -eq 64 ]
	# The index just saved is the most recent and stays.
	id=$(docker image inspect -f '{{.Id}}' cst-test/busybox:1)
	[ -f "$T/cache/${id#sha256:}-export.idx" ]
}
