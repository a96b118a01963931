"""A lighter decoder (and encoder) for a trained DCDM model, taught by the model's own.

The decoder turns the denoiser's final latent into the translated template. In the ``cpu``
preset its full-resolution level (a residual block of 32 channels at the template's size) is
about a fifth of the network's multiply-adds, its half-resolution block about an eighth.
``distill`` builds a decoder with fewer residual blocks per level (``level_res``, e.g.
``(1, 0, 0)``: only the block at a quarter of the resolution kept), starts it from the teacher's
weights for every layer they share, and trains it to give the teacher decoder's output on:

* the latents the teacher's own DDIM loop produces for **train** windows (what the decoder
  sees at inference), and
* the auto-encoder's latents of train SAR crops;

random crops of those latents, flipped and transposed, mean squared error on the decoded
images. Optionally (``enc_res``) the auto-encoder's encoder, which encodes the SAR reference
for the attention, is lightened the same way on train SAR crops. Nothing else of the model
changes. The student checkpoint is the teacher's with the
decoder (and encoder) replaced, ``config.dec_res`` (``enc_res``) set and a ``distilled``
record; ``distill_decoder`` writes it from and to files. It exports like any
checkpoint, and the export then goes through the parity gate against the teacher's export
(``models.dcdm.optimize.gate``) before it can ship.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Dict, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ...core.dcdm.schedule import ScheduleConfig
from ...core.errors import InputError
from ...core.staging import atomic_file
from .config import DcdmConfig
from .data import PairBank
from .network import Decoder, Encoder
from .sampler import translate
from .train import _training_pairs, load_model


def student_decoder(teacher: Decoder, cfg: DcdmConfig, level_res: Sequence[int]) -> Decoder:
    """A decoder with ``level_res`` residual blocks per level, holding the teacher's weights
    for the input and output convolutions, each level's last convolution and the first
    residual blocks it keeps."""
    student = Decoder(cfg.ae_widths, cfg.latent_ch, cfg.ae_res, tuple(level_res))
    student.inp.load_state_dict(teacher.inp.state_dict())
    student.out.load_state_dict(teacher.out.state_dict())
    for s_level, t_level in zip(student.ups, teacher.ups):
        s_level[-1].load_state_dict(t_level[-1].state_dict())
        for k in range(min(len(s_level), len(t_level)) - 1):
            s_level[k].load_state_dict(t_level[k].state_dict())
    return student


def train_bank(data_root: str, seed: int, max_pairs: int = 0):
    """A ``PairBank`` of the train pairs (the first ``max_pairs`` when given), never dev or val."""
    train_pairs, _ = _training_pairs(data_root)
    if max_pairs:
        train_pairs = train_pairs[:max_pairs]
    if not train_pairs:
        raise InputError(f"no train pairs under {data_root} to distil on")
    return PairBank(train_pairs, seed=seed)


@torch.no_grad()
def latent_pool(model, bank, n_windows: int, window_px: int, template_px: int,
                log: Callable[[str], None]) -> torch.Tensor:
    """The teacher's final DDIM latents of ``n_windows`` windows of ``bank`` and as many
    latents of its SAR crops of the template's size, ``(2 n, C, h, h)`` in the decoder's input units."""
    out, start = [], time.perf_counter()
    for i in range(0, n_windows, 4):
        tm, rf, _, _ = bank.batch(min(4, n_windows - i), window_px, template_px, augment=False)
        out.append(translate(model, torch.from_numpy(tm), torch.from_numpy(rf), ScheduleConfig()).latent)
    sar = torch.from_numpy(sar_crops(bank, n_windows, template_px))
    for i in range(0, len(sar), 8):
        out.append(model.ae.encode(sar[i:i + 8]))
    pool = torch.cat(out)
    log(f"latent pool: {len(pool)} latents of {tuple(pool.shape[1:])} from {len(bank.pairs)} train pairs "
        f"in {time.perf_counter() - start:.0f} s")
    return pool


def sar_crops(bank, n: int, px: int) -> np.ndarray:
    """``n`` prepared SAR crops of ``px`` from ``bank``, ``(n, 1, px, px)``."""
    return bank.ae_batch(2 * n, px)[::2]      # ae_batch alternates SAR, optical


def _crops(pool: torch.Tensor, n: int, cells: int, rng: np.random.Generator) -> torch.Tensor:
    """``n`` random ``cells``-square crops (at most the pool's size) of the maps in ``pool``
    ``(N, C, H, H)`` (latents or images), each flipped and transposed at random."""
    h = pool.shape[-1]
    cells = min(cells, h)
    out = []
    for _ in range(n):
        z = pool[int(rng.integers(len(pool)))]
        r, c = (int(v) for v in rng.integers(0, h - cells + 1, size=2))
        z = z[:, r:r + cells, c:c + cells]
        if rng.random() < 0.5:
            z = z.flip(-1)
        if rng.random() < 0.5:
            z = z.transpose(-1, -2)
        out.append(z)
    return torch.stack(out)


def student_encoder(teacher: Encoder, cfg: DcdmConfig, level_res: Sequence[int]) -> Encoder:
    """An auto-encoder encoder with ``level_res`` residual blocks per level, holding the
    teacher's weights for the stem, the output projection, each level's strided convolution
    and the first residual blocks it keeps."""
    student = Encoder(cfg.ae_widths, cfg.latent_ch, cfg.ae_res, level_res=tuple(level_res))
    student.stem.load_state_dict(teacher.stem.state_dict())
    student.out.load_state_dict(teacher.out.state_dict())
    for s_level, t_level in zip(student.levels, teacher.levels):
        for k in range(min(len(s_level), len(t_level))):
            s_level[k].load_state_dict(t_level[k].state_dict())
    return student


def _fit(student, teacher, draw: Callable[[np.random.Generator, int], torch.Tensor], held: torch.Tensor,
         minutes: float, batch: int, lr: float, seed: int, name: str, log: Callable[[str], None]) -> Dict:
    """Train ``student`` to give ``teacher``'s output on batches from ``draw`` for ``minutes``
    (Adam, 50 steps of warm-up, cosine); its RMSE to the teacher on ``held`` before and after."""
    with torch.no_grad():
        held_target = teacher(held)
        rmse_before = float(torch.sqrt(F.mse_loss(student.eval()(held), held_target)))
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(student.parameters(), lr=lr)
    budget, start, step, recent = 60.0 * minutes, time.perf_counter(), 0, []
    student.train()
    while time.perf_counter() - start < budget:
        frac = (time.perf_counter() - start) / budget
        for g in opt.param_groups:   # a short warm-up (the student starts near the teacher), then cosine
            g["lr"] = lr * min(1.0, (step + 1) / 50) * 0.5 * (1 + np.cos(np.pi * min(frac, 1.0)))
        x = draw(rng, batch)
        with torch.no_grad():
            target = teacher(x)
        loss = F.mse_loss(student(x), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        recent.append(loss.item())
        if step % 50 == 0:
            log(f"distill {name} step {step} mse {np.mean(recent[-50:]):.2e} "
                f"[{(time.perf_counter() - start) / 60:.1f} min]")
    student.eval()
    with torch.no_grad():
        rmse = float(torch.sqrt(F.mse_loss(student(held), held_target)))
        spread = float(held_target.std())
    log(f"student {name}: RMSE to the teacher {rmse_before:.4f} -> {rmse:.4f} (teacher's output spread {spread:.3f})")
    return {"steps": step, "minutes": round((time.perf_counter() - start) / 60, 1), "rmse_before": round(rmse_before, 5),
            "rmse_to_teacher": round(rmse, 5), "teacher_std": round(spread, 4)}


def distill(model, ck: Dict, level_res: Sequence[int], data_root: str, minutes: float = 30.0, batch: int = 8,
            crop_cells: int = 16, lr: float = 1e-3, n_windows: int = 96, window_px: int = 256,
            template_px: int = 192, seed: int = 5, log: Callable[[str], None] = print, max_pairs: int = 0,
            enc_res: Sequence[int] = ()) -> Dict:
    """Train the lighter decoder of ``model`` (the teacher, loaded from checkpoint ``ck``) for
    ``minutes`` (see the module doc). With ``enc_res``, the auto-encoder's encoder (which
    encodes the SAR reference) is distilled the same way to that many residual blocks per
    level, on train SAR crops, and the minutes are shared half and half. ``model`` becomes
    the student (its ``cfg`` too); returns the student's checkpoint dict, whose
    ``distilled`` record says what was done and how close it came."""
    cfg = model.cfg
    scale = float(model.ae.latent_scale)
    share = 0.5 if enc_res else 1.0
    bank = train_bank(data_root, seed, max_pairs)
    pool = latent_pool(model, bank, n_windows, window_px, template_px, log) / scale
    decoder = student_decoder(model.ae.dec, cfg, level_res)
    record = {"teacher_step": ck.get("step"), "level_res": list(level_res),
              **_fit(decoder, model.ae.dec, lambda rng, n: _crops(pool, n, crop_cells, rng),
                     _crops(pool, 32, 24, np.random.default_rng(seed + 1)), share * minutes, batch, lr, seed,
                     f"decoder {tuple(level_res)}", log)}
    changes = {"dec_res": tuple(level_res)}
    if enc_res:
        sar = torch.from_numpy(sar_crops(bank, 4 * n_windows, 128))
        encoder = student_encoder(model.ae.enc, cfg, enc_res)
        record["encoder"] = {"level_res": list(enc_res), **_fit(
            encoder, model.ae.enc, lambda rng, n: _crops(sar, n, 96, rng),
            _crops(sar, 16, 128, np.random.default_rng(seed + 1)), share * minutes, batch, lr, seed,
            f"encoder {tuple(enc_res)}", log)}
        changes["enc_res"] = tuple(enc_res)
        model.ae.enc = encoder
    model.cfg = DcdmConfig.from_dict({**cfg.to_dict(), **changes})
    model.ae.dec = decoder
    student = {k: v for k, v in ck.items() if k != "optim"}
    student.update(config=model.cfg.to_dict(), model=model.state_dict(), distilled=record)
    return student


def distill_decoder(checkpoint: str, out: str, level_res: Sequence[int], data_root: str, **options) -> Dict:
    """``distill`` of the model in ``checkpoint``; the student checkpoint written to ``out``
    (through a temporary name). ``options``: those of ``distill``. Returns the ``distilled`` record."""
    model, ck = load_model(checkpoint)
    student = distill(model, ck, level_res, data_root, **options)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(out, "wb") as fh:
        torch.save(student, fh)
    options.get("log", print)(f"wrote {out}")
    return student["distilled"]
