"""Check co-registration on the Los Angeles mosaic with a known shift added to the SAR.

    python scripts/check_la_scene.py --tile T11SLT --shift 43 -27 -o build/la_check

Moves the SAR mosaic's georeferencing by (dx, dy) metres (a VRT, no pixel copy), runs
``sarcoreg coregister`` in a child process (its peak memory is measured), then scores each
matched window against the truth = known shift + the residual of the pair the window's
template centre falls in (``<id>.json`` ``residual_shift_px``; windows in a pair without a
measured residual are left out of the score). A second score takes as truth the residuals of
all pairs under the template, weighted by the area each covers (``weighted_truth_*``).  Prints one summary line and a JSON block.
"""
from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
from osgeo import gdal, ogr

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from check_shift import print_summary, run_shifted  # noqa: E402  (shared with the check of any pair)
from truth_spread import axis_angle_deg  # noqa: E402


def tile_rects(vrt: Path):
    """``[(id, x_off, y_off, x_size, y_size)]`` of the mosaic's pairs, in mosaic pixels."""
    root = ET.parse(vrt).getroot()
    band = root.find("VRTRasterBand")
    rects = []
    for src in band.findall("SimpleSource"):
        name = Path(src.find("SourceFilename").text).name
        d = src.find("DstRect").attrib
        rects.append((name.split("_")[0], int(float(d["xOff"])), int(float(d["yOff"])),
                      int(float(d["xSize"])), int(float(d["ySize"]))))
    return rects


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("--tile", default="T11SLT")
    ap.add_argument("--shift", nargs=2, type=float, default=(43.0, -27.0), metavar=("DX_M", "DY_M"))
    ap.add_argument("-o", "--outdir", default=str(REPO / "build" / "la_check"))
    ap.add_argument("--matcher", default="auto")
    ap.add_argument("--extra", default="", help="extra options for sarcoreg coregister")
    ap.add_argument("--score-only", action="store_true", help="score an existing OUTDIR/result again")
    args = ap.parse_args()

    folder = Path(args.data) / "s1s2_la" / args.tile
    opt_vrt, sar_vrt = folder / "scene_opt.vrt", folder / "scene_sar.vrt"
    res_dir, rc, wall, peak_mb = run_shifted(str(opt_vrt), str(sar_vrt), Path(args.outdir), tuple(args.shift),
                                             args.matcher, args.extra, run=not args.score_only)
    if rc != 0:
        return rc

    ds = gdal.Open(str(opt_vrt))
    gt = ds.GetGeoTransform()
    del ds
    pixel_m = abs(gt[1])
    residual = {}
    for tid, *_ in tile_rects(opt_vrt):
        r = json.loads((folder / f"{tid}.json").read_text()).get("residual_shift_px")
        residual[tid] = None if r is None else (r[1] * pixel_m, -r[0] * pixel_m)
    rects = tile_rects(opt_vrt)

    def mosaic_px(x, y):
        """Map (x, y) -> mosaic (col, row), in pixels."""
        return (x - gt[0]) / gt[1], (y - gt[3]) / gt[5]

    def tile_at(x, y):
        col, row = mosaic_px(x, y)
        for tid, xo, yo, xs, ys in rects:
            if xo <= col < xo + xs and yo <= row < yo + ys:
                return tid
        return None

    def weighted_residual(x, y):
        """Residual of the pairs under the template, weighted by the area each covers
        (map metres), or ``None`` when none of them has a residual."""
        col, row = mosaic_px(x, y)
        acc, wsum = np.zeros(2), 0.0
        for tid, xo, yo, xs, ys in rects:
            ox = min(col + half_px, xo + xs) - max(col - half_px, xo)
            oy = min(row + half_px, yo + ys) - max(row - half_px, yo)
            if ox > 0 and oy > 0 and residual.get(tid) is not None:
                acc += ox * oy * np.array(residual[tid])
                wsum += ox * oy
        return acc / wsum if wsum else None

    def inside_one_pair(x, y):
        """Whether the whole template lies in one pair (the truth is one shift per pair)."""
        col, row = mosaic_px(x, y)
        return any(xo <= col - half_px and col + half_px <= xo + xs and yo <= row - half_px and row + half_px <= yo + ys
                   for _tid, xo, yo, xs, ys in rects)

    report = json.loads((res_dir / "report.json").read_text())
    half_px = report["config"]["template_px"] / 2 * report["grid"]["pixel_m"] / pixel_m  # in mosaic pixels

    vec = ogr.Open(str(res_dir / "tiepoints.gpkg"))
    lyr = vec.GetLayer("tiepoints")
    rows = []
    for f in lyr:
        if f.IsFieldNull("dx_m"):
            rows.append(dict(matched=False))
            continue
        tid = tile_at(f["x_opt"], f["y_opt"])
        res = residual.get(tid)
        if res is None:
            rows.append(dict(matched=True, scored=False, outlier=f["outlier"]))
            continue
        truth = np.array(args.shift) + np.array(res)
        err_px = float(np.hypot(f["dx_m"] - truth[0], f["dy_m"] - truth[1]) / pixel_m)
        tw = np.array(args.shift) + weighted_residual(f["x_opt"], f["y_opt"])
        err_w_px = float(np.hypot(f["dx_m"] - tw[0], f["dy_m"] - tw[1]) / pixel_m)
        rows.append(dict(matched=True, scored=True, outlier=f["outlier"], err_px=err_px, err_w_px=err_w_px,
                         one_pair=inside_one_pair(f["x_opt"], f["y_opt"]),
                         ddx=(f["dx_m"] - truth[0]) / pixel_m, ddy=(f["dy_m"] - truth[1]) / pixel_m))
    del lyr, vec
    scored = [r for r in rows if r.get("scored")]
    inl = [r for r in scored if not r["outlier"]]
    misses = [r for r in scored if r["err_px"] > 2]
    summary = {
        "tile": args.tile, "shift_m": list(args.shift), "windows": report["counts"]["windows"],
        "skipped": report["counts"]["skipped"], "matched": sum(r["matched"] for r in rows),
        "scored_matched": len(scored),
        "matched_within_2px": float(np.mean([r["err_px"] <= 2 for r in scored])) if scored else None,
        "inliers_scored": len(inl),
        "inliers_within_2px": float(np.mean([r["err_px"] <= 2 for r in inl])) if inl else None,
        "inlier_median_error_px": float(np.hypot(np.median([r["ddx"] for r in inl]),
                                                 np.median([r["ddy"] for r in inl]))) if inl else None,
        # truth = the residuals of all pairs under the template, weighted by area
        "weighted_truth_matched_within_2px": float(np.mean([r["err_w_px"] <= 2 for r in scored])) if scored else None,
        "weighted_truth_inliers_within_2px": float(np.mean([r["err_w_px"] <= 2 for r in inl])) if inl else None,
        "one_pair_matched": sum(r["one_pair"] for r in scored),
        "one_pair_matched_within_2px": float(np.mean([r["err_px"] <= 2 for r in scored if r["one_pair"]]))
        if any(r["one_pair"] for r in scored) else None,
        "one_pair_inliers": sum(r["one_pair"] for r in inl),
        "one_pair_inliers_within_2px": float(np.mean([r["err_px"] <= 2 for r in inl if r["one_pair"]]))
        if any(r["one_pair"] for r in inl) else None,
        "matched_error_px_quantiles_25_50_75_90": [round(float(q), 2) for q in np.percentile(
            [r["err_px"] for r in scored], [25, 50, 75, 90])] if scored else None,
        "matched_within_5px": float(np.mean([r["err_px"] <= 5 for r in scored])) if scored else None,
        # where the misses lie: x is the Sentinel-1 range direction, y the azimuth
        "misses_beyond_2px_median_abs_dx_dy_px": [round(float(np.median([abs(r[k]) for r in misses])), 2)
                                                  for k in ("ddx", "ddy")] if misses else None,
        # ... and along which axis: degrees from the column axis, + when +x goes with +rows (south)
        "misses_beyond_2px_principal_axis_deg": round(axis_angle_deg(np.array(
            [(-r["ddy"], r["ddx"]) for r in misses])), 1) if misses else None,
        "outlier_reasons": report["counts"]["outlier_reasons"],
        "peak_rss_mb": round(peak_mb, 1), "wall_s": round(wall, 1),
        "seconds_per_window": report["timings"]["seconds_per_window"], "matcher": report["matcher"]["name"],
    }
    print_summary(args.tile, summary, len(scored), "scored matched windows", len(inl))
    return 0


if __name__ == "__main__":
    sys.exit(main())
