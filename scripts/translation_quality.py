"""How close is the translated template to the true SAR under it? Per source, on the
multi-region validation (``core.sources``), with pictures.

    python scripts/translation_quality.py --samples 60 --figure docs/translation_examples.png

For each sample the SAR patch under the template at its true place (rounded to the pixel) is
cut from the reference window, and three images are compared with it, all normalised
(``contract.prepare``): the translation, and as a baseline the optical template itself.

* ``SSIM``: mean SSIM over 7 × 7 windows (constants for normalised images);
* ``structure``: ZNCC of the two images' 9-orientation CFOG descriptors (do the same edges
  run the same way?), 1 = identical structure;
* ``stripes``: mean |∂/∂row| over mean |∂/∂col| of the image (1 for an isotropic image; the
  horizontal stripes the inspector showed give > 1); printed for the true SAR as well.

``--model-dir`` scores another exported model (default: the shipped one).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sarcoreg.core.dcdm.contract import prepare  # noqa: E402
from sarcoreg.core.dcdm.matcher import TRANSLATION_ALONE, DcdmMatcher  # noqa: E402
from sarcoreg.core.matchers.descriptor import CfogConfig, cfog_descriptor  # noqa: E402
from sarcoreg.core.matchers.kernels import gaussian_blur  # noqa: E402
from sarcoreg.core.sources import LA_TRUTH_HELP, LA_TRUTHS, TEXTBOOK_CFOG, source_samples  # noqa: E402
from sarcoreg.core.staging import atomic_file  # noqa: E402

STRUCT = CfogConfig(**TEXTBOOK_CFOG)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    c1, c2 = 0.0016 * 16, 0.0144 * 16
    blur = lambda x: gaussian_blur(x.astype(np.float32), 1.5)  # noqa: E731
    ma, mb = blur(a), blur(b)
    va, vb, cov = blur(a * a) - ma ** 2, blur(b * b) - mb ** 2, blur(a * b) - ma * mb
    s = ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma ** 2 + mb ** 2 + c1) * (va + vb + c2))
    return float(np.nanmean(s))


def structure(a: np.ndarray, b: np.ndarray) -> float:
    da, db = cfog_descriptor(a, STRUCT).ravel(), cfog_descriptor(b, STRUCT).ravel()
    ok = np.isfinite(da) & np.isfinite(db)
    da, db = da[ok] - da[ok].mean(), db[ok] - db[ok].mean()
    return float((da * db).sum() / np.sqrt((da * da).sum() * (db * db).sum() + 1e-30))


def stripes(a: np.ndarray) -> float:
    return float(np.nanmean(np.abs(np.diff(a, axis=0))) / max(np.nanmean(np.abs(np.diff(a, axis=1))), 1e-9))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.path.join("..", "shared", "data"))
    ap.add_argument("--samples", type=int, default=60, help="per source")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--la-truth", choices=LA_TRUTHS, default="local",
                    help=LA_TRUTH_HELP)
    ap.add_argument("--role", default="val")
    ap.add_argument("--model-dir", default=None)
    ap.add_argument("--figure", default=None, help="PNG of a few examples per source")
    a = ap.parse_args(argv)
    m = DcdmMatcher(provider="cpu", model_dir=a.model_dir, **TRANSLATION_ALONE)
    groups = source_samples(a.data, 256, 192, a.samples, a.seed, a.role, la_truth=a.la_truth)
    print(f"model {m.model_version}, {a.role}, 256/192\n")
    print("| source | n | SSIM translation | SSIM optical | structure translation | structure optical "
          "| stripes translation | stripes true SAR |")
    print("|---|---|---|---|---|---|---|---|")
    examples = []
    for g in groups:
        rows = []
        for k, s in enumerate(g.samples):
            tr = m.aligned(m.translate(s.template, s.reference).image)   # as it is matched
            n = tr.shape[0]
            r0, c0 = int(round(s.true_row)), int(round(s.true_col))
            truth = prepare(s.reference)[r0:r0 + n, c0:c0 + n]
            opt = prepare(s.template)[:n, :n]
            if truth.shape != tr.shape or not np.isfinite(truth).all() or not np.isfinite(opt).all():
                continue
            rows.append((ssim(tr, truth), ssim(opt, truth), structure(tr, truth), structure(opt, truth),
                         stripes(tr), stripes(truth)))
            if k < 2:
                examples.append((g.source, opt, tr, truth))
        r = np.asarray(rows)
        print(f"| {g.source} | {len(r)} | " + " | ".join(f"{v:.3f}" for v in r.mean(axis=0)) + " |")
    if a.figure:
        _figure(examples, a.figure, m.model_version)
    return 0


def _figure(examples, path, version):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(examples), 3, figsize=(7.5, 2.5 * len(examples)))
    for row, (source, opt, tr, truth) in zip(np.atleast_2d(axes), examples):
        for ax, img, title in zip(row, (opt, tr, truth), ("optical template", f"translation ({version})",
                                                          "true SAR under it")):
            lo, hi = np.nanpercentile(img, [2, 98])
            ax.imshow(img, cmap="gray", vmin=lo, vmax=hi)
            ax.set_title(f"{source}: {title}", fontsize=7)
            ax.axis("off")
    fig.tight_layout()
    with atomic_file(path, "wb") as fh:
        fig.savefig(fh, dpi=80, format="png")
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
