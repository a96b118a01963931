"""Reading rasters: validation, band choice, and windows on the working grid.

Every dataset is opened by the code that reads it; a ``SceneSource`` holds only a recipe
(paths, bands, grid) so it can be pickled to another process and opens its own GDAL
datasets there, one per thread.  The SAR (and the optical, when its grid differs) is put on
the working grid by a GDAL *warped VRT*: pixels are computed window by window, never as a
full copy, so memory stays bounded by a few windows whatever the scene size.
"""
from __future__ import annotations

import logging
import os
import threading
import uuid
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import numpy as np
from osgeo import gdal, osr

from .errors import InputError, RasterReadError, one_line
from .gdalscope import gdal_scope, scoped
from .grid import WorkingGrid
from .radiometry import to_db

# No process-wide GDAL setting is changed here (exception mode, cache, error handler): every
# function below runs inside ``core.gdalscope.gdal_scope()``.
log = logging.getLogger("sarcoreg.raster")

COMPLEX_TYPES = {"CInt16", "CInt32", "CFloat32", "CFloat64"}
SUPPORTED_TYPES = {"Byte", "Int8", "UInt16", "Int16", "UInt32", "Int32", "Float32", "Float64"}


@dataclass(frozen=True)
class RasterInfo:
    """What the engine needs to know about one raster (no pixels)."""

    path: str
    width: int
    height: int
    band_count: int
    dtypes: Tuple[str, ...]
    crs_wkt: str
    geotransform: Tuple[float, ...]
    nodata: Tuple[Optional[float], ...]
    color_interp: Tuple[str, ...]

    @property
    @scoped
    def is_geographic(self) -> bool:
        srs = osr.SpatialReference()
        srs.ImportFromWkt(self.crs_wkt)
        return bool(srs.IsGeographic())


def _label(path: str) -> str:
    return os.path.basename(path.rstrip("/")) or path


@scoped
def open_raster(path: str) -> "gdal.Dataset":
    """Open ``path`` read-only or raise ``RasterReadError`` with a one-line reason."""
    if not path.startswith("/vsi") and not os.path.exists(path):
        raise RasterReadError(f"{path}: no such file: check the path")
    if not path.startswith("/vsi") and os.path.isdir(path):
        raise RasterReadError(f"{path}: is a folder, not a raster: give the path of a raster file")
    try:
        ds = gdal.Open(path, gdal.GA_ReadOnly)
    except RuntimeError as exc:
        msg = one_line(exc) or "unknown format"
        raise RasterReadError(
            f"{path}: GDAL cannot read it as a raster ({msg}): give a GeoTIFF, VRT or another GDAL format") from None
    if ds is None or ds.RasterCount == 0:
        raise RasterReadError(f"{path}: holds no raster band: give a raster file")
    return ds


@scoped
def describe(path: str, check_readable: bool = True) -> RasterInfo:
    """Validate ``path`` and return its ``RasterInfo``.

    Refuses, with one clear line each: missing or non-raster files, truncated or corrupt
    files (the last block is read), rasters without a CRS or geotransform, 1 x 1 rasters,
    and unsupported data types.
    """
    ds = open_raster(path)
    width, height = ds.RasterXSize, ds.RasterYSize
    bands = [ds.GetRasterBand(i + 1) for i in range(ds.RasterCount)]
    dtypes = tuple(gdal.GetDataTypeName(b.DataType) for b in bands)
    if width < 2 or height < 2:
        raise InputError(f"{path}: is {width} x {height} px, too small to co-register: give a scene of at least one window")
    wkt = ds.GetProjection() or ""
    gt = ds.GetGeoTransform(can_return_null=True)
    if not wkt:
        raise InputError(
            f"{path}: has no CRS: georeference it first (e.g. gdal_edit.py -a_srs EPSG:xxxx), "
            "or use 'sarcoreg match-batch' for images without georeferencing")
    if gt is None:
        raise InputError(f"{path}: has a CRS but no geotransform: georeference it first")
    if check_readable:
        for b in bands:
            try:
                b.ReadRaster(width - 1, height - 1, 1, 1)
                b.ReadRaster(0, 0, 1, 1)
            except RuntimeError as exc:
                raise RasterReadError(
                    f"{path}: cannot read its pixels, the file is truncated or corrupt ({one_line(exc)}): "
                    "copy or download it again") from None
    info = RasterInfo(
        path=path, width=width, height=height, band_count=len(bands), dtypes=dtypes,
        crs_wkt=wkt, geotransform=tuple(gt),
        nodata=tuple(b.GetNoDataValue() for b in bands),
        color_interp=tuple(gdal.GetColorInterpretationName(b.GetColorInterpretation()) for b in bands),
    )
    del bands, ds
    return info


def check_dtype(info: RasterInfo, band_numbers: Sequence[int], role: str) -> None:
    for b in band_numbers:
        if b > info.band_count:
            raise InputError(
                f"{info.path}: has {info.band_count} band(s), band {b} was asked for: "
                f"choose {role} bands between 1 and {info.band_count}")
        dt = info.dtypes[b - 1]
        if dt in COMPLEX_TYPES:
            if role == "SAR":
                raise InputError(
                    f"{info.path}: band {b} is complex ({dt}), i.e. SLC: detect it first "
                    "(amplitude, power or dB, e.g. a GRD product or |SLC| multilooked)")
            raise InputError(f"{info.path}: band {b} is complex ({dt}): optical bands must be real-valued")
        if dt not in SUPPORTED_TYPES:
            raise InputError(
                f"{info.path}: band {b} has unsupported data type {dt}: convert it to "
                "uint8, uint16, int16 or float32 (gdal_translate -ot Float32)")


