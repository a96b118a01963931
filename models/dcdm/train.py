"""Training of DCDM: the auto-encoder first (then frozen), then the conditional denoiser.

Phase ``ae``: L1 + (1 − SSIM) reconstruction of SAR and optical crops; at its end the
latent scale is set so that SAR latents have unit variance, and the auto-encoder is frozen.

Phase ``dcdm``, per batch (truth = the template's top-left in the reference):

* L2 on x0 at a random timestep: ``‖f(x_t, t) − x0‖²`` with ``x_t = q_sample(x0, eps, t)``
  and ``x0`` the latent of the SAR under the template;
* the inference path itself: the 5 DDIM steps from the fixed ``x_T``; its decoded
  translation gets (1 − SSIM) against the SAR under the template and the *matching loss*
  (cross-entropy of the softmaxed ZNCC surface of the translation in the reference against
  a 1-px Gaussian at the truth);
* spatial position consistency on every calibrated attention map.

Checkpoints (``last.pt`` every ``--checkpoint-every`` steps and at the end, ``best.pt``
whenever the score on the *dev* pairs improves) hold everything needed to resume.
The dev pairs are a few *train*-split pairs held out from training for model selection, so
the validation split stays untouched until the final evaluation.
"""
from __future__ import annotations

import dataclasses
import math
import os
import time
from pathlib import Path
from typing import Callable, Dict, Optional

import numpy as np
import torch
import torch.nn.functional as F

from ...core.dcdm.schedule import ScheduleConfig, alphas_cumprod, q_sample, timestep_embedding
from ...core.matchers.kernels import peak_subpixel, zncc_surface
from ...core.errors import InputError
from ...core.staging import atomic_file
from ...core.samples import DEV_FRACTION, split_of, split_train_dev  # noqa: F401 (re-exported)
from ...core.sources import list_source_pairs
from .config import PRESETS, DcdmConfig, TrainConfig
from .data import PairBank, describe, find_pairs
from .losses import matching_loss, spc_loss, ssim, zncc_torch
from .network import Dcdm
from .sampler import sample_latent, translate


def save_checkpoint(path: Path, model: Dcdm, opt, state: Dict) -> None:
    """Write ``model`` (sizes and weights), the state of ``opt`` (None: the checkpoint is not
    for resuming) and ``state`` to ``path``, through a temporary file so that an interrupted
    run never leaves a half-written checkpoint."""
    with atomic_file(path, "wb") as fh:
        torch.save({"config": model.cfg.to_dict(), "model": model.state_dict(),
                    "optim": opt.state_dict() if opt is not None else None, **state}, fh)


def load_model(path: str) -> (Dcdm, Dict):
    """A model and its checkpoint dict from ``path`` (eval mode)."""
    ck = torch.load(path, map_location="cpu", weights_only=False)
    model = Dcdm(DcdmConfig.from_dict(ck["config"]))
    model.load_state_dict(ck["model"])
    model.eval()
    return model, ck


@torch.no_grad()
def dev_score(model: Dcdm, dev_set) -> Dict[str, float]:
    """CMR(1/3/5) and RMSE(all) of the translate-then-ZNCC matcher on fixed dev samples."""
    model.eval()
    errs = []
    for tm, rf, _, truth in dev_set:
        device = next(model.parameters()).device
        tr = translate(model, torch.from_numpy(tm).to(device), torch.from_numpy(rf).to(device))
        for k in range(tm.shape[0]):
            surf = zncc_surface(tr.image[k, 0].cpu().numpy(), rf[k, 0])
            r, c, _ = peak_subpixel(surf)
            errs.append(math.hypot(r - truth[k, 0], c - truth[k, 1]))
    model.train()
    e = np.array(errs)
    return {"cmr1": float(np.mean(e <= 1)), "cmr3": float(np.mean(e <= 3)), "cmr5": float(np.mean(e <= 5)),
            "rmse_all": float(np.sqrt(np.mean(e ** 2)))}


