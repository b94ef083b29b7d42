#!/usr/bin/env bash
# wheel.sh: the Python helper (python/, sharedarray-ring) as users get it.
# Builds an sdist and a wheel with `python -m build`, checks their version is
# the Go module's (internal/version) and that both carry LICENSE, installs
# the wheel into a fresh virtual environment beside the real SharedArray
# 3.2.4 from PyPI, and runs the Go -> Python ring test (TestRingGoToPython)
# with that interpreter and nothing on PYTHONPATH, so the module under test
# is the installed one.
#
# The `build` tool lives in its own environment, $SHAREDARRAY_VENVS/build-tools
# (made once); the fresh environment is made and removed on every run.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENVS=${SHAREDARRAY_VENVS:-$HOME/.cache/sharedarray/venvs}
pip() { "$1" -m pip install --quiet --disable-pip-version-check "${@:2}"; }

tools=$VENVS/build-tools
if [ ! -f "$tools/.ok" ]; then
	echo "wheel: making $tools (the build tool)"
	rm -rf "$tools"
	"$PYTHON" -m venv "$tools"
	pip "$tools/bin/python" build
	touch "$tools/.ok"
fi

want=$(sed -n 's/^const Version = "v\(.*\)"$/\1/p' internal/version/version.go)
[ -n "$want" ] || { echo "wheel: no version in internal/version/version.go" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "wheel: python -m build python/ (sdist and wheel)"
"$tools/bin/python" -m build --outdir "$tmp/dist" python >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
sdist=$(ls "$tmp"/dist/*.tar.gz)
whl=$(ls "$tmp"/dist/*.whl)
for f in "$sdist" "$whl"; do
	case $(basename "$f") in
	sharedarray_ring-"$want"[.-]*) ;;
	*) echo "wheel: $(basename "$f") is not version $want (internal/version/version.go)" >&2; exit 1 ;;
	esac
done
tar tzf "$sdist" >"$tmp/sdist.lst"
grep -q '/LICENSE$' "$tmp/sdist.lst" || { echo "wheel: no LICENSE in $(basename "$sdist")" >&2; exit 1; }
"$tools/bin/python" -m zipfile -l "$whl" >"$tmp/whl.lst"
grep -q 'LICENSE' "$tmp/whl.lst" || { echo "wheel: no LICENSE in $(basename "$whl")" >&2; exit 1; }
echo "wheel: built $(basename "$sdist") and $(basename "$whl")"

echo "wheel: installing it into a fresh environment with SharedArray 3.2.4 from PyPI"
"$PYTHON" -m venv "$tmp/venv"
py=$tmp/venv/bin/python
pip "$py" --upgrade pip
pip "$py" 'numpy>=2'
pip "$py" SharedArray==3.2.4
pip "$py" "$whl"
(cd / && "$py" - "$want" "$tmp/venv" <<'PY'
import importlib.metadata as md, os, sys
import sharedarray_ring, SharedArray
want, venv = sys.argv[1], sys.argv[2]
got = md.version("sharedarray-ring")
if got != want:
    sys.exit("installed sharedarray-ring is %s, want %s" % (got, want))
where = os.path.realpath(sharedarray_ring.__file__)
if not where.startswith(os.path.realpath(venv) + os.sep):
    sys.exit("sharedarray_ring imported from %s, not the environment" % where)
print("wheel: sharedarray-ring %s installed at %s, SharedArray %s" % (got, os.path.dirname(where), md.version("SharedArray")))
PY
)
echo "wheel: Go -> Python ring test through the installed wheel"
SHAREDARRAY_RING_PYTHON=$py SHAREDARRAY_REQUIRE_PYTHON=1 go test -count=1 -v -run '^TestRingGoToPython$/^sa324-np2$' ./pycompat_test/ >"$tmp/test.log" 2>&1 || { cat "$tmp/test.log"; exit 1; }
grep -E -- '--- (PASS|FAIL|SKIP)' "$tmp/test.log"
grep -q -- '--- PASS: TestRingGoToPython/sa324-np2/copy' "$tmp/test.log" || { echo "wheel: the ring test did not run" >&2; exit 1; }
