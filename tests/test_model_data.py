"""Training samples from folders of real pairs: the s1s2_la layout and plain PNG pairs
(OSdataset ``opt/``+``sar/`` and SEN1-2 ``s1_*``/``s2_*`` conventions)."""
import numpy as np
import pytest

pytest.importorskip("scipy", reason="scipy is needed for the geometric augmentation")

from sarcoreg.core.samples import list_pairs, load_pair  # noqa: E402
from sarcoreg.models.dcdm.data import Augment, PairBank, add_speckle_db, find_pairs  # noqa: E402


def _write_png(path, array):
    from osgeo import gdal

    path.parent.mkdir(parents=True, exist_ok=True)
    mem = gdal.GetDriverByName("MEM").Create("", array.shape[1], array.shape[0], 1, gdal.GDT_Byte)
    mem.GetRasterBand(1).WriteArray(array)
    gdal.GetDriverByName("PNG").CreateCopy(str(path), mem)
    mem = None


@pytest.fixture(scope="module")
def png_root(tmp_path_factory, shared_data):
    """Small PNG pairs cut from a real s1s2_la pair, in both folder conventions."""
    pair = list_pairs(str(shared_data), "all")[0]
    opt, sar = load_pair(pair)
    iy, ix = int(round(pair.residual_dy_px)), int(round(pair.residual_dx_px))
    root = tmp_path_factory.mktemp("pngpairs")
    for k, (r, c) in enumerate([(100, 120), (400, 380)]):
        o = opt[r:r + 200, c:c + 200]
        s = sar[r + iy:r + iy + 200, c + ix:c + ix + 200]
        o8 = np.clip((o - np.nanmin(o)) / (np.nanmax(o) - np.nanmin(o)) * 255, 0, 255).astype(np.uint8)
        s8 = np.clip(10 ** (s / 20.0), 0, 255).astype(np.uint8)
        _write_png(root / "osdata" / "opt" / f"p{k}.png", o8)
        _write_png(root / "osdata" / "sar" / f"p{k}.png", s8)
        _write_png(root / "sen12" / "ROIs1158_spring" / "s1_7" / f"ROIs1158_spring_s1_7_p{k}.png", s8)
        _write_png(root / "sen12" / "ROIs1158_spring" / "s2_7" / f"ROIs1158_spring_s2_7_p{k}.png", o8)
    return root


@pytest.mark.shared_data
def test_png_conventions_are_found(png_root):
    pairs = find_pairs(str(png_root), "all")
    assert len(pairs) == 4
    os_pairs = [p for p in pairs if "osdata" in p.pair_id]
    sen = [p for p in pairs if "sen12" in p.pair_id]
    assert len(os_pairs) == 2 and len(sen) == 2
    assert all(p.optical_path.endswith(".png") and "_s2_" in p.optical_path for p in sen)
    assert all(p.residual_dy_px == 0 and p.residual_dx_px == 0 for p in pairs)
    split = {p.pair_id: p.split for p in pairs}
    assert split == {p.pair_id: p.split for p in find_pairs(str(png_root), "all")}   # deterministic


@pytest.mark.shared_data
def test_sample_truth_points_at_the_sar_under_the_template(png_root):
    bank = PairBank(find_pairs(str(png_root), "all"), seed=3)
    for _ in range(4):
        tm, rf, st, tr, tc = bank.sample(96, 64, augment=False)
        assert tm.shape == st.shape == (64, 64) and rf.shape == (96, 96)
        assert tr == int(tr) and 0 <= tr <= 32 and 0 <= tc <= 32
        under = rf[int(tr):int(tr) + 64, int(tc):int(tc) + 64]
        # both are the same SAR pixels, normalised on their own
        assert np.corrcoef(under.ravel(), st.ravel())[0, 1] > 0.999


@pytest.mark.shared_data
def test_s1s2_la_samples_with_augmentation(shared_data):
    pairs = find_pairs(str(shared_data), "train")[:2]
    bank = PairBank(pairs, Augment(), seed=0)
    tm, rf, st, truth = bank.batch(3, 160, 96)
    assert tm.shape == (3, 1, 96, 96) and rf.shape == (3, 1, 160, 160) and st.shape == (3, 1, 96, 96)
    assert truth.shape == (3, 2) and np.all((truth > -1) & (truth < 65))
    for a in (tm, rf, st):
        assert np.isfinite(a).all() and abs(float(a.mean())) < 0.5


def test_speckle_is_multiplicative_with_unit_mean():
    rng = np.random.default_rng(0)
    flat = np.full((200, 200), -10.0, dtype=np.float32)
    out = add_speckle_db(flat, 4.0, rng)
    linear = 10 ** (out / 10.0) / 10 ** (-1.0)
    assert abs(float(linear.mean()) - 1) < 0.02
    assert abs(float(linear.var()) - 1 / 4.0) < 0.02


