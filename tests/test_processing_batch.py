"""The Processing algorithm "Co-register many pairs (batch, Dask)" in real QGIS: two demo
pairs on a real local Dask cluster (127.0.0.1), run as the toolbox runs it (a background
task) and again through ``processing.run``, which skips the complete pairs; cancel; the
one-line message when Dask cannot be imported; QGIS's Python for the local workers."""
from __future__ import annotations

import csv
import json
import os
import sys
import time
from multiprocessing import spawn
from pathlib import Path

import pytest

from helpers_imports import hide_packages
from helpers_rasters import write_pairs_csv

pytestmark = pytest.mark.qgis

DEMO = Path(__file__).resolve().parent.parent / "resources" / "demo"
SHIFTS_M = {"east": (37.0, -24.0), "west": (-31.0, 18.0)}
FAST = {"MATCHER": "cfog", "WINDOW": 256, "TEMPLATE": 192, "WORKERS": 2}


@pytest.fixture(scope="module")
def pairs_csv(tmp_path_factory) -> Path:
    """The demo optical scene twice, each with the demo SAR moved by its own known shift
    (the SAR paths relative to the CSV, as people write them)."""
    from sarcoreg.core.demo import shift_georeferencing

    folder = tmp_path_factory.mktemp("pairs")
    rows = []
    for name, (dx, dy) in SHIFTS_M.items():
        shift_georeferencing(str(DEMO / "demo_sar.tif"), str(folder / f"sar_{name}.vrt"), dx, dy)
        rows.append((str(DEMO / "demo_opt.tif"), f"sar_{name}.vrt", name))
    return write_pairs_csv(folder / "pairs.csv", rows)


def _context():
    from qgis.core import QgsProcessingContext, QgsProject

    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    return context


def _run_as_the_toolbox_does(alg_id: str, params: dict, feedback, timeout_s: float = 600) -> dict:
    """Run the algorithm in a background task, as the Processing dialog does."""
    from qgis.core import QgsApplication, QgsProcessingAlgRunnerTask
    from qgis.PyQt.QtCore import QCoreApplication

    alg = QgsApplication.processingRegistry().createAlgorithmById(alg_id)
    context = _context()
    task = QgsProcessingAlgRunnerTask(alg, params, context, feedback)
    done = []
    task.executed.connect(lambda ok, results: done.append((ok, results)))
    QgsApplication.taskManager().addTask(task)
    start = time.monotonic()
    while not done:
        QCoreApplication.processEvents()
        if time.monotonic() - start > timeout_s:
            feedback.cancel()
            raise AssertionError("the batch did not finish in time")
        time.sleep(0.05)
    ok, results = done[0]
    assert ok, feedback.textLog()[-2000:]
    return results


def _summary_rows(path) -> dict:
    with open(path, newline="") as fh:
        return {row["name"]: row for row in csv.DictReader(fh)}


def test_the_provider_offers_the_batch(provider):
    from sarcoreg.core.config import PROVIDERS, WARP_CHOICES
    from sarcoreg.core.matchers import matcher_choices

    alg = provider.algorithm("batch")
    assert alg is not None and alg.displayName() == "Co-register many pairs (batch, Dask)"
    assert "pairs" in alg.shortHelpString().lower() and not alg.icon().isNull()
    for name, options in (("MATCHER", matcher_choices()), ("WARP", WARP_CHOICES), ("PROVIDER", PROVIDERS)):
        assert alg.parameterDefinition(name).options() == list(options), name
    outputs = {o.name() for o in alg.outputDefinitions()}
    assert {"SUMMARY_CSV", "SUMMARY_JSON", "OK", "SKIPPED_COMPLETE", "BAD_INPUT", "ERROR", "CANCELLED"} <= outputs


