#!/usr/bin/env bats
# The tar driver reading images straight from a registry: Debian's
# docker-registry on 127.0.0.1 (images pushed by the engine, and an OCI
# index of two platforms uploaded through the API by mkindex.py), and a
# registry that misbehaves (tests/faults/fake-registry.py).

setup_file() {
	. "$CST_TESTS/lib/run.sh"
	cst_engine_setup busybox || return $?
	start_registry "$BATS_FILE_TMPDIR/registry" || return $?
	echo "$REGISTRY" >"$BATS_FILE_TMPDIR/registry-address"
	local ref="$REGISTRY/cst-registry-test/busybox:1"
	docker tag cst-test/busybox:1 "$ref"
	docker push -q "$ref" >/dev/null
	docker rmi "$ref" >/dev/null
	/usr/bin/python3 "$CST_TESTS/registry/mkindex.py" push "$REGISTRY" cst-registry-test/multi 1 \
		>"$BATS_FILE_TMPDIR/index-digest"
}

teardown_file() {
	local pid
	pid=$(cat "$BATS_FILE_TMPDIR/registry/pid" 2>/dev/null) && kill "$pid" 2>/dev/null || true
}

setup() {
	CST="${CST_BIN:?CST_BIN is set by meson test}"
	T="$BATS_TEST_TMPDIR"
	cd "$T"
	. "$CST_TESTS/lib/run.sh"
	REGISTRY=$(cat "$BATS_FILE_TMPDIR/registry-address")
	# No credentials of the user's: the registry is anonymous.
	export DOCKER_CONFIG="$T/docker-config"
}

teardown() {
	[ -z "${FAKE_PID:-}" ] || { kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null || true; }
	[ -z "${TLS_PID:-}" ] || { kill "$TLS_PID" 2>/dev/null; wait "$TLS_PID" 2>/dev/null || true; }
}

busybox_config() {
	cat >"$T/busybox.yaml" <<'YAML'
schemaVersion: 2.0.0
fileExistenceTests:
  - name: busybox
    path: /bin/busybox
    permissions: -rwxr-xr-x
  - name: sh link
    path: /bin/sh
  - name: gone in a later layer
    path: /etc/cst/gone.txt
    shouldExist: false
  - name: missing but wanted
    path: /etc/not-there
  - name: suid
    path: /usr/local/bin/suid-box
    permissions: -rwsr-xr-x
  - name: home owner
    path: /home/cst
    uid: 1000
fileContentTests:
  - name: hello
    path: /etc/cst/hello.txt
    expectedContents: ["hello"]
  - name: hello wrong
    path: /etc/cst/hello.txt
    expectedContents: ["^nothing like it$"]
metadataTest:
  workdir: /srv
  exposedPorts: ["8080", "53/udp"]
  volumes: ["/data"]
  cmd: ["sh"]
  envVars:
    - key: CST_IMAGE
      value: busybox
  labels:
    - key: dev.cst.test.image
      value: busybox
YAML
}

verdicts() { # report.json
	jq -c '[.Results[] | {Name, Pass}]' "$1"
}

start_fake() { # mode
	rm -f "$T/fake-port"
	/usr/bin/python3 "$CST_TESTS/faults/fake-registry.py" "$1" >"$T/fake-port" 2>"$T/fake-log" 3>&- &
	FAKE_PID=$!
	wait_for 60 test -s "$T/fake-port"
	FAKE="127.0.0.1:$(cat "$T/fake-port")"
}

@test "docker:// gives the docker driver's verdicts for the same image" {
	busybox_config
	run "$CST" test --driver docker --image cst-test/busybox:1 --config "$T/busybox.yaml" -o json \
		--test-report "$T/docker.json"
	[ "$status" -eq 1 ]
	run "$CST" test --driver tar --image "docker://$REGISTRY/cst-registry-test/busybox:1" \
		--config "$T/busybox.yaml" -o json --test-report "$T/registry.json"
	[ "$status" -eq 1 ]
	[ "$(verdicts "$T/docker.json")" = "$(verdicts "$T/registry.json")" ]
	# Both failures are the two written to fail, the rest passed.
	[ "$(jq '[.Results[] | select(.Pass | not) | .Name]' -c "$T/registry.json")" = \
		'["File Content Test: hello wrong","File Existence Test: missing but wanted"]' ]
	[ "$(jq .Pass "$T/registry.json")" -eq 7 ]
}

@test "a digest reference reads that manifest and checks it" {
	busybox_config
	digest=$(curl -fsS -o /dev/null -D - -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		"http://$REGISTRY/v2/cst-registry-test/busybox/manifests/1" | tr -d '\r' |
		awk 'tolower($1) == "docker-content-digest:" {print $2}')
	[[ "$digest" == sha256:* ]]
	run "$CST" test --driver tar --image "docker://$REGISTRY/cst-registry-test/busybox@$digest" \
		--config "$T/busybox.yaml" -o json --test-report "$T/r.json"
	[ "$status" -eq 1 ]
	[ "$(jq .Pass "$T/r.json")" -eq 7 ]
	other=sha256:$(printf '%064d' 0)
	run "$CST" test --driver tar --image "docker://$REGISTRY/cst-registry-test/busybox@$other" \
		--config "$T/busybox.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"manifest $other: not found in the registry (404)"* ]]
}

