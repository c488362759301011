#!/usr/bin/env bats
# cst test with the docker driver against a real engine and the images of
# testdata/images: verdicts, exit codes, engine errors, timeouts, --save,
# interruption, and that nothing the run created is left behind.

setup_file() {
	. "$CST_TESTS/lib/run.sh"
	cst_engine_setup busybox busybox-user || return $?
}

setup() {
	CST="${CST_BIN:?CST_BIN is set by meson test}"
	T="$BATS_TEST_TMPDIR"
	cd "$T"
	. "$CST_TESTS/lib/run.sh"
}

teardown() {
	if [ -f "$T/registry/pid" ]; then
		kill "$(cat "$T/registry/pid")" 2>/dev/null || true
	fi
}

@test "a passing config: exit 0, every kind of test, nothing left behind" {
	cat > pass.yaml <<'YAML'
schemaVersion: 2.0.0
globalEnvVars:
  - key: GLOBAL
    value: "g-$CST_IMAGE"
commandTests:
  - name: env and streams
    command: sh
    # $VAR is expanded against the image env and globals before the
    # shell runs; a test's own envVars reach the process only.
    args: ["-c", "echo $GREETING $GLOBAL $MINE; env | grep ^MINE=; echo oops >&2"]
    envVars:
      - key: MINE
        value: mine
    expectedOutput: ["^hello world g-busybox\nMINE=mine\n$"]
    expectedError: ["oops"]
  - name: exit code
    command: sh
    args: ["-c", "exit 4"]
    exitCode: 4
  - name: setup is committed
    setup: [["sh", "-c", "echo made > /made.txt"]]
    command: cat
    args: ["/made.txt"]
    expectedOutput: ["^made\n$"]
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
fileContentTests:
  - name: through a symlink
    path: /etc/cst/hello-link
    expectedContents: ["second line"]
metadataTest:
  envVars:
    - key: CST_IMAGE
      value: busybox
  labels:
    - key: dev.cst.test.image
      value: busybox
  workdir: /srv
  exposedPorts: ["8080"]
  volumes: ["/data"]
  cmd: ["sh"]
YAML
	run_cst test --image cst-test/busybox:1 --config pass.yaml --output json
	echo "$output"; echo "$errout"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"Pass":9'* ]]
	[[ "$output" == *'"Fail":0'* ]]
	[ "$(left_by "$pid")" -eq 0 ]
}

@test "a failing command test: exit 1 and the output in the report" {
	cat > fail.yaml <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: wrong output
    command: echo
    args: ["actual"]
    expectedOutput: ["expected"]
YAML
	run_cst test --image cst-test/busybox:1 --config fail.yaml
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"--- FAIL"* ]]
	[[ "$output" == *"actual"* ]]
	[ "$(left_by "$pid")" -eq 0 ]
}

@test "the image's entrypoint is cleared and its user applies" {
	cat > ep.yaml <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: id
    command: id
    args: ["-u"]
    expectedOutput: ["^1000\n$"]
    excludedOutput: ["entrypoint-ran"]
YAML
	run_cst test --image cst-test/busybox-user:1 --config ep.yaml
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "a missing binary fails its test with the engine's message, the others run" {
	cat > bad.yaml <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: missing
    command: /no/such/binary
  - name: fine
    command: "true"
YAML
	run_cst test --image cst-test/busybox:1 --config bad.yaml --output json
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *'"Pass":1'* ]]
	[[ "$output" == *"/no/such/binary"* ]]
	[ "$(left_by "$pid")" -eq 0 ]
}

@test "a refused config with --test-report: exit 2, nothing run, a report that says why" {
	cat > good.yaml <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: would run
    command: "true"
YAML
	cat > broken.yaml <<'YAML'
schemaVersion: 2.0.0
fileExistenceTests:
  - name: root
    pathh: /
YAML
	run_cst test --image cst-test/busybox:1 -c good.yaml -c broken.yaml --test-report report.json
	echo "$output"; echo "$errout"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[[ "$errout" == *"broken.yaml:4:5: unknown key 'pathh'"* ]]
	[ "$(left_by "$pid")" -eq 0 ]
	# CST's shape for a config it cannot use: a failed result, no name.
	cat report.json
	[ "$(jq -c '[.Pass, .Fail, .Total]' report.json)" = '[0,1,1]' ]
	[ "$(jq -r '.Results[0].Name' report.json)" = "" ]
	[ "$(jq -r '.Results[0].Pass' report.json)" = false ]
	[[ "$(jq -r '.Results[0].Errors | join("\n")' report.json)" == *"broken.yaml:4:5: unknown key 'pathh'"* ]]

	run_cst test --image cst-test/busybox:1 -c broken.yaml -o junit --test-report report.xml -q
	[ "$status" -eq 2 ]
	grep -q '<testcase name="" classname="broken_yaml"' report.xml
	grep -q "<failure message=\"broken.yaml:4:5: unknown key" report.xml

	# Without --test-report nothing is written anywhere but stderr.
	run_cst test --image cst-test/busybox:1 -c broken.yaml -o json
	[ "$status" -eq 2 ]
	[ -z "$output" ]
}

