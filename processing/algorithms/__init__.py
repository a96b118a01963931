"""Thin Processing algorithms: each converts its parameters to paths and options, calls
``sarcoreg.core`` with a feedback adapter, and returns the output paths."""
from __future__ import annotations


def all_algorithms() -> list:
    """A new instance of every algorithm of the provider."""
    from .apply_correction import ApplyCorrectionAlgorithm
    from .batch import BatchAlgorithm
    from .coregister import CoregisterAlgorithm
    from .evaluate import EvaluateAlgorithm
    from .match_batch import MatchBatchAlgorithm

    return [CoregisterAlgorithm(), BatchAlgorithm(), ApplyCorrectionAlgorithm(), MatchBatchAlgorithm(),
            EvaluateAlgorithm()]
