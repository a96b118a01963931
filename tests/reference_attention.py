"""The sparse cross-attention computed the straightforward way, as the reference that the
banded computation of ``models/dcdm/network.py`` must equal (tests and
``scripts/bench_attention.py``).

Dense logits of every query against every reference token, then the search-window entries
picked with ``displacement_index``; the values of the window gathered per (query,
displacement); the calibration block's convolutions applied to the batch of small images
as they are. This is how the model computed its attention before dcdm-0.1.19900 was
re-exported; keep it simple rather than fast.
"""
from __future__ import annotations

import math

import torch


def displacement_index(h: int, w: int, hr: int, wr: int, device=None) -> torch.Tensor:
    """Flat reference-token index of every (query, displacement), int64 ``(h·w·ny·nx,)``.

    Query ``(y, x)`` with displacement ``(dy, dx)`` reads reference token ``(y + dy, x + dx)``
    of a ``hr × wr`` grid; ``ny = hr - h + 1``, ``nx = wr - w + 1``.
    """
    ny, nx = hr - h + 1, wr - w + 1
    qy = torch.arange(h, device=device).view(h, 1, 1, 1)
    qx = torch.arange(w, device=device).view(1, w, 1, 1)
    dy = torch.arange(ny, device=device).view(1, 1, ny, 1)
    dx = torch.arange(nx, device=device).view(1, 1, 1, nx)
    return ((qy + dy) * wr + (qx + dx)).reshape(-1)


def reference_calibration(acb, att, h: int, w: int, ny: int, nx: int):
    """``CalibrationBlock.forward`` with its convolutions run as plain ``nn.Sequential``."""
    b, q, d = att.shape
    logp = torch.log(att + 1e-4)
    dd = acb.disp(logp.reshape(b * q, 1, ny, nx)).reshape(b, q, d)
    ss = acb.space(logp.transpose(1, 2).reshape(b * d, 1, h, w)).reshape(b, d, q).transpose(1, 2)
    prior = torch.log(att.mean(dim=1, keepdim=True) + 1e-4)
    g = acb.gains
    return torch.softmax(logp + g[0] * dd + g[1] * ss + g[2] * prior, dim=-1)


def reference_attention(attn, x, ref):
    """``SparseCrossAttention.forward`` of the module ``attn``, computed densely."""
    b, _, h, w = x.shape
    hr, wr = ref.shape[-2:]
    ny, nx = hr - h + 1, wr - w + 1
    q_n, d_n = h * w, ny * nx
    idx = displacement_index(h, w, hr, wr, x.device)                               # (Q·D,)
    nh, hd, k_n = attn.heads, attn.head_dim, hr * wr
    q = attn.q(attn.norm(x)).reshape(b * nh, hd, q_n).transpose(1, 2) / math.sqrt(hd)  # (B·H, Q, hd)
    k = attn.k(ref).reshape(b * nh, hd, k_n)                                         # (B·H, hd, K)
    dense = torch.matmul(q, k).reshape(b * nh, q_n * k_n)
    rows = torch.arange(q_n, device=x.device).repeat_interleave(d_n) * k_n
    logits = dense[:, rows + idx].reshape(b, nh, q_n, d_n)                          # (B, H, Q, D)
    kth = torch.topk(logits, attn.top_k, dim=-1).values[..., -1:]
    logits = torch.where(logits >= kth, logits, torch.full_like(logits, -1e4))
    att_raw = torch.softmax(logits, dim=-1).mean(dim=1)                              # (B, Q, D)
    att_cal = reference_calibration(attn.acb, att_raw, h, w, ny, nx)
    v = attn.v(ref).reshape(b, nh * hd, k_n).transpose(1, 2)[:, idx]                 # (B, Q·D, C)
    out = torch.matmul(att_cal.unsqueeze(2), v.reshape(b, q_n, d_n, nh * hd))        # (B, Q, 1, C)
    out = out.reshape(b, q_n, nh * hd).transpose(1, 2).reshape(b, nh * hd, h, w)
    return out, att_raw, att_cal
