"""The Processing provider and its algorithms, run in real QGIS on the bundled demo pair."""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.qgis

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO = REPO_ROOT / "resources" / "demo"
FAST = {"WINDOW": 256, "TEMPLATE": 192, "MATCHER": "cfog"}


@pytest.fixture(scope="module")
def demo_pair(tmp_path_factory):
    """The demo optical scene and the demo SAR moved by the demo's known shift."""
    from sarcoreg.core.demo import DEMO_SHIFT_M, shift_georeferencing

    folder = tmp_path_factory.mktemp("pair")
    sar = shift_georeferencing(str(DEMO / "demo_sar.tif"), str(folder / "sar_shifted.vrt"), *DEMO_SHIFT_M)
    return str(DEMO / "demo_opt.tif"), sar


@pytest.fixture(scope="module")
def true_shift_m(tmp_path_factory):
    """The known move plus the pair's own misregistration as the engine measures it on the
    unmoved pair with the same settings (that misregistration varies over this hilly scene,
    so the pair's single published residual is not a per-window truth)."""
    from sarcoreg.core.config import CoregConfig
    from sarcoreg.core.coregister import coregister
    from sarcoreg.core.demo import DEMO_SHIFT_M

    base = coregister(str(DEMO / "demo_opt.tif"), str(DEMO / "demo_sar.tif"), tmp_path_factory.mktemp("base") / "out",
                      CoregConfig(matcher="cfog", window_px=256, template_px=192))
    dx = statistics.median(t.dx_m for t in base.inliers)
    dy = statistics.median(t.dy_m for t in base.inliers)
    return DEMO_SHIFT_M[0] + dx, DEMO_SHIFT_M[1] + dy


def _run(alg_id, params, feedback=None):
    import processing
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback, QgsProject

    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    return processing.run(alg_id, params, feedback=feedback or QgsProcessingFeedback(), context=context)


@pytest.fixture(scope="module")
def coregistered(provider, demo_pair, tmp_path_factory):
    optical, sar = demo_pair
    outdir = tmp_path_factory.mktemp("coreg") / "out"
    result = _run("sarcoreg:coregister", dict(FAST, OPTICAL=optical, SAR=sar, WARP="affine", OUTPUT=str(outdir)))
    return result, outdir


def test_provider_lists_the_algorithms(provider):
    ids = sorted(a.id() for a in provider.algorithms())
    assert ids == ["sarcoreg:applycorrection", "sarcoreg:batch", "sarcoreg:coregister", "sarcoreg:evaluate",
                   "sarcoreg:matchbatch"]
    for alg in provider.algorithms():
        assert alg.displayName() and alg.shortHelpString(), alg.id()
        assert not alg.icon().isNull()


def test_matcher_enum_comes_from_the_registry(provider):
    from sarcoreg.core.matchers import matcher_names

    alg = provider.algorithm("coregister")
    options = alg.parameterDefinition("MATCHER").options()
    assert options[0] == "auto" and set(matcher_names()) <= set(options)


def test_coregister_writes_every_output_and_recovers_the_shift(coregistered, true_shift_m):
    from qgis.core import QgsRasterLayer, QgsVectorLayer

    result, outdir = coregistered
    for key in ("SHIFT_FIELD", "SIMILARITY", "CORRECTED", "REPORT", "POINTS"):
        assert result[key] and os.path.isfile(result[key]), key
    assert result["OUTPUT"] == str(outdir)
    tp = QgsVectorLayer(result["TIEPOINTS"], "tp", "ogr")
    assert tp.isValid() and tp.featureCount() == result["INLIERS"] + result["OUTLIERS"]
    inliers = [f for f in tp.getFeatures() if f["outlier"] == 0]
    assert len(inliers) >= 4
    dx = statistics.median(f["dx_m"] for f in inliers)
    dy = statistics.median(f["dy_m"] for f in inliers)
    assert abs(dx - true_shift_m[0]) < 15 and abs(dy - true_shift_m[1]) < 15, (dx, dy, true_shift_m)
    for key in ("SHIFT_FIELD", "SIMILARITY", "CORRECTED"):
        layer = QgsRasterLayer(result[key], key)
        assert layer.isValid(), key
        del layer
    del tp