@test "a missing image is an error that suggests --pull" {
	cat > any.yaml <<'YAML'
schemaVersion: 2.0.0
fileExistenceTests:
  - name: root
    path: /
YAML
	run_cst test --image cst-test/no-such-image:0 --config any.yaml
	echo "$errout"
	[ "$status" -eq 2 ]
	[[ "${errout,,}" == *"no such image: cst-test/no-such-image:0"* ]]
	[[ "$errout" == *"--pull"* ]]
	# The cause once, though the engine's own message says it twice.
	[ "$(grep -oi 'no such image' <<<"$errout" | wc -l)" -eq 1 ]
}

@test "a hung command is killed at the timeout with what it printed" {
	cat > hang.yaml <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: hangs
    command: sh
    args: ["-c", "echo started; sleep 120"]
YAML
	start=$(date +%s)
	run_cst test --image cst-test/busybox:1 --config hang.yaml --timeout 5
	echo "$output"
	[ "$status" -eq 1 ]
	# killed at the timeout, not at the end of the sleep
	[ $(($(date +%s) - start)) -lt 100 ]
	[[ "$output" == *"started"* ]]
	[[ "$output" == *"timed out after 5 s"* ]]
	# killed by cst: its exit code is not judged as well
	[[ "$output" != *"incorrect error code"* ]]
	[ "$(left_by "$pid")" -eq 0 ]
}

@test "--save keeps the containers and names them" {
	cat > save.yaml <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: one
    command: "true"
YAML
	run_cst test --image cst-test/busybox:1 --config save.yaml --save
	echo "$errout"
	[ "$status" -eq 0 ]
	kept=$(docker ps -aq --filter "label=dev.cst.pid=$pid")
	[ -n "$kept" ]
	for id in $kept; do
		[[ "$errout" == *"$id"* ]]
	done
	docker rm -f $kept >/dev/null
}

@test "SIGINT stops a run and removes its containers" {
	cat > long.yaml <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: a
    command: sleep
    args: ["120"]
  - name: b
    command: sleep
    args: ["120"]
YAML
	"$CST" test --image cst-test/busybox:1 --config long.yaml --jobs 2 >"$T/stdout" 2>"$T/stderr" &
	pid=$!
	# Wait until its containers run, then interrupt.
	wait_for 120 sh -c "[ \"\$(docker ps -q --filter label=dev.cst.pid=$pid | wc -l)\" -ge 1 ]"
	kill -INT "$pid"
	wait "$pid" && status=0 || status=$?
	cat "$T/stderr"
	[ "$status" -eq 130 ]
	[ "$(left_by "$pid")" -eq 0 ]
}

@test "parallel jobs keep each test's output apart" {
	{
		echo "schemaVersion: 2.0.0"
		echo "commandTests:"
		for i in 1 2 3 4 5 6; do
			echo "  - name: t$i"
			echo "    command: sh"
			echo "    args: [\"-c\", \"echo out-$i; echo err-$i >&2; exit $i\"]"
			echo "    expectedOutput: [\"^out-$i\\n\$\"]"
			echo "    expectedError: [\"^err-$i\\n\$\"]"
			echo "    exitCode: $i"
		done
	} > par.yaml
	run_cst test --image cst-test/busybox:1 --config par.yaml --jobs 4 --output json
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"Pass":6'* ]]
	[ "$(left_by "$pid")" -eq 0 ]
}

# An OCI image layout of a local image, made from `docker save` (engines
# before 25.0 save only the docker shape); no manifest.json in it.
make_oci_layout() { # image dir
	save="$T/save"
	out=$2
	mkdir -p "$save" "$out/blobs/sha256"
	docker save "$1" | tar -C "$save" -x
	# blob FILE: stores it, sets digest and size
	blob() {
		digest=sha256:$(sha256sum < "$1" | cut -d' ' -f1)
		size=$(stat -c %s "$1")
		cp "$1" "$out/blobs/sha256/${digest#sha256:}"
	}
	blob "$save/$(jq -r '.[0].Config' "$save/manifest.json")"
	config="{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"$digest\",\"size\":$size}"
	layers=
	for l in $(jq -r '.[0].Layers[]' "$save/manifest.json"); do
		blob "$save/$l"
		layers="$layers${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"$digest\",\"size\":$size}"
	done
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":%s,"layers":[%s]}' \
		"$config" "$layers" > "$T/manifest"
	blob "$T/manifest"
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"platform":{"os":"linux","architecture":"amd64"}}]}' \
		"$digest" "$size" > "$out/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' > "$out/oci-layout"
}

