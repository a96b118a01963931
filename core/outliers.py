"""Robust global fit and outlier flags: pure numpy, no state, fixed seed.

Three levels, like the best co-registration tools:
1. the matcher's own verdict: a failed window (``no_match:<status>``), a peak on the border
   of the search area (``search_edge``) or a confidence below the threshold
   (``low_confidence``);
2. a robust global model fitted by RANSAC with a fixed seed (affine when there are at least
   ``MIN_AFFINE_POINTS`` candidates spread in 2-D, a translation otherwise);
   a point further than ``threshold_px`` from that model is flagged ``ransac``;
3. a point whose shift departs from the median of its neighbouring windows is flagged
   ``local`` (shifts may vary over a scene with terrain, so the global model is kept loose).
Points are flagged, never dropped.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

MIN_AFFINE_POINTS = 6


@dataclass(frozen=True)
class GlobalFit:
    model: str                 # "affine" | "translation" | "none"
    matrix: np.ndarray         # (2, 3): dst = M[:, :2] @ src + M[:, 2]
    inliers: np.ndarray        # (N,) bool over the candidates given
    rmse_px: float             # RMS residual of the inliers

    def apply(self, src: np.ndarray) -> np.ndarray:
        return src @ self.matrix[:, :2].T + self.matrix[:, 2]

    def to_dict(self) -> dict:
        return {"model": self.model, "matrix": self.matrix.tolist(),
                "inliers": int(self.inliers.sum()), "rmse_px": self.rmse_px}


def fit_affine(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares affine ``(2, 3)`` with ``dst ≈ A @ src + t``; ``src, dst`` are ``(N, 2)``."""
    design = np.column_stack([src, np.ones(len(src))])
    sol, *_ = np.linalg.lstsq(design, dst, rcond=None)
    return sol.T


def fit_translation(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    t = np.median(dst - src, axis=0)
    return np.array([[1.0, 0.0, t[0]], [0.0, 1.0, t[1]]])


def _residuals(matrix: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    return np.linalg.norm(src @ matrix[:, :2].T + matrix[:, 2] - dst, axis=1)


def _spread_2d(src: np.ndarray) -> bool:
    if len(src) < 3:
        return False
    s = np.linalg.svd(src - src.mean(axis=0), compute_uv=False)
    return s[-1] > 1e-6 * max(s[0], 1e-12)


def ransac_fit(src: np.ndarray, dst: np.ndarray, threshold_px: float,
               iterations: int = 2000, seed: int = 0) -> GlobalFit:
    """Robust model ``dst ≈ f(src)`` for points ``(N, 2)`` (any consistent pixel frame).

    Affine from 3-point samples when ``N >= MIN_AFFINE_POINTS`` and the points are spread in
    2-D; else a translation from 1-point samples.  The consensus set is refitted by least
    squares (twice), so the result does not depend on which sample won.
    """
    n = len(src)
    if n == 0:
        return GlobalFit("none", np.array([[1.0, 0, 0], [0, 1.0, 0]]), np.zeros(0, bool), float("nan"))
    rng = np.random.default_rng(seed)
    use_affine = n >= MIN_AFFINE_POINTS and _spread_2d(src)
    k = 3 if use_affine else 1
    fit = fit_affine if use_affine else fit_translation
    best_inl: Optional[np.ndarray] = None
    best_key = (-1, np.inf)
    trials = iterations if n > k else 1
    for _ in range(trials):
        idx = rng.choice(n, size=k, replace=False) if n > k else np.arange(n)
        if use_affine and not _spread_2d(src[idx]):
            continue
        m = fit(src[idx], dst[idx])
        res = _residuals(m, src, dst)
        inl = res <= threshold_px
        key = (int(inl.sum()), float(np.sum(np.minimum(res, threshold_px))))
        if key[0] > best_key[0] or (key[0] == best_key[0] and key[1] < best_key[1]):
            best_key, best_inl = key, inl
    if best_inl is None or best_inl.sum() < k:
        m = fit_translation(src, dst)
        best_inl = _residuals(m, src, dst) <= threshold_px
        use_affine, fit = False, fit_translation
    inl = best_inl
    for _ in range(2):  # refine on the consensus set
        if inl.sum() < k:
            break
        m = fit(src[inl], dst[inl])
        new = _residuals(m, src, dst) <= threshold_px
        if new.sum() < k:
            break
        inl = new
    m = fit(src[inl], dst[inl]) if inl.sum() >= k else fit_translation(src, dst)
    res = _residuals(m, src, dst)
    rmse = float(np.sqrt(np.mean(res[inl] ** 2))) if inl.any() else float("nan")
    return GlobalFit("affine" if use_affine else "translation", m, inl, rmse)


def local_outliers(cells: np.ndarray, shifts: np.ndarray, threshold_px: float, radius_cells: float = 2.5,
                   min_neighbours: int = 3) -> np.ndarray:
    """Flag points whose shift departs from what their neighbours predict (level 3).

    ``cells`` ``(N, 2)`` are lattice ``(win_row, win_col)``; ``shifts`` ``(N, 2)`` in pixels.
    The prediction at a point is a least-squares plane through the shifts of its neighbours
    within ``radius_cells`` (their median when they are fewer than 6 or collinear), so a shift
    field that varies smoothly over the scene (terrain, SAR geometry) is not flagged; a point
    more than ``threshold_px`` from the prediction is.  A point with fewer than
    ``min_neighbours`` neighbours is kept (nothing to compare with).  Returns a bool mask.
    """
    n = len(cells)
    flags = np.zeros(n, bool)
    if n == 0:
        return flags
    dist = np.hypot(*(cells[:, None, :] - cells[None, :, :]).transpose(2, 0, 1))
    for i in range(n):
        near = np.flatnonzero((dist[i] <= radius_cells) & (np.arange(n) != i))
        if len(near) < min_neighbours:
            continue
        pred = np.median(shifts[near], axis=0)
        if len(near) >= 6:
            design = np.column_stack([cells[near] - cells[i], np.ones(len(near))])
            if np.linalg.matrix_rank(design) == 3:
                coef, *_ = np.linalg.lstsq(design, shifts[near], rcond=None)
                pred = coef[2]  # the plane's value at the point itself
        flags[i] = np.hypot(*(shifts[i] - pred)) > threshold_px
    return flags
