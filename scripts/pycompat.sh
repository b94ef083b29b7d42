#!/usr/bin/env bash
# pycompat.sh: the cross-language test. Go tests in pycompat_test/ drive the
# real SharedArray of each environment scripts/setup_venvs.sh built. A
# missing environment fails the run (SHAREDARRAY_REQUIRE_PYTHON=1).
set -euo pipefail
cd "$(dirname "$0")/.."
export SHAREDARRAY_VENVS=${SHAREDARRAY_VENVS:-$HOME/.cache/sharedarray/venvs}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "pycompat: Go against SharedArray 3.0.0, 3.2.4/NumPy 1 and 3.2.4/NumPy 2 (about 20 s on an idle machine)..."
if ! SHAREDARRAY_REQUIRE_PYTHON=1 go test -count=1 -v ./pycompat_test/ >"$log" 2>&1; then
	grep -v -E '^(=== (RUN|PAUSE|CONT)|    --- PASS)' "$log" | tail -200
	exit 1
fi
grep -E '^--- |^ok|^PASS' "$log"
echo "pycompat: $(grep -c -- '--- PASS' "$log") passed, $(grep -c -- '--- FAIL' "$log") failed, $(grep -c -- '--- SKIP' "$log") skipped"