def test_warp_moves_the_centre_by_a_fraction_of_a_pixel():
    from sarcoreg.models.dcdm.data import _warp

    y, x = np.mgrid[0:40, 0:40].astype(np.float64)
    ramp = 2 * y + 3 * x                     # bilinear interpolation is exact on a plane
    out = _warp(ramp, 0.0, 1.0, 20, shift=(0.3, -0.4))
    i, j = np.mgrid[0:20, 0:20]
    np.testing.assert_allclose(out, 2 * (i + 10 + 0.3) + 3 * (j + 10 - 0.4), atol=1e-4)


@pytest.mark.shared_data
def test_sar_target_sits_at_the_sub_pixel_truth(shared_data):
    """The SAR target is the reference read at the (fractional) truth, not at its rounding."""
    from scipy.ndimage import map_coordinates

    pairs = [p for p in find_pairs(str(shared_data), "train")
             if abs(p.residual_dx_px - round(p.residual_dx_px)) > 0.2][:1]
    assert pairs, "no s1s2_la training pair with a fractional residual"
    bank = PairBank(pairs, seed=5)
    for _ in range(3):
        tm, rf, st, tr, tc = bank.sample(160, 96, augment=False)
        assert tc != int(tc)
        i, j = np.mgrid[0:96, 0:96].astype(np.float64)
        exact = map_coordinates(rf, [i + tr, j + tc], order=1)
        rounded = rf[int(round(tr)):int(round(tr)) + 96, int(round(tc)):int(round(tc)) + 96]
        c_exact = np.corrcoef(exact.ravel(), st.ravel())[0, 1]
        assert c_exact > 0.995
        c_rounded = np.corrcoef(rounded.ravel(), st.ravel())[0, 1]
        assert c_exact > c_rounded + 0.01, (c_exact, c_rounded)


@pytest.mark.shared_data
def test_anchored_pairs_draw_templates_inside_their_cells(shared_data):
    """With anchors, a template lies inside one of the pair's cells and the truth is that
    cell's residual (its fraction of a pixel shows in the sub-pixel truth)."""
    from sarcoreg.core.dcdm.contract import prepare
    from sarcoreg.core.matchers.kernels import zncc_surface
    from sarcoreg.models.dcdm.data import CELL_PX

    pair = find_pairs(str(shared_data), "train")[0]
    dy, dx = round(pair.residual_dy_px) + 0.3, round(pair.residual_dx_px) - 0.4
    cy, cx = 400, 600
    bank = PairBank([pair], seed=2, anchors={pair.pair_id: np.array([[cy, cx, dy, dx]])})
    opt = load_pair(pair)[0]
    for _ in range(3):
        tm, rf, st, tr, tc = bank.sample(160, 96, augment=False)
        assert (tr - round(tr), tc - round(tc)) == pytest.approx((0.3, -0.4), abs=1e-6)
        r0, c0 = cy - CELL_PX // 2, cx - CELL_PX // 2
        surface = zncc_surface(tm, prepare(opt[r0:r0 + CELL_PX, c0:c0 + CELL_PX]))
        assert float(np.nanmax(surface)) > 0.999        # the template is cut from inside the cell


@pytest.mark.shared_data
def test_local_anchors_give_the_truth_of_the_cell_under_the_template(shared_data):
    """With ``anchor_mode="under"`` templates are drawn anywhere: under the cell they take its
    residual, elsewhere the pair's (the evaluation's ``local`` truth)."""
    pair = find_pairs(str(shared_data), "train")[0]
    dy, dx = round(pair.residual_dy_px) + 0.3, round(pair.residual_dx_px) - 0.4
    cells = np.array([[cy, cx, dy, dx] for cy in (304.0, 512.0, 720.0) for cx in (304.0, 512.0, 720.0)])
    bank = PairBank([pair], seed=4, anchors={pair.pair_id: cells}, anchor_mode="under")
    pair_frac = (pair.residual_dy_px - round(pair.residual_dy_px), pair.residual_dx_px - round(pair.residual_dx_px))
    seen = {"cell": 0, "pair": 0}
    for _ in range(40):
        tr, tc = bank.sample(160, 96, augment=False)[3:]
        frac = (tr - round(tr), tc - round(tc))
        if frac == pytest.approx((0.3, -0.4), abs=1e-6):
            seen["cell"] += 1
        else:
            assert frac == pytest.approx(pair_frac, abs=1e-6)
            seen["pair"] += 1
    # the 208 px squares around the nine cells cover about half of the places a template can take
    assert seen["pair"] >= 8 and seen["cell"] >= 8, seen
    with pytest.raises(ValueError, match="inside or under"):
        PairBank([pair], anchor_mode="near")
