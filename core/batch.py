"""Co-register many scene pairs on a Dask cluster: ``run_batch(pairs_csv, outroot, config)``.

One co-registration per row of the pairs CSV (``optical,sar[,name]``; see
``core.batch_files``), each into ``OUTROOT/<name>/``.

Where the work runs
    A local cluster (``distributed.LocalCluster``: one single-threaded worker process per
    core, on 127.0.0.1, no dashboard) unless ``scheduler`` gives the address of a running
    Dask scheduler, whose workers must see the input and output paths under the same names.
    Pairs run concurrently, one client thread each; each pair's windows are sent to the
    cluster in chunks by ``core.dask_runner.DaskWindowRunner`` and come back in order, and
    the outputs are written by the client, so results are identical to a serial run.
    Chunks are pure and may be retried, so a worker that dies mid-batch costs only a
    recomputation.

Resuming
    Before a pair runs, ``OUTROOT/<name>/batch_manifest.json`` is written with state
    ``started``; when its outputs are in place it is rewritten with state ``complete``, the
    input fingerprints and the config.  A rerun skips a pair whose complete manifest still
    matches its inputs and config (status ``skipped_complete``) and redoes, replacing its
    outputs, a pair with a started or outdated manifest.  An output folder that holds
    outputs but no manifest is not the batch's: it is left alone (``bad_input``) unless
    ``overwrite``.  ``overwrite`` redoes every pair.

The summary
    ``OUTROOT/batch_summary.csv`` and ``.json`` list every pair with its status (``ok``,
    ``bad_input``, ``error``, ``skipped_complete``, ``cancelled``), a one-line message,
    window counts, the median shift and the seconds it took.  ``BatchSummary.exit_code()``
    is 0 when every pair is ok or skipped, 2 when some had bad input and none failed
    otherwise, 1 when some failed with an internal error.
"""
from __future__ import annotations

import logging
import math
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from . import outputs as out
from .batch_files import (MANIFEST, MANIFEST_FORMAT, STATUSES, SUMMARY_CSV, SUMMARY_JSON, BatchSummary,
                          PairOutcome, PairSpec, config_key, file_fingerprint, has_outputs, input_fingerprint,
                          is_complete, read_json, read_pairs, sanitise_name, write_manifest, write_summary)
from .config import CoregConfig
from .coregister import coregister
from .dask_runner import DaskWindowRunner, connect, match_chunk_task, quiet_dask_logs
from .errors import CancelledError, InputError, OutputError
from .feedback import Feedback, NullFeedback, check_cancel
from .summary import status_line

__all__ = ["run_batch", "BatchSummary", "PairOutcome", "PairSpec", "DaskWindowRunner", "match_chunk_task",
           "read_pairs", "sanitise_name", "file_fingerprint", "input_fingerprint", "STATUSES", "MANIFEST",
           "SUMMARY_CSV", "SUMMARY_JSON"]

log = logging.getLogger("sarcoreg.batch")

_POLL_S = 0.25


# --------------------------------------------------------------------------- progress

class _BatchFeedback:
    """One progress display for the whole batch: the mean of the pairs' progress."""

    def __init__(self, outer: Feedback, n_pairs: int, cancel: threading.Event) -> None:
        self.outer = outer
        self.done = [0.0] * n_pairs
        self.cancel = cancel
        self.lock = threading.Lock()

    def set(self, index: int, percent: float) -> None:
        with self.lock:
            self.done[index] = max(self.done[index], min(100.0, float(percent)))
            self.outer.set_progress(sum(self.done) / len(self.done))

    def info(self, message: str) -> None:
        with self.lock:
            self.outer.info(message)

    def is_canceled(self) -> bool:
        return self.cancel.is_set() or bool(self.outer.is_canceled())

    def pair(self, index: int, name: str) -> "_PairFeedback":
        return _PairFeedback(self, index, name)


class _PairFeedback:
    def __init__(self, batch: _BatchFeedback, index: int, name: str) -> None:
        self.batch, self.index, self.name = batch, index, name

    def set_progress(self, percent: float) -> None:
        self.batch.set(self.index, percent)

    def is_canceled(self) -> bool:
        return self.batch.is_canceled()

    def info(self, message: str) -> None:
        self.batch.info(f"{self.name}: {message}")


# --------------------------------------------------------------------------- one pair

@dataclass
class _Job:
    index: int
    spec: PairSpec
    outdir: Path
    inputs: dict
    redo: bool


