"""Property tests of the reader (``core.raster``) and the tiler (``core.tiling``).

Rasters of random size, data type, band count, nodata and geotransform are written to
GDAL's in-memory file system; ``describe`` must report exactly what was written, and
``SceneSource.read`` on a working grid equal to the raster's own grid must return the
pixels themselves (grey = mean of the bands for the optical, dB for the SAR) with NaN for
nodata.  ``lay_windows`` must keep every window inside the grid, space template centres by
``spacing_px`` and lay ``n = (size - window) // spacing + 1`` windows per axis, centred.
"""
from __future__ import annotations

import uuid

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from osgeo import gdal, osr

from helpers_rasters import wkt_of, write_raster

from sarcoreg.core.errors import InputError
from sarcoreg.core.grid import WorkingGrid
from sarcoreg.core.radiometry import to_db
from sarcoreg.core.raster import SceneSource, close_thread_datasets, describe, guess_sar_kind
from sarcoreg.core.tiling import lattice_counts, lay_windows

PROPS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# data type name -> (GDAL type, numpy type, value range used for pixels and nodata)
TYPES = {
    "Byte": (gdal.GDT_Byte, np.uint8, (0, 255)),
    "UInt16": (gdal.GDT_UInt16, np.uint16, (0, 4000)),
    "Int16": (gdal.GDT_Int16, np.int16, (-2000, 2000)),
    "UInt32": (gdal.GDT_UInt32, np.uint32, (0, 100000)),
    "Int32": (gdal.GDT_Int32, np.int32, (-100000, 100000)),
    "Float32": (gdal.GDT_Float32, np.float32, (-50.0, 50.0)),
    "Float64": (gdal.GDT_Float64, np.float64, (-50.0, 50.0)),
}
PROJECTED = (32611, 3395, 3857, 32733)


@st.composite
def rasters(draw, min_side: int = 1):
    """``(pixels (bands, rows, cols), type name, nodata or None, geotransform, epsg)``."""
    rows = draw(st.integers(min_side, 40))
    cols = draw(st.integers(min_side, 40))
    bands = draw(st.integers(1, 4))
    type_name = draw(st.sampled_from(sorted(TYPES)))
    _, np_type, (lo, hi) = TYPES[type_name]
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    if np.issubdtype(np_type, np.integer):
        pixels = rng.integers(lo, hi + 1, size=(bands, rows, cols)).astype(np_type)
    else:
        pixels = rng.uniform(lo, hi, size=(bands, rows, cols)).astype(np_type)
    nodata = draw(st.one_of(st.none(), st.integers(int(lo), int(lo) + 5)))
    if nodata is not None:  # put some nodata in, and sometimes a whole row of it
        mask = rng.random((bands, rows, cols)) < draw(st.sampled_from([0.0, 0.1, 0.5]))
        pixels[mask] = nodata
    epsg = draw(st.sampled_from(PROJECTED + (4326,)))
    if epsg == 4326:
        px = draw(st.floats(1e-5, 1e-2))
        x0, y0 = draw(st.floats(-170, 160)), draw(st.floats(-60, 80))
    else:
        px = draw(st.floats(0.5, 1000.0))
        x0, y0 = draw(st.floats(-1e6, 1e6)), draw(st.floats(-5e6, 5e6))
    px_y = px * draw(st.sampled_from([1.0, 1.0, 0.5, 2.0]))
    gt = (x0, px, 0.0, y0, 0.0, -px_y)
    return pixels, type_name, nodata, gt, epsg


def _vsimem(suffix: str = ".tif") -> str:
    return f"/vsimem/sarcoreg_props_{uuid.uuid4().hex}{suffix}"


@PROPS
@given(rasters())
def test_describe_reports_what_was_written(raster):
    pixels, type_name, nodata, gt, epsg = raster
    path = write_raster(_vsimem(), pixels, geotransform=gt, epsg=epsg, nodata=nodata,
                        gdal_type=TYPES[type_name][0])
    try:
        bands, rows, cols = pixels.shape
        if rows < 2 or cols < 2:
            with pytest.raises(InputError, match="too small"):
                describe(path)
            return
        info = describe(path)
        assert (info.width, info.height, info.band_count) == (cols, rows, bands)
        assert info.dtypes == (type_name,) * bands
        assert info.geotransform == pytest.approx(gt)
        assert info.nodata == ((None if nodata is None else float(nodata)),) * bands
        assert len(info.color_interp) == bands
        written, found = osr.SpatialReference(), osr.SpatialReference()
        written.ImportFromWkt(wkt_of(epsg))
        found.ImportFromWkt(info.crs_wkt)
        assert found.IsSame(written)
        assert info.is_geographic == (epsg == 4326)
    finally:
        gdal.Unlink(path)


def _expected_optical(pixels: np.ndarray, nodata) -> np.ndarray:
    """Grey = mean of the bands; NaN where a band is nodata or every band is exactly 0."""
    x = pixels.astype(np.float64)
    invalid = np.zeros(x.shape[1:], bool) if nodata is None else np.any(pixels == nodata, axis=0)
    grey = x.mean(axis=0)
    grey[invalid | np.all(x == 0, axis=0)] = np.nan
    return grey


