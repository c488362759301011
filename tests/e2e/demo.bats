#!/usr/bin/env bats
# The README's first command, as a user runs it: `make demo` sets up,
# builds the sample image and runs its structure tests with the docker
# driver.  Run against the build this suite belongs to, so nothing is
# configured twice.

@test "make demo passes on the sample image" {
	src="$CST_TESTS/.."
	# bats puts its own libexec first on PATH; a reconfigure started by
	# make must not find that `bats` instead of the real one.
	path=$(tr ':' '\n' <<<"$PATH" | grep -v bats-core | paste -sd: -)
	PATH="$path" run make -C "$src" demo BUILD="$CST_BUILD"
	echo "$output" | tail -20
	[ "$status" -eq 0 ]
	[[ "$output" == *"Passes:      9"* ]]
	[[ "$output" == *"PASS"* ]]
}
