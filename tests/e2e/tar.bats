#!/usr/bin/env bats
# `cst test --driver tar` end to end on layered image archives written by
# tests/fixtures/mkimages.py: every check kind, passing and failing, every
# report format, and the image sources (docker save, OCI layout, rootfs).

setup_file() {
	export FIX="$BATS_FILE_TMPDIR/fixtures"
	/usr/bin/python3 "$CST_TESTS/fixtures/mkimages.py" "$FIX"
}

setup() {
	CST="${CST_BIN:?CST_BIN is set by meson test}"
	T="$BATS_TEST_TMPDIR"
}

passing_config() {
	cat >"$T/pass.yaml" <<'YAML'
schemaVersion: 2.0.0
globalEnvVars:
  - key: BIN
    value: /usr/bin
fileExistenceTests:
  - name: setuid file
    path: /usr/bin/suid
    permissions: urwxr-xr-x
  - name: setgid file with its group
    path: /usr/bin/sgid
    permissions: grwxr-xr-x
    gid: 42
  - name: sticky tmp
    path: /tmp
    permissions: dtrwxrwxrwx
  - name: owned home
    path: /home/user
    permissions: drwx------
    uid: 1000
    gid: 1000
  - name: symlink tested as itself
    path: /etc/alt
    permissions: Lrwxrwxrwx
  - name: path through a symlinked parent
    path: /lib/libfoo.so.1
  - name: $VAR expansion in paths
    path: $BIN/tool
    isExecutableBy: other
  - name: whiteout removed a subtree
    path: /to-delete/sub/b
    shouldExist: false
  - name: opaque directory hides lower children
    path: /opaque/old1
    shouldExist: false
  - name: opaque directory keeps its own layer
    path: /opaque/new1
  - name: directory replaced by a file
    path: /replace-dir
    permissions: -rw-------
  - name: name with spaces
    path: /home/user/file with spaces.txt
  - name: fifo
    path: /etc/fifo
    permissions: prw-r--r--
fileContentTests:
  - name: content through a final symlink
    path: /etc/alt
    expectedContents: ["^#!/bin/sh\necho tool\n$"]
  - name: later layer replaced passwd
    path: /etc/passwd
    expectedContents: ["user:x:1000"]
    excludedContents: ["^daemon"]
  - name: hardlink carries its target's contents
    path: /srv/hard
    expectedContents: ["shared inode"]
  - name: a symlink out of the root stays inside it
    path: /etc/escape
    expectedContents: ["^root:x:0:0"]
licenseTests:
  - debian: false
    files: ["/usr/lib/libfoo.so.1"]
metadataTest:
  envVars:
    - key: FOO
      value: bar
    - key: PATH
      value: ^/usr/local
      isRegex: true
  unboundEnvVars:
    - key: HOME
  labels:
    - key: version
      value: "1.0"
  cmd: ["/bin/sh", "-c", "echo hi"]
  exposedPorts: ["8080", "53/udp"]
  unexposedPorts: ["53/tcp"]
  volumes: ["/data"]
  unmountedVolumes: ["/srv"]
  workdir: /srv
  user: "1000:1000"
YAML
}

@test "every check kind passes on a layered docker-save archive" {
	passing_config
	run "$CST" test --driver tar --image "$FIX/layered.tar" --config "$T/pass.yaml"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Passes:      19"* ]]
	[[ "$output" == *"Failures:    0"* ]]
}

@test "the same verdicts from gzip'd docker save, OCI layout directory and OCI tar" {
	passing_config
	for img in layered.tar.gz layered-oci layered-oci.tar layered-newer-save.tar; do
		run "$CST" test --driver tar --image "$FIX/$img" --config "$T/pass.yaml" -o json
		[ "$status" -eq 0 ] || { echo "$img: $output"; return 1; }
		[[ "$output" == *'"Pass":19'* ]] || { echo "$img: $output"; return 1; }
	done
}

