"""The DCDM network in PyTorch: auto-encoder, feature encoders, conditional denoiser with
gated dynamic sparse cross-attention and the Attention Calibration Block (ACB).

Shapes: images are ``(B, 1, H, W)`` float32, normalised (zero mean, unit variance, NaN → 0);
latents and features are on the stride-8 grid ``(B, C, H/8, W/8)``. The template is
``T × T`` and the SAR reference ``R × R``; with ``h = T/8`` and ``Hr = R/8`` a template token
``(y, x)`` may attend to the reference tokens ``(y + dy, x + dx)`` for ``dy, dx`` in
``[0, Hr - h]`` (the search window: the template's top-left cell can sit anywhere in it).
A displacement ``(dy, dx)`` in cells is a top-left offset of ``8·(dy, dx)`` reference pixels.
The attention is returned as a cost volume ``(B, h·w, ny·nx)`` (query-major, displacement
row-major) with ``ny = Hr - h + 1``.
"""
from __future__ import annotations

import math
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import DcdmConfig


def _conv(ci: int, co: int, stride: int = 1, k: int = 3) -> nn.Conv2d:
    return nn.Conv2d(ci, co, k, stride, k // 2)


def _groups(c: int) -> int:
    for g in (8, 4, 2):
        if c % g == 0:
            return g
    return 1


class PlainRes(nn.Module):
    """``x + conv(silu(conv(silu(x))))`` (no normalisation: used in the auto-encoder)."""

    def __init__(self, c: int):
        super().__init__()
        self.c1, self.c2 = _conv(c, c), _conv(c, c)

    def forward(self, x):
        return x + self.c2(F.silu(self.c1(F.silu(x))))


class TimeRes(nn.Module):
    """Residual block with GroupNorm and a timestep-conditioned shift of the features."""

    def __init__(self, c: int, emb: int):
        super().__init__()
        self.n1, self.n2 = nn.GroupNorm(_groups(c), c), nn.GroupNorm(_groups(c), c)
        self.c1, self.c2 = _conv(c, c), _conv(c, c)
        self.emb = nn.Linear(emb, c)

    def forward(self, x, emb):
        h = self.c1(F.silu(self.n1(x)))
        h = h + self.emb(emb)[:, :, None, None]
        return x + self.c2(F.silu(self.n2(h)))


def _gauss_taps(sigma: float) -> torch.Tensor:
    r = max(1, int(math.ceil(2.5 * sigma)))
    x = torch.arange(-r, r + 1, dtype=torch.float32)
    g = torch.exp(-0.5 * (x / sigma) ** 2)
    return g / g.sum()


class StructureStem(nn.Module):
    """Fixed structural channels in front of a feature encoder (a CFOG-like prior).

    From a 1-channel image: light Gaussian pre-smoothing (sigma 0.7 px), central-difference
    gradient ``g``, the structure-tensor channels ``(g_r², g_c², g_r·g_c) / |g|`` (gradient
    orientation, weighted by magnitude, sign-free so that optical edges and SAR edges of
    either contrast agree), smoothed (sigma 1 px) and normalised per pixel by
    ``sqrt(|c|² + mean|c|²)``. Returns the image and the three channels, ``(B, 4, H, W)``.
    No learned weights: it gives the encoders a modality-independent start, so that the
    cross-attention learns in minutes rather than hours on a CPU.
    """

    def __init__(self):
        super().__init__()
        self.register_buffer("pre", _gauss_taps(0.7))
        self.register_buffer("post", _gauss_taps(1.0))
        diff = torch.tensor([-0.5, 0.0, 0.5])
        self.register_buffer("diff", diff)

    @staticmethod
    def _sep(x, taps, c: int):
        k = taps.numel()
        x = F.pad(x, (k // 2, k // 2, k // 2, k // 2), mode="replicate")
        x = F.conv2d(x, taps.view(1, 1, k, 1).expand(c, 1, k, 1).contiguous(), groups=c)
        return F.conv2d(x, taps.view(1, 1, 1, k).expand(c, 1, 1, k).contiguous(), groups=c)

    def forward(self, x):
        s = self._sep(x, self.pre, 1)
        p = F.pad(s, (1, 1, 1, 1), mode="replicate")
        g_r = F.conv2d(p, self.diff.view(1, 1, 3, 1))[:, :, :, 1:-1]
        g_c = F.conv2d(p, self.diff.view(1, 1, 1, 3))[:, :, 1:-1, :]
        mag = torch.sqrt(g_r * g_r + g_c * g_c + 1e-6)
        c = torch.cat([g_r * g_r, g_c * g_c, g_r * g_c], 1) / mag
        c = self._sep(c, self.post, 3)
        norm = torch.sqrt((c * c).sum(1, keepdim=True))
        c = c / torch.sqrt(norm * norm + norm.mean(dim=(1, 2, 3), keepdim=True) ** 2 + 1e-6)
        return torch.cat([x, c], 1)


class Encoder(nn.Module):
    """1-channel image → ``out_ch`` channels at stride 8 (three stride-2 levels).

    ``multi_grained``: the stride-2 and stride-4 levels are average-pooled to stride 8 and
    joined to the last level before the output projection (fine + coarse evidence per token).
    ``level_res``: residual blocks at each level (stride 2, 4, 8) when not ``n_res`` everywhere.
    """

    def __init__(self, widths: Tuple[int, int, int], out_ch: int, n_res: int = 1, multi_grained: bool = False,
                 fast_stem: bool = False, structure: bool = False, level_res: Tuple[int, ...] = ()):
        super().__init__()
        level_res = tuple(level_res) or (n_res,) * len(widths)
        if len(level_res) != len(widths):
            raise ValueError(f"encoder residual blocks {level_res}: one count per level ({len(widths)}) expected")
        # fast_stem: the stem itself has stride 2 (no full-resolution layer, ~3x cheaper)
        self.structure = StructureStem() if structure else None
        self.stem = _conv(4 if structure else 1, widths[0], 2 if fast_stem else 1)
        levels, prev = [], widths[0]
        for i, w in enumerate(widths):
            first = fast_stem and i == 0
            n = 0 if first else level_res[i]
            levels.append(nn.Sequential(_conv(prev, w, 1 if first else 2), *[PlainRes(w) for _ in range(n)]))
            prev = w
        self.levels = nn.ModuleList(levels)
        self.multi = multi_grained
        cin = sum(widths) if multi_grained else widths[-1]
        self.out = nn.Conv2d(cin, out_ch, 1)

    def forward(self, x):
        if self.structure is not None:
            x = self.structure(x)
        h = self.stem(x)
        outs = []
        for level in self.levels:
            h = level(h)
            outs.append(h)
        if self.multi:
            h = torch.cat([F.avg_pool2d(outs[0], 4), F.avg_pool2d(outs[1], 2), outs[2]], 1)
        return self.out(F.silu(h))


class Decoder(nn.Module):
    """Latent at stride 8 → 1-channel image (nearest upsampling + convolutions).

    ``level_res``: residual blocks at each level (stride 4, 2, 1) when not ``n_res`` everywhere.
    """

    def __init__(self, widths: Tuple[int, int, int], latent_ch: int, n_res: int = 1,
                 level_res: Tuple[int, ...] = ()):
        super().__init__()
        w = list(widths)[::-1]
        level_res = tuple(level_res) or (n_res,) * len(w)
        if len(level_res) != len(w):
            raise ValueError(f"decoder residual blocks {level_res}: one count per level ({len(w)}) expected")
        self.inp = _conv(latent_ch, w[0])
        ups, prev = [], w[0]
        for c, n in zip(w, level_res):
            ups.append(nn.Sequential(*[PlainRes(prev) for _ in range(n)], _conv(prev, c)))
            prev = c
        self.ups = nn.ModuleList(ups)
        self.out = _conv(prev, 1)

    def forward(self, z):
        h = self.inp(z)
        for up in self.ups:
            h = up(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        return self.out(F.silu(h))


class AutoEncoder(nn.Module):
    """The frozen latent space: ``encode`` (B,1,H,W) → (B,C,H/8,W/8), ``decode`` back.

    ``latent_scale`` (a buffer) makes the latent of SAR patches about unit variance; it is
    applied inside ``encode`` / ``decode``.
    """

    def __init__(self, cfg: DcdmConfig):
        super().__init__()
        self.enc = Encoder(cfg.ae_widths, cfg.latent_ch, cfg.ae_res, level_res=cfg.enc_res)
        self.dec = Decoder(cfg.ae_widths, cfg.latent_ch, cfg.ae_res, cfg.dec_res)
        self.register_buffer("latent_scale", torch.ones(()))

    def encode(self, x):
        return self.enc(x) * self.latent_scale

    def decode(self, z):
        return self.dec(z / self.latent_scale)


IMAGES_PER_GROUP = 16     # images side by side as channels in the calibration convolutions


def per_image_conv(block: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    """``block`` = ``conv(1 → c), SiLU, conv(c → 1)`` (3 × 3, zero padding) on each of the
    ``n`` one-channel images ``x`` ``(n, 1, a, b)``, equal to ``block(x)``.

    Run as is, the tiny channel counts are slow on CPU: ONNX Runtime pads them to its channel
    block (8 or 16) and converts thousands of small images. Here the images are stacked as the
    channels of ``IMAGES_PER_GROUP``-channel images (zero images appended to fill the last
    one) and each of the ``c`` hidden channels is a depthwise convolution with the weight
    repeated per channel; the output convolution is the sum of ``c`` depthwise convolutions.
    Same weights, same arithmetic per pixel.
    """
    c1, c2 = block[0], block[2]
    g = IMAGES_PER_GROUP
    n, _, a, b = x.shape
    xg = F.pad(x.reshape(1, n, a, b), (0, 0, 0, 0, 0, (g - n % g) % g)).reshape(-1, g, a, b)
    y = c2.bias.view(1, 1, 1, 1)
    for o in range(c1.out_channels):
        hidden = F.silu(F.conv2d(xg, c1.weight[o:o + 1].expand(g, 1, 3, 3), c1.bias[o:o + 1].expand(g),
                                 padding=1, groups=g))
        y = y + F.conv2d(hidden, c2.weight[:, o:o + 1].expand(g, 1, 3, 3), padding=1, groups=g)
    return y.reshape(1, -1, a, b)[:, :n].reshape(n, 1, a, b)


class CalibrationBlock(nn.Module):
    """Attention Calibration Block on the head-averaged attention ``A`` ``(B, Q, D)``.

    ``A`` is a cost volume over queries ``(y, x)`` × displacements ``(dy, dx)``. Its log is
    corrected by (1) a small 2-D convolution over the displacement plane of each query
    (sharpens or removes isolated wrong modes), (2) a small 2-D convolution over the query
    plane of each displacement (a translation shifts every query alike, so neighbours
    agree), and (3) a global displacement prior, the log of the attention mass of each
    displacement summed over all queries. Residual on the log, then re-softmax. The
    convolutions run through ``per_image_conv`` (the same result as ``self.disp(...)``).
    """

    def __init__(self, hidden: int):
        super().__init__()
        self.disp = nn.Sequential(_conv(1, hidden), nn.SiLU(), _conv(hidden, 1))
        self.space = nn.Sequential(_conv(1, hidden), nn.SiLU(), _conv(hidden, 1))
        self.gains = nn.Parameter(torch.tensor([1.0, 1.0, 0.5]))

    def forward(self, att, h: int, w: int, ny: int, nx: int):
        b, q, d = att.shape
        logp = torch.log(att + 1e-4)
        dd = per_image_conv(self.disp, logp.reshape(b * q, 1, ny, nx)).reshape(b, q, d)
        sp = logp.transpose(1, 2).reshape(b * d, 1, h, w)
        ss = per_image_conv(self.space, sp).reshape(b, d, q).transpose(1, 2)
        prior = torch.log(att.mean(dim=1, keepdim=True) + 1e-4)
        g = self.gains
        return torch.softmax(logp + g[0] * dd + g[1] * ss + g[2] * prior, dim=-1)


QUERY_TILE = 12           # queries of a template row that share one product with their reference band


def tile_index(h: int, hr: int, wr: int, nx: int, n_tiles: int, device=None) -> torch.Tensor:
    """Key indices of each tile of queries, int64 ``(h, n_tiles, ny·wt + 1)``, ``wt = QUERY_TILE + nx - 1``.

    The queries ``(y, t·QUERY_TILE … t·QUERY_TILE + QUERY_TILE - 1)`` of a tile see the
    reference rows ``y … y + ny - 1`` (``ny = hr - h + 1``) and the columns
    ``t·QUERY_TILE … t·QUERY_TILE + wt - 1`` of the row-major ``hr × wr`` key grid (``wr``
    already widened so that every tile is whole); one index more, ``hr·wr`` (a zero token
    appended to the grid), completes the shape ``band_to_window`` needs and is never read.
    """
    ny, wt = hr - h + 1, QUERY_TILE + nx - 1
    y = torch.arange(h, device=device).view(h, 1, 1, 1)
    t = torch.arange(n_tiles, device=device).view(1, n_tiles, 1, 1)
    dy = torch.arange(ny, device=device).view(1, 1, ny, 1)
    j = torch.arange(wt, device=device).view(1, 1, 1, wt)
    idx = ((y + dy) * wr + t * QUERY_TILE + j).reshape(h, n_tiles, ny * wt)
    return torch.cat([idx, torch.zeros_like(idx[..., :1]) + hr * wr], -1)


def band_index(h: int, hr: int, wr: int, device=None) -> torch.Tensor:
    """Reference-token indices of the band of each template row, int64 ``(h, ny·wr)``: the
    reference rows ``y … y + ny - 1`` that row ``y`` can see, consecutive in the row-major grid."""
    band = (hr - h + 1) * wr
    return torch.arange(h, device=device).view(h, 1) * wr + torch.arange(band, device=device).view(1, band)


def band_to_window(m: torch.Tensor, ny: int, wb: int, nx: int) -> torch.Tensor:
    """The search-window entries of band products: ``(N, R, n, ny·wb + 1) → (N, R, n, ny, nx)``.

    ``m[., r, i', dy·wb + j]`` is the product of the ``n`` queries of a row (or tile) ``r``,
    taken from right to left (``i' = n - 1 - i``), with the token ``(dy, j)`` of their
    ``ny × wb`` reference band (``wb = n + nx - 1`` columns, the first one aligned with the
    first query); the window of query ``i`` keeps ``j = i + dx``, ``dx < nx``, a diagonal of each
    ``(i', j)`` plane. With ``L = ny·wb`` the rows of ``m`` are ``L + 1`` long, so that entry
    sits at the flat position ``i'·(L + 1) + dy·wb + (n - 1 - i') + dx = (n - 1) + i'·L + dy·wb
    + dx``: read from offset ``n - 1`` with a row stride of ``L``, row ``i'`` holds its window in
    the first ``nx`` columns of each ``wb`` block. One contiguous slice, reshapes and a slice
    of the last axis (no gather, no padding of the large matrix).
    """
    b, r, n, band = m.shape
    length = band - 1
    m = m.reshape(b, r, n * band)[:, :, n - 1:n - 1 + n * length]
    return m.reshape(b, r, n, ny, wb)[..., :nx]


def window_to_band(a: torch.Tensor, wr: int) -> torch.Tensor:
    """Windows placed into their bands: ``(N, h, w, ny, nx) → (N, h, w, ny·wr)``,
    ``a[n, y, x, dy, dx]`` at column ``dy·wr + x + dx``, zeros elsewhere (queries left to
    right). Each ``wr`` block is zero-padded to ``wr`` and each row to ``L + 1``; re-read with
    a row stride of ``L``, row ``x`` is shifted right by ``x``."""
    n, h, w, ny, nx = a.shape
    length = ny * wr
    a = F.pad(F.pad(a, (0, wr - nx)).reshape(n, h, w, length), (0, 1))      # (N, h, w, L + 1)
    return a.reshape(n, h, w * (length + 1))[:, :, :w * length].reshape(n, h, w, length)


class SparseCrossAttention(nn.Module):
    """Dynamic sparse cross-attention from template tokens to reference tokens.

    Structured sparsity: a query at ``(y, x)`` sees only the reference tokens ``(y + dy,
    x + dx)`` of its search window, ``dy < ny = hr - h + 1``, ``dx < nx = wr - w + 1``. Dynamic sparsity: only the ``top_k`` largest logits per query
    and head survive. The head-averaged attention is calibrated (``CalibrationBlock``) and the
    calibrated attention aggregates the values. Queries come from the optical template's
    features, not from the noisy latent, so the attention is computed once per match, not
    once per sampling step (5x less work; the gate that admits the result is per step, see
    ``GatedInjection``). Returns ``(attended (B, C, h, w), att_raw, att_cal)``, attentions
    ``(B, Q, D)``.

    Computed by tiles of ``QUERY_TILE`` queries of a template row: their ``ny × nx`` windows
    lie in one band of ``ny`` reference rows × ``QUERY_TILE + nx - 1`` columns
    (``tile_index``), so the logits are one batched product per tile, from which
    ``band_to_window`` takes each query's window by re-reading the product with another row
    stride (the row is padded to whole tiles with zero queries, whose results are dropped;
    12 divides the 48 and 24 columns of 384 and 192 px templates; tiles of 12 or 16 queries
    measured fastest in ONNX Runtime, whole rows about 12 % slower).
    The values are aggregated the same way backwards by template row: the calibrated windows
    are placed into their bands (``window_to_band``, zeros elsewhere) and multiplied by the
    band's value rows. At 512/384 px (``cpu`` preset: 48² queries, 64² reference tokens,
    17² displacements) that is 477 logits per query instead of one per reference token (4096),
    and no gather of the ``Q·D`` (query, displacement) pairs. The top-k softmax is written out
    (``exp`` of the logits minus the largest, times the 0/1 top-k mask, normalised; the value
    a softmax of the logits with the others set to ``-1e4`` has, since ``exp(-1e4)`` is 0 in
    float32) and the head mean is a ``(1 × heads)`` product: measured three times as fast in
    ONNX Runtime as Where + Softmax + ReduceMean over the head axis. The same mathematics as
    a dense product followed by a gather of the window (float round-off).
    """

    def __init__(self, q_ch: int, ref_ch: int, heads: int, head_dim: int, top_k: int, acb_hidden: int):
        super().__init__()
        self.heads, self.head_dim, self.top_k = heads, head_dim, top_k
        inner = heads * head_dim
        self.norm = nn.GroupNorm(_groups(q_ch), q_ch)
        self.q = nn.Conv2d(q_ch, inner, 1)
        self.k = nn.Conv2d(ref_ch, inner, 1)
        self.v = nn.Conv2d(ref_ch, inner, 1)
        self.acb = CalibrationBlock(acb_hidden)

    def _logits(self, x, ref):
        """Scaled logits ``(B, H, h·wp, ny·nx)``; ``wp`` = ``w`` padded to whole tiles, the
        queries of each tile right to left."""
        b, _, h, w = x.shape
        hr, wr = ref.shape[-2:]
        ny, nx = hr - h + 1, wr - w + 1
        nh, hd, n = self.heads, self.head_dim, QUERY_TILE
        pad = (n - w % n) % n
        n_tiles = (w + pad) // n
        q = F.pad(self.q(self.norm(x)), (0, pad)).reshape(b * nh, hd, h, n_tiles, n)
        q = q.permute(0, 2, 3, 4, 1).flip(3).reshape(b * nh, h * n_tiles, n, hd) / math.sqrt(hd)
        k = F.pad(self.k(ref), (0, pad)).reshape(b * nh, hd, hr * (wr + pad))
        k = F.pad(k, (0, 1)).transpose(1, 2)[:, tile_index(h, hr, wr + pad, nx, n_tiles, x.device)]
        m = torch.matmul(q, k.reshape(b * nh, h * n_tiles, -1, hd).transpose(2, 3))    # (B·H, tiles, n, ny·wt + 1)
        return band_to_window(m, ny, n + nx - 1, nx).reshape(b, nh, h * (w + pad), ny * nx)

    def forward(self, x, ref):
        b, _, h, w = x.shape
        hr, wr = ref.shape[-2:]
        ny, nx = hr - h + 1, wr - w + 1
        nh, d_n = self.heads, ny * nx
        logits = self._logits(x, ref)                                                # (B, H, h·wp, D)
        top = torch.topk(logits, self.top_k, dim=-1).values
        # softmax over the top_k logits (ties with the k-th included), the others weigh 0
        e = torch.exp(logits - top[..., :1].detach()) * (logits >= top[..., -1:]).to(logits.dtype)
        probs = (e / e.sum(dim=-1, keepdim=True)).reshape(b, nh, -1)
        att_raw = torch.matmul(torch.full((1, nh), 1.0 / nh, dtype=probs.dtype, device=probs.device), probs)
        att_raw = att_raw.reshape(b, h, -1, QUERY_TILE, d_n).flip(3).reshape(b, h, -1, d_n)[:, :, :w]
        att_raw = att_raw.reshape(b, h * w, d_n)                                     # (B, Q, D), head mean
        att_cal = self.acb(att_raw, h, w, ny, nx)
        v = self.v(ref).reshape(b, nh * self.head_dim, hr * wr).transpose(1, 2)[:, band_index(h, hr, wr, x.device)]
        out = torch.matmul(window_to_band(att_cal.reshape(b, h, w, ny, nx), wr), v)  # (B, h, w, C)
        return out.permute(0, 3, 1, 2), att_raw, att_cal


class GatedInjection(nn.Module):
    """``h + sigmoid(gate([h, a])) · proj(a)``: a learned per-token gate admits the attended
    reference signal ``a`` into the denoiser features ``h``."""

    def __init__(self, c: int, inner: int):
        super().__init__()
        self.proj = nn.Conv2d(inner, c, 1)
        self.gate = nn.Conv2d(c + inner, 1, 1)
        nn.init.constant_(self.gate.bias, -1.0)

    def forward(self, h, a):
        return h + torch.sigmoid(self.gate(torch.cat([h, a], 1))) * self.proj(a)


class Denoiser(nn.Module):
    """x0-predicting denoiser on the template's latent grid (a two-level U-Net).

    Inputs: ``x_t`` ``(B, C, h, w)``, ``t_emb`` ``(B, time_dim)`` (sinusoidal, from
    ``core.dcdm.schedule.timestep_embedding``), optical features ``(B, F, h, w)`` and the
    attended reference signal ``(B, heads·head_dim, h, w)`` (``SparseCrossAttention``).
    Returns ``x0`` ``(B, C, h, w)``.
    """

    def __init__(self, cfg: DcdmConfig):
        super().__init__()
        c, emb = cfg.width, cfg.width * 2
        inner = cfg.heads * cfg.head_dim
        self.time = nn.Sequential(nn.Linear(cfg.time_dim, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.inp = _conv(cfg.latent_ch + cfg.feat_ch, c)
        self.pre = nn.ModuleList([TimeRes(c, emb) for _ in range(cfg.n_res)])
        self.inject = GatedInjection(c, inner)
        self.mid = nn.ModuleList([TimeRes(c, emb) for _ in range(cfg.n_res)])
        self.down = _conv(c, 2 * c, 2)
        self.low = nn.ModuleList([TimeRes(2 * c, emb) for _ in range(cfg.n_res)])
        # multi-grained: the attended signal also enters the coarse level (paper preset)
        self.inject_low = GatedInjection(2 * c, inner) if cfg.attn_low else None
        self.up = _conv(2 * c, c)
        self.post = nn.ModuleList([TimeRes(c, emb) for _ in range(cfg.n_res)])
        self.out_norm = nn.GroupNorm(_groups(c), c)
        self.out = _conv(c, cfg.latent_ch)

    def forward(self, x_t, t_emb, opt_feat, attended):
        emb = self.time(t_emb)
        h = self.inp(torch.cat([x_t, opt_feat], 1))
        for blk in self.pre:
            h = blk(h, emb)
        h = self.inject(h, attended)
        for blk in self.mid:
            h = blk(h, emb)
        low = self.down(h)
        for blk in self.low:
            low = blk(low, emb)
        if self.inject_low is not None:
            low = self.inject_low(low, F.avg_pool2d(attended, 2))
        h = h + self.up(F.interpolate(low, scale_factor=2.0, mode="nearest"))
        for blk in self.post:
            h = blk(h, emb)
        return self.out(F.silu(self.out_norm(h)))


class Dcdm(nn.Module):
    """Everything: frozen ``ae``; trainable ``opt_enc``, ``sar_enc``, ``attn`` and ``denoiser``."""

    def __init__(self, cfg: DcdmConfig):
        super().__init__()
        self.cfg = cfg
        self.ae = AutoEncoder(cfg)
        self.opt_enc = Encoder(cfg.feat_widths, cfg.feat_ch, cfg.n_res, multi_grained=True, fast_stem=True,
                               structure=cfg.structure)
        self.sar_enc = Encoder(cfg.feat_widths, cfg.feat_ch, cfg.n_res, multi_grained=True, fast_stem=True,
                               structure=cfg.structure)
        self.attn = SparseCrossAttention(cfg.feat_ch, cfg.feat_ch + cfg.latent_ch, cfg.heads, cfg.head_dim,
                                         cfg.top_k, cfg.acb_hidden)
        self.denoiser = Denoiser(cfg)

    def condition(self, template, reference):
        """``(opt_feat, attended, att_raw, att_cal)`` from the normalised template and reference.

        Reference tokens = SAR features ⊕ the frozen auto-encoder's latent of the reference.
        """
        ref_tokens = torch.cat([self.sar_enc(reference), self.ae.encode(reference)], 1)
        opt_feat = self.opt_enc(template)
        attended, att_raw, att_cal = self.attn(opt_feat, ref_tokens)
        return opt_feat, attended, att_raw, att_cal

    def parameter_counts(self) -> Tuple[int, int]:
        """``(trainable, frozen)``: frozen = the auto-encoder."""
        frozen = sum(p.numel() for p in self.ae.parameters())
        total = sum(p.numel() for p in self.parameters())
        return total - frozen, frozen
