"""Matching windows on a Dask cluster: the task, the window runner and the cluster itself.

``DaskWindowRunner`` is a ``WindowRunner`` for ``core.coregister.coregister``: it sends the
windows of one pair to the cluster in chunks (``match_chunk_task``, pure: it only reads the
inputs, so Dask may retry it or recompute it after a worker died) and yields the results in
window order.  ``connect`` gives a client of a running scheduler, or of a local cluster of
single-threaded worker processes on 127.0.0.1 without a dashboard.
"""
from __future__ import annotations

import logging
import math
import os
import signal
import threading
import uuid
from collections import deque
from contextlib import contextmanager
from typing import Iterator, List, Optional, Sequence

from .config import CoregConfig
from .coregister import Scene, match_chunk
from .errors import InputError
from .feedback import Feedback, check_cancel
from .raster import close_thread_datasets
from .results import WindowResult
from .tiling import Window

log = logging.getLogger("sarcoreg.batch")

_POLL_S = 0.25
_WAIT_FOR_WORKERS_S = 60.0


# --------------------------------------------------------------------------- the task and the runner

_worker_local = threading.local()
_SCENES_KEPT_OPEN = 4


def _scene_key(scene: Scene) -> tuple:
    return (scene.optical.path, scene.sar.path, scene.grid)


def match_chunk_task(scene: Scene, windows: Sequence[Window], config: CoregConfig) -> List[WindowResult]:
    """The Dask task: ``match_chunk`` with the worker thread's open datasets bounded.

    A worker thread keeps the GDAL datasets of the scenes it read (``SceneSource``); over a
    long batch they are dropped once more than a few scenes have passed through it.
    """
    recent = getattr(_worker_local, "scenes", None)
    if recent is None:
        recent = _worker_local.scenes = []
    key = _scene_key(scene)
    if key not in recent:
        if len(recent) >= _SCENES_KEPT_OPEN:
            close_thread_datasets()
            recent.clear()
        recent.append(key)
    return match_chunk(scene, windows, config)


class DaskWindowRunner:
    """A ``WindowRunner`` for ``coregister``: chunks of windows on a Dask cluster, in order.

    At most ``in_flight`` chunks of one pair are submitted at a time; results are yielded
    in window order as their chunk completes.  Cancelling (``feedback``) or an error
    releases the chunks still on the cluster.
    """

    def __init__(self, client, chunk_windows: Optional[int] = None, in_flight: Optional[int] = None,
                 retries: int = 2, label: str = "pair", on_last=None) -> None:
        self.client = client
        self.chunk_windows = chunk_windows
        self.in_flight = in_flight
        self.retries = retries
        self.label = label
        self.on_last = on_last

    def _threads(self) -> int:
        try:
            return max(1, sum(self.client.nthreads().values()))
        except Exception:  # pragma: no cover - scheduler unreachable: the submit will say so
            return 1

    def __call__(self, scene: Scene, windows: Sequence[Window], matcher, config: CoregConfig,
                 feedback: Feedback) -> Iterator[WindowResult]:
        windows = list(windows)
        threads = self._threads()
        size = self.chunk_windows or max(1, min(8, math.ceil(len(windows) / (4 * threads))))
        limit = self.in_flight or max(2, 2 * threads)
        chunks = [windows[i:i + size] for i in range(0, len(windows), size)]
        token = uuid.uuid4().hex[:8]
        todo = iter(enumerate(chunks))
        pending: deque = deque()

        def submit(k: int, chunk) -> None:
            pending.append(self.client.submit(match_chunk_task, scene, chunk, config, pure=False,
                                              retries=self.retries,
                                              key=f"sarcoreg-match-{self.label}-{token}-{k:05d}"))

        try:
            for k, chunk in todo:
                submit(k, chunk)
                if len(pending) >= limit:
                    break
            while pending:
                results = self._result(pending[0], feedback)
                pending.popleft()
                nxt = next(todo, None)
                if nxt is not None:
                    submit(*nxt)
                yield from results
            if self.on_last is not None:
                self.on_last()
        finally:
            if pending:
                try:
                    self.client.cancel(list(pending))
                except Exception:  # pragma: no cover - the cluster may already be gone
                    pass

    @staticmethod
    def _result(future, feedback: Feedback) -> List[WindowResult]:
        """The chunk's results, checking for a cancel while waiting."""
        ready = threading.Event()
        future.add_done_callback(lambda _f: ready.set())
        while not ready.wait(_POLL_S):
            check_cancel(feedback)
        return future.result()


# --------------------------------------------------------------------------- the cluster

def connect(scheduler: Optional[str], n_workers: Optional[int]):
    """``(client, cluster_or_None, description)``; raises ``InputError`` when unusable."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError("Dask is not installed: install it with pip install 'dask[distributed]' "
                         "(scripts/setup.sh does), or run pairs one by one with 'sarcoreg coregister'") from None
    if scheduler:
        try:
            client = Client(scheduler, timeout="10s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler} ({exc}): check the address "
                             "and that the scheduler is running") from None
        try:
            client.wait_for_workers(1, timeout=_WAIT_FOR_WORKERS_S)
        except (TimeoutError, OSError):
            client.close()
            raise InputError(f"the Dask scheduler at {scheduler} has no workers after {_WAIT_FOR_WORKERS_S:.0f} s: "
                             f"start some (dask worker {scheduler})") from None
        return client, None, f"the Dask scheduler at {scheduler}"
    n = (os.cpu_count() or 1) if n_workers is None else n_workers
    if n < 1:
        raise InputError(f"--workers {n} must be at least 1")
    # no dashboard; the scheduler's plain HTTP routes go to a free loopback port, not 8787;
    # the workers print their errors only (a cancel stops chunks mid-run: no warnings for that)
    quiet = logging.ERROR if log.getEffectiveLevel() > logging.INFO else logging.INFO
    with _workers_ignore_ctrl_c():
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                               silence_logs=quiet)
    client = Client(cluster, set_as_default=False)
    return client, cluster, f"a local Dask cluster of {n} worker{'s' if n > 1 else ''}"


@contextmanager
def _workers_ignore_ctrl_c() -> Iterator[None]:
    """Start the local workers with SIGINT ignored (inherited by the processes they spawn).

    Ctrl-C in a terminal reaches every process of the foreground group; only the client must
    act on it (cancel, clean up, write the summary, then close the cluster), not the workers.
    Only possible from the main thread; Ctrl-C is ignored for the seconds the cluster starts.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


@contextmanager
def quiet_dask_logs() -> Iterator[None]:
    """Dask's INFO chatter (workers joining, keys cancelled) only when sarcoreg logs INFO."""
    try:
        import distributed  # noqa: F401 - its import sets its loggers' levels: set ours after
    except ImportError:
        pass
    loggers = [logging.getLogger(n) for n in ("distributed", "bokeh")]
    old = [lg.level for lg in loggers]
    if log.getEffectiveLevel() > logging.INFO:
        for lg in loggers:
            lg.setLevel(max(lg.getEffectiveLevel(), logging.WARNING))
    try:
        yield
    finally:
        for lg, level in zip(loggers, old):
            lg.setLevel(level)
