"""Ring reader for ringbench: read N frames, print now - publish time.

    pyreader.py NAME N MODE     MODE: sleep, spin or predict
Prints "ready", then {"lat": [...], "cpu": s, "wall": s} (getrusage).
"""
import json
import os
import resource
import sys
import time

import sharedarray_ring as sr

# RINGBENCH_CPU (ringbench's pinned rows): run on that CPU only, as the C pair.
if os.environ.get("RINGBENCH_CPU"):
    os.sched_setaffinity(0, {int(os.environ["RINGBENCH_CPU"])})

name, n, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
kw = {"spin": {"spin": 1.0}, "predict": {"predict": True}}.get(mode, {})
r = sr.open_reader(name, **kw)


def cpu():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


print("ready", flush=True)
lat = []
out = None
t0, c0 = time.monotonic(), cpu()
while True:
    try:
        f = r.next(timeout=5.0, out=out)
    except TimeoutError:
        break
    lat.append(time.monotonic_ns() - f.time_ns)
    out = f
    if f.seq >= n - 1:
        break
wall, used = time.monotonic() - t0, cpu() - c0
print(json.dumps({"lat": lat, "cpu": used, "wall": wall, "lost": r.overruns}), flush=True)
