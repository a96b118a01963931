"""Export a trained checkpoint to ONNX graphs with the model contract in their metadata.

Layout ``loop``: ``dcdm_condition.onnx`` (template, reference → optical features,
reference tokens), ``dcdm_denoiser.onnx`` (one x0 prediction) and ``dcdm_decoder.onnx``
(latent → translated template); ``core.dcdm.matcher`` drives the DDIM loop in numpy.
Layout ``unrolled`` (shipped): one ``dcdm_unrolled.onnx`` with the five steps inside (x_T
is an input, so the graph stays size-independent); measured 10–15 % faster than ``loop``
with two threads (one ONNX Runtime call instead of seven, and the step constants folded). Spatial sizes are dynamic (any multiple of
16 px); the graphs are checked against torch at ``window_px`` / ``template_px``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn as nn

from ...core.dcdm.contract import NORMALISATION, prepare
from ...core.dcdm.schedule import (ScheduleConfig, alphas_cumprod, ddim_step, ddim_timesteps, fixed_noise,
                                   timestep_embedding)
from ...core.staging import atomic_file
from .config import GRID_PX, MODEL_VERSION, STRIDE_PX
from .network import Dcdm

GRAPHS_LOOP = ("condition", "denoiser", "decoder")
OPSET = 17


class _Condition(nn.Module):
    def __init__(self, m: Dcdm):
        super().__init__()
        self.m = m

    def forward(self, template, reference):
        return self.m.condition(template, reference)


class _Decoder(nn.Module):
    def __init__(self, m: Dcdm):
        super().__init__()
        self.m = m

    def forward(self, latent):
        return self.m.ae.decode(latent)


class _Unrolled(nn.Module):
    """The whole translation with the DDIM loop unrolled (constants baked in)."""

    def __init__(self, m: Dcdm, schedule: ScheduleConfig):
        super().__init__()
        self.m = m
        abar = alphas_cumprod(schedule)
        steps = ddim_timesteps(schedule)
        self.abars = [float(abar[t]) for t in steps] + [1.0]
        self.register_buffer("embs", torch.from_numpy(timestep_embedding(steps, m.cfg.time_dim)))

    def forward(self, template, reference, x_T):
        opt_feat, attended, raw, cal = self.m.condition(template, reference)
        x, x0 = x_T, x_T
        for i in range(len(self.abars) - 1):
            x0 = self.m.denoiser(x, self.embs[i:i + 1], opt_feat, attended)
            x = ddim_step(x, x0, self.abars[i], self.abars[i + 1])
        return self.m.ae.decode(x0), raw, cal


def contract_metadata(model: Dcdm, ck: Dict, graph: str, window_px: int, template_px: int,
                      schedule: ScheduleConfig, metrics: Optional[Dict] = None,
                      matching: Optional[Dict] = None) -> Dict[str, str]:
    cfg = model.cfg
    train = ck.get("train", {})
    trainable, frozen = model.parameter_counts()
    return {
        # the release family, then the training step: "dcdm-0.1.9375"
        "model_version": f"{MODEL_VERSION}.{ck['step']}" if ck.get("step") else MODEL_VERSION,
        "graph": graph, "preset": cfg.preset,
        "stride_px": str(STRIDE_PX), "grid_px": str(GRID_PX), "latent_ch": str(cfg.latent_ch),
        "time_dim": str(cfg.time_dim), "top_k": str(cfg.top_k),
        "train_window_px": str(train.get("window_px", "")), "train_template_px": str(train.get("template_px", "")),
        "window_px": str(window_px), "template_px": str(template_px),
        "normalisation": NORMALISATION,
        "schedule": json.dumps(schedule.__dict__),
        "training_data": ck.get("data_summary", "unknown") + f"; {ck.get('step', '?')} steps",
        "parameters": json.dumps({"trainable": trainable, "frozen": frozen}),
        "config": json.dumps(cfg.to_dict()),
        "metrics": json.dumps(metrics or {}),
        "matching": json.dumps(matching or {}),
    }


def _save(module: nn.Module, args, path: Path, inputs: List[str], outputs: List[str], dyn: Dict, meta: Dict) -> None:
    import onnx

    # the exporter writes a file of its own: a temporary name, so an existing model at
    # ``path`` stays whole until the checked graph replaces it
    raw = path.with_name(f".{path.name}.export.partial")
    try:
        with torch.no_grad():
            torch.onnx.export(module, args, str(raw), input_names=inputs, output_names=outputs,
                              dynamic_axes=dyn, opset_version=OPSET, dynamo=False, do_constant_folding=True)
        proto = onnx.load(str(raw))
    finally:
        raw.unlink(missing_ok=True)
    del proto.metadata_props[:]
    for k, v in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = k, str(v)
    onnx.checker.check_model(proto)
    with atomic_file(path, "wb") as fh:
        onnx.save(proto, fh)


def export(model: Dcdm, ck: Dict, out_dir: str, window_px: int = 512, template_px: int = 384,
           layout: str = "unrolled", metrics: Optional[Dict] = None, matching: Optional[Dict] = None) -> List[Path]:
    """Write the graphs of ``layout`` to ``out_dir``; return their paths."""
    model.eval()
    schedule = ScheduleConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    T, R = int(template_px), int(window_px)
    tm = torch.randn(1, 1, T, T)
    rf = torch.randn(1, 1, R, R)
    img = {0: "batch", 2: "height", 3: "width"}
    ref = {0: "batch", 2: "ref_height", 3: "ref_width"}
    lat = {0: "batch", 2: "lat_height", 3: "lat_width"}
    att = {0: "batch", 1: "queries", 2: "displacements"}
    paths = []
    meta = lambda g: contract_metadata(model, ck, g, R, T, schedule, metrics, matching)  # noqa: E731
    if layout == "loop":
        with torch.no_grad():
            opt_feat, attended, _, _ = model.condition(tm, rf)
        p = out / "dcdm_condition.onnx"
        _save(_Condition(model), (tm, rf), p, ["template", "reference"],
              ["opt_feat", "attended", "att_raw", "att_cal"],
              {"template": img, "reference": ref, "opt_feat": lat, "attended": lat, "att_raw": att, "att_cal": att},
              meta("condition"))
        paths.append(p)
        x = torch.randn(1, model.cfg.latent_ch, T // 8, T // 8)
        emb = torch.randn(1, model.cfg.time_dim)
        p = out / "dcdm_denoiser.onnx"
        _save(model.denoiser, (x, emb, opt_feat, attended), p, ["x_t", "t_emb", "opt_feat", "attended"], ["x0"],
              {"x_t": lat, "t_emb": {0: "batch"}, "opt_feat": lat, "attended": lat, "x0": lat}, meta("denoiser"))
        paths.append(p)
        p = out / "dcdm_decoder.onnx"
        _save(_Decoder(model), (x,), p, ["latent"], ["image"], {"latent": lat, "image": img}, meta("decoder"))
        paths.append(p)
    elif layout == "unrolled":
        x_T = torch.from_numpy(fixed_noise((model.cfg.latent_ch, T // 8, T // 8), schedule))[None]
        p = out / "dcdm_unrolled.onnx"
        _save(_Unrolled(model, schedule), (tm, rf, x_T), p, ["template", "reference", "x_T"],
              ["image", "att_raw", "att_cal"],
              {"template": img, "reference": ref, "x_T": lat, "image": img, "att_raw": att, "att_cal": att},
              meta("unrolled"))
        paths.append(p)
    else:
        raise ValueError(f"layout {layout!r} is unknown: use loop or unrolled")
    return paths


def reference_translation(model: Dcdm, template: np.ndarray, reference: np.ndarray):
    """Torch translation of one raw (template, reference) pair (for parity checks)."""
    from .sampler import translate

    with torch.no_grad():
        tr = translate(model, torch.from_numpy(prepare(template))[None, None],
                       torch.from_numpy(prepare(reference))[None, None])
    return tr.image[0, 0].numpy(), tr.att_raw[0].numpy(), tr.att_cal[0].numpy()


