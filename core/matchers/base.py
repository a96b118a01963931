"""The matcher contract: ``match(template, reference) -> Match``.

Inputs
    ``template``: float32 array ``(T, T)`` (optical, grey), NaN where there is no data.
    ``reference``: float32 array ``(R, R)`` with ``R >= T`` (SAR, already in dB), NaN where no data.

Output (``Match``)
    ``row, col``: sub-pixel position of the template's *top-left pixel* inside the reference,
    in reference pixels; the template centred in the reference is at
    ``((R - T) / 2, (R - T) / 2)``.
    ``similarity``: float32 ``(R - T + 1, R - T + 1)``; ``similarity[i, j]`` scores the
    candidate whose template top-left pixel is at reference ``(i, j)``. Higher is better.
    ``score``: similarity at the peak; ``confidence`` in [0, 1] from how distinct the peak is.
    ``status``: ``"ok"`` or a short reason why no match was found (``"flat"``, ``"nodata"``...).
    A failed match is data with a status, never an exception.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class Match:
    row: float
    col: float
    score: float
    confidence: float
    similarity: Optional[np.ndarray] = field(default=None, repr=False, compare=False)
    status: str = "ok"
    seconds: float = 0.0
    # Optional picture of what the matcher compared (e.g. the SAR-like translation of the
    # template for a learned matcher); same shape as the template.
    translated: Optional[np.ndarray] = field(default=None, repr=False, compare=False)
    # Why the answer deserves a second look even though it is "ok" (empty when nothing to say),
    # e.g. a learned matcher that disagreed with its classical part and kept the classical answer.
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @staticmethod
    def failed(status: str, seconds: float = 0.0) -> "Match":
        return Match(float("nan"), float("nan"), float("nan"), 0.0, None, status, seconds)


@runtime_checkable
class Matcher(Protocol):
    """Anything with a ``name`` and ``match(template, reference) -> Match``."""

    name: str

    def match(self, template: np.ndarray, reference: np.ndarray) -> Match:  # pragma: no cover
        ...
