"""Measure each OMBRIA / MultiEarth pair's residual misregistration, the way ``s1s2_la``'s was
measured (a grid of oriented-gradient template matches), and say which are reliable.

    python scripts/measure_residuals.py --data ../shared/data

Both folders are on one grid by construction but not verified pair by pair (the data README
found most pairs within 1 px and some 2–8 px off or cloudy). For each pair a 3 × 3 grid of
96 px optical templates is matched in SAR windows 16 px larger on every side with two
matchers built on unrelated descriptors: a 9-orientation CFOG (|g·u|, σ 0.8, [1, 2, 1] along
orientation, per-pixel L2) and MIND. A grid cell *agrees* when both find a peak and the two
lie within 1 px of each other. The pair's residual ``[dy, dx]`` (optical content at (y, x)
sits at (y + dy, x + dx) in the SAR, as ``s1s2_la``'s ``residual_shift_px``) is the median of
the agreeing cells' mean position. The pair is **reliable** when at least 5 of the 9 cells
agree, their median distance from the residual is at most 1 px, and the residual is within
12 px. Writes ``resources/truth/residuals.csv`` (through a temporary file) and prints a
summary per source and folder.

``--la`` measures the ``s1s2_la`` pairs for training (``sarcoreg train --la-truth cells``)
into ``resources/truth/la_cells.csv``. One residual per pair does not describe them: the
ground moves inside a pair (terrain, no terrain correction), and the agreeing cells of one
pair spread by 1.66 px (median) around their median. So each *cell* is kept: a 5 × 5 grid of
160 px templates, searched ±16 px around the upstream residual's whole pixels; a cell where
both matchers agree within 1 px is a place with a trusted local truth (the two peaks' mean).
The evaluation keeps the upstream residual, truth-checked, as the truth of ``s1s2_la``.
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sarcoreg.core.matchers import get_matcher  # noqa: E402
from sarcoreg.core.sources import LA_CELLS_CSV, RESIDUALS_CSV, TEXTBOOK_CFOG, list_source_pairs, load  # noqa: E402
from sarcoreg.core.staging import atomic_file  # noqa: E402

TEMPLATE, SEARCH, GRID = 96, 16, 3
MIN_AGREE, MAX_SPREAD, MAX_SHIFT = 5, 1.0, 12.0
FIELDS = ("source", "pair_id", "dy", "dx", "n_agree", "spread_px", "reliable")


def checkers():
    return get_matcher("cfog", **TEXTBOOK_CFOG), get_matcher("mind")


LA_TEMPLATE, LA_GRID = 160, 5
LA_FIELDS = ("pair_id", "cy", "cx", "dy", "dx")


def agreeing_cells(optical: np.ndarray, sar: np.ndarray, matchers, template: int, grid: int) -> list:
    """``[(r0, c0, dy, dx)]``: the cells of a ``grid`` × ``grid`` lattice of ``template`` px
    optical templates, each searched ±``SEARCH`` px in ``sar``, where both matchers find a
    peak and the two lie within 1 px; ``(dy, dx)`` is the two peaks' mean offset."""
    H, W = optical.shape
    T, s = template, SEARCH
    out = []
    for r0 in np.linspace(s, H - T - s, grid).round().astype(int):
        for c0 in np.linspace(s, W - T - s, grid).round().astype(int):
            a, b = (m.match(optical[r0:r0 + T, c0:c0 + T], sar[r0 - s:r0 + T + s, c0 - s:c0 + T + s])
                    for m in matchers)
            if a.ok and b.ok and np.hypot(a.row - b.row, a.col - b.col) <= 1.0:
                out.append((int(r0), int(c0), (a.row + b.row) / 2 - s, (a.col + b.col) / 2 - s))
    return out


def measure(optical: np.ndarray, sar: np.ndarray, matchers) -> dict:
    """Residual, agreeing cells and spread of one pair (see the module doc)."""
    found = [(dy, dx) for _, _, dy, dx in agreeing_cells(optical, sar, matchers, TEMPLATE, GRID)]
    if not found:
        return {"dy": "", "dx": "", "n_agree": 0, "spread_px": "", "reliable": 0}
    f = np.asarray(found)
    dy, dx = np.median(f, axis=0)
    spread = float(np.median(np.hypot(f[:, 0] - dy, f[:, 1] - dx)))
    reliable = len(found) >= MIN_AGREE and spread <= MAX_SPREAD and np.hypot(dy, dx) <= MAX_SHIFT
    return {"dy": round(float(dy), 3), "dx": round(float(dx), 3), "n_agree": len(found),
            "spread_px": round(spread, 3), "reliable": int(reliable)}


