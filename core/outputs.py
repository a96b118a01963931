"""Writers for the outputs of one co-registration (see PRODUCT: Outputs).

Each writer takes the final *relative* name's staging path, writes a complete file, and
returns; ``core.staging.OutputStage`` moves everything into place at the end.
"""
from __future__ import annotations

import json
import math
import os
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
from osgeo import gdal, ogr

from .gdalscope import scoped
from .grid import WorkingGrid, srs_from_wkt, transformer
from .results import TIEPOINT_FIELDS, TiePoint

TIEPOINTS_GPKG = "tiepoints.gpkg"
SIMILARITY_DIR = "similarity"
SIMILARITY_VRT = "similarity.vrt"
SHIFT_FIELD = "shift_field.tif"
POINTS_FILE = "tiepoints.points"
REPORT = "report.json"
SAR_CORRECTED = "sar_corrected.tif"
ALL_OUTPUTS = (TIEPOINTS_GPKG, SIMILARITY_DIR, SIMILARITY_VRT, SHIFT_FIELD, POINTS_FILE, REPORT, SAR_CORRECTED)

_OGR_TYPES = {int: ogr.OFTInteger, float: ogr.OFTReal, str: ogr.OFTString}
_TIFF_OPTS = ["COMPRESS=DEFLATE", "PREDICTOR=3", "TILED=NO"]


def similarity_name(win_row: int, win_col: int) -> str:
    return f"{SIMILARITY_DIR}/sim_r{win_row:03d}_c{win_col:03d}.tif"


@scoped
def write_float_raster(path: str, bands: Sequence[np.ndarray], geotransform, crs_wkt: str,
                       names: Sequence[str] = ()) -> None:
    """A float32 GeoTIFF with NaN as nodata; ``bands`` are ``(rows, cols)`` arrays."""
    rows, cols = bands[0].shape
    drv = gdal.GetDriverByName("GTiff")
    ds = drv.Create(path, cols, rows, len(bands), gdal.GDT_Float32, options=_TIFF_OPTS)
    ds.SetGeoTransform(tuple(geotransform))
    ds.SetProjection(crs_wkt)
    for i, arr in enumerate(bands):
        band = ds.GetRasterBand(i + 1)
        band.SetNoDataValue(float("nan"))
        band.WriteArray(np.asarray(arr, dtype=np.float32))
        if i < len(names):
            band.SetDescription(names[i])
        del band
    ds.FlushCache()
    ds = None


def similarity_geotransform(grid: WorkingGrid, window, sar_offset_px=(0, 0)) -> Tuple[float, ...]:
    """Geotransform placing similarity pixel ``(i, j)`` at the template centre it implies.

    Candidate ``(i, j)`` puts the template's top-left pixel at window pixel ``(i, j)``, i.e.
    its centre at working-grid pixel ``(row0 + dy + i + (T-1)/2, col0 + dx + j + (T-1)/2)``,
    where ``(dy, dx)`` is the SAR offset of the coarse pass (``(0, 0)`` without one).
    """
    half = (window.template_px - 1) / 2.0
    x_corner = grid.x0 + (window.col0 + sar_offset_px[1] + half) * grid.pixel_m
    y_corner = grid.y0 - (window.row0 + sar_offset_px[0] + half) * grid.pixel_m
    return (x_corner, grid.pixel_m, 0.0, y_corner, 0.0, -grid.pixel_m)


def write_similarity(path: str, similarity: np.ndarray, grid: WorkingGrid, window, sar_offset_px=(0, 0)) -> None:
    write_float_raster(path, [similarity], similarity_geotransform(grid, window, sar_offset_px), grid.crs_wkt,
                       ["similarity"])


@scoped
def write_similarity_vrt(stage_dir: str, relative_tifs: List[str]) -> Optional[str]:
    """``similarity.vrt`` over all similarity rasters, with paths relative to the VRT."""
    if not relative_tifs:
        return None
    path = os.path.join(stage_dir, SIMILARITY_VRT)
    # sources below the VRT's folder are written relativeToVRT="1" by GDAL
    ds = gdal.BuildVRT(path, [os.path.join(stage_dir, t) for t in relative_tifs], srcNodata="nan", VRTNodata="nan")
    ds.FlushCache()
    ds = None
    return path


@scoped
def write_tiepoints(path: str, tiepoints: Iterable[TiePoint], crs_wkt: str) -> None:
    """``tiepoints.gpkg``, layer ``tiepoints``, points at P; NaN values are written as NULL."""
    drv = ogr.GetDriverByName("GPKG")
    ds = drv.CreateDataSource(path)
    srs = srs_from_wkt(crs_wkt)
    layer = ds.CreateLayer("tiepoints", srs, ogr.wkbPoint, options=["FID=fid"])
    types = TiePoint.__annotations__
    for name in TIEPOINT_FIELDS:
        kind = {"int": int, "float": float, "str": str}[types[name]]
        layer.CreateField(ogr.FieldDefn(name, _OGR_TYPES[kind]))
    defn = layer.GetLayerDefn()
    ds.StartTransaction()
    for tp in tiepoints:
        feat = ogr.Feature(defn)
        for name in TIEPOINT_FIELDS:
            value = getattr(tp, name)
            if isinstance(value, float) and not math.isfinite(value):
                feat.SetFieldNull(name)
            else:
                feat.SetField(name, value)
        geom = ogr.Geometry(ogr.wkbPoint)
        geom.AddPoint_2D(tp.x_opt, tp.y_opt)
        feat.SetGeometry(geom)
        layer.CreateFeature(feat)
        feat = None
    ds.CommitTransaction()
    ds = None


