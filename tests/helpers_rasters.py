"""Small rasters for tests: generated ones, and real pairs cut from the shared Los Angeles data.

Generated rasters are for input handling (they never have to match anything real); the
Los Angeles pairs carry a known shift (applied to the SAR georeferencing, plus the pair's
own measured residual) that co-registration must recover.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Tuple

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()

UTM11N = 32611
GT_DEFAULT = (500000.0, 10.0, 0.0, 3800000.0, 0.0, -10.0)


def wkt_of(epsg: int) -> str:
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    return srs.ExportToWkt()


def write_raster(path, array, geotransform: Optional[Sequence[float]] = GT_DEFAULT,
                 epsg: Optional[int] = UTM11N, nodata: Optional[float] = None,
                 gdal_type: int = gdal.GDT_Float32, options: Sequence[str] = ()) -> str:
    """Write ``array`` (``(rows, cols)`` or ``(bands, rows, cols)``) as a GeoTIFF.

    ``geotransform`` / ``epsg`` None leave the georeferencing out.  ``path`` may be a
    ``/vsimem/`` name.
    """
    arr = np.asarray(array)
    if arr.ndim == 2:
        arr = arr[None]
    bands, rows, cols = arr.shape
    ds = gdal.GetDriverByName("GTiff").Create(os.fspath(path), cols, rows, bands, gdal_type, options=list(options))
    if geotransform is not None:
        ds.SetGeoTransform(tuple(geotransform))
    if epsg is not None:
        ds.SetProjection(wkt_of(epsg))
    for i in range(bands):
        band = ds.GetRasterBand(i + 1)
        if nodata is not None:
            band.SetNoDataValue(float(nodata))
        band.WriteArray(arr[i])
        del band
    ds.FlushCache()
    ds = None
    return os.fspath(path)


def texture(rows: int, cols: int, seed: int = 0) -> np.ndarray:
    """A smooth random float32 texture in [1, 101] that template matching locks onto."""
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((rows + 8, cols + 8))
    k = np.ones(5) / 5.0
    smooth = np.apply_along_axis(lambda r: np.convolve(r, k, "same"), 1, noise)
    smooth = np.apply_along_axis(lambda c: np.convolve(c, k, "same"), 0, smooth)[4:-4, 4:-4]
    smooth = (smooth - smooth.min()) / (np.ptp(smooth) or 1.0)
    return (1.0 + 100.0 * smooth).astype(np.float32)


def tree_digest(folder: Path) -> dict:
    """``{relative path: bytes}`` of every file under ``folder`` (to prove nothing changed)."""
    folder = Path(folder)
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------- Los Angeles pairs

# pairs on which the classical matcher recovers a known shift well with 256 px windows
LA_TILES = ("T11SLT", "019"), ("T11SLT", "020"), ("T11SLT", "048")
LA_PIXEL_M = 10.0


@dataclass(frozen=True)
class ShiftedPair:
    """A real optical/SAR pair with the SAR georeferencing moved by ``applied_m``."""

    name: str
    optical: str
    sar: str                     # a VRT of the SAR tile with a moved geotransform
    truth_m: Tuple[float, float]  # (dx_m, dy_m) expected: applied + the pair's own residual


def shifted_la_pairs(shared_data: Path, folder: Path, shifts_m: Sequence[Tuple[float, float]],
                     tiles: Sequence[Tuple[str, str]] = LA_TILES, copy_optical: bool = False):
    """One ``ShiftedPair`` per tile (1024 x 1024, EPSG:3395, 10 m) with ``shifts_m`` applied.

    ``copy_optical`` copies the optical tile into ``folder`` (so a test may change it).
    """
    from sarcoreg.core.demo import residual_shift_m, shift_georeferencing

    folder.mkdir(parents=True, exist_ok=True)
    pairs = []
    for (tile, pid), (dx, dy) in zip(tiles, shifts_m):
        src = shared_data / "s1s2_la" / tile
        optical = src / f"{pid}_opt.tif"
        if copy_optical:
            optical = Path(shutil.copy2(optical, folder / f"{tile}_{pid}_opt.tif"))
        sar = shift_georeferencing(str(src / f"{pid}_sar.tif"), str(folder / f"{tile}_{pid}_sar_shifted.vrt"), dx, dy)
        rx, ry = residual_shift_m(src / f"{pid}.json", LA_PIXEL_M)
        pairs.append(ShiftedPair(f"{tile}_{pid}", str(optical), sar, (dx + rx, dy + ry)))
    return pairs


def write_pairs_csv(path: Path, rows: Sequence[Sequence[str]], header: bool = True) -> Path:
    lines = (["optical,sar,name"] if header else []) + [",".join(r) for r in rows]
    Path(path).write_text("\n".join(lines) + "\n")
    return Path(path)


def read_json(path) -> dict:
    return json.loads(Path(path).read_text())
