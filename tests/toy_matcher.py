"""A toy matcher in one file, for the test that a new matcher needs no other edit.

It answers what CFOG answers and, like a learned matcher, also returns a picture of the
template it compared (here simply the template with its contrast inverted), and takes the
run option ``batch_size`` from the registry.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from sarcoreg.core.matchers import Match, get_matcher


class ToyMatcher:
    name = "toy"

    def __init__(self, batch_size: int = 0) -> None:
        self.batch_size = max(1, int(batch_size or 1))
        self._inner = get_matcher("cfog")

    def match(self, template: np.ndarray, reference: np.ndarray) -> Match:
        found = self._inner.match(template, reference)
        return replace(found, translated=-np.asarray(template, dtype=np.float32))
