"""Presets of the DCDM network (sizes only; no torch here so the CLI can list them)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Dict, Tuple

MODEL_VERSION = "dcdm-0.1"
STRIDE_PX = 8            # latent / attention stride
GRID_PX = 16             # template and window sides are used in multiples of this (one U-Net level)


@dataclass(frozen=True)
class DcdmConfig:
    """Sizes of every part of the model. Widths are channels per stride-2 level (2, 4, 8)."""

    preset: str = "cpu"
    latent_ch: int = 8                          # auto-encoder latent channels (stride 8)
    ae_widths: Tuple[int, int, int] = (16, 32, 48)
    ae_res: int = 1                             # residual blocks per auto-encoder level
    # residual blocks per decoder level (stride 4, 2, 1), when the decoder is lighter than the
    # encoder (a distilled decoder: ``models/dcdm/distill.py``, ``sarcoreg optimize-onnx --variants
    # light``); empty: ``ae_res`` everywhere
    dec_res: Tuple[int, ...] = ()
    # the same for the auto-encoder's encoder (stride 2, 4, 8), which encodes the SAR reference
    enc_res: Tuple[int, ...] = ()
    feat_widths: Tuple[int, int, int] = (16, 32, 48)  # optical / SAR feature encoders (trainable)
    feat_ch: int = 32                           # multi-grained feature channels at stride 8
    width: int = 64                             # denoiser width at stride 8 (2x at stride 16)
    heads: int = 4
    head_dim: int = 8
    top_k: int = 16                             # dynamic sparsity: logits kept per query
    acb_hidden: int = 2                         # channels of the calibration convolutions
    time_dim: int = 64                          # sinusoidal timestep embedding size
    n_res: int = 1                              # residual blocks per denoiser stage
    attn_low: bool = False                      # attended signal also injected at stride 16
    structure: bool = True                      # fixed structural channels before the feature encoders

    def to_dict(self) -> Dict:
        return asdict(self)

    @staticmethod
    def from_dict(d: Dict) -> "DcdmConfig":
        d = dict(d)
        for key in ("ae_widths", "feat_widths", "dec_res", "enc_res"):
            if key in d:
                d[key] = tuple(d[key])
        return DcdmConfig(**d)


PRESETS: Dict[str, DcdmConfig] = {
    "cpu": DcdmConfig(),
    "paper": DcdmConfig(preset="paper", latent_ch=8, ae_widths=(64, 128, 176), ae_res=2,
                        feat_widths=(64, 128, 192), feat_ch=192, width=224, heads=8, head_dim=32,
                        top_k=32, acb_hidden=16, time_dim=128, n_res=2, attn_low=True),
}


@dataclass(frozen=True)
class TrainConfig:
    """Training settings (serialised with each checkpoint)."""

    window_px: int = 160           # same search range (64 px) as 256/192 with a smaller template
    template_px: int = 96
    batch: int = 4
    lr: float = 1e-3
    ae_steps: int = 600
    ae_crop_px: int = 128
    ae_batch: int = 12
    steps: int = 100000            # the time budget usually stops training first
    seed: int = 0
    lambda_ssim: float = 0.5
    lambda_spc: float = 1.0
    lambda_match: float = 1.0
    lambda_stripes: float = 0.0      # stripe_loss: the translation's row/column gradient balance (0: off)
    match_temperature: float = 30.0
    match_sigma_px: float = 1.0        # width of the matching loss's target blob at the truth
    # the truth of the s1s2_la pairs: "upstream" (one residual_shift_px per pair) or "cells"
    # (templates drawn inside the cells where CFOG and MIND agree, with the cell's own residual:
    # resources/truth/la_cells.csv, scripts/measure_residuals.py --la) or "local" (templates
    # anywhere, the truth of the agreeing cells under them where they agree, else the pair's:
    # the evaluation's truth, core.sources.local_truth)
    la_truth: str = "upstream"
    match_warmup: Tuple[float, float] = (0.1, 0.25)   # matching loss off, then ramped in (budget fractions)
    clip_grad: float = 5.0
    rotate_deg: float = 3.0
    scale_frac: float = 0.03
    optical_noise_var: float = 0.3
    extra: Dict = field(default_factory=dict)
