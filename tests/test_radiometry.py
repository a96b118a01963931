"""SAR to dB and robust normalisation."""
from __future__ import annotations

import numpy as np
import pytest

from sarcoreg.core.errors import InputError
from sarcoreg.core.radiometry import normalise, to_db


def test_to_db_kinds_agree_on_the_same_backscatter():
    amplitude = np.array([[0.1, 1.0], [10.0, np.nan]])
    a = to_db(amplitude, "amplitude")
    p = to_db(amplitude ** 2, "power")
    assert a.dtype == np.float32
    np.testing.assert_allclose(a[:1], [[-20.0, 0.0]], atol=1e-5)
    np.testing.assert_allclose(a, p, atol=1e-4)
    assert np.isnan(a[1, 1]) and np.isnan(p[1, 1])
    db = np.array([-12.5, 3.0, np.inf], dtype=np.float64)
    out = to_db(db, "DB")
    assert out[0] == pytest.approx(-12.5) and np.isnan(out[2])


def test_to_db_zero_becomes_darkest_not_infinite():
    out = to_db(np.array([0, 2, 4, 200], dtype=np.uint8), "amplitude")
    assert np.isfinite(out).all()
    assert out[0] == out[1] == pytest.approx(20 * np.log10(2))
    assert np.isnan(to_db(np.zeros(3), "power")).all()


def test_to_db_refuses_complex_and_unknown_kind():
    with pytest.raises(InputError, match="complex"):
        to_db(np.ones(3, dtype=np.complex64), "amplitude")
    with pytest.raises(InputError, match="amplitude, power, db"):
        to_db(np.ones(3), "sigma0")


def test_normalise_is_robust_and_keeps_nan():
    rng = np.random.default_rng(0)
    x = rng.normal(5.0, 2.0, size=10000)
    x[:20] = 1e6                       # a few bright scatterers must not set the scale
    x[20] = np.nan
    y = normalise(x)
    assert np.isnan(y[20]) and y.dtype == np.float32
    finite = y[np.isfinite(y)]
    assert abs(finite.mean()) < 1e-5 and finite.std() == pytest.approx(1.0, abs=1e-4)
    assert finite.max() < 4.0          # the outliers were clipped to the 99th percentile
    flat = normalise(np.array([3.0, 3.0, np.nan]))
    assert flat[0] == 0.0 and np.isnan(flat[2])


@pytest.mark.parametrize("case", ["normal", "three levels", "sorted", "constant", "exponential", "mostly zero",
                                  "small", "sample misleads"])
def test_percentiles_equal_numpys_exactly(case):
    """The bracketed order statistics give numpy's percentiles to the bit, also where the
    strided sample is unrepresentative and the whole array has to be partitioned."""
    from sarcoreg.core import radiometry

    rng = np.random.default_rng(7)
    n = 262144
    v = {"normal": lambda: rng.normal(size=n),
         "three levels": lambda: rng.integers(0, 3, n),
         "sorted": lambda: np.sort(rng.normal(size=200000)),
         "constant": lambda: np.full(100000, 5.0),
         "exponential": lambda: rng.exponential(size=147456),
         "mostly zero": lambda: np.concatenate([np.zeros(250000), rng.normal(size=12144)]),
         "small": lambda: rng.normal(size=4000),
         "sample misleads": lambda: _sampled_apart(n)}[case]().astype(np.float32)
    for qs in ((1.0, 99.0), (0.0, 100.0), (50.0,), (25.0,), (1.0, 2.0, 99.0)):
        got = radiometry._percentiles(v, qs)
        assert np.array_equal(np.float64(got), np.percentile(v.astype(np.float64), qs)), (case, qs)


def _sampled_apart(n):
    """Every value the strided sample takes is the lower quartile: its bracket of the
    median holds that value alone and misses the median's rank."""
    from sarcoreg.core import radiometry

    v = np.linspace(0.0, 1.0, n)
    v[::max(1, n // radiometry._BRACKET_SAMPLE) | 1] = 0.25
    return v


def test_a_missed_bracket_falls_back_to_the_whole_array(monkeypatch):
    from sarcoreg.core import radiometry

    sizes = []
    partition = np.partition
    monkeypatch.setattr(radiometry.np, "partition", lambda a, k: sizes.append(a.size) or partition(a, k))
    v = _sampled_apart(262144).astype(np.float32)
    got = radiometry._percentiles(v, (50.0,))
    assert np.array_equal(np.float64(got), np.percentile(v.astype(np.float64), (50.0,)))
    assert sizes[-1] == v.size            # the shortcut was refused
    sizes.clear()
    radiometry._percentiles(np.linspace(0.0, 1.0, 262144).astype(np.float32), (1.0, 99.0))
    assert max(sizes) < 262144 // 20      # and taken where the sample is fair
