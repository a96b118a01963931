"""End-to-end co-registration on real and generated GeoTIFFs, with the output schema."""
from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
from osgeo import gdal, ogr

from sarcoreg.core.config import CoregConfig
from sarcoreg.core.coregister import coregister
from sarcoreg.core.demo import DEMO_DIR, shift_georeferencing
from sarcoreg.core.errors import CancelledError, OutputExistsError
from sarcoreg.core.feedback import NullFeedback
from sarcoreg.core.results import TIEPOINT_FIELDS
from rasters import epsg_wkt, fourier_shift, read_band, write_tif

OPT = str(DEMO_DIR / "demo_opt.tif")
SAR = str(DEMO_DIR / "demo_sar.tif")
SMALL = dict(window_px=256, template_px=192, spacing_px=300)


def _grey_demo():
    ds = gdal.Open(OPT)
    arr = ds.ReadAsArray().astype(np.float64).mean(axis=0)
    gt, wkt = ds.GetGeoTransform(), ds.GetProjection()
    del ds
    return arr, gt, wkt


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory):
    """'SAR' = the real optical grey moved by a known sub-pixel shift: exact truth."""
    tmp = tmp_path_factory.mktemp("synthetic")
    grey, gt, wkt = _grey_demo()
    moved = fourier_shift(grey, 2.3, -1.6).astype(np.float32) - 300.0  # dB-like, negative
    opt = write_tif(tmp / "opt.tif", [grey.astype(np.uint8)], gt, wkt)
    sar = write_tif(tmp / "sar.tif", [moved], gt, wkt)
    cfg = CoregConfig(matcher="zncc", sar_kind="db", **SMALL)
    return coregister(opt, sar, tmp / "out", cfg), tmp / "out", cfg


def test_known_subpixel_shift_is_recovered_with_the_product_sign_convention(synthetic_run):
    result, _, _ = synthetic_run
    assert len(result.tiepoints) >= 9
    for t in result.tiepoints:
        # content moved 2.3 rows down and 1.6 columns left: dx_px = -1.6, dy_px = +2.3,
        # and in map units (y north-positive) dx_m = -16, dy_m = -23
        assert t.dx_px == pytest.approx(-1.6, abs=0.1) and t.dy_px == pytest.approx(2.3, abs=0.1)
        assert t.dx_m == pytest.approx(-16.0, abs=1.0) and t.dy_m == pytest.approx(-23.0, abs=1.0)
        assert t.x_sar == pytest.approx(t.x_opt + t.dx_m) and t.outlier == 0
        assert t.angle_deg == pytest.approx(math.degrees(math.atan2(-16, -23)) % 360, abs=3)
    assert result.report["global_fit"]["rmse_px"] < 0.2


