#!/usr/bin/python3
"""Runs a command within a time and memory bound.

Usage: bounded.py SECONDS MIB COMMAND [ARG...]

Exits with the command's status; 124 (and a message on stderr) when it
ran past SECONDS and was killed, 125 when its peak resident set passed
MIB mebibytes.  Resident, not virtual, memory: sanitizer builds reserve
terabytes of address space they never touch.
"""

import resource
import subprocess
import sys


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: bounded.py SECONDS MIB COMMAND [ARG...]")
    seconds, mib, cmd = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    p = subprocess.Popen(cmd)
    try:
        rc = p.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        print("bounded: %s ran past %g s and was killed" % (cmd[0], seconds), file=sys.stderr)
        sys.exit(124)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    if peak > mib:
        print("bounded: %s peaked at %d MiB of memory, over %d MiB" % (cmd[0], peak, mib), file=sys.stderr)
        sys.exit(125)
    sys.exit(128 - rc if rc < 0 else rc)


if __name__ == "__main__":
    main()
