"""Losses of DCDM training and the differentiable ZNCC surface (torch).

Truths are top-left positions ``(row, col)`` of the template in the reference, in reference
pixels, as in ``core.matchers.base``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .config import STRIDE_PX


def ssim(a: torch.Tensor, b: torch.Tensor, window_px: int = 7) -> torch.Tensor:
    """Mean SSIM of two ``(B, 1, H, W)`` normalised images (box window, per-sample mean → (B,))."""
    c1, c2 = 0.0016 * 16, 0.0144 * 16        # (0.01 L)^2, (0.03 L)^2 with L ~ 4 (normalised range)
    pool = lambda x: F.avg_pool2d(x, window_px, 1)  # noqa: E731
    mu_a, mu_b = pool(a), pool(b)
    var_a = pool(a * a) - mu_a ** 2
    var_b = pool(b * b) - mu_b ** 2
    cov = pool(a * b) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    return s.flatten(1).mean(1)


def _box(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """Sums of every ``h × w`` window of ``(B, H, W)`` → ``(B, H-h+1, W-w+1)``."""
    ii = F.pad(x.cumsum(1).cumsum(2), (1, 0, 1, 0))
    return ii[:, h:, w:] - ii[:, :-h, w:] - ii[:, h:, :-w] + ii[:, :-h, :-w]


def zncc_torch(template: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """ZNCC surface of ``(B, 1, T, T)`` templates in ``(B, 1, R, R)`` references → ``(B, R-T+1, R-T+1)``.

    Same definition as ``core.matchers.kernels.zncc_surface`` (without NaN handling),
    computed with FFTs in float64 and differentiable.
    """
    t = template[:, 0].double()
    r = reference[:, 0].double()
    th, tw = t.shape[-2:]
    rh, rw = r.shape[-2:]
    n = th * tw
    t0 = t - t.mean(dim=(1, 2), keepdim=True)
    r0 = r - r.mean(dim=(1, 2), keepdim=True)
    fr = torch.fft.rfft2(r0, s=(rh, rw))
    ft = torch.fft.rfft2(t0, s=(rh, rw))
    num = torch.fft.irfft2(fr * ft.conj(), s=(rh, rw))[:, :rh - th + 1, :rw - tw + 1]
    s1 = _box(r0, th, tw)
    s2 = _box(r0 * r0, th, tw)
    r_ss = (s2 - s1 * s1 / n).clamp_min(1e-6)
    t_ss = (t0 * t0).sum(dim=(1, 2)).clamp_min(1e-6)
    return (num / torch.sqrt(t_ss[:, None, None] * r_ss)).float()


def anisotropy(x: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """Per image of ``x`` ``(B, 1, H, W)``: log of mean |d/drow| over mean |d/dcol|. Zero for an
    isotropic image; horizontal stripes (rows that differ from their neighbours) make it positive."""
    d_row = (x[..., 1:, :] - x[..., :-1, :]).abs().mean(dim=(1, 2, 3))
    d_col = (x[..., :, 1:] - x[..., :, :-1]).abs().mean(dim=(1, 2, 3))
    return torch.log((d_row + eps) / (d_col + eps))


def stripe_loss(translated: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """How far the translation's row/column gradient balance is from the true SAR's: the
    stripes the translation showed (anisotropy 1.8-1.9 against the SAR's 1.0) cost, speckle that
    is as strong along rows as along columns does not."""
    return (anisotropy(translated) - anisotropy(target)).abs().mean()


def gaussian_target(shape, centre: torch.Tensor, sigma: float) -> torch.Tensor:
    """Normalised Gaussian blobs ``(B, H, W)`` centred at ``centre`` ``(B, 2)`` (row, col)."""
    h, w = shape
    rows = torch.arange(h, dtype=torch.float32, device=centre.device).view(1, h, 1)
    cols = torch.arange(w, dtype=torch.float32, device=centre.device).view(1, 1, w)
    d2 = (rows - centre[:, 0, None, None]) ** 2 + (cols - centre[:, 1, None, None]) ** 2
    g = torch.exp(-0.5 * d2 / sigma ** 2)
    return g / g.sum(dim=(1, 2), keepdim=True)


def matching_loss(surface: torch.Tensor, truth: torch.Tensor, temperature: float, sigma_px: float = 1.0):
    """Cross-entropy of ``softmax(temperature · surface)`` against a blob at the truth."""
    target = gaussian_target(surface.shape[-2:], truth, sigma_px)
    logp = torch.log_softmax(temperature * surface.flatten(1), dim=1)
    return -(target.flatten(1) * logp).sum(1).mean()


def spc_loss(att: torch.Tensor, truth: torch.Tensor, ny: int, nx: int, sigma_cells: float = 0.6):
    """Spatial position consistency: cross-entropy of the attention ``(B, Q, D)`` of every
    query against a Gaussian blob at the true displacement ``truth / 8`` on the ``ny × nx``
    displacement grid (a translation moves every query by the same displacement)."""
    target = gaussian_target((ny, nx), truth / STRIDE_PX, sigma_cells).flatten(1)   # (B, D)
    return -(target[:, None, :] * torch.log(att + 1e-6)).sum(-1).mean()


def soft_argmax(surface: torch.Tensor, temperature: float) -> torch.Tensor:
    """Expected ``(row, col)`` under ``softmax(temperature · surface)`` → ``(B, 2)``."""
    b, h, w = surface.shape
    p = torch.softmax(temperature * surface.flatten(1), dim=1).view(b, h, w)
    rows = torch.arange(h, dtype=p.dtype, device=p.device)
    cols = torch.arange(w, dtype=p.dtype, device=p.device)
    return torch.stack([(p.sum(2) * rows).sum(1), (p.sum(1) * cols).sum(1)], 1)
