"""Plain, slow implementations kept as the reference for the fast kernels.

These are the matcher kernels as they were before they were optimised (dense-matrix
Gaussian blur, full 2-D integral images, ``numpy.fft`` on full spectra, ``radiometry``'s
first ``normalise``). They are not used by the engine: the parity tests check that the fast
kernels give the same surfaces and peaks, and ``scripts/bench_scene.py`` times the two side by
side. Keep them unchanged: they define what "same answer" means.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..stages import stage
from .kernels import _as_stack

__all__ = ["normalise", "gaussian_blur", "zncc_surface", "cfog_descriptor", "mind_descriptor", "get_matcher"]


def normalise(values: np.ndarray, low_pct: float = 1.0, high_pct: float = 99.0) -> np.ndarray:
    """``radiometry.normalise``: clip to percentiles, zero mean, unit variance; NaN stays NaN."""
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


@lru_cache(maxsize=64)
def _gaussian_matrix(n: int, sigma: float) -> np.ndarray:
    radius = max(1, int(np.ceil(3.0 * sigma)))
    taps = np.arange(-radius, radius + 1)
    weights = np.exp(-0.5 * (taps / sigma) ** 2)
    weights /= weights.sum()
    idx = np.arange(n)[:, None] + taps[None, :]
    idx = np.mod(idx, 2 * n)
    idx = np.where(idx >= n, 2 * n - 1 - idx, idx)
    mat = np.zeros((n, n), dtype=np.float64)
    np.add.at(mat, (np.repeat(np.arange(n), taps.size), idx.ravel()), np.tile(weights, n))
    mat = mat.astype(np.float32)
    mat.setflags(write=False)
    return mat


def gaussian_blur(image: np.ndarray, sigma_px: float) -> np.ndarray:
    """``kernels.gaussian_blur`` as two dense matrix products (mirrored borders)."""
    x = np.asarray(image, dtype=np.float32)
    if not sigma_px > 0:
        return x.copy()
    h, w = x.shape[-2:]
    return np.matmul(np.matmul(_gaussian_matrix(h, float(sigma_px)), x), _gaussian_matrix(w, float(sigma_px)).T)


def _fast_len(n: int) -> int:
    m = n
    while True:
        k = m
        for p in (2, 3, 5):
            while k % p == 0:
                k //= p
        if k == 1:
            return m
        m += 1


def _box_sums(x: np.ndarray, h: int, w: int) -> np.ndarray:
    *lead, H, W = x.shape
    ii = np.zeros((*lead, H + 1, W + 1), dtype=np.float64)
    np.cumsum(x, axis=-2, out=ii[..., 1:, 1:])
    np.cumsum(ii[..., 1:, 1:], axis=-1, out=ii[..., 1:, 1:])
    oh, ow = H - h + 1, W - w + 1
    return (ii[..., h:h + oh, w:w + ow] - ii[..., :oh, w:w + ow]
            - ii[..., h:h + oh, :ow] + ii[..., :oh, :ow])


def zncc_surface(template: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``kernels.zncc_surface`` on full ``numpy.fft`` spectra and 2-D integral images."""
    with stage("fft"):     # the same stage as the fast kernel, for side-by-side splits
        return _zncc_surface(template, reference)


def _zncc_surface(template: np.ndarray, reference: np.ndarray) -> np.ndarray:
    t = _as_stack(template, "template")
    r = _as_stack(reference, "reference")
    c, th, tw = t.shape
    _, rh, rw = r.shape
    oh, ow = rh - th + 1, rw - tw + 1
    t = t.astype(np.float64)
    t_valid = np.isfinite(t).all(axis=0)
    n = int(t_valid.sum())
    if n < 2:
        return np.zeros((oh, ow), dtype=np.float32)
    t = np.where(t_valid, t, 0.0)
    t_mean = t.sum(axis=(1, 2)) / n
    t0 = np.where(t_valid, t - t_mean[:, None, None], 0.0)
    t_ss = float((t0 * t0).sum())
    if not t_ss > 1e-12 * n * max(1.0, float(np.abs(t_mean).max())) ** 2:
        return np.zeros((oh, ow), dtype=np.float32)
    r = r.astype(np.float64)
    r_finite = np.isfinite(r)
    counts = r_finite.sum(axis=(1, 2))
    r_mean = np.where(counts > 0, np.where(r_finite, r, 0.0).sum(axis=(1, 2)) / np.maximum(counts, 1), 0.0)
    r0 = np.where(r_finite, r - r_mean[:, None, None], 0.0)
    shape = (_fast_len(rh), _fast_len(rw))
    f_r = np.fft.rfft2(r0, s=shape)
    f_t = np.fft.rfft2(t0, s=shape)
    num = np.fft.irfft2((f_r * f_t.conj()).sum(axis=0), s=shape)[:oh, :ow]
    r_sq = (r0 * r0).sum(axis=0)
    if t_valid.all():
        s1 = _box_sums(r0, th, tw)
        s2 = _box_sums(r_sq, th, tw)
    else:
        f_m = np.fft.rfft2(t_valid.astype(np.float64), s=shape).conj()
        s1 = np.fft.irfft2(f_r * f_m, s=shape)[:, :oh, :ow]
        s2 = np.fft.irfft2(np.fft.rfft2(r_sq, s=shape) * f_m, s=shape)[:oh, :ow]
    r_ss = s2 - (s1 * s1).sum(axis=0) / n
    tol = 1e-9 * float(r_sq.sum()) * n / (rh * rw) + 1e-300
    ok = r_ss > tol
    surface = np.zeros((oh, ow), dtype=np.float64)
    surface[ok] = num[ok] / np.sqrt(t_ss * r_ss[ok])
    np.clip(surface, -1.0, 1.0, out=surface)
    return surface.astype(np.float32)


