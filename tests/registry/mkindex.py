#!/usr/bin/python3
"""A two-platform image (an OCI index of linux/amd64 and linux/arm64),
built with the standard library and the zstd tool, then either uploaded to
a registry through the distribution API or written as an OCI layout.

Usage: mkindex.py push REGISTRY REPO TAG   (prints the index digest)
       mkindex.py layout DIR REFNAME        (index.json names it REFNAME)

Each image has three layers, applied in order: an uncompressed base
(/etc/base, /etc/gone), a gzip layer (/etc/platform, and a whiteout of
/etc/gone) for amd64 or a zstd one for arm64, and a gzip layer of the
platform's own file (/etc/only-amd64 or /etc/only-arm64).  The index also
lists an attestation manifest for the amd64 image, as BuildKit writes one
(platform unknown/unknown, an in-toto layer): never an image to test.
"""

import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import urllib.request

MTIME = 1700000000


def tar_of(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for name, data in files:
            ti = tarfile.TarInfo(name)
            ti.mtime = MTIME
            ti.mode = 0o644
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def gz(data):
    return gzip.compress(data, mtime=0)


def zst(data):
    return subprocess.run(["zstd", "-q", "-c"], input=data, stdout=subprocess.PIPE, check=True).stdout


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def images():
    """(platform, manifest bytes, blobs) per platform."""
    base = tar_of([("etc/base", b"base\n"), ("etc/gone", b"removed above\n")])
    out = []
    for arch, comp, mt in (("amd64", gz, "tar+gzip"), ("arm64", zst, "tar+zstd")):
        layers = [
            (base, "application/vnd.oci.image.layer.v1.tar"),
            (comp(tar_of([("etc/platform", arch.encode() + b"\n"), ("etc/.wh.gone", b"")])),
             "application/vnd.oci.image.layer.v1." + mt),
            (gz(tar_of([("etc/only-" + arch, b"yes\n")])), "application/vnd.oci.image.layer.v1.tar+gzip"),
        ]
        diff_ids = []
        for blob, _ in layers:
            raw = blob
            if blob[:2] == b"\x1f\x8b":
                raw = gzip.decompress(blob)
            elif blob[:4] == b"\x28\xb5\x2f\xfd":
                raw = subprocess.run(["zstd", "-q", "-d", "-c"], input=blob, stdout=subprocess.PIPE,
                                     check=True).stdout
            diff_ids.append(digest(raw))
        config = json.dumps({
            "architecture": arch, "os": "linux",
            "config": {"Env": ["PLATFORM=" + arch], "WorkingDir": "/etc", "Labels": {"arch": arch}},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }, sort_keys=True).encode()
        manifest = json.dumps({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(config),
                       "size": len(config)},
            "layers": [{"mediaType": m, "digest": digest(b), "size": len(b)} for b, m in layers],
        }, sort_keys=True).encode()
        out.append((arch, manifest, [config] + [b for b, _ in layers]))
    return out


def attestation(imgs):
    """(manifest bytes, blobs) of an attestation of the first image."""
    statement = json.dumps({"_type": "https://in-toto.io/Statement/v0.1",
                            "subject": [{"name": "_", "digest": {"sha256": digest(imgs[0][1])[7:]}}],
                            "predicateType": "https://slsa.dev/provenance/v0.2", "predicate": {}},
                           sort_keys=True).encode()
    config = json.dumps({"architecture": "unknown", "os": "unknown", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [digest(statement)]}}, sort_keys=True).encode()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(config),
                   "size": len(config)},
        "layers": [{"mediaType": "application/vnd.in-toto+json", "digest": digest(statement),
                    "size": len(statement),
                    "annotations": {"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"}}],
    }, sort_keys=True).encode()
    return manifest, [config, statement]


def index_of(imgs, annotate=None):
    descs = []
    for arch, manifest, _ in imgs:
        descs.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest(manifest),
                      "size": len(manifest), "platform": {"os": "linux", "architecture": arch}})
    att, _ = attestation(imgs)
    descs.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest(att),
                  "size": len(att), "platform": {"os": "unknown", "architecture": "unknown"},
                  "annotations": {"vnd.docker.reference.digest": digest(imgs[0][1]),
                                  "vnd.docker.reference.type": "attestation-manifest"}})
    return json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                       "manifests": descs}, sort_keys=True).encode()


def http(method, url, data=None, ctype=None):
    req = urllib.request.Request(url, data=data, method=method)
    if ctype:
        req.add_header("Content-Type", ctype)
    with urllib.request.urlopen(req) as r:
        return r.status, r.headers


def push(registry, repo, tag):
    base = "http://%s/v2/%s" % (registry, repo)
    imgs = images()
    for _, manifest, blobs in imgs + [(None,) + attestation(imgs)]:
        for b in blobs:
            _, h = http("POST", base + "/blobs/uploads/")
            loc = h["Location"]
            if loc.startswith("/"):
                loc = "http://" + registry + loc
            http("PUT", loc + ("&" if "?" in loc else "?") + "digest=" + digest(b), b,
                 "application/octet-stream")
        http("PUT", base + "/manifests/" + digest(manifest), manifest, "application/vnd.oci.image.manifest.v1+json")
    index = index_of(imgs)
    http("PUT", base + "/manifests/" + tag, index, "application/vnd.oci.image.index.v1+json")
    print(digest(index))


def layout(out, refname):
    imgs = images()
    os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)
    def put(b):
        with open(os.path.join(out, "blobs", "sha256", digest(b)[7:]), "wb") as f:
            f.write(b)
    descs = []
    att, att_blobs = attestation(imgs)
    for b in att_blobs + [att]:
        put(b)
    for arch, manifest, blobs in imgs:
        for b in blobs + [manifest]:
            put(b)
        # One image per name: "REFNAME-amd64", "REFNAME-arm64"; the index
        # of both under REFNAME.
        descs.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest(manifest),
                      "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": refname + "-" + arch}})
    index = index_of(imgs)
    put(index)
    descs.append({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest(index),
                  "size": len(index), "annotations": {"org.opencontainers.image.ref.name": refname}})
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": descs}, f)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "push":
        push(*sys.argv[2:])
    elif len(sys.argv) == 4 and sys.argv[1] == "layout":
        layout(*sys.argv[2:])
    else:
        sys.exit(__doc__)
