"""The plugin is a polite guest in QGIS's process: GDAL's process-wide state is the same
before and after the plugin is imported, loaded and has run co-registrations.

Checked in a child process running real QGIS (offscreen) on the bundled demo pair, so that
nothing this test session did to GDAL (test helpers switch exceptions on) is measured, and
after QGIS's own start-up (QGIS 3.40's Processing framework switches GDAL's exceptions on,
its GDAL provider sets AAIGRID_DATATYPE when it first opens a raster): GDAL's
exception mode (gdal, ogr, osr), its block cache maximum, its configuration options, and
the process-wide error handler (a warning raised outside the plugin is shown the same way
before and after).
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from children import child_env

pytestmark = pytest.mark.qgis

DEMO = Path(__file__).resolve().parent.parent / "resources" / "demo"

CHILD = r'''
import json, os, sys, time

sys.path.append("/usr/share/qgis/python/plugins")
from qgis.core import QgsApplication

app = QgsApplication([], True)
app.initQgis()
from osgeo import gdal, ogr, osr

OPTIONS = ("GDAL_CACHEMAX", "GDAL_NUM_THREADS", "GTIFF_SRS_SOURCE", "CPL_DEBUG", "CPL_LOG",
           "GDAL_PAM_ENABLED", "VRT_SHARED_SOURCE", "GDAL_DISABLE_READDIR_ON_OPEN",
           "CHECK_DISK_FREE_SPACE", "__chain_python_error_handlers")


def state(label):
    s = {"exceptions": [m.GetUseExceptions() for m in (gdal, ogr, osr)],
         "cache_max": gdal.GetCacheMax(),
         "options": {k: gdal.GetConfigOption(k) for k in OPTIONS}}
    if hasattr(gdal, "GetConfigOptions"):  # GDAL >= 3.7: every option set
        s["all_options"] = gdal.GetConfigOptions()
    if hasattr(gdal, "_UserHasSpecifiedIfUsingExceptions"):
        s["user_specified"] = gdal._UserHasSpecifiedIfUsingExceptions()
    # the global error handler: how a warning raised outside the plugin is shown
    sys.stderr.flush()
    gdal.Error(gdal.CE_Warning, 1, f"probe-{label}")
    sys.stderr.flush()
    return s


# QGIS's own start-up (its Processing framework, e.g. GDAL's provider, may choose GDAL's
# exception mode itself) happens before the plugin is measured
from processing.core.Processing import Processing
Processing.initialize()
from qgis.gui import QgsMapCanvas, QgsMessageBar
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtWidgets import QMainWindow


class Iface:
    """The part of QGIS's interface the plugin uses (a desktop QGIS would give its own)."""

    def __init__(self):
        self.window = QMainWindow()
        self.canvas = QgsMapCanvas(self.window)
        self.bar = QgsMessageBar(self.window)

    def mainWindow(self):
        return self.window

    def mapCanvas(self):
        return self.canvas

    def messageBar(self):
        return self.bar

    def __getattr__(self, name):  # menus, toolbar and dock placement: nothing to record
        return lambda *args: None


iface = Iface()
# and QGIS's GDAL provider, which sets options of its own (AAIGRID_DATATYPE) on first use
from qgis.core import QgsRasterLayer
warm_up = QgsRasterLayer(sys.argv[1], "warm-up")
assert warm_up.isValid()
del warm_up
before = state("before")

import sarcoreg
plugin = sarcoreg.classFactory(iface)
plugin.initGui()
plugin.initProcessing()
after_load = state("after-load")

optical, sar, out = sys.argv[1], sys.argv[2], sys.argv[3]
import processing
from qgis.core import QgsProcessingContext, QgsProcessingFeedback, QgsProject
context = QgsProcessingContext()
context.setProject(QgsProject.instance())
processing.run("sarcoreg:coregister",
               {"OPTICAL": optical, "SAR": sar, "WINDOW": 256, "TEMPLATE": 192, "MATCHER": "cfog",
                "OUTPUT": os.path.join(out, "processing")},
               feedback=QgsProcessingFeedback(), context=context)

# the dock's path: a QgsTask on QGIS's task manager (a worker thread)
from sarcoreg.core.config import CoregConfig
from sarcoreg.ui.task import CoregTask
done = []
task = CoregTask(optical, sar, os.path.join(out, "task"),
                 CoregConfig(matcher="cfog", window_px=256, template_px=192))
task.on_done = done.append
QgsApplication.taskManager().addTask(task)
start = time.monotonic()
while not done and time.monotonic() - start < 120:
    QCoreApplication.processEvents()
    time.sleep(0.02)
assert done and task.result is not None, task.error_message

# the inspector's path, in the GUI thread
from sarcoreg.core.revisit import read_window
tp = task.result.tiepoints[0]
read_window(os.path.join(out, "task"), tp.win_row, tp.win_col, tp.similarity, (tp.dx_px, tp.dy_px))
plugin.unload()
after_run = state("after-run")
print("STATE " + json.dumps({"before": before, "after_load": after_load, "after_run": after_run}))
del task, done
app.exitQgis()
'''


def test_gdal_process_state_is_the_same_before_and_after_the_plugin_loads_and_runs(tmp_path):
    from sarcoreg.core.demo import DEMO_SHIFT_M, shift_georeferencing

    sar = shift_georeferencing(str(DEMO / "demo_sar.tif"), str(tmp_path / "sar.vrt"), *DEMO_SHIFT_M)
    env = child_env()
    env["QT_QPA_PLATFORM"] = "offscreen"
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(CHILD), str(DEMO / "demo_opt.tif"), sar,
                           str(tmp_path / "out")], capture_output=True, text=True, env=env, timeout=600,
                          cwd=tmp_path)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("STATE ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    states = json.loads(lines[-1][len("STATE "):])
    assert (tmp_path / "out" / "processing" / "report.json").is_file()
    assert (tmp_path / "out" / "task" / "report.json").is_file()
    before = states["before"]
    assert states["after_load"] == before
    assert states["after_run"] == before, json.dumps([states["after_run"], before])
    # the process-wide error handler shows a warning from outside the plugin as before
    shown = {label: [line.replace(f"probe-{label}", "probe") for line in proc.stderr.splitlines()
                     if f"probe-{label}" in line] for label in ("before", "after-load", "after-run")}
    assert shown["before"], proc.stderr[-3000:]
    assert shown["after-load"] == shown["before"] and shown["after-run"] == shown["before"], shown
