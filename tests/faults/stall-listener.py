#!/usr/bin/env python3
"""Accepts TCP connections on 127.0.0.1 and never answers: a registry or
engine that hangs.  Prints the port, then holds the connections until
killed (or 300 s)."""
import socket
import sys
import time

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
s.listen(64)
print(s.getsockname()[1], flush=True)
held = []
s.settimeout(1.0)
end = time.monotonic() + 300
while time.monotonic() < end:
    try:
        conn, _ = s.accept()
        held.append(conn)
    except socket.timeout:
        pass
sys.exit(0)