def test_output_schema_and_georeferencing(synthetic_run):
    result, out, cfg = synthetic_run
    assert sorted(os.listdir(out)) == ["report.json", "shift_field.tif", "similarity", "similarity.vrt",
                                       "tiepoints.gpkg", "tiepoints.points"]
    ds = ogr.Open(str(out / "tiepoints.gpkg"))
    layer = ds.GetLayer("tiepoints")
    defn = layer.GetLayerDefn()
    names = [defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())]
    assert names == list(TIEPOINT_FIELDS)
    feats = list(layer)
    assert len(feats) == len(result.tiepoints)
    for f in feats[:3]:
        g = f.GetGeometryRef()
        assert (g.GetX(), g.GetY()) == pytest.approx((f["x_opt"], f["y_opt"]))
        # the similarity raster's peak sits at the map position Q where the template was found
        sim_path = out / f["similarity"]
        sds = gdal.Open(str(sim_path))
        sim = sds.GetRasterBand(1).ReadAsArray()
        sgt = sds.GetGeoTransform()
        del sds
        r, c = np.unravel_index(np.nanargmax(sim), sim.shape)
        x_peak, y_peak = sgt[0] + (c + 0.5) * sgt[1], sgt[3] + (r + 0.5) * sgt[5]
        assert abs(x_peak - f["x_sar"]) <= 0.5 * sgt[1] + 1e-6
        assert abs(y_peak - f["y_sar"]) <= 0.5 * abs(sgt[5]) + 1e-6
    del layer, ds
    vrt_text = (out / "similarity.vrt").read_text()
    assert vrt_text.count('relativeToVRT="1"') == len(os.listdir(out / "similarity")) == len(result.tiepoints)
    sf = gdal.Open(str(out / "shift_field.tif"))
    assert sf.RasterCount == 2 and sf.GetGeoTransform()[1] == pytest.approx(cfg.effective_spacing_px * 10.0, rel=1e-4)
    dx = sf.GetRasterBand(1).ReadAsArray()
    del sf
    assert np.nanmedian(dx) == pytest.approx(-16.0, abs=1.0)
    lines = (out / "tiepoints.points").read_text().splitlines()
    assert lines[0].startswith("#CRS: ") and lines[1] == "mapX,mapY,pixelX,pixelY,enable,dX,dY,residual"
    assert len(lines) == 2 + len(result.tiepoints)
    report = json.loads((out / "report.json").read_text())
    for key in ("inputs", "crs", "grid", "matcher", "runtime", "counts", "global_fit", "check_points", "shift",
                "timings"):
        assert key in report
    assert report["counts"]["windows"] == report["counts"]["skipped"] + len(result.tiepoints)
    cp = report["check_points"]
    assert cp["n"] == report["counts"]["inliers"] and set(cp["rmse_px"]) == {"translation", "affine", "poly2", "tps"}
    assert cp["rmse_px"]["translation"] < 0.2      # one exact shift everywhere: every point predicted by the rest
    assert "note" not in cp                         # spacing 300 > template 192: independent templates


def test_existing_outputs_are_refused_and_a_cancel_leaves_nothing(synthetic_run, tmp_path):
    _, out, cfg = synthetic_run
    before = (out / "report.json").read_bytes()
    with pytest.raises(OutputExistsError):
        coregister(OPT, SAR, out, cfg)
    assert (out / "report.json").read_bytes() == before

    class CancelAfterTwo(NullFeedback):
        def set_progress(self, percent):
            super().set_progress(percent)
            if percent > 10:
                self.cancel()

    with pytest.raises(CancelledError):
        coregister(OPT, SAR, tmp_path / "c", CoregConfig(matcher="zncc", **SMALL), CancelAfterTwo())
    assert not (tmp_path / "c").exists()  # the folder it made is removed again


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory):
    """The bundled real Sentinel-1/2 pair as it is and with the SAR moved by a known shift."""
    tmp = tmp_path_factory.mktemp("real")
    shifted = shift_georeferencing(SAR, str(tmp / "sar_shifted.vrt"), 37.0, -24.0)
    cfg = moved_config()
    base = coregister(OPT, SAR, tmp / "base", cfg)
    moved = coregister(OPT, shifted, tmp / "moved", dict_warp(cfg))
    return base, moved, tmp


def dict_warp(cfg):
    from dataclasses import replace
    return replace(cfg, warp="affine")


def moved_config():
    """The configuration of ``demo_runs`` (the moved run adds a warp)."""
    return CoregConfig(matcher="cfog", spacing_px=240)


def test_real_pair_known_shift_is_recovered_per_window(demo_runs):
    base, moved, _ = demo_runs
    a = {(t.win_row, t.win_col): t for t in base.tiepoints if t.matched}
    b = {(t.win_row, t.win_col): t for t in moved.tiepoints if t.matched}
    # the two runs lay their windows on slightly different overlaps: compare by position
    pairs = []
    for tb in b.values():
        ta = min(a.values(), key=lambda t: math.hypot(t.x_opt - tb.x_opt, t.y_opt - tb.y_opt))
        if math.hypot(ta.x_opt - tb.x_opt, ta.y_opt - tb.y_opt) <= 40:
            pairs.append((ta, tb))
    assert len(pairs) >= 4
    diffs = np.array([[tb.dx_m - ta.dx_m, tb.dy_m - ta.dy_m] for ta, tb in pairs])
    err_px = np.hypot(diffs[:, 0] - 37.0, diffs[:, 1] + 24.0) / 10.0
    assert np.median(err_px) < 0.5 and np.mean(err_px < 1.0) >= 0.75


