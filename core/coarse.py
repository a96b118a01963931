"""Coarse pre-alignment: find a gross offset larger than the windows' search radius.

Independently georeferenced scenes can be tens of pixels apart, more than a window can
search ((window − template) / 2).  Before the window pass, both scenes are read whole on a
coarse copy of the working grid (at most ``max_side_px`` pixels a side, so memory stays
small whatever the scene size), the central part of the optical image is matched inside
the SAR image with the default classical matcher, and, when that match is confident and
larger than half the search radius, the SAR windows of the fine pass are read displaced
by it.  Reported shifts always include the coarse offset.
"""
from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from typing import Tuple

import numpy as np

from .grid import WorkingGrid
from .raster import close_thread_datasets

MIN_CONFIDENCE = 0.3


@dataclass(frozen=True)
class CoarseOffset:
    """Integer working-grid offset ``(dy_px, dx_px)`` (row down, col right) of the SAR."""

    dy_px: int = 0
    dx_px: int = 0
    factor: int = 0              # working pixels per coarse pixel (0: not estimated)
    confidence: float = 0.0
    applied: bool = False
    note: str = ""

    @property
    def offset_px(self) -> Tuple[int, int]:
        return (self.dy_px, self.dx_px) if self.applied else (0, 0)

    def to_dict(self) -> dict:
        return asdict(self)


