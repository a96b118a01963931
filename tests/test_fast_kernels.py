"""The fast kernels give the answers of the plain ones (``core/matchers/reference.py``).

Parity only: speed is measured by ``scripts/bench_scene.py`` and ``bench_matchers.py``, never here.
"""
import numpy as np
import pytest

from sarcoreg.core import radiometry
from sarcoreg.core.matchers import get_matcher, kernels, reference


@pytest.mark.parametrize("shape", [(3, 130, 97), (37, 20), (2, 5, 9), (4, 1, 6), (2, 3, 64, 48)])
@pytest.mark.parametrize("sigma", [0.5, 0.7, 1.0, 2.5, 4.0])
def test_blur_equals_the_dense_matrix_blur(shape, sigma):
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    got = kernels.gaussian_blur(x, sigma)
    assert got.dtype == np.float32 and got.shape == x.shape
    np.testing.assert_allclose(got, reference.gaussian_blur(x, sigma), atol=2e-6)


@pytest.mark.parametrize("channels,th,tw,rh,rw", [(3, 70, 64, 100, 90), (1, 20, 30, 41, 77), (9, 25, 25, 40, 40)])
@pytest.mark.parametrize("holes", ["none", "template", "reference", "both"])
def test_zncc_equals_the_plain_zncc(channels, th, tw, rh, rw, holes):
    rng = np.random.default_rng(channels + th)
    t = rng.standard_normal((channels, th, tw))
    r = rng.standard_normal((channels, rh, rw))
    r[:, 5:5 + th, 7:7 + tw] += 0.7 * t
    if holes in ("template", "both"):
        t[:, :4, :6] = np.nan
    if holes in ("reference", "both"):
        r[0, -5:, :] = np.nan
    got = kernels.zncc_surface(t, r)
    want = reference.zncc_surface(t, r)
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert np.unravel_index(np.argmax(got), got.shape) == (5, 7)


@pytest.mark.parametrize("dtype,offset", [(np.float32, 0.0), (np.float32, 30.0), (np.float64, 5e4)])
def test_zncc_of_float32_and_offset_inputs_equals_the_plain_zncc(dtype, offset):
    """The float32 path centres the reference in its own precision: a large offset (raw
    digital numbers) or float32 descriptors give the plain float64 answer."""
    rng = np.random.default_rng(4)
    t = rng.standard_normal((3, 48, 48))
    r = rng.standard_normal((3, 80, 80)) * 50.0 + offset
    r[:, 9:57, 11:59] += 40.0 * t
    t, r = t.astype(dtype), r.astype(dtype)
    got = kernels.zncc_surface(t, r)
    np.testing.assert_allclose(got, reference.zncc_surface(t, r), atol=2e-6)
    assert np.unravel_index(np.argmax(got), got.shape) == (9, 11)


def test_zncc_with_a_nearly_empty_reference_window_stays_exact():
    """Windows holding almost none of the reference's energy take the float64 path."""
    rng = np.random.default_rng(5)
    t = rng.standard_normal((2, 30, 30))
    r = np.zeros((2, 80, 80))
    r[:, :35, :35] = rng.standard_normal((2, 35, 35)) * 100.0
    r[:, 40:, 40:] = rng.standard_normal((2, 40, 40)) * 1e-4
    np.testing.assert_allclose(kernels.zncc_surface(t, r), reference.zncc_surface(t, r), atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8, np.int16])
@pytest.mark.parametrize("nan_share", [0.0, 0.3, 0.999])
def test_normalise_equals_the_plain_normalise(dtype, nan_share):
    rng = np.random.default_rng(2)
    x = (rng.standard_normal((61, 47)) * 30 + 100).astype(dtype)
    if nan_share and x.dtype.kind == "f":
        x[rng.random(x.shape) < nan_share] = np.nan
    got, want = radiometry.normalise(x), reference.normalise(x)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, atol=1e-6, equal_nan=True)
    np.testing.assert_array_equal(radiometry.normalise(np.array([3.0, 3.0, np.nan])), [0.0, 0.0, np.nan])


def test_box_sums_equal_integral_images():
    x = np.random.default_rng(3).standard_normal((3, 40, 50))
    np.testing.assert_allclose(kernels._box_sums(x, 7, 9), reference._box_sums(x, 7, 9), atol=1e-12)
    np.testing.assert_allclose(kernels._box_sums(x[0], 40, 50), reference._box_sums(x[0], 40, 50), atol=1e-12)


@pytest.mark.parametrize("spec", ["cfog", "cfog:abs", "mind"])
def test_matchers_give_the_same_peaks_on_real_windows(shared_data, spec):
    """Same peak to 1e-3 px and same confidence on real 512 / 384 optical-SAR windows."""
    from sarcoreg.core.samples import iter_samples

    name, _, proj = spec.partition(":")
    opts = {"projection": "abs", "n_orientations": 9} if proj else {}
    fast, plain = get_matcher(name, **opts), reference.get_matcher(name, **opts)
    samples = list(iter_samples(str(shared_data), 512, 384, 4, 0, "val"))
    assert samples
    for s in samples:
        t = s.template.copy()
        t[:40, :60] = np.nan     # a nodata corner: the masked path
        for tpl in (s.template, t):
            a, b = fast.match(tpl, s.reference), plain.match(tpl, s.reference)
            assert a.status == b.status
            if a.ok:
                assert abs(a.row - b.row) < 1e-3 and abs(a.col - b.col) < 1e-3, (a, b)
                assert abs(a.confidence - b.confidence) < 1e-3
                np.testing.assert_allclose(a.similarity, b.similarity, atol=1e-5)
