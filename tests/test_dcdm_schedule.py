"""The numpy diffusion schedule and DDIM step (no torch, no ONNX)."""
import numpy as np
import pytest

from sarcoreg.core.dcdm.schedule import (ScheduleConfig, alphas_cumprod, ddim_step, ddim_timesteps, fixed_noise,
                                         q_sample, timestep_embedding)


def test_schedule_shapes_and_order():
    cfg = ScheduleConfig()
    abar = alphas_cumprod(cfg)
    assert abar.shape == (1000,)
    assert np.all(np.diff(abar) < 0) and 0.99 < abar[0] < 1 and abar[-1] < 1e-3
    assert ddim_timesteps(cfg).tolist() == [999, 799, 599, 399, 199]


def test_ddim_step_with_perfect_x0_recovers_it():
    cfg = ScheduleConfig()
    abar = alphas_cumprod(cfg)
    steps = ddim_timesteps(cfg)
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((4, 6, 6))
    eps = rng.standard_normal((4, 6, 6))
    x = q_sample(x0, eps, abar[steps[0]])
    for i, t in enumerate(steps):
        prev = abar[steps[i + 1]] if i + 1 < len(steps) else 1.0
        x = ddim_step(x, x0, abar[t], prev)
        if i + 1 < len(steps):  # eta = 0 keeps the same noise: x stays on the forward path
            np.testing.assert_allclose(x, q_sample(x0, eps, prev), atol=1e-9)
    np.testing.assert_allclose(x, x0, atol=1e-12)


def test_fixed_noise_is_reproducible_and_shape_seeded():
    a = fixed_noise((8, 24, 24))
    assert a.dtype == np.float32 and a.shape == (8, 24, 24)
    np.testing.assert_array_equal(a, fixed_noise((8, 24, 24)))
    assert not np.allclose(a[:, :12, :12], fixed_noise((8, 12, 12)))
    assert abs(float(a.std()) - 1) < 0.05


def test_timestep_embedding():
    e = timestep_embedding(np.array([0, 999]), 64)
    assert e.shape == (2, 64) and e.dtype == np.float32
    np.testing.assert_allclose(e[0, :32], 1.0)
    np.testing.assert_allclose(e[0, 32:], 0.0)


def test_bad_config_is_refused():
    with pytest.raises(ValueError):
        ScheduleConfig(sample_steps=0)
    with pytest.raises(ValueError):
        ScheduleConfig(beta_start=0.1, beta_end=0.01)
