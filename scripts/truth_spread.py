"""How far does the ground inside one ``s1s2_la`` pair move from the pair's single residual?
(diagnostic of the truth, not a score)

    python scripts/truth_spread.py --setting 256 192 --grid 4     # the upstream 4 x 4 grid
    python scripts/truth_spread.py --setting 512 384 --grid 6

The truth of every ``s1s2_la`` pair is one number, ``residual_shift_px``: per the data README
the median of a 4 x 4 grid of oriented-gradient template matches. This script measures that
grid again, with two matchers on unrelated descriptors (CFOG: oriented gradients, the same
family as upstream; MIND: self-similarity), at the template size of a target:

* **reproduction**: the per-pair median of the CFOG grid against the stored residual. When
  they agree, the grid below is the upstream measurement itself, not a different truth;
* **spread**: at every grid place where CFOG and MIND agree within ``--agree`` px (two
  unrelated descriptors seeing the same displacement), how far that local displacement lies
  from the pair's stored residual. The share within 2 px / 5 px is how often *the truth's
  own method* finds the pair's single number at that place, i.e. the ceiling that a
  one-number-per-pair truth leaves to any matcher at this template size.
* where the far places lie: the median |rows| and |cols| of the local displacement minus
  the residual (cols is the Sentinel-1 range direction, in which terrain moves SAR ground).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sarcoreg.core.errors import InputError  # noqa: E402
from sarcoreg.core.matchers import get_matcher  # noqa: E402
from sarcoreg.core.samples import list_pairs, load_pair  # noqa: E402
from sarcoreg.core.staging import atomic_file  # noqa: E402


MARGIN_PX = 16     # more than any residual of the data set (up to ~6 px)


def grid_offsets(optical, sar, dy: float, dx: float, R: int, T: int, n: int, matchers):
    """Local displacement (dy, dx) of the optical content in the SAR at each grid place, per
    matcher: an array ``(n_places, n_matchers, 2)``. Templates are centred on an ``n`` x ``n``
    grid, evenly spread and inset by ``MARGIN_PX`` more than half a window (so that the SAR
    window, cut at the rounded residual, fits; places where it does not are left out)."""
    iy, ix = int(round(dy)), int(round(dx))
    h, w = optical.shape
    g = (R - T) / 2.0
    lo = R // 2 + MARGIN_PX
    rows = np.linspace(lo, h - lo, n).round().astype(int)
    cols = np.linspace(lo, w - lo, n).round().astype(int)
    out = []
    for cy in rows:
        for cx in cols:
            tpl = optical[cy - T // 2:cy - T // 2 + T, cx - T // 2:cx - T // 2 + T]
            ref = sar[cy + iy - R // 2:cy + iy - R // 2 + R, cx + ix - R // 2:cx + ix - R // 2 + R]
            if tpl.shape != (T, T) or ref.shape != (R, R) or np.isnan(tpl).mean() > 0.05 or np.isnan(ref).mean() > 0.05:
                continue
            tpl = np.ascontiguousarray(tpl, dtype=np.float32)
            ref = np.ascontiguousarray(ref, dtype=np.float32)
            out.append([_local(m, tpl, ref, iy, ix, g) for m in matchers])
    return np.array(out, dtype=np.float64).reshape(-1, len(matchers), 2)


def axis_angle_deg(dev: np.ndarray) -> float:
    """Angle of the principal axis of the (drow, dcol) points about the origin, in degrees
    from the column axis, in (-90, 90], positive when +cols goes with +rows."""
    c = dev[:, ::-1]                                  # (dcol, drow)
    w, v = np.linalg.eigh(c.T @ c)
    ax = v[:, np.argmax(w)]
    ang = float(np.degrees(np.arctan2(ax[1], ax[0])))
    return ang - 180 if ang > 90 else ang + 180 if ang <= -90 else ang


def _local(m, tpl, ref, iy, ix, g):
    r = m.match(tpl, ref)
    return (iy + r.row - g, ix + r.col - g)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.path.join("..", "shared", "data"))
    ap.add_argument("--split", default="all", choices=("all", "train", "val"))
    ap.add_argument("--setting", nargs=2, type=int, default=(256, 192), metavar=("WINDOW", "TEMPLATE"))
    ap.add_argument("--grid", type=int, default=4, help="places per axis (4: the upstream 4 x 4 grid)")
    ap.add_argument("--agree", type=float, default=1.0, help="px within which CFOG and MIND agree")
    ap.add_argument("--max-pairs", type=int, default=0, help="only the first N pairs (0: all)")
    ap.add_argument("--plot", help="write a PNG: each agreeing place's displacement minus the pair's residual")
    a = ap.parse_args(argv)
    R, T = a.setting
    ms = [get_matcher("cfog"), get_matcher("mind")]
    try:
        pairs = list_pairs(a.data, a.split)
    except InputError as e:
        print(f"truth_spread: {e}", file=sys.stderr)
        return 2
    if a.max_pairs:
        pairs = pairs[:a.max_pairs]
    repro, dev, own, tiles, splits, places, n_pairs = [], [], [], [], [], 0, 0
    for p in pairs:
        optical, sar = load_pair(p)
        loc = grid_offsets(optical, sar, p.residual_dy_px, p.residual_dx_px, R, T, a.grid, ms)
        if not len(loc):
            continue
        n_pairs += 1
        places += len(loc)
        truth = np.array([p.residual_dy_px, p.residual_dx_px])
        repro.append(np.median(loc[:, 0], axis=0) - truth)
        agree = np.hypot(*(loc[:, 0] - loc[:, 1]).T) <= a.agree
        dev.extend((loc[agree].mean(axis=1) - truth).tolist())
        own.extend((loc[agree].mean(axis=1) - np.median(loc[agree].mean(axis=1), axis=0)).tolist())
        tiles.extend([p.pair_id.split("/")[0]] * int(agree.sum()))
        splits.extend([p.split] * int(agree.sum()))
    repro = np.array(repro)
    dev = np.array(dev)
    d = np.hypot(dev[:, 0], dev[:, 1])
    print(f"{n_pairs} pairs ({a.split}), {places} grid places at {R}/{T}, {a.grid} x {a.grid} grid per pair")
    print(f"  reproduction: per-pair median of the CFOG grid minus the stored residual: "
          f"median |d| {np.median(np.hypot(*repro.T)):.2f} px, within 1 px in {np.mean(np.hypot(*repro.T) <= 1):.0%} "
          f"of pairs; signed median (dy, dx) {np.median(repro[:, 0]):+.2f}, {np.median(repro[:, 1]):+.2f} px")
    print(f"  CFOG and MIND agree within {a.agree} px at {len(dev)} places ({len(dev) / places:.0%})")
    print(f"  there, the local displacement lies within 2 px of the pair's residual at {np.mean(d <= 2):.1%}, "
          f"within 5 px at {np.mean(d <= 5):.1%}")
    print(f"  even if every place where they disagree counted as a hit: within 2 px at most "
          f"{(np.sum(d <= 2) + places - len(d)) / places:.1%}, within 5 px at most {(np.sum(d <= 5) + places - len(d)) / places:.1%}")
    o = np.hypot(*np.array(own).T)
    print(f"  about the pair's own grid median instead of the stored residual: within 2 px {np.mean(o <= 2):.1%}, "
          f"within 5 px {np.mean(o <= 5):.1%}")
    groups = [(t, np.array(tiles) == t) for t in sorted(set(tiles))]
    if a.split == "all":
        groups += [(f"{sp} pairs", np.array(splits) == sp) for sp in ("train", "val")]
    for name, k in groups:
        print(f"    {name}: {k.sum()} places, within 2 px {np.mean(d[k] <= 2):.1%}, within 5 px {np.mean(d[k] <= 5):.1%}")
    far = d > 2
    if far.any():
        print(f"  beyond 2 px: median |rows| {np.median(np.abs(dev[far, 0])):.2f} px, "
              f"|cols| {np.median(np.abs(dev[far, 1])):.2f} px; their principal axis is "
              f"{axis_angle_deg(dev[far]):+.1f} deg from the column axis (+: towards +rows)")
    if a.plot:
        _plot(dev, R, T, a.plot)
    return 0


def _plot(dev: np.ndarray, R: int, T: int, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = np.hypot(dev[:, 0], dev[:, 1])
    fig, ax = plt.subplots(figsize=(5.2, 5.2), dpi=110)
    ax.scatter(dev[:, 1], dev[:, 0], s=6, alpha=0.5, c=np.where(d <= 2, "tab:blue", np.where(d <= 5, "tab:orange", "tab:red")))
    for r, ls in ((2, "-"), (5, "--")):
        ax.add_patch(plt.Circle((0, 0), r, fill=False, ls=ls, color="k", lw=0.8))
    lim = 12
    ax.set(xlim=(-lim, lim), ylim=(lim, -lim), aspect="equal",
           xlabel="columns: SAR range direction (px)", ylabel="rows: azimuth (px)",
           title=f"s1s2_la at {R}/{T}: local displacement − pair residual\n"
                 f"{len(d)} places; within 2 px {np.mean(d <= 2):.0%}, within 5 px {np.mean(d <= 5):.0%}")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_file(path, "wb") as fh:
        fig.savefig(fh, format="png")
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
