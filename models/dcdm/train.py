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

import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from ...core.dcdm.schedule import ScheduleConfig, alphas_cumprod, q_sample, timestep_embedding
from ...core.matchers.kernels import peak_subpixel, zncc_surface
from ...core.errors import InputError
from ...core.staging import atomic_file
from ...core.samples import DEV_FRACTION, split_of, split_train_dev  # noqa: F401 (re-exported)
from ...core.sources import LA_CELLS_CSV, LA_TRAIN_TRUTHS, list_source_pairs, read_la_cells
from .config import PRESETS, DcdmConfig, TrainConfig
from .data import DATASET_DIR, PairBank, describe, find_pairs, source_of
from .losses import matching_loss, spc_loss, ssim, stripe_loss, zncc_torch
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


@dataclass(frozen=True)
class RunOptions:
    """How one run of ``train`` goes: where it reads and writes, how long it lasts, how it
    starts.  The training settings proper (``TrainConfig``) are kept apart because every
    checkpoint carries them and a resumed run takes them from there."""

    data_root: str                     # the shared data folder (s1s2_la/, ombria/)
    out_dir: str                       # where last.pt, best.pt and step_<N>.pt go
    preset: str = "cpu"                # network sizes of a new run (PRESETS)
    time_budget_min: float = 60.0      # the whole run's wall time, resumed parts included
    checkpoint_every: int = 50         # steps between resumable last.pt checkpoints
    resume: bool = False               # go on from out_dir/last.pt when there is one
    dev_samples: int = 24              # dev crops scored at each dev check
    dev_every: int = 100               # denoiser steps between dev checks
    # reuse the trained auto-encoder of this checkpoint (the ``ae`` phase is skipped)
    init_ae: Optional[str] = None
    # torch intra-op threads; default half the cores. On a busy machine one thread is several
    # times faster than two that wait for each other (measured: 4-6 s against 15-37 s per
    # step on two shared cores)
    threads: Optional[int] = None
    # also keep a copy step_<N>.pt every keep_every denoiser steps (0: none), for choosing
    # among checkpoints afterwards on the dev pairs
    keep_every: int = 0
    # start from all the weights of this checkpoint (auto-encoder included, frozen) with a
    # fresh optimiser and learning-rate schedule and the given TrainConfig (e.g. the
    # evaluation's window and template); steps count on from the checkpoint's
    finetune: Optional[str] = None
    # where the network trains (cpu, cuda); checkpoints are read back with
    # map_location="cpu", so a run can go on on another machine
    device: str = "cpu"


def train(options: RunOptions, tcfg: TrainConfig = TrainConfig(),
          log: Callable[[str], None] = print) -> Path:
    """Train (or resume) and return the path of the best checkpoint: the auto-encoder phase
    unless it is done or reused, then the denoiser until ``tcfg.steps`` or the time budget."""
    run = _set_up(options, tcfg, log)
    if run.state["phase"] == "ae":
        _autoencoder_phase(run)
    opt = _denoiser_phase(run)
    _finish(run, opt)
    return run.best


# --------------------------------------------------------------------------- set-up

@dataclass
class _Start:
    """Where a run starts: network sizes, training settings, the counters saved in every
    checkpoint, and the checkpoint it goes on from or takes its weights from."""

    cfg: DcdmConfig
    tcfg: TrainConfig
    state: Dict
    resumed: Optional[Dict] = None     # out_dir/last.pt of the run going on
    weights: Optional[Dict] = None     # the checkpoint all weights come from


@dataclass
class _Run:
    """A run once set up: what the phases read, and the counters they update."""

    options: RunOptions
    tcfg: TrainConfig
    model: Dcdm
    device: torch.device
    state: Dict                        # phase, step counts, elapsed time, best dev score, dev history
    meta: Dict                         # settings and pairs of the run, saved with every checkpoint
    resumed: Optional[Dict]            # the resumed checkpoint until its optimiser state is used
    bank: PairBank
    dev_set: List
    log: Callable[[str], None]
    started: float                     # time.monotonic() when elapsed_s was 0

    @property
    def last(self) -> Path:
        return Path(self.options.out_dir) / "last.pt"

    @property
    def best(self) -> Path:
        return Path(self.options.out_dir) / "best.pt"

    @property
    def budget_s(self) -> float:
        return self.options.time_budget_min * 60.0

    def elapsed(self) -> float:
        """Seconds of training so far, over all the parts of a resumed run."""
        return time.monotonic() - self.started

    def schedule_frac(self) -> float:
        """The part of the learning-rate schedule (and of the matching loss's ramp) used so
        far: see ``schedule_fraction``."""
        return schedule_fraction(self.elapsed(), self.budget_s, self.state.get("schedule_from"))

    def record(self) -> Dict:
        """What a checkpoint holds beside the model and the optimiser."""
        return {**self.state, **self.meta}

    def save(self, path: Path, opt=None) -> None:
        """A checkpoint at ``path`` with the elapsed time up to now; resumable when ``opt``
        (the optimiser of the current phase) is given."""
        self.state["elapsed_s"] = self.elapsed()
        save_checkpoint(path, self.model, opt, self.record())


