"""Adapters from QGIS progress objects to the engine's ``Feedback`` protocol.

``core.feedback.Feedback`` is ``set_progress(percent)``, ``is_canceled()`` and
``info(message)``; QGIS speaks ``setProgress`` / ``isCanceled`` / ``pushInfo``.
"""
from __future__ import annotations


class ProcessingFeedbackAdapter:
    """Engine feedback that reports to a ``QgsProcessingFeedback``.

    ``start`` and ``span`` map the engine's 0-100 % onto a slice of the algorithm's bar,
    for an algorithm that runs more than one engine step.
    """

    def __init__(self, feedback, start: float = 0.0, span: float = 100.0) -> None:
        self._feedback = feedback
        self._start = float(start)
        self._span = float(span)

    def set_progress(self, percent: float) -> None:
        if self._feedback is not None:
            self._feedback.setProgress(self._start + self._span * float(percent) / 100.0)

    def is_canceled(self) -> bool:
        return bool(self._feedback is not None and self._feedback.isCanceled())

    def info(self, message: str) -> None:
        if self._feedback is not None:
            self._feedback.pushInfo(message)