def test_warp_writes_a_corrected_sar_that_matches_the_optical(demo_runs):
    _, moved, tmp = demo_runs
    corrected = tmp / "moved" / "sar_corrected.tif"
    assert moved.report["warp"]["written"] and corrected.exists()
    check = coregister(OPT, str(corrected), tmp / "check", CoregConfig(matcher="cfog", spacing_px=240))
    med = np.median([[t.dx_px, t.dy_px] for t in check.inliers], axis=0)
    before = np.median([[t.dx_px, t.dy_px] for t in moved.inliers], axis=0)
    assert np.hypot(*before) > 3.0 and np.hypot(*med) < 0.75


def test_warp_auto_takes_the_model_the_check_points_suggest(demo_runs):
    from dataclasses import replace

    _, moved, tmp = demo_runs
    auto = coregister(OPT, str(tmp / "sar_shifted.vrt"), tmp / "auto", replace(moved_config(), warp="auto"))
    check, warp = auto.report["check_points"], auto.report["warp"]
    assert warp["requested"] == "auto" and warp["written"] and (tmp / "auto" / "sar_corrected.tif").exists()
    assert warp["method"] == (check["suggested_warp"] or "affine")
    rmse = {k: v for k, v in check["rmse_px"].items() if k != "translation" and v is not None}
    if check["suggested_warp"]:
        assert rmse[warp["method"]] <= 1.05 * min(rmse.values()) + 1e-9


def test_coarse_pass_finds_an_offset_beyond_the_search_radius(tmp_path):
    """A 45 px move: beyond the 32 px search of a 256/192 window, found by the coarse pass."""
    from dataclasses import replace
    moved_sar = shift_georeferencing(SAR, str(tmp_path / "far.vrt"), 450.0, -300.0)
    cfg = CoregConfig(matcher="cfog", window_px=256, template_px=192, spacing_px=240)
    base = coregister(OPT, SAR, tmp_path / "base", cfg)
    far = coregister(OPT, moved_sar, tmp_path / "far", cfg)
    assert far.report["coarse_offset"]["applied"] and not base.report["coarse_offset"]["applied"]
    diffs = []
    for t in far.inliers:
        b = min(base.tiepoints, key=lambda b: math.hypot(b.x_opt - t.x_opt, b.y_opt - t.y_opt))
        if b.matched and math.hypot(b.x_opt - t.x_opt, b.y_opt - t.y_opt) <= 300:
            diffs.append([t.dx_m - b.dx_m, t.dy_m - b.dy_m])
    assert len(diffs) >= 4
    err_px = np.hypot(*(np.median(diffs, axis=0) - [450.0, -300.0])) / 10.0
    assert err_px < 1.0
    blind = coregister(OPT, moved_sar, tmp_path / "blind", replace(cfg, coarse_search=False))
    assert len(blind.inliers) < len(far.inliers)


def test_coarse_images_read_at_once_are_the_ones_read_one_after_the_other(tmp_path):
    """``coarse.read_whole`` reads both scenes on worker threads: the same pixels as a plain
    read of each."""
    import threading
    from dataclasses import replace

    from sarcoreg.core import coarse
    from sarcoreg.core.coregister import prepare

    moved_sar = shift_georeferencing(SAR, str(tmp_path / "far.vrt"), 450.0, -300.0)
    scene = prepare(OPT, moved_sar, CoregConfig(matcher="cfog"))
    cgrid, _ = coarse.coarse_grid(scene.grid)
    sources = (replace(scene.optical, grid=cgrid), replace(scene.sar, grid=cgrid))
    names = []
    plain = sources[0].read

    def spy(*args):
        names.append(threading.current_thread().name)
        return plain(*args)

    object.__setattr__(sources[0], "read", spy)      # a frozen dataclass: spy on this one object
    at_once = coarse.read_whole(sources)
    assert names and all(n.startswith("sarcoreg-coarse") for n in names)
    for got, src in zip(at_once, sources):
        want = src.read(0, 0, cgrid.height, cgrid.width)
        assert got.shape == (cgrid.height, cgrid.width)
        np.testing.assert_array_equal(got, want)
        assert np.isfinite(want).any()


