"""Result values of a co-registration: frozen dataclasses, not string-keyed dicts."""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import List, Tuple

from .matchers.base import Match
from .tiling import Window


@dataclass(frozen=True)
class WindowResult:
    """One window after matching: ``skipped`` is '' when it was matched."""

    window: Window
    match: Match
    skipped: str = ""
    nodata_optical: float = 0.0
    nodata_sar: float = 0.0


@dataclass(frozen=True)
class TiePoint:
    """One tie point; fields and units as ``tiepoints.gpkg`` (see PRODUCT conventions).

    ``(x_opt, y_opt)`` = P, the template centre in the optical scene (working CRS);
    ``(x_sar, y_sar)`` = Q, where it was found in the SAR scene; ``d = Q - P``.
    ``dx_px, dy_px`` are (column, row) working-grid pixels, row downward, so
    ``dy_px = -dy_m / pixel_m``.  ``angle_deg`` is the shift's azimuth, clockwise from
    north (0 = north, 90 = east).  ``outlier`` is 0/1 and ``outlier_reason`` says why.
    """

    id: int
    win_row: int
    win_col: int
    x_opt: float
    y_opt: float
    x_sar: float
    y_sar: float
    dx_px: float
    dy_px: float
    dx_m: float
    dy_m: float
    shift_m: float
    angle_deg: float
    score: float
    confidence: float
    outlier: int
    outlier_reason: str
    matcher: str
    similarity: str

    @property
    def matched(self) -> bool:
        return math.isfinite(self.dx_px)


TIEPOINT_FIELDS: Tuple[str, ...] = tuple(f.name for f in fields(TiePoint))


@dataclass(frozen=True)
class CoregResult:
    outdir: str
    tiepoints: List[TiePoint]
    report: dict = field(repr=False)

    @property
    def inliers(self) -> List[TiePoint]:
        return [t for t in self.tiepoints if not t.outlier]
