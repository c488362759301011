#!/usr/bin/env bats
# Finding the engine as the docker CLI does (DOCKER_HOST, DOCKER_CONTEXT,
# currentContext, the default socket) and reaching it through each
# transport: a unix socket, tcp+TLS (a TLS relay of socat's to the engine's
# socket, with certificates made here), and ssh:// (Debian's sshd started
# here on 127.0.0.1).  The same short config passes through each; an ssh
# host that refuses, or dies mid-run, ends the run with exit 2 naming it.

setup_file() {
	. "$CST_TESTS/lib/run.sh"
	cst_engine_setup busybox || return $?
}

setup() {
	: "${CST_BIN:?CST_BIN is set by meson test}"
	T="$BATS_TEST_TMPDIR"
	cd "$T"
	. "$CST_TESTS/lib/run.sh"
	# The CLI's store of this test only: never the user's ~/.docker.
	export DOCKER_CONFIG="$T/docker-config"
	mkdir -p "$DOCKER_CONFIG"
	unset DOCKER_HOST DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
	# ssh's control socket goes under TMPDIR: this test's, to look for
	# leftover ssh processes by it.
	export TMPDIR="$T"
	cat > short.yaml <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: echo
    command: sh
    args: ["-c", "echo hello; echo oops >&2"]
    expectedOutput: ["^hello\n$"]
    expectedError: ["oops"]
  - name: exit code
    command: sh
    args: ["-c", "exit 3"]
    exitCode: 3
  - name: setup is committed
    setup: [["sh", "-c", "echo made > /made.txt"]]
    command: cat
    args: ["/made.txt"]
    expectedOutput: ["^made\n$"]
fileExistenceTests:
  - name: root
    path: /
fileContentTests:
  - name: through a symlink
    path: /etc/cst/hello-link
    expectedContents: ["second line"]
YAML
}

teardown() {
	[ -n "${pid:-}" ] && kill -KILL "$pid" 2>/dev/null || true
	for f in "$T/sshd.pid" "$T/socat.pid"; do
		[ -f "$f" ] && kill_tree "$(cat "$f")"
	done
	return 0
}

