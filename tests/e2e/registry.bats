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
	[[ "$(jq -r '.Results[0].Errors[0]' "$T/r.json")" == *"tar driver cannot run commands"* ]]
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
