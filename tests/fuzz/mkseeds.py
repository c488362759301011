#!/usr/bin/python3
"""Writes the seed inputs of the fuzz harnesses: tests/fuzz/corpus/<harness>/.

Usage: mkseeds.py [OUTDIR]   (default: corpus/ beside this script)

The seeds are small valid (and nearly valid) inputs in each harness's
input format, so that fuzzing starts from the shapes cst really reads.
The config harnesses also start from every config under testdata/
(tests/fuzz/run.sh adds those).
"""

import gzip
import io
import json
import os
import sys
import tarfile

H1, H2, HA, HB = ("sha256:" + c * 64 for c in "12ab")


def tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, kind, data in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            if kind == "d":
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                tf.addfile(ti)
            elif kind == "l":
                ti.type = tarfile.SYMTYPE
                ti.linkname = data
                tf.addfile(ti)
            elif kind == "h":
                ti.type = tarfile.LNKTYPE
                ti.linkname = data
                tf.addfile(ti)
            else:
                ti.size = len(data)
                ti.mode = 0o644
                tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def j(obj):
    return json.dumps(obj).encode()


CONFIG = {"architecture": "amd64", "os": "linux",
          "config": {"Env": ["PATH=/bin", "A=1"], "Entrypoint": None, "Cmd": ["sh"], "WorkingDir": "/",
                     "User": "0", "ExposedPorts": {"80/tcp": {}}, "Volumes": {"/data": {}},
                     "Labels": {"k": "v"}},
          "rootfs": {"type": "layers", "diff_ids": []}}