def train(data_root: str, out_dir: str, preset: str = "cpu", tcfg: TrainConfig = TrainConfig(),
          time_budget_min: float = 60.0, checkpoint_every: int = 50, resume: bool = False,
          log: Callable[[str], None] = print, dev_samples: int = 24, dev_every: int = 100,
          init_ae: Optional[str] = None, threads: Optional[int] = None, keep_every: int = 0,
          finetune: Optional[str] = None, device: str = "cpu") -> Path:
    """Train (or resume) and return the path of the best checkpoint.

    ``finetune``: start from all the weights of this checkpoint (auto-encoder included, frozen)
    with a fresh optimiser and learning-rate schedule and the settings of ``tcfg`` (e.g. the
    evaluation's window and template); steps count on from the checkpoint's.

    ``keep_every``: also keep a copy ``step_<N>.pt`` every ``keep_every`` denoiser steps
    (0: none), for choosing among checkpoints afterwards on the dev pairs.

    ``init_ae``: a checkpoint whose trained auto-encoder is reused (the ``ae`` phase is skipped).
    ``device``: where the network trains (``cpu``, ``cuda``); checkpoints are read back with
    ``map_location="cpu"``, so a run can go on on another machine.
    ``threads``: torch intra-op threads; default half the cores. On a busy machine one thread
    is several times faster than two that wait for each other (measured: 4-6 s against
    15-37 s per step on two shared cores).
    """
    torch.manual_seed(tcfg.seed)
    torch.set_num_threads(int(threads or max(1, (os.cpu_count() or 2) // 2)))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    last, best = out / "last.pt", out / "best.pt"
    state = {"phase": "ae", "step": 0, "ae_step": 0, "elapsed_s": 0.0, "best": -1.0, "history": []}
    if resume and last.is_file():
        ck = torch.load(last, map_location="cpu", weights_only=False)
        cfg = DcdmConfig.from_dict(ck["config"])
        tcfg = TrainConfig(**ck["train"])
        state.update({k: ck[k] for k in state if k in ck})
        log(f"resuming {last} at phase {state['phase']} step {state['step']}")
    elif finetune:
        base = torch.load(finetune, map_location="cpu", weights_only=False)
        cfg = DcdmConfig.from_dict(base["config"])
        state.update(phase="dcdm", step=int(base.get("step", 0)), ae_step=int(base.get("ae_step", 0)))
        ck = None
        log(f"fine-tuning {finetune} (step {state['step']}) at {tcfg.window_px}/{tcfg.template_px} px, "
            f"learning rate {tcfg.lr:g}")
    else:
        ck = None
        cfg = PRESETS[preset]
    model = Dcdm(cfg)
    if ck is not None or finetune:
        model.load_state_dict((ck or base)["model"])
    elif init_ae:
        ae_ck = torch.load(init_ae, map_location="cpu", weights_only=False)
        model.ae.load_state_dict({k[3:]: v for k, v in ae_ck["model"].items() if k.startswith("ae.")})
        state.update(phase="dcdm", ae_step=ae_ck.get("ae_step", 0))
        log(f"auto-encoder from {init_ae} ({state['ae_step']} steps), frozen")
    dev = torch.device(device)
    model.to(dev)
    trainable, frozen = model.parameter_counts()
    log(f"preset {cfg.preset}: {trainable:,} trainable + {frozen:,} frozen (auto-encoder) parameters")

    pairs = find_pairs(data_root, "train")
    train_pairs, dev_pairs = split_train_dev(pairs)
    # the other sources with a measured truth (core.sources): OMBRIA's train and dev parts;
    # its upstream test folder is validation and never read here
    try:
        train_pairs += list_source_pairs(data_root, ["train"], ["ombria"])
        dev_pairs += list_source_pairs(data_root, ["dev"], ["ombria"])
    except InputError:
        pass
    log(f"train pairs: {len(train_pairs)} ({describe(train_pairs)}); dev pairs: {len(dev_pairs)}")
    bank = PairBank(train_pairs, seed=tcfg.seed + state["step"] + 7 * state["ae_step"])
    dev_bank = PairBank(dev_pairs, seed=1234)
    dev_set = [dev_bank.batch(6, tcfg.window_px, tcfg.template_px, augment=False)
               for _ in range(max(1, dev_samples // 6))]
    meta = {"train": dataclasses.asdict(tcfg), "train_pairs": sorted(p.pair_id for p in train_pairs),
            "dev_pairs": sorted(p.pair_id for p in dev_pairs), "data_summary": describe(train_pairs)}
    if finetune or (ck is not None and ck.get("finetuned_from")):
        meta["finetuned_from"] = finetune or ck["finetuned_from"]
    budget_s = time_budget_min * 60.0
    t0 = time.monotonic() - state["elapsed_s"]

    def elapsed() -> float:
        return time.monotonic() - t0

    def snapshot(opt):
        state["elapsed_s"] = elapsed()
        save_checkpoint(last, model, opt, {**state, **meta})

    # ---------------- phase 1: auto-encoder
    if state["phase"] == "ae":
        opt = torch.optim.Adam(model.ae.parameters(), lr=2e-3)
        if ck is not None and ck.get("optim") and ck["phase"] == "ae":
            opt.load_state_dict(ck["optim"])
        ae_budget = 0.15 * budget_s
        while state["ae_step"] < tcfg.ae_steps and elapsed() < ae_budget:
            x = torch.from_numpy(bank.ae_batch(tcfg.ae_batch, tcfg.ae_crop_px)).to(dev)
            y = model.ae.dec(model.ae.enc(x))
            loss = F.l1_loss(y, x) + 0.5 * (1 - ssim(y, x).mean())
            opt.zero_grad()
            loss.backward()
            opt.step()
            state["ae_step"] += 1
            if state["ae_step"] % 20 == 0:
                log(f"ae step {state['ae_step']}/{tcfg.ae_steps} loss {loss.item():.4f} [{elapsed() / 60:.1f} min]")
            if state["ae_step"] % checkpoint_every == 0:
                snapshot(opt)
        with torch.no_grad():
            z = torch.cat([model.ae.enc(torch.from_numpy(bank.ae_batch(8, 128)[::2]).to(dev)) for _ in range(4)])
            model.ae.latent_scale.fill_(1.0 / float(z.std()))
        log(f"auto-encoder frozen after {state['ae_step']} steps; latent scale {float(model.ae.latent_scale):.3f}")
        state["phase"] = "dcdm"
        ck = None
        snapshot(None)

    # ---------------- phase 2: conditional denoiser
    for p in model.ae.parameters():
        p.requires_grad_(False)
    params = [p for n, p in model.named_parameters() if not n.startswith("ae.")]
    opt = torch.optim.AdamW(params, lr=tcfg.lr, weight_decay=1e-4)
    if ck is not None and ck.get("optim") and ck["phase"] == "dcdm":
        opt.load_state_dict(ck["optim"])
    schedule = ScheduleConfig()
    abar = torch.from_numpy(alphas_cumprod(schedule)).float().to(dev)
    rng = np.random.default_rng(tcfg.seed + state["step"])
    model.train()
    R, T = tcfg.window_px, tcfg.template_px
    ny = nx = (R - T) // 8 + 1
    while state["step"] < tcfg.steps and elapsed() < budget_s:
        # cosine learning-rate decay over the time budget
        frac = min(1.0, elapsed() / budget_s)
        for g in opt.param_groups:
            g["lr"] = tcfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
        tm, rf, st, truth = (torch.from_numpy(a).to(dev) for a in bank.batch(tcfg.batch, R, T))
        with torch.no_grad():
            z0 = model.ae.encode(st)
        opt_feat, attended, _, att = model.condition(tm, rf)
        t = rng.integers(0, schedule.train_steps, size=tcfg.batch)
        a_t = abar[torch.from_numpy(t).to(dev)].view(-1, 1, 1, 1)
        x_t = q_sample(z0, torch.randn_like(z0), a_t)
        emb = torch.from_numpy(timestep_embedding(t, cfg.time_dim)).to(dev)
        x0p = model.denoiser(x_t, emb, opt_feat, attended)
        l_l2 = F.mse_loss(x0p, z0)
        l_spc = spc_loss(att, truth, ny, nx)
        x0s = sample_latent(model, opt_feat, attended, schedule, grad_last_only=True)
        dec = model.ae.decode(x0s)
        l_ssim = 1 - ssim(dec, st).mean()
        l_match = matching_loss(zncc_torch(dec, rf), truth, tcfg.match_temperature)
        # the matching loss's gradient is large and pure noise until the translation carries
        # structure; it is switched on once the other losses have shaped the translation
        w0, w1 = tcfg.match_warmup
        ramp = float(np.clip((frac - w0) / max(w1 - w0, 1e-6), 0.0, 1.0))
        loss = l_l2 + tcfg.lambda_ssim * l_ssim + tcfg.lambda_spc * l_spc + tcfg.lambda_match * ramp * l_match
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, tcfg.clip_grad)
        opt.step()
        state["step"] += 1
        if state["step"] % 10 == 0:
            log(f"step {state['step']} loss {loss.item():.3f} (l2 {l_l2.item():.3f} ssim {l_ssim.item():.3f} "
                f"spc {l_spc.item():.3f} match {l_match.item():.3f}) [{elapsed() / 60:.1f} / {time_budget_min:.0f} min]")
        if state["step"] % checkpoint_every == 0:
            snapshot(opt)
        if keep_every and state["step"] % keep_every == 0:
            state["elapsed_s"] = elapsed()
            save_checkpoint(Path(out_dir) / f"step_{state['step']}.pt", model, None, {**state, **meta})
        if state["step"] % dev_every == 0:
            s = dev_score(model, dev_set)
            s["step"] = state["step"]
            state["history"].append(s)
            score = s["cmr1"] + s["cmr3"] + s["cmr5"]
            log(f"dev at step {state['step']}: CMR(1/3/5) {s['cmr1']:.2f}/{s['cmr3']:.2f}/{s['cmr5']:.2f} "
                f"RMSE(all) {s['rmse_all']:.2f}")
            if score >= state["best"]:
                state["best"] = score
                state["elapsed_s"] = elapsed()
                save_checkpoint(best, model, None, {**state, **meta})
                log(f"new best checkpoint {best}")
    snapshot(opt)
    if not best.is_file() or state["history"] == []:
        save_checkpoint(best, model, None, {**state, **meta})
    log(f"done: {state['step']} steps in {elapsed() / 60:.1f} min")
    return best
