#!/usr/bin/env bats
# The read plans of the docker driver: the export of the whole file system
# or per-path archive reads of the paths the tests ask for.  Whatever the
# plan, every verdict and message is the same; -v info says which plan ran
# and why; tests that list a directory force the export; a per-path run
# saves what it learnt, and a later one reads only what is missing.

setup_file() {
	. "$CST_TESTS/lib/run.sh"
	cst_engine_setup busybox busybox-user paths || return $?
}

setup() {
	CST="${CST_BIN:?CST_BIN is set by meson test}"
	T="$BATS_TEST_TMPDIR"
	cd "$T"
	. "$CST_TESTS/lib/run.sh"
	# Path resolution as the index does it: links relative, absolute,
	# escaping the root, chained, dangling, looping; trailing slashes and
	# dots; lexical "..".
	cat > links.yaml <<'YAML'
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
  - {name: under a loop is absent, path: /opt/loop1/x, shouldExist: false}
  - {name: a loop spelt as a directory is absent, path: /opt/loop1/, shouldExist: false}
  - {name: a link in a loop does not exist to CST, path: /opt/loop1, shouldExist: false}
  - {name: a wrong expectation fails alike, path: /opt/current, permissions: drwxr-xr-x}
  - {name: an absent path fails alike, path: /opt/v2/VERSION}
  - {name: the root, path: /, permissions: drwxr-xr-x, uid: 0}
fileContentTests:
  - {name: content through a trailing-slash link, path: /opt/current/VERSION, expectedContents: ["^v1\n$"]}
  - {name: content through a relative link in a subdirectory, path: /opt/sub/rel/VERSION, expectedContents: ["^v1\n$"]}
  - {name: content through escaping links, path: /opt/escape-abs/VERSION, expectedContents: ["^v1\n$"]}
  - {name: content through a link chain, path: /opt/conf/app.conf, expectedContents: ["^conf\n$"]}
  - {name: content by a relative path, path: opt/v1/VERSION, expectedContents: ["^v1\n$"]}
  - {name: content at a lexical dot-dot, path: /a/../b/where, expectedContents: ["^lexical\n$"]}
  - {name: content through 45 links, path: /opt/chain/c0, expectedContents: ["^end\n$"]}
  - {name: a file with a trailing slash, path: /opt/v1/VERSION/, expectedContents: [v1]}
  - {name: a directory, path: /opt/current/, expectedContents: [v1]}
  - {name: through a loop, path: /opt/loop1, expectedContents: [x]}
  - {name: a wrong content, path: /opt/v1/VERSION, expectedContents: [v2], excludedContents: [v1]}
YAML
	# The engine's own files, a hardlink, owners and modes, $VAR paths.
	cat > files.yaml <<'YAML'
schemaVersion: 2.0.0
globalEnvVars:
  - {key: CONF, value: /etc/cst}
fileExistenceTests:
  - {name: dockerenv, path: /.dockerenv, permissions: -rwxr-xr-x}
  - {name: hosts, path: /etc/hosts, permissions: -rwxr-xr-x, uid: 0, gid: 0}
  - {name: hostname, path: /etc/hostname}
  - {name: resolv, path: /etc/resolv.conf}
  - {name: mtab, path: /etc/mtab, permissions: Lrwxrwxrwx}
  - {name: console, path: /dev/console}
  - {name: proc, path: /proc, permissions: drwxr-xr-x}
  - {name: sys, path: /sys/}
  - {name: hardlink, path: /etc/cst/hello.txt, permissions: -rw-r--r--, uid: 0}
  - {name: hardlink target, path: /etc/cst/hello-hard, permissions: -rw-r--r--}
  - {name: expanded, path: $CONF/hello.txt}
  - {name: owner, path: /home/cst, uid: 1000, gid: 1000}
  - {name: wrong owner, path: /home/cst, uid: 0, gid: 0}
  - {name: suid, path: /usr/local/bin/suid-box, permissions: urwxr-xr-x}
  - {name: executable, path: /bin/busybox, isExecutableBy: other}
  - {name: absent, path: /no/such/file, shouldExist: false}
  - {name: absent but expected, path: /no/such/file}
fileContentTests:
  - {name: hardlink contents, path: /etc/cst/hello.txt, expectedContents: [".+"]}
  - {name: empty hosts, path: /etc/hosts, expectedContents: ["^$"]}
  - {name: passwd, path: /etc/passwd, expectedContents: ["^root:"]}
licenseTests:
  - files: [/etc/passwd, /etc/cst/hello.txt]
YAML
}

# name -> pass, and each result's errors: what must not depend on the plan.
verdicts() {
	python3 -c '
import json, sys
d = json.load(sys.stdin)
for r in d["Results"]:
    print(r["Name"], r["Pass"], json.dumps(r.get("Errors") or []))
print("passes", d["Pass"], "fails", d["Fail"])'
}

both_plans() { # image config
	for plan in export paths; do
		run_cst test --image "$1" --config "$2" --output json --read-plan=$plan -v info
		echo "$errout" >&2
		echo "$status" >"$plan.status"
		printf '%s\n' "$output" | verdicts >"$plan.verdicts"
		printf '%s\n' "$errout" >"$plan.err"
	done
	diff export.verdicts paths.verdicts
	diff export.status paths.status
}