def test_existing_outputs_are_refused_without_overwrite(provider, coregistered, demo_pair):
    from qgis.core import QgsProcessingException

    _, outdir = coregistered
    optical, sar = demo_pair
    with pytest.raises(QgsProcessingException, match="already holds"):
        _run("sarcoreg:coregister", dict(FAST, OPTICAL=optical, SAR=sar, OUTPUT=str(outdir)))


def test_bad_input_is_one_clear_line(provider, demo_pair, tmp_path):
    from qgis.core import QgsProcessingException

    optical, sar = demo_pair
    with pytest.raises(QgsProcessingException) as err:
        _run("sarcoreg:coregister", dict(FAST, OPTICAL=optical, SAR=sar, WINDOW=255, OUTPUT=str(tmp_path / "o")))
    assert "must be even" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(QgsProcessingException, match="band 3 was asked for"):
        _run("sarcoreg:coregister", dict(FAST, OPTICAL=optical, SAR=sar, SAR_BAND=3, OUTPUT=str(tmp_path / "o")))


def test_cancel_stops_the_algorithm_and_leaves_no_output(provider, demo_pair, tmp_path):
    from qgis.core import QgsProcessingException, QgsProcessingFeedback

    optical, sar = demo_pair
    feedback = QgsProcessingFeedback()
    feedback.cancel()
    outdir = tmp_path / "cancelled"
    with pytest.raises(QgsProcessingException, match="cancel"):
        _run("sarcoreg:coregister", dict(FAST, OPTICAL=optical, SAR=sar, OUTPUT=str(outdir)), feedback)
    assert not (outdir / "tiepoints.gpkg").exists()


def test_feedback_adapter_maps_progress_and_cancel():
    from qgis.core import QgsProcessingFeedback

    from sarcoreg.processing.feedback import ProcessingFeedbackAdapter

    feedback = QgsProcessingFeedback()
    adapter = ProcessingFeedbackAdapter(feedback, start=50, span=50)
    adapter.set_progress(50)
    assert feedback.progress() == pytest.approx(75)
    assert not adapter.is_canceled()
    feedback.cancel()
    assert adapter.is_canceled()


@pytest.mark.parametrize("method", ["affine", "poly2", "tps", "auto"])
def test_apply_correction_warps_from_the_tiepoint_layer(provider, coregistered, demo_pair, tmp_path, method):
    from osgeo import gdal

    result, _ = coregistered
    _, sar = demo_pair
    out = tmp_path / f"corrected_{method}.tif"
    res = _run("sarcoreg:applycorrection", {"INPUT": sar, "TIEPOINTS": result["TIEPOINTS"], "METHOD": method,
                                            "OUTPUT": str(out)})
    assert res["GCPS"] == result["INLIERS"]
    ds = gdal.Open(str(out))
    assert ds.RasterXSize > 500 and ds.GetProjection()
    band = ds.GetRasterBand(1)
    assert band.ComputeRasterMinMax(False)[1] > 0
    del band, ds


def test_apply_correction_undoes_the_shift(provider, coregistered, demo_pair, tmp_path, true_shift_m):
    """The corrected SAR matches the optical again: a second co-registration finds ~no shift."""
    result, _ = coregistered
    optical, sar = demo_pair
    corrected = tmp_path / "corrected.tif"
    _run("sarcoreg:applycorrection", {"INPUT": sar, "TIEPOINTS": result["TIEPOINTS"], "METHOD": "affine",
                                      "OUTPUT": str(corrected)})
    again = _run("sarcoreg:coregister", dict(FAST, OPTICAL=optical, SAR=str(corrected), OUTPUT=str(tmp_path / "o2")))
    from qgis.core import QgsVectorLayer

    tp = QgsVectorLayer(again["TIEPOINTS"], "tp", "ogr")
    inl = [f for f in tp.getFeatures() if f["outlier"] == 0]
    assert inl
    med = statistics.median(f["shift_m"] for f in inl)
    assert med < 0.5 * abs(complex(*true_shift_m)), med
    del tp


