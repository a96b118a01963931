"""Windows on the working grid: small immutable values and plain functions around them.

A ``Window`` is the SAR reference window (``window_px`` square, top-left pixel
``(row0, col0)`` on the working grid) with the optical template (``template_px``) centred
in it.  Row/col follow the pixel convention of ``core.grid``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Tuple

import numpy as np


@dataclass(frozen=True)
class Window:
    win_row: int          # index in the window lattice
    win_col: int
    row0: int             # top-left pixel of the SAR window on the working grid
    col0: int
    window_px: int
    template_px: int

    @property
    def margin_px(self) -> int:
        """Offset of the centred template inside the window = the search radius."""
        return (self.window_px - self.template_px) // 2

    @property
    def template_origin(self) -> Tuple[int, int]:
        """Working-grid ``(row, col)`` of the template's top-left pixel."""
        return self.row0 + self.margin_px, self.col0 + self.margin_px

    @property
    def template_centre(self) -> Tuple[float, float]:
        """Working-grid ``(row, col)`` of the template centre (half-integer for even sizes)."""
        r, c = self.template_origin
        half = (self.template_px - 1) / 2.0
        return r + half, c + half


def lattice_counts(size_px: int, window_px: int, spacing_px: int) -> Tuple[int, int]:
    """``(count, first_offset_px)`` of windows along one axis, the lattice centred in ``size_px``."""
    if size_px < window_px:
        return 0, 0
    n = (size_px - window_px) // spacing_px + 1
    used = (n - 1) * spacing_px + window_px
    return n, (size_px - used) // 2


def lay_windows(height_px: int, width_px: int, window_px: int, template_px: int, spacing_px: int) -> List[Window]:
    """All windows of the lattice over a ``height_px`` x ``width_px`` grid, row-major.

    Template centres are ``spacing_px`` apart; every window lies fully inside the grid.
    """
    nr, r_off = lattice_counts(height_px, window_px, spacing_px)
    nc, c_off = lattice_counts(width_px, window_px, spacing_px)
    return [Window(i, j, r_off + i * spacing_px, c_off + j * spacing_px, window_px, template_px)
            for i in range(nr) for j in range(nc)]


def nodata_fraction(values: np.ndarray) -> float:
    """Share of NaN pixels in ``values``."""
    return float(np.isnan(values).mean()) if values.size else 1.0
