"""Recover a trainable torch checkpoint from a shipped ONNX model.

The ONNX export keeps most weights as initialisers under their torch names (``m.<name>``),
but constant folding renames a few: GroupNorm's affine weight and bias become anonymous
``(C, 1, 1)`` constants after an InstanceNormalization, the calibration block's three
gains become three scalars, and its convolution weights become per-hidden-channel constants
repeated for each channel of a depthwise convolution (``network.per_image_conv``). To find
those, a model of the same configuration is exported
once with every such parameter set to *marker* values (distinct integers, exact in float32);
the graph has the same operators in the same order, so the tensor at the marker's place in
that export is the parameter's place in the shipped graph. Fixed buffers (the structure
filters) are the configuration's own. ``recover`` then exports the recovered model again and
checks that its outputs equal the shipped model's on random inputs, so a checkpoint that does
not reproduce the shipped model is never written.

    python scripts/recover_checkpoint.py models/onnx/dcdm_unrolled.onnx -o build/shipped.pt
"""
from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import torch

from ...core.errors import ModelError
from .config import DcdmConfig
from .export import export
from .network import Dcdm

MARKER_STEP = 10000.0      # marker values: MARKER_STEP * (k + 1) + i for the i-th element of parameter k
PARITY_ATOL = 1e-4


def _tensors(graph) -> List[Tuple[Tuple[str, int], np.ndarray]]:
    """``((kind, index), array)`` for every initialiser and every Constant node's value."""
    from onnx import numpy_helper

    out = [(("init", i), numpy_helper.to_array(t)) for i, t in enumerate(graph.initializer)]
    for i, node in enumerate(graph.node):
        if node.op_type == "Constant":
            out += [(("node", i), numpy_helper.to_array(a.t)) for a in node.attribute if a.name == "value"]
    return out


def _marker_places(cfg: DcdmConfig, names: List[str], window_px: int, template_px: int, workdir: Path):
    """For each parameter in ``names``: the places of its elements in an export of ``cfg``
    (one place for a whole tensor kept as one constant, else one place per element)."""
    import onnx

    model = Dcdm(cfg)
    params = dict(model.named_parameters())
    markers = {}
    with torch.no_grad():
        for k, name in enumerate(names):
            values = MARKER_STEP * (k + 1) + torch.arange(params[name].numel(), dtype=torch.float32)
            params[name].copy_(values.reshape(params[name].shape))
            markers[name] = values.numpy()
    graph = onnx.load(str(export(model, {"config": cfg.to_dict()}, str(workdir), window_px, template_px)[0])).graph
    found = _tensors(graph)
    places: Dict[str, list] = {}
    for name, values in markers.items():
        whole = [key for key, arr in found if arr.size == values.size
                 and np.array_equal(arr.ravel().astype(np.float32), values)]
        if whole:
            places[name] = [("whole", whole[0])]
            continue
        each = []
        for v in values:
            # a scalar constant, else the first entry of a larger constant holding the value
            hit = [(key, 0) for key, arr in found if arr.size == 1 and float(arr.ravel()[0]) == float(v)]
            hit = hit or [(key, int(np.flatnonzero(arr.ravel() == v)[0])) for key, arr in found
                          if arr.dtype == np.float32 and np.any(arr.ravel() == v)]
            if not hit:
                raise ModelError(f"parameter {name}: its values are not constants of the exported graph, so it "
                                 "cannot be recovered from ONNX")
            each.append(("element", hit[0]))
        places[name] = each
    return graph, places


def _step(model_version: str) -> int:
    """The training step of ``model_version`` (``"dcdm-0.1.9375"`` → 9375; ``"dcdm-0.1"`` → 0)."""
    found = re.fullmatch(r"dcdm-\d+\.\d+\.(\d+)", model_version)
    return int(found.group(1)) if found else 0


