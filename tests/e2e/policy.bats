#!/usr/bin/env bats
# cst's policy extensions (fileSystemTests, layerTests, the file existence
# keys beyond CST's) on an image built here with every case, through the
# docker driver and the tar driver (a docker save of the same image).

setup_file() {
	. "$CST_TESTS/lib/run.sh"
	cst_engine_setup busybox
	export POLICY_IMAGE="cst-test/policy:$BATS_ROOT_PID"
	docker build -q --label "dev.cst.test.policy=$BATS_ROOT_PID" -t "$POLICY_IMAGE" \
		"$CST_TESTDATA/images/policy" >/dev/null
	export POLICY_TAR="$BATS_FILE_TMPDIR/policy.tar"
	docker save -o "$POLICY_TAR" "$POLICY_IMAGE"
}

teardown_file() {
	docker images -q --filter "label=dev.cst.test.policy=$BATS_ROOT_PID" | xargs -r docker rmi -f >/dev/null 2>&1 || true
}

setup() {
	. "$CST_TESTS/lib/run.sh"
	CST="${CST_BIN:?CST_BIN is set by meson test}"
	T="$BATS_TEST_TMPDIR"
}

# Runs the config in $T/c.yaml with both drivers; each must exit with $1.
# Their reports are in $T/docker.out and $T/tar.out, both in $output.
both() { # status [cst test flags]
	want=$1
	shift
	run_cst test --image "$POLICY_IMAGE" -c "$T/c.yaml" "$@"
	echo "docker driver: $status" >&2
	echo "$output" >"$T/docker.out"
	echo "$errout" >&2
	[ "$status" -eq "$want" ]
	[ "$(left_by "$pid")" -eq 0 ]
	run "$CST" test --driver tar --image "$POLICY_TAR" -c "$T/c.yaml" "$@"
	echo "tar driver: $status" >&2
	echo "$output" >"$T/tar.out"
	[ "$status" -eq "$want" ]
	output=$(cat "$T/docker.out" "$T/tar.out")
}

# Whether both reports hold the line.
in_both() { # text
	grep -qF -- "$1" "$T/docker.out" && grep -qF -- "$1" "$T/tar.out"
}

@test "file existence extensions pass: owner and group by the image's names, type, link target, size, sha256" {
	sum=$(printf 'app\n' | sha256sum | cut -d' ' -f1)
	cat >"$T/c.yaml" <<YAML
schemaVersion: 2.0.0
fileExistenceTests:
  - name: app binary
    path: /srv/app/app
    owner: app
    group: appgrp
    type: file
    size: 4
    maxSize: 20000000
    sha256: $sum
  - name: numbers name themselves
    path: /srv/app/app
    owner: "1001"
    group: "1002"
  - name: root's file
    path: /usr/bin/passwd
    owner: root
    group: root
  - name: link as itself
    path: /srv/app/current
    type: symlink
    linkTarget: app
  - name: link by regex
    path: /srv/app/current
    linkTarget: ^a.p$
    linkTargetIsRegex: true
  - name: digest through the link
    path: /srv/app/current
    sha256: sha256:$(echo "$sum" | tr a-f A-F)
  - name: directory
    path: /srv/app
    type: directory
    owner: app
  - name: fifo
    path: /var/empty/fifo
    type: fifo
YAML
	both 0
	in_both "Passes:      8"
}