@test "a plain name with the tar driver: not a file, not in the engine, so the registry's, as in CST" {
	busybox_config
	! docker image inspect "$REGISTRY/cst-registry-test/busybox:1" >/dev/null 2>&1
	run "$CST" test --driver tar --image "$REGISTRY/cst-registry-test/busybox:1" --config "$T/busybox.yaml" \
		-o json --test-report "$T/r.json"
	[ "$status" -eq 1 ]
	[ "$(jq .Pass "$T/r.json")" -eq 7 ]
	run "$CST" test --driver tar --image "$REGISTRY/cst-registry-test/nothing:1" --config "$T/busybox.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"is not a file, the engine has no such image, and from the registry"*"(404)"* ]]
}

@test "a plain name the engine has is read from the engine first" {
	busybox_config
	run "$CST" test --driver tar --image cst-test/busybox:1 --config "$T/busybox.yaml" -o json \
		--test-report "$T/r.json" -v info
	[ "$status" -eq 1 ]
	[[ "$output" == *"(engine)"* ]]
	[ "$(jq .Pass "$T/r.json")" -eq 7 ]
	run "$CST" test --driver tar --image docker-daemon:cst-test/busybox:1 --config "$T/busybox.yaml" -v info
	[ "$status" -eq 1 ]
	[[ "$output" == *"(engine)"* ]]
}

@test "command tests with a registry image fail saying the tar driver cannot run commands" {
	cat >"$T/cmd.yaml" <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: echo
    command: echo
    args: ["hi"]
fileExistenceTests:
  - name: sh
    path: /bin/sh
YAML
	run "$CST" test --driver tar --image "docker://$REGISTRY/cst-registry-test/busybox:1" --config "$T/cmd.yaml" \
		-o json --test-report "$T/r.json"
	[ "$status" -eq 1 ]
	[ "$(jq -c '[.Results[] | {Name, Pass}]' "$T/r.json")" = \
		'[{"Name":"Command Test: echo","Pass":false},{"Name":"File Existence Test: sh","Pass":true}]' ]
	[[ "$(jq -r '.Results[0].Errors[0]' "$T/r.json")" == *"tar driver cannot run commands"*"--pull"* ]]
}

cmd_config() {
	cat >"$T/cmd.yaml" <<'YAML'
schemaVersion: 2.0.0
globalEnvVars:
  - key: GREETING
    value: hi
commandTests:
  - name: echo
    command: sh
    args: ["-c", "echo $GREETING"]
    expectedOutput: ["^hi\\n$"]
  - name: the image's own file
    command: cat
    args: ["/etc/cst/hello.txt"]
    expectedOutput: ["^hello from cst"]
  - name: wrong on purpose
    command: cat
    args: ["/etc/cst/hello.txt"]
    expectedOutput: ["^goodbye"]
fileExistenceTests:
  - name: sh
    path: /bin/sh
YAML
}

manifest_digest() { # repo tag
	curl -fsS -o /dev/null -D - -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		"http://$REGISTRY/v2/$1/manifests/$2" | tr -d '\r' |
		awk 'tolower($1) == "docker-content-digest:" {print $2}'
}

@test "--pull: command tests of a registry image run in the engine on the digest read, and its name goes after" {
	cmd_config
	repo=cst-registry-test/busybox
	digest=$(manifest_digest "$repo" 1)
	[[ "$digest" == sha256:* ]]
	# The engine has the image (cst-test/busybox:1, which was pushed), but
	# not by this name.
	! docker image inspect "$REGISTRY/$repo@$digest" >/dev/null 2>&1
	run_cst test --driver tar --image "docker://$REGISTRY/$repo:1" --config "$T/cmd.yaml" --pull -o json \
		--test-report "$T/r.json" -v info
	echo "$errout"
	[ "$status" -eq 1 ]
	[ "$(verdicts "$T/r.json")" = '[{"Name":"Command Test: echo","Pass":true},{"Name":"Command Test: the image'"'"'s own file","Pass":true},{"Name":"Command Test: wrong on purpose","Pass":false},{"Name":"File Existence Test: sh","Pass":true}]' ]
	[[ "$errout" == *"command tests run in the engine on $REGISTRY/$repo@$digest (pulled)"* ]]
	# The name the pull added is gone; the image the engine had stays.
	! docker image inspect "$REGISTRY/$repo@$digest" >/dev/null 2>&1
	docker image inspect cst-test/busybox:1 >/dev/null
	[ "$(left_by "$pid")" -eq 0 ]
	# Only a registry image is pulled so.
	run "$CST" test --driver tar --image docker-daemon:cst-test/busybox:1 --config "$T/cmd.yaml" --pull
	[ "$status" -eq 2 ]
	[[ "$output" == *"--pull with the tar driver pulls a registry image"*"is not one (engine image)"* ]]
}

