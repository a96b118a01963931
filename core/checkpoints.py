"""Check points: how well each correction model predicts tie points it was not fitted to.

The fit RMSE in ``report.json`` says how close the model passes to the points it was fitted
to; it always favours the model with more freedom (a thin-plate spline passes through every
point). What a user choosing ``--warp`` needs is the error at places *between* tie points.
Leave-one-out gives it without giving up any point: each model is fitted to the inliers'
shifts without one point and predicts that point's shift; the RMS of those prediction errors
is the model's check-point RMSE.

Models (the shift ``d = (dx, dy)`` as a function of the template centre ``(x, y)``):
``translation`` (one shift), ``affine`` and ``poly2`` (least squares, the families of
``--warp affine`` / ``poly2``), ``tps`` (thin-plate spline through the points, as ``--warp
tps``). A smooth shift field that moves with the ground (terrain along the SAR range) is
predicted by ``tps`` or ``poly2`` and not by ``affine``; shifts that are independent noise
are predicted by none of them better than by their mean.

Closed forms, one solve per model: for least squares the left-out residual is
``r_i / (1 - h_ii)`` (``h`` the hat matrix); for the spline it is ``c_i / (A^-1)_ii``
(Rippa 1999; ``A`` the spline's system matrix, ``c`` its weights). Pure numpy.
"""
from __future__ import annotations

from typing import Dict, Optional

import numpy as np

METHODS = ("translation", "affine", "poly2", "tps")
#: fewest points for which leaving one out still determines the model
MIN_POINTS = {"translation": 2, "affine": 4, "poly2": 7, "tps": 5}
#: a richer model is suggested only when its check RMSE is lower by more than this share
SUGGEST_MARGIN = 0.05
#: fewer inliers than this say too little to choose a model from
SUGGEST_MIN_POINTS = 10
#: the spline's check inverts an (N + 3)^2 matrix: above this many points it is run on an even
#: subset of them (1,500: 18 MB and about a second), so a large scene stays cheap
TPS_MAX_POINTS = 1500


def _normalise(xy: np.ndarray) -> np.ndarray:
    c = xy - xy.mean(axis=0)
    s = np.abs(c).max()
    return c / s if s > 0 else c


def _design(xy: np.ndarray, method: str) -> np.ndarray:
    x, y = xy[:, 0], xy[:, 1]
    one = np.ones(len(xy))
    if method == "translation":
        return one[:, None]
    if method == "affine":
        return np.column_stack([one, x, y])
    return np.column_stack([one, x, y, x * x, x * y, y * y])


def _loo_least_squares(xy: np.ndarray, d: np.ndarray, method: str) -> Optional[np.ndarray]:
    X = _design(xy, method)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        return None                                  # points on a line: the model is not determined
    P = np.linalg.pinv(X)                            # (p, N): no N x N hat matrix on large scenes
    lev = 1.0 - np.einsum("ij,ji->i", X, P)          # 1 - diag(X P)
    if np.any(lev < 1e-9):
        return None                                  # a point the model cannot do without
    return (d - X @ (P @ d)) / lev[:, None]


def _tps_kernel(r2: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        k = 0.5 * r2 * np.log(r2)                    # r^2 log r
    return np.where(r2 > 0, k, 0.0)


def _loo_tps(xy: np.ndarray, d: np.ndarray) -> Optional[np.ndarray]:
    n = len(xy)
    P = _design(xy, "affine")
    if np.linalg.matrix_rank(P) < 3:
        return None
    r2 = ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1)
    A = np.zeros((n + 3, n + 3))
    A[:n, :n] = _tps_kernel(r2)
    A[:n, n:] = P
    A[n:, :n] = P.T
    try:
        inv = np.linalg.inv(A)
    except np.linalg.LinAlgError:
        return None                                  # coincident points
    rhs = np.zeros((n + 3, 2))
    rhs[:n] = d
    c = inv @ rhs
    diag = np.diag(inv)[:n]
    if np.any(np.abs(diag) < 1e-12) or not np.all(np.isfinite(c)):
        return None
    return c[:n] / diag[:, None]


