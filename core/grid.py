"""The working grid: one north-up grid in the optical scene's CRS where matching happens.

Pixel convention (used everywhere in sarcoreg): pixel ``(row, col)`` has its *centre* at map
``x = x0 + (col + 0.5) * pixel_m``, ``y = y0 - (row + 0.5) * pixel_m``; ``(x0, y0)`` is the
outer top-left corner.  A geographic optical CRS is replaced by the local UTM zone.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np
from osgeo import osr

from .errors import InputError, OverlapError
from .gdalscope import scoped


@dataclass(frozen=True)
class WorkingGrid:
    crs_wkt: str
    x0: float
    y0: float
    pixel_m: float
    width: int
    height: int

    @property
    def geotransform(self) -> Tuple[float, float, float, float, float, float]:
        return (self.x0, self.pixel_m, 0.0, self.y0, 0.0, -self.pixel_m)

    def pixel_to_map(self, row, col):
        """Map ``(x, y)`` of the centre of pixel ``(row, col)`` (floats or arrays)."""
        return self.x0 + (np.asarray(col) + 0.5) * self.pixel_m, self.y0 - (np.asarray(row) + 0.5) * self.pixel_m

    def map_to_pixel(self, x, y):
        """Fractional ``(row, col)`` whose pixel centre is at map ``(x, y)``."""
        return (self.y0 - np.asarray(y)) / self.pixel_m - 0.5, (np.asarray(x) - self.x0) / self.pixel_m - 0.5

    @scoped
    def to_dict(self) -> dict:
        srs = srs_from_wkt(self.crs_wkt)
        return {"crs": authority(srs), "x0": self.x0, "y0": self.y0, "pixel_m": self.pixel_m,
                "width": self.width, "height": self.height}


@scoped
def srs_from_wkt(wkt: str) -> "osr.SpatialReference":
    srs = osr.SpatialReference()
    srs.ImportFromWkt(wkt)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def authority(srs: "osr.SpatialReference") -> str:
    name, code = srs.GetAuthorityName(None), srs.GetAuthorityCode(None)
    if name and code:
        return f"{name}:{code}"
    return srs.GetName() or "custom CRS"


@scoped
def transformer(src_wkt: str, dst_wkt: str) -> "osr.CoordinateTransformation":
    return osr.CoordinateTransformation(srs_from_wkt(src_wkt), srs_from_wkt(dst_wkt))


@scoped
def utm_wkt_for(lon: float, lat: float) -> str:
    zone = int(math.floor((lon + 180.0) / 6.0)) % 60 + 1
    srs = osr.SpatialReference()
    srs.ImportFromEPSG((32600 if lat >= 0 else 32700) + zone)
    return srs.ExportToWkt()


@scoped
def footprint(width: int, height: int, gt, src_wkt: str, dst_wkt: str, steps: int = 16):
    """Bounding box ``(minx, miny, maxx, maxy)`` of a raster in ``dst_wkt``, edges densified."""
    t = np.linspace(0.0, 1.0, steps + 1)
    cols = np.concatenate([t * width, np.full_like(t, width), t[::-1] * width, np.zeros_like(t)])
    rows = np.concatenate([np.zeros_like(t), t * height, np.full_like(t, height), t[::-1] * height])
    xs = gt[0] + cols * gt[1] + rows * gt[2]
    ys = gt[3] + cols * gt[4] + rows * gt[5]
    ct = transformer(src_wkt, dst_wkt)
    pts = np.array(ct.TransformPoints(np.column_stack([xs, ys]).tolist()))
    if not np.all(np.isfinite(pts[:, :2])):
        raise InputError("a scene cannot be projected into the working CRS: check its CRS")
    return float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max())


@scoped
def pixel_size_in(width: int, height: int, gt, src_wkt: str, dst_wkt: str) -> float:
    """Side of a square with the area of the raster's central pixel, in ``dst_wkt`` units."""
    c, r = width / 2.0, height / 2.0
    pix = [(c, r), (c + 1, r), (c, r + 1)]
    xy = [(gt[0] + a * gt[1] + b * gt[2], gt[3] + a * gt[4] + b * gt[5]) for a, b in pix]
    ct = transformer(src_wkt, dst_wkt)
    p = np.array([ct.TransformPoint(x, y)[:2] for x, y in xy])
    u, v = p[1] - p[0], p[2] - p[0]
    return float(math.sqrt(abs(u[0] * v[1] - u[1] * v[0])))