@test "--pull: an image the engine did not have is pulled for the command tests and removed after" {
	cmd_config
	repo=cst-registry-test/fresh-$$
	# A config of its own (a label), so an image ID the engine has not seen.
	printf 'FROM cst-test/busybox:1\nLABEL dev.cst.test.fresh=%s\n' "$$-$(date +%s%N)" |
		docker build -q -t "$REGISTRY/$repo:1" - >/dev/null
	id=$(docker image inspect -f '{{.Id}}' "$REGISTRY/$repo:1")
	docker push -q "$REGISTRY/$repo:1" >/dev/null
	docker rmi "$REGISTRY/$repo:1" >/dev/null
	! docker image inspect "$id" >/dev/null 2>&1
	# A plain name: with --pull, the registry's (not the engine's first).
	run_cst test --driver tar --image "$REGISTRY/$repo:1" --config "$T/cmd.yaml" --pull -o json \
		--test-report "$T/r.json" -v info
	echo "$errout"
	[ "$status" -eq 1 ]
	[ "$(jq -c '[.Pass, .Fail]' "$T/r.json")" = '[3,1]' ]
	[[ "$errout" == *"opened $REGISTRY/$repo:1 (registry)"* ]]
	[[ "$errout" == *"(pulled)"* ]]
	! docker image inspect "$id" >/dev/null 2>&1
	[ "$(left_by "$pid")" -eq 0 ]
}

@test "--pull without an engine: command tests of a registry image fail saying why, the rest runs" {
	cmd_config
	DOCKER_HOST="unix://$T/no-engine.sock" run "$CST" test --driver tar \
		--image "docker://$REGISTRY/cst-registry-test/busybox:1" --config "$T/cmd.yaml" --pull -o json \
		--test-report "$T/r.json"
	[ "$status" -eq 1 ]
	[ "$(jq -c '[.Pass, .Fail]' "$T/r.json")" = '[1,3]' ]
	[[ "$(jq -r '.Results[0].Errors[0]' "$T/r.json")" == *"no engine answers to pull the image into for --pull: "*"no-engine.sock"* ]]
}

platform_config() { # arch
	cat >"$T/$1.yaml" <<YAML
schemaVersion: 2.0.0
fileContentTests:
  - name: platform file
    path: /etc/platform
    expectedContents: ["$1"]
fileExistenceTests:
  - name: whiteout of a lower layer
    path: /etc/gone
    shouldExist: false
  - name: base layer
    path: /etc/base
  - name: own layer
    path: /etc/only-$1
metadataTest:
  workdir: /etc
  envVars:
    - key: PLATFORM
      value: $1
YAML
}

@test "--platform chooses from a two-platform OCI index (gzip, zstd and plain layers)" {
	platform_config amd64
	platform_config arm64
	for arch in amd64 arm64; do
		run "$CST" test --driver tar --image "docker://$REGISTRY/cst-registry-test/multi:1" \
			--platform "linux/$arch" --config "$T/$arch.yaml" -o json --test-report "$T/$arch.json"
		[ "$status" -eq 0 ]
		[ "$(jq .Pass "$T/$arch.json")" -eq 5 ]
	done
	# The other platform's answers differ where they should.
	run "$CST" test --driver tar --image "docker://$REGISTRY/cst-registry-test/multi:1" \
		--platform linux/amd64 --config "$T/arm64.yaml" -o json --test-report "$T/cross.json"
	[ "$status" -eq 1 ]
	[ "$(jq .Fail "$T/cross.json")" -eq 3 ]
	run "$CST" test --driver tar --image "docker://$REGISTRY/cst-registry-test/multi:1" \
		--platform linux/s390x --config "$T/arm64.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"no image for platform linux/s390x"*"(it has: linux/amd64, linux/arm64)"* ]]
	# By the index's digest too.
	digest=$(cat "$BATS_FILE_TMPDIR/index-digest")
	run "$CST" test --driver tar --image "docker://$REGISTRY/cst-registry-test/multi@$digest" \
		--platform linux/arm64 --config "$T/arm64.yaml"
	[ "$status" -eq 0 ]
}

@test "oci:DIR:REF and oci-archive:PATH:REF choose the image the layout names" {
	platform_config arm64
	/usr/bin/python3 "$CST_TESTS/registry/mkindex.py" layout "$T/layout" app
	run "$CST" test --driver tar --image "oci:$T/layout:app-arm64" --config "$T/arm64.yaml"
	[ "$status" -eq 0 ]
	run "$CST" test --driver tar --image "oci:$T/layout:app" --platform linux/arm64 --config "$T/arm64.yaml"
	[ "$status" -eq 0 ]
	tar -C "$T/layout" -cf "$T/layout.tar" .
	run "$CST" test --driver tar --image "oci-archive:$T/layout.tar:app-arm64" --config "$T/arm64.yaml"
	[ "$status" -eq 0 ]
	run "$CST" test --driver tar --image "oci:$T/layout:app-amd64" --config "$T/arm64.yaml"
	[ "$status" -eq 1 ]
	run "$CST" test --driver tar --image "oci:$T/layout:nope" --config "$T/arm64.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"index.json names no image 'nope' (it has: app-amd64, app-arm64, app)"* ]]
}

# --platform all: the amd64 config passes on amd64 and fails three times on
# arm64 (its platform file, its own layer, its env); the whiteout and the
# base layer pass on both.
all_verdicts() { # report.json
	jq -r '.Results[] | "\(.Pass) \(.Name)"' "$1"
}

