"""ZNCC on raw pixels: the baseline that shows why optical–SAR needs more.

Optical and SAR brightness are not linearly related, so this matcher mostly fails across
modalities; it is exact for same-modality pairs and serves as the reference point.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .base import Match
from .common import check_pair, finish_match, input_status
from .kernels import zncc_surface


@dataclass(frozen=True)
class ZnccConfig:
    exclusion_radius_px: float = 4.0   # peak_confidence radius


class ZnccMatcher:
    """``zncc_surface`` of the template against the reference, sub-pixel peak, confidence."""

    name = "zncc"

    def __init__(self, config: ZnccConfig = ZnccConfig()) -> None:
        self.config = config

    def match(self, template: np.ndarray, reference: np.ndarray) -> Match:
        start = time.perf_counter()
        t, r = check_pair(template, reference)
        status = input_status(t, r)
        if status:
            return Match.failed(status, time.perf_counter() - start)
        return finish_match(zncc_surface(t, r), self.config.exclusion_radius_px, start)