@scoped
def working_crs(optical_wkt: str, optical_width: int, optical_height: int, optical_gt) -> str:
    """The optical CRS, or its local UTM zone when it is geographic."""
    srs = srs_from_wkt(optical_wkt)
    if not srs.IsGeographic():
        return optical_wkt
    cx = optical_gt[0] + optical_width / 2 * optical_gt[1] + optical_height / 2 * optical_gt[2]
    cy = optical_gt[3] + optical_width / 2 * optical_gt[4] + optical_height / 2 * optical_gt[5]
    wgs84 = osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    wgs84.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    ct = osr.CoordinateTransformation(srs, wgs84)
    lon, lat = ct.TransformPoint(cx, cy)[:2]
    return utm_wkt_for(lon, lat)


@scoped
def build_working_grid(optical, sar, resolution_m: Optional[float], min_size_px: int) -> Tuple[WorkingGrid, dict]:
    """Lay the working grid over the overlap of ``optical`` and ``sar`` (``RasterInfo``).

    Returns the grid and a dict of facts for the report (native pixel sizes, CRSs).  Raises
    ``OverlapError`` when the overlap is empty or smaller than ``min_size_px`` square.
    """
    dst = working_crs(optical.crs_wkt, optical.width, optical.height, optical.geotransform)
    opt_px = pixel_size_in(optical.width, optical.height, optical.geotransform, optical.crs_wkt, dst)
    sar_px = pixel_size_in(sar.width, sar.height, sar.geotransform, sar.crs_wkt, dst)
    px = float(resolution_m) if resolution_m else max(opt_px, sar_px)
    a = footprint(optical.width, optical.height, optical.geotransform, optical.crs_wkt, dst)
    b = footprint(sar.width, sar.height, sar.geotransform, sar.crs_wkt, dst)
    minx, miny = max(a[0], b[0]), max(a[1], b[1])
    maxx, maxy = min(a[2], b[2]), min(a[3], b[3])
    opt_name = authority(srs_from_wkt(optical.crs_wkt))
    sar_name = authority(srs_from_wkt(sar.crs_wkt))
    if maxx <= minx or maxy <= miny:
        raise OverlapError(
            f"optical ({opt_name}) and SAR ({sar_name}) do not overlap: optical covers "
            f"x {a[0]:.0f}..{a[2]:.0f}, y {a[1]:.0f}..{a[3]:.0f} and SAR x {b[0]:.0f}..{b[2]:.0f}, "
            f"y {b[1]:.0f}..{b[3]:.0f} in the working CRS: check that you picked the right pair")
    # start on an optical pixel corner when the optical CRS is kept, so the optical pixels
    # are read without resampling at its own resolution (and stay aligned at multiples)
    gt = optical.geotransform
    if dst == optical.crs_wkt and gt[2] == 0 and gt[4] == 0:
        ox, oy, step_x, step_y = gt[0], gt[3], abs(gt[1]), abs(gt[5])
    else:
        ox, oy, step_x, step_y = 0.0, 0.0, px, px
    x0 = ox + math.ceil((minx - ox) / step_x - 1e-9) * step_x
    y0 = oy - math.ceil((oy - maxy) / step_y - 1e-9) * step_y
    width = int(math.floor((maxx - x0) / px + 1e-9))
    height = int(math.floor((y0 - miny) / px + 1e-9))
    if width < min_size_px or height < min_size_px:
        raise OverlapError(
            f"the overlap of optical and SAR is {max(width, 0)} x {max(height, 0)} px at "
            f"{px:.3g} m, smaller than one window of {min_size_px} px: use a smaller --window "
            "or a finer --resolution")
    grid = WorkingGrid(dst, float(x0), float(y0), px, width, height)
    facts = {"optical_crs": opt_name, "sar_crs": sar_name, "working_crs": authority(srs_from_wkt(dst)),
             "optical_pixel_m": opt_px, "sar_pixel_m": sar_px, "pixel_m": px}
    return grid, facts
