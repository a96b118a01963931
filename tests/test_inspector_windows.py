"""The inspector re-reads exactly the windows the engine matched, also when the coarse pass
moved the SAR windows (``core.revisit.read_window``)."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

DEMO = Path(__file__).resolve().parent.parent / "resources" / "demo"
OPT = str(DEMO / "demo_opt.tif")
SAR = str(DEMO / "demo_sar.tif")


@pytest.fixture(scope="module")
def shifted_run(tmp_path_factory):
    """The demo SAR's georeferencing moved 60 px (600 m) east: beyond the 32 px search of a
    256/192 window, so the coarse pass displaces the SAR windows."""
    from sarcoreg.core.config import CoregConfig
    from sarcoreg.core.coregister import coregister
    from sarcoreg.core.demo import shift_georeferencing

    folder = tmp_path_factory.mktemp("shifted")
    sar = shift_georeferencing(SAR, str(folder / "sar_east.vrt"), 600.0, 0.0)
    config = CoregConfig(matcher="cfog", window_px=256, template_px=192, spacing_px=96)
    result = coregister(OPT, sar, folder / "out", config)
    return result, sar, config


def _engine_windows(sar, config, window_rc):
    """What the engine matched for window ``window_rc``: its own layout and coarse pass."""
    from sarcoreg.core.coregister import prepare, with_coarse_offset

    scene = with_coarse_offset(prepare(OPT, sar, config), config)
    window = next(w for w in scene.windows if (w.win_row, w.win_col) == window_rc)
    tr, tc = window.template_origin
    template = scene.optical.read(tr, tc, window.template_px, window.template_px)
    reference = scene.sar.read(window.row0, window.col0, window.window_px, window.window_px)
    return scene, window, template, reference


def test_inspector_shows_the_sar_window_the_engine_matched_after_a_coarse_offset(shifted_run):
    from sarcoreg.core.revisit import read_window

    result, sar, config = shifted_run
    coarse = result.report["coarse_offset"]
    assert coarse["applied"] and abs(coarse["dx_px"] - 60) <= 2 and abs(coarse["dy_px"]) <= 2, coarse
    checked = 0
    for tp in result.tiepoints:
        if not tp.matched or (tp.win_row, tp.win_col) not in ((0, 0), (1, 1), (2, 3)):
            continue
        images = read_window(result.outdir, tp.win_row, tp.win_col, tp.similarity, (tp.dx_px, tp.dy_px),
                             rerun=False)
        scene, window, template, reference = _engine_windows(sar, config, (tp.win_row, tp.win_col))
        np.testing.assert_array_equal(images.template, template)
        np.testing.assert_array_equal(images.reference, reference)
        # the recorded peak lies inside the similarity map, where the matcher finds it again
        assert images.similarity is not None
        rows, cols = images.similarity.shape
        pr, pc = images.peak_rc
        assert 0 <= pr <= rows - 1 and 0 <= pc <= cols - 1, (images.peak_rc, images.similarity.shape)
        from sarcoreg.core.coregister import make_matcher
        again = make_matcher(config).match(images.template, images.reference)
        assert again.ok
        assert abs(again.row - pr) < 1e-3 and abs(again.col - pc) < 1e-3, ((again.row, again.col), images.peak_rc)
        # and the similarity map's maximum is at that peak
        best = np.unravel_index(np.nanargmax(images.similarity), images.similarity.shape)
        assert abs(best[0] - pr) <= 1 and abs(best[1] - pc) <= 1, (best, images.peak_rc)
        checked += 1
    assert checked >= 2


def test_inspector_without_the_recorded_offset_would_show_another_window(shifted_run):
    """The test above can fail: the window laid out again *without* the coarse offset differs."""
    from sarcoreg.core.coregister import prepare

    result, sar, config = shifted_run
    scene, window, _, reference = _engine_windows(sar, config, (0, 0))
    unshifted = prepare(OPT, sar, config)
    plain = unshifted.sar.read(window.row0, window.col0, window.window_px, window.window_px)
    assert scene.sar_offset_px != (0, 0)
    assert np.nanmax(np.abs(plain - reference)) > 1.0
    assert replace(unshifted, coarse=scene.coarse).sar_offset_px == scene.sar_offset_px


@pytest.mark.qgis
def test_a_window_the_run_flagged_unsure_says_so_in_the_inspector(shifted_run, tmp_path):
    """A window listed in report.json's ``unsure_windows`` (a learned matcher whose two views
    of the pair disagree) carries its note to the inspector's title and table; the others none."""
    import json
    import shutil

    from sarcoreg.core.revisit import read_window
    from sarcoreg.ui.inspector import InspectorPanel

    result, _, _ = shifted_run
    outdir = tmp_path / "out"
    shutil.copytree(result.outdir, outdir)
    report = json.loads((outdir / "report.json").read_text())
    flagged, plain = [tp for tp in result.tiepoints if tp.matched][:2]
    note = "unsure: translation alone and mind peaks 7.3 px apart"
    report["unsure_windows"] = [{"win_row": flagged.win_row, "win_col": flagged.win_col, "note": note}]
    (outdir / "report.json").write_text(json.dumps(report))
    panel = InspectorPanel()
    for tp, expected in ((flagged, note), (plain, "")):
        images = read_window(str(outdir), tp.win_row, tp.win_col, tp.similarity, (tp.dx_px, tp.dy_px), rerun=False)
        assert images.unsure == expected
        panel.show_point({"id": tp.id, "win_row": tp.win_row, "win_col": tp.win_col, "confidence": tp.confidence},
                         images)
        cells = {panel.table.item(r, 0).text(): panel.table.item(r, 1).text() for r in range(panel.table.rowCount())}
        if expected:
            assert panel.title.text().endswith("Flagged unsure: " + note) and cells["unsure"] == note
        else:
            assert "unsure" not in panel.title.text() and "unsure" not in cells