def loo_residuals(xy: np.ndarray, d: np.ndarray, method: str) -> Optional[np.ndarray]:
    """``(N, 2)`` left-out prediction errors (true − predicted) of ``method`` at each point,
    or ``None`` when the points do not determine it. ``xy`` positions, ``d`` shifts, ``(N, 2)``."""
    if len(xy) < MIN_POINTS[method]:
        return None
    xy = _normalise(np.asarray(xy, dtype=np.float64))
    d = np.asarray(d, dtype=np.float64)
    if method == "tps":
        return _loo_tps(xy, d)
    return _loo_least_squares(xy, d, method)


def check_points(xy: np.ndarray, d: np.ndarray) -> Dict:
    """Leave-one-out check-point RMSE (in the units of ``d``) of every model, and a suggestion:
    the simplest ``--warp`` model whose RMSE is within ``SUGGEST_MARGIN`` of the lowest (none
    with fewer than ``SUGGEST_MIN_POINTS`` points)."""
    rmse: Dict[str, Optional[float]] = {}
    tps_subset = None
    if len(d) > TPS_MAX_POINTS:
        tps_subset = np.unique(np.linspace(0, len(d) - 1, TPS_MAX_POINTS).round().astype(int))
    for m in METHODS:
        if m == "tps" and tps_subset is not None:
            e = loo_residuals(np.asarray(xy)[tps_subset], np.asarray(d)[tps_subset], m)
        else:
            e = loo_residuals(xy, d, m)
        # rounded: the last bits of a solve depend on the BLAS threads of the process, and a
        # batch worker must write the same report as a serial run
        rmse[m] = None if e is None else round(float(np.sqrt(np.mean(np.sum(e * e, axis=1)))), 4)
    warps = [m for m in ("affine", "poly2", "tps") if rmse[m] is not None]
    suggested = None
    if warps and len(d) >= SUGGEST_MIN_POINTS:
        best = min(rmse[m] for m in warps)
        suggested = next(m for m in warps if rmse[m] <= best * (1 + SUGGEST_MARGIN) + 1e-9)
    out = {"method": "leave-one-out over the inlier tie points", "n": int(len(d)), "rmse_px": rmse,
           "suggested_warp": suggested}
    if tps_subset is not None:
        out["tps_points"] = int(len(tps_subset))     # the spline was checked on this even subset
    return out


def format_rmse(check: Dict) -> str:
    """``"translation 2.59, affine 1.82, poly2 1.82, tps 1.20"`` (px), or why there is none."""
    text = ", ".join(f"{k} {v:.2f}" for k, v in check["rmse_px"].items() if v is not None)
    return text or f"too few inliers ({check['n']})"


def summary_line(check: Dict) -> Optional[str]:
    """One line for a log: every model's check RMSE and the suggested warp (``None`` without one)."""
    if not check.get("suggested_warp"):
        return None
    return (f"check points (each inlier predicted from the others), RMSE px: {format_rmse(check)}; "
            f"best warp: --warp {check['suggested_warp']}")


def tiepoint_check_points(tiepoints, pixel_m: float, overlapping: bool = False) -> Dict:
    """``check_points`` over the inliers of ``tiepoints`` (``core.results.TiePoint``), in
    working-grid px. ``overlapping``: neighbouring templates share pixels (spacing < template),
    said in a note because it flatters the richer models."""
    inl = [t for t in tiepoints if not t.outlier]
    xy = np.array([(t.x_opt / pixel_m, t.y_opt / pixel_m) for t in inl]).reshape(-1, 2)
    d = np.array([(t.dx_px, t.dy_px) for t in inl]).reshape(-1, 2)
    out = check_points(xy, d)
    if overlapping:
        out["note"] = ("the spacing is smaller than the template: neighbouring templates share pixels, so "
                       "their shifts are not independent and the poly2 / tps figures are optimistic")
    return out