platform_all_expected() {
	cat <<'EOF'
true [linux/amd64] File Content Test: platform file
true [linux/amd64] File Existence Test: whiteout of a lower layer
true [linux/amd64] File Existence Test: base layer
true [linux/amd64] File Existence Test: own layer
true [linux/amd64] Metadata Test
false [linux/arm64] File Content Test: platform file
true [linux/arm64] File Existence Test: whiteout of a lower layer
true [linux/arm64] File Existence Test: base layer
false [linux/arm64] File Existence Test: own layer
false [linux/arm64] Metadata Test
EOF
}

check_platform_all() { # image
	platform_config amd64
	run "$CST" test --driver tar --image "$1" --platform all --config "$T/amd64.yaml" -o json \
		--test-report "$T/all.json"
	[ "$status" -eq 1 ]
	[ "$(all_verdicts "$T/all.json")" = "$(platform_all_expected)" ]
	[ "$(jq -c '[.Pass, .Fail, .Total]' "$T/all.json")" = '[7,3,10]' ]
	# Both platforms, never the attestation; no one image ID for two images.
	[ "$(jq -r .Provenance.Platform "$T/all.json")" = "linux/amd64, linux/arm64" ]
	[ "$(jq '.Provenance | has("ImageID")' "$T/all.json")" = false ]
	# What both platforms share passes: exit 0.
	cat >"$T/both.yaml" <<'YAML'
schemaVersion: 2.0.0
fileExistenceTests:
  - name: base layer
    path: /etc/base
  - name: whiteout of a lower layer
    path: /etc/gone
    shouldExist: false
YAML
	run "$CST" test --driver tar --image "$1" --platform all --config "$T/both.yaml" -o json --test-report "$T/both.json"
	[ "$status" -eq 0 ]
	[ "$(jq -r '.Results[].Name' "$T/both.json" | sed 's/ .*//' | sort | uniq -c | tr -s ' ')" = \
		"$(printf ' 2 [linux/amd64]\n 2 [linux/arm64]')" ]
}

@test "--platform all runs each platform of a registry index, results named with it, one exit status" {
	check_platform_all "docker://$REGISTRY/cst-registry-test/multi:1"
	# By the index's digest, and as a plain name (the registry's: an engine
	# image has one platform).
	digest=$(cat "$BATS_FILE_TMPDIR/index-digest")
	run "$CST" test --driver tar --image "docker://$REGISTRY/cst-registry-test/multi@$digest" --platform all \
		--config "$T/amd64.yaml" -o json --test-report "$T/digest.json"
	[ "$status" -eq 1 ]
	[ "$(all_verdicts "$T/digest.json")" = "$(platform_all_expected)" ]
	run "$CST" test --driver tar --image "$REGISTRY/cst-registry-test/multi:1" --platform all \
		--config "$T/amd64.yaml" -o json --test-report "$T/plain.json"
	[ "$status" -eq 1 ]
	[ "$(all_verdicts "$T/plain.json")" = "$(platform_all_expected)" ]
}

@test "--platform all on an OCI layout: oci:DIR:REF, oci-archive:PATH:REF and oci:DIR" {
	/usr/bin/python3 "$CST_TESTS/registry/mkindex.py" layout "$T/layout" app
	check_platform_all "oci:$T/layout:app"
	tar -C "$T/layout" -cf "$T/layout.tar" .
	check_platform_all "oci-archive:$T/layout.tar:app"
	# index.json itself: the two images it names; the nested index beside
	# them names no platform, and --platform could not choose it either.
	check_platform_all "oci:$T/layout"
	# A layout given to --driver tar as a path.
	run "$CST" test --driver tar --image "$T/layout" --platform all --config "$T/amd64.yaml" -o json \
		--test-report "$T/path.json"
	[ "$status" -eq 1 ]
	[ "$(all_verdicts "$T/path.json")" = "$(platform_all_expected)" ]
}

@test "--platform all on one image (not an index) runs it once, named with its config's platform" {
	platform_config arm64
	/usr/bin/python3 "$CST_TESTS/registry/mkindex.py" layout "$T/layout" app
	run "$CST" test --driver tar --image "oci:$T/layout:app-arm64" --platform all --config "$T/arm64.yaml" -o json \
		--test-report "$T/one.json"
	[ "$status" -eq 0 ]
	[ "$(jq -r '[.Results[].Name | startswith("[linux/arm64] ")] | all' "$T/one.json")" = true ]
	[ "$(jq .Total "$T/one.json")" -eq 5 ]
	[ "$(jq -r .Provenance.Platform "$T/one.json")" = linux/arm64 ]
	# The engine's push: a single Docker manifest of the host's platform.
	busybox_config
	run "$CST" test --driver tar --image "docker://$REGISTRY/cst-registry-test/busybox:1" --platform all \
		--config "$T/busybox.yaml" -o json --test-report "$T/busybox.json"
	[ "$status" -eq 1 ]
	[ "$(jq .Pass "$T/busybox.json")" -eq 7 ]
	arch=$(docker image inspect -f '{{.Os}}/{{.Architecture}}' cst-test/busybox:1)
	[ "$(jq -r --arg p "[$arch] " '[.Results[].Name | startswith($p)] | all' "$T/busybox.json")" = true ]
}

