# The front door: each target does its own set-up on a fresh Debian 12
# machine (run as root), idempotently, then does its job.
BUILD ?= build
MESON_OPTS ?=

.PHONY: all deps build demo check bench clean image image-tests

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
	$(abspath $(BUILD))/cst/cst test --image cst-test/busybox:1 --config testdata/demo/structure-tests.yaml

check: build
	@bash tests/lib/engine.sh
	@bash testdata/images/build.sh
	meson test -C $(BUILD) --print-errorlogs

# Not part of check: minutes long, and its figures depend on the machine.
bench: build
	@bash tests/lib/engine.sh
	BUILD=$(BUILD) bash tests/bench/run.sh

# cst's own image (Dockerfile), tested with its own structure tests by the
# cst inside it, run the way users run it: the engine socket and the
# current directory mounted.  BASE_IMAGE is the Debian 12 to build on.
IMAGE ?= cst:dev
BASE_IMAGE ?= debian:12-slim
DOCKER_SOCK ?= /var/run/docker.sock

image:
	@bash tests/lib/engine.sh
	docker build --build-arg BASE_IMAGE=$(BASE_IMAGE) \
		--build-arg VERSION=$$(sed -n "s/^ *version : '\(.*\)',/\1/p" meson.build) \
		--build-arg VCS_REF=$$(git rev-parse --short=7 HEAD) \
		--build-arg BUILD_DATE=$$(date -u +%Y-%m-%dT%H:%M:%SZ) \
		-t $(IMAGE) .

image-tests:
	docker run --rm -v $(DOCKER_SOCK):/var/run/docker.sock --group-add $$(stat -c %g $(DOCKER_SOCK)) \
		-v "$$PWD:/work" $(IMAGE) test --image $(IMAGE) --config tests/image/structure-tests.yaml

clean:
	rm -rf $(BUILD)
