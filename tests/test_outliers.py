import numpy as np

from sarcoreg.core.outliers import ransac_fit


def test_ransac_recovers_affine_and_flags_gross_errors():
    rng = np.random.default_rng(3)
    src = rng.uniform(0, 5000, size=(40, 2))
    a = np.array([[1.0005, 0.0002, 3.2], [-0.0003, 0.9996, -1.7]])
    dst = src @ a[:, :2].T + a[:, 2] + rng.normal(0, 0.2, size=src.shape)
    bad = [3, 11, 27]
    dst[bad] += np.array([[25, -9], [-14, 30], [8, 8]])
    fit = ransac_fit(src, dst, threshold_px=1.5, seed=0)
    assert fit.model == "affine"
    assert not fit.inliers[bad].any() and fit.inliers.sum() == 37
    assert np.allclose(fit.matrix, a, atol=0.05) and fit.rmse_px < 0.5
    again = ransac_fit(src, dst, threshold_px=1.5, seed=0)
    assert np.array_equal(again.matrix, fit.matrix)  # fixed seed: reproducible


def test_few_or_collinear_points_fall_back_to_a_translation():
    src = np.array([[0.0, 0.0], [100.0, 0.0], [200.0, 0.0], [300.0, 0.0], [400.0, 0.0], [500.0, 0.0], [600.0, 0.0]])
    dst = src + [2.0, -1.0]
    dst[5] += [40, 0]
    fit = ransac_fit(src, dst, threshold_px=1.0)
    assert fit.model == "translation"
    assert np.allclose(fit.matrix[:, 2], [2.0, -1.0]) and fit.inliers.tolist() == [1, 1, 1, 1, 1, 0, 1]
    assert ransac_fit(np.zeros((0, 2)), np.zeros((0, 2)), 1.0).model == "none"


def test_local_outliers_follow_a_smoothly_varying_field():
    from sarcoreg.core.outliers import local_outliers
    cells = np.array([[r, c] for r in range(5) for c in range(5)], float)
    shifts = np.column_stack([cells[:, 1] * 0.8, np.full(25, 2.0)])  # a smooth 3.2 px ramp in x
    shifts[12] += [3.0, -2.5]
    flags = local_outliers(cells, shifts, threshold_px=2.0)
    assert flags.tolist() == [i == 12 for i in range(25)]
    assert not local_outliers(cells[:2], shifts[:2], 2.0).any()  # too few neighbours: kept