def test_match_batch_runs_the_protocol(provider, tmp_path):
    pytest.importorskip("sarcoreg.core.matchbatch", reason="core/matchbatch.py is not in this engine yet")
    import csv

    import numpy as np
    from osgeo import gdal

    ds = gdal.Open(str(DEMO / "demo_sar.tif"))
    sar = ds.GetRasterBand(1).ReadAsArray().astype(np.float32)
    del ds
    ds = gdal.Open(str(DEMO / "demo_opt.tif"))
    opt = ds.ReadAsArray().astype(np.float32).mean(axis=0)
    del ds
    rows = []
    for i, (r, c) in enumerate(((100, 100), (400, 500))):
        ref, tpl = tmp_path / f"ref{i}.tif", tmp_path / f"tpl{i}.tif"
        for path, arr in ((ref, sar[r:r + 256, c:c + 256]), (tpl, opt[r + 32:r + 224, c + 32:c + 224])):
            out = gdal.GetDriverByName("GTiff").Create(str(path), arr.shape[1], arr.shape[0], 1, gdal.GDT_Float32)
            out.GetRasterBand(1).WriteArray(arr)
            out = None
        rows.append({"id": f"s{i}", "template": tpl.name, "reference": ref.name})
    manifest = tmp_path / "manifest.csv"
    with open(manifest, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["id", "template", "reference"])
        writer.writeheader()
        writer.writerows(rows)
    results = tmp_path / "results.csv"
    res = _run("sarcoreg:matchbatch", {"MANIFEST": str(manifest), "MATCHER": "cfog", "OUTPUT": str(results)})
    with open(res["OUTPUT"]) as fh:
        got = list(csv.DictReader(fh))
    assert [g["id"] for g in got] == ["s0", "s1"]
    assert {"row", "col", "score", "confidence", "seconds"} <= set(got[0])


@pytest.mark.shared_data
@pytest.mark.slow
def test_evaluate_writes_scores(provider, shared_data, tmp_path):
    import csv

    out = tmp_path / "scores.csv"
    _run("sarcoreg:evaluate", {"DATA": str(shared_data), "MATCHERS": ["zncc"], "SETTINGS": "256/192",
                               "SAMPLES": 3, "PROTOCOL": "la", "OUTPUT": str(out)})
    with open(out) as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 1 and rows[0]["matcher"] == "zncc" and 0 <= float(rows[0]["cmr5"]) <= 1


@pytest.mark.shared_data
@pytest.mark.slow
def test_evaluate_by_source_is_the_default(provider, shared_data, tmp_path):
    import csv

    out = tmp_path / "scores.csv"
    _run("sarcoreg:evaluate", {"DATA": str(shared_data), "MATCHERS": ["cfog"], "SETTINGS": "256/192",
                               "SAMPLES": 2, "OUTPUT": str(out)})
    with open(out) as fh:
        rows = list(csv.DictReader(fh))
    assert [r["source"] for r in rows] == ["s1s2_la", "ombria", "other", "overall"]
    assert int(rows[-1]["n"]) == sum(int(r["n"]) for r in rows[:-1])
    assert all(r["matcher"] == "cfog" for r in rows)
    # the Los Angeles samples under their pairs' one residual instead (the CLI's --la-truth upstream)
    scores = {}
    for truth in ("local", "upstream"):
        path = tmp_path / f"{truth}.csv"
        _run("sarcoreg:evaluate", {"DATA": str(shared_data), "MATCHERS": ["cfog"], "SETTINGS": "256/192",
                                   "SAMPLES": 4, "LA_TRUTH": truth, "OUTPUT": str(path)})
        with open(path) as fh:
            scores[truth] = [{k: v for k, v in r.items() if "second" not in k} for r in csv.DictReader(fh)]
    local, upstream = scores["local"], scores["upstream"]
    # only s1s2_la's truth (and so the overall row) changes: the local truth differs from the
    # pair's residual by more than a pixel on most windows
    assert [r["source"] for r in upstream] == [r["source"] for r in local]
    assert upstream[1:3] == local[1:3] and upstream[0] != local[0]


