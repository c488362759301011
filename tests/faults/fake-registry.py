#!/usr/bin/env python3
"""A registry that misbehaves one way: serves repository "x", tag "1" (one
image of one gzip layer holding /hello), with the fault MODE:

  wrong-digest   the layer's bytes are not those its digest names (a valid
                 gzip stream of the same tar, of the same length)
  truncated      the layer's Content-Length is right, half the body comes,
                 then the connection closes
  huge-length    the layer claims a Content-Length of 10 GB
  redirects      every blob request redirects to another blob URL, forever
  429            every manifest request answers 429 Too Many Requests
  many-layers    the manifest lists 5,000 layers
  huge-manifest  the manifest lists 100,000 layers (13 MB)
  huge-manifest-unsized  the same without a Content-Length (the body ends
                 when the connection closes)
  compact-layers the manifest lists 100,000 layers in 300 KB (each "{}")
  gzip-bomb      the layer is 8 MB of gzip that inflates to a tar of 8 GiB
                 (one file of zeros): concatenated gzip members, made at
                 start-up from one member of 16 MiB of zeros
  slow-loris     the layer's headers come at once, then its body one byte
                 every 0.2 s
  ok             no fault
  drop-once      the first layer request gets half the body, then the
                 connection closes; later ones honour Range (206)
  bearer         no fault, but every /v2/ request wants a Bearer token,
                 which GET /token gives for Basic tester:s3cret with
                 service=fake and scope=repository:x:pull, and POST /token
                 for the OAuth2 form grant_type=refresh_token,
                 refresh_token=r3fresh, client_id=docker and that service
                 and scope
  bearer-redirect  as bearer, and blobs redirect to "blob storage" on
                 another host name (localhost), which refuses a request
                 that carries an Authorization header

Usage: fake-registry.py MODE (on 127.0.0.1, or $FAKE_BIND).  Prints the port, then serves until killed
(or 300 s); the number of requests served goes to stderr at each request.
A TLS handshake is refused at once, so a client that tries HTTPS first
falls back to HTTP without waiting.
"""
import base64
import gzip
import hashlib
import io
import json
import os
import socket
import sys
import tarfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODE = sys.argv[1] if len(sys.argv) > 1 else "ok"


def layer_bytes(mtime=0):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        data = b"hello\n" * 20000
        ti = tarfile.TarInfo("hello")
        ti.size = len(data)
        ti.mtime = 1700000000
        tf.addfile(ti, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=mtime)


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def gzip_bomb():
    """A gzip'd tar of one file of zeros, 8 GiB in all: the tar header's
    member, then members of 16 MiB of zeros (the file's data and the end
    of the archive are all zeros)."""
    chunk = 16 << 20
    n = 512
    ti = tarfile.TarInfo("zeros")
    ti.size = n * chunk - 1024
    ti.mtime = 1700000000
    zeros = gzip.compress(b"\0" * chunk, compresslevel=9, mtime=0)
    return gzip.compress(ti.tobuf(format=tarfile.USTAR_FORMAT), mtime=0) + zeros * n


LAYER = gzip_bomb() if MODE == "gzip-bomb" else layer_bytes()
CONFIG = json.dumps({"os": "linux", "architecture": "amd64", "config": {}, "rootfs": {"type": "layers"}}).encode()
if MODE in ("many-layers", "huge-manifest", "huge-manifest-unsized"):
    LAYERS = [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(LAYER),
               "size": len(LAYER)}] * (5000 if MODE == "many-layers" else 100000)
elif MODE == "compact-layers":
    LAYERS = [{}] * 100000
else:
    LAYERS = [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(LAYER), "size": len(LAYER)}]
MANIFEST = json.dumps({
    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(CONFIG), "size": len(CONFIG)},
    "layers": LAYERS}).encode()
