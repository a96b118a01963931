"""Rasters already on the working grid are read directly, with the same pixels as the warp."""
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