@test "file existence extensions fail, each with what it expected and found" {
	cat >"$T/c.yaml" <<'YAML'
schemaVersion: 2.0.0
fileExistenceTests:
  - name: wrong owner and group
    path: /srv/app/app
    owner: root
    group: daemon
  - name: unknown names
    path: /srv/app/app
    owner: nosuchuser
    group: nosuchgroup
  - name: wrong type
    path: /srv/app/app
    type: directory
  - name: wrong link target
    path: /srv/app/current
    linkTarget: /srv/app/app
  - name: link target regex
    path: /srv/app/current
    linkTarget: ^/
    linkTargetIsRegex: true
  - name: not a link
    path: /srv/app/app
    linkTarget: app
  - name: wrong size
    path: /srv/app/app
    size: 5
  - name: too big
    path: /usr/bin/passwd
    maxSize: 1000
  - name: wrong sha256
    path: /srv/app/app
    sha256: 0000000000000000000000000000000000000000000000000000000000000000
YAML
	both 1
	in_both "Failures:    9"
	in_both "/srv/app/app has incorrect owner. Expected: root (0), Actual: 1001"
	in_both "/srv/app/app has incorrect group. Expected: daemon (1), Actual: 1002"
	in_both "/srv/app/app: no user 'nosuchuser' in the image's /etc/passwd"
	in_both "/srv/app/app: no group 'nosuchgroup' in the image's /etc/group"
	in_both "/srv/app/app has incorrect type. Expected: directory, Actual: file"
	in_both "/srv/app/current has incorrect link target. Expected: /srv/app/app, Actual: app"
	in_both "/srv/app/current has incorrect link target. Expected to match: ^/, Actual: app"
	in_both "/srv/app/app is not a symlink"
	in_both "/srv/app/app has incorrect size. Expected: 5, Actual: 4"
	in_both "/usr/bin/passwd is larger than allowed. Maximum: 1000"
	in_both "/srv/app/app has incorrect sha256. Expected: 0000000000000000000000000000000000000000000000000000000000000000, Actual: $(printf 'app\n' | sha256sum | cut -d' ' -f1)"
}

@test "file system tests pass when the image keeps the policy" {
	cat >"$T/c.yaml" <<'YAML'
schemaVersion: 2.0.0
fileSystemTests:
  - name: setuid and setgid allowlists
    paths: ["/**"]
    exclude: ["/proc/**", "/sys/**"]
    setuidAllowed: ["/usr/bin/passwd", "/usr/local/bin/*"]
    setgidAllowed: ["/usr/bin/wall"]
  - name: nothing world-writable but sticky directories
    noWorldWritable: true
    exclude: ["/srv/world.txt", "/srv/many/**"]
  - name: no secrets in etc
    paths: ["/etc/**"]
    mustNotExist: ["**/*.pem", "**/id_rsa", "**/.git"]
  - name: system files belong to root
    paths: ["/bin/**", "/usr/bin/**"]
    owner: root
    group: root
    uidRange: [0, 0]
    gidRange: [0, 999]
  - name: the app tree
    paths: ["/srv/app", "/srv/app/**"]
    owner: app
    group: appgrp
    uidRange: [1000, 1999]
    maxTotalSize: 4
YAML
	both 0
	in_both "Passes:      5"
}