def coarse_grid(grid: WorkingGrid, max_side_px: int = 768, min_factor: int = 4) -> Tuple[WorkingGrid, int]:
    """The working grid's extent at ``factor`` times its pixel size (largest side ≤ ``max_side_px``)."""
    factor = max(min_factor, math.ceil(max(grid.width, grid.height) / max_side_px))
    return WorkingGrid(grid.crs_wkt, grid.x0, grid.y0, grid.pixel_m * factor,
                       grid.width // factor, grid.height // factor), factor


def shifted_grid(grid: WorkingGrid, dy_px: int, dx_px: int) -> WorkingGrid:
    """``grid`` moved by whole pixels: pixel ``(r, c)`` of the result is ``(r + dy, c + dx)`` of ``grid``."""
    return replace(grid, x0=grid.x0 + dx_px * grid.pixel_m, y0=grid.y0 - dy_px * grid.pixel_m)


def read_whole(sources) -> list:
    """Each ``SceneSource`` of ``sources`` read whole on its grid (``source.read(0, 0, height,
    width)``), each on its own worker thread with its own datasets.

    Reading a scene onto a coarse grid decodes all of its source pixels, most of the coarse
    pass's time (the optical Los Angeles mosaic: 6-7 s, its SAR 2 s), so the two scenes are
    read at once. Each is read in one piece: cut into bands of rows, a warped read can differ
    near the cut (the warper's source windows and approximate transform depend on the
    request), so the pass would no longer give the same offset."""
    def read(src):
        try:
            return src.read(0, 0, src.grid.height, src.grid.width)
        finally:
            close_thread_datasets()

    with ThreadPoolExecutor(max_workers=max(1, len(sources)), thread_name_prefix="sarcoreg-coarse") as pool:
        return list(pool.map(read, sources))


def _best_square(valid_opt: np.ndarray, valid_sar: np.ndarray, size: int, margin: int, steps: int = 5):
    """Top-left ``(r, c)`` of the ``size`` template, with ``margin`` around it for the search,
    whose optical template and SAR search area hold the most valid pixels."""
    h, w = valid_opt.shape
    best, best_rc = -1.0, (margin, margin)
    for r in np.linspace(margin, h - margin - size, steps).astype(int):
        for c in np.linspace(margin, w - margin - size, steps).astype(int):
            score = (valid_opt[r:r + size, c:c + size].mean()
                     * valid_sar[r - margin:r + size + margin, c - margin:c + size + margin].mean())
            if score > best:
                best, best_rc = score, (int(r), int(c))
    return best_rc


@dataclass(frozen=True)
class Gaps:
    """Where the optical scene has no data for sure, from the coarse pass's optical image, so
    that the window pass need not read a template to learn that it is empty.

    A coarse pixel is nodata only when no source pixel under it holds data (the coarse image
    averages the valid ones), so every working pixel inside it is nodata too. ``covers``
    answers for a working-grid box: true only when every coarse pixel the box touches, and a
    ring of one more around them (for the warper's sub-pixel approximations), is nodata; the
    box is then all nodata on the working grid.
    """

    packed: bytes         # the coarse nodata mask, np.packbits of its rows
    shape: Tuple[int, int]
    factor: int           # working pixels per coarse pixel

    @staticmethod
    def from_image(coarse_optical: np.ndarray, factor: int) -> "Gaps":
        mask = ~np.isfinite(coarse_optical)
        return Gaps(np.packbits(mask, axis=None).tobytes(), mask.shape, int(factor))

    def mask(self) -> np.ndarray:
        """The coarse nodata mask (read-only; unpacked once per process, not once per window)."""
        return _unpacked(self.packed, self.shape)

    def covers(self, row0: int, col0: int, rows: int, cols: int) -> bool:
        """True when the working-grid box is nodata for sure (see the class doc)."""
        f, (h, w) = self.factor, self.shape
        r0, c0 = row0 // f, col0 // f
        r1, c1 = -(-(row0 + rows) // f), -(-(col0 + cols) // f)
        if row0 < 0 or col0 < 0 or r1 > h or c1 > w:     # beyond the coarse image: not known
            return False
        return bool(self.mask()[max(r0 - 1, 0):r1 + 1, max(c0 - 1, 0):c1 + 1].all())


@lru_cache(maxsize=4)
def _unpacked(packed: bytes, shape: Tuple[int, int]) -> np.ndarray:
    h, w = shape
    mask = np.unpackbits(np.frombuffer(packed, dtype=np.uint8), count=h * w).reshape(h, w).astype(bool)
    mask.setflags(write=False)
    return mask


def run(optical, sar, grid: WorkingGrid, search_radius_px: int, matcher) -> Tuple[CoarseOffset, "Gaps | None"]:
    """The coarse pass: the gross SAR offset and the optical scene's ``Gaps`` (``None`` when
    the overlap is too small for the pass); ``optical``/``sar`` are ``SceneSource`` on ``grid``.

    The template is a square half the size of the coarse overlap, placed where both images
    have the most valid pixels (scenes with gaps), and searched a quarter of the overlap
    around its own position, so offsets up to a quarter of the overlap are found.
    """
    cgrid, factor = coarse_grid(grid)
    h, w = cgrid.height, cgrid.width
    size = min(h, w) // 2
    margin = min(h, w) // 4
    if size < 16 or margin < 2:
        return CoarseOffset(factor=factor, note="overlap too small for a coarse pass"), None
    opt, ref = read_whole((replace(optical, grid=cgrid), replace(sar, grid=cgrid)))
    gaps = Gaps.from_image(opt, factor)
    r, c = _best_square(np.isfinite(opt), np.isfinite(ref), size, margin)
    template = opt[r:r + size, c:c + size]
    search = ref[r - margin:r + size + margin, c - margin:c + size + margin]
    m = matcher.match(template, search)
    if not m.ok:
        return CoarseOffset(factor=factor, note=f"coarse match failed: {m.status}"), gaps
    dy = int(round((m.row - margin) * factor))
    dx = int(round((m.col - margin) * factor))
    big = math.hypot(dy, dx) > search_radius_px / 2
    sure = m.confidence >= MIN_CONFIDENCE
    note = ("applied" if big and sure else
            "not applied: smaller than half the search radius" if not big else
            f"not applied: confidence {m.confidence:.2f} < {MIN_CONFIDENCE}")
    # rounded: the last digits depend on the BLAS thread count, the report must not
    return CoarseOffset(dy, dx, factor, round(float(m.confidence), 4), big and sure, note), gaps
