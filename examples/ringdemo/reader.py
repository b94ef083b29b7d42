"""Python side of the ring demo: read frames as they come, compute on each.

Run by examples/ringdemo (make demo) with python/ on PYTHONPATH.
  reader.py NAME LAST STEADY   read until frame LAST (or 2 s with no
                               frame); latency over frames < STEADY
"""
import sys
import time

import numpy as np

import sharedarray_ring as sr

name, last, steady = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = sr.open_reader(name)
print("    python: reader open on %s: %d slots of %s %s" % (name, r.slots, r.frame_shape, r.dtype), flush=True)
print("ready", flush=True)
lat, got = [], 0
ys, xs = np.indices(r.frame_shape)
out = np.empty(r.frame_shape, r.dtype)
while True:
    try:
        f = r.next(timeout=2.0, out=out)
    except TimeoutError:
        print("    python: no frame for 2 s, stopping", flush=True)
        break
    if f.seq < steady:  # the burst's frames queue up: no wake-up to time
        lat.append((time.monotonic_ns() - f.time_ns) / 1e3)
    got += 1
    total = f.sum()
    cy, cx = (ys * f).sum() / total, (xs * f).sum() / total  # the blob's centroid
    if f.seq % 100 == 0 or f.overruns:
        note = "  <- lapped: %d frame(s) lost before this one" % f.overruns if f.overruns else ""
        print("    python: frame %4d  mean %.4f  blob at (%5.1f, %5.1f)%s" % (f.seq, f.mean(), cy, cx, note), flush=True)
    if f.seq >= last:
        break
lat.sort()
print("    python: %d frames received, %d overruns; at %d Hz, publish -> frame in NumPy: p50 %.0f µs, p99 %.0f µs"
      % (got, r.overruns, 250, lat[len(lat) // 2], lat[int(len(lat) * 0.99)]), flush=True)
r.close()
