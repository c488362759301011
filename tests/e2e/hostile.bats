#!/usr/bin/env bats
# Hostile and broken input: each case ends with a clear error or the
# correct result, within a time and memory bound (tests/hostile/bounded.py).
# Inputs come from tests/hostile/mkhostile.py at test time.  Cases tested
# elsewhere: a symlink loop, a symlink out of the root, a size field beyond
# the stream, a docker-save layer listed but missing (tests/e2e/tar.bats);
# a million entries and a forged size through the index API
# (tests/unit/test_fs.c); the nesting and alias limits one by one
# (tests/unit/test_config.c).

setup_file() {
	export H="$BATS_FILE_TMPDIR/hostile"
	/usr/bin/python3 "$CST_TESTS/hostile/mkhostile.py" "$H"
	/usr/bin/python3 "$CST_TESTS/fixtures/mkimages.py" "$H"
}

setup() {
	CST="${CST_BIN:?CST_BIN is set by meson test}"
	T="$BATS_TEST_TMPDIR"
	printf 'schemaVersion: 2.0.0\nfileExistenceTests:\n  - name: etc\n    path: /etc\n' >"$T/etc.yaml"
}

# cst_bounded SECONDS MIB IMAGE CONFIG [ARG...]: runs cst on a tar image.
cst_bounded() {
	local secs=$1 mib=$2 image=$3 config=$4
	shift 4
	run /usr/bin/python3 "$CST_TESTS/hostile/bounded.py" "$secs" "$mib" \
		"$CST" test --driver tar --image "$image" --config "$config" "$@"
	echo "status $status: ${output:0:2000}"
}

passes() {
	/usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["Pass"], r["Fail"])' "$1"
}

# --- configs ---------------------------------------------------------------

@test "10 MB of YAML loads and runs" {
	cst_bounded 60 1024 "$H/layered.tar" "$H/big.yaml" -q --output json --test-report "$T/r.json"
	[ "$status" -eq 0 ]
	[ "$(passes "$T/r.json")" = "5000 0" ]
}

@test "a config of more than a million values is refused, not a bomb" {
	cst_bounded 60 1024 "$H/layered.tar" "$H/many-values.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"many-values.yaml:400001:5: more than 1000000 values in one config"* ]]
}

@test "60,000 anchors and aliases load in bounded time" {
	cst_bounded 30 1024 "$H/layered.tar" "$H/anchors.yaml" -q --output json --test-report "$T/r.json"
	[ "$status" -eq 0 ]
	[ "$(passes "$T/r.json")" = "120000 0" ]
}

@test "100,000 nested YAML lists are a located error" {
	cst_bounded 30 512 "$H/layered.tar" "$H/deep.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"deep.yaml:2:67: nesting deeper than 64 levels"* ]]
}

@test "100,000 nested JSON lists are a located error" {
	cst_bounded 30 512 "$H/layered.tar" "$H/deep.json"
	[ "$status" -eq 2 ]
	[[ "$output" == *"deep.json:1:"*"maximum parsing depth"* ]]
}

@test "billion laughs stops at the alias limit" {
	cst_bounded 30 512 "$H/layered.tar" "$H/laughs.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"laughs.yaml:"*"aliases expand to more than 1000000 nodes (alias bomb?)"* ]]
}

@test "non-UTF-8 YAML is a located error" {
	cst_bounded 30 512 "$H/layered.tar" "$H/non-utf8.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"non-utf8.yaml:3:15: invalid YAML: invalid trailing UTF-8 octet"* ]]
}

@test "non-UTF-8 JSON is a located error" {
	cst_bounded 30 512 "$H/layered.tar" "$H/non-utf8.json"
	[ "$status" -eq 2 ]
	[[ "$output" == *"non-utf8.json:1:"*"unable to decode byte 0xe9"* ]]
}

@test "a NUL in a YAML string is kept, not a shorter string" {
	# "/etc\0/passwd" names no file (CST's engine refuses it); "/etc" would pass.
	cst_bounded 30 512 "$H/layered.tar" "$H/nul.yaml"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no such file or directory"* ]]
}

@test "a NUL in a JSON string is kept" {
	cst_bounded 30 512 "$H/layered.tar" "$H/nul.json"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no such file or directory"* ]]
}

@test "a config past the size limit is refused before it is parsed" {
	cst_bounded 30 512 "$H/layered.tar" "$H/huge.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"huge.yaml: config file larger than 64 MiB"* ]]
}

@test "catastrophic backtracking fails its test with a clear message, and the run goes on" {
	cst_bounded 30 512 "$H/aaa.tar" "$H/backtrack.yaml"
	[ "$status" -eq 1 ]
	[[ "$output" == *"regex '^(a+)+\$' gave up: match limit exceeded (the pattern backtracks too much on this input)"* ]]
	[[ "$output" == *"Passes:      1"* ]]
	[[ "$output" == *"Failures:    1"* ]]
}

# --- images ----------------------------------------------------------------

