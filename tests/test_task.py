"""The dock's background task: completes, reports errors, and cancels cleanly."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.qgis

DEMO = Path(__file__).resolve().parent.parent / "resources" / "demo"


@pytest.fixture(scope="module")
def demo_pair(tmp_path_factory):
    from sarcoreg.core.demo import DEMO_SHIFT_M, shift_georeferencing

    folder = tmp_path_factory.mktemp("pair")
    sar = shift_georeferencing(str(DEMO / "demo_sar.tif"), str(folder / "sar_shifted.vrt"), *DEMO_SHIFT_M)
    return str(DEMO / "demo_opt.tif"), sar


def run_task(task, timeout_s: float = 120.0, cancel_when=None):
    """Add ``task`` to the task manager and spin the event loop until ``on_done`` ran."""
    from qgis.core import QgsApplication
    from qgis.PyQt.QtCore import QCoreApplication

    done = []
    task.on_done = done.append
    QgsApplication.taskManager().addTask(task)
    start = time.monotonic()
    while not done:
        QCoreApplication.processEvents()
        if cancel_when is not None and cancel_when(task):
            task.cancel()
            cancel_when = None
        if time.monotonic() - start > timeout_s:
            task.cancel()
            raise AssertionError("the task did not finish in time")
        time.sleep(0.02)
    return done[0]


def test_task_completes_with_progress(qgis_app, demo_pair, tmp_path):
    from sarcoreg.core.config import CoregConfig
    from sarcoreg.ui.task import CoregTask

    optical, sar = demo_pair
    task = CoregTask(optical, sar, str(tmp_path / "out"), CoregConfig(matcher="cfog", window_px=256, template_px=192))
    seen = []
    task.progressChanged.connect(seen.append)
    finished = run_task(task)
    assert finished is task
    assert task.result is not None and not task.error_message
    assert task.result.report["counts"]["windows"] == 16
    assert (tmp_path / "out" / "tiepoints.gpkg").is_file()
    assert seen and max(seen) == pytest.approx(100)


def test_task_reports_bad_input_as_one_line(qgis_app, demo_pair, tmp_path):
    from sarcoreg.core.config import CoregConfig
    from sarcoreg.ui.task import CoregTask

    optical, _ = demo_pair
    task = CoregTask(optical, str(tmp_path / "missing.tif"), str(tmp_path / "out"), CoregConfig(matcher="cfog"))
    run_task(task)
    assert task.result is None and not task.cancelled
    assert "no such file" in task.error_message and "\n" not in task.error_message


def test_task_cancels_cleanly(qgis_app, demo_pair, tmp_path):
    from sarcoreg.core.config import CoregConfig
    from sarcoreg.ui.task import CoregTask

    optical, sar = demo_pair
    outdir = tmp_path / "out"
    # many small windows so that the run lasts long enough to be cancelled midway
    config = CoregConfig(matcher="cfog", window_px=256, template_px=192, spacing_px=24)
    task = CoregTask(optical, sar, str(outdir), config)
    run_task(task, cancel_when=lambda t: t.progress() > 2)
    assert task.cancelled and task.result is None
    assert "cancelled" in task.error_message
    left = sorted(p.name for p in outdir.iterdir()) if outdir.exists() else []
    assert left == [], left  # no final output and no staging folder left behind


def test_task_feedback_is_the_engine_protocol(qgis_app):
    from qgis.core import QgsTask

    from sarcoreg.ui.task import TaskFeedback

    class Dummy(QgsTask):
        def run(self):
            return True

    task = Dummy("dummy", QgsTask.CanCancel)
    fb = TaskFeedback(task)
    fb.set_progress(42)
    assert task.progress() == pytest.approx(42)
    assert not fb.is_canceled()
    task.cancel()
    assert fb.is_canceled()
    fb.info("hello")
    assert fb.messages == ["hello"]
