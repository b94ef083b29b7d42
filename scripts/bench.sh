#!/usr/bin/env bash
# bench.sh: every row of docs/performance.md, each beside its baselines in
# one run (C through cgo, Python SharedArray/NumPy, cp), alternating,
# several repetitions; prints medians, spread and ratios, and draws the
# charts of docs/performance.md into docs/ (internal/benchchart) from this
# run. With -only the charts are left alone (they show one whole run).
#   scripts/bench.sh [-reps N] [-only SUBSTRING] [-gib N]
set -euo pipefail
cd "$(dirname "$0")/.."
export SHAREDARRAY_VENVS=${SHAREDARRAY_VENVS:-$HOME/.cache/sharedarray/venvs}
bash scripts/setup_venvs.sh >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go run ./internal/benchrun -python "$SHAREDARRAY_VENVS/sa324-np2/bin/python" -json "$out/rows.json" "$@"
bash scripts/ringbench.sh -json "$out/rings.json"
case " $* " in
*" -only "*) echo "bench.sh: -only: the charts in docs/ are left as they are" ;;
*) (cd internal/benchchart && go run . -in "$out/rows.json" -rings "$out/rings.json" -out ../../docs) ;;
esac