class _WriteTurn:
    """Lets one pair at a time write its final outputs in the client.

    A pair takes the turn when its last window result has been handed over, i.e. when
    ``coregister`` starts writing, and gives it back when ``coregister`` returns.  Output
    writers may use process-wide state (the working directory, GDAL settings); this keeps
    concurrent pairs from seeing each other's.
    """

    def __init__(self, cancel: threading.Event) -> None:
        self._lock = threading.Lock()
        self._held = threading.local()
        self._cancel = cancel

    def take(self) -> None:
        while not self._lock.acquire(timeout=_POLL_S):
            if self._cancel.is_set():
                raise CancelledError("cancelled by the user: no output was written under a final name")
        self._held.on = True

    def give_back(self) -> None:
        if getattr(self._held, "on", False):
            self._held.on = False
            self._lock.release()


def _run_pair(job: _Job, client, config: CoregConfig, feedback: _PairFeedback, turn: _WriteTurn,
              runner_options: dict) -> PairOutcome:
    spec, outdir = job.spec, job.outdir
    t0 = time.perf_counter()
    created = not outdir.exists()
    marked = False
    feedback.info(f"started ({spec.optical} / {spec.sar})")
    try:
        check_cancel(feedback)
        outdir.mkdir(parents=True, exist_ok=True)
        if job.redo or not has_outputs(outdir):
            write_manifest(outdir, "started", spec, config)
            marked = True
        runner = DaskWindowRunner(client, label=spec.name, on_last=turn.take, **runner_options)
        try:
            result = coregister(spec.optical, spec.sar, outdir, config, feedback, overwrite=job.redo,
                                runner=runner)
        finally:
            turn.give_back()
        write_manifest(outdir, "complete", spec, config, job.inputs)
        seconds = time.perf_counter() - t0
        message = status_line(result.report)
        feedback.info(f"done in {seconds:.1f} s: {message}")
        return PairOutcome.from_report(spec, outdir, "ok", message, result.report, seconds)
    except Exception as exc:  # every failure is one pair's outcome
        seconds = time.perf_counter() - t0
        if isinstance(exc, CancelledError):
            status, message = "cancelled", "cancelled before its outputs were complete: run the batch again"
        elif isinstance(exc, InputError):
            status, message = "bad_input", str(exc)
        else:
            log.info("pair %s failed", spec.name, exc_info=True)  # the traceback with --verbose
            status, message = "error", f"internal error: {type(exc).__name__}: {exc}".splitlines()[0]
        if marked and not has_outputs(outdir):
            _remove_quietly(outdir / MANIFEST)
        if created:
            _rmdir_quietly(outdir)
        feedback.info(f"{status}: {message}")
        return PairOutcome(spec.name, status, message, spec.optical, spec.sar, str(outdir), seconds=round(seconds, 3))


def _rmdir_quietly(path: Path) -> None:
    try:
        path.rmdir()  # only when empty
    except OSError:
        pass


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def _plan(index: int, spec: PairSpec, outroot: Path, config: CoregConfig,
          overwrite: bool) -> Tuple[Optional[PairOutcome], Optional[_Job]]:
    """Skip a pair that is complete and unchanged, else say how to run it."""
    outdir = outroot / spec.name
    inputs = {"optical": input_fingerprint(spec.optical), "sar": input_fingerprint(spec.sar)}
    manifest = read_json(outdir / MANIFEST)
    if not overwrite and is_complete(outdir, manifest, spec, config, inputs):
        report = read_json(outdir / out.REPORT) or {}
        return PairOutcome.from_report(spec, outdir, "skipped_complete",
                                       "complete from an earlier run, inputs and config unchanged",
                                       report, 0.0), None
    # a manifest marks the folder as this batch's own: an unfinished or outdated pair is redone
    redo = overwrite or (manifest is not None and manifest.get("format") == MANIFEST_FORMAT)
    return None, _Job(index, spec, outdir, inputs, redo)


def _prepare_outroot(outroot: Path) -> bool:
    """Make ``outroot`` (True when it was made here) and check that it is writable."""
    if outroot.exists() and not outroot.is_dir():
        raise OutputError(f"{outroot}: exists and is not a folder: choose another output folder")
    created = not outroot.exists()
    try:
        outroot.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=outroot, prefix=".sarcoreg-probe-")
        probe.close()
    except OSError as exc:
        raise OutputError(f"{outroot}: cannot write there ({exc.strerror or exc}): "
                          "choose a writable output folder") from None
    return created


# --------------------------------------------------------------------------- the batch