@test "--platform all: JUnit, TAP, HTML and text reports name each platform's results; command tests fail per platform" {
	platform_config amd64
	cat "$T/amd64.yaml" - >"$T/cmd.yaml" <<'YAML'
commandTests:
  - name: echo
    command: echo
    args: ["hi"]
YAML
	image="docker://$REGISTRY/cst-registry-test/multi:1"
	run "$CST" test --driver tar --image "$image" --platform all --config "$T/cmd.yaml" -o junit \
		--test-report "$T/r.xml"
	[ "$status" -eq 1 ]
	xmllint --noout --schema "$CST_TESTS/junit/junit.xsd" "$T/r.xml"
	[ "$(xmllint --xpath 'count(//testcase)' "$T/r.xml")" -eq 12 ]
	[ "$(xmllint --xpath 'count(//testcase[failure])' "$T/r.xml")" -eq 5 ]
	[ "$(xmllint --xpath 'count(//testcase[starts-with(@name, "[linux/arm64] ")])' "$T/r.xml")" -eq 6 ]
	[ "$(xmllint --xpath 'count(//testcase[@name="[linux/amd64] Command Test: echo"]/failure)' "$T/r.xml")" -eq 1 ]
	run "$CST" test --driver tar --image "$image" --platform all --config "$T/cmd.yaml" -o json \
		--test-report "$T/r.json"
	[ "$status" -eq 1 ]
	[ "$(jq -r '.Results[] | select(.Name | endswith("Command Test: echo")) | "\(.Name): \(.Errors[0])"' \
		"$T/r.json")" = "$(printf '%s\n' \
		"[linux/amd64] Command Test: echo: the tar driver cannot run commands: use the docker driver for command tests" \
		"[linux/arm64] Command Test: echo: the tar driver cannot run commands: use the docker driver for command tests")" ]
	run "$CST" test --driver tar --image "$image" --platform all --config "$T/amd64.yaml" -o tap \
		--test-report "$T/r.tap"
	[ "$status" -eq 1 ]
	grep -qx '1\.\.10' "$T/r.tap"
	[ "$(grep -c '^not ok ' "$T/r.tap")" -eq 3 ]
	grep -q '^not ok .*\[linux/arm64\] File Existence Test: own layer' "$T/r.tap"
	run "$CST" test --driver tar --image "$image" --platform all --config "$T/amd64.yaml" -o html \
		--test-report "$T/r.html"
	[ "$status" -eq 1 ]
	grep -q '\[linux/arm64\] Metadata Test' "$T/r.html"
	run "$CST" test --driver tar --image "$image" --platform all --config "$T/amd64.yaml" --no-color
	[ "$status" -eq 1 ]
	[[ "$output" == *"[linux/amd64] File Existence Test: own layer"*"[linux/arm64] File Existence Test: own layer"* ]]
}

@test "--platform all needs an image index: the docker driver and engine images are usage errors" {
	platform_config amd64
	run "$CST" test --driver docker --image cst-test/busybox:1 --platform all --config "$T/amd64.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--platform all needs an image index: use the tar driver with a registry"* ]]
	run "$CST" test --image-from-oci-layout "$T" --platform all --config "$T/amd64.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--platform all needs an image index"* ]]
	run "$CST" test --driver tar --image docker-daemon:cst-test/busybox:1 --platform all --config "$T/amd64.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--platform all needs an image index: the engine's image cst-test/busybox:1 has one platform"* ]]
}

@test "docker-archive:PATH reads a docker save archive" {
	busybox_config
	docker save cst-test/busybox:1 -o "$T/busybox.tar"
	run "$CST" test --driver tar --image "docker-archive:$T/busybox.tar" --config "$T/busybox.yaml" -o json \
		--test-report "$T/r.json"
	[ "$status" -eq 1 ]
	[ "$(jq .Pass "$T/r.json")" -eq 7 ]
	run "$CST" test --driver tar --image "docker-archive:$T/busybox.tar:cst-test/busybox:1" --config "$T/busybox.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"choosing an image inside a docker-archive is not supported"* ]]
}

# A hostile registry: each fault a clear error naming what, exit 2, within
# bounded time (timeout(1) is the bound; the runs take well under it).
fault() { # mode expected-message
	start_fake "$1"
	run timeout 120 "$CST" test --driver tar --image "docker://$FAKE/x:1" --config "$T/sh.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"$2"* ]]
}

sh_config() {
	cat >"$T/sh.yaml" <<'YAML'
schemaVersion: 2.0.0
fileExistenceTests:
  - name: hello
    path: /hello
YAML
}

@test "fault-free fake registry: the run passes (the faults below are the only difference)" {
	sh_config
	start_fake ok
	run "$CST" test --driver tar --image "docker://$FAKE/x:1" --config "$T/sh.yaml"
	[ "$status" -eq 0 ]
}

@test "a layer whose bytes are not its digest is an error naming the digest" {
	sh_config
	fault wrong-digest "digest mismatch: expected sha256:"
	[[ "$output" == *"layer sha256:"* ]]
}

@test "a truncated layer is an error" {
	sh_config
	fault truncated "transfer closed with"
}

@test "a 10 GB Content-Length for a small layer ends the transfer" {
	sh_config
	fault huge-length "the registry sends more than the"
}

@test "endless redirects stop at the redirect bound" {
	sh_config
	fault redirects "more than 8 redirects"
}

