"""The dock offers ONNX Runtime while it is missing and installs it into a folder of the
QGIS profile, in real QGIS, from the package registry, with progress in the message bar."""
from __future__ import annotations

import builtins
import sys
import time

import pytest

pytestmark = pytest.mark.qgis


@pytest.fixture
def bar(qgis_iface, monkeypatch):
    """QGIS's real message bar in place of the stand-in interface's recorder."""
    from qgis.gui import QgsMessageBar

    real = QgsMessageBar()
    monkeypatch.setattr(qgis_iface, "messageBar", lambda: real)
    monkeypatch.setattr(qgis_iface, "removeDockWidget", lambda *a: None, raising=False)
    yield real
    real.clearWidgets()


@pytest.fixture
def dock(qgis_iface, bar):
    from sarcoreg.ui.dock import SarcoregDock

    d = SarcoregDock(qgis_iface)
    yield d
    d.shutdown()
    d.deleteLater()


def _hide_onnxruntime(monkeypatch):
    from sarcoreg.ui import runtime

    real_import = builtins.__import__

    def no_ort(name, *args, **kwargs):
        if name == "onnxruntime":
            raise ImportError("No module named 'onnxruntime'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "onnxruntime", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_ort)
    monkeypatch.setattr(runtime.importlib, "import_module", lambda name: no_ort(name))


def test_install_buttons_show_only_while_onnxruntime_is_missing(dock, monkeypatch):
    pytest.importorskip("onnxruntime")
    assert dock.runtime_status.installed and dock.install_row.isHidden()
    _hide_onnxruntime(monkeypatch)
    dock._update_runtime()
    assert not dock.runtime_status.installed
    assert not dock.install_row.isHidden()
    assert "button below" in dock.runtime_label.text()


def _wait(done, task, timeout_s=600):
    from qgis.PyQt.QtCore import QCoreApplication

    start = time.monotonic()
    while not done:
        QCoreApplication.processEvents()
        if time.monotonic() - start > timeout_s:
            task.cancel()
            raise AssertionError("the install did not finish in time")
        time.sleep(0.05)


@pytest.mark.slow
def test_dock_installs_onnxruntime_into_the_profile_folder(dock, bar, tmp_path):
    """The CPU build from the registry into a fresh profile folder; numpy and the other
    packages QGIS has are not copied in; the message bar showed a progress bar and then says
    what was installed where."""
    from qgis.PyQt.QtWidgets import QProgressBar

    from sarcoreg.core.deps import FOLDER_NAME

    folder = tmp_path / "profile" / "python" / FOLDER_NAME
    done = []
    task = dock.install_runtime(gpu=False, folder=folder)
    assert task is not None and not dock.install_cpu_button.isEnabled()
    original = task.on_done
    task.on_done = lambda t: (original(t), done.append(t))
    progress = bar.findChildren(QProgressBar, "sarcoregInstallProgress")
    assert progress, "no progress bar in the message bar"
    _wait(done, task)
    assert task.result is not None and task.result.ok, (task.error_message, task.lines[-10:])
    assert (folder / "onnxruntime" / "__init__.py").is_file()
    assert list(folder.glob("onnxruntime-*.dist-info"))
    assert not (folder / "numpy").exists(), "a copy of QGIS's numpy was left in the profile folder"
    assert not list(folder.glob("onnxruntime_gpu-*"))
    assert any(line.startswith("Successfully installed") for line in task.lines)
    assert dock.install_task is None and dock.install_cpu_button.isEnabled()
    item = bar.currentItem()
    assert item is not None and "installed onnxruntime" in item.text() and str(folder) in item.text(), \
        item.text() if item else None
    assert str(folder) in sys.path
    sys.path.remove(str(folder))
