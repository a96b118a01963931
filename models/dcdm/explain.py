"""One picture that explains a DCDM match (runs on ONNX Runtime, no torch).

Panels: the optical template; its translation into SAR appearance; the SAR window with the
found (and, for a protocol sample, the true) template outline; the head-averaged attention
before and after the calibration block, summed over the template tokens, as a map over the
displacement grid (one cell = 8 px of template offset; a translation gives one bright cell);
the ZNCC similarity map with its peak.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from ...core.dcdm.matcher import DcdmMatcher
from ...core.samples import iter_samples


def _grey(path: str) -> np.ndarray:
    from ...core.samples import _read
    return _read(path).mean(axis=0)


def _figure(template, reference, match, tr, out: str, title: str, truth=None, surface: str = "ZNCC") -> str:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    h, w, ny, nx = tr.grid
    raw = tr.att_raw.mean(axis=0).reshape(ny, nx)
    cal = tr.att_cal.mean(axis=0).reshape(ny, nx)
    t = template.shape[0]
    fig, axes = plt.subplots(2, 3, figsize=(13, 8.6))
    panels = [
        (template, "optical template", "gray"),
        (match.translated, "translated template (SAR-like)", "gray"),
        (reference, "SAR window (dB)", "gray"),
        (raw, "attention before calibration\n(mean over tokens, displacement cells)", "magma"),
        (cal, "attention after calibration", "magma"),
        (match.similarity, f"similarity ({surface}), peak {match.score:.2f}, conf. {match.confidence:.2f}", "viridis"),
    ]
    for ax, (img, name, cmap) in zip(axes.ravel(), panels):
        if img is None:
            ax.axis("off")
            continue
        finite = np.asarray(img)[np.isfinite(img)]
        lo, hi = (np.percentile(finite, [1, 99]) if cmap == "gray" and finite.size else (None, None))
        ax.imshow(img, cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    ax = axes[0, 2]
    ax.add_patch(Rectangle((match.col - 0.5, match.row - 0.5), t, t, fill=False, ec="red", lw=1.5,
                           label="found"))
    if truth is not None:
        ax.add_patch(Rectangle((truth[1] - 0.5, truth[0] - 0.5), t, t, fill=False, ec="cyan", lw=1, ls="--",
                               label="truth"))
    ax.legend(loc="lower right", fontsize=7)
    for ax in axes[1, :2]:
        ax.plot(match.col / 8, match.row / 8, "c+", ms=12)
        if truth is not None:
            ax.plot(truth[1] / 8, truth[0] / 8, "wx", ms=8)
    axes[1, 2].plot(match.col, match.row, "r+", ms=12)
    if truth is not None:
        axes[1, 2].plot(truth[1], truth[0], "wx", ms=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=72)
    plt.close(fig)
    return out


def explain_arrays(template: np.ndarray, reference: np.ndarray, out: str, model_dir: Optional[str] = None,
                   title: str = "", truth=None, matcher: Optional[DcdmMatcher] = None) -> str:
    """Write the explanation PNG of one (template, reference) pair to ``out``."""
    m = matcher or DcdmMatcher(provider="auto", model_dir=model_dir)
    match = m.match(template, reference)
    tr = m.translate(template, reference)
    text = f"{title}found (row, col) = ({match.row:.2f}, {match.col:.2f})"
    if truth is not None:
        text += f", truth ({truth[0]:.2f}, {truth[1]:.2f}), error {np.hypot(match.row - truth[0], match.col - truth[1]):.2f} px"
    surface = "ZNCC of the translation" + (f" + {m.fuse_weight(template.shape[0]):g} CFOG" if m.fuse_weight(template.shape[0]) else "")
    return _figure(template, reference, match, tr, out, f"{text} - {m.model_version}", truth, surface)


def explain_pair(template_path: str, reference_path: str, out: str, model_dir: Optional[str] = None,
                 sar_kind: str = "amplitude") -> str:
    """Explanation PNG for two image files (template: optical; reference: SAR of ``sar_kind``)."""
    from ...core.radiometry import to_db

    template = _grey(template_path)
    reference = to_db(_grey(reference_path), sar_kind)
    return explain_arrays(template, reference, out, model_dir, title=f"{Path(template_path).name}: ")


def explain_sample(data_root: str, out: str, index: int = 0, window_px: int = 512, template_px: int = 384,
                   split: str = "val", model_dir: Optional[str] = None, seed: int = 0) -> str:
    """Explanation PNG for protocol sample ``index`` of ``split`` (the ``evaluate`` samples)."""
    samples = list(iter_samples(data_root, window_px, template_px, index + 1, seed, split))
    s = samples[index]
    return explain_arrays(s.template, s.reference, out, model_dir, title=f"{s.sample_id}: ",
                          truth=(s.true_row, s.true_col))