def recover(onnx_path: str, workdir: str = "") -> Tuple[Dcdm, Dict]:
    """The torch model (eval mode) whose export is the model in ``onnx_path``, and a checkpoint
    dict for ``sarcoreg train --finetune`` / ``export-onnx``. Raises ``ModelError`` when the
    graph does not match an export of its configuration or the parity check fails."""
    import onnx
    from onnx import numpy_helper

    shipped = onnx.load(onnx_path)
    meta = {p.key: p.value for p in shipped.metadata_props}
    if meta.get("graph") != "unrolled" or "config" not in meta:
        raise ModelError(f"{onnx_path}: not an unrolled DCDM export with its configuration in the metadata")
    cfg = DcdmConfig.from_dict(json.loads(meta["config"]))
    window_px, template_px = int(meta.get("window_px", 512)), int(meta.get("template_px", 384))
    model = Dcdm(cfg)
    state = model.state_dict()
    named = {t.name[2:]: numpy_helper.to_array(t) for t in shipped.graph.initializer if t.name.startswith("m.")}
    params = dict(model.named_parameters())
    missing = [k for k in state if k not in named and k in params]
    with tempfile.TemporaryDirectory(dir=workdir or None) as tmp:
        marker_graph, places = _marker_places(cfg, missing, window_px, template_px, Path(tmp) / "marker")
        if [n.op_type for n in marker_graph.node] != [n.op_type for n in shipped.graph.node]:
            raise ModelError(f"{onnx_path}: its graph differs from an export of its configuration with this torch "
                             "version, so the renamed weights cannot be placed")
        ship = dict(_tensors(shipped.graph))
        for name in missing:
            if places[name][0][0] == "whole":
                named[name] = ship[places[name][0][1]].reshape(state[name].shape)
            else:
                named[name] = np.array([float(ship[key].ravel()[at]) for _, (key, at) in places[name]],
                                       dtype=np.float32).reshape(state[name].shape)
        state.update({k: torch.from_numpy(np.array(v, dtype=np.float32)).reshape(state[k].shape)
                      for k, v in named.items() if k in state})
        model.load_state_dict(state)
        model.eval()
        step = _step(meta.get("model_version", ""))
        ck = {"config": cfg.to_dict(), "model": model.state_dict(), "optim": None, "phase": "dcdm", "step": step,
              "ae_step": 0, "recovered_from": Path(onnx_path).name,
              # the export appends "; <step> steps" to the summary again
              "data_summary": re.sub(r"; [^;]* steps$", "", meta.get("training_data", "")),
              "train": {"window_px": int(meta.get("train_window_px") or 160),
                        "template_px": int(meta.get("train_template_px") or 96)}}
        check_parity(model, ck, onnx_path, Path(tmp) / "check")
    return model, ck


def check_parity(model: Dcdm, ck: Dict, onnx_path: str, workdir: Path, size: Tuple[int, int] = (160, 96)) -> float:
    """Export ``model`` and compare its outputs with ``onnx_path``'s on random inputs of
    ``size`` (reference, template px); the largest absolute difference, ``ModelError`` above
    ``PARITY_ATOL``."""
    import onnxruntime as ort

    mine = export(model, ck, str(workdir), 512, 384)[0]
    rng = np.random.default_rng(0)
    R, T = size
    inputs = {"template": rng.standard_normal((1, 1, T, T)).astype(np.float32),
              "reference": rng.standard_normal((1, 1, R, R)).astype(np.float32),
              "x_T": rng.standard_normal((1, model.cfg.latent_ch, T // 8, T // 8)).astype(np.float32)}
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    a = ort.InferenceSession(str(mine), opts, providers=["CPUExecutionProvider"]).run(None, inputs)
    b = ort.InferenceSession(onnx_path, opts, providers=["CPUExecutionProvider"]).run(None, inputs)
    worst = max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))
    if not worst <= PARITY_ATOL:
        raise ModelError(f"the recovered model differs from {onnx_path} by {worst:.3g} (> {PARITY_ATOL}): "
                         "not written")
    return worst
