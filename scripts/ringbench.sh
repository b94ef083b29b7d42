#!/usr/bin/env bash
# ringbench.sh: the frame-ring figures of docs/ring.md in one run
# (internal/ringbench): ring wake-up latency in every language pair and
# wait mode beside the C futex baselines and Eclipse iceoryx2, publish
# cost, throughput. iceoryx2 (PyPI iceoryx2 0.10.0) goes into the bench's
# own venv, $SHAREDARRAY_VENVS/../ringbench-iceoryx2; if it cannot be
# installed its rows are skipped with the reason.
#   scripts/ringbench.sh [ringbench flags: -samples N -rounds N -only S
#   -json FILE (the periodic latencies for internal/benchchart; bench.sh)]
set -euo pipefail
cd "$(dirname "$0")/.."
export SHAREDARRAY_VENVS=${SHAREDARRAY_VENVS:-$HOME/.cache/sharedarray/venvs}
bash scripts/setup_venvs.sh >/dev/null
iox=$(dirname "$SHAREDARRAY_VENVS")/ringbench-iceoryx2
iox_args=()
if [ -x "$iox/bin/python" ] && "$iox/bin/python" -c 'import iceoryx2, numpy' 2>/dev/null; then
	iox_args=(-iceoryx2-python "$iox/bin/python")
else
	log=$(mktemp)
	if { python3 -m venv "$iox" && "$iox/bin/pip" install -q iceoryx2==0.10.0 numpy; } >"$log" 2>&1; then
		iox_args=(-iceoryx2-python "$iox/bin/python")
	else
		iox_args=(-iceoryx2-skip "pip install iceoryx2==0.10.0 failed: $(tail -1 "$log")")
	fi
	rm -f "$log"
fi
echo "load: $(uptime)"
# iceoryx2 keeps its node management in /dev/shm/iox2_*: remove what this
# run made (what was there before is some other program's).
iox_before=$(ls /dev/shm | grep '^iox2_' || true)
trap 'for f in /dev/shm/iox2_*; do [ -e "$f" ] && ! grep -qxF "${f#/dev/shm/}" <<<"$iox_before" && rm -f "$f"; done' EXIT
go run ./internal/ringbench -python "$SHAREDARRAY_VENVS/sa324-np2/bin/python" "${iox_args[@]}" "$@"
echo "load: $(uptime)"
