"""Progress and cancellation, passed *into* long work.

The engine never prints; it reports through a ``Feedback`` object and logs.  Adapters for
QgsTask / QgsProcessingFeedback live with the QGIS code; the terminal bar lives in the CLI.
"""
from __future__ import annotations

import logging
import threading
from typing import Protocol

from .errors import CancelledError

log = logging.getLogger("sarcoreg")


class Feedback(Protocol):
    def set_progress(self, percent: float) -> None: ...
    def is_canceled(self) -> bool: ...
    def info(self, message: str) -> None: ...


class NullFeedback:
    """Feedback that only logs and can be cancelled from another thread."""

    def __init__(self) -> None:
        self._cancel = threading.Event()
        self.progress = 0.0

    def set_progress(self, percent: float) -> None:
        self.progress = float(percent)

    def is_canceled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def info(self, message: str) -> None:
        log.info(message)


def check_cancel(feedback: Feedback) -> None:
    """Raise ``CancelledError`` when the user asked to stop."""
    if feedback.is_canceled():
        raise CancelledError("cancelled by the user: no output was written under a final name")
