"""Real desktop QGIS under Xvfb: the plugin loads, the dock co-registers the demo pair and a
screenshot (arrows over the heatmap) is saved under build/desktop_smoke/."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPT = REPO_ROOT / "scripts" / "desktop_smoke.sh"

pytestmark = [pytest.mark.qgis, pytest.mark.slow]


@pytest.mark.skipif(shutil.which("qgis") is None, reason="desktop QGIS (the qgis binary) is not installed")
@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="Xvfb (xvfb-run) is not installed")
def test_desktop_qgis_runs_the_dock_and_saves_a_screenshot():
    outdir = REPO_ROOT / "build" / "desktop_smoke"
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    run = subprocess.run(["bash", str(SCRIPT), str(outdir)], env=env, capture_output=True, text=True,
                         timeout=400)
    if run.returncode == 77:
        pytest.skip(run.stderr.strip())
    assert run.returncode == 0, run.stdout + run.stderr
    state = json.loads((outdir / "result.json").read_text())
    assert state["ok"] and "error" not in state, state
    assert any("inliers" in s for s in state["steps"]), state["steps"]
    shot = outdir / "screenshot.png"
    assert shot.stat().st_size > 50_000  # a real picture, not an empty window
