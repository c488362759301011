#!/usr/bin/python3
"""A classic `docker save` archive (manifest.json, <id>/layer.tar) written
as an OCI image layout directory, each layer gzip'd (as a registry would
hold it) and named by the digest of its compressed bytes.  The gzip header
carries no time, so the same layer gives the same blob in every layout.

Usage: save2oci.py SAVE.tar DIR     (prints one layer digest a line, bottom first)
"""

import gzip
import hashlib
import json
import os
import sys
import tarfile


def put_blob(out, data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(out, "blobs", "sha256", digest), "wb") as f:
        f.write(data)
    return "sha256:" + digest, len(data)


def main(save, out):
    os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)
    with tarfile.open(save) as tf:
        manifest = json.load(tf.extractfile("manifest.json"))[0]
        config = tf.extractfile(manifest["Config"]).read()
        layers = []
        for name in manifest["Layers"]:
            raw = tf.extractfile(name).read()
            layers.append(put_blob(out, gzip.compress(raw, mtime=0)))
    cdigest, csize = put_blob(out, config)
    doc = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cdigest, "size": csize},
        "layers": [
            {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": s}
            for d, s in layers
        ],
    }
    mdigest, msize = put_blob(out, json.dumps(doc).encode())
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": mdigest, "size": msize}]}, f)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    for d, _ in layers:
        print(d)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