@test "file system tests fail, listing the offending paths with mode, owner and size" {
	cat >"$T/c.yaml" <<'YAML'
schemaVersion: 2.0.0
fileSystemTests:
  - name: no setuid beyond the usual
    paths: ["/**"]
    exclude: ["/proc/**", "/sys/**"]
    setuidAllowed: ["/usr/bin/su"]
    setgidAllowed: []
  - name: nothing world-writable
    exclude: ["/srv/many/**"]
    noWorldWritable: true
  - name: not even sticky directories
    exclude: ["/srv/many/**"]
    noWorldWritable: true
    stickyWorldWritable: true
  - name: no secrets or caches
    paths: ["/**"]
    mustNotExist: ["**/*.pem", "**/id_rsa", "/var/lib/apt/lists/*_Packages"]
  - name: root owns srv
    paths: ["/srv/app/**"]
    owner: root
    group: root
    uidRange: [0, 999]
    gidRange: [0, 0]
  - name: small bin
    paths: ["/bin/**"]
    maxTotalSize: 1000
  - name: many offenders
    paths: ["/srv/many/*"]
    noWorldWritable: true
YAML
	both 1
	in_both "Failures:    7"
	in_both "File System Test: no setuid beyond the usual"
	in_both "setuid and not in setuidAllowed: 2 entries"
	in_both "  /usr/bin/passwd (urwxr-xr-x 0:0 "
	in_both "  /usr/local/bin/suid-box (urwxr-xr-x 0:0 "
	in_both "setgid and not in setgidAllowed: 1 entry"
	in_both "  /usr/bin/wall (grwxr-xr-x 0:0 0 bytes)"
	in_both "world-writable: 1 entry"
	in_both "  /srv/world.txt (-rw-rw-rw- 0:0 5 bytes)"
	in_both "world-writable: 3 entries"
	in_both "  /srv/sticky (dtrwxrwxrwx 0:0 0 bytes)"
	in_both "  /tmp (dtrwxrwxrwx 0:0 0 bytes)"
	in_both "matching mustNotExist: 2 entries"
	in_both "  /root/.ssh/id_rsa (-rw------- 0:0 4 bytes)"
	in_both "  /var/lib/apt/lists/mirror_debian_dists_bookworm_main_binary-amd64_Packages (-rw-r--r-- 0:0 5 bytes)"
	in_both "not owned by root (0): 2 entries"
	in_both "not in group root (0): 2 entries"
	in_both "with a uid outside uidRange: 2 entries"
	in_both "with a gid outside gidRange: 2 entries"
	in_both "  /srv/app/current (Lrwxrwxrwx 1001:1002 0 bytes)"
	in_both "maxTotalSize: the "
	in_both "world-writable: 25 entries"
	in_both "  /srv/many/f1 (-rw-rw-rw- 0:0 0 bytes)"
	in_both "  ... and 5 more"
	# The first 20 in path order: f1, f10..f19, f2, f20..f25, f3, f4.
	grep -qF "  /srv/many/f4 (" "$T/tar.out"
	! grep -qF "  /srv/many/f5 (" "$T/tar.out"
}

@test "owner by a name the image does not know fails the file system test" {
	cat >"$T/c.yaml" <<'YAML'
schemaVersion: 2.0.0
fileSystemTests:
  - name: by name
    paths: ["/srv/**"]
    owner: www-data
YAML
	both 1
	in_both "owner: no user 'www-data' in the image's /etc/passwd"
}

@test "every report format shows file system tests by name" {
	cat >"$T/c.yaml" <<'YAML'
schemaVersion: 2.0.0
fileSystemTests:
  - name: nothing world-writable
    noWorldWritable: true
    exclude: ["/srv/many/**"]
YAML
	for fmt in json junit tap html; do
		run "$CST" test --driver tar --image "$POLICY_TAR" -c "$T/c.yaml" -o "$fmt"
		[ "$status" -eq 1 ]
		[[ "$output" == *"File System Test: nothing world-writable"* ]]
		[[ "$output" == *"/srv/world.txt"* ]]
	done
}

# The diff IDs of the image's layers, bottom first.
diff_ids() {
	docker image inspect -f '{{ range .RootFS.Layers }}{{ println . }}{{ end }}' "$POLICY_IMAGE" | grep .
}

@test "layer tests pass: layer count, sizes, wasted bytes under the bounds, built on the approved base" {
	base=$(docker image inspect -f '{{ range .RootFS.Layers }}{{ println . }}{{ end }}' cst-test/busybox:1 | grep .)
	{
		echo "schemaVersion: 2.0.0"
		echo "layerTests:"
		echo "  maxLayers: $(diff_ids | wc -l)"
		echo "  maxImageSize: 20000000"
		echo "  maxLayerSize: 6000000"
		echo "  maxWastedBytes: 6000000"
		echo "  baseLayers:"
		echo "$base" | sed 's/^/    - /'
	} >"$T/c.yaml"
	run "$CST" test --driver tar --image "$POLICY_TAR" -c "$T/c.yaml"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Passes:      5"* ]]
	# The engine knows the layers' list and the image's size, not what
	# each layer removed.
	printf 'schemaVersion: 2.0.0\nlayerTests:\n  maxLayers: %s\n  maxImageSize: 20000000\n  baseLayers:\n%s\n' \
		"$(diff_ids | wc -l)" "$(echo "$base" | sed 's/^/    - /')" >"$T/c.yaml"
	both 0
	in_both "Layer Test: baseLayers"
}

