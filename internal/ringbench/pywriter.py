"""Ring writer for ringbench: publish N 64-byte frames, paced.

    pywriter.py NAME N PATTERN   PATTERN: periodic (1 ms) or irregular
Paced as main.go's pacer: sleep until 200 µs before each frame, spin the rest.
"""
import os
import sys
import time

import sharedarray_ring as sr

# RINGBENCH_CPU (ringbench's pinned rows): run on that CPU only, as the C pair.
if os.environ.get("RINGBENCH_CPU"):
    os.sched_setaffinity(0, {int(os.environ["RINGBENCH_CPU"])})


def gap_ns(pattern, k):
    if pattern == "periodic":
        return 1_000_000
    return (200 + (k * 7919) % 1601) * 1000


name, n, pattern = sys.argv[1], int(sys.argv[2]), sys.argv[3]
w = sr.open_writer(name)
nxt = time.monotonic_ns()
for k in range(n):
    nxt += gap_ns(pattern, k)
    d = nxt - time.monotonic_ns() - 200_000
    if d > 0:
        time.sleep(d / 1e9)
    while time.monotonic_ns() < nxt:
        pass
    w.next()
    w.publish()
w.close()
