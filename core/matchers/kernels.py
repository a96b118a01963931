"""Pure numeric kernels that every matcher composes: no I/O, no state, numpy only.

Conventions (see ``core/__init__``): arrays are indexed ``[row, col]``; an integer position
is a pixel centre. A *similarity surface* ``S`` of a ``(Th, Tw)`` template against a
``(Rh, Rw)`` reference has shape ``(Rh - Th + 1, Rw - Tw + 1)`` and ``S[i, j]`` scores the
candidate whose template top-left pixel lies on reference pixel ``(i, j)``.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Tuple

import numpy as np

from ..errors import ShapeError
from ..stages import stage

try:  # pocketfft with SIMD and float32 support; numpy.fft is the same algorithm, slower
    import scipy.fft as _fft
except ImportError:  # pragma: no cover - scipy is optional
    _fft = np.fft

__all__ = [
    "zncc_surface",
    "peak_subpixel",
    "peak_confidence",
    "gaussian_blur",
    "fourier_shift",
    "shift_image",
]


# --------------------------------------------------------------------------- helpers

def _as_stack(a: np.ndarray, what: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or min(arr.shape) < 1:
        raise ShapeError(f"{what} must be (H, W) or (C, H, W), got shape {np.shape(a)}")
    if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise ShapeError(f"{what} must hold real numbers, got dtype {arr.dtype}")
    return arr


def _fast_len(n: int) -> int:
    """Smallest ``m >= n`` whose only prime factors are 2, 3 and 5 (fast FFT sizes)."""
    m = n
    while True:
        k = m
        for p in (2, 3, 5):
            while k % p == 0:
                k //= p
        if k == 1:
            return m
        m += 1


def _spectrum(a: np.ndarray, shape: Tuple[int, int]) -> np.ndarray:
    """``rfft2(a, s=shape)`` over the last two axes (zero-padded to ``shape``): the real
    transform of ``a``'s own rows, then the complex one of the columns zero-padded (the
    same result, without transforming the padding rows)."""
    if a.shape[-2] == shape[0]:
        return _fft.rfft2(a, s=shape)
    return _fft.fft(_fft.rfft(a, n=shape[1], axis=-1), n=shape[0], axis=-2)


def _correlation(f: np.ndarray, shape: Tuple[int, int], oh: int, ow: int) -> np.ndarray:
    """``irfft2(f, s=shape)[..., :oh, :ow]``: the inverse along the columns, then the real
    inverse along the rows of the ``oh`` rows kept only."""
    return _fft.irfft(_fft.ifft(f, axis=-2)[..., :oh, :], n=shape[1], axis=-1)[..., :ow]


def _window_sums(x: np.ndarray, size: int, axis: int) -> np.ndarray:
    """Sums of ``size`` consecutive elements along ``axis`` at every valid start, float64:
    the first window summed outright, the later ones by running sums of what enters minus
    what leaves (so the running sum is only as long as the output).

    The running sum is a loop of whole slices along ``axis`` (``out[i] += out[i - 1]``):
    the same additions in the same order as ``np.cumsum``, which is several times slower
    along any axis but the last (it walks the array with a large stride)."""
    x = np.moveaxis(x, axis, 0)
    count = x.shape[0] - size + 1
    out = np.empty((count,) + x.shape[1:], dtype=np.float64)
    x[:size].sum(axis=0, dtype=np.float64, out=out[0])
    np.subtract(x[size:], x[:count - 1], out=out[1:], dtype=np.float64)
    for i in range(1, count):
        out[i] += out[i - 1]
    return np.moveaxis(out, 0, axis)


def _box_sums(x: np.ndarray, h: int, w: int) -> np.ndarray:
    """Sums of ``x[..., i:i+h, j:j+w]`` for every valid ``(i, j)``, float64 (separable window sums)."""
    return _window_sums(_window_sums(x, h, x.ndim - 2), w, x.ndim - 1)


def _centred(a: np.ndarray, dtype=np.float64) -> Tuple[np.ndarray, np.ndarray]:
    """Copy of ``a`` (C, H, W) in ``dtype`` with each channel's finite mean removed (the mean
    summed in float64) and NaN set to 0 (its channel's mean), and the per-channel count of
    finite pixels."""
    x = a.astype(dtype)
    finite = np.isfinite(x)
    if finite.all():
        counts = np.full(x.shape[0], x.shape[1] * x.shape[2])
        x -= (x.sum(axis=(1, 2), dtype=np.float64) / counts).astype(dtype)[:, None, None]
        return x, counts
    counts = finite.sum(axis=(1, 2))
    x[~finite] = 0.0
    mean = np.where(counts > 0, x.sum(axis=(1, 2), dtype=np.float64) / np.maximum(counts, 1), 0.0)
    x -= mean.astype(dtype)[:, None, None]
    x[~finite] = 0.0
    return x, counts


# --------------------------------------------------------------------------- ZNCC

def zncc_surface(template: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Zero-mean normalised cross-correlation of ``template`` at every position in ``reference``.

    Shapes: ``template`` ``(Th, Tw)`` or ``(C, Th, Tw)``; ``reference`` ``(Rh, Rw)`` or
    ``(C, Rh, Rw)`` with the same ``C`` and ``Rh >= Th``, ``Rw >= Tw``. Returns float32
    ``(Rh - Th + 1, Rw - Tw + 1)`` in ``[-1, 1]``, indexed by the template's top-left
    reference pixel ``(row, col)``.

    Several channels (a dense descriptor) are treated as one long vector: each channel is
    made zero-mean on its own (template: over the template; reference: over the window under
    the template), the products are summed over all channels and pixels, and the sum is
    divided by the product of the two norms taken over all channels. So the result is the
    Pearson correlation of the concatenated, per-channel-centred vectors and stays in
    ``[-1, 1]``.

    Missing data (NaN):

    * a template pixel that is NaN in any channel is *excluded*: it contributes neither to
      the products nor to the template's or the reference window's mean and variance (an
      exact masked ZNCC; it costs ``C + 2`` extra FFTs, paid only when the template has NaN);
    * a NaN reference pixel is filled with its channel's mean over the reference, so it
      contributes nothing to the products or the variance (an approximation that lowers the
      score of candidates overlapping much missing reference data).

    Positions where the reference window (or the template) has no variance score 0.
    Computed with real FFTs (``O(C·R² log R)``, ``scipy.fft`` when it is installed, else
    ``numpy.fft``): the products in float32 when the template has no NaN and every reference
    window holds at least 1e-4 of the reference's energy (the surface then agrees with float64
    to ~1e-5, measured ~1e-7 on real windows), else in float64. The FFT size is the reference
    size rounded up to a 2·3·5-smooth length, the channels are summed in the frequency domain
    (one inverse FFT), and only the wrap-free part of the circular correlation is transformed
    back. The window sums of the reference come from running sums. ``reference.zncc_surface`` is the plain version this
    one is checked against.
    """
    with stage("fft"):
        return _zncc_surface(template, reference)


def _zncc_surface(template: np.ndarray, reference: np.ndarray) -> np.ndarray:
    t = _as_stack(template, "template")
    r = _as_stack(reference, "reference")
    if t.shape[0] != r.shape[0]:
        raise ShapeError(f"template has {t.shape[0]} channel(s) and reference {r.shape[0]}: they must agree")
    c, th, tw = t.shape
    _, rh, rw = r.shape
    if th > rh or tw > rw:
        raise ShapeError(f"template {th}x{tw} is larger than reference {rh}x{rw}")
    oh, ow = rh - th + 1, rw - tw + 1

    t = t.astype(np.float64)
    t_valid = np.isfinite(t).all(axis=0)
    all_valid = bool(t_valid.all())
    n = th * tw if all_valid else int(t_valid.sum())
    if n < 2:
        return np.zeros((oh, ow), dtype=np.float32)
    if not all_valid:
        t[:, ~t_valid] = 0.0
    t_mean = t.sum(axis=(1, 2)) / n
    t -= t_mean[:, None, None]
    if not all_valid:
        t[:, ~t_valid] = 0.0
    t_ss = float(np.dot(t.ravel(), t.ravel()))
    if not t_ss > 1e-12 * n * max(1.0, float(np.abs(t_mean).max())) ** 2:
        return np.zeros((oh, ow), dtype=np.float32)

    shape = (_fast_len(rh), _fast_len(rw))
    if all_valid:
        # first in float32 (the FFT products' precision): the reference centred once, its
        # window sums accumulated in float64
        r0 = _centred(r, np.float32 if r.dtype == np.float32 else np.float64)[0].astype(np.float32, copy=False)
        r_sq = np.einsum("chw,chw->hw", r0, r0)
        s1 = _box_sums(r0, th, tw)                      # (C, oh, ow), float64
        s2 = _box_sums(r_sq, th, tw)                    # (oh, ow)
        r_ss = s2 - np.einsum("chw,chw->hw", s1, s1) / n
        # float32 spectra err by ~1e-7 of sqrt(t_ss · all the reference's energy): enough
        # unless some window holds almost none of that energy (large gaps), then float64
        energy = float(r_sq.sum(dtype=np.float64))
        single = float(r_ss.min()) > 1e-4 * energy
        if not single:
            r0 = _centred(r)[0]
            r_sq = np.einsum("chw,chw->hw", r0, r0)
            s1, s2 = _box_sums(r0, th, tw), _box_sums(r_sq, th, tw)
            r_ss = s2 - np.einsum("chw,chw->hw", s1, s1) / n
        f_t = _spectrum(t.astype(np.float32) if single else t, shape)
        np.conjugate(f_t, out=f_t)
        f_t *= _spectrum(r0, shape)
        num = _correlation(f_t.sum(axis=0), shape, oh, ow).astype(np.float64)
    else:
        # masked: the window sums come from FFTs too, so all in float64
        r0 = _centred(r)[0]
        r_sq = np.einsum("chw,chw->hw", r0, r0)
        f_r = _spectrum(r0, shape)
        f_t = _spectrum(t, shape)
        np.conjugate(f_t, out=f_t)
        f_t *= f_r
        num = _correlation(f_t.sum(axis=0), shape, oh, ow)
        f_m = np.conjugate(_spectrum(t_valid.astype(np.float64), shape))
        s1 = _correlation(f_r * f_m, shape, oh, ow)
        s2 = _correlation(_spectrum(r_sq, shape) * f_m, shape, oh, ow)
        r_ss = s2 - np.einsum("chw,chw->hw", s1, s1) / n

    # FFT round-off leaves ~1e-13 of the energy in flat places: call those flat.
    tol = 1e-9 * float(r_sq.sum(dtype=np.float64)) * n / (rh * rw) + 1e-300
    ok = r_ss > tol
    r_ss[~ok] = 1.0
    np.multiply(r_ss, t_ss, out=r_ss)
    np.sqrt(r_ss, out=r_ss)
    surface = np.divide(num, r_ss, out=np.zeros((oh, ow), dtype=np.float64), where=ok)
    np.clip(surface, -1.0, 1.0, out=surface)
    return surface.astype(np.float32)


# --------------------------------------------------------------------------- sub-pixel shift

def _cubic_taps(frac: float) -> np.ndarray:
    """Keys cubic-convolution weights (a = -0.5) of the samples at -1, 0, 1, 2 for a point
    ``frac`` in ``[0, 1)`` past sample 0; they sum to 1."""
    a = -0.5
    d = np.abs(np.array([-1.0, 0.0, 1.0, 2.0]) - frac)
    near = ((a + 2) * d - (a + 3)) * d * d + 1
    far = ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
    return np.where(d <= 1, near, np.where(d < 2, far, 0.0))


def _shift_axis(img: np.ndarray, shift: float, axis: int) -> np.ndarray:
    whole = int(np.floor(-shift))
    taps = _cubic_taps(-shift - whole)
    n = img.shape[axis]
    pad = [(0, 0), (0, 0)]
    pad[axis] = (2 + max(0, -whole), 3 + max(0, whole))
    p = np.pad(img, pad, mode="edge")
    base = 2 + max(0, -whole) + whole        # index in ``p`` of input sample ``j + whole`` for j = 0
    out = np.zeros(img.shape, dtype=img.dtype)
    for k, w in zip((-1, 0, 1, 2), taps):
        if w:
            sl = [slice(None), slice(None)]
            sl[axis] = slice(base + k, base + k + n)
            out += img.dtype.type(w) * p[tuple(sl)]
    return out


def shift_image(img: np.ndarray, d_row: float, d_col: float) -> np.ndarray:
    """``img`` moved by ``(d_row, d_col)`` pixels (content at ``(i, j)`` goes to
    ``(i + d_row, j + d_col)``), separable cubic convolution in float32, edges repeated.
    Exact for whole pixels and for planes. Unlike ``fourier_shift`` nothing wraps around, so
    the whole result can be used (the DCDM translation is moved this way before matching)."""
    out = np.asarray(img, dtype=np.float32)
    if d_row:
        out = _shift_axis(out, float(d_row), 0)
    if d_col:
        out = _shift_axis(out, float(d_col), 1)
    return out if out is not img else out.copy()


# --------------------------------------------------------------------------- peaks

def _parabola(a: float, b: float, c: float) -> Tuple[float, float]:
    """Vertex offset (clamped to ±0.5) and value of the parabola through (-1,a), (0,b), (1,c)."""
    curvature = a - 2.0 * b + c
    if not (np.isfinite(a) and np.isfinite(c)) or not curvature < 0:
        return 0.0, b
    off = float(np.clip(0.5 * (a - c) / curvature, -0.5, 0.5))
    return off, b + 0.5 * (c - a) * off + 0.5 * curvature * off * off


def peak_subpixel(surface: np.ndarray) -> Tuple[float, float, float]:
    """Sub-pixel maximum of a 2-D ``surface``: ``(row, col, value)``.

    The integer maximum (NaN ignored) is refined along rows and columns separately by the
    parabola through it and its two neighbours; the offset is clamped to ``±0.5`` px. On a
    border, or when a neighbour is NaN or the three points are not concave, that axis keeps
    its integer position. ``value`` is the integer maximum plus both parabolas' gains.
    Returns ``(nan, nan, nan)`` when the surface has no finite value.
    """
    s = np.asarray(surface, dtype=np.float64)
    if s.ndim != 2 or s.size == 0:
        raise ShapeError(f"surface must be a non-empty 2-D array, got shape {s.shape}")
    finite = np.isfinite(s)
    if not finite.any():
        return float("nan"), float("nan"), float("nan")
    i, j = np.unravel_index(int(np.argmax(np.where(finite, s, -np.inf))), s.shape)
    b = float(s[i, j])
    nan = float("nan")
    up = float(s[i - 1, j]) if i > 0 else nan
    down = float(s[i + 1, j]) if i + 1 < s.shape[0] else nan
    left = float(s[i, j - 1]) if j > 0 else nan
    right = float(s[i, j + 1]) if j + 1 < s.shape[1] else nan
    d_row, v_row = _parabola(up, b, down)
    d_col, v_col = _parabola(left, b, right)
    return float(i + d_row), float(j + d_col), float(b + (v_row - b) + (v_col - b))


def _local_maxima(s: np.ndarray) -> np.ndarray:
    """Pixels not lower than any of their 8 neighbours (NaN never is one; plateaus count)."""
    p = np.pad(np.where(np.isfinite(s), s, -np.inf), 1, mode="constant", constant_values=-np.inf)
    h, w = s.shape
    best = np.full((h, w), -np.inf)
    for dr in (0, 1, 2):
        for dc in (0, 1, 2):
            if dr != 1 or dc != 1:
                np.maximum(best, p[dr:dr + h, dc:dc + w], out=best)
    return np.isfinite(s) & (s >= best)


def peak_confidence(surface: np.ndarray, row: float, col: float, exclusion_radius_px: float = 4.0) -> float:
    """How distinct the peak at ``(row, col)`` of ``surface`` is, in ``[0, 1]``.

    ``confidence = (p1 - p2) / (p1 - m)`` clipped to ``[0, 1]``, where ``p1`` is the surface
    at the nearest integer pixel to ``(row, col)``, ``m`` the median of the surface (the
    level of a random candidate) and ``p2`` the strongest *rival peak*: the highest local
    maximum (a pixel not lower than its 8 neighbours) farther than ``exclusion_radius_px``
    from the peak. Using local maxima rather than every pixel outside a disc keeps the broad
    shoulder of a smooth true peak from counting as a rival. If no local maximum lies
    outside the disc (the surface falls away from the peak everywhere), ``p2 = m``.

    It is 1 when no rival is better than a typical candidate and 0 when a rival equals the
    peak, and it does not change when the surface is scaled or shifted, so it means the
    same for any similarity score. A constant or all-NaN surface, a NaN peak, or a surface
    with no pixel outside the disc (nothing to compare with) gives 0.
    """
    s = np.asarray(surface, dtype=np.float64)
    if s.ndim != 2 or s.size == 0:
        raise ShapeError(f"surface must be a non-empty 2-D array, got shape {s.shape}")
    if not (np.isfinite(row) and np.isfinite(col)):
        return 0.0
    i = int(np.clip(round(row), 0, s.shape[0] - 1))
    j = int(np.clip(round(col), 0, s.shape[1] - 1))
    p1 = s[i, j]
    if not np.isfinite(p1):
        return 0.0
    finite = np.isfinite(s)
    rr = (np.arange(s.shape[0])[:, None] - row) ** 2
    cc = (np.arange(s.shape[1])[None, :] - col) ** 2
    outside = finite & (rr + cc > exclusion_radius_px ** 2)
    if not outside.any():
        return 0.0
    m = float(np.median(s[finite]))
    spread = p1 - m
    if not spread > 1e-12 * max(1.0, abs(p1)):
        return 0.0
    rivals = outside & _local_maxima(s)
    p2 = float(s[rivals].max()) if rivals.any() else m
    return float(np.clip((p1 - p2) / spread, 0.0, 1.0))


# --------------------------------------------------------------------------- filters

@lru_cache(maxsize=64)
def _gaussian_taps(sigma: float) -> np.ndarray:
    """Sampled Gaussian ``±ceil(3·sigma)``, normalised to sum 1 (float64)."""
    radius = max(1, int(np.ceil(3.0 * sigma)))
    taps = np.arange(-radius, radius + 1)
    weights = np.exp(-0.5 * (taps / sigma) ** 2)
    weights /= weights.sum()
    weights.setflags(write=False)
    return weights


def _filter_axis(x: np.ndarray, weights: np.ndarray, axis: int) -> np.ndarray:
    """Correlate the float32 ``x`` along ``axis`` with the symmetric odd ``weights``, mirrored
    ("symmetric") borders: pairs of mirrored taps are added before they are weighted."""
    radius = weights.size // 2
    n = x.shape[axis]
    if radius <= n:     # mirrored ("symmetric") padding by slices: np.pad costs more than the copy
        shape = list(x.shape)
        shape[axis] = n + 2 * radius
        p = np.empty(shape, dtype=x.dtype)
        sl = lambda a, b, step=None: (slice(None),) * axis + (slice(a, b, step),)  # noqa: E731
        p[sl(radius, radius + n)] = x
        p[sl(0, radius)] = x[sl(radius - 1, None, -1)]
        p[sl(radius + n, None)] = x[sl(n - 1, n - radius - 1 if n > radius else None, -1)]
    else:
        pad = [(0, 0)] * x.ndim
        pad[axis] = (radius, radius)
        p = np.pad(x, pad, mode="symmetric")

    def part(start: int) -> np.ndarray:
        index = [slice(None)] * x.ndim
        index[axis] = slice(start, start + n)
        return p[tuple(index)]

    out = np.multiply(part(radius), np.float32(weights[radius]))
    tmp = np.empty_like(out)
    for k in range(1, radius + 1):
        np.add(part(radius - k), part(radius + k), out=tmp)
        tmp *= np.float32(weights[radius + k])
        out += tmp
    return out


def gaussian_blur(image: np.ndarray, sigma_px: float) -> np.ndarray:
    """Gaussian blur over the last two axes (rows, cols) of ``(..., H, W)``; float32 out.

    ``sigma_px`` is the standard deviation in pixels (``<= 0`` returns a float32 copy). The
    kernel is sampled to ``±ceil(3·sigma)`` and normalised; borders are mirrored (the edge
    pixel is repeated). Separable: one pass along the rows and one along the columns, each
    summing the mirrored pairs of taps (``reference.gaussian_blur``, two dense matrix
    products, gives the same to float32 round-off). NaN spreads to its neighbourhood: fill
    it first.
    """
    x = np.asarray(image, dtype=np.float32)
    if x.ndim < 2:
        raise ShapeError(f"image must have at least 2 dimensions, got shape {x.shape}")
    if not sigma_px > 0:
        return x.copy()
    weights = _gaussian_taps(float(sigma_px))
    if x.ndim == 2:
        return _filter_axis(_filter_axis(x, weights, 0), weights, 1)
    # one image at a time: its passes stay in the CPU cache
    flat = x.reshape(-1, *x.shape[-2:])
    out = np.empty(flat.shape, dtype=np.float32)
    for k in range(flat.shape[0]):
        out[k] = _filter_axis(_filter_axis(flat[k], weights, 0), weights, 1)
    return out.reshape(x.shape)


def fourier_shift(image: np.ndarray, dy_px: float, dx_px: float) -> np.ndarray:
    """``image`` (H, W) translated by ``(dy_px, dx_px)`` with a Fourier phase ramp; float32.

    Content at ``(row, col)`` moves to ``(row + dy_px, col + dx_px)``. The shift is circular
    (what leaves one side re-enters on the other), so cut away a margin of at least the
    shift before using the result. Exact for band-limited content; used to make test images
    with a known sub-pixel shift.
    """
    x = np.asarray(image, dtype=np.float64)
    if x.ndim != 2:
        raise ShapeError(f"image must be 2-D, got shape {x.shape}")
    h, w = x.shape
    ky = np.fft.fftfreq(h)[:, None]
    kx = np.fft.rfftfreq(w)[None, :]
    ramp = np.exp(-2j * np.pi * (ky * dy_px + kx * dx_px))
    return np.fft.irfft2(np.fft.rfft2(x) * ramp, s=(h, w)).astype(np.float32)
