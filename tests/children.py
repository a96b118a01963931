"""What tests share to drive long work: cancelling feedback, and child-process set-up."""
from __future__ import annotations

import os
import signal

from sarcoreg.core.feedback import NullFeedback


class CancelAt(NullFeedback):
    """Feedback that asks to cancel once progress reaches ``percent``."""

    def __init__(self, percent: float) -> None:
        super().__init__()
        self.percent = percent

    def set_progress(self, percent: float) -> None:
        super().set_progress(percent)
        if percent >= self.percent:
            self.cancel()


def default_ctrl_c() -> None:
    """In the child: Ctrl-C acts as in a terminal, even when the test process (QGIS, Dask)
    runs with SIGINT ignored, which a child would otherwise inherit."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def child_env() -> dict:
    """The environment for child processes: no PYTHONPATH, and one BLAS thread, as Dask gives
    its workers (a matrix product split over more threads may differ in the last bits)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


def interrupt_when(proc, ready, timeout_s: float = 120.0):
    """Send Ctrl-C to ``proc`` once ``ready()`` is true; return its ``(stdout, stderr)``.

    Fails if the process ended before it could be interrupted; kills it if it outlives the
    interrupt by ``timeout_s``.
    """
    import time
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and proc.poll() is None:
            if ready():
                break
            time.sleep(0.1)
        assert proc.poll() is None, ("the run ended before it could be interrupted", proc.communicate())
        proc.send_signal(signal.SIGINT)
        return proc.communicate(timeout=timeout_s)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
