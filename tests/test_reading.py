"""Rasters on (or nearly on) the working grid are read without GDAL's warper, with its pixels.

Exactly on the grid: read directly. In the grid's CRS with nearly its pixel size (e.g. a
fractional offset, or 10.000277 m pixels on a 10.000217 m grid): GDAL's bilinear computed in
numpy. Both must give the warp's values (to float32 round-off) and exactly its nodata.
"""
import numpy as np
import pytest
from osgeo import gdal, osr

from sarcoreg.core import raster
from sarcoreg.core.config import CoregConfig
from sarcoreg.core.coregister import prepare

gdal.UseExceptions()


def _write(path, bands, x0, y0, px, nodata=None, mask=None, epsg=32633):
    h, w = bands[0].shape
    ds = gdal.GetDriverByName("GTiff").Create(str(path), w, h, len(bands), gdal.GDT_Float32 if bands[0].dtype.kind == "f"
                                              else gdal.GDT_Byte)
    ds.SetGeoTransform((x0, px, 0.0, y0, 0.0, -px))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    ds.SetProjection(srs.ExportToWkt())
    for k, b in enumerate(bands, 1):
        ds.GetRasterBand(k).WriteArray(b)
        if nodata is not None:
            ds.GetRasterBand(k).SetNoDataValue(nodata)
    if mask is not None:
        ds.CreateMaskBand(gdal.GMF_PER_DATASET)
        ds.GetRasterBand(1).GetMaskBand().WriteArray(mask.astype(np.uint8) * 255)
    ds = None
    return str(path)


def _reads(scene, windows):
    out = []
    for w in windows:
        tr, tc = w.template_origin
        out.append(scene.optical.read(tr, tc, w.template_px, w.template_px))
        out.append(scene.sar.read(w.row0, w.col0, w.window_px, w.window_px))
    raster.close_thread_datasets()
    return out


def _assert_same(warped, fast):
    assert len(warped) == len(fast) > 4
    for a, b in zip(warped, fast):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_allclose(a, b, rtol=2e-6, atol=1e-4, equal_nan=True)


@pytest.mark.parametrize("case", ["nodata", "mask", "offset"])
def test_direct_reads_equal_the_warp(tmp_path, monkeypatch, case):
    rng = np.random.default_rng(3)
    rgb = [rng.integers(0, 255, (300, 320)).astype(np.uint8) for _ in range(3)]
    rgb[0][50:60, :] = 0                       # one band at its nodata value only: still data
    for b in rgb:
        b[:40, :70] = 0                        # every band nodata: a gap
    sar = (rng.random((280, 330)) * 200 + 1).astype(np.float32)
    sar[200:, 250:] = -1.0
    mask = None
    sar_x0, sar_y0 = 500000.0 - 10 * 20, 4000000.0 + 10 * 10
    if case == "mask":
        mask = np.ones(rgb[0].shape, bool)
        mask[100:120, 100:140] = False
    if case == "offset":
        sar_x0, sar_y0 = 500000.0 + 10 * 7, 4000000.0 - 10 * 3   # the SAR starts inside the optical
    opt = _write(tmp_path / "opt.tif", rgb, 500000.0, 4000000.0, 10.0, nodata=None if case == "mask" else 0,
                 mask=mask)
    sar_path = _write(tmp_path / "sar.tif", [sar], sar_x0, sar_y0, 10.0, nodata=-1.0)
    scene = prepare(opt, sar_path, CoregConfig(matcher="cfog", window_px=96, template_px=64, spacing_px=40))
    assert raster.aligned_offset(gdal.Open(opt), scene.grid) is not None
    assert raster.aligned_offset(gdal.Open(sar_path), scene.grid) is not None
    windows = list(scene.windows)
    if case == "offset":   # SAR read displaced as after a coarse pass: windows reach past its edge
        from dataclasses import replace

        from sarcoreg.core.coarse import shifted_grid
        scene = replace(scene, sar=replace(scene.sar, grid=shifted_grid(scene.grid, 25, -30)))
    monkeypatch.setattr(raster, "WARP_ALIGNED", True)
    warped = _reads(scene, windows)
    monkeypatch.setattr(raster, "WARP_ALIGNED", False)
    direct = _reads(scene, windows)
    assert len(warped) == len(direct) > 4
    for a, b in zip(warped, direct):
        np.testing.assert_array_equal(a, b)
    assert any(np.isnan(a).any() for a in direct) and not all(np.isnan(a).all() for a in direct)


