"""Go -> Python wake-up latency: read N frames, print now - publish time."""
import json
import sys
import time

import sharedarray_ring as sr

name, n = sys.argv[1], int(sys.argv[2])
r = sr.open_reader(name)
print("ready", flush=True)
lat = []
out = None
for _ in range(n):
    try:
        f = r.next(timeout=2.0, out=out)
    except TimeoutError:
        break
    lat.append(time.monotonic_ns() - f.time_ns)
    out = f
print(json.dumps(lat), flush=True)