@pytest.mark.slow
def test_batch_runs_on_a_local_cluster_and_a_rerun_skips_complete_pairs(provider, pairs_csv, tmp_path):
    pytest.importorskip("distributed", reason="Dask (dask, distributed) is not installed here")
    import processing
    from qgis.core import QgsProcessingFeedback

    outroot = tmp_path / "batch"
    params = dict(FAST, PAIRS=str(pairs_csv), OUTPUT=str(outroot))
    feedback = QgsProcessingFeedback()
    first = _run_as_the_toolbox_does("sarcoreg:batch", params, feedback)
    assert (first["OK"], first["SKIPPED_COMPLETE"], first["BAD_INPUT"], first["ERROR"], first["CANCELLED"]) == \
        (2, 0, 0, 0, 0)
    assert first["SUMMARY_CSV"] == str(outroot / "batch_summary.csv")
    assert feedback.progress() == pytest.approx(100)
    log = feedback.textLog()
    assert "2 pairs in" in log and "a local Dask cluster of 2 workers" in log and "2 ok" in log
    rows = _summary_rows(first["SUMMARY_CSV"])
    assert sorted(rows) == ["east", "west"] and {r["status"] for r in rows.values()} == {"ok"}
    for name in SHIFTS_M:
        pair = outroot / name
        for output in ("tiepoints.gpkg", "report.json", "shift_field.tif", "similarity.vrt", "tiepoints.points"):
            assert (pair / output).exists(), (name, output)
        manifest = json.loads((pair / "batch_manifest.json").read_text())
        assert manifest["state"] == "complete" and manifest["config"]["matcher"] == "cfog"
        assert int(rows[name]["inliers"]) >= 4
    # the same scene, moved twice: the measured shifts differ by the difference of the moves
    east, west = rows["east"], rows["west"]
    for axis, k in (("dx", 0), ("dy", 1)):
        measured = float(east[f"median_{axis}_m"]) - float(west[f"median_{axis}_m"])
        assert abs(measured - (SHIFTS_M["east"][k] - SHIFTS_M["west"][k])) < 15, (axis, measured)
    summary = json.loads(Path(first["SUMMARY_JSON"]).read_text())
    assert summary["counts"]["ok"] == 2 and summary["config"]["window_px"] == 256

    reports = {name: (outroot / name / "report.json").stat().st_mtime_ns for name in SHIFTS_M}
    again_feedback = QgsProcessingFeedback()
    again = processing.run("sarcoreg:batch", params, feedback=again_feedback, context=_context())
    assert (again["OK"], again["SKIPPED_COMPLETE"]) == (0, 2)
    assert "no cluster (every pair was complete)" in again_feedback.textLog()
    rows = _summary_rows(again["SUMMARY_CSV"])
    assert {r["status"] for r in rows.values()} == {"skipped_complete"}
    assert {name: (outroot / name / "report.json").stat().st_mtime_ns for name in SHIFTS_M} == reports


def test_missing_dask_is_one_line_that_says_how_to_install_it(provider, pairs_csv, tmp_path, monkeypatch):
    import processing
    from qgis.core import QgsProcessingException, QgsProcessingFeedback

    hide_packages(monkeypatch, ["dask", "distributed"])
    outroot = tmp_path / "batch"
    with pytest.raises(QgsProcessingException) as err:
        processing.run("sarcoreg:batch", dict(FAST, PAIRS=str(pairs_csv), OUTPUT=str(outroot)),
                       feedback=QgsProcessingFeedback(), context=_context())
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("Dask is not installed in QGIS's Python (dask, distributed cannot be imported)")
    assert "'Install Dask (for batch)'" in message and "-m pip install dask distributed" in message
    assert not outroot.exists()


def test_local_workers_run_qgis_python_when_the_program_is_qgis(monkeypatch, tmp_path):
    """On Windows and macOS ``sys.executable`` is QGIS itself: the local workers must start
    with the Python interpreter beside it, and only for the batch's duration."""
    from sarcoreg.core.deps import find_python
    from sarcoreg.processing.algorithms.batch import workers_run_python

    before = spawn.get_executable()
    with workers_run_python(local=True):
        assert spawn.get_executable() == before  # sys.executable is Python here: nothing to change
    qgis = tmp_path / "qgis-bin"
    qgis.write_text("")
    monkeypatch.setattr(sys, "executable", str(qgis))
    python = find_python()
    assert Path(python).parent == Path(sys.exec_prefix) / "bin" and Path(python).name.startswith("python")
    with workers_run_python(local=False):
        assert spawn.get_executable() == before  # a scheduler's workers are not started here
    with workers_run_python(local=True):
        assert os.fsdecode(spawn.get_executable()) == python
    assert spawn.get_executable() == before


@pytest.mark.slow
def test_cancel_stops_the_batch_with_one_line_and_a_summary(provider, pairs_csv, tmp_path):
    pytest.importorskip("distributed", reason="Dask (dask, distributed) is not installed here")
    import processing
    from qgis.core import QgsProcessingException, QgsProcessingFeedback

    feedback = QgsProcessingFeedback()
    feedback.cancel()
    outroot = tmp_path / "batch"
    with pytest.raises(QgsProcessingException) as err:
        processing.run("sarcoreg:batch", dict(FAST, WORKERS=1, PAIRS=str(pairs_csv), OUTPUT=str(outroot)),
                       feedback=feedback, context=_context())
    assert str(err.value).startswith("cancelled: batch cancelled") and "\n" not in str(err.value)
    assert {r["status"] for r in _summary_rows(outroot / "batch_summary.csv").values()} == {"cancelled"}
    assert not any((outroot / name / "tiepoints.gpkg").exists() for name in SHIFTS_M)