@test "layer tests fail: a layer deletes a 5 MiB file an earlier layer added, too many layers, another base" {
	cat >"$T/c.yaml" <<'YAML'
schemaVersion: 2.0.0
layerTests:
  maxLayers: 2
  maxImageSize: 1000000
  maxLayerSize: 4000000
  maxWastedBytes: 1048576
  baseLayers: ["sha256:0000000000000000000000000000000000000000000000000000000000000000"]
YAML
	n=$(diff_ids | wc -l)
	first=$(diff_ids | head -1)
	big=$(diff_ids | sed -n "$((n - 1))p")
	rm_layer=$(diff_ids | sed -n "${n}p")
	run "$CST" test --driver tar --image "$POLICY_TAR" -c "$T/c.yaml"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Failures:    5"* ]]
	[[ "$output" == *"maxLayers: the image has $n layers, more than 2"* ]]
	[[ "$output" == *"maxImageSize: the image's layers hold "*" bytes, more than 1000000"* ]]
	[[ "$output" == *"maxLayerSize: layer $((n - 1)) ($big) holds 5242880 bytes (1 regular files), more than 4000000"* ]]
	[[ "$output" == *"maxWastedBytes: "*" bytes that layers added are removed or replaced by later ones, more than 1048576"* ]]
	[[ "$output" == *"layer $n ($rm_layer) removes or replaces 52431"* ]]
	[[ "$output" == *"baseLayers: layer 1 is $first, expected sha256:0000000000000000000000000000000000000000000000000000000000000000"* ]]
	# With the docker driver, what needs the layers one by one says it
	# cannot be measured, and fails.
	run_cst test --image "$POLICY_IMAGE" -c "$T/c.yaml"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"maxLayers: the image has $n layers, more than 2"* ]]
	[[ "$output" == *"maxWastedBytes: cannot be measured: the image's layers were not read one by one"* ]]
	[[ "$output" == *"maxLayerSize: cannot be measured"* ]]
	[[ "$output" == *"baseLayers: layer 1 is $first"* ]]
}

@test "validate --portable lists each cst extension with its place; plain validate accepts them" {
	cp "$CST_TESTDATA/configs/valid/v2-policy.yaml" "$T/c.yaml"
	run "$CST" validate "$T/c.yaml"
	[ "$status" -eq 0 ]
	[ "$output" = "$T/c.yaml: ok" ]
	run "$CST" validate --portable "$T/c.yaml"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$T/c.yaml:5:5: cst extension: owner in file existence test"* ]]
	[[ "$output" == *"$T/c.yaml:12:5: cst extension: linkTarget in file existence test"* ]]
	[[ "$output" == *"$T/c.yaml:18:1: cst extension: fileSystemTests in the config"* ]]
	[[ "$output" == *"$T/c.yaml:37:1: cst extension: layerTests in the config"* ]]
	[[ "$output" == *"$T/c.yaml: valid, but uses cst extensions that container-structure-test refuses"* ]]
	run "$CST" validate --portable "$CST_TESTDATA/configs/valid/v2-minimal.yml"
	[ "$status" -eq 0 ]
	[[ "$output" == *"v2-minimal.yml: ok" ]]
	# cst's older extension, a command test's timeout, is one too.
	run "$CST" validate --portable "$CST_TESTDATA/configs/valid/v2-full.yaml"
	[ "$status" -eq 1 ]
	[[ "$output" == *"v2-full.yaml:38:5: cst extension: timeout in command test"* ]]
	# A refused config is still exit status 2.
	printf 'schemaVersion: 2.0.0\nfileSystemTests:\n  - name: x\n    paths: ["/[a"]\n    noWorldWritable: true\n' >"$T/bad.yaml"
	run "$CST" validate --portable "$T/bad.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad.yaml:4:13: paths: glob '/[a': '[' at byte 2 is not closed"* ]]
}
