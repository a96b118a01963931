"""The held-out pairs of other sensors (scripts/heldout_eval.py) and the truth check (scripts/truth_check.py)."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from sarcoreg.core.matchers import get_matcher
from sarcoreg.core.samples import cut_sample, sample_specs

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "heldout_eval.py"


def _script(name: str = "heldout_eval"):
    """One of the scripts/ diagnostics, imported from its file."""
    spec = importlib.util.spec_from_file_location(name, SCRIPT.with_name(f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _uavsar(shared_data):
    """``(optical, radar)`` paths of the UAVSAR / aerial pair, or skip."""
    folder = shared_data / "gefolki_uavsar"
    radar, optical = sorted(folder.glob("*_radar.tif")), sorted(folder.glob("*_optique.tif"))
    if not (radar and optical):
        pytest.skip("no gefolki_uavsar pair in the shared data")
    return optical[0], radar[0]


@pytest.mark.shared_data
def test_heldout_pairs_load_and_cfog_finds_the_offsets(shared_data):
    loaded = _script().load_pairs(shared_data)
    ids = [p.pair_id for p, _, _ in loaded]
    if not ids:
        pytest.skip("no held-out pairs (hetero_cd/, cfog_visible1/, gefolki_*/) in the shared data")
    for p, opt, sar in loaded:
        assert opt.shape == sar.shape and opt.dtype == np.float32
        assert np.isfinite(sar).mean() > 0.95, p.pair_id      # dB; only a Pauli image's black border is NaN
    specs = sample_specs([p for p, _, _ in loaded], 256, 192, 8, seed=3, shapes=[o.shape for _, o, _ in loaded])
    images = {p.pair_id: (o, s) for p, o, s in loaded}
    cfog = get_matcher("cfog")
    errors = []
    for sp in specs:
        s = cut_sample(sp, *images[sp.pair.pair_id], 256, 192)
        m = cfog.match(s.template, s.reference)
        errors.append(np.hypot(m.row - s.true_row, m.col - s.true_col))
    assert np.mean(np.array(errors) <= 3) >= 0.75, errors


def test_main_says_what_is_missing(tmp_path, capsys):
    assert _script().main(["--data", str(tmp_path), "--samples", "2"]) == 2
    assert "no held-out pairs" in capsys.readouterr().err


@pytest.mark.shared_data
def test_truth_check_counts_agreeing_misses(shared_data, capsys):
    mod = _script("truth_check")
    assert mod.main(["--data", str(shared_data), "--samples", "4", "--matchers", "cfog,mind"]) == 0
    out = capsys.readouterr().out
    assert "4 val samples at 256/192" in out and "agree within 1.5 px but both miss" in out


@pytest.mark.shared_data
def test_check_shift_recovers_a_known_shift_on_a_geographic_scene(shared_data, tmp_path, capsys):
    """The scene-level check on a pair the code never trained on (UAVSAR / aerial, EPSG:4326)."""
    optical, radar = _uavsar(shared_data)
    assert _script("check_shift").main([str(optical), str(radar), "--shift-px", "9.5", "-6.25", "-o", str(tmp_path),
                     "--matcher", "cfog", "--extra", "--window 256 --template 192 --spacing 192"]) == 0
    out = capsys.readouterr().out
    summary = json.loads(out[out.index("{"):])
    assert summary["working_crs"].startswith("EPSG:326")          # geographic -> its UTM zone
    assert summary["matched"] >= 9
    assert summary["matched_within_2px"] >= 0.9
    assert summary["inlier_median_error_px"] < 1.0


@pytest.mark.shared_data
def test_truth_spread_carries_a_known_shift_through_its_grid(shared_data):
    """Moving the SAR content by (+3, -2) px moves every measured local displacement by exactly that."""
    from sarcoreg.core.samples import list_pairs, load_pair

    mod = _script("truth_spread")
    pair = list_pairs(str(shared_data), "val")[0]
    optical, sar = load_pair(pair)
    moved = np.roll(sar, (3, -2), axis=(0, 1))        # content at (y, x) now sits at (y + 3, x - 2)
    cfog = [get_matcher("cfog")]
    dy, dx = pair.residual_dy_px, pair.residual_dx_px
    before = mod.grid_offsets(optical, sar, dy, dx, 256, 192, 2, cfog)
    after = mod.grid_offsets(optical, moved, dy + 3, dx - 2, 256, 192, 2, cfog)
    assert before.shape == after.shape == (4, 1, 2)
    np.testing.assert_allclose(after - before, np.broadcast_to([3.0, -2.0], before.shape), atol=0.05)


def test_truth_spread_axis_angle_and_missing_data(tmp_path, capsys):
    mod = _script("truth_spread")
    a = np.tan(np.radians(13.0))
    assert mod.axis_angle_deg(np.array([[a, 1.0], [-2 * a, -2.0]])) == pytest.approx(13.0)
    assert mod.axis_angle_deg(np.array([[-a, 1.0], [a, -1.0]])) == pytest.approx(-13.0)
    assert mod.main(["--data", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("truth_spread: ")


@pytest.mark.shared_data
def test_check_warp_measures_a_known_misalignment_without_a_truth(shared_data, tmp_path):
    """The check of corrected rasters: a SAR moved by (+4 cols, +3 rows) reads as that misalignment."""
    from osgeo import gdal

    from sarcoreg.core.demo import shift_georeferencing

    optical, radar = _uavsar(shared_data)
    mod = _script("check_warp")
    gt = gdal.Open(str(radar)).GetGeoTransform()
    moved = shift_georeferencing(str(radar), str(tmp_path / "moved.vrt"), 4 * gt[1], 3 * gt[5])
    ms = [get_matcher("cfog"), get_matcher("mind")]
    base, tried = mod.misalignment(str(optical), str(radar), 256, 192, 320, "amplitude", ms)
    shifted, _ = mod.misalignment(str(optical), moved, 256, 192, 320, "amplitude", ms)
    assert tried >= 3 and len(base) >= 3 and len(shifted) >= 3      # one window holds the black border
    assert np.median(np.hypot(*base.T)) < 1.0                    # aligned upstream (about 0.45 px)
    np.testing.assert_allclose(np.median(shifted, axis=0) - np.median(base, axis=0), [3.0, 4.0], atol=0.5)
