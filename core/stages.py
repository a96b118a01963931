"""Where a run spends its time: seconds per stage, summed over the threads of this process.

``with stage("reading"): ...`` adds the block's wall time to the stage's total; ``totals()``
is a snapshot, and the difference of two snapshots is what happened between them
(``coregister`` puts it in ``report.json`` ``timings.stages``). Stages run on several window
threads at once, so their sum can exceed the wall time of the run; windows matched in other
processes (a Dask cluster) are not seen here.

Stages used by the engine: ``reading`` (window pixels through GDAL), ``coarse`` (the coarse
pass), ``descriptors`` (CFOG / MIND channels), ``model`` (DCDM ONNX Runtime calls), ``fft``
(``zncc_surface``: spectra, window sums, normalisation), ``peaks`` (sub-pixel peak and
confidence), ``outliers`` (confidence, RANSAC and local checks), ``writing`` (all outputs but
the report), ``check_points`` (leave-one-out check of the tie points), ``warp`` (``--warp``).
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Dict, Iterator

_lock = threading.Lock()
_totals: Dict[str, float] = {}
_counts: Dict[str, int] = {}


@contextmanager
def stage(name: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        dt = time.perf_counter() - start
        with _lock:
            _totals[name] = _totals.get(name, 0.0) + dt
            _counts[name] = _counts.get(name, 0) + 1


def totals() -> Dict[str, float]:
    """Seconds per stage so far in this process."""
    with _lock:
        return dict(_totals)


def since(before: Dict[str, float]) -> Dict[str, float]:
    """Seconds per stage since the snapshot ``before`` (stages that did not run are left out)."""
    now = totals()
    return {k: round(v - before.get(k, 0.0), 3) for k, v in sorted(now.items()) if v - before.get(k, 0.0) > 0}
