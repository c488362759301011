#!/usr/bin/python3
"""Writes the hostile and broken inputs of tests/e2e/hostile.bats.

Usage: mkhostile.py OUTDIR

Generated at test time (some are megabytes and would bloat the repository).
Image archives reuse the builders of tests/fixtures/mkimages.py; cases that
file already covers (a symlink loop, a symlink escaping the root, a size
field beyond the stream, a '..' in a name mid-path, a missing docker-save
layer) are tested by tests/e2e/tar.bats and tests/unit/test_fs.c and are
not repeated here.

Configs:
  big.yaml          10 MB: 5,000 file tests with long names, all passing
  many-values.yaml  10 MB: 220,000 file tests, past the loader's node limit
  anchors.yaml      60,000 anchors and 60,000 aliases to the first one
                    (a linear anchor search made this take hours)
  deep.yaml/.json   100,000 nested lists
  laughs.yaml       "billion laughs": 9 levels of 9 aliases each
  non-utf8.yaml/.json, nul.yaml/.json
  backtrack.yaml    a catastrophically backtracking regex over a file
  huge.yaml         70 MB (sparse): past the loader's size limit
Images (docker-save unless said otherwise):
  traversal.tar     an entry named ../../etc/passwd
  absolute.tar      an entry named /etc/passwd (lands inside the root)
  chain.tar         a 30-link symlink chain and a 300-link one
  hardlink-later.tar        a hardlink before its target, nothing below
  hardlink-later-lower.tar  the same over a lower layer holding the target
  deep.tar          4,096 nested directories; layer 2 whites out the top
  million.tar.gz    1,000,000 entries in one gzip'd layer
  oci-missing-blob.tar      an OCI layout whose manifest lists a missing layer
  many-layers.tar   a manifest listing 100,000 layers
  many-json.tar.gz  200,000 small JSON entries beside a valid image
"""