@test "an entry named ../../etc/passwd is refused" {
	cst_bounded 30 512 "$H/traversal.tar" "$T/etc.yaml" --test-report "$T/r.json"
	[ "$status" -eq 2 ]
	[[ "$output" == *"entry '../../etc/passwd': a '..' component would leave the image root"* ]]
	[ ! -e "$T/r.json" ]
}

@test "an absolute entry name lands inside the root" {
	printf 'schemaVersion: 2.0.0\nfileContentTests:\n  - name: abs\n    path: /etc/passwd\n    expectedContents: ["^image passwd\\n$"]\n' >"$T/abs.yaml"
	cst_bounded 30 512 "$H/absolute.tar" "$T/abs.yaml"
	[ "$status" -eq 0 ]
}

# The engine CST asks follows up to 255 links (the kernel 40).
@test "a 30-link symlink chain resolves, a 300-link one is a clear failure" {
	cat >"$T/chain.yaml" <<'YAML'
schemaVersion: 2.0.0
fileContentTests:
  - name: thirty links
    path: /c0
    expectedContents: ["end of the chain"]
  - name: three hundred links
    path: /d0
    expectedContents: ["end of the chain"]
YAML
	cst_bounded 30 512 "$H/chain.tar" "$T/chain.yaml"
	[ "$status" -eq 1 ]
	[[ "$output" == *"/d0: too many levels of symbolic links"* ]]
	[[ "$output" == *"Passes:      1"* ]]
}

@test "a hardlink to a later entry with nothing below is a clear error" {
	cst_bounded 30 512 "$H/hardlink-later.tar" "$T/etc.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"entry 'hard': hardlink to 'data', which does not exist"* ]]
}

@test "a hardlink to a later entry links what was there before, as the kernel would" {
	cat >"$T/hl.yaml" <<'YAML'
schemaVersion: 2.0.0
fileContentTests:
  - name: the link keeps what it linked to
    path: /hard
    expectedContents: ["^old\n$"]
  - name: the later entry replaced the name
    path: /data
    expectedContents: ["^new\n$"]
YAML
	cst_bounded 30 512 "$H/hardlink-later-lower.tar" "$T/hl.yaml"
	[ "$status" -eq 0 ]
}

deep_path() {
	/usr/bin/python3 -c 'import sys; print("/" + "d/" * int(sys.argv[1]) + sys.argv[2])' "$@"
}

@test "4,096 nested directories: found, and whited out" {
	local bottom
	bottom=$(deep_path 4096 bottom)
	cat >"$T/deep.yaml" <<YAML
schemaVersion: 2.0.0
fileContentTests:
  - name: the bottom file
    path: $bottom
    expectedContents: ["^4096 levels down"]
fileExistenceTests:
  - name: the deepest directory
    path: $(deep_path 4095 d)
    permissions: drwxr-xr-x
YAML
	cst_bounded 60 1024 "$H/deep-one.tar" "$T/deep.yaml"
	[ "$status" -eq 0 ]
	cat >"$T/gone.yaml" <<YAML
schemaVersion: 2.0.0
fileExistenceTests:
  - name: whited out with its top directory
    path: $bottom
    shouldExist: false
  - name: the top directory
    path: /d
    shouldExist: false
  - name: the whiteout layer's own file
    path: /after
YAML
	cst_bounded 60 1024 "$H/deep.tar" "$T/gone.yaml"
	[ "$status" -eq 0 ]
}

@test "a layer of 1,000,000 entries through the binary" {
	cat >"$T/million.yaml" <<'YAML'
schemaVersion: 2.0.0
fileExistenceTests:
  - name: the last entry
    path: /d0999/f998
    permissions: -rw-r--r--
  - name: nothing past it
    path: /d1000
    shouldExist: false
YAML
	cst_bounded 300 1536 "$H/million.tar" "$T/million.yaml"
	[ "$status" -eq 0 ]
}

@test "a whiteout for a path that never existed changes nothing" {
	cat >"$T/ghost.yaml" <<'YAML'
schemaVersion: 2.0.0
fileExistenceTests:
  - name: never there
    path: /ghost
    shouldExist: false
  - name: never there either
    path: /etc/never-there
    shouldExist: false
  - name: its directory stays
    path: /etc/passwd
YAML
	cst_bounded 30 512 "$H/layered.tar" "$T/ghost.yaml"
	[ "$status" -eq 0 ]
}

@test "an OCI layer listed but missing is a clear error" {
	cst_bounded 30 512 "$H/oci-missing-blob.tar" "$T/etc.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"oci-missing-blob.tar: layer 'blobs/sha256/"*"' is listed in the manifest but not in the archive"* ]]
}

@test "a manifest listing 100,000 layers is refused at once" {
	cst_bounded 30 512 "$H/many-layers.tar" "$T/etc.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"manifest.json lists 100000 layers; at most 1000 are supported"* ]]
}

@test "200,000 JSON entries beside an image cost no quadratic time" {
	cst_bounded 60 1024 "$H/many-json.tar.gz" "$T/etc.yaml"
	[ "$status" -eq 0 ]
}
