# cst's own image: the cst binary and the shared libraries it links, nothing
# else (no shell, no package manager), running as a non-root user.
#
#   docker build --build-arg BASE_IMAGE=debian:12-slim -t cst .
#   docker run --rm -v /var/run/docker.sock:/var/run/docker.sock \
#       --group-add "$(stat -c %g /var/run/docker.sock)" \
#       -v "$PWD:/work" cst test --image app:1.2.3 --config structure-tests.yaml
#
# The user is 65532, so reaching the engine's socket takes the socket's
# group (--group-add above) or --user 0.  Paths on the command line are
# read relative to /work, where the current directory is mounted.
#
# BASE_IMAGE is the Debian 12 the build stage compiles on; it must be able
# to install packages with apt.  The runtime stage copies the binary, the
# libraries `ldd` names and the dynamic loader onto an empty image, so it
# only works for a dynamically linked glibc build, as this one is.
ARG BASE_IMAGE=debian:12-slim

FROM ${BASE_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      gcc libc6-dev pkg-config meson ninja-build ca-certificates \
      libyaml-dev libjansson-dev libarchive-dev libpcre2-dev libcurl4-openssl-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY meson.build meson_options.txt ./
COPY include include
COPY cst cst
COPY doc doc
COPY schemas schemas
COPY completions completions
RUN meson setup --buildtype=release -Dtests=false --prefix=/usr/local /build \
 && meson compile -C /build \
 && DESTDIR=/install meson install -C /build --no-rebuild
# The runtime file system: cst, the CA certificates libcurl checks
# registries' TLS with (at the path Debian's libcurl is built to read),
# then every library ldd resolves (the loader's own line has no "=>"), each
# at the path the loader looks for it.
RUN set -e; \
    mkdir -p /rootfs/usr/local/bin /rootfs/usr/local/share/cst /rootfs/work /rootfs/tmp; \
    chmod 1777 /rootfs/tmp; \
    install -m 0755 /install/usr/local/bin/cst /rootfs/usr/local/bin/cst; \
    cp /install/usr/local/share/cst/cst-config.schema.json /rootfs/usr/local/share/cst/; \
    mkdir -p /rootfs/etc/ssl/certs; \
    cp -L /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/; \
    ldd /rootfs/usr/local/bin/cst | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' \
      | sort -u | while read -r lib; do cp --parents -L "$lib" /rootfs; done; \
    chown 65532:65532 /rootfs/work

FROM scratch AS runtime
ARG VERSION=0.0.0
ARG VCS_REF=unknown
ARG BUILD_DATE=1970-01-01T00:00:00Z
ARG SOURCE=
LABEL org.opencontainers.image.title="cst" \
      org.opencontainers.image.description="Container structure tests: checks that an image is built the way you meant" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${VCS_REF}" \
      org.opencontainers.image.created="${BUILD_DATE}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE}"
COPY --from=build /rootfs/ /
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/cst"]
CMD ["--help"]
