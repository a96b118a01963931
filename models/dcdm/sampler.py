"""DDIM sampling of the translation with the torch network (training and reference runs).

The schedule and the DDIM step are the numpy functions of ``core.dcdm.schedule``; this loop
is the same as the ONNX Runtime loop of ``core.dcdm.matcher`` with torch tensors.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from ...core.dcdm.schedule import (ScheduleConfig, alphas_cumprod, ddim_step, ddim_timesteps, fixed_noise,
                                   timestep_embedding)
from .network import Dcdm


class Translation(NamedTuple):
    latent: torch.Tensor          # (B, C, h, w) final x0
    image: torch.Tensor           # (B, 1, T, T) decoded translated template (normalised SAR)
    att_raw: torch.Tensor         # (B, Q, D) head-averaged attention before calibration
    att_cal: torch.Tensor         # after calibration


def translate(model: Dcdm, template: torch.Tensor, reference: torch.Tensor,
              schedule: ScheduleConfig = ScheduleConfig()) -> Translation:
    """Translate ``template`` ``(B, 1, T, T)`` into SAR appearance, conditioned on ``reference``.

    Starts from the fixed ``x_T`` and runs ``schedule.sample_steps`` DDIM steps (eta = 0):
    at each timestep the denoiser predicts ``x0`` and ``ddim_step`` moves to the next one.
    """
    opt_feat, attended, att_raw, att_cal = model.condition(template, reference)
    x0 = sample_latent(model, opt_feat, attended, schedule)
    return Translation(x0, model.ae.decode(x0), att_raw, att_cal)


def sample_latent(model: Dcdm, opt_feat: torch.Tensor, attended: torch.Tensor,
                  schedule: ScheduleConfig = ScheduleConfig(), grad_last_only: bool = False) -> torch.Tensor:
    """The DDIM loop on precomputed conditions → the final x0 ``(B, C, h, w)``.

    ``grad_last_only`` (training): the steps before the last run without gradients, so the
    losses on the result train the last denoiser call (about 3x cheaper than all five).
    """
    abar = alphas_cumprod(schedule)
    steps = ddim_timesteps(schedule)
    b = opt_feat.shape[0]
    h, w = opt_feat.shape[-2:]
    device = opt_feat.device
    x = torch.from_numpy(fixed_noise((model.cfg.latent_ch, h, w), schedule)).to(device)[None].expand(b, -1, -1, -1)
    x0 = x
    for i, t in enumerate(steps):
        emb = torch.from_numpy(timestep_embedding(np.full(b, t), model.cfg.time_dim)).to(device)
        with torch.set_grad_enabled(torch.is_grad_enabled() and (not grad_last_only or i + 1 == len(steps))):
            x0 = model.denoiser(x, emb, opt_feat, attended)
        abar_prev = float(abar[steps[i + 1]]) if i + 1 < len(steps) else 1.0
        x = ddim_step(x, x0, float(abar[t]), abar_prev)
    return x0