# A process with every descendant named like it: sshd's per-connection
# processes leave its process group (setsid), so only the tree finds them
# all.  Stopped first, so that nothing forks in between.  The sessions'
# own processes (the login shell, docker system dial-stdio) are left to
# see their connection end, as when a host goes away: killed, a login
# shell could leave its rc files' locks behind.
kill_tree() { # pid
	local c name
	name=$(ps -o comm= -p "$1") || return 0
	kill -STOP "$1" 2>/dev/null || return 0
	for c in $(pgrep -P "$1"); do
		[ "$(ps -o comm= -p "$c")" = "$name" ] && kill_tree "$c"
	done
	kill -KILL "$1" 2>/dev/null || true
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The short config passed: 5 tests, exit 0, nothing left on the engine.
passed_short() {
	echo "$output"
	echo "$errout"
	[ "$status" -eq 0 ]
	grep -q "^Passes: *5$" "$T/stdout"
	[ "$(left_by "$pid")" -eq 0 ]
}

# Debian's sshd on a free port of 127.0.0.1, root allowed with a key made
# here; an `ssh` first on PATH that uses this test's key and known_hosts
# (cst runs the ssh on PATH, which reads the user's own configuration).
# Sets SSH_PORT and PATH; sshd's pid in $T/sshd.pid.
start_sshd() {
	local d="$T/ssh"
	mkdir -p "$d/bin" /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$d/host_key"
	ssh-keygen -q -t ed25519 -N '' -f "$d/client_key"
	cp "$d/client_key.pub" "$d/authorized_keys"
	SSH_PORT=$(free_port)
	cat > "$d/sshd_config" <<-EOF
	ListenAddress 127.0.0.1
	HostKey $d/host_key
	AuthorizedKeysFile $d/authorized_keys
	PermitRootLogin prohibit-password
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	UsePAM no
	StrictModes no
	PidFile none
	EOF
	cat > "$d/ssh_config" <<-EOF
	Host *
	  IdentityFile $d/client_key
	  IdentitiesOnly yes
	  UserKnownHostsFile $d/known_hosts
	  StrictHostKeyChecking accept-new
	EOF
	printf '#!/bin/sh\nexec /usr/bin/ssh -F %s "$@"\n' "$d/ssh_config" > "$d/bin/ssh"
	chmod +x "$d/bin/ssh"
	export PATH="$d/bin:$PATH"
	setsid /usr/sbin/sshd -D -e -f "$d/sshd_config" -p "$SSH_PORT" 2>"$T/sshd.log" 3>&- &
	echo $! > "$T/sshd.pid"
	disown
	wait_for 30 grep -q "Server listening on 127.0.0.1 port $SSH_PORT" "$T/sshd.log" || {
		cat "$T/sshd.log"
		return 1
	}
}

# No ssh of cst's left: they all carry this test's control path.
no_ssh_left() {
	! pgrep -f "ControlPath=$T/cst-ssh-" >/dev/null
}

@test "DOCKER_CONTEXT names a unix context: the config passes and -v info says which engine and why" {
	docker context create cst-unix --docker host=unix:///var/run/docker.sock >/dev/null
	DOCKER_CONTEXT=cst-unix run_cst test -v info --image cst-test/busybox:1 --config short.yaml
	passed_short
	grep -q "^cst: engine unix:///var/run/docker.sock (context cst-unix, DOCKER_CONTEXT)$" "$T/stderr"

	run_cst test -v info --image cst-test/busybox:1 --config short.yaml
	passed_short
	grep -q "^cst: engine unix:///var/run/docker.sock (default)$" "$T/stderr"
}

@test "a tcp+TLS context as currentContext; DOCKER_CONTEXT and DOCKER_HOST take precedence" {
	# A CA, a server certificate for 127.0.0.1 and a client certificate.
	d="$T/tls"
	mkdir -p "$d"
	cd "$d"
	key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }
	key ca-key.pem
	openssl req -x509 -new -key ca-key.pem -out ca.pem -days 2 -subj /CN=cst-test-ca
	key server-key.pem
	openssl req -new -key server-key.pem -out server.csr -subj /CN=127.0.0.1
	printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile server.ext \
		-out server.pem 2>/dev/null
	key key.pem
	openssl req -new -key key.pem -out client.csr -subj /CN=cst-client
	printf 'extendedKeyUsage=clientAuth\n' > client.ext
	openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile client.ext \
		-out cert.pem 2>/dev/null
	cd "$T"
	# The engine behind TLS.  (socat cannot also check the client's
	# certificate: it refuses the TLS session resumption libcurl asks for.)
	port=$(free_port)
	setsid socat "OPENSSL-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork,cert=$d/server.pem,key=$d/server-key.pem,verify=0" \
		UNIX-CONNECT:/var/run/docker.sock 2>"$T/socat.log" 3>&- &
	echo $! > "$T/socat.pid"
	disown
	wait_for 30 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null || { cat "$T/socat.log"; false; }

	docker context create cst-tls --docker "host=tcp://127.0.0.1:$port,ca=$d/ca.pem,cert=$d/cert.pem,key=$d/key.pem" >/dev/null
	docker context create cst-unix --docker host=unix:///var/run/docker.sock >/dev/null
	docker context use cst-tls >/dev/null
	docker ps >/dev/null # the CLI itself gets through

	run_cst test -v info --image cst-test/busybox:1 --config short.yaml
	passed_short
	grep -q "^cst: engine tcp://127.0.0.1:$port (TLS) (context cst-tls, currentContext in $DOCKER_CONFIG/config.json)$" "$T/stderr"

	DOCKER_CONTEXT=cst-unix run_cst test -v info --image cst-test/busybox:1 --config short.yaml
	passed_short
	grep -q "(context cst-unix, DOCKER_CONTEXT)$" "$T/stderr"

	# DOCKER_HOST first, even over DOCKER_CONTEXT: a socket that is not
	# there fails, naming it.
	DOCKER_CONTEXT=cst-tls DOCKER_HOST=unix://$T/no.sock run_cst test --image cst-test/busybox:1 --config short.yaml
	echo "$errout"
	[ "$status" -eq 2 ]
	grep -q "unix://$T/no.sock" "$T/stderr"

	# The engine's certificate is checked against the context's CA: with
	# another CA, no connection.
	hex=$(printf %s cst-tls | sha256sum | cut -d' ' -f1)
	cp "$DOCKER_CONFIG/contexts/tls/$hex/docker/ca.pem" "$T/ca.pem"
	openssl req -x509 -new -key "$d/key.pem" -out "$DOCKER_CONFIG/contexts/tls/$hex/docker/ca.pem" -days 2 -subj /CN=other-ca
	run_cst test --image cst-test/busybox:1 --config short.yaml
	echo "$errout"
	[ "$status" -eq 2 ]
	grep -q "127.0.0.1:$port" "$T/stderr"
	cp "$T/ca.pem" "$DOCKER_CONFIG/contexts/tls/$hex/docker/ca.pem"

	# A TLS file that is not PEM: exit 2 naming the file, before any
	# connection.
	echo broken > "$DOCKER_CONFIG/contexts/tls/$hex/docker/key.pem"
	run_cst test --image cst-test/busybox:1 --config short.yaml
	echo "$errout"
	[ "$status" -eq 2 ]
	grep -q "context 'cst-tls': the TLS file .*/key.pem is not PEM" "$T/stderr"
}

@test "an unknown context or a malformed config.json: exit 2 naming it" {
	DOCKER_CONTEXT=no-such run_cst test --image cst-test/busybox:1 --config short.yaml
	echo "$errout"
	[ "$status" -eq 2 ]
	grep -q "context 'no-such' not found" "$T/stderr"
	[ ! -s "$T/stdout" ]

	echo '{"currentContext": ' > "$DOCKER_CONFIG/config.json"
	run_cst test --image cst-test/busybox:1 --config short.yaml
	echo "$errout"
	[ "$status" -eq 2 ]
	grep -q "$DOCKER_CONFIG/config.json:.*malformed JSON" "$T/stderr"
}

