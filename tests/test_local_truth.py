"""The s1s2_la truth at the scale of a window: the agreeing cells under a template give its
truth, cells that spread give none, a sample without a cell keeps its pair's residual, and the
protocol draws the same samples under either truth."""
import numpy as np
import pytest

from sarcoreg.core import sources as src
from sarcoreg.core.samples import Pair, SampleSpec

PAIR = Pair("T11SLT/999", "opt.tif", "sar.tif", 2.6, -1.2)


def _spec(opt_row, opt_col, R=256, T=192, oy=20, ox=30):
    iy, ix = round(PAIR.residual_dy_px), round(PAIR.residual_dx_px)
    return SampleSpec(0, PAIR, opt_row, opt_col, opt_row + iy - oy, opt_col + ix - ox,
                      oy + PAIR.residual_dy_px - iy, ox + PAIR.residual_dx_px - ix)


def test_local_truth_takes_the_cells_under_the_template():
    # cell centres 208 px apart, as scripts/measure_residuals.py --la lays them
    cells = np.array([[304, 304, 3.0, -1.0], [304, 512, 3.4, -0.6], [512, 304, 9.0, 4.0]], float)
    # a 192 px template centred at (300, 310): the square of 208 px holds the first cell only
    assert src.local_truth(cells, 300 - 96, 310 - 96, 192) == (3.0, -1.0)
    # centred between the cells of one row: the nearer one alone (the square is 208 px wide)
    assert src.local_truth(cells, 304 - 96, 420 - 96, 192) == (3.4, -0.6)
    # a 384 px template over the first two cells, which agree within 1 px: their mean
    dy, dx = src.local_truth(cells, 300 - 192, 410 - 192, 384)
    assert (dy, dx) == pytest.approx((3.2, -0.8))
    # over cells that spread (the third is 6 px off): the ground moves, no local truth
    assert src.local_truth(cells, 410 - 192, 310 - 192, 384) is None
    # no cell under the template, or no cell in the pair
    assert src.local_truth(cells, 800, 800, 192) is None
    assert src.local_truth(None, 300, 300, 192) is None


def test_with_local_truth_moves_the_truth_by_the_cell_and_keeps_the_rest():
    cells = {PAIR.pair_id: np.array([[304, 304, 3.0, -1.0]], float)}
    inside, outside = _spec(304 - 96, 304 - 96), _spec(700, 700)
    specs, n_pair = src.with_local_truth([inside, outside], cells, 256, 192)
    assert n_pair == 1 and len(specs) == 2
    # the same cut (template and window), the truth moved by the cell's residual minus the pair's
    assert (specs[0].opt_row, specs[0].sar_row, specs[0].sar_col) == (inside.opt_row, inside.sar_row, inside.sar_col)
    assert specs[0].true_row == pytest.approx(inside.true_row + 3.0 - 2.6)
    assert specs[0].true_col == pytest.approx(inside.true_col - 1.0 + 1.2)
    assert specs[1] == outside
    # a cell truth that would put the template outside its window keeps the pair's truth
    edge = _spec(304 - 96, 304 - 96, oy=0)
    far = {PAIR.pair_id: np.array([[304, 304, -2.0, -1.0]], float)}
    specs, n_pair = src.with_local_truth([edge], far, 256, 192)
    assert n_pair == 1 and specs[0] == edge


def test_unknown_la_truth_is_refused():
    with pytest.raises(src.InputError, match="upstream"):
        src.source_samples("nowhere", 256, 192, 4, la_truth="field")


@pytest.mark.shared_data
def test_cells_lie_on_the_grid_the_rule_assumes():
    cells = src.read_la_cells()
    assert len(cells) >= 60
    centres = np.unique(np.concatenate([c[:, 0] for c in cells.values()]))
    assert np.allclose(np.diff(centres), src.LA_CELL_STEP)


@pytest.mark.shared_data
def test_the_protocol_draws_the_same_samples_under_either_truth(shared_data):
    kw = dict(role="dev", sources=("s1s2_la",), check_truth=False)
    local = src.source_samples(str(shared_data), 256, 192, 24, 3, la_truth="local", **kw)[0]
    upstream = src.source_samples(str(shared_data), 256, 192, 24, 3, la_truth="upstream", **kw)[0]
    assert len(local.samples) == len(upstream.samples) == 24 and upstream.n_pair_truth == 0
    moved = 0
    for a, b in zip(local.samples, upstream.samples):
        assert a.sample_id == b.sample_id
        assert np.array_equal(a.template, b.template) and np.array_equal(a.reference, b.reference)
        moved += (a.true_row, a.true_col) != (b.true_row, b.true_col)
    # most 192 px templates lie over an agreeing cell; the others keep the pair's residual
    assert moved == 24 - local.n_pair_truth and moved >= 12