def schedule_fraction(elapsed_s: float, budget_s: float, schedule_from=None) -> float:
    """The part of the cosine learning-rate schedule used after ``elapsed_s`` of a run whose
    time budget is ``budget_s``: ``elapsed / budget``, unless the run was resumed with another
    budget. Then ``schedule_from = (e0, f0)`` says where the schedule stood when the budget
    changed (``e0`` seconds in, fraction ``f0``), and it goes on from ``f0`` to the end over
    the time left, so the learning rate never jumps back up (no warm restart)."""
    e0, f0 = schedule_from or (0.0, 0.0)
    left = budget_s - e0
    if left <= 0:
        return 1.0
    return float(min(1.0, max(0.0, f0 + (1.0 - f0) * (elapsed_s - e0) / left)))


def rebudget(state: Dict, budget_s: float) -> bool:
    """Record in a resumed run's ``state`` that its time budget is now ``budget_s``: when it
    differs from the one the run had (``state["budget_s"]``; runs saved before it was recorded
    keep the plain ``elapsed / budget``), the schedule goes on from where it stood. Returns
    whether the budget changed."""
    old = state.get("budget_s")
    state["budget_s"] = float(budget_s)
    if old is None or abs(float(old) - budget_s) < 1e-6:
        return False
    e0 = float(state["elapsed_s"])
    state["schedule_from"] = (e0, schedule_fraction(e0, float(old), state.get("schedule_from")))
    return True


