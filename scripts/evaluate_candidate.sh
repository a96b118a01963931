#!/usr/bin/env bash
# A trained checkpoint, from export to the validation, with every choice made on dev:
#
#   scripts/evaluate_candidate.sh CHECKPOINT OUTDIR [SAMPLES_DEV] [SAMPLES_VAL]
#
# 1. export CHECKPOINT to OUTDIR/onnx (checked against torch by export-onnx);
# 2. on the dev split only (scripts/choose_on_dev.py, seed 11): the translation alone and its
#    fusion with the classical part (MIND), the fusion weight per template size and the guard
#    and the snap, and the translation's own sub-pixel displacement, measured with flipped pairs (no truth)
#    (steps 1 and 2: scripts/export_and_choose.sh);
# 3. store that choice in the model (sarcoreg set-matching);
# 4. the multi-region validation (scripts/eval_sources.py --only-dcdm, seed 0, both settings)
#    and the translation's closeness to the true SAR (scripts/translation_quality.py).
# Everything is written under OUTDIR (*.md, *.json); nothing in the repository changes.
set -euo pipefail
CK=${1:?checkpoint}
OUT=${2:?output folder}
NDEV=${3:-100}
NVAL=${4:-120}
HERE=$(cd "$(dirname "$0")/.." && pwd)
PY="$HERE/.venv/bin/python"
mkdir -p "$OUT"
MATCHING='{"fuse_classical": {"192": 0.7, "384": 0.9}, "classical": {"matcher": "mind", "options": {}}, "guard_px": 3.0, "attention_prior": 0.0}'
bash "$HERE/scripts/export_and_choose.sh" "$CK" "$OUT" "$NDEV" --matching "$MATCHING"
export SARCOREG_DCDM_DIR="$OUT/onnx"
CHOSEN=$("$PY" - "$OUT/dev.json" <<'EOF'
import json, sys
choice = json.load(open(sys.argv[1]))
fusion = choice["fusion"]
guard = any(v["guard"] for v in fusion.values())
print(json.dumps({"fuse_classical": {t: v["weight"] for t, v in fusion.items()},
                  "classical": {"matcher": choice["classical"]["matcher"], "options": choice["classical"]["options"]},
                  "guard_px": choice["guard_px"] if guard else 0.0, "attention_prior": 0.0,
                  "snap_px": {t: v.get("snap_px", 0.0) for t, v in fusion.items()},
                  "translation_shift_px": choice.get("translation_shift_px", [0.0, 0.0]),
                  # the confidence's agreement scale, chosen on dev by scripts/confidence_study.py
                  "agreement_px": 1.0}))
EOF
)
"$PY" -m sarcoreg set-matching "$OUT/onnx/dcdm_unrolled.onnx" "$CHOSEN" >>"$OUT/export.log" 2>&1
for S in 256/192 512/384; do
    "$PY" "$HERE/scripts/eval_sources.py" --only-dcdm --model-dir "$OUT/onnx" --samples "$NVAL" \
        --settings "$S" >"$OUT/val_${S%%/*}.md" 2>>"$OUT/val.log"
done
"$PY" "$HERE/scripts/translation_quality.py" --model-dir "$OUT/onnx" --samples 60 \
    --figure "$OUT/translation_examples.png" >"$OUT/translation_quality.md" 2>>"$OUT/val.log"
echo "chosen on dev: $CHOSEN"
echo "results in $OUT: dev.md, val_256.md, val_512.md, translation_quality.md"