@test "--image-from-oci-layout loads a layout without manifest.json into the engine" {
	make_oci_layout cst-test/busybox:1 "$T/layout"
	[ ! -e "$T/layout/manifest.json" ]
	cat > oci.yaml <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: runs
    command: cat
    args: ["/etc/cst/hello.txt"]
    expectedOutput: ["hello from cst"]
fileExistenceTests:
  - name: file
    path: /etc/cst/hello.txt
metadataTest:
  workdir: /srv
YAML
	run_cst test --image-from-oci-layout "$T/layout" --config oci.yaml --output json
	echo "$output"; echo "$errout"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"Pass":3'* ]]
	[ "$(left_by "$pid")" -eq 0 ]
}

@test "--pull pulls from a registry, with progress on stderr" {
	if ! command -v docker-registry >/dev/null; then
		[ "${CI:-}" != true ] || { echo "docker-registry is missing"; return 1; }
		skip "docker-registry is not installed"
	fi
	start_registry "$T/registry"
	ref="$REGISTRY/cst-test/pulled:1"
	docker tag cst-test/busybox:1 "$ref"
	docker push "$ref" >/dev/null
	docker rmi "$ref" >/dev/null
	cat > pull.yaml <<'YAML'
schemaVersion: 2.0.0
fileExistenceTests:
  - name: file
    path: /etc/cst/hello.txt
YAML
	run_cst test --image "$ref" --config pull.yaml
	[ "$status" -eq 2 ]
	[[ "$errout" == *"--pull"* ]]
	run_cst test --image "$ref" --config pull.yaml --pull
	pulled_status=$status pulled_out=$output pulled_err=$errout
	# A pulled image has a repo digest, which the report names.
	run_cst test --image "$ref" --config pull.yaml -o json
	docker rmi "$ref" >/dev/null 2>&1 || true
	echo "$pulled_out"; echo "$pulled_err"; echo "$output"
	[ "$pulled_status" -eq 0 ]
	[[ "$pulled_err" == *"Pulling $ref"* ]]
	[[ "$pulled_out" != *"Pulling"* ]]
	[ "$status" -eq 0 ]
	[[ "$(jq -r .Provenance.RepoDigest <<<"$output")" == "$REGISTRY/cst-test/pulled@sha256:"* ]]
}

@test "file tests see a created container, as CST's docker driver does; the tar driver sees the image" {
	# The image has its own /etc/hostname ("cst-busybox") and no /etc/hosts,
	# /.dockerenv or /dev/console.  A created container holds the engine's
	# empty placeholders there (mode 0755, root) and empty /proc and /sys;
	# /dev/null is only mounted when the container starts.  These are CST
	# v1.15.0's verdicts on this image.
	cat > managed.yaml <<'YAML'
schemaVersion: 2.0.0
fileExistenceTests:
  - name: hosts
    path: /etc/hosts
    permissions: -rwxr-xr-x
    uid: 0
  - name: dockerenv
    path: /.dockerenv
  - name: console
    path: /dev/console
    permissions: -rwxr-xr-x
  - name: dev null
    path: /dev/null
    shouldExist: false
  - name: proc is an empty directory
    path: /proc/self
    shouldExist: false
  - name: mtab
    path: /etc/mtab
    permissions: Lrwxrwxrwx
fileContentTests:
  - name: hosts is empty
    path: /etc/hosts
    excludedContents: ["."]
  - name: hostname is empty
    path: /etc/hostname
    excludedContents: ["."]
YAML
	run_cst test --image cst-test/busybox:1 --config managed.yaml
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(left_by "$pid")" -eq 0 ]

	docker save cst-test/busybox:1 > image.tar
	run "$CST" test --driver tar --image image.tar --config managed.yaml --output json
	echo "$output"
	[ "$status" -eq 1 ]
	for t in hosts dockerenv console mtab "hosts is empty" "hostname is empty"; do
		[ "$(jq -r --arg n "$t" '.Results[] | select(.Name | endswith(": " + $n)) | .Pass' <<<"$output")" = false ]
	done
	[ "$(jq '.Pass' <<<"$output")" -eq 2 ]
}

