"""How well does a corrected SAR sit on the optical scene? (check of ``--warp`` outputs)

    python scripts/check_warp.py OPTICAL OUTDIR_A/sar_corrected.tif [OUTDIR_B/sar_corrected.tif ...] \
        [--before SAR] [--setting 256 192] [--step 320]

No truth is needed: at a grid of check places, *between* the tie points of a default run
(the grid is offset by half a step), the optical template is matched inside the corrected
SAR with two matchers on unrelated descriptors (CFOG and MIND). Where both agree within 1 px
their answer is the misalignment left at that place. Prints, per corrected raster, the
number of such places, the median and RMS misalignment and the share within 1 px and 2 px;
``--before`` measures the uncorrected SAR the same way. The optical scene is read onto each
raster's grid (a warped VRT, nearest neighbour, windows read one at a time).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from osgeo import gdal

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sarcoreg.core.matchers import get_matcher  # noqa: E402
from sarcoreg.core.radiometry import to_db  # noqa: E402

gdal.UseExceptions()


def _on_grid(path: str, like: gdal.Dataset) -> gdal.Dataset:
    gt = like.GetGeoTransform()
    bounds = (gt[0], gt[3] + like.RasterYSize * gt[5], gt[0] + like.RasterXSize * gt[1], gt[3])
    return gdal.Warp("", path, format="VRT", dstSRS=like.GetProjection(), outputBounds=bounds,
                     xRes=gt[1], yRes=abs(gt[5]), resampleAlg="near")


def _window(ds: gdal.Dataset, row: int, col: int, size: int) -> np.ndarray:
    """Mean of the bands of a ``size`` square, NaN where every band is 0 (the scenes' nodata)."""
    a = ds.ReadAsArray(col, row, size, size).astype(np.float32)
    a = a.reshape(-1, size, size)
    out = a.mean(axis=0)
    out[(a == 0).all(axis=0)] = np.nan
    return out


def misalignment(optical: str, sar: str, R: int, T: int, step: int, sar_kind: str, matchers):
    """``(N, 2)`` misalignment (rows, cols) in px of ``sar``'s grid where the matchers agree,
    and the number of places tried."""
    s = gdal.Open(sar)
    o = _on_grid(optical, s)
    h, w = s.RasterYSize, s.RasterXSize
    g = (R - T) // 2
    found, tried = [], 0
    for r0 in range(step // 2, h - R, step):
        for c0 in range(step // 2, w - R, step):
            tpl = _window(o, r0 + g, c0 + g, T)
            ref = _window(s, r0, c0, R)
            if np.isnan(tpl).mean() > 0.05 or np.isnan(ref).mean() > 0.05:
                continue
            tried += 1
            ref = to_db(ref, sar_kind)
            res = [m.match(np.nan_to_num(tpl, nan=np.nanmean(tpl)), np.nan_to_num(ref, nan=np.nanmean(ref)))
                   for m in matchers]
            (ra, ca), (rb, cb) = [(x.row - g, x.col - g) for x in res]
            if np.hypot(ra - rb, ca - cb) <= 1.0:
                found.append(((ra + rb) / 2, (ca + cb) / 2))
    return np.array(found).reshape(-1, 2), tried


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("optical")
    ap.add_argument("corrected", nargs="+")
    ap.add_argument("--before", help="the uncorrected SAR, measured the same way")
    ap.add_argument("--setting", nargs=2, type=int, default=(256, 192), metavar=("WINDOW", "TEMPLATE"))
    ap.add_argument("--step", type=int, default=320, help="px between check places (offset by half a step)")
    ap.add_argument("--sar-kind", default="amplitude")
    a = ap.parse_args(argv)
    R, T = a.setting
    ms = [get_matcher("cfog"), get_matcher("mind")]
    runs = ([("before", a.before)] if a.before else []) + [(p, p) for p in a.corrected]
    print(f"| SAR | check places (CFOG and MIND agree) | median misalignment px | RMS px | within 1 px | within 2 px |")
    print("|---|---|---|---|---|---|")
    for name, path in runs:
        d, tried = misalignment(a.optical, path, R, T, a.step, a.sar_kind, ms)
        e = np.hypot(d[:, 0], d[:, 1]) if len(d) else np.array([np.nan])
        print(f"| {name} | {len(d)} of {tried} | {np.median(e):.2f} | {np.sqrt(np.mean(e ** 2)):.2f} | "
              f"{np.mean(e <= 1):.1%} | {np.mean(e <= 2):.1%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