def _set_up(options: RunOptions, tcfg: TrainConfig, log: Callable[[str], None]) -> _Run:
    """Seed, threads, output folder, starting point, model and data of a run."""
    # seeded with the seed given, also when a resumed run's settings then replace ``tcfg``
    torch.manual_seed(tcfg.seed)
    torch.set_num_threads(int(options.threads or max(1, (os.cpu_count() or 2) // 2)))
    Path(options.out_dir).mkdir(parents=True, exist_ok=True)
    start = _starting_point(options, tcfg, log)
    model = _build_model(options, start, log)
    tcfg, state = start.tcfg, start.state
    if rebudget(state, options.time_budget_min * 60.0):
        e0, f0 = state["schedule_from"]
        log(f"time budget now {options.time_budget_min:g} min: the learning-rate schedule goes on from "
            f"{100 * f0:.0f} % over the {(options.time_budget_min * 60 - e0) / 60:.0f} min left")
    train_pairs, dev_pairs = _training_pairs(options.data_root)
    anchors = la_cells(tcfg.la_truth)
    if anchors is not None and tcfg.la_truth == "cells":
        train_pairs = [p for p in train_pairs if source_of(p) != DATASET_DIR or p.pair_id in anchors]
    log(f"train pairs: {len(train_pairs)} ({describe(train_pairs)}); dev pairs: {len(dev_pairs)}"
        + (f"; s1s2_la truth: {sum(len(anchors.get(p.pair_id, ())) for p in train_pairs)} agreeing cells"
           if anchors is not None else ""))
    bank = PairBank(train_pairs, seed=tcfg.seed + state["step"] + 7 * state["ae_step"], anchors=anchors,
                    anchor_mode="inside" if tcfg.la_truth == "cells" else "under")
    dev_set = _dev_set(dev_pairs, tcfg, options.dev_samples)
    meta = _run_meta(options, tcfg, train_pairs, dev_pairs, start.resumed)
    return _Run(options, tcfg, model, torch.device(options.device), state, meta, start.resumed, bank, dev_set,
                log, started=time.monotonic() - state["elapsed_s"])


def _starting_point(options: RunOptions, tcfg: TrainConfig, log: Callable[[str], None]) -> _Start:
    """Resume ``last.pt`` (sizes, settings and counters from it), fine-tune a checkpoint (its
    sizes, weights and step counts with the settings ``tcfg``) or start a new run of
    ``options.preset``."""
    state = {"phase": "ae", "step": 0, "ae_step": 0, "elapsed_s": 0.0, "best": -1.0, "history": [],
             "budget_s": None, "schedule_from": None}
    last = Path(options.out_dir) / "last.pt"
    if options.resume and last.is_file():
        ck = torch.load(last, map_location="cpu", weights_only=False)
        state.update({k: ck[k] for k in state if k in ck})
        log(f"resuming {last} at phase {state['phase']} step {state['step']}")
        return _Start(DcdmConfig.from_dict(ck["config"]), TrainConfig(**ck["train"]), state, resumed=ck, weights=ck)
    if options.finetune:
        base = torch.load(options.finetune, map_location="cpu", weights_only=False)
        state.update(phase="dcdm", step=int(base.get("step", 0)), ae_step=int(base.get("ae_step", 0)))
        log(f"fine-tuning {options.finetune} (step {state['step']}) at {tcfg.window_px}/{tcfg.template_px} px, "
            f"learning rate {tcfg.lr:g}")
        return _Start(DcdmConfig.from_dict(base["config"]), tcfg, state, weights=base)
    return _Start(PRESETS[options.preset], tcfg, state)


def _build_model(options: RunOptions, start: _Start, log: Callable[[str], None]) -> Dcdm:
    """The network of ``start`` with its weights, or with the auto-encoder of
    ``options.init_ae`` (then the run starts at the denoiser phase), on ``options.device``."""
    model = Dcdm(start.cfg)
    if start.weights is not None:
        model.load_state_dict(start.weights["model"])
    elif options.init_ae:
        ae_ck = torch.load(options.init_ae, map_location="cpu", weights_only=False)
        model.ae.load_state_dict({k[3:]: v for k, v in ae_ck["model"].items() if k.startswith("ae.")})
        start.state.update(phase="dcdm", ae_step=ae_ck.get("ae_step", 0))
        log(f"auto-encoder from {options.init_ae} ({start.state['ae_step']} steps), frozen")
    model.to(torch.device(options.device))
    trainable, frozen = model.parameter_counts()
    log(f"preset {start.cfg.preset}: {trainable:,} trainable + {frozen:,} frozen (auto-encoder) parameters")
    return model


def _training_pairs(data_root: str) -> Tuple[List, List]:
    """The train and dev pairs: s1s2_la's train split divided by ``split_train_dev``, plus
    the other sources with a measured truth (core.sources): OMBRIA's train and dev parts
    (its upstream test folder is validation and never read here)."""
    train_pairs, dev_pairs = split_train_dev(find_pairs(data_root, "train"))
    try:
        train_pairs += list_source_pairs(data_root, ["train"], ["ombria"])
        dev_pairs += list_source_pairs(data_root, ["dev"], ["ombria"])
    except InputError:
        pass
    return train_pairs, dev_pairs


def la_cells(la_truth: str) -> Optional[Dict[str, np.ndarray]]:
    """``None`` for the ``upstream`` truth, else ``{pair_id: (n, 4) [cy, cx, dy, dx]}``: the
    agreeing cells of ``resources/truth/la_cells.csv`` (``TrainConfig.la_truth``)."""
    if la_truth not in LA_TRAIN_TRUTHS:
        raise InputError(f"la_truth {la_truth!r} is unknown: use one of {', '.join(LA_TRAIN_TRUTHS)}")
    if la_truth == "upstream":
        return None
    out = read_la_cells()
    if not out:
        raise InputError(f"{LA_CELLS_CSV}: no s1s2_la cell: run `python scripts/measure_residuals.py --la` first")
    return out


def _dev_set(dev_pairs: List, tcfg: TrainConfig, samples: int) -> List:
    """Fixed batches of dev crops (seeded, not augmented), so that dev scores compare."""
    dev_bank = PairBank(dev_pairs, seed=1234)
    return [dev_bank.batch(6, tcfg.window_px, tcfg.template_px, augment=False) for _ in range(max(1, samples // 6))]


def _run_meta(options: RunOptions, tcfg: TrainConfig, train_pairs: List, dev_pairs: List,
              resumed: Optional[Dict]) -> Dict:
    """Settings and pairs of the run (and the checkpoint it was fine-tuned from), as saved
    in every checkpoint."""
    meta = {"train": asdict(tcfg), "train_pairs": sorted(p.pair_id for p in train_pairs),
            "dev_pairs": sorted(p.pair_id for p in dev_pairs), "data_summary": describe(train_pairs)}
    if options.finetune or (resumed is not None and resumed.get("finetuned_from")):
        meta["finetuned_from"] = options.finetune or resumed["finetuned_from"]
    return meta


# --------------------------------------------------------------------------- phase 1: auto-encoder

def _autoencoder_phase(run: _Run) -> None:
    """Train the auto-encoder within 15 % of the time budget, set its latent scale and go on
    to the denoiser phase (a checkpoint marks the switch)."""
    state = run.state
    opt = torch.optim.Adam(run.model.ae.parameters(), lr=2e-3)
    if run.resumed is not None and run.resumed.get("optim") and run.resumed["phase"] == "ae":
        opt.load_state_dict(run.resumed["optim"])
    while state["ae_step"] < run.tcfg.ae_steps and run.elapsed() < 0.15 * run.budget_s:
        loss = _autoencoder_step(run, opt)
        state["ae_step"] += 1
        if state["ae_step"] % 20 == 0:
            run.log(f"ae step {state['ae_step']}/{run.tcfg.ae_steps} loss {loss.item():.4f} "
                    f"[{run.elapsed() / 60:.1f} min]")
        if state["ae_step"] % run.options.checkpoint_every == 0:
            run.save(run.last, opt)
    _set_latent_scale(run)
    run.log(f"auto-encoder frozen after {state['ae_step']} steps; latent scale {float(run.model.ae.latent_scale):.3f}")
    state["phase"] = "dcdm"
    run.resumed = None
    run.save(run.last)


def _autoencoder_step(run: _Run, opt) -> torch.Tensor:
    """One step of L1 + (1 − SSIM) reconstruction of SAR and optical crops; its loss."""
    ae = run.model.ae
    x = torch.from_numpy(run.bank.ae_batch(run.tcfg.ae_batch, run.tcfg.ae_crop_px)).to(run.device)
    y = ae.dec(ae.enc(x))
    loss = F.l1_loss(y, x) + 0.5 * (1 - ssim(y, x).mean())
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss


@torch.no_grad()
def _set_latent_scale(run: _Run) -> None:
    """Scale the latents to unit variance on some crops, as the diffusion schedule assumes."""
    ae = run.model.ae
    z = torch.cat([ae.enc(torch.from_numpy(run.bank.ae_batch(8, 128)[::2]).to(run.device)) for _ in range(4)])
    ae.latent_scale.fill_(1.0 / float(z.std()))


# --------------------------------------------------------------------------- phase 2: conditional denoiser

def _denoiser_phase(run: _Run) -> torch.optim.Optimizer:
    """Train the conditional denoiser, auto-encoder frozen, until ``tcfg.steps`` or the end
    of the time budget; returns its optimiser for the final checkpoint."""
    model, tcfg, state = run.model, run.tcfg, run.state
    for p in model.ae.parameters():
        p.requires_grad_(False)
    params = [p for n, p in model.named_parameters() if not n.startswith("ae.")]
    opt = torch.optim.AdamW(params, lr=tcfg.lr, weight_decay=1e-4)
    if run.resumed is not None and run.resumed.get("optim") and run.resumed["phase"] == "dcdm":
        opt.load_state_dict(run.resumed["optim"])
    schedule = ScheduleConfig()
    abar = torch.from_numpy(alphas_cumprod(schedule)).float().to(run.device)
    rng = np.random.default_rng(tcfg.seed + state["step"])
    model.train()
    while state["step"] < tcfg.steps and run.elapsed() < run.budget_s:
        frac = run.schedule_frac()
        # cosine learning-rate decay over the time budget
        for g in opt.param_groups:
            g["lr"] = tcfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
        losses = _denoiser_losses(run, schedule, abar, rng, frac)
        opt.zero_grad()
        losses["loss"].backward()
        torch.nn.utils.clip_grad_norm_(params, tcfg.clip_grad)
        opt.step()
        state["step"] += 1
        _after_denoiser_step(run, opt, losses)
    return opt


def _denoiser_losses(run: _Run, schedule: ScheduleConfig, abar: torch.Tensor, rng: np.random.Generator,
                     frac: float) -> Dict[str, torch.Tensor]:
    """The losses of one batch (see the module docstring) and their weighted sum ``loss``;
    ``frac``: the part of the time budget used, which ramps the matching loss in."""
    model, tcfg, dev = run.model, run.tcfg, run.device
    R, T = tcfg.window_px, tcfg.template_px
    ny = nx = (R - T) // 8 + 1
    tm, rf, st, truth = (torch.from_numpy(a).to(dev) for a in run.bank.batch(tcfg.batch, R, T))
    with torch.no_grad():
        z0 = model.ae.encode(st)
    opt_feat, attended, _, att = model.condition(tm, rf)
    t = rng.integers(0, schedule.train_steps, size=tcfg.batch)
    a_t = abar[torch.from_numpy(t).to(dev)].view(-1, 1, 1, 1)
    x_t = q_sample(z0, torch.randn_like(z0), a_t)
    emb = torch.from_numpy(timestep_embedding(t, model.cfg.time_dim)).to(dev)
    x0p = model.denoiser(x_t, emb, opt_feat, attended)
    l_l2 = F.mse_loss(x0p, z0)
    l_spc = spc_loss(att, truth, ny, nx)
    x0s = sample_latent(model, opt_feat, attended, schedule, grad_last_only=True)
    dec = model.ae.decode(x0s)
    l_ssim = 1 - ssim(dec, st).mean()
    l_match = matching_loss(zncc_torch(dec, rf), truth, tcfg.match_temperature, tcfg.match_sigma_px)
    # the matching loss's gradient is large and pure noise until the translation carries
    # structure; it is switched on once the other losses have shaped the translation
    w0, w1 = tcfg.match_warmup
    ramp = float(np.clip((frac - w0) / max(w1 - w0, 1e-6), 0.0, 1.0))
    loss = l_l2 + tcfg.lambda_ssim * l_ssim + tcfg.lambda_spc * l_spc + tcfg.lambda_match * ramp * l_match
    losses = {"l2": l_l2, "ssim": l_ssim, "spc": l_spc, "match": l_match}
    if tcfg.lambda_stripes:
        losses["stripes"] = stripe_loss(dec, st)
        loss = loss + tcfg.lambda_stripes * losses["stripes"]
    return {"loss": loss, **losses}


def _after_denoiser_step(run: _Run, opt, losses: Dict[str, torch.Tensor]) -> None:
    """The log line, checkpoints and dev check that fall on the step just done."""
    step, options = run.state["step"], run.options
    if step % 10 == 0:
        parts = " ".join(f"{k} {v.item():.3f}" for k, v in losses.items() if k != "loss")
        run.log(f"step {step} loss {losses['loss'].item():.3f} ({parts}) "
                f"[{run.elapsed() / 60:.1f} / {options.time_budget_min:.0f} min]")
    if step % options.checkpoint_every == 0:
        run.save(run.last, opt)
    if options.keep_every and step % options.keep_every == 0:
        run.save(Path(options.out_dir) / f"step_{step}.pt")
    if step % options.dev_every == 0:
        _dev_check(run)


def _dev_check(run: _Run) -> None:
    """Score the dev pairs, add the score to the history, and keep ``best.pt`` when it is
    at least as good as the best so far."""
    state = run.state
    s = dev_score(run.model, run.dev_set)
    s["step"] = state["step"]
    state["history"].append(s)
    score = s["cmr1"] + s["cmr3"] + s["cmr5"]
    run.log(f"dev at step {state['step']}: CMR(1/3/5) {s['cmr1']:.2f}/{s['cmr3']:.2f}/{s['cmr5']:.2f} "
            f"RMSE(all) {s['rmse_all']:.2f}")
    if score >= state["best"]:
        state["best"] = score
        run.save(run.best)
        run.log(f"new best checkpoint {run.best}")


def _finish(run: _Run, opt) -> None:
    """The final resumable checkpoint, and ``best.pt`` when no dev check wrote one."""
    run.save(run.last, opt)
    if not run.best.is_file() or run.state["history"] == []:
        save_checkpoint(run.best, run.model, None, run.record())  # the same elapsed time as last.pt
    run.log(f"done: {run.state['step']} steps in {run.elapsed() / 60:.1f} min")