def run_batch(pairs_csv, outroot, config: Optional[CoregConfig] = None, scheduler: Optional[str] = None,
              n_workers: Optional[int] = None, overwrite: bool = False, feedback: Optional[Feedback] = None,
              *, max_parallel_pairs: Optional[int] = None, chunk_windows: Optional[int] = None) -> BatchSummary:
    """Co-register every pair of ``pairs_csv`` into ``outroot/<name>/`` on Dask.

    ``scheduler``: a Dask scheduler address (default: a local cluster of ``n_workers``
    single-threaded processes, one per core by default).  ``overwrite``: redo pairs that
    are complete.  ``max_parallel_pairs`` (default: the cluster's threads, at least 2) and
    ``chunk_windows`` (default: about a quarter of a pair's windows per cluster thread, at
    most 8) tune the scheduling only; results do not depend on them.

    Returns the ``BatchSummary`` (also written to ``outroot/batch_summary.csv`` / ``.json``).
    Raises ``InputError`` for a bad CSV, an unwritable ``outroot`` or an unreachable
    scheduler (before any pair runs), and ``CancelledError`` after a cancel or Ctrl-C, once
    the pairs still running have stopped and the summary is written.
    """
    t0 = time.perf_counter()
    config = config or CoregConfig()
    feedback = feedback or NullFeedback()
    specs = read_pairs(pairs_csv)
    outroot = Path(outroot).absolute()
    outroot_created = _prepare_outroot(outroot)
    cancel = threading.Event()
    progress = _BatchFeedback(feedback, len(specs), cancel)
    outcomes: Dict[int, PairOutcome] = {}
    jobs: List[_Job] = []
    for i, spec in enumerate(specs):
        done, job = _plan(i, spec, outroot, config, overwrite)
        if done is not None:
            outcomes[i] = done
            progress.set(i, 100.0)
        else:
            jobs.append(job)
    cluster_text = "no cluster (every pair was complete)"
    interrupted = False
    if jobs:
        with quiet_dask_logs():
            try:
                client, cluster, cluster_text = connect(scheduler, n_workers)
            except InputError:
                if outroot_created:
                    _rmdir_quietly(outroot)
                raise
            try:
                interrupted = _run_jobs(jobs, client, config, progress, cancel, outcomes,
                                        max_parallel_pairs, chunk_windows)
            finally:
                client.close()
                if cluster is not None:
                    cluster.close()
    cancelled = interrupted or progress.is_canceled()
    for i, spec in enumerate(specs):  # pairs never started after a cancel
        outcomes.setdefault(i, PairOutcome(spec.name, "cancelled", "not started: the batch was cancelled",
                                           spec.optical, spec.sar, str(outroot / spec.name)))
    summary = BatchSummary(str(outroot), tuple(outcomes[i] for i in range(len(specs))),
                           time.perf_counter() - t0, cluster_text, cancelled, config_key(config))
    write_summary(summary)
    if cancelled:
        raise CancelledError(f"batch cancelled: {summary.counts()['ok']} pair(s) finished in this run and are "
                             f"kept; run the same command again to resume (see {outroot / SUMMARY_CSV})")
    return summary


def _run_jobs(jobs: List[_Job], client, config: CoregConfig, progress: _BatchFeedback,
              cancel: threading.Event, outcomes: Dict[int, PairOutcome],
              max_parallel_pairs: Optional[int], chunk_windows: Optional[int]) -> bool:
    """Run ``jobs`` on a pool of client threads; returns True when interrupted (Ctrl-C)."""
    try:
        threads = max(1, sum(client.nthreads().values()))
    except Exception:  # pragma: no cover
        threads = 1
    parallel = max(1, min(len(jobs), max_parallel_pairs or max(2, threads)))
    options = {"chunk_windows": chunk_windows, "in_flight": max(2, math.ceil(2 * threads / parallel))}
    turn = _WriteTurn(cancel)
    interrupted = False
    pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="sarcoreg-batch")
    try:
        futures = {pool.submit(_run_pair, job, client, config, progress.pair(job.index, job.spec.name),
                               turn, options): job for job in jobs}
        pending = set(futures)
        while pending:
            try:
                done, pending = wait(pending, timeout=_POLL_S, return_when=FIRST_COMPLETED)
            except KeyboardInterrupt:
                interrupted = True
                cancel.set()
                continue
            for f in done:
                if f.cancelled():  # never started: reported as such by run_batch
                    continue
                job = futures[f]
                outcomes[job.index] = f.result()
                progress.set(job.index, 100.0)
            if progress.is_canceled():
                cancel.set()
                for f in pending:
                    f.cancel()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return interrupted
