"""Warp the SAR scene onto the optical frame from inlier tie points, through GDAL."""
from __future__ import annotations

import logging
from typing import Sequence

from osgeo import gdal

from .errors import InputError
from .gdalscope import scoped
from .grid import WorkingGrid
from .outputs import gcps_for_sar
from .results import TiePoint

log = logging.getLogger("sarcoreg.warp")

MIN_POINTS = {"affine": 3, "poly2": 6, "tps": 3}


def choose_method(method: str, check: dict) -> str:
    """The warp to run: ``method``, or for ``auto`` the one the check points suggest
    (``core.checkpoints``; affine when there are too few inliers to tell)."""
    if method != "auto":
        return method
    return check.get("suggested_warp") or "affine"


@scoped
def warp_sar(out_path: str, sar_info, tiepoints: Sequence[TiePoint], grid: WorkingGrid, method: str = "affine",
             feedback=None) -> int:
    """Write ``out_path``: the SAR on the working grid, its geometry corrected by the inliers.

    GCPs map each inlier's SAR pixel position (of Q) to its true map position P; the warp is
    a least-squares affine (``affine``), a 2nd-order polynomial (``poly2``) or a thin-plate
    spline (``tps``).  Returns the number of GCPs used.  Raises ``InputError`` when there are
    too few inliers for the method.
    """
    rows = gcps_for_sar(tiepoints, grid, sar_info, inliers_only=True)
    need = MIN_POINTS[method]
    if len(rows) < need:
        raise InputError(f"only {len(rows)} inlier tie point(s), {method} warp needs {need}: "
                         "use a smaller --spacing or --warp affine")
    gcps = [gdal.GCP(mx, my, 0.0, pixel, line) for pixel, line, mx, my, _ in rows]
    src = gdal.Open(sar_info.path)
    with_gcps = gdal.Translate("", src, format="VRT", GCPs=gcps, outputSRS=grid.crs_wkt)
    x0, y0, px = grid.x0, grid.y0, grid.pixel_m

    def progress(frac, _msg, _data):
        if feedback is not None:
            feedback.set_progress(100.0 * frac)
            return 0 if feedback.is_canceled() else 1
        return 1

    opts = dict(format="GTiff", dstSRS=grid.crs_wkt,
                outputBounds=(x0, y0 - grid.height * px, x0 + grid.width * px, y0),
                xRes=px, yRes=px, resampleAlg="bilinear",
                creationOptions=["COMPRESS=DEFLATE", "TILED=YES", "BIGTIFF=IF_SAFER"],
                warpMemoryLimit=256 * 1024 * 1024, callback=progress)
    if method == "tps":
        opts["tps"] = True
    else:
        opts["polynomialOrder"] = 1 if method == "affine" else 2
    ds = gdal.Warp(out_path, with_gcps, **opts)
    ds.FlushCache()
    ds = None
    del with_gcps, src
    return len(gcps)
