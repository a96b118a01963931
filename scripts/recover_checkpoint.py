"""Recover a trainable torch checkpoint from the shipped ONNX model (``models/dcdm/recover.py``),
checked against it, so training can go on from the shipped weights (``sarcoreg train --finetune``).

    python scripts/recover_checkpoint.py models/onnx/dcdm_unrolled.onnx -o build/shipped.pt
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main(argv=None) -> int:
    import torch

    from sarcoreg.core.staging import atomic_file
    from sarcoreg.models.dcdm.recover import recover

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("onnx", help="an unrolled DCDM ONNX file (e.g. models/onnx/dcdm_unrolled.onnx)")
    ap.add_argument("-o", "--out", required=True, help="checkpoint to write (.pt)")
    a = ap.parse_args(argv)
    model, ck = recover(a.onnx)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(out, "wb") as fh:
        torch.save(ck, fh)
    trainable, frozen = model.parameter_counts()
    print(f"wrote {out}: step {ck['step']}, {trainable:,} trainable + {frozen:,} frozen parameters; "
          "its export equals the ONNX model")
    return 0


if __name__ == "__main__":
    sys.exit(main())