@pytest.mark.parametrize("case", ["fraction", "pixel-size", "float-nan"])
def test_bilinear_reads_equal_the_warp(tmp_path, monkeypatch, case):
    rng = np.random.default_rng(7)
    rgb = [rng.integers(0, 255, (300, 320)).astype(np.uint8) for _ in range(3)]
    for b in rgb:
        b[:40, :70] = 0                                      # a gap in every band
        b[150:153, :] = 0                                    # a thin gap
    sar = (rng.random((290, 330)) * 200 + 1).astype(np.float32)
    sar[200:, 250:] = -1.0
    sar[100, 100:140] = -1.0                                 # a one-pixel nodata line
    opt_px, sar_px, dx, dy = 10.0, 10.0, 0.37, -0.61        # SAR origin moved by a fraction of a pixel
    if case == "pixel-size":
        sar_px, dx, dy = 10.0037, 0.0, 0.0                   # the grid takes the SAR's pixel: optical resampled
    if case == "float-nan":
        sar[50:55, 60:66] = np.nan                           # NaN values without being nodata: the warp decides
    opt = _write(tmp_path / "opt.tif", rgb, 500000.0, 4000000.0, opt_px, nodata=0)
    sar_path = _write(tmp_path / "sar.tif", [sar], 500000.0 - 200 + dx * 10, 4000000.0 + 100 + dy * 10, sar_px,
                      nodata=-1.0)
    scene = prepare(opt, sar_path, CoregConfig(matcher="cfog", window_px=96, template_px=64, spacing_px=40))
    from dataclasses import replace

    from sarcoreg.core.coarse import shifted_grid
    shifted = replace(scene, sar=replace(scene.sar, grid=shifted_grid(scene.grid, 25, -30)))
    windows = list(scene.windows)
    monkeypatch.setattr(raster, "WARP_ALIGNED", True)
    warped = _reads(scene, windows) + _reads(shifted, windows)
    monkeypatch.setattr(raster, "WARP_ALIGNED", False)
    fast = _reads(scene, windows) + _reads(shifted, windows)
    src = gdal.Open(sar_path if case != "pixel-size" else opt)
    assert raster._Bilinear.applies(src, (1,), scene.grid, 10.0)
    _assert_same(warped, fast)
    assert any(np.isnan(a).any() for a in fast) and not all(np.isnan(a).all() for a in fast)


def test_bilinear_is_not_used_for_other_grids(tmp_path):
    img = [np.ones((50, 50), np.float32)]
    a = _write(tmp_path / "a.tif", img, 500000.0, 4000000.0, 10.0)
    b = _write(tmp_path / "b.tif", img, 500000.0, 4000000.0, 10.5)           # 5 % larger pixels
    c = _write(tmp_path / "c.tif", img, 500000.0, 4000000.0, 10.0, epsg=32634)  # another CRS
    grid = prepare(a, a, CoregConfig(matcher="cfog", window_px=32, template_px=16)).grid
    assert not raster._Bilinear.applies(gdal.Open(b), (1,), grid, 10.5)
    assert not raster._Bilinear.applies(gdal.Open(c), (1,), grid, 10.0)
    assert raster._Bilinear.applies(gdal.Open(a), (1,), grid, 10.0)


def test_a_half_pixel_shift_is_not_aligned(tmp_path):
    img = [np.ones((50, 50), np.float32)]
    opt = _write(tmp_path / "o.tif", img, 500000.0, 4000000.0, 10.0)
    sar = _write(tmp_path / "s.tif", img, 500005.0, 4000000.0, 10.0)
    scene = prepare(opt, sar, CoregConfig(matcher="cfog", window_px=32, template_px=16))
    assert raster.aligned_offset(gdal.Open(opt), scene.grid) is not None
    assert raster.aligned_offset(gdal.Open(sar), scene.grid) is None


def test_report_splits_the_time_by_stage(tmp_path):
    from sarcoreg.core import stages
    from sarcoreg.core.coregister import coregister

    with stages.stage("unit-test"):
        pass
    before = stages.totals()
    assert "unit-test" in before and "unit-test" not in stages.since(before)

    rng = np.random.default_rng(4)
    base = np.kron(rng.random((40, 40)), np.ones((8, 8))).astype(np.float32) * 100 + 1
    opt = _write(tmp_path / "opt.tif", [base[:300, :300]], 500000.0, 4000000.0, 10.0)
    sar = _write(tmp_path / "sar.tif", [base[2:302, 3:303]], 500000.0, 4000000.0, 10.0)
    res = coregister(opt, sar, tmp_path / "out", CoregConfig(matcher="cfog", window_px=96, template_px=64,
                                                              coarse_search=False))
    split = res.report["timings"]["stages"]
    for key in ("reading", "descriptors", "fft", "peaks", "outliers", "writing"):
        assert split.get(key, 0) > 0, (key, split)
    assert sum(split.values()) < 10 * res.report["timings"]["total_s"]


def test_two_tap_passes_by_slices_equal_the_gathers():
    """The bilinear reader's passes take slices where the source indices are consecutive and
    gathers where they skip or repeat (a pixel-size mismatch): the same numbers either way."""
    rng = np.random.default_rng(11)
    a = rng.standard_normal((40, 50))
    w = rng.random(30)
    for i in (np.arange(5, 35), np.r_[np.arange(3, 18), np.arange(19, 34)], np.r_[np.arange(3, 18), np.arange(17, 32)]):
        assert i.size == w.size
        np.testing.assert_array_equal(raster._two_taps(a, i, w, 1), a[:, i] * w + a[:, i + 1] * (1.0 - w))
        np.testing.assert_array_equal(raster._two_taps(a, i, w, 0),
                                      a[i] * w[:, None] + a[i + 1] * (1.0 - w)[:, None])
