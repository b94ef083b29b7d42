"""Python publish cost for ringbench: next() + publish() with no reader waiting.

    pypublish.py NAME      prints "<median> ns (C extension: yes|no)"
"""
import sys
import time

import sharedarray_ring as sr

w = sr.open_writer(sys.argv[1])
N = 100_000
per = []
for _ in range(9):
    t0 = time.perf_counter_ns()
    for _ in range(N):
        w.next()
        w.publish()
    per.append((time.perf_counter_ns() - t0) / N)
w.close()
per.sort()
print("%7.0f ns per frame (C extension in use: %s)" % (per[4], "yes" if sr.accelerated else "no"))