@test "a 429 storm is retried a bounded number of times, then an error" {
	sh_config
	fault 429 "the registry answers 429 (TOOMANYREQUESTS: slow down)"
	# The first try and four retries of the manifest, after the ping.
	[ "$(grep -c '/manifests/' "$T/fake-log")" -eq 5 ]
}

@test "a manifest of 5,000 layers and one of 13 MB are refused" {
	sh_config
	fault many-layers "lists 5000 layers; at most 1000 are supported"
	teardown
	FAKE_PID=
	fault huge-manifest "the registry sends more than the 4194304 bytes expected"
}

# bounded SECONDS MIB ARG...: cst within a CPU time and memory bound
# (tests/hostile/bounded.py: 124 past the time, 125 past the memory).
bounded() {
	local secs=$1 mib=$2
	shift 2
	run /usr/bin/python3 "$CST_TESTS/hostile/bounded.py" "$secs" "$mib" "$CST" "$@"
}

@test "manifests of 100,000 layers are refused within a time and memory bound, however they are sent" {
	sh_config
	# 300 KB of "{}" layers: parsed, then refused by the count.
	start_fake compact-layers
	# (20-40 MiB here; the bound leaves room for a sanitizer build's
	# redzones, and still ends a read that grows with the layers.)
	bounded 10 256 test --driver tar --image "docker://$FAKE/x:1" --config "$T/sh.yaml"
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"lists 100000 layers; at most 1000 are supported"* ]]
	teardown
	# 13 MB, with and without a Content-Length: refused at the size bound,
	# before or while the body comes.
	for mode in huge-manifest huge-manifest-unsized; do
		start_fake "$mode"
		bounded 10 256 test --driver tar --image "docker://$FAKE/x:1" --config "$T/sh.yaml"
		[ "$status" -eq 2 ]
		[[ "$output" == *"manifest 1: the registry sends more than the 4194304 bytes expected"* ]]
		teardown
	done
	FAKE_PID=
}

@test "a gzip bomb ends at the bound on the image's uncompressed bytes, naming the layer; nothing is cached" {
	sh_config
	# 8 MB of gzip that inflates to 8 GiB, against a bound of 256 MiB.
	start_fake gzip-bomb
	bounded 60 128 test --driver tar --image "docker://$FAKE/x:1" --config "$T/sh.yaml" \
		--registry-max-size 256M --cache-dir "$T/cache"
	[ "$status" -eq 2 ]
	[[ "$output" == *"layer sha256:"*" expands past 268435456 bytes uncompressed, the bound for the whole image"* ]]
	[[ "$output" == *"--registry-max-size raises it"* ]]
	[ -z "$(ls -A "$T/cache" 2>/dev/null)" ]
	run "$CST" test --driver tar --image "docker://$FAKE/x:1" --config "$T/sh.yaml" --registry-max-size 0
	[ "$status" -eq 2 ]
	[[ "$output" == *"invalid value '0' for --registry-max-size"* ]]
}

@test "a slow-loris layer (a byte every 0.2 s) is given up on at the low-speed bound, naming the layer" {
	sh_config
	start_fake slow-loris
	# The bound, not the time it takes, is what is checked: timeout(1) only
	# keeps a broken build from hanging the suite.
	CST_REGISTRY_LOW_SPEED=1000:5 run timeout 300 "$CST" test --driver tar --image "docker://$FAKE/x:1" \
		--config "$T/sh.yaml" --cache-dir "$T/cache"
	[ "$status" -eq 2 ]
	[[ "$output" == *"layer sha256:"*": the registry sends less than 1000 bytes a second for 5 s"* ]]
	[ -z "$(ls -A "$T/cache" 2>/dev/null)" ]
	CST_REGISTRY_LOW_SPEED=fast run "$CST" test --driver tar --image "docker://$FAKE/x:1" --config "$T/sh.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"CST_REGISTRY_LOW_SPEED='fast': expected BYTES:SECONDS"* ]]
}

@test "transport names: a transport without anything after it is a usage error" {
	sh_config
	run "$CST" test --driver tar --image "docker://" --config "$T/sh.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"nothing after the transport"* ]]
	run "$CST" test --driver tar --image "docker://$REGISTRY/UPPER:1" --config "$T/sh.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"expected [HOST[:PORT]/]NAME[:TAG][@sha256:DIGEST]"* ]]
}