@test "failing checks fail with CST's messages" {
	cat >"$T/fail.yaml" <<'YAML'
schemaVersion: 2.0.0
fileExistenceTests:
  - name: wrong mode
    path: /usr/bin/tool
    permissions: -rw-r--r--
  - name: wrong owner
    path: /home/user
    uid: 0
  - name: missing
    path: /nope
  - name: should not exist
    path: /etc/passwd
    shouldExist: false
  - name: not executable
    path: /etc/os-release
    isExecutableBy: owner
fileContentTests:
  - name: expected text absent
    path: /etc/os-release
    expectedContents: ["ID=debian"]
  - name: missing file
    path: /etc/nope
metadataTest:
  envVars:
    - key: FOO
      value: baz
  entrypoint: ["/init"]
  exposedPorts: ["53/tcp"]
YAML
	run "$CST" test --driver tar --image "$FIX/layered.tar" --config "$T/fail.yaml"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"/usr/bin/tool has incorrect permissions. Expected: -rw-r--r--, Actual: -rwxr-xr-x"* ]]
	[[ "$output" == *"/home/user has incorrect user ownership. Expected: 0, Actual: 1000"* ]]
	[[ "$output" == *"File /etc/passwd should not exist but does"* ]]
	[[ "$output" == *"Expected to be executable by owner"* ]]
	[[ "$output" == *"Expected string 'ID=debian' not found in file content string"* ]]
	[[ "$output" == *"Failed to open /etc/nope"* ]]
	[[ "$output" == *"env var FOO value bar does not match expected value: baz"* ]]
	[[ "$output" == *"Port 53/tcp not found in config"* ]]
	[[ "$output" == *"Passes:      0"* ]]
	[[ "$output" == *"Failures:    8"* ]]
}

@test "command tests fail clearly with the tar driver" {
	cat >"$T/cmd.yaml" <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: echo
    command: echo
YAML
	run "$CST" test --driver tar --image "$FIX/layered.tar" --config "$T/cmd.yaml" -o json
	[ "$status" -eq 1 ]
	[[ "$output" == *"the tar driver cannot run commands"* ]]
}

@test "a rootfs tar with --metadata" {
	cat >"$T/rootfs.yaml" <<'YAML'
schemaVersion: 2.0.0
fileContentTests:
  - name: hostname
    path: /etc/hostname
    expectedContents: ["^rootfs\n$"]
YAML
	run "$CST" test --driver tar --image "$FIX/rootfs.tar" --metadata "$FIX/rootfs-meta.json" --config "$T/rootfs.yaml"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "reports in every format, to stdout and to a file" {
	passing_config
	for fmt in json junit tap; do
		run "$CST" test --driver tar --image "$FIX/layered.tar" --config "$T/pass.yaml" -o "$fmt" \
			--test-report "$T/report.$fmt"
		[ "$status" -eq 0 ]
		[ -s "$T/report.$fmt" ]
		[ -z "$output" ]
	done
	/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["Pass"]==19 and d["Fail"]==0' "$T/report.json"
	xmllint --noout --schema "$CST_TESTS/junit/junit.xsd" "$T/report.junit"
	grep -q '^1\.\.19$' "$T/report.tap"
	run "$CST" test --driver tar --image "$FIX/layered.tar" --config "$T/pass.yaml" --test-report "$T/text-as.json"
	/usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/text-as.json"
}

@test "-q prints nothing and keeps the exit code" {
	passing_config
	run "$CST" test --driver tar --image "$FIX/layered.tar" --config "$T/pass.yaml" -q
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	printf 'schemaVersion: 2.0.0\nfileExistenceTests:\n  - name: x\n    path: /nope\n' >"$T/f.yaml"
	run "$CST" test --driver tar --image "$FIX/layered.tar" --config "$T/f.yaml" -q
	[ "$status" -eq 1 ]
	[ -z "$output" ]
}

@test "broken archives are clear errors with exit 2 and no report" {
	printf 'schemaVersion: 2.0.0\nfileExistenceTests:\n  - name: x\n    path: /etc\n' >"$T/c.yaml"
	for img in truncated.tar not-a-tar-layer.tar no-manifest.tar no-config.tar missing-layer.tar \
		dotdot.tar hardlink-missing.tar oversized.tar; do
		run "$CST" test --driver tar --image "$FIX/$img" --config "$T/c.yaml" --test-report "$T/r.json"
		echo "$img -> $status: $output"
		[ "$status" -eq 2 ]
		[[ "$output" == *"$img"* ]]
		[ ! -e "$T/r.json" ]
	done
}

@test "a symlink loop is a failed test, not a hang" {
	printf 'schemaVersion: 2.0.0\nfileContentTests:\n  - name: loop\n    path: /loop1\n' >"$T/loop.yaml"
	run timeout 300 "$CST" test --driver tar --image "$FIX/layered.tar" --config "$T/loop.yaml"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"loop"* ]]
}

@test "a real image saved by the engine" {
	docker image inspect cst-test/busybox:1 >/dev/null || bash "$CST_TESTDATA/images/build.sh" busybox
	docker save cst-test/busybox:1 -o "$T/busybox.tar"
	cat >"$T/real.yaml" <<'YAML'
schemaVersion: 2.0.0
fileExistenceTests:
  - name: busybox
    path: /bin/busybox
    permissions: -rwxr-xr-x
  - name: applet links
    path: /bin/sh
    permissions: Lrwxrwxrwx
  - name: deleted in a later layer
    path: /etc/cst/gone.txt
    shouldExist: false
  - name: setuid copy
    path: /usr/local/bin/suid-box
    permissions: urwxr-xr-x
fileContentTests:
  - name: hardlinked file
    path: /etc/cst/hello-hard
    expectedContents: ["^hello from cst"]
metadataTest:
  workdir: /srv
  volumes: ["/data"]
YAML
	run "$CST" test --driver tar --image "$T/busybox.tar" --config "$T/real.yaml"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Passes:      6"* ]]
}

