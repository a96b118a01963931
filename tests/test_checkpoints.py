"""Check points (core/checkpoints.py): leave-one-out RMSE of each correction model."""
import numpy as np
import pytest

from sarcoreg.core import checkpoints as cp


def _refit_prediction_errors(xy, d, method):
    """The definition: refit without point k, predict it (slow, one fit per point)."""
    xyn = cp._normalise(np.asarray(xy, float))
    errors = []
    for k in range(len(xy)):
        keep = np.arange(len(xy)) != k
        if method == "tps":
            X = xyn[keep]
            n = len(X)
            P = cp._design(X, "affine")
            A = np.zeros((n + 3, n + 3))
            A[:n, :n] = cp._tps_kernel(((X[:, None] - X[None]) ** 2).sum(-1))
            A[:n, n:], A[n:, :n] = P, P.T
            rhs = np.zeros((n + 3, 2))
            rhs[:n] = d[keep]
            sol = np.linalg.solve(A, rhs)
            pred = cp._tps_kernel(((xyn[k] - X) ** 2).sum(-1)) @ sol[:n] + cp._design(xyn[k:k + 1], "affine") @ sol[n:]
        else:
            beta = np.linalg.lstsq(cp._design(xyn[keep], method), d[keep], rcond=None)[0]
            pred = cp._design(xyn[k:k + 1], method) @ beta
        errors.append(d[k] - pred.ravel())
    return np.array(errors)


def _grid(n=7, step=384.0):
    g = np.arange(n) * step
    return np.array([(x, y) for y in g for x in g]) + 1000.0


@pytest.mark.parametrize("method", cp.METHODS)
def test_closed_forms_equal_refitting_without_each_point(method):
    rng = np.random.default_rng(4)
    xy = rng.uniform(0, 8000, (25, 2))
    d = np.column_stack([3 * np.sin(xy[:, 0] / 1500), xy[:, 1] / 2000]) + rng.normal(0, 0.3, (25, 2))
    np.testing.assert_allclose(cp.loo_residuals(xy, d, method), _refit_prediction_errors(xy, d, method), atol=1e-8)


def test_a_shift_that_follows_the_ground_asks_for_a_spline_and_noise_for_the_simplest_model():
    xy = _grid()
    rng = np.random.default_rng(0)
    # terrain-like: the shift along x rises and falls with a ridge, 4 px peak to peak
    ridge = np.column_stack([2 * np.sin((xy[:, 0] + 0.7 * xy[:, 1]) / 700), 0.2 * np.cos(xy[:, 1] / 900)])
    res = cp.check_points(xy, ridge + rng.normal(0, 0.05, ridge.shape))
    assert res["suggested_warp"] == "tps" and res["n"] == 49
    assert res["rmse_px"]["tps"] < 0.5 * res["rmse_px"]["affine"]
    # one shift plus independent errors: nothing beats the simplest warp
    flat = np.array([1.5, -0.8]) + rng.normal(0, 0.5, (49, 2))
    res = cp.check_points(xy, flat)
    assert res["suggested_warp"] == "affine"
    assert res["rmse_px"]["tps"] > res["rmse_px"]["affine"]


def test_too_few_or_collinear_points_give_no_model_rather_than_a_wrong_one():
    line = np.column_stack([np.arange(12) * 100.0, np.zeros(12)])
    d = np.ones((12, 2))
    res = cp.check_points(line, d)
    assert res["rmse_px"]["translation"] == pytest.approx(0.0)
    assert res["rmse_px"]["affine"] is None and res["rmse_px"]["poly2"] is None and res["rmse_px"]["tps"] is None
    assert res["suggested_warp"] is None
    few = cp.check_points(_grid(3), np.ones((9, 2)))     # 9 < SUGGEST_MIN_POINTS: figures, no advice
    assert few["rmse_px"]["affine"] == pytest.approx(0.0, abs=1e-9) and few["suggested_warp"] is None
    assert cp.check_points(np.zeros((0, 2)), np.zeros((0, 2)))["rmse_px"]["translation"] is None


def test_the_report_says_when_overlapping_templates_flatter_the_spline():
    from sarcoreg.core.results import TiePoint

    pts = [TiePoint(id=i, win_row=i // 4, win_col=i % 4, x_opt=100.0 * (i % 4), y_opt=-100.0 * (i // 4),
                    x_sar=0.0, y_sar=0.0, dx_px=1.0 + 0.01 * i, dy_px=-0.5, dx_m=0.0, dy_m=0.0, shift_m=0.0,
                    angle_deg=0.0, score=1.0, confidence=1.0, outlier=int(i == 3), outlier_reason="",
                    matcher="cfog", similarity="") for i in range(16)]
    apart = cp.tiepoint_check_points(pts, 10.0)
    assert apart["n"] == 15 and "note" not in apart       # the outlier is not a check point
    assert "share pixels" in cp.tiepoint_check_points(pts, 10.0, overlapping=True)["note"]


def test_format_rmse_names_each_model_or_says_why_there_is_none():
    res = cp.check_points(_grid(), np.zeros((49, 2)) + 1.0)
    assert cp.format_rmse(res).startswith("translation 0.00, affine 0.00")
    assert cp.format_rmse(cp.check_points(np.zeros((1, 2)), np.ones((1, 2)))) == "too few inliers (1)"
    assert cp.summary_line(res).endswith("best warp: --warp affine")
    assert cp.summary_line(cp.check_points(np.zeros((1, 2)), np.ones((1, 2)))) is None


def test_a_large_scene_checks_the_spline_on_an_even_subset():
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 50000, (cp.TPS_MAX_POINTS + 700, 2))
    d = np.column_stack([np.sin(xy[:, 0] / 4000), np.zeros(len(xy))]) + rng.normal(0, 0.1, xy.shape)
    res = cp.check_points(xy, d)
    assert res["n"] == len(xy) and res["tps_points"] == cp.TPS_MAX_POINTS
    assert all(v is not None for v in res["rmse_px"].values())
    assert "tps_points" not in cp.check_points(xy[:50], d[:50])
