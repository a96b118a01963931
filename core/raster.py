"""Reading rasters: validation, band choice, and windows on the working grid.

Every dataset is opened by the code that reads it; a ``SceneSource`` holds only a recipe
(paths, bands, grid) so it can be pickled to another process and opens its own GDAL
datasets there, one per thread.  The SAR (and the optical, when its grid differs) is put on
the working grid by a GDAL *warped VRT*: pixels are computed window by window, never as a
full copy, so memory stays bounded by a few windows whatever the scene size.  A raster that
already lies on the working grid (same CRS, same pixel size, origin a whole number of pixels
away, north-up) is read directly at the shifted offsets instead: the same pixels and nodata
as the warp gives there (checked by the tests), without its cost (measured 0.27–0.37 s of
warping per 512 px window pair against 0.01 s read directly).
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

    def _open(self):
        """This thread's reader: ``("direct", dataset, offset)`` for a raster on the working
        grid, ``("bilinear", _Bilinear)`` for one in the grid's CRS with nearly its pixel size,
        else ``("warp", warped VRT)``."""
        cache = _thread_cache()
        key = (self.path, self.bands, self.grid, self.role)
        opened = cache.get(key)
        if opened is None:
            src = open_raster(self.path)
            offset = aligned_offset(src, self.grid) if not WARP_ALIGNED else None
            if offset is not None:
                opened = ("direct", src, offset)
            elif not WARP_ALIGNED and _Bilinear.applies(src, self.bands, self.grid, self.native_pixel_m):
                opened = ("bilinear", _Bilinear(src, self.bands, self.grid, self._warped))
            else:
                opened = ("warp", self._warped())
            cache[key] = opened
        return opened

    def _warped(self) -> "gdal.Dataset":
        return _warped(self.path, self.bands, self.grid, self.native_pixel_m)

    def read(self, row0: int, col0: int, rows: int, cols: int) -> np.ndarray:
        with gdal_scope():
            opened = self._open()
            try:
                if opened[0] == "direct":
                    _, ds, offset = opened
                    stack = _read_direct(ds, self.bands, int(row0) + offset[0], int(col0) + offset[1], int(rows),
                                         int(cols))
                elif opened[0] == "bilinear":
                    stack = opened[1].read(int(row0), int(col0), int(rows), int(cols))
                else:
                    stack = np.asarray(opened[1].ReadAsArray(int(col0), int(row0), int(cols), int(rows)),
                                       dtype=np.float32)
            except RuntimeError as exc:
                raise RasterReadError(
                    f"{self.path}: reading window at row {row0}, col {col0} failed ({one_line(exc)}): "
                    "the file may be truncated or corrupt") from None
        if stack.ndim == 2:
            stack = stack[None]
        if self.role == "optical":
            return optical_grey(stack)
        return to_db(stack[0], self.sar_kind)


def optical_grey(stack: np.ndarray) -> np.ndarray:
    """The grey image (float32) of optical bands ``(bands, H, W)``: their mean, NaN where every
    band is exactly 0 (fill, not dark ground)."""
    with np.errstate(invalid="ignore"):
        grey = stack.mean(axis=0)
        grey[np.all(stack == 0, axis=0)] = np.nan
    return grey.astype(np.float32)


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


WARP_ALIGNED = False   # True: warp even rasters on the working grid (the previous reading, for benchmarks)


def aligned_offset(ds: "gdal.Dataset", grid: WorkingGrid) -> Optional[Tuple[int, int]]:
    """``(rows, cols)`` of the working grid's top-left pixel in ``ds`` when ``ds`` lies on the
    grid (same CRS, north-up, same pixel size, origin a whole number of pixels away), else None."""
    gt = ds.GetGeoTransform(can_return_null=True)
    srs = ds.GetSpatialRef()
    if gt is None or srs is None or gt[2] != 0 or gt[4] != 0 or gt[5] >= 0:
        return None
    px = grid.pixel_m
    if abs(gt[1] - px) > 1e-9 * px or abs(-gt[5] - px) > 1e-9 * px:
        return None
    grid_srs = osr.SpatialReference()
    grid_srs.ImportFromWkt(grid.crs_wkt)
    if not srs.IsSame(grid_srs):
        return None
    dc = (grid.x0 - gt[0]) / px
    dr = (gt[3] - grid.y0) / px
    if abs(dc - round(dc)) > 1e-6 or abs(dr - round(dr)) > 1e-6:
        return None
    return int(round(dr)), int(round(dc))


def _read_direct(ds: "gdal.Dataset", bands: Tuple[int, ...], row0: int, col0: int, rows: int,
                 cols: int) -> np.ndarray:
    """``(len(bands), rows, cols)`` float32 of ``ds`` at source ``(row0, col0)``; NaN outside
    the raster and where a band's mask (its nodata value, a per-dataset mask or alpha) says
    nodata, band by band, as GDAL's warper does it here (``tests/test_reading.py`` holds the
    two to the same pixels)."""
    out = np.full((len(bands), rows, cols), np.nan, dtype=np.float32)
    r0, c0 = max(row0, 0), max(col0, 0)
    r1, c1 = min(row0 + rows, ds.RasterYSize), min(col0 + cols, ds.RasterXSize)
    if r1 <= r0 or c1 <= c0:
        return out
    h, w = r1 - r0, c1 - c0
    vals = np.empty((len(bands), h, w), dtype=np.float32)
    for k, b in enumerate(bands):
        band = ds.GetRasterBand(b)
        vals[k] = band.ReadAsArray(c0, r0, w, h)
        if not band.GetMaskFlags() & gdal.GMF_ALL_VALID:
            vals[k][band.GetMaskBand().ReadAsArray(c0, r0, w, h) == 0] = np.nan
    out[:, r0 - row0:r1 - row0, c0 - col0:c1 - col0] = vals
    return out


def _two_taps(a: np.ndarray, i: np.ndarray, w: np.ndarray, axis: int) -> np.ndarray:
    """``a[i] · w + a[i + 1] · (1 - w)`` along ``axis`` (0: rows, 1: columns) of a 2-D ``a``;
    slices instead of gathers where ``i`` is a run of consecutive indices (the usual case: the
    source pixels are nearly the grid's), the same numbers either way."""
    n = i.size
    if n and i[-1] - i[0] == n - 1 and (n == 1 or bool(np.all(np.diff(i) == 1))):
        lo, hi = int(i[0]), int(i[0]) + n
        first = a[lo:hi] if axis == 0 else a[:, lo:hi]
        second = a[lo + 1:hi + 1] if axis == 0 else a[:, lo + 1:hi + 1]
    else:
        first = a[i] if axis == 0 else a[:, i]
        second = a[i + 1] if axis == 0 else a[:, i + 1]
    ww = w[:, None] if axis == 0 else w
    return first * ww + second * (1.0 - ww)


class _Bilinear:
    """GDAL's bilinear warp, computed in numpy, for a source in the working grid's CRS,
    north-up, whose pixel size is within 0.1 % of the grid's (e.g. the ``s1s2_la`` mosaics:
    10.000277 × 10.000157 m pixels on a 10.000217 m grid).

    Source pixel coordinates of a grid pixel centre are affine in its column and row, so the
    warp is separable: GDAL's 4-sample formula (used for scales >= 0.95) weighs the 2 × 2
    source pixels around it by ``(1.5 - (X - floor(X - 0.5)))`` and its complement per axis,
    leaves out nodata and out-of-raster pixels and divides by the weight kept; it gives
    nodata where the source pixel under the point is nodata in every band, or where less than
    1e-5 of the weight is kept. Here that is two 2-tap passes over the
    source block (values times validity, and validity), in float64. The result equals GDAL's
    to float32 round-off with the same nodata (``tests/test_reading.py``), at a fraction of
    the cost. Float sources with NaN or infinite values in the block fall back to the warp.
    """

    def __init__(self, src: "gdal.Dataset", bands: Tuple[int, ...], grid: WorkingGrid, make_warped) -> None:
        self.src, self.bands, self.grid = src, bands, grid
        gt = src.GetGeoTransform()
        self.gt = gt
        self._make_warped = make_warped
        self._warped_ds = None
        self.nodata = []
        for b in bands:
            band = src.GetRasterBand(b)
            self.nodata.append(band.GetNoDataValue() if band.GetMaskFlags() & gdal.GMF_NODATA else None)
        self.floating = src.GetRasterBand(bands[0]).DataType in (gdal.GDT_Float32, gdal.GDT_Float64)

    @staticmethod
    def applies(src: "gdal.Dataset", bands: Tuple[int, ...], grid: WorkingGrid, native_pixel_m: float) -> bool:
        gt = src.GetGeoTransform(can_return_null=True)
        srs = src.GetSpatialRef()
        if gt is None or srs is None or gt[2] != 0 or gt[4] != 0 or gt[1] <= 0 or gt[5] >= 0:
            return False
        px = grid.pixel_m
        if abs(gt[1] / px - 1.0) > 1e-3 or abs(-gt[5] / px - 1.0) > 1e-3:
            return False
        if native_pixel_m and px > 1.5 * native_pixel_m:       # the warp would average
            return False
        grid_srs = osr.SpatialReference()
        grid_srs.ImportFromWkt(grid.crs_wkt)
        if not srs.IsSame(grid_srs):
            return False
        for b in bands:
            band = src.GetRasterBand(b)
            flags = band.GetMaskFlags()
            if flags not in (gdal.GMF_ALL_VALID, gdal.GMF_NODATA):   # per-dataset masks, alpha: warp
                return False
            if band.DataType not in (gdal.GDT_Byte, gdal.GDT_UInt16, gdal.GDT_Int16, gdal.GDT_UInt32,
                                     gdal.GDT_Int32, gdal.GDT_Float32, gdal.GDT_Float64):
                return False
        return True

    @staticmethod
    def _axis(coords: np.ndarray, lo: int):
        i = np.floor(coords - 0.5).astype(np.int64)
        w = 1.5 - (coords - i)                       # weight of pixel i; 1 - w of pixel i + 1
        return i - lo, w

    def read(self, row0: int, col0: int, rows: int, cols: int) -> np.ndarray:
        g, gt = self.grid, self.gt
        X = (g.x0 + (np.arange(col0, col0 + cols) + 0.5) * g.pixel_m - gt[0]) / gt[1]
        Y = (g.y0 - (np.arange(row0, row0 + rows) + 0.5) * g.pixel_m - gt[3]) / gt[5]
        x_lo, x_hi = int(np.floor(X[0] - 0.5)), int(np.floor(X[-1] - 0.5)) + 2
        y_lo, y_hi = int(np.floor(Y[0] - 0.5)), int(np.floor(Y[-1] - 0.5)) + 2
        ix, wx = self._axis(X, x_lo)
        iy, wy = self._axis(Y, y_lo)
        cx = np.floor(X + 1e-10).astype(np.int64) - x_lo      # the source pixel under the point
        cy = np.floor(Y + 1e-10).astype(np.int64) - y_lo
        h, w = y_hi - y_lo, x_hi - x_lo
        r0, c0 = max(y_lo, 0), max(x_lo, 0)
        r1, c1 = min(y_hi, self.src.RasterYSize), min(x_hi, self.src.RasterXSize)
        out = np.full((len(self.bands), rows, cols), np.nan, dtype=np.float32)
        if r1 <= r0 or c1 <= c0:
            return out
        blocks, valids = [], []
        for k, b in enumerate(self.bands):
            block = self.src.GetRasterBand(b).ReadAsArray(c0, r0, c1 - c0, r1 - r0).astype(np.float64)
            if self.floating and not np.isfinite(block).all():
                return self._warp_read(row0, col0, rows, cols)
            blocks.append(block)
            valids.append(np.ones(block.shape, dtype=bool) if self.nodata[k] is None else block != self.nodata[k])
        inside = (r0, c0, r1, c1) == (y_lo, x_lo, y_hi, x_hi)
        if inside and all(v.all() for v in valids):
            # the whole block holds data: no weight is left out, so the weights' sum is 1 up to
            # round-off, which the division by it undoes (the same bits as the general case)
            ones = _two_taps(np.ones((1, w)), ix, wx, 1)
            den = ones * wy[:, None] + ones * (1.0 - wy)[:, None]
            for k in range(len(self.bands)):
                out[k] = _two_taps(_two_taps(blocks[k], ix, wx, 1), iy, wy, 0) / den
            return out
        # the pixel under the point must hold data in at least one band (GDAL's unified source
        # validity); each band then weighs only its own valid pixels
        under = np.zeros((h, w), dtype=bool)
        under[r0 - y_lo:r1 - y_lo, c0 - x_lo:c1 - x_lo] = np.logical_or.reduce(valids)
        under = under[cy][:, cx]
        for k in range(len(self.bands)):
            vals = np.zeros((h, w), dtype=np.float64)
            valid = np.zeros((h, w), dtype=np.float64)
            vals[r0 - y_lo:r1 - y_lo, c0 - x_lo:c1 - x_lo] = np.where(valids[k], blocks[k], 0.0)
            valid[r0 - y_lo:r1 - y_lo, c0 - x_lo:c1 - x_lo] = valids[k]
            num = _two_taps(_two_taps(vals, ix, wx, 1), iy, wy, 0)
            den = _two_taps(_two_taps(valid, ix, wx, 1), iy, wy, 0)
            keep = (den >= 1e-5) & under
            out[k][keep] = num[keep] / den[keep]
        return out

    def _warp_read(self, row0: int, col0: int, rows: int, cols: int) -> np.ndarray:
        if self._warped_ds is None:
            self._warped_ds = self._make_warped()
        stack = np.asarray(self._warped_ds.ReadAsArray(col0, row0, cols, rows), dtype=np.float32)
        return stack if stack.ndim == 3 else stack[None]


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
