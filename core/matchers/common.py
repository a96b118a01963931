"""Pieces every matcher shares: input checks and turning a surface into a ``Match``."""
from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Optional, Tuple

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
        share = float(np.count_nonzero(finite)) / max(1, finite.size)
        if share == 0.0 or share < min_valid:
            return f"nodata: {what} is {100 * (1 - share):.0f}% nodata"
        v = a if share == 1.0 else a[finite]     # no copy when every pixel is data
        lo, hi = float(v.min()), float(v.max())
        if hi - lo <= 1e-6 * max(1.0, abs(lo), abs(hi)):
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


# Off: every ``HelperThread.try_submit`` says "taken" and the callers do all their work
# themselves, one piece after the other (the benchmarks' baseline).
HELPER_THREADS = True


class HelperThread:
    """One worker thread that takes a job only when it is free.

    A window matched alone leaves a core idle while numpy or ONNX Runtime works on the other:
    work that does not depend on the rest (the template's descriptor, DCDM's classical part)
    is handed to a helper. ``try_submit`` returns ``None`` when the helper is busy, and the
    caller then does the job itself: when a scene's window threads already keep every core
    busy, the helpers add at most one thread each instead of a queue.
    """

    def __init__(self, name: str):
        self.name = name
        self._free = threading.Lock()     # held from a job's submission until it is done
        # starts its thread on the first job, not here
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    def try_submit(self, fn: Callable, *args) -> Optional[Future]:
        """``fn(*args)`` on the helper thread, or ``None`` when it is busy (or ``HELPER_THREADS`` is off)."""
        if not (HELPER_THREADS and self._free.acquire(blocking=False)):
            return None
        try:
            future = self._pool.submit(fn, *args)
        except BaseException:
            self._free.release()
            raise
        future.add_done_callback(lambda _: self._free.release())
        return future
