#!/usr/bin/env bash
# Export a trained checkpoint and make the choices on the dev split (never on val):
#
#   scripts/export_and_choose.sh CHECKPOINT DIR NDEV [EXPORT-ONNX OPTION...]
#
# 1. export CHECKPOINT to DIR/onnx (`sarcoreg export-onnx`, with the options given after NDEV;
#    its output in DIR/export.log);
# 2. scripts/choose_on_dev.py on NDEV dev samples with that model (translation alone and its
#    fusion with MIND, seed 11): DIR/dev.json, DIR/dev.md, DIR/dev.log.
# Nothing is printed. The step both scripts/evaluate_candidate.sh and
# scripts/rank_checkpoints.sh start with.
set -euo pipefail
CK=${1:?checkpoint}
D=${2:?output folder}
NDEV=${3:?number of dev samples}
shift 3
HERE=$(cd "$(dirname "$0")/.." && pwd)
PY="$HERE/.venv/bin/python"
mkdir -p "$D"
"$PY" -m sarcoreg export-onnx "$CK" --out "$D/onnx" "$@" >"$D/export.log" 2>&1
SARCOREG_DCDM_DIR="$D/onnx" "$PY" "$HERE/scripts/choose_on_dev.py" --samples "$NDEV" --classical mind \
    --out "$D/dev.json" >"$D/dev.md" 2>"$D/dev.log"
