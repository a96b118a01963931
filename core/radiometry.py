"""Radiometry shared by every matcher: SAR to dB, and a robust normalisation.

Pure numpy; NaN means "no data" on input and output.
"""
from __future__ import annotations

import numpy as np

from .errors import InputError

SAR_KINDS = ("amplitude", "power", "db")


def to_db(values: np.ndarray, kind: str) -> np.ndarray:
    """SAR values of ``kind`` → decibels, float32, same shape.

    ``amplitude``: ``20·log10(a)``; ``power`` (linear intensity): ``10·log10(p)``; ``db``:
    unchanged. Non-finite inputs become NaN. Linear values ``<= 0`` (dark water, clipped
    8-bit zeros) have no logarithm: they are replaced by the smallest positive value of the
    array before the logarithm, so they become the darkest pixel rather than ``-inf``; an
    array without any positive value gives all NaN. Complex (SLC) input is refused.
    """
    arr = np.asarray(values)
    if np.iscomplexobj(arr):
        raise InputError("SAR values are complex (SLC): detect them first (amplitude, power or dB)")
    key = str(kind).lower()
    if key not in SAR_KINDS:
        raise InputError(f"SAR kind {kind!r} is unknown: use one of {', '.join(SAR_KINDS)}")
    x = arr.astype(np.float64, copy=True)
    x[~np.isfinite(x)] = np.nan
    if key == "db":
        return x.astype(np.float32)
    with np.errstate(invalid="ignore"):
        positive = x > 0
        nonpositive = x <= 0
    if positive.any():
        x[nonpositive] = x[positive].min()
    else:
        x[nonpositive] = np.nan
    factor = 20.0 if key == "amplitude" else 10.0
    with np.errstate(invalid="ignore", divide="ignore"):
        out = factor * np.log10(x)
    return out.astype(np.float32)


def normalise(values: np.ndarray, low_pct: float = 1.0, high_pct: float = 99.0) -> np.ndarray:
    """Robust zero-mean, unit-variance float32 copy of ``values``; NaN stays NaN.

    Values are first clipped to the ``[low_pct, high_pct]`` percentiles of the finite
    values (so a few bright scatterers or dark fills do not set the scale), then shifted and
    scaled by the mean and standard deviation of the clipped finite values. A constant (or
    all-NaN) array gives zeros (NaN kept).
    """
    x = np.asarray(values, dtype=np.float64)
    out = np.full(x.shape, np.nan, dtype=np.float32)
    valid = np.isfinite(x)
    if not valid.any():
        return out
    v = x[valid]
    lo, hi = np.percentile(v, [low_pct, high_pct])
    v = np.clip(v, lo, hi)
    std = v.std()
    if not std > 1e-12 * max(1.0, abs(v.mean())):
        out[valid] = 0.0
        return out
    out[valid] = ((v - v.mean()) / std).astype(np.float32)
    return out