@test "paths resolve as CST resolves them, with either driver" {
	# Verdicts checked against container-structure-test 1.15 (--driver
	# docker) on the same image.
	bash "$CST_TESTDATA/images/build.sh" paths
	docker save cst-test/paths:1 -o "$T/paths.tar"
	cat >"$T/pass.yaml" <<'YAML'
schemaVersion: 2.0.0
fileExistenceTests:
  - {name: a trailing slash follows the link, path: /opt/current/, permissions: drwxr-xr-x, uid: 0}
  - {name: without it the link itself, path: /opt/current, permissions: Lrwxrwxrwx}
  - {name: trailing dot follows too, path: /opt/current/., permissions: drwxr-xr-x}
  - {name: absolute link with slash, path: /opt/abs/, permissions: drwxr-xr-x}
  - {name: root-escaping link with slash, path: /opt/escape/, permissions: drwxr-xr-x}
  - {name: through an absolute link, path: /opt/abs/VERSION}
  - {name: through a relative link escaping the root, path: /opt/escape/VERSION}
  - {name: through an absolute link escaping the root, path: /opt/escape-abs/VERSION}
  - {name: relative link in a subdirectory, path: /opt/sub/rel/VERSION}
  - {name: a link chain, path: /opt/conf/app.conf}
  - {name: a dangling link exists, path: /opt/dangling}
  - {name: a dangling link with a slash does not, path: /opt/dangling/, shouldExist: false}
  - {name: a file with a slash does not, path: /opt/v1/VERSION/, shouldExist: false}
  - {name: a link to a file with a slash does not, path: /opt/version-link/, shouldExist: false}
  - {name: double slashes, path: //opt//v1///VERSION}
  - {name: dots, path: /opt/./v1/./VERSION}
  - {name: dot-dots, path: /opt/v1/../v1/VERSION}
  - {name: dot-dots above the root, path: /../../opt/v1/VERSION}
  - {name: relative path, path: opt/v1/VERSION}
  - {name: dot-dot after a link is lexical, path: /a/../b/where}
  - {name: not the link target's parent, path: /a/../y, shouldExist: false}
  - {name: a chain of 45 links, path: /opt/chain/c0/, shouldExist: false}
fileContentTests:
  - {name: content through a trailing-slash link, path: /opt/current/VERSION, expectedContents: ["^v1\n$"]}
  - {name: content through a relative link in a subdirectory, path: /opt/sub/rel/VERSION, expectedContents: ["^v1\n$"]}
  - {name: content through an absolute link, path: /opt/abs/VERSION, expectedContents: ["^v1\n$"]}
  - {name: content through escaping links, path: /opt/escape-abs/VERSION, expectedContents: ["^v1\n$"]}
  - {name: content through a link chain, path: /opt/conf/app.conf, expectedContents: ["^conf\n$"]}
  - {name: content by a relative path, path: opt/v1/VERSION, expectedContents: ["^v1\n$"]}
  - {name: content at a lexical dot-dot, path: /a/../b/where, expectedContents: ["^lexical\n$"]}
  - {name: content with double slashes, path: //opt//v1//VERSION, expectedContents: ["^v1\n$"]}
  - {name: content through 45 links, path: /opt/chain/c0, expectedContents: ["^end\n$"]}
YAML
	cat >"$T/fail.yaml" <<'YAML'
schemaVersion: 2.0.0
fileContentTests:
  - {name: a file with a trailing slash, path: /opt/v1/VERSION/, expectedContents: [v1]}
  - {name: a directory, path: /opt/current/, expectedContents: [v1]}
YAML
	for driver in tar docker; do
		image=cst-test/paths:1
		[ "$driver" = docker ] || image="$T/paths.tar"
		run "$CST" test --driver "$driver" --image "$image" --config "$T/pass.yaml"
		echo "$output"
		[ "$status" -eq 0 ]
		[[ "$output" == *"Passes:      31"* ]]
		run "$CST" test --driver "$driver" --image "$image" --config "$T/fail.yaml"
		echo "$output"
		[ "$status" -eq 1 ]
		[[ "$output" == *"Failures:    2"* ]]
		[[ "$output" == *"/opt/v1/VERSION/"*"not a directory"* || "$output" == *"/opt/v1/VERSION/"*"no such file"* ]]
	done
}

@test "loops, a linked doc root and empty fields as CST judges them" {
	# Each verdict and message checked against container-structure-test 1.15
	# (--driver docker) on the same images.
	bash "$CST_TESTDATA/images/build.sh" paths busybox-user
	docker save cst-test/paths:1 -o "$T/paths.tar"
	docker save cst-test/busybox-user:1 -o "$T/user.tar"
	cat >"$T/links.yaml" <<'YAML'
schemaVersion: 2.0.0
fileExistenceTests:
  - {name: under a loop is absent, path: /opt/loop1/x, shouldExist: false}
  - {name: a loop spelt as a directory is absent, path: /opt/loop1/, shouldExist: false}
  - {name: a link in a loop does not exist to CST, path: /opt/loop1, shouldExist: false}
  - {name: a dangling link exists, path: /opt/dangling}
  - {name: empty permissions are no check, path: /opt/current, permissions: ""}
licenseTests:
  # /usr/share/doc is a link: CST lists no packages in it (one says AGPL).
  - debian: true
YAML
	cat >"$T/meta.yaml" <<'YAML'
schemaVersion: 2.0.0
metadataTest:
  user: ""
  cmd: ["x"]
  entrypoint: ["/bin/echo", "other"]
  unboundEnvVars: [{key: CST_IMAGE}]
  unexposedPorts: ["8080"]
  unmountedVolumes: ["/data"]
YAML
	for driver in tar docker; do
		paths=cst-test/paths:1 user=cst-test/busybox-user:1
		[ "$driver" = docker ] || { paths="$T/paths.tar"; user="$T/user.tar"; }
		run "$CST" test --driver "$driver" --image "$paths" --config "$T/links.yaml"
		echo "$output"
		[ "$status" -eq 0 ]
		run "$CST" test --driver "$driver" --image "$user" --config "$T/meta.yaml" --output json
		echo "$output"
		[ "$status" -eq 1 ]
		errors=$(printf '%s' "$output" | python3 -c 'import json,sys; [print(e) for r in json.load(sys.stdin)["Results"] for e in r.get("Errors") or []]')
		[ "$errors" = "env variable CST_IMAGE should not be present in image metadata
Image config Cmd [cmd-ran] does not match expected value: [x]
Image config entrypoint [/bin/echo entrypoint-ran] does not match expected value: [/bin/echo other]
Port 8080 should not be exposed
Volume /data should not be mounted" ]
	done
}

@test "regexes match file contents as CST's Go regexes do" {
	# Verdicts checked against container-structure-test 1.15 (--driver
	# docker); /opt/bytes is "a\vb\n\377x\n".
	bash "$CST_TESTDATA/images/build.sh" paths
	docker save cst-test/paths:1 -o "$T/paths.tar"
	cat >"$T/re.yaml" <<'YAML'
schemaVersion: 2.0.0
fileContentTests:
  - name: \s is not a vertical tab
    path: /opt/bytes
    excludedContents: ['a\sb', 'a[\s]b', '(?i)A\sB']
    expectedContents: ['a\Sb', 'a[^\s]b', 'a[[:space:]]b']
  - name: a byte of invalid UTF-8 is U+FFFD
    path: /opt/bytes
    expectedContents: ['(?m)^.x$', '\x{FFFD}x', '\n[^a]x', '(?s)b.{2}x']
    excludedContents: ['^.{2}x']
YAML
	for driver in tar docker; do
		image=cst-test/paths:1
		[ "$driver" = docker ] || image="$T/paths.tar"
		run "$CST" test --driver "$driver" --image "$image" --config "$T/re.yaml"
		echo "$output"
		[ "$status" -eq 0 ]
		[[ "$output" == *"Passes:      2"* ]]
	done
	printf 'schemaVersion: 2.0.0\nfileContentTests:\n  - {name: lookahead, path: /opt/bytes, expectedContents: ["a(?=b)"]}\n' >"$T/bad.yaml"
	run "$CST" test --driver tar --image "$T/paths.tar" --config "$T/bad.yaml"
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad.yaml:3:"*"invalid or unsupported Perl syntax"* ]]
}

@test "--quiet-pass prints the failures and the summary only" {
	passing_config
	cat >"$T/one-fails.yaml" <<'YAML'
schemaVersion: 2.0.0
fileExistenceTests:
  - name: present
    path: /etc/passwd
  - name: absent
    path: /nope
YAML
	run "$CST" test --driver tar --image "$FIX/layered.tar" --config "$T/one-fails.yaml" --quiet-pass
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"=== RUN: File Existence Test: absent"* ]]
	[[ "$output" != *"File Existence Test: present"* ]]
	[[ "$output" == *"Passes:      1"* ]]
	[[ "$output" == *"Failures:    1"* ]]
}
