"""Pieces every matcher shares: input checks and turning a surface into a ``Match``."""
from __future__ import annotations

import time
from typing import Tuple

import numpy as np

from ..errors import ShapeError
from ..stages import stage
from .base import Match
from .kernels import peak_confidence, peak_subpixel


def check_pair(template: np.ndarray, reference: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """float32 views of a 2-D ``template`` and ``reference``; ``ShapeError`` if they cannot match."""
    t = np.asarray(template, dtype=np.float32)
    r = np.asarray(reference, dtype=np.float32)
    if t.ndim != 2 or r.ndim != 2:
        raise ShapeError(f"template {t.shape} and reference {r.shape} must both be 2-D (H, W)")
    if t.shape[0] > r.shape[0] or t.shape[1] > r.shape[1]:
        raise ShapeError(f"template {t.shape} is larger than reference {r.shape}: the template must fit inside")
    return t, r


def input_status(template: np.ndarray, reference: np.ndarray, min_valid: float = 0.5) -> str:
    """``""`` when both inputs can be matched (at least ``min_valid`` of each is data), else a short reason."""
    for what, a in (("template", template), ("reference", reference)):
        finite = np.isfinite(a)
        if not finite.any() or finite.mean() < min_valid:
            return f"nodata: {what} is {100 * (1 - finite.mean()):.0f}% nodata"
        v = a[finite]
        if float(v.max() - v.min()) <= 1e-6 * max(1.0, float(np.abs(v).max())):
            return f"flat: {what} is constant"
    return ""


def finish_match(surface: np.ndarray, exclusion_radius_px: float, start: float) -> Match:
    """Peak, confidence and ``Match`` from a similarity ``surface`` (shared by matchers)."""
    with stage("peaks"):
        return _finish_match(surface, exclusion_radius_px, start)


def _finish_match(surface: np.ndarray, exclusion_radius_px: float, start: float) -> Match:
    row, col, value = peak_subpixel(surface)
    if not np.isfinite(value):
        return Match.failed("nodata: no finite similarity", time.perf_counter() - start)
    if not float(np.nanmax(surface) - np.nanmin(surface)) > 0:
        return Match(float("nan"), float("nan"), float("nan"), 0.0, surface, "flat: similarity is constant",
                     time.perf_counter() - start)
    confidence = peak_confidence(surface, row, col, exclusion_radius_px)
    return Match(float(row), float(col), float(value), float(confidence), surface, "ok",
                 time.perf_counter() - start)
