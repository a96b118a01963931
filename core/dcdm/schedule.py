"""The diffusion schedule and the DDIM step: plain arithmetic, no network, no torch.

Notation of DDPM/DDIM (Ho et al. 2020, Song et al. 2021):

* ``beta_t`` for ``t = 0 .. N-1`` (linear from ``beta_start`` to ``beta_end``),
  ``alpha_t = 1 - beta_t`` and ``abar_t = prod_{s <= t} alpha_s``;
* forward process (eq. q): ``x_t = sqrt(abar_t) · x0 + sqrt(1 - abar_t) · eps``;
* the denoiser predicts ``x0`` directly (DCDM), so the noise it implies is
  ``eps = (x_t - sqrt(abar_t) · x0) / sqrt(1 - abar_t)``;
* the deterministic DDIM step (eta = 0) from ``t`` to the previous sampled step ``s``:
  ``x_s = sqrt(abar_s) · x0 + sqrt(1 - abar_s) · eps`` (with ``abar = 1`` after the last step,
  so the last step returns ``x0``).

``q_sample`` and ``ddim_step`` only use ``+ - * /`` on their array arguments, so the same
functions drive numpy arrays (ONNX Runtime inference) and torch tensors (training).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

import numpy as np

__all__ = ["ScheduleConfig", "alphas_cumprod", "ddim_timesteps", "q_sample", "ddim_step",
           "fixed_noise", "timestep_embedding"]


@dataclass(frozen=True)
class ScheduleConfig:
    """The noise schedule and the sampler (serialised into the ONNX metadata)."""

    train_steps: int = 1000        # N, steps of the forward process
    beta_start: float = 1e-4
    beta_end: float = 0.02
    sample_steps: int = 5          # DDIM steps at inference
    noise_seed: int = 20201111     # seed of the fixed x_T

    def __post_init__(self) -> None:
        if not 1 <= self.sample_steps <= self.train_steps:
            raise ValueError(f"sample_steps {self.sample_steps} must be in [1, train_steps={self.train_steps}]")
        if not 0 < self.beta_start < self.beta_end < 1:
            raise ValueError(f"need 0 < beta_start {self.beta_start} < beta_end {self.beta_end} < 1")


def alphas_cumprod(config: ScheduleConfig = ScheduleConfig()) -> np.ndarray:
    """``abar_t`` for ``t = 0 .. N-1``, float64 ``(N,)``, decreasing from ~1 towards 0."""
    betas = np.linspace(config.beta_start, config.beta_end, config.train_steps, dtype=np.float64)
    return np.cumprod(1.0 - betas)


def ddim_timesteps(config: ScheduleConfig = ScheduleConfig()) -> np.ndarray:
    """The ``sample_steps`` timesteps visited by DDIM, descending, int64, first = ``N - 1``.

    Evenly spaced: for N = 1000 and 5 steps, ``[999, 799, 599, 399, 199]``.
    """
    n, k = config.train_steps, config.sample_steps
    return (n - 1 - np.arange(k) * (n // k)).astype(np.int64)


def q_sample(x0, noise, abar_t):
    """``x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) noise`` (forward process).

    ``abar_t`` is a float or an array broadcastable against ``x0`` (one per batch item).
    """
    return abar_t ** 0.5 * x0 + (1.0 - abar_t) ** 0.5 * noise


def ddim_step(x_t, x0_pred, abar_t: float, abar_prev: float):
    """One deterministic DDIM step (eta = 0) from ``x_t`` given the predicted ``x0``.

    ``abar_prev`` is ``abar`` of the next (smaller) sampled timestep, or 1.0 after the last
    one, in which case the result is ``x0_pred``.
    """
    eps = (x_t - abar_t ** 0.5 * x0_pred) / max(1.0 - abar_t, 1e-12) ** 0.5
    return abar_prev ** 0.5 * x0_pred + (1.0 - abar_prev) ** 0.5 * eps


def fixed_noise(shape: Tuple[int, ...], config: ScheduleConfig = ScheduleConfig()) -> np.ndarray:
    """The fixed starting point ``x_T`` of the sampler, float32 standard normal of ``shape``.

    Seeded by ``config.noise_seed`` and the shape, so a given latent size always starts from
    the same noise and results are reproducible.
    """
    rng = np.random.default_rng([int(config.noise_seed), *(int(s) for s in shape)])
    return rng.standard_normal(shape).astype(np.float32)


def timestep_embedding(t: np.ndarray, dim: int, max_period: float = 10000.0) -> np.ndarray:
    """Sinusoidal embedding of timesteps ``t`` (shape ``(B,)``) → float32 ``(B, dim)``.

    ``[cos(t·f_0) .. cos(t·f_{h-1}), sin(t·f_0) .. sin(t·f_{h-1})]`` with ``h = dim / 2`` and
    ``f_i = max_period ** (-i / h)`` (the Transformer / DDPM embedding).
    """
    half = dim // 2
    freqs = np.exp(-np.log(max_period) * np.arange(half, dtype=np.float64) / half)
    args = np.asarray(t, dtype=np.float64).reshape(-1, 1) * freqs[None]
    return np.concatenate([np.cos(args), np.sin(args)], axis=1).astype(np.float32)
