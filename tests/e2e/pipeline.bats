#!/usr/bin/env bats
# The worked pipeline of testdata/pipeline run for real: make builds the
# application and its images, cst tests them (JUnit to a file), the tags are
# pushed to a registry on 127.0.0.1 (Debian's docker-registry, started here
# with its storage in a temporary directory), and the published tag is
# tested again after the local copy is gone.

setup_file() {
	. "$CST_TESTS/lib/engine.sh"
	cst_ensure_engine || {
		rc=$?
		[ "$rc" -eq 77 ] && skip "no Docker Engine"
		return "$rc"
	}
	"$CST_TESTDATA/images/build.sh" busybox

	export W="$BATS_FILE_TMPDIR/pipeline"
	cp -R "$CST_TESTDATA/pipeline" "$W"
	rm -rf "$W/build"
	# The pipeline takes its revision from git, as in a real checkout.
	git -C "$W" init -q
	git -C "$W" add -A
	git -C "$W" -c user.name=cst -c user.email=cst@example.com commit -qm "hello"
	export REV=$(git -C "$W" rev-parse --short=7 HEAD)

	# A repository name of our own, so parallel runs and leftovers never meet.
	export NAME="cst-pipeline/hello-$$-$RANDOM"
	. "$CST_TESTS/lib/run.sh"
	start_registry "$BATS_FILE_TMPDIR/registry"
	export MAKEARGS="NAME=$NAME REGISTRY=$REGISTRY CST=$CST_BIN"
}

teardown_file() {
	local pidfile="$BATS_FILE_TMPDIR/registry/pid"
	if [ -f "$pidfile" ]; then
		kill "$(cat "$pidfile")" 2>/dev/null || true
	fi
	if [ -n "${NAME:-}" ]; then
		docker image ls --format '{{.Repository}}:{{.Tag}}' |
			grep -F "$NAME" | xargs -r docker rmi -f >/dev/null 2>&1 || true
	fi
	# Builds of the same tag with other arguments left earlier ones untagged.
	docker image prune -f --filter label=org.opencontainers.image.source=https://example.com/hello.git \
		>/dev/null 2>&1 || true
}

setup() {
	cd "$W"
}