@PROPS
@given(rasters(min_side=2), st.data())
def test_scene_source_reads_the_pixels_on_the_raster_own_grid(raster, data):
    pixels, type_name, nodata, gt, epsg = raster
    epsg = epsg if epsg != 4326 else 32611  # the working grid is always projected
    gt = gt[:5] + (-gt[1],)                 # ... and has square pixels
    path = write_raster(_vsimem(), pixels, geotransform=gt, epsg=epsg, nodata=nodata,
                        gdal_type=TYPES[type_name][0])
    bands, rows, cols = pixels.shape
    grid = WorkingGrid(wkt_of(epsg), gt[0], gt[3], gt[1], cols, rows)
    r0 = data.draw(st.integers(0, rows - 1), label="row0")
    c0 = data.draw(st.integers(0, cols - 1), label="col0")
    nr = data.draw(st.integers(1, rows - r0), label="rows")
    nc = data.draw(st.integers(1, cols - c0), label="cols")
    try:
        # every band but an alpha band (GDAL makes the 4th of 4 bytes alpha): alpha is a mask
        chosen = tuple(i + 1 for i, name in enumerate(describe(path).color_interp) if name != "Alpha")
        optical = SceneSource(path, chosen, grid, "optical", native_pixel_m=gt[1])
        grey = optical.read(r0, c0, nr, nc)
        assert grey.shape == (nr, nc) and grey.dtype == np.float32
        want = _expected_optical(pixels[[b - 1 for b in chosen]], nodata)[r0:r0 + nr, c0:c0 + nc]
        np.testing.assert_array_equal(np.isnan(grey), np.isnan(want))
        np.testing.assert_allclose(grey[~np.isnan(grey)], want[~np.isnan(want)], rtol=1e-5, atol=1e-4)

        kind = data.draw(st.sampled_from(["amplitude", "power", "db"]), label="sar kind")
        sar = SceneSource(path, (1,), grid, "sar", kind, native_pixel_m=gt[1])
        db = sar.read(r0, c0, nr, nc)
        raw = pixels[0, r0:r0 + nr, c0:c0 + nc].astype(np.float64)
        if nodata is not None:
            raw[pixels[0, r0:r0 + nr, c0:c0 + nc] == nodata] = np.nan
        want_db = to_db(raw, kind)
        assert db.shape == (nr, nc) and db.dtype == np.float32
        np.testing.assert_array_equal(np.isnan(db), np.isnan(want_db))
        np.testing.assert_allclose(db[~np.isnan(db)], want_db[~np.isnan(want_db)], rtol=1e-5, atol=1e-3)
    finally:
        close_thread_datasets()
        gdal.Unlink(path)


def test_guess_sar_kind_finds_sparse_valid_pixels():
    """A dB scene that is almost all nodata is still recognised (no false 'only nodata')."""
    values = np.full((2000, 2000), np.nan, np.float32)
    values[1500:1506, 1234:1240] = -12.5
    path = write_raster(_vsimem(), values, options=["TILED=YES"])
    try:
        info = describe(path)
        assert guess_sar_kind(info, 1) == "db"
    finally:
        gdal.Unlink(path)


@st.composite
def lattices(draw):
    window = draw(st.integers(16, 300))
    template = window - 2 * draw(st.integers(0, (window - 8) // 2))
    spacing = draw(st.integers(1, 400))
    side = 1500 if spacing >= 16 else 200  # keep the window count (and the test) small
    height = draw(st.integers(0, side))
    width = draw(st.integers(0, side))
    return height, width, window, template, spacing


@settings(max_examples=100, deadline=None)
@given(lattices())
def test_lay_windows_inside_the_grid_spaced_and_counted(lattice):
    height, width, window, template, spacing = lattice
    windows = lay_windows(height, width, window, template, spacing)
    n_rows = (height - window) // spacing + 1 if height >= window else 0
    n_cols = (width - window) // spacing + 1 if width >= window else 0
    assert len(windows) == n_rows * n_cols
    assert lattice_counts(height, window, spacing)[0] == n_rows
    if not windows:
        return
    for w in windows:
        assert 0 <= w.row0 and w.row0 + w.window_px <= height
        assert 0 <= w.col0 and w.col0 + w.window_px <= width
        assert (w.window_px, w.template_px) == (window, template)
        tr, tc = w.template_origin
        assert w.row0 <= tr and tr + template <= w.row0 + window
        assert tr - w.row0 == tc - w.col0 == (window - template) // 2
        assert w.template_centre == (tr + (template - 1) / 2, tc + (template - 1) / 2)
    # row-major, indices complete, neighbours exactly spacing_px apart
    assert [(w.win_row, w.win_col) for w in windows] == [(i, j) for i in range(n_rows) for j in range(n_cols)]
    first, last = windows[0], windows[-1]
    for w in windows:
        assert w.row0 - first.row0 == w.win_row * spacing
        assert w.col0 - first.col0 == w.win_col * spacing
    # the lattice is centred: the margins before and after differ by at most one pixel
    assert abs(first.row0 - (height - last.row0 - window)) <= 1
    assert abs(first.col0 - (width - last.col0 - window)) <= 1
