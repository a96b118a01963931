"""Tie points from window results, and their outlier flags (see ``core.outliers``).

P is the template centre in the optical scene, Q = P + the measured shift (PRODUCT shift
convention, ``docs/conventions.md``); the shift includes the coarse-pass offset, if any.
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import List, Sequence, Tuple

import numpy as np

from .config import CoregConfig
from .grid import WorkingGrid
from .outliers import GlobalFit, local_outliers, ransac_fit
from .results import TiePoint, WindowResult
from .tiling import Window


def _azimuth_deg(dx: float, dy: float) -> float:
    if not (math.isfinite(dx) and math.isfinite(dy)) or (dx == 0 and dy == 0):
        return 0.0 if math.isfinite(dx) else float("nan")
    return math.degrees(math.atan2(dx, dy)) % 360.0


def shift_from_peak(window: Window, row: float, col: float,
                    sar_offset_px: Tuple[int, int] = (0, 0)) -> Tuple[float, float]:
    """``(dy_px, dx_px)`` of a tie point whose match peaked at ``(row, col)`` of ``window``'s
    SAR window (the template's top-left in it), that window read ``sar_offset_px`` away from
    the optical one (the coarse pass). The inverse is ``peak_from_shift``."""
    return row - window.margin_px + sar_offset_px[0], col - window.margin_px + sar_offset_px[1]


def peak_from_shift(window: Window, dy_px: float, dx_px: float,
                    sar_offset_px: Tuple[int, int] = (0, 0)) -> Tuple[float, float]:
    """``(row, col)`` of the match peak in ``window``'s SAR window that gave a tie point the
    shift ``(dy_px, dx_px)``: the inverse of ``shift_from_peak`` (the inspector marks it)."""
    return dy_px - sar_offset_px[0] + window.margin_px, dx_px - sar_offset_px[1] + window.margin_px


def build_tiepoint(idx: int, res: WindowResult, grid: WorkingGrid, matcher_name: str, sim_name: str,
                   sar_offset_px: Tuple[int, int] = (0, 0)) -> TiePoint:
    """P = template centre; Q = P + the matched offset (+ the coarse offset), PRODUCT convention."""
    w, m = res.window, res.match
    rc, cc = w.template_centre
    x_opt, y_opt = (float(v) for v in grid.pixel_to_map(rc, cc))
    dy_px, dx_px = shift_from_peak(w, m.row, m.col, sar_offset_px)
    dx_m, dy_m = dx_px * grid.pixel_m, -dy_px * grid.pixel_m
    return TiePoint(
        id=idx, win_row=w.win_row, win_col=w.win_col, x_opt=x_opt, y_opt=y_opt,
        x_sar=x_opt + dx_m, y_sar=y_opt + dy_m, dx_px=float(dx_px), dy_px=float(dy_px),
        dx_m=float(dx_m), dy_m=float(dy_m), shift_m=float(math.hypot(dx_m, dy_m)),
        angle_deg=_azimuth_deg(dx_m, dy_m), score=float(m.score), confidence=float(m.confidence),
        outlier=0 if m.ok else 1, outlier_reason="" if m.ok else f"no_match:{m.status}",
        matcher=matcher_name, similarity=sim_name)


def flag_outliers(tiepoints: List[TiePoint], config: CoregConfig, pixel_m: float,
                  sar_offset_px: Tuple[int, int] = (0, 0)) -> Tuple[List[TiePoint], GlobalFit]:
    """Flag (never drop) outliers in three levels; see ``core.outliers``.

    1. the matcher's verdict: failed, peak on the search edge, confidence below threshold;
    2. residual above ``ransac_threshold_px`` from the robust global fit (gross errors);
    3. shift more than ``local_threshold_px`` from the median of neighbouring windows.
    """
    edge = config.search_radius_px - 0.5
    flagged: List[TiePoint] = []
    for t in tiepoints:
        if t.outlier:
            flagged.append(t)
        elif max(abs(t.dx_px - sar_offset_px[1]), abs(t.dy_px - sar_offset_px[0])) >= edge:
            flagged.append(replace(t, outlier=1, outlier_reason="search_edge"))
        elif t.confidence < config.min_confidence:
            flagged.append(replace(t, outlier=1, outlier_reason="low_confidence"))
        else:
            flagged.append(t)
    cand = [i for i, t in enumerate(flagged) if not t.outlier]
    # fit P -> Q with map axes scaled to working-grid pixels, so the threshold is in pixels
    src = np.array([[flagged[i].x_opt, flagged[i].y_opt] for i in cand]).reshape(-1, 2) / pixel_m
    dst = np.array([[flagged[i].x_sar, flagged[i].y_sar] for i in cand]).reshape(-1, 2) / pixel_m
    fit = ransac_fit(src, dst, config.ransac_threshold_px, config.ransac_iterations, config.seed)
    for k, i in enumerate(cand):
        if not fit.inliers[k]:
            flagged[i] = replace(flagged[i], outlier=1, outlier_reason="ransac")
    # level 3: local consistency, for shifts that vary over the scene (terrain, SAR geometry)
    kept = [i for i in cand if not flagged[i].outlier]
    cells = np.array([[flagged[i].win_row, flagged[i].win_col] for i in kept], float).reshape(-1, 2)
    shifts = np.array([[flagged[i].dx_px, flagged[i].dy_px] for i in kept]).reshape(-1, 2)
    for k in np.flatnonzero(local_outliers(cells, shifts, config.local_threshold_px)):
        flagged[kept[k]] = replace(flagged[kept[k]], outlier=1, outlier_reason="local")
    return flagged, fit


def shift_stats(tiepoints: Sequence[TiePoint]) -> dict:
    inl = [t for t in tiepoints if not t.outlier and t.matched]
    if not inl:
        return {"n": 0}
    dx = np.array([t.dx_m for t in inl])
    dy = np.array([t.dy_m for t in inl])
    dxp = np.array([t.dx_px for t in inl])
    dyp = np.array([t.dy_px for t in inl])
    return {"n": len(inl), "median_dx_m": float(np.median(dx)), "median_dy_m": float(np.median(dy)),
            "median_dx_px": float(np.median(dxp)), "median_dy_px": float(np.median(dyp)),
            "std_dx_m": float(dx.std()), "std_dy_m": float(dy.std()),
            "mean_shift_m": float(np.hypot(dx, dy).mean())}