def test_evaluate_on_your_own_pairs(provider, demo_pair, tmp_path):
    """The algorithm on a CSV of aligned pairs (the demo pair moved by a known shift, its truth
    left at 0): scores per pair and overall, and a warning that the truth looks off."""
    import csv

    from qgis.core import QgsProcessingException, QgsProcessingFeedback

    optical, sar = demo_pair
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(f"optical,sar,name\n{optical},{sar},moved\n")
    out = tmp_path / "scores.csv"
    warnings = []

    class Feedback(QgsProcessingFeedback):
        def pushWarning(self, text):  # noqa: N802 (QGIS API)
            warnings.append(text)
            super().pushWarning(text)

    _run("sarcoreg:evaluate", {"PAIRS": str(pairs), "MATCHERS": ["mind", "textbook-cfog"], "SETTINGS": "512/384",
                               "SAMPLES": 6, "OUTPUT": str(out)}, Feedback())
    with open(out) as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["pair"], r["matcher"]) for r in rows] == [("moved", "mind"), ("overall", "mind"),
                                                         ("moved", "textbook-cfog"), ("overall", "textbook-cfog")]
    assert all(int(r["n"]) == 6 for r in rows)
    assert len(warnings) == 1 and "moved (512 px): the truth given may be off" in warnings[0]
    for params in ({}, {"PAIRS": str(pairs), "DATA": str(tmp_path)}):
        with pytest.raises(QgsProcessingException, match="either a folder of co-registered pairs or a CSV"):
            _run("sarcoreg:evaluate", dict(params, MATCHERS=["cfog"], SETTINGS="256/192", SAMPLES=2,
                                           OUTPUT=str(tmp_path / "x.csv")))
    assert not (tmp_path / "x.csv").exists()


# --- qgis_process ---------------------------------------------------------------------

def _qgis_process() -> list:
    """The qgis_process command; Debian's wrapper passes an option 3.22's binary refuses."""
    for name in ("qgis_process.bin", "qgis_process"):
        exe = shutil.which(name)
        if exe:
            return [exe]
    return []


def _qgis_process_env(tmp_path: Path) -> dict:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "sarcoreg").symlink_to(REPO_ROOT, target_is_directory=True)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QGIS_PLUGINPATH=str(plugins),
               XDG_DATA_HOME=str(tmp_path / "data"), XDG_RUNTIME_DIR=str(tmp_path / "run"))
    (tmp_path / "run").mkdir(mode=0o700)
    site = sorted((REPO_ROOT / ".venv" / "lib").glob("python3*/site-packages"))
    if site:
        env["PYTHONPATH"] = os.pathsep.join([str(site[0])] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


@pytest.mark.slow
def test_qgis_process_lists_and_runs_the_algorithms(tmp_path, demo_pair):
    cmd = _qgis_process()
    if not cmd:
        pytest.skip("qgis_process is not installed")
    env = _qgis_process_env(tmp_path)
    enable = subprocess.run(cmd + ["plugins", "enable", "sarcoreg"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert enable.returncode == 0, enable.stderr
    listed = subprocess.run(cmd + ["list"], env=env, capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    for alg in ("sarcoreg:coregister", "sarcoreg:batch", "sarcoreg:applycorrection", "sarcoreg:matchbatch",
                "sarcoreg:evaluate"):
        assert alg in listed.stdout
    optical, sar = demo_pair
    outdir = tmp_path / "out"
    run = subprocess.run(cmd + ["run", "sarcoreg:coregister", "--", f"OPTICAL={optical}", f"SAR={sar}",
                                "MATCHER=cfog", "WINDOW=256", "TEMPLATE=192", f"OUTPUT={outdir}"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "INLIERS" in run.stdout and (outdir / "tiepoints.gpkg").is_file()