@test "DOCKER_HOST=ssh://: the config passes as through the socket, with --jobs, and no ssh is left" {
	start_sshd
	DOCKER_HOST="ssh://root@127.0.0.1:$SSH_PORT" run_cst test -v info --jobs 3 --image cst-test/busybox:1 --config short.yaml
	passed_short
	grep -q "^cst: engine ssh://root@127.0.0.1:$SSH_PORT (DOCKER_HOST)$" "$T/stderr"
	no_ssh_left

	# The same through a context.
	docker context create cst-ssh --docker "host=ssh://root@127.0.0.1:$SSH_PORT" >/dev/null
	DOCKER_CONTEXT=cst-ssh run_cst test -v info --image cst-test/busybox:1 --config short.yaml
	passed_short
	grep -q "^cst: engine ssh://root@127.0.0.1:$SSH_PORT (context cst-ssh, DOCKER_CONTEXT)$" "$T/stderr"
	no_ssh_left
}

@test "an ssh host that refuses or wants a password: exit 2 naming the host" {
	start_sshd
	closed=$(free_port)
	DOCKER_HOST="ssh://root@127.0.0.1:$closed" run_cst test --image cst-test/busybox:1 --config short.yaml
	echo "$errout"
	[ "$status" -eq 2 ]
	grep -q "ssh://root@127.0.0.1:$closed.*refused" "$T/stderr"

	# No key that sshd takes, and batch mode: no prompt, a refusal.
	rm "$T/ssh/authorized_keys"
	DOCKER_HOST="ssh://root@127.0.0.1:$SSH_PORT" run_cst test --image cst-test/busybox:1 --config short.yaml
	echo "$errout"
	[ "$status" -eq 2 ]
	grep -q "ssh://root@127.0.0.1:$SSH_PORT.*Permission denied" "$T/stderr"
	no_ssh_left
}

@test "SIGTERM during command tests over ssh: 143, nothing left, no ssh left" {
	start_sshd
	cat > slow.yaml <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: a
    command: sleep
    args: ["60"]
  - name: b
    command: sleep
    args: ["60"]
YAML
	DOCKER_HOST="ssh://root@127.0.0.1:$SSH_PORT" start_cst test --jobs 2 --image cst-test/busybox:1 --config slow.yaml
	wait_for 120 sh -c "[ \"\$(docker ps -q --filter label=dev.cst.pid=$pid | wc -l)\" -ge 2 ]"
	kill -TERM "$pid"
	wait_cst 60
	cat "$T/stderr"
	[ "$status" -eq 143 ]
	[ "$(left_by "$pid")" -eq 0 ]
	no_ssh_left
}

@test "sshd killed mid-run: exit 2 within seconds naming the host; the next run removes the leftovers" {
	start_sshd
	cat > slow.yaml <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: a
    command: sleep
    args: ["60"]
  - name: b
    command: sleep
    args: ["60"]
YAML
	DOCKER_HOST="ssh://root@127.0.0.1:$SSH_PORT" start_cst test --jobs 2 --image cst-test/busybox:1 --config slow.yaml
	wait_for 120 sh -c "[ \"\$(docker ps -q --filter label=dev.cst.pid=$pid | wc -l)\" -ge 2 ]"
	# sshd with every session it serves.
	kill_tree "$(cat "$T/sshd.pid")"
	# Well before the 60 s the tests would take.
	wait_cst 40
	echo "status $status"
	cat "$T/stderr"
	[ "$status" -eq 2 ]
	grep -q "ssh://root@127.0.0.1:$SSH_PORT" "$T/stderr"
	no_ssh_left
	killed=$pid

	# Through the socket, the next run removes what the cut one left.
	run_cst test --image cst-test/busybox:1 --config short.yaml
	passed_short
	[ "$(left_by "$killed")" -eq 0 ]
}

@test "a SIGKILLed run over ssh: the next run over ssh removes the directory it left" {
	start_sshd
	cat > slow.yaml <<'YAML'
schemaVersion: 2.0.0
commandTests:
  - name: a
    command: sleep
    args: ["60"]
YAML
	DOCKER_HOST="ssh://root@127.0.0.1:$SSH_PORT" start_cst test --image cst-test/busybox:1 --config slow.yaml
	wait_for 120 sh -c "[ \"\$(docker ps -q --filter label=dev.cst.pid=$pid | wc -l)\" -ge 1 ]"
	left=$(ls -d "$T"/cst-ssh-*)
	[ -f "$left/pid" ]
	[ "$(cat "$left/pid")" -eq "$pid" ]
	kill -KILL "$pid"
	wait_cst 30 || true
	[ -d "$left" ]
	killed=$pid

	DOCKER_HOST="ssh://root@127.0.0.1:$SSH_PORT" run_cst test --image cst-test/busybox:1 --config short.yaml
	passed_short
	[ ! -e "$left" ]
	[ -z "$(ls -d "$T"/cst-ssh-* 2>/dev/null)" ]
	# and the containers of the killed run
	[ "$(left_by "$killed")" -eq 0 ]
}
