"""Python baselines for internal/benchrun: SharedArray and NumPy doing the
same operations, timed inside Python (interpreter start-up excluded).
Requests are JSON lines on stdin; each reply is {"seconds": per-op time}."""
import json
import os
import sys
import time

import numpy as np
import SharedArray as sa


def create_delete(req):
    name, n, count = req["name"], req["elems"], req["n"]
    t0 = time.perf_counter()
    for _ in range(count):
        a = sa.create(name, n, dtype=np.float64)
        del a
        sa.delete(name)
    return (time.perf_counter() - t0) / count


def attach(req):
    name, count = req["name"], req["n"]
    t0 = time.perf_counter()
    for _ in range(count):
        a = sa.attach(name)
        del a
    return (time.perf_counter() - t0) / count


def save(req):
    a = sa.attach(req["name"], ro=True)
    t0 = time.perf_counter()
    with open(req["path"], "wb") as f:
        np.save(f, a)
        if req.get("fsync"):
            f.flush()
            os.fsync(f.fileno())
    return time.perf_counter() - t0


def load(req):
    t0 = time.perf_counter()
    m = np.load(req["path"], mmap_mode="r")
    b = sa.create(req["name"], m.shape, dtype=m.dtype)
    np.copyto(b, m)
    del b, m
    return time.perf_counter() - t0


def list_(req):
    t0 = time.perf_counter()
    for _ in range(req["n"]):
        got = sa.list()
    if len(got) < req["min"]:
        raise RuntimeError("list() saw %d arrays, want at least %d" % (len(got), req["min"]))
    return (time.perf_counter() - t0) / req["n"]


OPS = {"create_delete": create_delete, "attach": attach, "save": save, "load": load, "list": list_}

for line in sys.stdin:
    req = json.loads(line)
    try:
        res = {"seconds": OPS[req["op"]](req)}
    except Exception as e:
        res = {"error": "%s: %s" % (type(e).__name__, e)}
    sys.stdout.write(json.dumps(res) + "\n")
    sys.stdout.flush()