def test_templates_the_coarse_pass_saw_empty_are_not_read(tmp_path, monkeypatch):
    """A scene whose left part is fill: the windows there are skipped without reading their
    template, and the run is the same as one that reads every template."""
    from sarcoreg.core import coarse
    from sarcoreg.core.raster import SceneSource

    grey, gt, wkt = _grey_demo()
    opt_arr = grey.astype(np.uint8)
    opt_arr[:, :430] = 0                      # fill: every band 0
    moved = fourier_shift(grey, 2.3, -1.6).astype(np.float32) - 300.0
    opt = write_tif(tmp_path / "opt.tif", [opt_arr], gt, wkt)
    sar = write_tif(tmp_path / "sar.tif", [moved], gt, wkt)
    cfg = CoregConfig(matcher="zncc", sar_kind="db", window_px=256, template_px=192, spacing_px=96)
    reads = []
    plain_read = SceneSource.read

    def counted(self, row0, col0, rows, cols):
        reads.append((self.role, rows))
        return plain_read(self, row0, col0, rows, cols)

    monkeypatch.setattr(SceneSource, "read", counted)
    gaps = coregister(opt, sar, tmp_path / "gaps", cfg)
    templates_read = sum(1 for role, rows in reads if role == "optical" and rows == 192)
    reads.clear()
    monkeypatch.setattr(coarse.Gaps, "covers", lambda self, *box: False)
    every = coregister(opt, sar, tmp_path / "every", cfg)
    templates_every = sum(1 for role, rows in reads if role == "optical" and rows == 192)

    n = len(gaps.report["skipped_windows"])
    assert n >= 4 and templates_read <= templates_every - 4, (n, templates_read, templates_every)
    assert json.dumps(gaps.report["skipped_windows"]) == json.dumps(every.report["skipped_windows"])   # NaN too
    assert all(w["reason"] == "nodata_optical" for w in gaps.report["skipped_windows"])
    assert [(t.win_row, t.win_col, t.dx_px, t.dy_px, t.outlier) for t in gaps.tiepoints] == \
        [(t.win_row, t.win_col, t.dx_px, t.dy_px, t.outlier) for t in every.tiepoints]


@pytest.mark.shared_data
def test_cli_shows_each_gdal_warning_once(shared_data, tmp_path):
    """The UAVSAR pair's GeoTIFF CRS keys make GDAL warn for every dataset opened (one per
    window thread and warped view); the command line says it once, and still succeeds."""
    import subprocess
    import sys

    from children import child_env

    folder = shared_data / "gefolki_uavsar"
    opt = next(folder.glob("*_optique.tif"), None)
    sar = next(folder.glob("*_radar.tif"), None)
    if opt is None or sar is None:
        pytest.skip("no gefolki_uavsar pair in the shared data")
    proc = subprocess.run([sys.executable, "-m", "sarcoreg", "coregister", str(opt), str(sar), "-o",
                           str(tmp_path / "out"), "--matcher", "cfog", "--window", "256", "--template", "192"],
                          capture_output=True, text=True, env=child_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("GTIFF_SRS_SOURCE") == 1, proc.stderr


@pytest.mark.shared_data
def test_engine_shows_each_gdal_warning_once_from_window_threads(shared_data, tmp_path):
    """The same through the engine's API, as in QGIS (no command-line handler in the process):
    the window threads' GDAL messages go through the engine's scoped handler, so the warning
    reaches the log once and GDAL prints nothing itself."""
    import subprocess
    import sys
    import textwrap

    from children import child_env

    folder = shared_data / "gefolki_uavsar"
    opt = next(folder.glob("*_optique.tif"), None)
    sar = next(folder.glob("*_radar.tif"), None)
    if opt is None or sar is None:
        pytest.skip("no gefolki_uavsar pair in the shared data")
    code = textwrap.dedent(f"""
        import logging, sys
        logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
        from sarcoreg.core.config import CoregConfig
        from sarcoreg.core.coregister import coregister
        result = coregister({str(opt)!r}, {str(sar)!r}, {str(tmp_path / "out")!r},
                            CoregConfig(matcher="cfog", window_px=256, template_px=192, workers=4))
        print(len(result.tiepoints))
        """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=child_env(),
                          timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.split()[-1]) > 0
    assert proc.stderr.count("GTIFF_SRS_SOURCE") == 1, proc.stderr
    assert "sarcoreg.gdal: " in proc.stderr, proc.stderr
