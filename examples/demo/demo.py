"""Python side of the demo: the real SharedArray and NumPy from PyPI."""
import sys
from importlib.metadata import version

import numpy as np
import SharedArray as sa

cmd = sys.argv[1]
if cmd == "attach-and-create":
    go_name, py_name = sys.argv[2], sys.argv[3]
    a = sa.attach(go_name)
    print("    attached %s: dtype %s, shape %s, base.name %r" % (go_name, a.dtype, a.shape, a.base.name))
    print("    values as Python sees them:", a.ravel().tolist())
    a *= 10
    b = sa.create(py_name, 3, dtype=np.int32)
    b[:] = [7, 8, 9]
    print("    created %s: %s %s = %s (SharedArray %s, NumPy %s)" % (py_name, b.dtype, b.shape, b.tolist(), version("SharedArray"), np.__version__))
elif cmd == "load-snapshot":
    path, go_name = sys.argv[2], sys.argv[3]
    snap = np.load(path)
    live = sa.attach(go_name)
    print("    numpy.load: dtype %s, shape %s, equal to the live array: %s" % (snap.dtype, snap.shape, np.array_equal(snap, live)))
    print("   ", snap.tolist())
    if not np.array_equal(snap, live):
        sys.exit("snapshot differs")
else:
    sys.exit("unknown step " + cmd)
