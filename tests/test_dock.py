"""The dock on a real pair: run, results on the map, refusals, settings, inspector."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.qgis

DEMO = Path(__file__).resolve().parent.parent / "resources" / "demo"


class _Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self, *args):
        self.calls.append(args)


@pytest.fixture
def iface(qgis_iface, monkeypatch):
    # the stand-in interface lacks removeDockWidget, which the real one has
    monkeypatch.setattr(qgis_iface, "removeDockWidget", _Recorder(), raising=False)
    return qgis_iface


@pytest.fixture
def clean_settings():
    from qgis.core import QgsSettings

    from sarcoreg.ui.dock import SETTINGS_PREFIX

    def clear():
        s = QgsSettings()
        for key in s.allKeys():
            if key.startswith(SETTINGS_PREFIX):
                s.remove(key)

    clear()
    yield
    clear()


@pytest.fixture
def layers(tmp_path):
    """The demo optical layer and the shifted demo SAR layer, in the project."""
    from qgis.core import QgsProject, QgsRasterLayer

    from sarcoreg.core.demo import DEMO_SHIFT_M, shift_georeferencing

    sar_path = shift_georeferencing(str(DEMO / "demo_sar.tif"), str(tmp_path / "sar_shifted.vrt"), *DEMO_SHIFT_M)
    optical = QgsRasterLayer(str(DEMO / "demo_opt.tif"), "optical")
    sar = QgsRasterLayer(sar_path, "sar")
    assert optical.isValid() and sar.isValid()
    project = QgsProject.instance()
    project.addMapLayers([optical, sar])
    yield optical, sar
    project.removeAllMapLayers()
    project.layerTreeRoot().removeAllChildren()


@pytest.fixture
def dock(iface, clean_settings):
    from sarcoreg.ui.dock import SarcoregDock

    widget = SarcoregDock(iface)
    yield widget
    widget.shutdown()
    widget.deleteLater()


def _fill(dock, optical, sar, outdir):
    dock.optical_combo.setLayer(optical)
    dock.sar_combo.setLayer(sar)
    dock.matcher.setCurrentText("cfog")
    dock.window.setValue(256)
    dock.template.setValue(192)
    dock.spacing.setValue(0)
    dock.warp.setCurrentText("affine")
    dock.outdir.setFilePath(str(outdir))


def _wait(dock, timeout_s=120.0):
    from qgis.PyQt.QtCore import QCoreApplication

    start = time.monotonic()
    while dock.task is not None:
        QCoreApplication.processEvents()
        assert time.monotonic() - start < timeout_s, "the dock's task did not finish"
        time.sleep(0.02)
    QCoreApplication.processEvents()


def _messages(iface, level):
    return iface.messageBar().get_messages(level)


def test_dock_builds_with_its_widgets(dock):
    from sarcoreg.core.matchers import matcher_names

    items = [dock.matcher.itemText(i) for i in range(dock.matcher.count())]
    assert items[0] == "auto" and set(matcher_names()) <= set(items)
    assert dock.window.value() == 512 and dock.template.value() == 384
    assert dock.runtime_label.text()
    assert not dock.cancel_button.isEnabled()


def test_runtime_label_names_providers_or_the_install_command(dock, monkeypatch):
    import builtins

    from sarcoreg.ui import runtime

    text = dock.runtime_label.text()
    try:
        import onnxruntime  # noqa: F401
        assert "ONNX Runtime" in text and "will use" in text
    except ImportError:
        assert "pip install onnxruntime" in text
    real_import = builtins.__import__

    def no_ort(name, *args, **kwargs):
        if name == "onnxruntime":
            raise ImportError("No module named 'onnxruntime'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(__import__("sys").modules, "onnxruntime", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_ort)
    monkeypatch.setattr(runtime.importlib, "import_module", lambda name: no_ort(name))
    status = runtime.runtime_status("auto")
    assert not status.installed and "pip install onnxruntime" in status.message


def test_run_shows_styled_results_then_refuses_the_same_outputs(iface, dock, layers, tmp_path):
    from qgis.core import Qgis, QgsProject, QgsRasterLayer, QgsVectorLayer

    optical, sar = layers
    outdir = tmp_path / "out"
    _fill(dock, optical, sar, outdir)
    task = dock.run()
    assert task is not None and not dock.run_button.isEnabled()
    assert dock.run() is None  # a second run while one is running is refused
    assert "already running" in _messages(iface, Qgis.Warning)[-1]
    _wait(dock)
    assert dock.progress.value() == 100
    assert "inliers" in _messages(iface, Qgis.Success)[-1]

    found = dock.last_layers
    assert set(found) == {"tiepoints", "similarity", "corrected"}
    tp, sim = found["tiepoints"], found["similarity"]
    assert isinstance(tp, QgsVectorLayer) and tp.renderer().type() == "RuleRenderer"
    assert isinstance(sim, QgsRasterLayer) and sim.renderer().type() == "singlebandpseudocolor"
    group = QgsProject.instance().layerTreeRoot().children()[0]
    assert group.name() == "sarcoreg: out"
    assert [c.layer() for c in group.children()] == [tp, sim, found["corrected"]]

    # the same output folder again: refused with a clear message, nothing started
    assert dock.run() is None
    assert "already holds" in _messages(iface, Qgis.Warning)[-1]


def test_settings_are_remembered(iface, dock, layers, tmp_path):
    from sarcoreg.ui.dock import SarcoregDock

    optical, sar = layers
    _fill(dock, optical, sar, tmp_path / "remember")
    dock.spacing.setValue(100)
    dock.save_settings()
    again = SarcoregDock(iface)
    try:
        assert again.window.value() == 256 and again.template.value() == 192 and again.spacing.value() == 100
        assert again.matcher.currentText() == "cfog" and again.warp.currentText() == "affine"
        assert again.outdir.filePath() == str(tmp_path / "remember")
    finally:
        again.deleteLater()


def test_bad_settings_are_refused_before_a_task_starts(iface, dock, layers, tmp_path):
    from qgis.core import Qgis

    optical, sar = layers
    _fill(dock, optical, sar, tmp_path / "x")
    dock.window.setValue(255)
    assert dock.run() is None
    assert "must be even" in _messages(iface, Qgis.Warning)[-1]
    dock.window.setValue(256)
    dock.optical_bands.setText("red")
    assert dock.run() is None
    assert "band numbers" in _messages(iface, Qgis.Warning)[-1]


def test_cancel_from_the_dock(iface, dock, layers, tmp_path):
    from qgis.core import Qgis
    from qgis.PyQt.QtCore import QCoreApplication

    optical, sar = layers
    _fill(dock, optical, sar, tmp_path / "cancel")
    dock.spacing.setValue(24)
    task = dock.run()
    assert task is not None and dock.cancel_button.isEnabled()
    start = time.monotonic()
    while task.progress() < 2 and time.monotonic() - start < 60:
        QCoreApplication.processEvents()
        time.sleep(0.02)
    dock.cancel()
    _wait(dock)
    assert "cancelled" in _messages(iface, Qgis.Info)[-1]
    assert dock.run_button.isEnabled() and not dock.last_layers
    assert not (tmp_path / "cancel" / "tiepoints.gpkg").exists()


def test_inspector_shows_the_windows_of_a_clicked_tie_point(iface, dock, layers, tmp_path):
    from qgis.core import QgsPointXY

    optical, sar = layers
    _fill(dock, optical, sar, tmp_path / "inspect")
    dock.run()
    _wait(dock)
    tp = dock.last_layers["tiepoints"]
    canvas = iface.mapCanvas()
    canvas.setDestinationCrs(tp.crs())
    canvas.setExtent(tp.extent().buffered(500))
    dock.inspect_button.setChecked(True)
    tool = dock.inspector_tool
    assert canvas.mapTool() is tool
    best = max((f for f in tp.getFeatures() if f["outlier"] == 0), key=lambda f: f["confidence"])
    point = best.geometry().asPoint()
    assert tool.inspect_at(QgsPointXY(point.x() + 3, point.y() - 3))
    attributes, images = tool.last
    assert attributes["id"] == best["id"]
    assert images.template.shape == (192, 192) and images.reference.shape == (256, 256)
    assert images.similarity is not None and images.similarity.shape == (65, 65)
    assert images.peak_rc is not None
    pics = tool.panel.pictures
    for key in ("template", "reference", "similarity"):
        assert not pics[key].pixmap().isNull(), key
    assert images.translated is None
    assert pics["translated"].text().startswith("not available for cfog")
    assert tool.panel.table.rowCount() > 5
    far = tp.extent().buffered(5000)
    assert not tool.inspect_at(QgsPointXY(far.xMinimum(), far.yMinimum()))
    dock.inspect_button.setChecked(False)
    assert canvas.mapTool() is not tool
