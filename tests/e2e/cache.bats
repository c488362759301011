#!/usr/bin/env bats
# The index cache of the docker driver: a second run of an image answers its
# file tests from the saved index (no container), with the verdicts of the
# first; a cache that is missing, damaged, unwritable or lacks what a run
# wants only costs time.  And the per-layer cache of the tar driver's
# registry and archive sources: an image built on a base read before reads
# only its own layers, with the verdicts of a read without the cache.

setup_file() {
	. "$CST_TESTS/lib/run.sh"
	cst_engine_setup busybox || return $?
	# An image FROM the busybox image whose one layer deletes a file of
	# the base (a whiteout) and adds one.
	local ctx="$BATS_FILE_TMPDIR/derived"
	mkdir -p "$ctx"
	printf '%s\n' 'FROM cst-test/busybox:1' 'LABEL dev.cst.test.cache=1' \
		'RUN rm /etc/cst/hello.txt && echo new > /etc/cst/new.txt' >"$ctx/Dockerfile"
	docker build -q -t cst-test/cache-derived:1 "$ctx" >/dev/null
	start_registry "$BATS_FILE_TMPDIR/registry" || return $?
	echo "$REGISTRY" >"$BATS_FILE_TMPDIR/registry-address"
	local img
	for img in busybox:1 cache-derived:1; do
		docker tag "cst-test/$img" "$REGISTRY/cst-cache-test/$img"
		docker push -q "$REGISTRY/cst-cache-test/$img" >/dev/null
		docker rmi "$REGISTRY/cst-cache-test/$img" >/dev/null
	done
}