@test "make all TAG=1.2.3: build, test, tag and publish, in order" {
	run make all TAG=1.2.3 $MAKEARGS
	echo "$output" | grep -v -e '^ ---> ' -e '^Removing intermediate' | tail -n 40
	[ "$status" -eq 0 ]

	# Metadata recorded once: an RFC 3339 UTC date and an ID made of the
	# same second and the revision.
	. build/metadata.env
	[[ "$BUILD_DATE" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]]
	[ "$VCS_REF" = "$REV" ]
	[ "$BUILD_ID" = "$(printf '%s' "$BUILD_DATE" | tr -d ':-')-$REV" ]
	[ "$VERSION" = 1.2.3 ]

	# The steps ran in pipeline order.
	tests_at=$(grep -n '^image-tests: .* passed' <<<"$output" | cut -d: -f1)
	tag_at=$(grep -n '^tag: ' <<<"$output" | head -n 1 | cut -d: -f1)
	publish_at=$(grep -n '^publish: ' <<<"$output" | head -n 1 | cut -d: -f1)
	[ -n "$tests_at" ] && [ "$tests_at" -lt "$tag_at" ] && [ "$tag_at" -lt "$publish_at" ]

	# The JUnit report, as a CI server reads it.
	PY=python3
	[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
	"$PY" "$CST_TESTS/ci/read_junit.py" build/image-tests.xml >"$BATS_TEST_TMPDIR/junit.json"
	"$PY" - "$BATS_TEST_TMPDIR/junit.json" <<-'PY'
	import json, sys
	r = json.load(open(sys.argv[1]))
	assert (r["tests"], r["failures"], r["errors"]) == (13, 0, 0), r
	names = [c["name"] for c in r["cases"]]
	assert "Command Test: version names the release and the revision" in names, names
	assert "Metadata Test" in names, names
	PY

	# The registry holds the unique tag and the semantic version aliases.
	tags=$(curl -fsS "http://$REGISTRY/v2/$NAME/tags/list" |
		python3 -c 'import json, sys; print(" ".join(sorted(json.load(sys.stdin)["tags"])))')
	[ "$tags" = "$(printf '%s\n' "$BUILD_ID" 1.2.3 1.2 1 | sort | tr '\n' ' ' | sed 's/ $//')" ]

	# The debug image was built too, with its shell.
	[ "$(docker image inspect -f '{{json .Config.Entrypoint}}' "$NAME:$BUILD_ID-debug")" = '["/bin/sh"]' ]
}

@test "the debug image against the runtime's expectations fails make image-tests with a clear report" {
	run make image-tests TEST_TARGET=app-image-debug $MAKEARGS
	[ "$status" -ne 0 ]
	echo "$output" | grep -v -e '^ ---> ' -e '^Removing intermediate' | tail -n 30
	[[ "$output" == *"image-tests: $NAME:"*"-debug FAILED"* ]]
	# The log names each broken expectation ...
	[[ "$output" == *"=== RUN: File Existence Test: no shell"*"--- FAIL"* ]]
	[[ "$output" == *"File /bin/sh should not exist"* ]]
	[[ "$output" == *"entrypoint [/bin/sh]"* ]]
	[[ "$output" == *"Failures:    2"* ]]
	# ... and the JUnit report for the CI server says the same.
	PY=python3
	[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
	"$PY" "$CST_TESTS/ci/read_junit.py" build/image-tests.xml >"$BATS_TEST_TMPDIR/junit.json"
	"$PY" - "$BATS_TEST_TMPDIR/junit.json" <<-'PY'
	import json, sys
	r = json.load(open(sys.argv[1]))
	assert (r["tests"], r["failures"]) == (13, 2), r
	failed = {c["name"]: c["failures"] for c in r["cases"] if not c["passed"]}
	assert set(failed) == {"File Existence Test: no shell", "Metadata Test"}, failed
	assert any("/bin/sh" in m for m in failed["Metadata Test"]), failed
	PY
}

@test "make tag refuses a TAG that is not the build's MAJOR.MINOR.PATCH before testing anything" {
	rm -f build/image-tests.xml
	run make tag TAG=1.2 $MAKEARGS
	[ "$status" -ne 0 ]
	[[ "$output" == *"TAG=1.2 is not a semantic version MAJOR.MINOR.PATCH"* ]]
	run make tag TAG=2.0.0 $MAKEARGS
	[ "$status" -ne 0 ]
	[[ "$output" == *"TAG=2.0.0 but this build is version 1.2.3"* ]]
	[ ! -e build/image-tests.xml ]
}

@test "the published tag passes cst test --pull after the local images are removed" {
	. build/metadata.env
	docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -F "$NAME:" | xargs -r docker rmi -f >/dev/null
	run docker image inspect "$REGISTRY/$NAME:1.2.3"
	[ "$status" -ne 0 ]

	run "$CST_BIN" test --pull --image "$REGISTRY/$NAME:1.2.3" --config structure-tests.yaml
	echo "$output" | tail -n 20
	[ "$status" -eq 0 ]
	[[ "$output" == *"Passes:      13"* ]]
	[ "$(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.revision"}}' \
		"$REGISTRY/$NAME:1.2.3")" = "$REV" ]
}

@test "the README's release script: a failing image is not pushed, a passing one is pushed and re-tested" {
	PY=python3
	[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
	"$PY" "$CST_TESTS/ci/readme_snippets.py" "$CST_TESTS/../README.md" get "A pre-publish release script" sh \
		>"$BATS_TEST_TMPDIR/release.sh"
	grep -q '^repo=registry.example.com/team/app$' "$BATS_TEST_TMPDIR/release.sh"
	sed -i "s|^repo=registry.example.com/team/app\$|repo=$REGISTRY/$NAME-release|" "$BATS_TEST_TMPDIR/release.sh"
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	ln -sf "$CST_BIN" "$BATS_TEST_TMPDIR/bin/cst"
	PATH="$BATS_TEST_TMPDIR/bin:$PATH"

	# Built without the pipeline's build arguments, the image has empty
	# labels: the script must stop before pushing.
	run sh "$BATS_TEST_TMPDIR/release.sh" 1.2.3
	[ "$status" -eq 1 ]
	[[ "$output" == *"failed its structure tests (cst-1.2.3.xml); not pushed"* ]]
	run curl -fsS "http://$REGISTRY/v2/$NAME-release/tags/list"
	[[ "$output" != *'"1.2.3"'* ]]

	# With the labels the pipeline records, the same script publishes and
	# verifies the pulled image.
	. build/metadata.env
	sed -i "s|^docker build -t \"\$image\" .\$|docker build --build-arg BUILD_DATE=$BUILD_DATE --build-arg VCS_REF=$VCS_REF --build-arg VERSION=1.2.3 -t \"\$image\" .|" \
		"$BATS_TEST_TMPDIR/release.sh"
	grep -q -- '--build-arg BUILD_DATE=' "$BATS_TEST_TMPDIR/release.sh"
	run sh "$BATS_TEST_TMPDIR/release.sh" 1.2.3
	echo "$output" | grep -v -e '^ ---> ' -e '^Removing intermediate' | tail -n 20
	[ "$status" -eq 0 ]
	[[ "$output" == *"published and verified"* ]]
	grep -qF 'data-fail="0"' cst-1.2.3.html
	curl -fsS "http://$REGISTRY/v2/$NAME-release/tags/list" | grep -qF '"1.2.3"'
}