# A second docker-registry over TLS with htpasswd (bcrypt) Basic auth,
# serving a copy of the first one's storage; its CA and certificate made
# here with openssl.
start_tls_registry() {
	local d="$T/tls" try port
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 \
		-subj "/CN=cst test CA" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -keyout "$d/srv.key" -out "$d/srv.csr" -subj "/CN=127.0.0.1" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\n' >"$d/ext"
	openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -out "$d/srv.crt" \
		-days 2 -extfile "$d/ext" 2>/dev/null
	/usr/bin/python3 -W ignore -c \
		"import crypt; print('tester:' + crypt.crypt('s3cret', crypt.mksalt(crypt.METHOD_BLOWFISH)))" \
		>"$d/htpasswd"
	cp -r "$BATS_FILE_TMPDIR/registry/data" "$d/data"
	for try in 1 2 3 4 5; do
		port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
		cat >"$d/config.yml" <<-YAML
		version: 0.1
		log:
		  level: warn
		storage:
		  filesystem:
		    rootdirectory: $d/data
		auth:
		  htpasswd:
		    realm: cst-test
		    path: $d/htpasswd
		http:
		  addr: 127.0.0.1:$port
		  tls:
		    certificate: $d/srv.crt
		    key: $d/srv.key
		YAML
		docker-registry serve "$d/config.yml" >"$d/log" 2>&1 3>&- &
		TLS_PID=$!
		TLS_REGISTRY=127.0.0.1:$port
		# 401: it answers, and wants credentials.
		wait_for 120 sh -c "[ \"\$(curl -sS --cacert $d/ca.crt -o /dev/null -w '%{http_code}' https://$TLS_REGISTRY/v2/)\" = 401 ] || ! kill -0 $TLS_PID 2>/dev/null"
		[ "$(curl -sS --cacert "$d/ca.crt" -o /dev/null -w '%{http_code}' "https://$TLS_REGISTRY/v2/")" = 401 ] &&
			return 0
		kill "$TLS_PID" 2>/dev/null || true
	done
	cat "$d/log" >&2
	return 1
}

@test "TLS with --registry-ca and Basic credentials from DOCKER_CONFIG" {
	busybox_config
	start_tls_registry
	ref="docker://$TLS_REGISTRY/cst-registry-test/busybox:1"
	# Not trusted without the CA; no fallback to plain HTTP then.
	run "$CST" test --driver tar --image "$ref" --config "$T/busybox.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"certificate"*"--registry-ca"* ]]
	# Trusted, but no credentials.
	run "$CST" test --driver tar --image "$ref" --config "$T/busybox.yaml" --registry-ca "$T/tls/ca.crt"
	[ "$status" -eq 2 ]
	[[ "$output" == *"wants a user name and password: none is in docker's config.json"* ]]
	mkdir -p "$DOCKER_CONFIG"
	printf '{"auths":{"%s":{"auth":"%s"}}}' "$TLS_REGISTRY" "$(printf tester:wrong | base64)" \
		>"$DOCKER_CONFIG/config.json"
	run "$CST" test --driver tar --image "$ref" --config "$T/busybox.yaml" --registry-ca "$T/tls/ca.crt"
	[ "$status" -eq 2 ]
	[[ "$output" == *"refuses the credentials of docker's config.json (401)"* ]]
	printf '{"auths":{"https://%s":{"auth":"%s"}}}' "$TLS_REGISTRY" "$(printf tester:s3cret | base64)" \
		>"$DOCKER_CONFIG/config.json"
	run "$CST" test --driver tar --image "$ref" --config "$T/busybox.yaml" --registry-ca "$T/tls/ca.crt" \
		-o json --test-report "$T/r.json"
	[ "$status" -eq 1 ]
	[ "$(jq .Pass "$T/r.json")" -eq 7 ]
}

@test "the Bearer token flow: a token for the repository's pull scope, asked for with the config's credentials" {
	sh_config
	start_fake bearer
	run "$CST" test --driver tar --image "docker://$FAKE/x:1" --config "$T/sh.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"getting a token from http://$FAKE/token"*"401"* ]]
	mkdir -p "$DOCKER_CONFIG"
	printf '{"auths":{"%s":{"auth":"%s"}}}' "$FAKE" "$(printf tester:s3cret | base64)" >"$DOCKER_CONFIG/config.json"
	run "$CST" test --driver tar --image "docker://$FAKE/x:1" --config "$T/sh.yaml"
	[ "$status" -eq 0 ]
	# One token for the run: asked for once more only because the ping's
	# challenge names no scope.
	[ "$(grep -c '/token?' "$T/fake-log")" -le 3 ]
}

@test "an identity token of docker's config.json is traded for a token with the OAuth2 refresh form" {
	sh_config
	start_fake bearer
	mkdir -p "$DOCKER_CONFIG"
	# As docker login writes it for a registry that hands out refresh
	# tokens: the user name without a password, and the token.
	printf '{"auths":{"%s":{"auth":"%s","identitytoken":"r3fresh"}}}' "$FAKE" "$(printf tester: | base64)" \
		>"$DOCKER_CONFIG/config.json"
	run "$CST" test --driver tar --image "docker://$FAKE/x:1" --config "$T/sh.yaml"
	[ "$status" -eq 0 ]
	grep -q ' POST /token ' "$T/fake-log"
	! grep -q ' GET /token' "$T/fake-log"
	# From a credential helper, an identity token is the secret of the
	# user "<token>".
	mkdir -p "$T/bin"
	printf '#!/bin/sh\necho %s\n' "'{\"ServerURL\":\"$FAKE\",\"Username\":\"<token>\",\"Secret\":\"r3fresh\"}'" \
		>"$T/bin/docker-credential-cstfake"
	chmod +x "$T/bin/docker-credential-cstfake"
	printf '{"credsStore":"cstfake"}' >"$DOCKER_CONFIG/config.json"
	PATH="$T/bin:$PATH" run "$CST" test --driver tar --image "docker://$FAKE/x:1" --config "$T/sh.yaml"
	[ "$status" -eq 0 ]
	# A token the server does not take: an error saying what was tried.
	printf '{"auths":{"%s":{"identitytoken":"stale"}}}' "$FAKE" >"$DOCKER_CONFIG/config.json"
	run "$CST" test --driver tar --image "docker://$FAKE/x:1" --config "$T/sh.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"trading the identity token of docker's config.json for a token at http://$FAKE/token"*"401"* ]]
}

@test "plain HTTP only for loopback or --insecure-registry" {
	sh_config
	# The host's own address, which is not loopback: HTTPS only, unless
	# named with --insecure-registry.
	addr=$(hostname -I | awk '{print $1}')
	[ -n "$addr" ]
	FAKE_BIND=0.0.0.0 start_fake ok
	port=${FAKE#*:}
	run timeout 120 "$CST" test --driver tar --image "docker://$addr:$port/x:1" --config "$T/sh.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"https://$addr:$port/v2/"* ]]
	run timeout 120 "$CST" test --driver tar --image "docker://$addr:$port/x:1" --config "$T/sh.yaml" \
		--insecure-registry "$addr:$port"
	[ "$status" -eq 0 ]
}

@test "the index cache answers a second run of the same digest; a failed read saves nothing" {
	busybox_config
	ref="docker://$REGISTRY/cst-registry-test/busybox:1"
	run "$CST" test --driver tar --image "$ref" --config "$T/busybox.yaml" --cache-dir "$T/cache" -v info
	[ "$status" -eq 1 ]
	[[ "$output" == *"index cache: layer sha256:"*" saved as $T/cache/"*".layer"* ]]
	run "$CST" test --driver tar --image "$ref" --config "$T/busybox.yaml" --cache-dir "$T/cache" -v info \
		-o json --test-report "$T/r.json"
	[ "$status" -eq 1 ]
	[[ "$output" == *"index cache: layer sha256:"*" read from $T/cache/"* ]]
	[[ "$output" == *"from the cache, 0 from the registry"* ]]
	[ "$(jq .Pass "$T/r.json")" -eq 7 ]
	sh_config
	for mode in wrong-digest truncated; do
		start_fake "$mode"
		run "$CST" test --driver tar --image "docker://$FAKE/x:1" --config "$T/sh.yaml" --cache-dir "$T/cache2"
		[ "$status" -eq 2 ]
		teardown
		FAKE_PID=
		[ -z "$(ls -A "$T/cache2" 2>/dev/null)" ]
	done
}

@test "credentials from a credential helper: credHelpers for the registry, else credsStore" {
	sh_config
	start_fake bearer
	mkdir -p "$T/bin" "$DOCKER_CONFIG"
	# A helper that knows the fake registry only, and says which server it
	# was asked for.
	cat >"$T/bin/docker-credential-cstfake" <<-SH
	#!/bin/sh
	[ "\$1" = get ] || exit 1
	read -r server
	echo "\$server" >>"$T/helper-asked"
	if [ "\$server" = "$FAKE" ]; then
		echo '{"ServerURL":"$FAKE","Username":"tester","Secret":"s3cret"}'
	else
		echo "credentials not found in native keychain"
		exit 1
	fi
	SH
	chmod +x "$T/bin/docker-credential-cstfake"
	printf '{"credHelpers":{"%s":"cstfake"}}' "$FAKE" >"$DOCKER_CONFIG/config.json"
	PATH="$T/bin:$PATH" run "$CST" test --driver tar --image "docker://$FAKE/x:1" --config "$T/sh.yaml"
	[ "$status" -eq 0 ]
	[ "$(sort -u "$T/helper-asked")" = "$FAKE" ]
	printf '{"credsStore":"cstfake"}' >"$DOCKER_CONFIG/config.json"
	PATH="$T/bin:$PATH" run "$CST" test --driver tar --image "docker://$FAKE/x:1" --config "$T/sh.yaml"
	[ "$status" -eq 0 ]
	# A helper that is not installed is an error that names it.
	printf '{"credsStore":"cst-nothing-such"}' >"$DOCKER_CONFIG/config.json"
	run "$CST" test --driver tar --image "docker://$FAKE/x:1" --config "$T/sh.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"docker-credential-cst-nothing-such"* ]]
}

@test "a redirect to blob storage on another host is followed without the registry's credentials" {
	sh_config
	start_fake bearer-redirect
	mkdir -p "$DOCKER_CONFIG"
	printf '{"auths":{"%s":{"auth":"%s"}}}' "$FAKE" "$(printf tester:s3cret | base64)" >"$DOCKER_CONFIG/config.json"
	run "$CST" test --driver tar --image "docker://$FAKE/x:1" --config "$T/sh.yaml"
	[ "$status" -eq 0 ]
	# Both blobs came from storage.
	[ "$(grep -c ' /storage/sha256:' "$T/fake-log")" -eq 2 ]
}

@test "a layer whose connection drops goes on with a Range request, its digest checked over both parts" {
	sh_config
	start_fake drop-once
	run timeout 120 "$CST" test --driver tar --image "docker://$FAKE/x:1" --config "$T/sh.yaml" --no-cache
	[ "$status" -eq 0 ]
	grep -q ' /v2/x/blobs/sha256:.* bytes=[1-9][0-9]*-$' "$T/fake-log"
}