BLOBS = {sha(CONFIG): CONFIG, sha(LAYER): LAYER}
count = 0
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # A TLS ClientHello starts with 0x16: close instead of waiting for
        # a request line that never comes.
        first = self.connection.recv(1, socket.MSG_PEEK)
        if first == b"\x16":
            self.connection.close()
            self.rfile = io.BytesIO(b"")

    def log_message(self, *args):
        pass

    def send(self, code, body=b"", ctype="application/json", extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        global count
        with lock:
            count += 1
            print(count, self.command, self.path, self.headers.get("Range", ""), file=sys.stderr, flush=True)
        p = self.path
        if MODE == "bearer-redirect" and p.startswith("/storage/"):
            if self.headers.get("Authorization"):
                return self.send(400, b'{"errors":[{"code":"DENIED","message":"credentials forwarded to storage"}]}')
            body = BLOBS.get(p[len("/storage/"):])
            return self.send(200 if body else 404, body or b"", "application/octet-stream")
        if MODE in ("bearer", "bearer-redirect"):
            if p.startswith("/token") and self.command == "POST":
                n = int(self.headers.get("Content-Length", "0"))
                form = urllib.parse.parse_qs(self.rfile.read(n).decode()) if n < 65536 else {}
                want = {"grant_type": ["refresh_token"], "refresh_token": ["r3fresh"], "client_id": ["docker"],
                        "service": ["fake"], "scope": ["repository:x:pull"]}
                if self.headers.get("Authorization") or form != want:
                    return self.send(401, b'{"error":"invalid_grant"}')
                return self.send(200, b'{"access_token":"t0ken","expires_in":300,"refresh_token":"r3fresh"}')
            if p.startswith("/token?"):
                want = "Basic " + base64.b64encode(b"tester:s3cret").decode()
                if self.headers.get("Authorization") != want:
                    return self.send(401, b'{"details":"bad credentials"}')
                q = urllib.parse.parse_qs(p.split("?", 1)[1])
                if q.get("service") != ["fake"] or q.get("scope") != ["repository:x:pull"]:
                    return self.send(400, b'{"details":"bad service or scope"}')
                return self.send(200, b'{"token":"t0ken","expires_in":300}')
            if self.headers.get("Authorization") != "Bearer t0ken":
                realm = "http://127.0.0.1:%d/token" % self.server.server_address[1]
                scope = '' if p == "/v2/" else ',scope="repository:x:pull"'
                return self.send(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                                 extra=[("WWW-Authenticate", 'Bearer realm="%s",service="fake"%s' % (realm, scope))])
        if p == "/v2/":
            return self.send(200, b"{}")
        if p.startswith("/v2/x/manifests/"):
            if MODE == "huge-manifest-unsized":
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(MANIFEST)
                self.close_connection = True
                return
            if MODE == "429":
                return self.send(429, b'{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}',
                                 extra=[("Retry-After", "1")])
            return self.send(200, MANIFEST, "application/vnd.oci.image.manifest.v1+json")
        if p.startswith("/v2/x/blobs/"):
            d = p[len("/v2/x/blobs/"):].split("?")[0]
            if MODE == "bearer-redirect":
                return self.send(307, extra=[("Location", "http://localhost:%d/storage/%s"
                                                % (self.server.server_address[1], d))])
            if MODE == "redirects":
                return self.send(307, extra=[("Location", "/v2/x/blobs/%s?n=%d" % (d, count))])
            body = BLOBS.get(d)
            if body is None:
                return self.send(404, b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}')
            if body is LAYER and MODE == "wrong-digest":
                return self.send(200, layer_bytes(mtime=1), "application/octet-stream")
            if body is LAYER and MODE == "drop-once":
                rng = self.headers.get("Range", "")
                if rng.startswith("bytes=") and rng.endswith("-"):
                    start = int(rng[6:-1])
                    part = body[start:]
                    self.send_response(206)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(part)))
                    self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(body) - 1, len(body)))
                    self.end_headers()
                    self.wfile.write(part)
                    return
            if body is LAYER and MODE in ("truncated", "drop-once"):
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            if body is LAYER and MODE == "slow-loris":
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.flush()
                try:
                    for i in range(len(body)):
                        self.wfile.write(body[i:i + 1])
                        self.wfile.flush()
                        time.sleep(0.2)
                except OSError:
                    pass
                self.close_connection = True
                return
            if body is LAYER and MODE == "huge-length":
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(10 * 1024 ** 3))
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True
                return
            return self.send(200, body, "application/octet-stream")
        return self.send(404, b'{"errors":[{"code":"NAME_UNKNOWN","message":"unknown"}]}')

    do_HEAD = do_GET
    do_POST = do_GET


srv = ThreadingHTTPServer((os.environ.get("FAKE_BIND", "127.0.0.1"), 0), Handler)
srv.daemon_threads = True
print(srv.server_address[1], flush=True)
threading.Thread(target=srv.serve_forever, daemon=True).start()
time.sleep(300)
