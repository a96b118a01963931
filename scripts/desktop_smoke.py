"""Run inside desktop QGIS by scripts/desktop_smoke.sh (``qgis --code``).

Loads the demo pair (the SAR moved by a known shift), fills in the sarcoreg dock, presses
Run, waits for the task, inspects one tie point, and saves a screenshot of the main window
(arrows over the similarity heatmap over the optical scene) and result.json, then quits.
"""
import json
import os
import traceback

from qgis.core import QgsApplication, QgsProject, QgsRasterLayer
from qgis.PyQt.QtCore import QTimer
from qgis.utils import iface, plugins

OUT = os.environ.get("SARCOREG_SMOKE_OUT", os.path.join(os.getcwd(), "build", "desktop_smoke"))
state = {"ok": False, "steps": []}


def step(text):
    state["steps"].append(text)
    with open(os.path.join(OUT, "result.json"), "w", encoding="utf-8") as fh:
        json.dump(state, fh, indent=2)


def finish(delay_ms=500):
    step("quit")
    QgsProject.instance().setDirty(False)
    QTimer.singleShot(delay_ms, QgsApplication.instance().quit)


def guarded(fn):
    def wrapper(*args):
        try:
            fn(*args)
        except Exception:  # the smoke run must always end, with the reason
            state["error"] = traceback.format_exc()
            finish()
    return wrapper


@guarded
def start():
    from sarcoreg.core.demo import DEMO_DIR, DEMO_SHIFT_M, shift_georeferencing

    win = iface.mainWindow()
    win.showNormal()
    win.setGeometry(0, 0, 1600, 1000)
    step(f"plugins loaded: {sorted(plugins)}")
    plugin = plugins["sarcoreg"]
    os.makedirs(OUT, exist_ok=True)
    sar_path = shift_georeferencing(str(DEMO_DIR / "demo_sar.tif"), os.path.join(OUT, "demo_sar_shifted.vrt"),
                                    *DEMO_SHIFT_M)
    project = QgsProject.instance()
    optical = QgsRasterLayer(str(DEMO_DIR / "demo_opt.tif"), "Sentinel-2 (optical)")
    sar = QgsRasterLayer(sar_path, "Sentinel-1 (SAR, shifted)")
    project.addMapLayer(sar)
    project.addMapLayer(optical)
    plugin.action.trigger()  # the toolbar button: opens the dock
    dock = plugin.dock
    dock.optical_combo.setLayer(optical)
    dock.sar_combo.setLayer(sar)
    dock.matcher.setCurrentText("cfog")
    dock.window.setValue(256)
    dock.template.setValue(192)
    dock.spacing.setValue(96)
    dock.warp.setCurrentText("none")
    dock.outdir.setFilePath(os.path.join(OUT, "run"))
    step(f"runtime: {dock.runtime_label.text()}")
    task = dock.run()
    if task is None:
        raise RuntimeError("the dock refused to run")
    step("task started")
    QTimer.singleShot(500, lambda: wait_for(dock, 0))


@guarded
def wait_for(dock, tries):
    if dock.task is not None:
        if tries > 300:
            raise RuntimeError("the task did not finish in time")
        QTimer.singleShot(500, lambda: wait_for(dock, tries + 1))
        return
    step(f"task finished: {dock.status.text()}")
    layers = dock.last_layers
    if "tiepoints" not in layers:
        raise RuntimeError(f"no tie points on the map: {dock.status.text()}")
    canvas = iface.mapCanvas()
    canvas.setExtent(layers["tiepoints"].extent().buffered(700))
    canvas.refresh()
    # inspect the most confident inlier, to show the inspector panel in the picture
    tp = layers["tiepoints"]
    best = max((f for f in tp.getFeatures() if f["outlier"] == 0), key=lambda f: f["confidence"], default=None)
    if best is not None:
        dock.inspect_button.setChecked(True)
        dock.inspector_tool.inspect_feature(tp, best)
        state["inspected"] = best["id"]
    QTimer.singleShot(3000, shoot)


@guarded
def shoot():
    canvas = iface.mapCanvas()
    canvas.waitWhileRendering()
    path = os.path.join(OUT, "screenshot.png")
    iface.mainWindow().grab().save(path)
    canvas.grab().save(os.path.join(OUT, "canvas.png"))
    state["screenshot"] = path
    state["ok"] = os.path.getsize(path) > 0
    finish()


QTimer.singleShot(1500, start)
