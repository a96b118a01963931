"""A new matcher is one file plus one registry line: it then appears in the command line,
Processing, the dock and the inspector with no other edit (``tests/toy_matcher.py``)."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.qgis

DEMO = Path(__file__).resolve().parent.parent / "resources" / "demo"
TOY = "toy"


@pytest.fixture(scope="module")
def toy_registered():
    from sarcoreg.core.matchers import register, unregister

    from toy_matcher import ToyMatcher

    # the one registry line a new matcher needs (here made at run time, and undone after)
    register(TOY, ToyMatcher, "toy: CFOG's answer with a picture", learned=True, options=("batch_size",),
             shows=("translation",))
    yield
    unregister(TOY)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    from sarcoreg.core.demo import DEMO_SHIFT_M, shift_georeferencing

    folder = tmp_path_factory.mktemp("toy_pair")
    sar = shift_georeferencing(str(DEMO / "demo_sar.tif"), str(folder / "sar_shifted.vrt"), *DEMO_SHIFT_M)
    return str(DEMO / "demo_opt.tif"), sar


def _report(outdir) -> dict:
    return json.loads((Path(outdir) / "report.json").read_text(encoding="utf-8"))


def test_the_command_line_lists_and_runs_it_with_its_run_options(toy_registered, pair, tmp_path, capsys):
    from sarcoreg.cli import build_parser, main

    sub = next(a for a in build_parser()._subparsers._group_actions)  # noqa: SLF001 (argparse internals)
    assert "toy: CFOG's answer" in sub.choices["coregister"].format_help()
    optical, sar = pair
    out = tmp_path / "cli"
    code = main(["coregister", optical, sar, "-o", str(out), "--matcher", TOY, "--window", "256",
                 "--template", "192", "--batch", "3"])
    assert code == 0
    report = _report(out)
    assert report["matcher"]["name"] == TOY
    assert report["runtime"]["batch_size"] == 3          # the option it declared reached it
    assert f"matcher {TOY}" in capsys.readouterr().out


def test_processing_offers_and_runs_it(toy_registered, pair, qgis_processing, tmp_path):
    import processing
    from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingFeedback, QgsProject

    from sarcoreg.processing.provider import SarcoregProvider

    registry = QgsApplication.processingRegistry()
    provider = SarcoregProvider()
    assert registry.addProvider(provider)
    try:
        assert TOY in provider.algorithm("coregister").parameterDefinition("MATCHER").options()
        assert TOY in provider.algorithm("matchbatch").parameterDefinition("MATCHER").options()
        optical, sar = pair
        context = QgsProcessingContext()
        context.setProject(QgsProject.instance())
        out = tmp_path / "processing"
        processing.run("sarcoreg:coregister", {"OPTICAL": optical, "SAR": sar, "MATCHER": TOY, "WINDOW": 256,
                                               "TEMPLATE": 192, "OUTPUT": str(out)},
                       feedback=QgsProcessingFeedback(), context=context)
        assert _report(out)["matcher"]["name"] == TOY
    finally:
        registry.removeProvider(provider)
        QgsProject.instance().removeAllMapLayers()


def test_the_dock_runs_it_and_the_inspector_shows_its_picture(toy_registered, pair, qgis_iface, monkeypatch,
                                                               tmp_path):
    from qgis.core import QgsPointXY, QgsProject, QgsRasterLayer
    from qgis.PyQt.QtCore import QCoreApplication

    from sarcoreg.ui.dock import SarcoregDock

    monkeypatch.setattr(qgis_iface, "removeDockWidget", lambda *a: None, raising=False)
    optical_path, sar_path = pair
    optical, sar = QgsRasterLayer(optical_path, "optical"), QgsRasterLayer(sar_path, "sar")
    QgsProject.instance().addMapLayers([optical, sar])
    dock = SarcoregDock(qgis_iface)
    try:
        assert dock.matcher.findText(TOY) >= 0
        assert not dock.needs_runtime(TOY)       # it declared no ONNX Runtime
        dock.optical_combo.setLayer(optical)
        dock.sar_combo.setLayer(sar)
        dock.matcher.setCurrentText(TOY)
        dock.window.setValue(256)
        dock.template.setValue(192)
        dock.spacing.setValue(0)
        dock.warp.setCurrentText("none")
        dock.outdir.setFilePath(str(tmp_path / "dock"))
        assert dock.run() is not None
        start = time.monotonic()
        while dock.task is not None:
            QCoreApplication.processEvents()
            assert time.monotonic() - start < 120, "the dock's task did not finish"
            time.sleep(0.02)
        QCoreApplication.processEvents()
        assert _report(tmp_path / "dock")["matcher"]["name"] == TOY
        tp = dock.last_layers["tiepoints"]
        canvas = qgis_iface.mapCanvas()
        canvas.setDestinationCrs(tp.crs())
        canvas.setExtent(tp.extent().buffered(500))
        dock.inspect_button.setChecked(True)
        tool = dock.inspector_tool
        point = next(iter(tp.getFeatures())).geometry().asPoint()
        assert tool.inspect_at(QgsPointXY(point.x(), point.y()))
        _, images = tool.last
        # the inspector re-ran the toy because its entry says it shows a translation
        assert images.matcher == TOY and images.translated is not None
        np.testing.assert_array_equal(images.translated, -images.template)
        assert not tool.panel.pictures["translated"].pixmap().isNull()
        dock.inspect_button.setChecked(False)
    finally:
        dock.shutdown()
        dock.deleteLater()
        QgsProject.instance().removeAllMapLayers()