@test "\$VAR expansion and env as CST: the test's envVars take part with setup, setup commands are not expanded" {
	# Verdicts and output as CST v1.15.0 gives them on this image (whose
	# env has CST_IMAGE=busybox and no HOME).
	cat > env.yaml <<'YAML'
schemaVersion: 2.0.0
globalEnvVars:
  - {key: G, value: "g-$CST_IMAGE"}
commandTests:
  - name: without setup
    command: sh
    args: ["-c", "echo args=$G,$MINE,$SEES_G; env | grep -E '^(G|MINE|SEES_G)=' | sort"]
    envVars:
      - {key: MINE, value: "m-$CST_IMAGE"}
      - {key: SEES_G, value: "[$G]"}
    expectedOutput: ['^args=g-busybox,,\nG=g-busybox\nMINE=m-\$CST_IMAGE\nSEES_G=\[\$G\]\n$']
  - name: with setup
    setup: [["sh", "-c", "echo '$CST_IMAGE' > /s.txt; echo setup=$MINE,$SEES_G >> /s.txt"]]
    command: sh
    args: ["-c", "cat /s.txt; echo args=$G,$MINE,$SEES_G; env | grep -E '^(MINE|SEES_G)=' | sort"]
    envVars:
      - {key: MINE, value: "m-$CST_IMAGE"}
      - {key: SEES_G, value: "[$G]"}
    expectedOutput: ['^\$CST_IMAGE\nsetup=m-busybox,\[g-busybox\]\nargs=g-busybox,m-busybox,\[g-busybox\]\nMINE=m-\$CST_IMAGE\nSEES_G=\[\$G\]\n$']
YAML
	run_cst test --image cst-test/busybox:1 --config env.yaml
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "schema 1.0.0: globals reach a command only through its setup; file paths are not expanded" {
	cat > v1.yaml <<'YAML'
schemaVersion: 1.0.0
globalEnvVars:
  - {key: G, value: "g-$CST_IMAGE"}
commandTests:
  - name: no setup, no globals
    command: ["sh", "-c", "echo args=$G; env | grep -c '^G=' || true"]
    expectedOutput: ["^args=\n0\n$"]
  - name: setup brings them
    setup: [["true"]]
    command: ["sh", "-c", "echo args=$G,$T; env | grep -E '^(G|T)=' | sort"]
    envVars:
      - {key: T, value: "[$G]"}
    expectedOutput: ['^args=g-busybox,\[\]\nG=g-busybox\nT=\[\$G\]\n$']
fileExistenceTests:
  - name: a path is taken as written
    path: "$CST_IMAGE"
    shouldExist: false
YAML
	run_cst test --image cst-test/busybox:1 --config v1.yaml
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "envFile is read as CST reads it (godotenv); a file it cannot load is a warning" {
	cat > app.env <<'ENV'
# comment
export EXPORTED=yes
QUOTED="two words \"q\" $EXPORTED"
SINGLE='$EXPORTED'
COLON: value
TRAIL=value # a comment
EMPTY=
ENV
	cat > envfile.yaml <<'YAML'
schemaVersion: 2.0.0
containerRunOptions:
  envFile: app.env
commandTests:
  - name: the file's variables
    command: sh
    args: ["-c", "env | grep -E '^(EXPORTED|QUOTED|SINGLE|COLON|TRAIL|EMPTY)=' | sort"]
    expectedOutput: ['^COLON=value\nEXPORTED=yes\nQUOTED=two words "q" yes\nSINGLE=\$EXPORTED\nTRAIL=value\n$']
YAML
	run_cst test --image cst-test/busybox:1 --config envfile.yaml
	echo "$output"; echo "$errout"
	[ "$status" -eq 0 ]
	[[ "$errout" != *warning* ]]

	# A bare name is docker's --env-file syntax, not godotenv's: CST warns
	# and runs the tests without the file.
	printf 'GOOD=1\nHOST_NAME_ONLY\n' > app.env
	cat > bare.yaml <<'YAML'
schemaVersion: 2.0.0
containerRunOptions:
  envFile: app.env
commandTests:
  - name: no variables from the file
    command: sh
    args: ["-c", "env | grep -c '^GOOD=' || true"]
    expectedOutput: ["^0\n$"]
YAML
	run_cst test --image cst-test/busybox:1 --config bare.yaml
	echo "$output"; echo "$errout"
	[ "$status" -eq 0 ]
	[[ "$errout" == *"bare.yaml:3:12: warning: unable to load envFile app.env: unexpected character"* ]]
	rm app.env
	run_cst test --image cst-test/busybox:1 --config bare.yaml
	[ "$status" -eq 0 ]
	[[ "$errout" == *"warning: unable to load envFile app.env: open app.env: No such file or directory"* ]]
}

@test "--network none runs command tests without a network" {
	cat > net.yaml <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: only the loopback interface
    command: sh
    args: ["-c", "ls /sys/class/net"]
    expectedOutput: ["^lo\n$"]
YAML
	run_cst test --image cst-test/busybox:1 --config net.yaml --network none
	echo "$output"
	[ "$status" -eq 0 ]
	# and the default is the engine's bridge, as in CST
	run_cst test --image cst-test/busybox:1 --config net.yaml
	[ "$status" -eq 1 ]
	[[ "$output" == *"eth0"* ]]
	[ "$(left_by "$pid")" -eq 0 ]
}
