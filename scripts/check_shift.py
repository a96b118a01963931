"""Check co-registration of any georeferenced optical/SAR pair with a known shift added to the SAR.

    python scripts/check_shift.py OPTICAL SAR --shift-px 7.5 -4.25 -o build/shift_check \\
        [--residual-px DY DX] [--extra "--window 256 --template 192 --spacing 96"]

The scene-level check of ``check_la_scene.py`` for pairs other than the Los Angeles mosaic,
e.g. real pairs this code never saw. The SAR's georeferencing is moved by ``COLS`` pixels
east and ``ROWS`` pixels south (a VRT, no pixel copy; works in any CRS, geographic
included), ``sarcoreg coregister`` runs in a child process (its peak memory is measured),
and every matched window is scored against the truth: the known shift plus the pair's own
misregistration ``--residual-px DY DX`` (SAR pixels, row down; optical content at (y, x)
sits at (y + DY, x + DX) in the SAR; 0 for a pair aligned upstream). The truth of each tie
point is computed through the CRSs, so it is exact where the working grid is a UTM zone
replacing a geographic CRS. Prints one summary line and a JSON block.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Tuple

import numpy as np
from osgeo import gdal, ogr, osr

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO.parent))


def run_shifted(optical: str, sar: str, out: Path, shift_map: Tuple[float, float], matcher: str,
                extra: str = "", run: bool = True) -> Tuple[Path, int, float, float]:
    """Write ``out/sar_shifted.vrt`` (``sar`` with its origin moved by ``shift_map`` map units),
    run ``sarcoreg coregister`` on it in a child process into ``out/result`` (unless ``run`` is
    false: score an earlier result) and return ``(result folder, exit code, wall s, child's peak
    MB)``. On failure the child's output goes to stderr."""
    from sarcoreg.core.demo import shift_georeferencing

    out.mkdir(parents=True, exist_ok=True)
    shifted = shift_georeferencing(sar, str(out / "sar_shifted.vrt"), *shift_map)
    res_dir = out / "result"
    cmd = [sys.executable, "-m", "sarcoreg", "coregister", str(optical), shifted, "-o", str(res_dir),
           "--matcher", matcher, "--overwrite"] + extra.split()
    t0 = time.time()
    proc = subprocess.run(cmd if run else ["true"], capture_output=True, text=True)
    wall = time.time() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    if proc.returncode != 0:
        print(proc.stdout, proc.stderr, file=sys.stderr)
    return res_dir, proc.returncode, wall, peak_mb


def print_summary(name: str, summary: dict, n_scored: int, what: str, n_inliers: int) -> None:
    """The one-line verdict of a known-shift check, then its JSON summary (both checks print this)."""
    print(f"{name}: {summary['matched_within_2px']:.1%} of {n_scored} {what} within 2 px; "
          f"inliers {summary['inliers_within_2px'] or 0:.1%} of {n_inliers}, median error "
          f"{summary['inlier_median_error_px'] or float('nan'):.2f} px; peak memory {summary['peak_rss_mb']:.0f} MB; "
          f"{summary['wall_s']:.0f} s")
    print(json.dumps(summary, indent=2))


def _srs(wkt_or_code: str) -> osr.SpatialReference:
    srs = osr.SpatialReference()
    srs.SetFromUserInput(wkt_or_code)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("optical")
    ap.add_argument("sar")
    ap.add_argument("--shift-px", nargs=2, type=float, default=(7.5, -4.25), metavar=("COLS", "ROWS"),
                    help="move the SAR content by this many of its pixels east and south")
    ap.add_argument("--residual-px", nargs=2, type=float, default=(0.0, 0.0), metavar=("DY", "DX"),
                    help="the pair's own misregistration in SAR pixels (default 0: aligned upstream)")
    ap.add_argument("-o", "--outdir", default=str(REPO / "build" / "shift_check"))
    ap.add_argument("--matcher", default="auto")
    ap.add_argument("--extra", default="", help="extra options for sarcoreg coregister")
    a = ap.parse_args(argv)

    ds = gdal.Open(a.sar)
    gt, sar_srs = ds.GetGeoTransform(), _srs(ds.GetProjection())
    del ds
    # content moves by +COLS columns and +ROWS rows: the origin moves by that many pixel steps
    shift = (a.shift_px[0] * gt[1] + a.shift_px[1] * gt[2], a.shift_px[0] * gt[4] + a.shift_px[1] * gt[5])
    total = (shift[0] + a.residual_px[1] * gt[1] + a.residual_px[0] * gt[2],
             shift[1] + a.residual_px[1] * gt[4] + a.residual_px[0] * gt[5])
    res_dir, rc, wall, peak_mb = run_shifted(a.optical, a.sar, Path(a.outdir), shift, a.matcher, a.extra)
    if rc != 0:
        return rc

    report = json.loads((res_dir / "report.json").read_text())
    pixel_m = report["grid"]["pixel_m"]
    work_srs = _srs(report["grid"]["crs"])
    to_sar = osr.CoordinateTransformation(work_srs, sar_srs)
    to_work = osr.CoordinateTransformation(sar_srs, work_srs)

    def truth_m(x, y):
        """Where the optical content at working-grid (x, y) sits in the shifted SAR, minus (x, y)."""
        sx, sy, _ = to_sar.TransformPoint(x, y)
        qx, qy, _ = to_work.TransformPoint(sx + total[0], sy + total[1])
        return qx - x, qy - y

    vec = ogr.Open(str(res_dir / "tiepoints.gpkg"))
    rows = []
    for f in vec.GetLayer("tiepoints"):
        if f.IsFieldNull("dx_m"):
            continue
        tx, ty = truth_m(f["x_opt"], f["y_opt"])
        rows.append((f["outlier"], (f["dx_m"] - tx) / pixel_m, (f["dy_m"] - ty) / pixel_m))
    del vec
    err = np.array([np.hypot(ex, ey) for _, ex, ey in rows])
    inl = np.array([not o for o, _, _ in rows], dtype=bool)
    d_in = np.array([(ex, ey) for o, ex, ey in rows if not o]).reshape(-1, 2)
    summary = {
        "optical": a.optical, "sar": a.sar, "shift_px": list(a.shift_px), "residual_px": list(a.residual_px),
        "working_crs": report["grid"]["crs"], "pixel_m": round(pixel_m, 3),
        "windows": report["counts"]["windows"], "skipped": report["counts"]["skipped"],
        "matched": len(rows),
        "matched_within_2px": float(np.mean(err <= 2)) if len(err) else None,
        "inliers": int(inl.sum()),
        "inliers_within_2px": float(np.mean(err[inl] <= 2)) if inl.any() else None,
        "inlier_median_error_px": float(np.hypot(*np.median(d_in, axis=0))) if inl.any() else None,
        "inlier_median_error_dx_dy_px": [round(float(v), 2) for v in np.median(d_in, axis=0)] if inl.any() else None,
        "matched_error_px_quantiles_25_50_75_90": [round(float(q), 2) for q in np.percentile(err, [25, 50, 75, 90])]
        if len(err) else None,
        "outlier_reasons": report["counts"]["outlier_reasons"],
        "peak_rss_mb": round(peak_mb, 1), "wall_s": round(wall, 1), "matcher": report["matcher"]["name"],
    }
    if not rows:
        print(f"{a.sar}: no matched windows", file=sys.stderr)
        print(json.dumps(summary, indent=2))
        return 1
    print_summary(Path(a.sar).name, summary, len(rows), "matched windows", summary["inliers"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