# --------------------------------------------------------------------------- descriptors

def _prepare(image):
    x = normalise(np.asarray(image))
    invalid = ~np.isfinite(x)
    if invalid.any():
        return np.where(invalid, np.float32(0.0), x), invalid
    return x, None


def _invalidate(desc, invalid, reach_px):
    if invalid is None:
        return desc
    spread = gaussian_blur(invalid.astype(np.float32), max(reach_px / 2.0, 0.5))
    desc = desc.copy()
    desc[:, spread > 0.02] = np.nan
    return desc


def _gradient(x):
    g_row = np.empty_like(x)
    g_col = np.empty_like(x)
    g_row[1:-1] = 0.5 * (x[2:] - x[:-2])
    g_row[0], g_row[-1] = x[1] - x[0], x[-1] - x[-2]
    g_col[:, 1:-1] = 0.5 * (x[:, 2:] - x[:, :-2])
    g_col[:, 0], g_col[:, -1] = x[:, 1] - x[:, 0], x[:, -1] - x[:, -2]
    return g_row, g_col


def _soft_l2(desc, norm_floor):
    norm2 = (desc * desc).sum(axis=0)
    floor = norm_floor * float(np.sqrt(norm2).mean())
    return desc / np.sqrt(norm2 + floor * floor + 1e-30)[None]


def cfog_descriptor(image, config):
    """``descriptor.cfog_descriptor`` on the reference kernels."""
    from .descriptor import cfog_reach_px
    x, invalid = _prepare(image)
    if config.presmooth_px > 0:
        x = gaussian_blur(x, config.presmooth_px)
    g_row, g_col = _gradient(x)
    n = config.n_orientations
    if config.projection == "square":
        mag2 = g_row * g_row + g_col * g_col
        weight = np.power(mag2 + 1e-12, (config.magnitude_power - 2.0) / 2.0)
        desc = np.stack([mag2 * weight, (g_col * g_col - g_row * g_row) * weight, 2.0 * g_col * g_row * weight])
        desc = gaussian_blur(desc.astype(np.float32), config.sigma_px)
        desc[1:] *= np.float32(1.0 / np.sqrt(2.0))
    else:
        angles = np.arange(n) * (np.pi / n)
        desc = np.abs(np.cos(angles)[:, None, None] * g_col[None] + np.sin(angles)[:, None, None] * g_row[None])
        desc = gaussian_blur(desc.astype(np.float32), config.sigma_px)
        desc = 0.25 * (np.roll(desc, 1, axis=0) + 2.0 * desc + np.roll(desc, -1, axis=0))
    desc = _soft_l2(desc, config.norm_floor)
    return _invalidate(desc.astype(np.float32), invalid, cfog_reach_px(config))


def _shifted(x, d_row, d_col):
    h, w = x.shape
    rows = np.clip(np.arange(h) + d_row, 0, h - 1)
    cols = np.clip(np.arange(w) + d_col, 0, w - 1)
    return x[rows][:, cols]


def mind_descriptor(image, config):
    """``descriptor.mind_descriptor`` on the reference kernels."""
    from .descriptor import _mind_offsets, mind_reach_px
    x, invalid = _prepare(image)
    if config.presmooth_px > 0:
        x = gaussian_blur(x, config.presmooth_px)
    diffs = np.stack([(x - _shifted(x, dr, dc)) ** 2 for dr, dc in _mind_offsets(config)])
    dist = gaussian_blur(diffs, config.sigma_px)
    var = dist.mean(axis=0)
    floor = config.var_floor * float(var.mean()) + 1e-12
    var = np.clip(var, floor, None)
    desc = np.exp(-(dist - dist.min(axis=0)[None]) / var[None])
    if config.post_sigma_px > 0:
        desc = gaussian_blur(desc, config.post_sigma_px)
    return _invalidate(desc.astype(np.float32), invalid, mind_reach_px(config))


def get_matcher(name: str, **options):
    """The ``cfog`` or ``mind`` matcher of the registry, built on these reference kernels."""
    from . import _config
    from .descriptor import CfogConfig, DescriptorMatcher, MindConfig, cfog_reach_px, mind_reach_px
    if name == "cfog":
        cfg = _config(CfogConfig, name, options)
        describe, border = (lambda im: cfog_descriptor(im, cfg)), cfg.border_px or math.ceil(cfog_reach_px(cfg))
    elif name == "mind":
        cfg = _config(MindConfig, name, options)
        describe, border = (lambda im: mind_descriptor(im, cfg)), cfg.border_px or math.ceil(mind_reach_px(cfg))
    else:
        raise ValueError(f"no reference implementation of {name!r}: use cfog or mind")
    return DescriptorMatcher(name, describe, border, cfg.exclusion_radius_px, cfg, cfg.min_valid,
                             surface=zncc_surface)
