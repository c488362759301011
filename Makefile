# The front door: each target does its own set-up on a fresh Debian 12
# machine (run as root), idempotently, then does its job.
BUILD ?= build
MESON_OPTS ?=

.PHONY: all deps build demo check bench clean

all: build

deps:
	@bash build-aux/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(MESON_OPTS) $(BUILD)

build: deps $(BUILD)/build.ninja
	meson compile -C $(BUILD)

demo: build
	@bash tests/lib/engine.sh
	@bash testdata/images/build.sh busybox
	./$(BUILD)/cst test --image cst-test/busybox:1 --config testdata/demo/structure-tests.yaml

check: build
	@bash tests/lib/engine.sh
	@bash testdata/images/build.sh
	meson test -C $(BUILD) --print-errorlogs

clean:
	rm -rf $(BUILD)