def seeds():
    out = {}
    out["fuzz_docker_save"] = {
        "plain": j([{"Config": "cfg.json", "RepoTags": ["x:1"], "Layers": ["l1/layer.tar", "l2/layer.tar"]}]),
        "two-images": j([{"Config": "cfg.json", "RepoTags": ["a:1"], "Layers": ["l1/layer.tar"]},
                         {"Config": "cfg.json", "RepoTags": None, "Layers": []}]),
        "repeated-layer": j([{"Config": "cfg.json", "Layers": ["l1/layer.tar", "l1/layer.tar", "l2/layer.tar"]}]),
        "missing-layer": j([{"Config": "cfg.json", "Layers": ["nope/layer.tar"]}]),
        "own-config": j([{"Config": "cfg.json", "Layers": ["l1/layer.tar"]}]) + b"\0" + j(CONFIG),
        "inspect-config": j([{"Config": "cfg.json", "Layers": []}]) + b"\0" +
        j({"Config": {"Env": ["B=2"], "Cmd": "sh"}, "Os": "linux", "Architecture": "arm64"}),
    }
    layer_descs = [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": HA, "size": 1},
                   {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": HB, "size": 1}]
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": H2, "size": 1},
                "layers": layer_descs}
    mdesc = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": H1, "size": 1,
             "platform": {"os": "linux", "architecture": "amd64"}}
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [mdesc]}
    nested = {"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": H2, "size": 1,
         "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}
    inner = {"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": H1, "size": 1,
         "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": H1, "size": 1,
         "platform": {"os": "unknown", "architecture": "unknown"},
         "annotations": {"vnd.docker.reference.type": "attestation-manifest"}}]}
    out["fuzz_oci"] = {
        "index-manifest-config": j(index) + b"\0" + j(manifest) + b"\0" + j(CONFIG),
        "nested-index": j(nested) + b"\0" + j({**manifest, "config": {"digest": HA, "size": 1}}) + b"\0" + j(inner),
        "self-reference": j({"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": H1, "size": 1}]}) + b"\0" +
        j({"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": H1, "size": 1}]}),
        "bad-digest": j({"schemaVersion": 2, "manifests": [{"digest": "sha256:../../etc/passwd"}]}),
    }
    base = [("etc/", "d", b""), ("etc/passwd", "f", b"root:x:0:0\n"), ("a/", "d", b""),
            ("a/b", "l", "../etc/passwd"), ("a/c", "h", "etc/passwd"), ("a/d/e", "f", b"deep")]
    out["fuzz_layer"] = {
        "tree.tar": tar(base),
        "whiteouts.tar": tar(base + [(".wh.a", "f", b""), ("etc/.wh..wh..opq", "f", b""),
                                     (".wh.never-there", "f", b"")]),
        "tree.tar.gz": gzip.compress(tar(base), mtime=0),
        "loops.tar": tar([("a", "l", "b"), ("b", "l", "/a"), ("lib", "l", "a/../.."), ("x/y", "l", "/x")]),
        "later-hardlink.tar": tar([("a", "h", "etc/passwd"), ("etc/passwd", "f", b"late")]),
        "long-name.tar": tar([("/".join(["d"] * 200) + "/f", "f", b"x")]),
    }
    out["fuzz_regex"] = {
        "simple": b"^root:x:0:0\0root:x:0:0:root:/root\n",
        "backtrack": b"(a+)+$\0" + b"a" * 40 + b"b",
        "utf8": b"\\w+\xc3\xa9\0caf\xc3\xa9",
        "invalid-utf8": b".*\0\xff\xfe\x80abc",
        "dollar": b"x$\0x\n",
        "backref": b"(a*)*\\1b\0" + b"a" * 30,
    }
    frames = (b"\x01\0\0\0\0\0\0\x03out" + b"\x02\0\0\0\0\0\0\x03err" + b"\x03\0\0\0\0\0\0\x04oops")
    out["fuzz_engine"] = {
        "demux": b"\x00\x05" + frames,
        "demux-tty": b"\x01\x03raw output\n",
        "error-json": b"\x02" + j({"message": "No such image: x:1"}),
        "error-text": b"\x02page not found\n",
        "api-version": b"\x03Api-Version: 1.43\r\n",
        "version-cmp": b"\x041.41\x001.9",
        "env-file": b"\x05# comment\nA=1\n  B = 2\nHOME\n\n=bad\n",
        "base64": b"\x06dXNlcjpwYXNz",
        "auth": b"\x07" + j({"auths": {"registry.example": {"auth": "dXNlcjpwYXNz"}}}) + b"\0registry.example/x:1",
        "reference": b"\x08localhost:5000/a/b@sha256:" + b"a" * 64,
        "endpoint": b"\x09tcp://localhost:2376\x001\x00/certs",
        "inspect": b"\x0a" + j({"Config": {"Env": ["A=1"], "Entrypoint": ["/x"], "Labels": None}, "Os": "linux"}),
    }
    out["fuzz_config_yaml"] = {
        "anchors.yaml": b"schemaVersion: '2.0.0'\nx: &env [{key: A, value: '1'}]\nglobalEnvVars: *env\n"
                        b"commandTests:\n  - &c {name: a, command: echo, expectedOutput: ['(a+)+$']}\n"
                        b"  - <<: *c\n    name: b\n",
        "nul.yaml": b"schemaVersion: \"2.0.0\"\nfileExistenceTests:\n  - name: \"a\\0b\"\n    path: \"/etc\\0x\"\n",
        "non-utf8.yaml": b"schemaVersion: 2.0.0\nfileContentTests:\n  - name: \xff\xfe\n    path: /x\n",
    }
    out["fuzz_config_json"] = {
        "nul.json": b'{"schemaVersion": "2.0.0", "fileExistenceTests": [{"name": "a\\u0000b", "path": "/x"}]}',
        "surrogates.json": b'{"schemaVersion": "2.0.0", "commandTests": [{"name": "\\ud83d\\ude00 \\ud800", '
                           b'"command": "echo", "exitCode": 1e3}]}',
    }
    return out


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                                 "corpus")
    for harness, files in seeds().items():
        d = os.path.join(outdir, harness)
        os.makedirs(d, exist_ok=True)
        for name, data in files.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