teardown_file() {
	local pid
	pid=$(cat "$BATS_FILE_TMPDIR/registry/pid" 2>/dev/null) && kill "$pid" 2>/dev/null || true
	docker rmi cst-test/cache-derived:1 >/dev/null 2>&1 || true
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

# --- per layer: the tar driver's registry and archive sources -------------

# A report's results without their timings (reports of one image from
# different sources differ in what they name).
results() {
	jq -c '[.Results[] | del(.Duration)]'
}

derived_config() {
	cat >"$T/derived.yaml" <<'YAML'
schemaVersion: 2.0.0
fileExistenceTests:
  - name: busybox from the base
    path: /bin/busybox
    permissions: -rwxr-xr-x
  - name: deleted by the top layer's whiteout
    path: /etc/cst/hello.txt
    shouldExist: false
  - name: deleted inside the base
    path: /etc/cst/gone.txt
    shouldExist: false
  - name: a failing one
    path: /no/such/file
fileContentTests:
  - name: the top layer's file
    path: /etc/cst/new.txt
    expectedContents: ["^new\\n$"]
  - name: a base file's contents
    path: /etc/os-release
    expectedContents: ["ID="]
YAML
}

registry_ref() { # image:tag
	echo "docker://$(cat "$BATS_FILE_TMPDIR/registry-address")/cst-cache-test/$1"
}

layer_digests() { # repo tag
	curl -fsS -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		"http://$(cat "$BATS_FILE_TMPDIR/registry-address")/v2/cst-cache-test/$1/manifests/$2" |
		jq -r '.layers[].digest'
}

# The tar driver on image $1 with the cache in $T/lc, as JSON verdicts in
# $T/$2.json; more flags after.
tar_run() { # image name flags...
	local image=$1 name=$2
	shift 2
	run_cst test --driver tar --image "$image" --config "$T/derived.yaml" -o json --cache-dir "$T/lc" -v info "$@"
	printf '%s' "$output" | results >"$T/$name.json"
}

@test "per layer: an image built on a cached base reads only its own layer from the registry, with the same verdicts" {
	derived_config
	run_cst test --driver tar --image "$(registry_ref cache-derived:1)" --config "$T/derived.yaml" -o json --no-cache
	[ "$status" -eq 1 ]
	printf '%s' "$output" | results >"$T/uncached.json"
	[ "$(jq '[.[] | select(.Pass)] | length' "$T/uncached.json")" -eq 5 ]

	tar_run "$(registry_ref busybox:1)" base
	echo "$errout"
	[ "$status" -eq 1 ]
	base=$(layer_digests busybox 1 | wc -l)
	[[ "$errout" == *"index cache: 0 of $base layers from the cache, $base from the registry"* ]]

	tar_run "$(registry_ref cache-derived:1)" derived
	echo "$errout"
	[ "$status" -eq 1 ]
	top=$(layer_digests cache-derived 1 | tail -n 1)
	[[ "$errout" == *"index cache: $base of $((base + 1)) layers from the cache, 1 from the registry"* ]]
	[[ "$errout" == *"index cache: layer $top read from the registry"* ]]
	for d in $(layer_digests busybox 1); do
		[[ "$errout" == *"index cache: layer $d read from $T/lc/${d#sha256:}.layer"* ]]
	done
	cmp "$T/uncached.json" "$T/derived.json"

	# With the base's blobs gone from the registry (from a repository of
	# its own, which the other tests do not read), only the cache can
	# answer them.
	REGISTRY=$(cat "$BATS_FILE_TMPDIR/registry-address")
	docker tag cst-test/cache-derived:1 "$REGISTRY/cst-cache-test/gone:1"
	docker push -q "$REGISTRY/cst-cache-test/gone:1" >/dev/null
	docker rmi "$REGISTRY/cst-cache-test/gone:1" >/dev/null
	for d in $(layer_digests busybox 1); do
		curl -fsS -X DELETE "http://$REGISTRY/v2/cst-cache-test/gone/blobs/$d" >/dev/null
		! curl -fsS -o /dev/null "http://$REGISTRY/v2/cst-cache-test/gone/blobs/$d"
	done
	tar_run "$(registry_ref gone:1)" again
	echo "$errout"
	[ "$status" -eq 1 ]
	[[ "$errout" == *"index cache: $((base + 1)) of $((base + 1)) layers from the cache, 0 from the registry"* ]]
	cmp "$T/uncached.json" "$T/again.json"
}

@test "per layer: OCI layouts and docker save archives; a base whose blobs are deleted is answered from the cache" {
	derived_config
	docker save cst-test/busybox:1 -o "$T/base.tar"
	docker save cst-test/cache-derived:1 -o "$T/derived.tar"
	/usr/bin/python3 "$CST_TESTS/registry/save2oci.py" "$T/base.tar" "$T/base-oci" >"$T/base-layers"
	/usr/bin/python3 "$CST_TESTS/registry/save2oci.py" "$T/derived.tar" "$T/derived-oci" >"$T/derived-layers"
	n=$(wc -l <"$T/derived-layers")
	run_cst test --driver tar --image "oci:$T/derived-oci" --config "$T/derived.yaml" -o json --no-cache
	[ "$status" -eq 1 ]
	printf '%s' "$output" | results >"$T/uncached.json"

	tar_run "oci:$T/base-oci" base
	[ "$status" -eq 1 ]
	while read -r d; do rm "$T/derived-oci/blobs/sha256/${d#sha256:}"; done <"$T/base-layers"
	tar_run "oci:$T/derived-oci" derived
	echo "$errout"
	[ "$status" -eq 1 ]
	[[ "$errout" == *"index cache: $((n - 1)) of $n layers from the cache, 1 from the archive"* ]]
	[[ "$errout" == *"index cache: layer $(tail -n 1 "$T/derived-layers") read from $T/derived-oci/blobs/sha256/"* ]]
	cmp "$T/uncached.json" "$T/derived.json"

	# The same layout as a tar: its top layer, dropped from the cache, is
	# read from the archive, checked and saved again.
	top=$(tail -n 1 "$T/derived-layers")
	rm "$T/lc/${top#sha256:}.layer"
	tar -C "$T/derived-oci" -cf "$T/derived-oci.tar" .
	tar_run "oci-archive:$T/derived-oci.tar" archived
	echo "$errout"
	[[ "$errout" == *"index cache: $((n - 1)) of $n layers from the cache, 1 from the archive"* ]]
	[[ "$errout" == *"index cache: layer $top saved as $T/lc/${top#sha256:}.layer"* ]]
	cmp "$T/uncached.json" "$T/archived.json"
	tar_run "oci-archive:$T/derived-oci.tar" archived
	[[ "$errout" == *"index cache: $n of $n layers from the cache, 0 from the archive"* ]]

	# docker save archives: layers named by the config's diff_ids.
	rm -rf "$T/lc"
	run_cst test --driver tar --image "docker-archive:$T/derived.tar" --config "$T/derived.yaml" -o json --no-cache
	printf '%s' "$output" | results >"$T/uncached-save.json"
	cmp "$T/uncached.json" "$T/uncached-save.json"
	tar_run "docker-archive:$T/base.tar" base
	[[ "$errout" == *"index cache: 0 of $((n - 1)) layers from the cache, $((n - 1)) from the archive"* ]]
	tar_run "docker-archive:$T/derived.tar" derived
	echo "$errout"
	[[ "$errout" == *"index cache: $((n - 1)) of $n layers from the cache, 1 from the archive"* ]]
	cmp "$T/uncached.json" "$T/derived.json"
	tar_run "docker-archive:$T/derived.tar" derived
	[[ "$errout" == *"index cache: $n of $n layers from the cache, 0 from the archive"* ]]
	cmp "$T/uncached.json" "$T/derived.json"
}

@test "per layer: a run that wants another file's contents reads that layer again; then both are answered" {
	derived_config
	tar_run "$(registry_ref cache-derived:1)" first
	echo "$errout"
	[ "$status" -eq 1 ]
	n=$(layer_digests cache-derived 1 | wc -l)
	[[ "$errout" == *"index cache: 0 of $n layers from the cache, $n from the registry"* ]]
	cat >"$T/passwd.yaml" <<'YAML'
schemaVersion: 2.0.0
fileContentTests:
  - name: root in passwd
    path: /etc/passwd
    expectedContents: ["^root:"]
YAML
	run_cst test --driver tar --image "$(registry_ref cache-derived:1)" --config "$T/passwd.yaml" --cache-dir "$T/lc" -v info
	echo "$errout"
	[ "$status" -eq 0 ]
	[[ "$errout" == *"lacks contents this run wants (/etc/passwd)"* ]]
	[[ "$errout" == *"index cache: $((n - 1)) of $n layers from the cache, 1 from the registry"* ]]
	run_cst test --driver tar --image "$(registry_ref cache-derived:1)" --config "$T/passwd.yaml" --cache-dir "$T/lc" -v info
	[ "$status" -eq 0 ]
	[[ "$errout" == *"index cache: $n of $n layers from the cache"* ]]
	tar_run "$(registry_ref cache-derived:1)" second
	[[ "$errout" == *"index cache: $n of $n layers from the cache"* ]]
	cmp "$T/first.json" "$T/second.json"
}

@test "per layer: a damaged saved layer is noted, read again from the source and saved again" {
	derived_config
	tar_run "$(registry_ref cache-derived:1)" first
	[ "$status" -eq 1 ]
	n=$(layer_digests cache-derived 1 | wc -l)
	d=$(layer_digests cache-derived 1 | head -n 1)
	f="$T/lc/${d#sha256:}.layer"
	python3 -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 0x55; open(p, "wb").write(b)' "$f"
	tar_run "$(registry_ref cache-derived:1)" damaged
	echo "$errout"
	[ "$status" -eq 1 ]
	[[ "$errout" == *"index cache: $f: "*"; not used"* ]]
	[[ "$errout" == *"index cache: layer $d read from the registry"* ]]
	[[ "$errout" == *"$((n - 1)) of $n layers from the cache"* ]]
	cmp "$T/first.json" "$T/damaged.json"
	tar_run "$(registry_ref cache-derived:1)" again
	[[ "$errout" == *"index cache: $n of $n layers from the cache"* ]]

	truncate -s 100 "$f"
	tar_run "$(registry_ref cache-derived:1)" truncated
	[[ "$errout" == *"index cache: $f: truncated; not used"* ]]
	cmp "$T/first.json" "$T/truncated.json"
}

@test "per layer: --cache-max evicts the least recently used files after a store" {
	derived_config
	mkdir -p "$T/lc"
	# Four old files of 256 KiB fill a 1 MiB cache: the layers saved next
	# push the oldest one out, and only it.
	for i in 1 2 3 4; do
		f=$(printf '%s/%064d.layer' "$T/lc" "$i")
		head -c 262144 /dev/zero >"$f"
		touch -d "2020-01-01 00:00:0$i" "$f"
	done
	tar_run "$(registry_ref cache-derived:1)" run --cache-max 1M
	echo "$errout"
	[ "$status" -eq 1 ]
	ls -l "$T/lc"
	[ ! -e "$(printf '%s/%064d.layer' "$T/lc" 1)" ]
	for i in 2 3 4; do [ -e "$(printf '%s/%064d.layer' "$T/lc" "$i")" ]; done
	for d in $(layer_digests cache-derived 1); do [ -e "$T/lc/${d#sha256:}.layer" ]; done
	[ "$(du -cb "$T"/lc/* | tail -n 1 | cut -f1)" -le 1048576 ]

	run_cst test --driver tar --image "$(registry_ref cache-derived:1)" --config "$T/derived.yaml" --cache-max 0
	[ "$status" -eq 2 ]
	[[ "$errout" == *"invalid value '0' for --cache-max"* ]]
}

@test "per layer: two runs at once on one cache directory both pass and leave whole files" {
	derived_config
	ref=$(registry_ref cache-derived:1)
	for i in 1 2; do
		"$CST" test --driver tar --image "$ref" --config "$T/derived.yaml" -o json --cache-dir "$T/lc" \
			>"$T/par$i.out" 2>"$T/par$i.err" &
		eval "pid$i=$!"
	done
	wait "$pid1" && s1=0 || s1=$?
	wait "$pid2" && s2=0 || s2=$?
	cat "$T/par1.err" "$T/par2.err"
	[ "$s1" -eq 1 ] && [ "$s2" -eq 1 ]
	results <"$T/par1.out" >"$T/p1.json"
	results <"$T/par2.out" >"$T/p2.json"
	cmp "$T/p1.json" "$T/p2.json"
	[ "$(jq '[.[] | select(.Pass)] | length' "$T/p1.json")" -eq 5 ]
	# No temporary file left, and every saved layer reads back whole.
	[ -z "$(ls -A "$T/lc" | grep -v '\.layer$')" ]
	n=$(layer_digests cache-derived 1 | wc -l)
	tar_run "$ref" after
	[[ "$errout" == *"index cache: $n of $n layers from the cache"* ]]
	cmp "$T/p1.json" "$T/after.json"
}
