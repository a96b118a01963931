#!/usr/bin/env bash
# Train (or go on training) DCDM on an NVIDIA GPU and leave the checkpoint where it can be
# brought back: the `paper` preset by default, on every shared source with a usable truth
# (s1s2_la train pairs, OMBRIA's train part; never OMBRIA test or any val pair).
#
# usage: bash scripts/train_gpu.sh DATA_DIR OUT_DIR [MINUTES] [PRESET]
#   DATA_DIR  the shared data folder (holds s1s2_la/ and ombria/)
#   OUT_DIR   checkpoints go to OUT_DIR/dcdm_<preset>/ (last.pt, best.pt, step_<N>.pt);
#             an existing OUT_DIR/dcdm_<preset>/last.pt is resumed, so time adds up
#   MINUTES   training budget (default 10)
#   PRESET    paper (default) or cpu
#
# Needs a Python with torch built for CUDA, numpy, scipy and GDAL's Python bindings (the
# same stack as scripts/setup.sh; `python3 -m venv --system-site-packages` on a machine with
# python3-gdal, then `pip install torch scipy`). Bring OUT_DIR/dcdm_<preset>/last.pt back and
# resume anywhere with `sarcoreg train --resume --out <that folder> [--device cpu|cuda]`.
set -euo pipefail
DATA=${1:?usage: bash scripts/train_gpu.sh DATA_DIR OUT_DIR [MINUTES] [PRESET]}
OUT=${2:?usage: bash scripts/train_gpu.sh DATA_DIR OUT_DIR [MINUTES] [PRESET]}
MINUTES=${3:-10}
PRESET=${4:-paper}
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY=${PYTHON:-python3}
[[ -d $DATA/s1s2_la || -d $DATA/ombria ]] || { echo "train_gpu: error: $DATA holds neither s1s2_la/ nor ombria/: pass the shared data folder" >&2; exit 2; }
"$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' \
    || { echo "train_gpu: error: this Python's torch sees no CUDA GPU (install a CUDA build of torch)" >&2; exit 2; }
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
mkdir -p "$OUT"
# the package is the repository root; make it importable as `sarcoreg` whatever the folder is called
LINK="$(mktemp -d)"
ln -s "$REPO" "$LINK/sarcoreg"
RESUME=()
[[ -f $OUT/dcdm_$PRESET/last.pt ]] && RESUME=(--resume)
PYTHONPATH="$LINK${PYTHONPATH:+:$PYTHONPATH}" "$PY" -m sarcoreg train --data "$DATA" --out "$OUT/dcdm_$PRESET" \
    --preset "$PRESET" --device cuda --threads 4 --batch 16 --time-budget-min "$MINUTES" \
    --keep-every 500 --dev-every 200 --la-truth local "${RESUME[@]}"
ls -la "$OUT/dcdm_$PRESET"