def default_optical_bands(info: RasterInfo) -> Tuple[int, ...]:
    """The visible bands: R, G, B by colour interpretation, else the first three (or one)."""
    by_name = {name: i + 1 for i, name in enumerate(info.color_interp)}
    rgb = [by_name[n] for n in ("Red", "Green", "Blue") if n in by_name]
    if len(rgb) == 3:
        return tuple(rgb)
    usable = [i + 1 for i, n in enumerate(info.color_interp) if n != "Alpha"]
    return tuple(usable[:3]) if len(usable) >= 3 else tuple(usable[:1] or [1])


@scoped
def stack_band_files(paths: Sequence[str]) -> str:
    """One band per file (e.g. Sentinel-2 B04, B03, B02) → an in-memory VRT stacking them."""
    for p in paths:
        describe(p, check_readable=False)
    name = f"/vsimem/sarcoreg_stack_{uuid.uuid4().hex}.vrt"
    try:
        ds = gdal.BuildVRT(name, list(paths), separate=True)
    except RuntimeError as exc:
        raise InputError(f"cannot stack {', '.join(paths)} as bands ({one_line(exc)}): give files of one CRS") from None
    ds.FlushCache()
    del ds
    return name


@scoped
def guess_sar_kind(info: RasterInfo, band: int) -> str:
    """``db`` for float data with negative values, else ``amplitude``.

    Amplitude and power give the same *normalised* dB image (20·log10 a = 10·log10 a²), so the
    choice between them never changes a match; only dB versus linear matters.
    """
    if not info.dtypes[band - 1].startswith("Float"):
        return "amplitude"
    ds = open_raster(info.path)
    b = ds.GetRasterBand(band)
    try:
        try:
            lo, _hi = b.ComputeRasterMinMax(True)
        except RuntimeError:  # the approximate pass samples blocks: sparse data can escape it
            lo, _hi = b.ComputeRasterMinMax(False)
    except RuntimeError:
        raise InputError(f"{info.path}: band {band} holds only nodata: give a SAR scene with valid pixels") from None
    del b, ds
    return "db" if lo < 0 else "amplitude"


@dataclass(frozen=True)
class SceneSource:
    """A recipe for reading one scene on the working grid; picklable, thread-safe to use.

    ``role`` is ``optical`` (grey = mean of ``bands``) or ``sar`` (one band, converted to dB
    from ``sar_kind``).  ``read(row0, col0, rows, cols)`` returns float32 with NaN for
    nodata, indexed ``[row, col]`` on ``grid``.
    """

    path: str
    bands: Tuple[int, ...]
    grid: WorkingGrid
    role: str
    sar_kind: str = "amplitude"
    native_pixel_m: float = 0.0

    def _open(self) -> "gdal.Dataset":
        cache = _thread_cache()
        key = (self.path, self.bands, self.grid, self.role)
        ds = cache.get(key)
        if ds is None:
            ds = _warped(self.path, self.bands, self.grid, self.native_pixel_m)
            cache[key] = ds
        return ds

    def read(self, row0: int, col0: int, rows: int, cols: int) -> np.ndarray:
        with gdal_scope():
            ds = self._open()
            try:
                stack = ds.ReadAsArray(int(col0), int(row0), int(cols), int(rows))
            except RuntimeError as exc:
                raise RasterReadError(
                    f"{self.path}: reading window at row {row0}, col {col0} failed ({one_line(exc)}): "
                    "the file may be truncated or corrupt") from None
        stack = np.asarray(stack, dtype=np.float32)
        if stack.ndim == 2:
            stack = stack[None]
        if self.role == "optical":
            with np.errstate(invalid="ignore"):
                grey = stack.mean(axis=0)
                # pixels where every chosen band is exactly 0 are fill, not dark ground
                grey[np.all(stack == 0, axis=0)] = np.nan
            return grey.astype(np.float32)
        return to_db(stack[0], self.sar_kind)


_local = threading.local()


def _thread_cache() -> dict:
    cache = getattr(_local, "datasets", None)
    if cache is None:
        cache = _local.datasets = {}
    return cache


def close_thread_datasets() -> None:
    """Drop this thread's open datasets (call before a thread or process ends)."""
    with gdal_scope():
        _local.datasets = {}


def _warped(path: str, bands: Tuple[int, ...], grid: WorkingGrid, native_pixel_m: float) -> "gdal.Dataset":
    src = open_raster(path)
    sel = gdal.Translate("", src, format="VRT", bandList=list(bands))
    resample = "average" if native_pixel_m and grid.pixel_m > 1.5 * native_pixel_m else "bilinear"
    x0, y0, px = grid.x0, grid.y0, grid.pixel_m
    opts = gdal.WarpOptions(
        format="VRT", dstSRS=grid.crs_wkt,
        outputBounds=(x0, y0 - grid.height * px, x0 + grid.width * px, y0),
        xRes=px, yRes=px, resampleAlg=resample, outputType=gdal.GDT_Float32,
        dstNodata=float("nan"), multithread=False,
        warpOptions=["INIT_DEST=NO_DATA"],
    )
    ds = gdal.Warp("", sel, options=opts)
    if ds is None:  # pragma: no cover - GDAL raises with UseExceptions
        raise RasterReadError(f"{path}: GDAL could not warp it onto the working grid")
    # keep the sources alive as long as the warped dataset
    ds._sarcoreg_keep = (src, sel)  # type: ignore[attr-defined]
    return ds
