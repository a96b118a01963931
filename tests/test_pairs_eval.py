"""The evaluation protocol on a user's own pairs (``sarcoreg evaluate --pairs``), on the bundled
real Sentinel-1/2 demo pair moved by a known shift, and on shared pairs of other kinds."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sarcoreg.core.demo import DEMO_DIR, DEMO_SHIFT_M, shift_georeferencing
from sarcoreg.core.errors import InputError
from sarcoreg.core.pairs_eval import OVERALL, evaluate_pairs, format_pairs_markdown, read_eval_pairs

PIXEL_M = 10.0


@pytest.fixture(scope="module")
def moved(tmp_path_factory):
    """The demo pair with the SAR's georeferencing moved by ``DEMO_SHIFT_M``, and the move in
    working-grid pixels (rows down, cols right)."""
    d = tmp_path_factory.mktemp("pairs")
    sar = shift_georeferencing(str(DEMO_DIR / "demo_sar.tif"), str(d / "sar_moved.vrt"), *DEMO_SHIFT_M)
    return d, sar, (-DEMO_SHIFT_M[1] / PIXEL_M, DEMO_SHIFT_M[0] / PIXEL_M)


def _csv(path: Path, rows, header="optical,sar,name,dy,dx") -> Path:
    path.write_text(header + "\n" + "\n".join(",".join(str(v) for v in r) for r in rows) + "\n")
    return path


def _score(ev, matcher, window_px, pair=OVERALL):
    return next(r.score for r in ev.scores if r.pair == pair and r.score.matcher == matcher
                and r.score.window_px == window_px)


def test_known_shift_is_found_and_a_missing_one_is_flagged(moved):
    """The pair's own residual is not known to a tenth of a pixel (the published one is a
    median over the whole pair), so the test works with differences, as the demo does: the
    truth check on the unmoved pair measures its residual, the moved pair's must differ by the
    move; given that truth, the matchers score well and the check is content."""
    d, sar, (my, mx) = moved
    opt = DEMO_DIR / "demo_opt.tif"
    kw = dict(settings=((512, 384),), n_per_pair=10, seed=3)
    both = ["mind", "textbook-cfog"]
    (c0,) = evaluate_pairs(_csv(d / "orig.csv", [(opt, DEMO_DIR / "demo_sar.tif", "orig", 0, 0)]), both, **kw).checks
    ev = evaluate_pairs(_csv(d / "moved.csv", [(opt, sar, "moved", 0, 0)]), both, **kw)
    (c1,) = ev.checks
    assert c0.n_agree >= 8 and c1.n_agree >= 8
    assert c1.median_dy - c0.median_dy == pytest.approx(my, abs=0.5)
    assert c1.median_dx - c0.median_dx == pytest.approx(mx, abs=0.5)
    assert c1.suspect and "the truth may be off" in format_pairs_markdown(ev)
    assert _score(ev, "mind", 512).cmr1 < 0.3
    dy, dx = c0.median_dy + my, c0.median_dx + mx
    ev = evaluate_pairs(_csv(d / "right.csv", [(opt, sar, "moved", dy, dx)]), both, **kw)
    for m in both:
        assert _score(ev, m, 512).cmr3 >= 0.9
    (c2,) = ev.checks
    assert not c2.suspect and np.hypot(c2.median_dy, c2.median_dx) < 0.5


def test_every_pair_and_overall_are_scored_and_small_pairs_left_out(moved, tmp_path):
    d, sar, _ = moved
    from osgeo import gdal

    opt = str(DEMO_DIR / "demo_opt.tif")
    # a 300 px corner of the pair: it fits 256/192, not 512/384
    small_opt, small_sar = str(tmp_path / "small_opt.tif"), str(tmp_path / "small_sar.tif")
    gdal.Translate(small_opt, opt, srcWin=[0, 0, 300, 300])
    gdal.Translate(small_sar, str(DEMO_DIR / "demo_sar.tif"), srcWin=[0, 0, 300, 300])
    y0, x0 = json.loads((DEMO_DIR / "demo_pair.json").read_text())["residual_shift_px"]
    csv_path = _csv(tmp_path / "pairs.csv", [(opt, sar, "whole", 0, 0), (small_opt, small_sar, "corner", y0, x0)])
    infos = []

    class Feedback:
        def set_progress(self, p):
            infos.append(p)

        def info(self, m):
            infos.append(m)

        def is_canceled(self):
            return False

    ev = evaluate_pairs(csv_path, ["cfog"], n_per_pair=4, seed=1, feedback=Feedback())
    assert {(r.pair, r.score.window_px) for r in ev.scores} == {
        ("whole", 256), ("corner", 256), (OVERALL, 256), ("whole", 512), (OVERALL, 512)}
    assert _score(ev, "cfog", 256).n == 8 and _score(ev, "cfog", 512).n == 4
    assert any(re.match(r"corner: \d+ x \d+ px is too small for a 512 px window", str(m)) for m in infos)
    assert max(p for p in infos if isinstance(p, float)) == pytest.approx(100.0)
    assert ev.checks == []          # one classical matcher: nothing to check the truth against


def test_bad_rows_are_refused_with_one_line(tmp_path, moved):
    d, sar, _ = moved
    opt = DEMO_DIR / "demo_opt.tif"
    with pytest.raises(InputError, match="line 2: dy 'abc'.*not numbers"):
        read_eval_pairs(_csv(tmp_path / "a.csv", [(opt, sar, "x", "abc", 0)]))
    with pytest.raises(InputError, match="sar_kind 'linear' is unknown"):
        read_eval_pairs(_csv(tmp_path / "b.csv", [(opt, sar, "linear")], header="optical,sar,sar_kind"))
    with pytest.raises(InputError, match="no such file"):
        evaluate_pairs(_csv(tmp_path / "c.csv", [(tmp_path / "none.tif", sar, "x", 0, 0)]), ["cfog"])
    # two images of different sizes without georeferencing cannot be one grid
    from osgeo import gdal

    a, b = str(tmp_path / "a.png"), str(tmp_path / "b.png")
    gdal.Translate(a, str(opt), format="PNG", srcWin=[0, 0, 300, 300], bandList=[1])
    gdal.Translate(b, str(DEMO_DIR / "demo_sar.tif"), format="PNG", srcWin=[0, 0, 280, 300])
    for aux in tmp_path.glob("*.aux.xml"):      # GDAL keeps the georeferencing beside a PNG
        aux.unlink()
    with pytest.raises(InputError, match="differ in size and are not both georeferenced"):
        evaluate_pairs(_csv(tmp_path / "d.csv", [(a, b, "png", 0, 0)]), ["cfog"], settings=((256, 192),))
    # a setting that no pair fits is refused before anything is matched
    with pytest.raises(InputError, match="no pair is large enough for a 512 px window: use a smaller --settings"):
        evaluate_pairs(_csv(tmp_path / "f.csv", [(a, a, "png", 0, 0)]), ["cfog"])
    # rows by position, without a header, are taken as aligned
    (p,) = read_eval_pairs(_csv(tmp_path / "e.csv", [(opt, sar)], header="# no header"))
    assert (p.dy, p.dx, p.sar_kind) == (0.0, 0.0, "auto")


def test_command_line_writes_json_atomically_and_refuses_mixed_options(moved, tmp_path):
    d, sar, (dy, dx) = moved
    csv_path = _csv(tmp_path / "pairs.csv", [(DEMO_DIR / "demo_opt.tif", sar, "moved", 1.6 + dy, 0.3 + dx)])
    out = tmp_path / "res.json"
    run = subprocess.run([sys.executable, "-m", "sarcoreg", "evaluate", "--pairs", str(csv_path), "--matchers",
                          "cfog,mind", "--settings", "256/192", "--samples", "5", "--json", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "| 256 / 192 | moved | cfog | 5 |" in run.stdout and "Truth check" in run.stdout
    data = json.loads(out.read_text())
    assert data["format"] == "sarcoreg-evaluate-pairs/1"
    assert {(r["pair"], r["matcher"]) for r in data["results"]} == {
        ("moved", "cfog"), ("moved", "mind"), ("overall", "cfog"), ("overall", "mind")}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    bad = subprocess.run([sys.executable, "-m", "sarcoreg", "evaluate", "--pairs", str(csv_path), "--noise", "0.1"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "drop --protocol" in bad.stderr
    bad = subprocess.run([sys.executable, "-m", "sarcoreg", "evaluate", "--json", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "--json is written for --pairs only" in bad.stderr


def test_the_learned_matcher_runs_in_the_protocol(moved, tmp_path):
    from sarcoreg.core.matchers import matcher_names

    if "dcdm" not in matcher_names():
        pytest.skip("the learned matcher's model or ONNX Runtime is not installed")
    d, sar, (dy, dx) = moved
    # the pair's residual as the truth check measures it (test above), plus the move
    csv_path = _csv(tmp_path / "pairs.csv", [(DEMO_DIR / "demo_opt.tif", sar, "moved", 1.6 + dy, 0.3 + dx)])
    ev = evaluate_pairs(csv_path, ["dcdm"], settings=((256, 192),), n_per_pair=3, seed=0)
    s = _score(ev, "dcdm", 256)
    assert s.n == 3 and s.cmr5 >= 2 / 3 and s.n_failed == 0


@pytest.mark.shared_data
def test_plain_and_geographic_shared_pairs(shared_data, tmp_path):
    """An OMBRIA PNG pair (no georeferencing, one grid by size) and the UAVSAR pair (EPSG:4326:
    read on the UTM working grid); both are aligned upstream."""
    s1 = sorted((shared_data / "ombria" / "OmbriaS1" / "test" / "BEFORE").glob("S1_before_*.png"))
    uav = sorted((shared_data / "gefolki_uavsar").glob("*_radar.tif"))
    if not s1 or not uav:
        pytest.skip("the OMBRIA test folder or the UAVSAR pair is missing from the shared data")
    s2 = Path(str(s1[0]).replace("OmbriaS1", "OmbriaS2").replace("S1_before", "S2_before"))
    opt_uav = Path(str(uav[0]).replace("_radar.tif", "_optique.tif"))
    csv_path = _csv(tmp_path / "pairs.csv", [(s2, s1[0], "ombria", 0, 0), (opt_uav, uav[0], "uavsar", 0, 0)])
    ev = evaluate_pairs(csv_path, ["mind", "textbook-cfog"], settings=((256, 192),), n_per_pair=6, seed=0)
    grids = {r.pair: r.grid for r in ev.scores}
    assert grids["ombria"].startswith("one grid by size") and "EPSG:326" in grids["uavsar"]
    for pair in ("ombria", "uavsar"):
        assert _score(ev, "mind", 256, pair).cmr5 == 1.0
    assert not any(c.suspect for c in ev.checks)
