#!/usr/bin/env bash
# bench.sh: every row of docs/performance.md, each beside its baselines in
# one run (C through cgo, Python SharedArray/NumPy, cp), alternating,
# several repetitions; prints medians, spread and ratios.
#   scripts/bench.sh [-reps N] [-only SUBSTRING] [-gib N]
set -euo pipefail
cd "$(dirname "$0")/.."
export SHAREDARRAY_VENVS=${SHAREDARRAY_VENVS:-$HOME/.cache/sharedarray/venvs}
bash scripts/setup_venvs.sh >/dev/null
go run ./internal/benchrun -python "$SHAREDARRAY_VENVS/sa324-np2/bin/python" "$@"
bash scripts/ringbench.sh
