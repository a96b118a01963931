"""Small real and generated GeoTIFFs for engine tests (no mocks: real GDAL files)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO = REPO_ROOT / "resources" / "demo"


def epsg_wkt(code: int) -> str:
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(code)
    return srs.ExportToWkt()


def write_tif(path, bands: Sequence[np.ndarray], gt, wkt: Optional[str], nodata=None, dtype=None) -> str:
    """Write ``bands`` (each ``(rows, cols)``) as a GeoTIFF; ``dtype`` a GDAL type or None (from numpy)."""
    arr0 = np.asarray(bands[0])
    gtype = dtype or gdal.GetDataTypeByName({"uint8": "Byte", "uint16": "UInt16", "int16": "Int16",
                                              "float32": "Float32", "float64": "Float64",
                                              "complex64": "CFloat32"}[arr0.dtype.name])
    ds = gdal.GetDriverByName("GTiff").Create(str(path), arr0.shape[1], arr0.shape[0], len(bands), gtype)
    if gt is not None:
        ds.SetGeoTransform(gt)
    if wkt:
        ds.SetProjection(wkt)
    for i, b in enumerate(bands):
        band = ds.GetRasterBand(i + 1)
        if nodata is not None:
            band.SetNoDataValue(nodata)
        band.WriteArray(np.asarray(b))
        del band
    ds.FlushCache()
    ds = None
    return str(path)


def read_band(path, band: int = 1) -> np.ndarray:
    ds = gdal.Open(str(path))
    b = ds.GetRasterBand(band)
    arr = b.ReadAsArray()
    del b, ds
    return arr


def fourier_shift(image: np.ndarray, dy_px: float, dx_px: float) -> np.ndarray:
    """``image`` moved by ``(dy, dx)`` px (content at (y, x) lands at (y + dy, x + dx))."""
    f = np.fft.fft2(image.astype(np.float64))
    ky = np.fft.fftfreq(image.shape[0])[:, None]
    kx = np.fft.fftfreq(image.shape[1])[None, :]
    return np.real(np.fft.ifft2(f * np.exp(-2j * np.pi * (ky * dy_px + kx * dx_px))))
