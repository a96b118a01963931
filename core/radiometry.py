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


_BRACKET_MIN = 1 << 15      # below this many values a plain partition is as fast
_BRACKET_SAMPLE = 4096      # values of the strided sample that brackets an order statistic


def _order_statistics(v: np.ndarray, kth) -> dict:
    """``{k: np.partition(v, k)[k]}`` for the sorted ranks ``kth`` of the finite 1-D ``v``.

    Exact, without partitioning all of ``v``: for each group of nearby ranks a strided sample
    gives two values that bracket them (with a wide margin), one count says how many values
    lie below the bracket, and only the values inside it are partitioned. Where a bracket
    misses (the count shows it), the whole array is partitioned, so the result never depends
    on the sample."""
    n = v.size
    if n < _BRACKET_MIN:
        part = np.partition(v, kth)
        return {k: part[k] for k in kth}
    # an odd stride, so that the sample of an image's rows does not keep to a few columns
    sample = np.sort(v[::max(1, n // _BRACKET_SAMPLE) | 1])
    m = sample.size
    out = {}
    for group in _nearby(kth, n // 64):
        p = min(max(group[0] / n, 1.0 / m), 1.0 - 1.0 / m)
        margin = int(6.0 * np.sqrt(p * (1.0 - p) * m)) + 8      # six standard errors of the sample rank
        r_lo = group[0] * m // n - margin
        r_hi = group[-1] * m // n + margin
        lo = sample[r_lo] if r_lo >= 0 else None
        hi = sample[r_hi] if r_hi < m else None
        below = int(np.count_nonzero(v < lo)) if lo is not None else 0
        if lo is None and hi is None:
            inside = v
        elif lo is None:
            inside = v[v <= hi]
        elif hi is None:
            inside = v[v >= lo]
        else:
            inside = v[(v >= lo) & (v <= hi)]
        ranks = [k - below for k in group]
        if ranks[0] < 0 or ranks[-1] >= inside.size:      # the bracket missed: no shortcut
            part = np.partition(v, kth)
            return {k: part[k] for k in kth}
        part = np.partition(inside, ranks)
        out.update({k: part[r] for k, r in zip(group, ranks)})
    return out


def _nearby(kth, gap: int) -> list:
    """The sorted ranks ``kth`` in groups whose neighbours are at most ``gap`` apart."""
    groups = [[kth[0]]]
    for k in kth[1:]:
        if k - groups[-1][-1] <= gap:
            groups[-1].append(k)
        else:
            groups.append([k])
    return groups


def _percentiles(v: np.ndarray, qs) -> list:
    """``np.percentile(v, qs)`` (linear interpolation) of a finite 1-D float array, in
    float64, from exact order statistics (``_order_statistics``) in ``v``'s own dtype (a
    float32 array is not copied to float64 first)."""
    n = v.size
    pos = [q / 100.0 * (n - 1) for q in qs]
    kth = sorted({min(int(np.floor(p)) + d, n - 1) for p in pos for d in (0, 1)})
    part = _order_statistics(v, kth)
    out = []
    for p in pos:
        k = int(np.floor(p))
        a, b, t = float(part[k]), float(part[min(k + 1, n - 1)]), p - k
        diff = b - a   # numpy's lerp: from the nearer end
        out.append(b - diff * (1.0 - t) if t >= 0.5 else a + diff * t)
    return out


def normalise(values: np.ndarray, low_pct: float = 1.0, high_pct: float = 99.0) -> np.ndarray:
    """Robust zero-mean, unit-variance float32 copy of ``values``; NaN stays NaN.

    Values are first clipped to the ``[low_pct, high_pct]`` percentiles of the finite
    values (so a few bright scatterers or dark fills do not set the scale), then shifted and
    scaled by the mean and standard deviation of the clipped finite values. A constant (or
    all-NaN) array gives zeros (NaN kept). Arithmetic in float64 (``matchers.reference.normalise``
    is the plain version this one is checked against).
    """
    x = np.asarray(values)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    valid = np.isfinite(x)
    all_valid = bool(valid.all())
    if not all_valid and not valid.any():
        return np.full(x.shape, np.nan, dtype=np.float32)
    v = x.reshape(-1) if all_valid else x[valid]
    lo, hi = _percentiles(v, (low_pct, high_pct))
    v = v.astype(np.float64)
    np.clip(v, lo, hi, out=v)
    mean = v.mean()
    v -= mean
    std = float(np.sqrt(np.dot(v, v) / v.size))
    if not std > 1e-12 * max(1.0, abs(mean)):
        v[:] = 0.0
    else:
        v /= std
    if all_valid:
        return v.astype(np.float32).reshape(x.shape)
    out = np.full(x.shape, np.nan, dtype=np.float32)
    out[valid] = v
    return out
