#!/usr/bin/env bash
# setup_venvs.sh builds one Python virtual environment per SharedArray build
# that users run, and checks the trailer size each one writes:
#
#   sa300-np1   SharedArray 3.0.0, NumPy < 2            -> 288-byte trailer
#   sa324-np1   SharedArray 3.2.4 built against NumPy 1 -> 292-byte trailer
#   sa324-np2   SharedArray 3.2.4 built against NumPy 2 -> 548-byte trailer
#
# The environments live in $SHAREDARRAY_VENVS (default
# ~/.cache/sharedarray/venvs), outside the repository, and are reused when a
# previous run completed them (a .ok stamp is written last). Any failure is
# fatal: a missing Python, NumPy or SharedArray is never a skip.
set -euo pipefail

# PYTHON chooses the interpreter the environments are built with
# (PYTHON=python3.11 make venvs); environments already complete are kept.
PYTHON=${PYTHON:-python3}
VENVS=${SHAREDARRAY_VENVS:-$HOME/.cache/sharedarray/venvs}
mkdir -p "$VENVS"

# check_python: the interpreter exists, has venv, and has the development
# headers SharedArray's C extension compiles against.
check_python() {
	if ! command -v "$PYTHON" >/dev/null; then
		echo "setup_venvs: no $PYTHON on PATH; install Python 3 or set PYTHON=/path/to/python3" >&2
		exit 1
	fi
	if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
		echo "setup_venvs: $PYTHON has no venv/ensurepip (Debian/Ubuntu: apt install python3-venv)" >&2
		exit 1
	fi
	if ! "$PYTHON" -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
		echo "setup_venvs: $PYTHON has no development headers (Python.h), which SharedArray needs to compile (Debian/Ubuntu: apt install python3-dev)" >&2
		exit 1
	fi
}
checked=

# expect_trailer VENV SIZE: create a (3,4) int32 array and check the file
# length is 48 + SIZE.
expect_trailer() {
	local py=$1/bin/python want=$2
	"$py" - "$want" <<'PY'
import os, sys, numpy as np, SharedArray as sa
want = int(sys.argv[1])
name = "sharedarray-setup-probe-%d" % os.getpid()
a = sa.create("shm://" + name, (3, 4), dtype=np.int32)
try:
    got = os.stat("/dev/shm/" + name).st_size - a.nbytes
finally:
    del a
    sa.delete(name)
print("  numpy %s, trailer %d bytes" % (np.__version__, got))
if got != want:
    sys.exit("trailer is %d bytes, expected %d: not the build it claims" % (got, want))
PY
}

build() {
	local name=$1 trailer=$2
	shift 2
	local dir=$VENVS/$name
	if [ -f "$dir/.ok" ]; then
		echo "venv $name: present"
		expect_trailer "$dir" "$trailer"
		return
	fi
	if [ -z "$checked" ]; then
		check_python
		checked=1
	fi
	echo "venv $name: building in $dir with $("$PYTHON" --version 2>&1) (about 20 s: NumPy from PyPI, SharedArray compiled from source)"
	rm -rf "$dir"
	"$PYTHON" -m venv "$dir"
	"$dir/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
	"$@" "$dir/bin/python"
	expect_trailer "$dir" "$trailer"
	touch "$dir/.ok"
}

np1_build() { # VERSION PYTHON
	"$2" -m pip install --quiet --disable-pip-version-check 'numpy<2' setuptools wheel
	"$2" -m pip install --quiet --disable-pip-version-check --no-build-isolation --no-cache-dir --no-binary SharedArray "SharedArray==$1"
}
sa300_np1() { np1_build 3.0.0 "$1"; }
sa324_np1() { np1_build 3.2.4 "$1"; }
sa324_np2() {
	"$1" -m pip install --quiet --disable-pip-version-check 'numpy>=2'
	"$1" -m pip install --quiet --disable-pip-version-check --no-cache-dir --no-binary SharedArray SharedArray==3.2.4
}

build sa300-np1 288 sa300_np1
build sa324-np1 292 sa324_np1
build sa324-np2 548 sa324_np2
