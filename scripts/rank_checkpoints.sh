#!/usr/bin/env bash
# Rank trained checkpoints on the dev split only (never on val):
#
#   scripts/rank_checkpoints.sh OUTDIR CHECKPOINT...
#
# Each checkpoint is exported to OUTDIR/<name>/onnx and scored by scripts/choose_on_dev.py
# (translation alone and its fusion with MIND, the same dev samples for all, seed 11), both by
# scripts/export_and_choose.sh; prints one line per checkpoint with its dev selection score
# (mean over 256/192 and 512/384 of CMR(1) + CMR(3) + CMR(5) - RMSE(all) / 10 at the fusion
# dev chose), best first. With REF=<a dev.json> (e.g. the shipped model's, from
# scripts/choose_on_dev.py on the same samples), each checkpoint is also compared with it by
# scripts/compare_dev.py: a paired bootstrap interval of the score difference, so that a
# checkpoint is chosen only where dev can tell it from the draw of samples. Then run
# scripts/evaluate_candidate.sh on the winner for the validation.
set -euo pipefail
OUT=${1:?output folder}
shift
HERE=$(cd "$(dirname "$0")/.." && pwd)
PY="$HERE/.venv/bin/python"
NDEV=${NDEV:-100}
mkdir -p "$OUT"
for CK in "$@"; do
    NAME=$(basename "$CK" .pt)
    D="$OUT/$NAME"
    mkdir -p "$D"
    if [ ! -f "$D/dev.json" ]; then
        bash "$HERE/scripts/export_and_choose.sh" "$CK" "$D" "$NDEV"
    fi
done
"$PY" - "$OUT" "$@" <<'PYEOF'
import json, sys
from pathlib import Path
out, cks = Path(sys.argv[1]), sys.argv[2:]
rows = []
for ck in cks:
    d = json.loads((out / Path(ck).stem / "dev.json").read_text())
    f = d["fusion"]
    rows.append((d["selection_score"], ck, " ".join(f"{t}: w {v['weight']:g} {v['cmr1']:.3f}/{v['cmr5']:.3f}/{v['rmse_all']:.2f}"
                                                  for t, v in sorted(f.items(), key=lambda kv: int(kv[0])))))
for score, ck, detail in sorted(rows, reverse=True):
    print(f"{score:.3f}  {ck}  ({detail})")
PYEOF
if [ -n "${REF:-}" ]; then
    for CK in "$@"; do
        printf '%s against %s: ' "$(basename "$CK" .pt)" "$REF"
        "$PY" "$HERE/scripts/compare_dev.py" "$REF" "$OUT/$(basename "$CK" .pt)/dev.json" | tail -1
    done
fi
