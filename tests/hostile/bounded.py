#!/usr/bin/python3
"""Runs a command within a CPU time and memory bound.

Usage: bounded.py SECONDS MIB COMMAND [ARG...]

Exits with the command's status; 124 (and a message on stderr) when it
used more than SECONDS of CPU time, 125 when its peak resident set passed
MIB mebibytes.  CPU time, not wall time: a loaded machine stretches the
one and not the other, so the bound holds on a busy CI machine.  A command
still running after ten times SECONDS of wall time (a hang that uses no
CPU) is killed, and that is 124 too.  Resident, not virtual, memory:
sanitizer builds reserve terabytes of address space they never touch.
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
        rc = p.wait(timeout=10 * seconds)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        print("bounded: %s still ran after %g s and was killed" % (cmd[0], 10 * seconds), file=sys.stderr)
        sys.exit(124)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    if cpu > seconds:
        print("bounded: %s used %.1f s of CPU time, over %g s" % (cmd[0], cpu, seconds), file=sys.stderr)
        sys.exit(124)
    peak = usage.ru_maxrss // 1024
    if peak > mib:
        print("bounded: %s peaked at %d MiB of memory, over %d MiB" % (cmd[0], peak, mib), file=sys.stderr)
        sys.exit(125)
    sys.exit(128 - rc if rc < 0 else rc)


if __name__ == "__main__":
    main()