@test "per-path reads resolve links as the export does: every verdict and message the same" {
	export CST_CACHE_DIR=
	both_plans cst-test/paths:1 links.yaml
	[ "$(cat paths.status)" -eq 1 ]
	grep -q "read plan: per-path reads" paths.err
	grep -q "read plan: the export, as --read-plan=export asks" export.err
	grep -q "^File Existence Test: a chain of 45 links True" paths.verdicts
	grep -q "^File Content Test: a wrong content False" paths.verdicts
}

@test "per-path reads see the engine's files, hardlinks, owners and modes as the export does" {
	export CST_CACHE_DIR=
	both_plans cst-test/busybox-user:1 files.yaml
	grep -q "^File Content Test: hardlink contents True" paths.verdicts
	grep -q "^File Existence Test: wrong owner False" paths.verdicts
	grep -q "^File Existence Test: owner True" paths.verdicts
}

@test "shouldExist: false costs one request" {
	export CST_CACHE_DIR=
	cat > absent.yaml <<'YAML'
schemaVersion: 2.0.0
fileExistenceTests:
  - {name: absent, path: /nonesuch, shouldExist: false}
YAML
	run_cst test --image cst-test/busybox:1 --config absent.yaml --read-plan=paths -v info
	echo "$output"; echo "$errout"
	[ "$status" -eq 0 ]
	[[ "$errout" == *"per-path reads: 1 requests (0 stats) in 1 rounds"* ]]
}

@test "a test that lists a directory forces the export, and -v info says why" {
	export CST_CACHE_DIR=
	cat > debian.yaml <<'YAML'
schemaVersion: 2.0.0
licenseTests:
  - debian: true
YAML
	run_cst test --image cst-test/paths:1 --config debian.yaml --read-plan=paths -v info
	echo "$output"; echo "$errout"
	[[ "$errout" == *"read plan: the export: a license test with debian: true lists /usr/share/doc, which needs the whole tree (--read-plan=paths cannot answer it)"* ]]
	[[ "$errout" != *"per-path reads:"* ]]
}

@test "fileSystemTests and owners by name need the whole tree: the export, as -v info says" {
	export CST_CACHE_DIR=
	cat > tree.yaml <<'YAML'
schemaVersion: 2.0.0
fileSystemTests:
  - {name: no keys, paths: ["/**"], mustNotExist: ["**/id_rsa"]}
YAML
	run_cst test --image cst-test/paths:1 --config tree.yaml --read-plan=paths -v info
	echo "$output"; echo "$errout"
	[ "$status" -eq 0 ]
	[[ "$errout" == *"read plan: the export: fileSystemTests look at every entry"* ]]
	cat > owner.yaml <<'YAML'
schemaVersion: 2.0.0
fileExistenceTests:
  - {name: root owns /etc, path: /etc, owner: root}
YAML
	run_cst test --image cst-test/paths:1 --config owner.yaml -v info
	echo "$output"; echo "$errout"
	[ "$status" -eq 0 ]
	[[ "$errout" == *"read plan: the export: owner and group by name are looked up in /etc/passwd and /etc/group"* ]]
}

@test "a path in a volume of the image is read from the export, whatever the plan" {
	export CST_CACHE_DIR=
	# An archive request shows the container's volumes mounted; the
	# export shows the image's own files there.
	cat > volume.yaml <<'YAML'
schemaVersion: 2.0.0
fileExistenceTests:
  - {name: the volume, path: /data, permissions: drwxr-xr-x, uid: 0}
  - {name: under it, path: /data/nonesuch, shouldExist: false}
YAML
	both_plans cst-test/busybox:1 volume.yaml
	grep -q "read plan: the export after all: a test looks into /data, a volume of the image" paths.err
}

@test "a per-path run saves what it learnt; a later run reads only what is missing" {
	export CST_CACHE_DIR="$T/cache"
	cat > one.yaml <<'YAML'
schemaVersion: 2.0.0
fileContentTests:
  - {name: passwd, path: /etc/passwd, expectedContents: ["^root:"]}
YAML
	cat > two.yaml <<'YAML'
schemaVersion: 2.0.0
fileContentTests:
  - {name: passwd, path: /etc/passwd, expectedContents: ["^root:"]}
  - {name: group, path: /etc/group, expectedContents: ["^root:"]}
YAML
	run_cst test --image cst-test/busybox:1 --config one.yaml --read-plan=paths -v info
	echo "$errout"
	[ "$status" -eq 0 ]
	[[ "$errout" == *"index cache: saved $T/cache/"*"-paths.idx"* ]]
	# /etc/passwd and its contents are known: only /etc/group is asked for.
	run_cst test --image cst-test/busybox:1 --config two.yaml --read-plan=paths -v info
	echo "$errout"
	[ "$status" -eq 0 ]
	[[ "$errout" == *"(partial: only what is missing is read)"* ]]
	[[ "$errout" == *"per-path reads: 1 requests (0 stats) in 1 rounds"* ]]
	# Everything known: no request at all.
	run_cst test --image cst-test/busybox:1 --config two.yaml --read-plan=paths -v info
	echo "$errout"
	[ "$status" -eq 0 ]
	[[ "$errout" == *"per-path reads: 0 requests (0 stats) in 0 rounds"* ]]
	# The partial index never stands in for the export's.
	[ ! -e "$T/cache/"*"-export.idx" ]
}

@test "--read-plan takes auto, export or paths" {
	run "$CST" test --image cst-test/busybox:1 --config files.yaml --read-plan=fast
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"invalid value 'fast' for --read-plan: expected auto, export or paths"* ]]
}