import io
import json
import os
import sys
import tarfile
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import mkimages as m  # noqa: E402


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def configs(out):
    head = "schemaVersion: '2.0.0'\nfileExistenceTests:\n"
    pad = "x" * 2000
    tests = "".join("  - name: 'passwd %05d %s'\n    path: /etc/passwd\n" % (i, pad) for i in range(5000))
    write(os.path.join(out, "big.yaml"), (head + tests).encode())
    tests = "".join("  - name: 'passwd %06d'\n    path: /etc/passwd\n" % i for i in range(220000))
    write(os.path.join(out, "many-values.yaml"), (head + tests).encode())

    n = 60000
    lines = [head]
    lines += ["  - &t%d {name: 'anchored %d', path: /etc/passwd}\n" % (i, i) for i in range(n)]
    lines += ["  - *t0\n"] * n
    write(os.path.join(out, "anchors.yaml"), "".join(lines).encode())

    write(os.path.join(out, "deep.yaml"), b"schemaVersion: '2.0.0'\nx: " + b"[" * 100000 + b"]" * 100000 + b"\n")
    write(os.path.join(out, "deep.json"),
          b'{"schemaVersion": "2.0.0", "x": ' + b"[" * 100000 + b"]" * 100000 + b"}")

    laughs = ["schemaVersion: '2.0.0'", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, cur in zip("abcdefgh", "bcdefghi"):
        laughs.append("%s: &%s [%s]" % (cur, cur, ",".join(["*" + prev] * 9)))
    write(os.path.join(out, "laughs.yaml"), ("\n".join(laughs) + "\n").encode())

    write(os.path.join(out, "non-utf8.yaml"),
          b"schemaVersion: '2.0.0'\nfileExistenceTests:\n  - name: caf\xe9 \xff\xfe\n    path: /etc\n")
    write(os.path.join(out, "non-utf8.json"),
          b'{"schemaVersion": "2.0.0", "fileExistenceTests": [{"name": "caf\xe9", "path": "/etc"}]}')
    write(os.path.join(out, "nul.yaml"),
          b"schemaVersion: '2.0.0'\nfileExistenceTests:\n  - name: nul\n    path: \"/etc\\0/passwd\"\n")
    write(os.path.join(out, "nul.json"),
          b'{"schemaVersion": "2.0.0", "fileExistenceTests": [{"name": "nul", "path": "/etc\\u0000/passwd"}]}')

    write(os.path.join(out, "backtrack.yaml"),
          b"schemaVersion: '2.0.0'\nfileContentTests:\n  - name: backtracking\n    path: /data/aaa\n"
          b"    expectedContents: ['^(a+)+$']\n  - name: still runs after it\n    path: /data/aaa\n"
          b"    expectedContents: ['^a+b']\n")
    with open(os.path.join(out, "huge.yaml"), "wb") as f:
        f.truncate(70 << 20)


def one_layer(out, name, entries):
    m.one_layer_image(out, name, entries)


def layers_image(out, name, layer_entries):
    layers = [(m.tar_bytes(e, fmt=tarfile.PAX_FORMAT),) * 2 for e in layer_entries]
    m.write_tar(os.path.join(out, name), m.docker_save_members(layers, m.config_for(layers)))


_templates = {}


def ustar(name, typ=b"0", size=0):
    """One ustar header from a template: only the name and the checksum
    change, as TarInfo is far too slow for a million entries."""
    key = (typ, size)
    if key not in _templates:
        h = bytearray(512)
        h[100:108] = b"0000755\0" if typ == b"5" else b"0000644\0"
        h[108:124] = b"0000000\0" * 2
        h[124:136] = b"%011o\0" % size
        h[136:148] = b"14524453000\0"
        h[148:156] = b"        "
        h[156:157] = typ
        h[257:265] = b"ustar\x0000"
        _templates[key] = (bytes(h), sum(h))
    tmpl, base = _templates[key]
    chk = b"%06o\0 " % (base + sum(name))
    return name + tmpl[len(name):148] + chk + tmpl[156:]


def million_layer():
    """1,000,000 entries (1,000 dirs of 999 files), streamed into gzip."""
    comp = zlib.compressobj(1, zlib.DEFLATED, 31)
    chunks = []
    for d in range(1000):
        block = [ustar(b"d%04d/" % d, b"5")]
        block += [ustar(b"d%04d/f%03d" % (d, f)) for f in range(999)]
        chunks.append(comp.compress(b"".join(block)))
    chunks.append(comp.compress(b"\0" * 1024))
    chunks.append(comp.flush())
    return b"".join(chunks)


def images(out):
    one_layer(out, "traversal.tar", [m.ent("ok", data=b"ok"), m.ent("../../etc/passwd", data=b"evil")])
    one_layer(out, "absolute.tar", [m.ent("/etc/passwd", data=b"image passwd\n")])

    chain = [m.ent("target", data=b"end of the chain\n")]
    chain += [m.ent("c%d" % i, "l", link="c%d" % (i + 1) if i < 29 else "/target") for i in range(30)]
    chain += [m.ent("d%d" % i, "l", link="/d%d" % (i + 1) if i < 299 else "target") for i in range(300)]
    one_layer(out, "chain.tar", chain)

    later = [m.ent("hard", "h", link="data"), m.ent("data", data=b"new\n")]
    one_layer(out, "hardlink-later.tar", later)
    layers_image(out, "hardlink-later-lower.tar", [[m.ent("data", data=b"old\n")], later])

    depth = 4096
    deep = [m.ent("d/" * (i + 1), "d") for i in range(depth)]
    deep.append(m.ent("d/" * depth + "bottom", data=b"4096 levels down\n"))
    layers_image(out, "deep.tar", [deep, [m.ent(".wh.d"), m.ent("after", data=b"x")]])
    layers_image(out, "deep-one.tar", [deep])

    raw = million_layer()
    layers = [(raw, raw)]
    cfg = json.loads(m.config_for([(b"", b"")]))
    cfg["rootfs"]["diff_ids"] = []
    m.write_tar(os.path.join(out, "million.tar"),
                m.docker_save_members(layers, json.dumps(cfg).encode()))

    base = [m.ent("etc/", "d"), m.ent("etc/passwd", data=b"root:x:0:0\n")]
    ls = [(m.tar_bytes(base),) * 2, (m.tar_bytes([m.ent("more", data=b"m")]),) * 2]
    oci = m.oci_members([(ls, m.config_for(ls), None)])
    missing = "blobs/sha256/" + m.sha(ls[1][1])
    m.write_tar(os.path.join(out, "oci-missing-blob.tar"), [x for x in oci if x[0] != missing])

    ls = [(m.tar_bytes(base),) * 2]
    members = m.docker_save_members(ls, m.config_for(ls))
    manifest = json.loads(members[-1][1])
    manifest[0]["Layers"] = ["l%d/layer.tar" % i for i in range(100000)]
    members[-1] = ("manifest.json", json.dumps(manifest).encode())
    m.write_tar(os.path.join(out, "many-layers.tar"), members)

    comp = zlib.compressobj(1, zlib.DEFLATED, 31)
    chunks = [comp.compress(b"".join(ustar(b"x%d.json" % i, size=2) + b"{}" + b"\0" * 510
                                     for i in range(200000)))]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for name, data in m.docker_save_members(ls, m.config_for(ls)):
            m.add_file(tf, name, data)
    chunks += [comp.compress(buf.getvalue()), comp.flush()]
    write(os.path.join(out, "many-json.tar.gz"), b"".join(chunks))


def backtrack_image(out):
    one_layer(out, "aaa.tar", [m.ent("data/aaa", data=b"a" * 40 + b"b")])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: mkhostile.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    configs(out)
    images(out)
    backtrack_image(out)


if __name__ == "__main__":
    main()
