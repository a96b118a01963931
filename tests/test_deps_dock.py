"""The dock offers ONNX Runtime, and Dask for the Processing batch, while they are missing and
installs them into a folder of the QGIS profile, in real QGIS, from the package registry, with
progress in the message bar."""
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


# --- Dask, for the Processing batch ------------------------------------------------------

def test_dask_row_shows_only_while_dask_is_missing(dock, monkeypatch):
    pytest.importorskip("distributed", reason="Dask (dask, distributed) is not installed here")
    from helpers_imports import hide_packages

    assert not dock.dask_missing and dock.batch_row.isHidden()
    hide_packages(monkeypatch, ["dask", "distributed"])
    dock._update_batch()
    assert dock.dask_missing == ["dask", "distributed"]
    assert not dock.batch_row.isHidden()
    assert dock.install_dask_button.text() == "Install Dask (for batch)" and dock.install_dask_button.isEnabled()


@pytest.mark.slow
def test_dock_installs_dask_into_the_profile_folder(dock, bar, tmp_path, monkeypatch):
    """Dask and distributed from the registry into a fresh profile folder while this Python
    cannot import them: the row shows, the install runs with progress in the message bar, the
    packages QGIS has are not copied in, the bar says what was installed where, and the row
    hides because Dask is now found in that folder (and imports from it next to QGIS's
    packages)."""
    import os
    import subprocess
    import textwrap

    from qgis.PyQt.QtWidgets import QProgressBar

    from helpers_imports import hide_packages
    from sarcoreg.core.deps import FOLDER_NAME

    folder = tmp_path / "profile" / "python" / FOLDER_NAME
    hide_packages(monkeypatch, ["dask", "distributed"], except_in=[folder])
    dock._update_batch()
    assert not dock.batch_row.isHidden()
    done = []
    task = dock.install_batch(folder=folder)
    assert task is not None and task.packages == ["dask", "distributed"]
    assert not any(b.isEnabled() for b in (dock.install_dask_button, dock.install_cpu_button))
    assert dock.install_runtime(folder=folder) is None, "a second install must wait for the first"
    original = task.on_done
    task.on_done = lambda t: (original(t), done.append(t))
    assert bar.findChildren(QProgressBar, "sarcoregInstallProgress"), "no progress bar in the message bar"
    try:
        _wait(done, task)
        assert task.result is not None and task.result.ok, (task.error_message, task.lines[-10:])
        for package in ("dask", "distributed"):
            assert (folder / package / "__init__.py").is_file()
            assert list(folder.glob(f"{package}-*.dist-info"))
        assert not (folder / "numpy").exists(), "a copy of QGIS's numpy was left in the profile folder"
        assert dock.install_task is None and dock.install_dask_button.isEnabled()
        item = bar.currentItem()
        assert item is not None and "installed dask-" in item.text() and "distributed-" in item.text() \
            and str(folder) in item.text(), item.text() if item else None
        assert str(folder) in sys.path
        assert dock.dask_missing == [] and dock.batch_row.isHidden()
    finally:
        if str(folder) in sys.path:
            sys.path.remove(str(folder))
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(folder)!r})
        import dask, distributed
        assert dask.__file__.startswith({str(folder)!r}) and distributed.__file__.startswith({str(folder)!r})
        print("ok")
        """)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