@scoped
def write_shift_field(path: str, tiepoints: Sequence[TiePoint], windows, grid: WorkingGrid, spacing_px: int) -> None:
    """2 bands (dx_m, dy_m), one pixel per window of the lattice, NaN where no inlier."""
    if not windows:
        return
    n_rows = max(w.win_row for w in windows) + 1
    n_cols = max(w.win_col for w in windows) + 1
    dx = np.full((n_rows, n_cols), np.nan, np.float32)
    dy = np.full((n_rows, n_cols), np.nan, np.float32)
    for tp in tiepoints:
        if not tp.outlier and tp.matched:
            dx[tp.win_row, tp.win_col] = tp.dx_m
            dy[tp.win_row, tp.win_col] = tp.dy_m
    first = min(windows, key=lambda w: (w.win_row, w.win_col))
    r_c, c_c = first.template_centre
    cell = spacing_px * grid.pixel_m
    x_centre, y_centre = grid.pixel_to_map(r_c, c_c)
    gt = (float(x_centre) - cell / 2, cell, 0.0, float(y_centre) + cell / 2, 0.0, -cell)
    write_float_raster(path, [dx, dy], gt, grid.crs_wkt, ["dx_m", "dy_m"])


@scoped
def sar_pixel_of(points_xy: np.ndarray, grid: WorkingGrid, sar_info) -> np.ndarray:
    """SAR raster ``(pixel, line)`` (GDAL corner convention) of working-CRS map points."""
    ct = transformer(grid.crs_wkt, sar_info.crs_wkt)
    xy = np.array(ct.TransformPoints(points_xy.tolist()))[:, :2] if len(points_xy) else np.zeros((0, 2))
    inv = gdal.InvGeoTransform(sar_info.geotransform)
    px = inv[0] + xy[:, 0] * inv[1] + xy[:, 1] * inv[2]
    ln = inv[3] + xy[:, 0] * inv[4] + xy[:, 1] * inv[5]
    return np.column_stack([px, ln])


def gcps_for_sar(tiepoints: Sequence[TiePoint], grid: WorkingGrid, sar_info, inliers_only: bool = True):
    """``(pixel, line, map_x, map_y, enabled)`` rows: SAR position of Q → true map position P."""
    pts = [t for t in tiepoints if t.matched and (not inliers_only or not t.outlier)]
    if not pts:
        return []
    q = np.array([[t.x_sar, t.y_sar] for t in pts])
    pl = sar_pixel_of(q, grid, sar_info)
    return [(float(pl[i, 0]), float(pl[i, 1]), t.x_opt, t.y_opt, int(not t.outlier)) for i, t in enumerate(pts)]


@scoped
def write_points(path: str, tiepoints: Sequence[TiePoint], grid: WorkingGrid, sar_info) -> None:
    """A QGIS Georeferencer GCP file for the SAR raster.

    Source coordinates are SAR pixel columns and negated lines (the Georeferencer's pixel
    frame); map coordinates are in the working CRS, named in the ``#CRS:`` header.
    Outliers are included with ``enable = 0`` so a person can switch them back on.
    """
    rows = gcps_for_sar(tiepoints, grid, sar_info, inliers_only=False)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(f"#CRS: {srs_from_wkt(grid.crs_wkt).ExportToWkt()}\n")
        fh.write("mapX,mapY,pixelX,pixelY,enable,dX,dY,residual\n")
        for pixel, line, mx, my, enabled in rows:
            fh.write(f"{mx:.4f},{my:.4f},{pixel:.4f},{-line:.4f},{enabled},0,0,0\n")


def estimated_bytes(windows, write_similarity: bool = True) -> int:
    """An upper bound of the bytes the outputs of a run over ``windows`` take (without
    ``sar_corrected.tif``): similarity rasters uncompressed plus headers, the GeoPackage's
    fixed cost and its rows, the shift field, the points file and the report."""
    n = len(windows)
    total = 192 * 1024 + n * 512                      # tiepoints.gpkg
    total += 64 * 1024 + n * 256                      # report.json, tiepoints.points, shift_field.tif
    if write_similarity:
        total += sum((2 * w.margin_px + 1) ** 2 * 4 + 4096 for w in windows)  # similarity/*.tif
        total += n * 512 + 4096                       # similarity.vrt
    return total


def write_report(path: str, report: Dict) -> None:
    def clean(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        if isinstance(v, np.generic):
            return clean(v.item())
        return v
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(clean(report), fh, indent=2)
        fh.write("\n")
