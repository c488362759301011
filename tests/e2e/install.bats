#!/usr/bin/env bats
# `meson install` as a packager runs it: a build configured with its own
# prefix, installed into a staging directory with --destdir.  Checks that
# what users meet after installing is there and works: the binary, the man
# page, bash completion and the JSON Schema.

setup_file() {
	SRC="${CST_TESTS:?CST_TESTS is set by meson test}/.."
	export STAGE="$BATS_FILE_TMPDIR/stage" PREFIX=/opt/cst
	local build="$BATS_FILE_TMPDIR/build"
	meson setup --prefix="$PREFIX" -Dtests=false "$build" "$SRC" >"$BATS_FILE_TMPDIR/setup.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/setup.log"; return 1; }
	meson compile -C "$build" -j 2 >"$BATS_FILE_TMPDIR/compile.log" 2>&1 ||
		{ tail -n 30 "$BATS_FILE_TMPDIR/compile.log"; return 1; }
	DESTDIR= meson install -C "$build" --destdir "$STAGE" --no-rebuild >"$BATS_FILE_TMPDIR/install.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/install.log"; return 1; }
}

setup() {
	ROOT="$STAGE$PREFIX"
}

@test "the binary is installed under the prefix and runs" {
	[ -x "$ROOT/bin/cst" ]
	run "$ROOT/bin/cst" version
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^cst\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
	# Nothing was installed outside the prefix.
	[ -z "$(find "$STAGE" -mindepth 1 -maxdepth 1 ! -name opt)" ]
}

@test "the man page cst(1) is installed, renders, and lists every flag of cst test --help" {
	man_page="$ROOT/share/man/man1/cst.1"
	[ -f "$man_page" ]
	text=$(MANWIDTH=200 man -l "$man_page" 2>/dev/null || true)
	if [ -z "$text" ]; then
		# No man(1) on this machine: groff renders it the same way.
		text=$(groff -man -Tutf8 "$man_page" 2>/dev/null || true)
	fi
	[ -n "$text" ] || { echo "cannot render $man_page (no man or groff)"; return 1; }
	[[ "$text" == *"cst test"* ]]
	flags=$("$ROOT/bin/cst" test --help | grep -oE -- '--[a-z][a-z-]+' | sort -u)
	[ -n "$flags" ]
	plain=$(sed 's/.\x08//g' <<<"$text")
	for f in $flags; do
		grep -qF -- "$f" <<<"$plain" || { echo "man page lacks $f"; return 1; }
	done
}

@test "the JSON Schema is installed under share/cst" {
	schema="$ROOT/share/cst/cst-config.schema.json"
	[ -f "$schema" ]
	python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert "$schema" in s and "properties" in s, list(s)' "$schema"
	cmp "$schema" "$CST_TESTS/../schemas/cst-config.schema.json"
}

@test "bash completion is installed where bash-completion looks for it" {
	[ -f "$ROOT/share/bash-completion/completions/cst" ]
	bash -n "$ROOT/share/bash-completion/completions/cst"
}

# Completes the words of a command line ending in a space (an empty word)
# or a partial word, and prints the candidates one per line.
complete_line() {
	local comp="$ROOT/share/bash-completion/completions/cst"
	bash -c '
		source "$1"; shift
		COMP_WORDS=("$@")
		COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
		_cst
		printf "%s\n" "${COMPREPLY[@]}"
	' _ "$comp" "$@"
}

@test "bash completion: subcommands, flags and their values" {
	run complete_line cst te
	[ "$output" = test ]
	run complete_line cst ""
	[[ "$output" == *validate* && "$output" == *version* && "$output" == *help* ]]
	run complete_line cst test --ou
	[ "$output" = --output ]
	run complete_line cst test -o ""
	[ "$(sort <<<"$output" | tr '\n' ' ')" = "html json junit tap text " ]
	run complete_line cst test --output=j
	[ "$(sort <<<"$output" | tr '\n' ' ')" = "--output=json --output=junit " ]
	run complete_line cst test --driver ""
	[ "$(sort <<<"$output" | tr '\n' ' ')" = "docker tar " ]
	run complete_line cst help ""
	[ "$(sort <<<"$output" | tr '\n' ' ')" = "test validate " ]
}

@test "bash completion offers every flag of cst test --help" {
	run complete_line cst test -
	[ "$status" -eq 0 ]
	offered="$output"
	flags=$("$ROOT/bin/cst" test --help | grep -oE -- '--[a-z][a-z-]+' | sort -u)
	for f in $flags; do
		grep -qxF -- "$f" <<<"$offered" || { echo "completion lacks $f"; return 1; }
	done
	# And nothing that cst does not accept.
	for f in $offered; do
		grep -qxF -- "$f" <<<"$flags" || { echo "completion offers unknown $f"; return 1; }
	done
}

@test "bash completion: --config offers YAML and JSON files, --image with the tar driver any file" {
	cd "$BATS_TEST_TMPDIR"
	touch tests.yaml other.yml conf.json notes.txt image.tar
	mkdir sub
	run complete_line cst test --config ""
	[ "$(sort <<<"$output" | tr '\n' ' ')" = "conf.json other.yml sub tests.yaml " ]
	run complete_line cst validate ""
	[ "$(sort <<<"$output" | tr '\n' ' ')" = "conf.json other.yml sub tests.yaml " ]
	run complete_line cst test --driver tar --image im
	[ "$output" = image.tar ]
}