def measure_la(sp, matchers) -> list:
    """The agreeing cells of an ``s1s2_la`` pair: ``[{pair_id, cy, cx, dy, dx}]`` with the
    cell's centre in optical pixels and its residual (see the module doc). The SAR is first
    moved by the upstream residual's whole pixels, so that ±16 px cover the larger residuals."""
    opt, sar = load(sp)
    iy, ix = int(round(sp.pair.residual_dy_px)), int(round(sp.pair.residual_dx_px))
    H, W = opt.shape
    moved = np.full(opt.shape, np.nan, dtype=np.float32)
    moved[max(0, -iy):min(H, H - iy), max(0, -ix):min(W, W - ix)] = \
        sar[max(0, iy):H + min(0, iy), max(0, ix):W + min(0, ix)]
    out = []
    for r0, c0, dy, dx in agreeing_cells(opt, moved, matchers, LA_TEMPLATE, LA_GRID):
        if max(abs(dy), abs(dx)) < SEARCH - 2:          # not a peak at the edge of the search
            out.append({"pair_id": sp.pair_id, "cy": r0 + LA_TEMPLATE // 2, "cx": c0 + LA_TEMPLATE // 2,
                        "dy": round(float(dy) + iy, 3), "dx": round(float(dx) + ix, 3)})
    return out


def write_la(pairs, matchers, out: Path) -> int:
    rows, spreads = [], []
    for sp in pairs:
        cells = measure_la(sp, matchers)
        rows += cells
        if cells:
            d = np.array([[c["dy"], c["dx"]] for c in cells])
            spreads.append(float(np.median(np.hypot(*(d - np.median(d, axis=0)).T))))
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(out, newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=LA_FIELDS)
        w.writeheader()
        w.writerows(rows)
    print(f"s1s2_la: {len(pairs)} pairs, {len(rows)} agreeing cells of {len(pairs) * LA_GRID ** 2}; "
          f"spread of a pair's cells around their median: median {np.median(spreads):.2f} px")
    print(f"wrote {out}", file=sys.stderr)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.path.join("..", "shared", "data"))
    ap.add_argument("--out", default=str(RESIDUALS_CSV))
    ap.add_argument("--limit", type=int, default=0, help="measure only the first N pairs (a quick look)")
    ap.add_argument("--la", action="store_true",
                    help=f"measure the s1s2_la pairs for training instead (default --out {LA_CELLS_CSV.relative_to(LA_CELLS_CSV.parents[2])})")
    a = ap.parse_args(argv)
    if a.la:
        pairs = list_source_pairs(a.data, sources=("s1s2_la",))
        return write_la(pairs[:a.limit] if a.limit else pairs, checkers(),
                        Path(str(LA_CELLS_CSV) if a.out == str(RESIDUALS_CSV) else a.out))
    pairs = list_source_pairs(a.data, sources=("ombria", "multiearth"), residuals={}, need_residual=False)
    if a.limit:
        pairs = pairs[:a.limit]
    matchers = checkers()
    rows = []
    for i, sp in enumerate(pairs):
        opt, sar = load(sp)
        rows.append({"source": sp.source, "pair_id": sp.pair_id, **measure(opt, sar, matchers)})
        if (i + 1) % 50 == 0:
            print(f"{i + 1}/{len(pairs)} pairs", file=sys.stderr)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(out, newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(rows)
    print("| source / folder | pairs | reliable | median |shift| of reliable px | share > 2 px |")
    print("|---|---|---|---|---|")
    groups = {}
    for r in rows:
        key = r["source"] + ("/" + r["pair_id"].split("/")[1] if r["source"] == "ombria" else "")
        groups.setdefault(key, []).append(r)
    for key, g in sorted(groups.items()):
        rel = [r for r in g if r["reliable"]]
        mags = np.array([np.hypot(r["dy"], r["dx"]) for r in rel]) if rel else np.array([np.nan])
        print(f"| {key} | {len(g)} | {len(rel)} | {np.median(mags):.2f} | {np.mean(mags > 2):.3f} |")
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
