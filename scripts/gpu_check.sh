#!/usr/bin/env bash
# One-command check of the SPEC §8 GPU path on a CUDA machine that has torch but not our other
# dependencies (the project's GPU machines: Python 3.12, torch 2.11.0+cu130, no PyAV).
#
#   scripts/gpu_check.sh fetch   # here, with network: download the missing wheels into .whl/
#   scripts/gpu_check.sh         # there, from the repository root, with .whl/ beside it:
#                                # install the wheels into /tmp/site, run the CUDA tests
#                                # (tests/gpu) and the bench's GPU rows, print parity and figures
#
# Takes about 5-8 minutes there (writing the bench split is most of it). Output: pytest's
# verbose lines (parity: gray bit-identical, the largest RGB difference, frame indices, memory
# and open files over 500 segments), then the bench table of the GPU rows against the CPU path.
set -euo pipefail
cd "$(dirname "$0")/.."
WHEELS=.whl
# what the GPU machines lack (KINDS.md lists what they have), pinned as in requirements/constraints.txt
pin() { grep -i "^$1==" requirements/constraints.txt | head -1; }
NEEDED="av webvtt-py omegaconf whisper_normalizer more-itertools indic_numtowords jiwer RapidFuzz text2num"

if [[ "${1:-}" == "fetch" ]]; then
    mkdir -p "$WHEELS"
    grep -qx "/$WHEELS/" .git/info/exclude 2>/dev/null || echo "/$WHEELS/" >> .git/info/exclude
    for name in $NEEDED; do
        spec=$(pin "$name"); spec=${spec:-$name}
        python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
            --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
            -d "$WHEELS" "$spec" 2>/dev/null \
        || python3 -m pip download -q --no-deps -d "$WHEELS" "$spec"  # pure-Python sdists/wheels
    done
    ls -l "$WHEELS"
    exit 0
fi

export PYTHONUNBUFFERED=1
if ! python3 -c "import av" 2>/dev/null; then
    [[ -d "$WHEELS" ]] || { echo "no $WHEELS/: run 'scripts/gpu_check.sh fetch' where pip can download" >&2; exit 2; }
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$WHEELS"/*
    export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
python3 - <<'PY'
import av, torch
from av.codec.hwaccel import hwdevices_available
from mcorec_torch.gpu import cuda_unavailable_reason
print(f"torch {torch.__version__}, CUDA {torch.cuda.is_available()}, PyAV {av.__version__}, "
      f"hw devices {hwdevices_available()}, h264_cuvid {'h264_cuvid' in av.codecs_available}")
print("GPU decoding:", cuda_unavailable_reason("cuda:0") or "available")
PY
status=0
python3 -m pytest -v -s -p no:cacheprovider tests/gpu -rs || status=$?
python3 -m mcorec_torch.cli bench --gpu-only --rounds 1 --segments 128 --samples 16 --workers 8 \
    --json "${OUT:-/tmp}/gpu_bench.json" || status=$?
exit $status
