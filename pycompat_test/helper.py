"""Python side of the cross-language tests: the real SharedArray from PyPI.

Run by pycompat_test/*.go with the Python of one virtual environment.
Modes:
  helper.py serve            JSON requests on stdin, one per line; a JSON
                             reply per request on stdout.
  helper.py worker NAME ID WRITERS ROUNDS
                             attach NAME and write row ID for ROUNDS
                             rounds (TestConcurrentWriters).

The byte pattern and the typed first element follow the same rules as
fillPattern() and typedBytes() in pattern_test.go: nothing here re-implements
SharedArray; it only drives it and checks what it sees.
"""
import json
import os
import sys
import traceback

import numpy as np
import SharedArray as sa

P = 4093  # pattern period (prime)
M64 = (1 << 64) - 1


def pattern(seed, n, dtype):
    block = np.array([(((seed * 0x9E3779B97F4A7C15) + j * 0xBF58476D1CE4E5B9) & M64) >> 56
                      for j in range(P)], dtype=np.uint8)
    out = np.resize(block, n)
    if dtype.num == 0:  # bool: only 0 and 1 are bools
        out &= 1
    return out


def typed_value(dtype, seed):
    """The value element 0 holds, or None for V (bytes only)."""
    k = dtype.kind
    if k == "b":
        return bool(seed % 2)
    if k == "i":
        return -(seed % 100) - 1
    if k == "u":
        return seed % 100 + 1
    if k == "f":
        return (seed % 50) + 0.5
    if k == "c":
        return complex((seed % 50) + 0.5, -(seed % 30) - 0.25)
    if k in "Mm":
        return seed * 1000 + 7
    if k == "S":
        return ("s%d" % seed).encode()[: dtype.itemsize]
    if k == "U":
        return ("u%d\u00e9" % seed)[: dtype.itemsize // 4]
    return None


def flat_bytes(a):
    return a.reshape(-1).view(np.uint8)


def set_typed(a, seed):
    v = typed_value(a.dtype, seed)
    if v is None or a.size == 0:
        return
    flat = a.reshape(-1)
    if a.dtype.kind in "Mm":
        flat.view("<i8")[0] = v
    else:
        flat[0] = v


def check(a, req, seed):
    dt = a.dtype
    want = req["dtype"]
    errs = []
    if dt.num != want["num"] or dt.itemsize != want["itemsize"]:
        errs.append("dtype num/itemsize %d/%d, want %d/%d" % (dt.num, dt.itemsize, want["num"], want["itemsize"]))
    if list(a.shape) != req["shape"]:
        errs.append("shape %s, want %s" % (a.shape, req["shape"]))
    if errs:
        return errs
    if a.size == 0:
        return []
    m = flat_bytes(a)
    exp = pattern(seed, m.size, dt)
    skip = dt.itemsize if typed_value(dt, seed) is not None else 0
    bad = np.nonzero(m[skip:] != exp[skip:])[0]
    if bad.size:
        i = int(bad[0]) + skip
        errs.append("%d bytes differ, first at byte %d: %d, want %d" % (bad.size, i, m[i], exp[i]))
    v = typed_value(dt, seed)
    if v is not None:
        flat = a.reshape(-1)
        got = flat.view("<i8")[0] if dt.kind in "Mm" else flat[0]
        if not (got == v):
            errs.append("element 0 is %r, want %r" % (got, v))
    return errs


def make_dtype(spec):
    return np.dtype(spec["np"])


class Server:
    def __init__(self):
        self.held = {}

    def op_info(self, req):
        from importlib.metadata import version
        return {"numpy": np.__version__, "sharedarray": version("SharedArray")}

    def op_create(self, req):
        dt = make_dtype(req["dtype"])
        a = sa.create(req["name"], tuple(req["shape"]), dtype=dt)
        if a.size:
            flat_bytes(a)[:] = pattern(req["seed"], a.nbytes, dt)
            set_typed(a, req["seed"])
        self.held[req["name"]] = a
        return {"num": a.dtype.num, "itemsize": a.dtype.itemsize}

    def op_verify(self, req):
        """Attach (or use the held array), check seed, then write write_seed."""
        a = self.held.get(req["name"]) if req.get("held") else None
        if a is None:
            if req.get("ro"):
                a = sa.attach(req["name"], ro=True)
            else:
                a = sa.attach(req["name"])
        res = {"errors": check(a, req, req["seed"]), "writeable": bool(a.flags.writeable)}
        base = a.base
        res["base_name"] = getattr(base, "name", None)
        if isinstance(res["base_name"], bytes):
            res["base_name"] = res["base_name"].decode()
        ws = req.get("write_seed")
        if ws is not None and not res["errors"] and a.size:
            flat_bytes(a)[:] = pattern(ws, a.nbytes, a.dtype)
            set_typed(a, ws)
            if req.get("msync"):
                a.base.msync(sa.MS_SYNC)
        if req.get("hold"):
            self.held[req["name"]] = a
        return res

    def op_release(self, req):
        self.held.pop(req["name"], None)
        return {}

    def op_delete(self, req):
        sa.delete(req["name"])
        return {}

    def op_attach_fails(self, req):
        try:
            sa.attach(req["name"])
        except OSError as e:
            return {"error": str(e)}
        return {"error": None}

    def op_list(self, req):
        out = []
        for d in sa.list():
            name = d.name.decode() if isinstance(d.name, bytes) else d.name
            if name.startswith(req.get("prefix", "")):
                dt = np.dtype(d.dtype)
                out.append({"name": name, "num": dt.num, "dims": list(d.dims)})
        return {"arrays": out}

    def op_read_file(self, req):
        """The raw bytes of a file, read with read(2), as hex of a slice."""
        with open(req["path"], "rb") as f:
            f.seek(req["offset"])
            return {"hex": f.read(req["length"]).hex()}

    def op_npy_load(self, req):
        """np.load a .npy file Go wrote and check it like an attached array."""
        a = np.load(req["path"], mmap_mode="r" if req.get("mmap") else None, allow_pickle=False)
        errs = check(a, req, req["seed"])
        if a.dtype.str != req["dtype"]["str"]:
            errs.append("dtype.str %s, want %s" % (a.dtype.str, req["dtype"]["str"]))
        return {"errors": errs}

    def op_npy_save(self, req):
        """np.save an array of the pattern, C or Fortran order, either endian."""
        dt = make_dtype(req["dtype"])
        a = np.zeros(tuple(req["shape"]), dtype=dt)
        if a.size:
            flat_bytes(a)[:] = pattern(req["seed"], a.nbytes, dt)
            set_typed(a, req["seed"])
        if req.get("bigendian"):
            a = a.astype(a.dtype.newbyteorder(">"))
        if req.get("fortran"):
            a = np.asfortranarray(a)
        version = req.get("version")
        if version:
            with open(req["path"], "wb") as f:
                np.lib.format.write_array(f, a, version=tuple(version))
        else:
            np.save(req["path"], a)
        with open(req["path"], "rb") as f:
            head = f.read(10)
        return {"header_len": int.from_bytes(head[8:10], "little")}

    def op_npy_save_fortran_raw(self, req):
        """np.save np.asfortranarray of random bytes of dtype and shape; the
        same array's C-order bytes (tobytes) go to req["raw"]."""
        dt = np.dtype(req["dtype"])
        shape = tuple(req["shape"])
        n = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
        raw = np.random.default_rng(req["seed"]).integers(0, 256, n, dtype=np.uint8)
        a = raw.view(dt).reshape(shape) if n else np.zeros(shape, dt)
        f = np.asfortranarray(a)
        np.save(req["path"], f)
        with open(req["raw"], "wb") as fh:
            fh.write(a.tobytes(order="C"))
        return {"fortran": bool(f.flags.f_contiguous and not f.flags.c_contiguous), "itemsize": dt.itemsize}

    def op_shape_rule(self, req):
        """For each (shape, dtype str): NumPy's verdict, and the strides."""
        out = []
        for shape, dt in req["cases"]:
            try:
                a = np.empty(tuple(shape), dtype=np.dtype(dt))
                out.append({"ok": True, "strides": list(a.strides)})
            except ValueError as e:
                out.append({"ok": False, "msg": str(e)})
        return {"results": out}

    def op_attach_shape(self, req):
        """Attach an array; return its shape, strides and nbytes."""
        a = sa.attach(req["name"])
        return {"shape": list(a.shape), "strides": list(a.strides), "nbytes": int(a.nbytes)}

    def op_npy_shape(self, req):
        """np.load a .npy file; return its shape and strides."""
        a = np.load(req["path"], allow_pickle=False)
        return {"shape": list(a.shape), "strides": list(a.strides)}

    def op_trailer_size(self, req):
        a = self.held[req["name"]]
        return {"size": os.stat(req["path"]).st_size - a.nbytes}


def serve():
    srv = Server()
    out = sys.stdout
    for line in sys.stdin:
        req = json.loads(line)
        try:
            res = getattr(srv, "op_" + req["op"])(req)
            res["ok"] = True
        except Exception as e:  # reported to the Go test, which fails
            res = {"ok": False, "exc": type(e).__name__, "msg": str(e), "trace": traceback.format_exc()}
        out.write(json.dumps(res) + "\n")
        out.flush()


def worker(name, wid, writers, rounds):
    """See TestConcurrentWriters: mark ready, wait for the start flag, then
    write region wid for the given rounds, checking it after each."""
    a = sa.attach(name)
    region = a.shape[1]
    ctl = a[writers]
    ctl[1 + wid] = 1
    while ctl[0] == 0:
        pass
    mine = a[wid]
    nxt = a[(wid + 1) % writers]
    for r in range(rounds):
        val = (wid << 32) | r
        mine[:] = val
        if not (mine == val).all():
            sys.exit("worker %d: region overwritten in round %d" % (wid, r))
        x = int(nxt[r % region])
        if x != 0 and x >> 32 != (wid + 1) % writers:
            sys.exit("worker %d: neighbour element holds %#x" % (wid, x))


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve()
    elif sys.argv[1] == "worker":
        worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.exit("usage: helper.py serve | worker NAME ID WRITERS ROUNDS")
