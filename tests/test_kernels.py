"""Numeric kernels: ZNCC against a brute-force reference, sub-pixel peaks, confidence, blur."""
from __future__ import annotations

import numpy as np
import pytest

from sarcoreg.core.errors import ShapeError
from sarcoreg.core.matchers.kernels import (fourier_shift, gaussian_blur, peak_confidence, peak_subpixel,
                                            zncc_surface)


def brute_zncc(template: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Masked, per-channel-centred Pearson correlation, one position at a time."""
    t = template if template.ndim == 3 else template[None]
    r = reference if reference.ndim == 3 else reference[None]
    valid = np.isfinite(t).all(axis=0)
    out = np.zeros((r.shape[1] - t.shape[1] + 1, r.shape[2] - t.shape[2] + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            w = r[:, i:i + t.shape[1], j:j + t.shape[2]]
            a = np.concatenate([t[c][valid] - t[c][valid].mean() for c in range(t.shape[0])])
            b = np.concatenate([w[c][valid] - w[c][valid].mean() for c in range(t.shape[0])])
            out[i, j] = (a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum())
    return out


def smooth_texture(shape, seed=0, sigma=2.0):
    rng = np.random.default_rng(seed)
    return gaussian_blur(rng.normal(size=shape), sigma) * 10 + 50


# --------------------------------------------------------------------------- zncc_surface

def test_zncc_matches_brute_force_single_channel():
    rng = np.random.default_rng(1)
    ref = rng.normal(size=(31, 40)) * 3 + 7
    tpl = ref[6:18, 9:23] * 2 - 1 + 0.3 * rng.normal(size=(12, 14))
    got = zncc_surface(tpl, ref)
    assert got.shape == (20, 27) and got.dtype == np.float32
    np.testing.assert_allclose(got, brute_zncc(tpl, ref), atol=1e-5)
    assert np.unravel_index(np.argmax(got), got.shape) == (6, 9)


def test_zncc_matches_brute_force_multichannel_with_nan_template():
    rng = np.random.default_rng(2)
    ref = rng.normal(size=(3, 30, 33)) + np.array([0.0, 4.0, -2.0])[:, None, None]
    tpl = ref[:, 4:16, 7:19] + 0.5 * rng.normal(size=(3, 12, 12))
    tpl[:, 2:5, 3:8] = np.nan
    tpl[1, 9, 9] = np.nan          # NaN in one channel drops the pixel in all channels
    np.testing.assert_allclose(zncc_surface(tpl, ref), brute_zncc(tpl, ref), atol=1e-5)


def test_zncc_is_invariant_to_affine_radiometry():
    ref = smooth_texture((64, 64), seed=3)
    tpl = ref[10:42, 5:37]
    a = zncc_surface(tpl, ref)
    b = zncc_surface(0.01 * tpl - 300.0, 5.0 * ref + 1e4)
    np.testing.assert_allclose(a, b, atol=1e-4)
    assert a[10, 5] == pytest.approx(1.0, abs=1e-5)


def test_zncc_flat_inputs_give_zero_surface():
    ref = smooth_texture((40, 40), seed=4)
    assert not zncc_surface(np.full((10, 10), 3.0), ref).any()
    assert not zncc_surface(ref[:10, :10], np.full((40, 40), 3.0)).any()
    flat_patch = ref.copy()
    flat_patch[:20, :20] = 1.0     # a window lying on a flat area scores 0, not NaN or inf
    s = zncc_surface(ref[25:35, 25:35], flat_patch)
    assert np.isfinite(s).all() and s[0, 0] == 0.0


def test_zncc_nan_in_reference_is_tolerated():
    ref = smooth_texture((80, 80), seed=5)
    tpl = ref[20:52, 30:62].copy()
    holed = ref.copy()
    holed[60:, :] = np.nan
    s = zncc_surface(tpl, holed)
    assert np.isfinite(s).all()
    assert np.unravel_index(np.argmax(s), s.shape) == (20, 30)


@pytest.mark.parametrize("tpl_shape, ref_shape", [((10, 10), (8, 20)), ((2, 5, 5), (3, 9, 9)), ((5,), (9, 9))])
def test_zncc_rejects_bad_shapes(tpl_shape, ref_shape):
    with pytest.raises(ShapeError):
        zncc_surface(np.ones(tpl_shape), np.ones(ref_shape))


# --------------------------------------------------------------------------- peaks

def test_peak_subpixel_on_exact_paraboloid():
    rows, cols = np.mgrid[0:21, 0:25]
    surface = 1.0 - 0.02 * (rows - 7.3) ** 2 - 0.05 * (cols - 15.6) ** 2
    r, c, v = peak_subpixel(surface)
    assert r == pytest.approx(7.3, abs=1e-9) and c == pytest.approx(15.6, abs=1e-9)
    assert v == pytest.approx(1.0, abs=1e-9)


def test_peak_subpixel_borders_nan_and_clamp():
    s = np.zeros((5, 6))
    s[0, 3], s[1, 3], s[0, 4] = 1.0, 0.2, 0.9     # row on the border: stays integer
    r, c, _ = peak_subpixel(s)
    assert r == 0.0 and 3.0 < c < 3.5
    s = np.full((5, 5), np.nan)
    assert all(np.isnan(peak_subpixel(s)))
    s[2, 2], s[2, 1], s[2, 3] = 1.0, 0.99, np.nan  # NaN neighbour: that axis stays integer
    assert peak_subpixel(s)[:2] == (2.0, 2.0)
    s = np.zeros((3, 3))
    s[1, 1], s[1, 2] = 1.0, 1.0                    # flat top: offset clamped to +0.5
    assert peak_subpixel(s)[1] == pytest.approx(1.5)


def test_peak_confidence_extremes_and_invariance():
    flat = np.full((33, 33), 0.4)
    assert peak_confidence(flat, 16, 16, 4) == 0.0
    assert peak_confidence(np.full((5, 5), np.nan), 2, 2, 4) == 0.0
    spike = np.zeros((33, 33))
    spike[10, 20] = 1.0
    assert peak_confidence(spike, 10, 20, 4) == pytest.approx(1.0)
    twin = spike.copy()
    twin[25, 3] = 1.0
    assert peak_confidence(twin, 10, 20, 4) == pytest.approx(0.0)
    rng = np.random.default_rng(0)
    s = rng.normal(size=(40, 40)) * 0.1
    s[12, 30] = 1.0
    c = peak_confidence(s, 12, 30, 4)
    assert 0.3 < c < 1.0
    assert peak_confidence(3.0 * s - 2.0, 12, 30, 4) == pytest.approx(c)
    # nothing outside the exclusion disc: cannot be judged
    assert peak_confidence(np.eye(3), 1, 1, 10) == 0.0


# --------------------------------------------------------------------------- filters

def test_gaussian_blur_against_direct_convolution():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(2, 30, 41)).astype(np.float32)
    sigma = 1.7
    got = gaussian_blur(x, sigma)
    radius = int(np.ceil(3 * sigma))
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    k /= k.sum()
    i, j = 15, 20   # interior pixel: plain 2-D convolution
    want = (x[1, i - radius:i + radius + 1, j - radius:j + radius + 1] * np.outer(k, k)).sum()
    assert got[1, i, j] == pytest.approx(want, abs=1e-5)
    const = np.full((17, 23), 4.0)
    np.testing.assert_allclose(gaussian_blur(const, 2.5), const, rtol=1e-6)  # mirrored borders keep constants
    np.testing.assert_array_equal(gaussian_blur(x, 0), x)


def test_fourier_shift_integer_equals_roll():
    x = smooth_texture((32, 40), seed=7)
    np.testing.assert_allclose(fourier_shift(x, 3, -5), np.roll(x, (3, -5), axis=(0, 1)), atol=1e-3)


# --------------------------------------------------------------------------- sub-pixel recovery

def _recover(image: np.ndarray, dy: float, dx: float) -> tuple:
    """Shift ``image`` by (dy, dx), cut a template from the original and find it in the shifted one."""
    shifted = fourier_shift(image, dy, dx)
    tpl = image[70:198, 80:208]
    ref = shifted[40:232, 40:232]
    r, c, _ = peak_subpixel(zncc_surface(tpl, ref))
    return r - (30 + dy), c - (40 + dx)


@pytest.mark.parametrize("dy, dx", [(0.25, -0.4), (-0.5, 0.5), (1.37, -2.81), (0.1, 0.0)])
def test_subpixel_shift_recovered_on_generated_texture(dy, dx):
    err = _recover(smooth_texture((272, 272), seed=8, sigma=1.5), dy, dx)
    assert np.hypot(*err) < 0.2, err


@pytest.mark.shared_data
@pytest.mark.parametrize("dy, dx", [(0.3, -0.45), (-1.5, 2.2), (0.5, 0.5)])
def test_subpixel_shift_recovered_on_real_crops(shared_data, dy, dx):
    from sarcoreg.core.samples import list_pairs, load_pair

    pair = list_pairs(str(shared_data), "all")[0]
    optical, sar = load_pair(pair)
    for image in (optical[300:572, 400:672], sar[300:572, 400:672]):
        err = _recover(image.astype(np.float64), dy, dx)
        assert np.hypot(*err) < 0.2, (pair.pair_id, err)


@pytest.mark.shared_data
def test_confidence_high_for_true_match_low_for_noise(shared_data):
    from sarcoreg.core.samples import list_pairs, load_pair

    optical, _ = load_pair(list_pairs(str(shared_data), "all")[1])
    ref = optical[100:356, 100:356]
    tpl = optical[140:332, 130:322]
    s = zncc_surface(tpl, ref)
    r, c, _ = peak_subpixel(s)
    assert (round(r), round(c)) == (40, 30)
    high = peak_confidence(s, r, c, 4)
    noise = np.random.default_rng(9).normal(size=tpl.shape)
    s_noise = zncc_surface(noise, ref)
    low = peak_confidence(s_noise, *peak_subpixel(s_noise)[:2], 4)
    assert high > 0.6 and low < 0.3, (high, low)


def test_shift_image_moves_content_by_fractions_of_a_pixel():
    from sarcoreg.core.matchers.kernels import shift_image

    y, x = np.mgrid[0:40, 0:40].astype(np.float64)
    plane = 2 * y - 3 * x
    inner = (slice(5, -5), slice(5, -5))
    # content at (i, j) goes to (i + dr, j + dc): the plane is read at (i - dr, j - dc)
    np.testing.assert_allclose(shift_image(plane, 0.3, -1.25)[inner], (2 * (y - 0.3) - 3 * (x + 1.25))[inner],
                               atol=1e-4)
    rng = np.random.default_rng(0)
    noise = rng.random((30, 30))
    np.testing.assert_allclose(shift_image(noise, 2, -3)[inner], np.roll(noise, (2, -3), axis=(0, 1))[inner],
                               atol=1e-6)
    blob = np.exp(-((y - 12) ** 2 + (x - 14) ** 2) / 8)
    moved = shift_image(blob, 0.3, -0.4)
    assert (moved * y).sum() / moved.sum() == pytest.approx(12.3, abs=1e-3)
    assert (moved * x).sum() / moved.sum() == pytest.approx(13.6, abs=1e-3)
    assert shift_image(noise, 0, 0).dtype == np.float32
