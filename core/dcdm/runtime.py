"""Where the DCDM model files are and how ONNX Runtime opens them (no torch).

``open_model(model_dir, provider, threads) -> LoadedModel``: finds the ONNX file(s) of one
model (the unrolled graph, or the condition / denoiser / decoder graphs of the loop layout),
opens an ONNX Runtime session per graph with the provider asked for (``auto``: CUDA when this
onnxruntime build has it, else CPU), checks each graph's contract (``contract.read_contract``)
and that all graphs come from one model version, and says which provider runs and why the
GPU does not.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from ..errors import InputError, ModelError
from .contract import Contract, read_contract

log = logging.getLogger("sarcoreg.dcdm")

PROVIDERS = ("auto", "cuda", "cpu")
LOOP_FILES = ("dcdm_condition.onnx", "dcdm_denoiser.onnx", "dcdm_decoder.onnx")
UNROLLED_FILE = "dcdm_unrolled.onnx"
MODEL_DIR_ENV = "SARCOREG_DCDM_DIR"


def default_model_dir() -> Path:
    """``$SARCOREG_DCDM_DIR`` if set, else ``models/onnx`` of this package."""
    env = os.environ.get(MODEL_DIR_ENV)
    return Path(env) if env else Path(__file__).resolve().parents[2] / "models" / "onnx"


def model_files(model_dir: Optional[str] = None) -> Tuple[str, List[Path]]:
    """``(layout, paths)`` of the model in ``model_dir``; layout ``""`` when none is complete."""
    base = Path(model_dir) if model_dir else default_model_dir()
    loop = [base / f for f in LOOP_FILES]
    if all(p.is_file() for p in loop):
        return "loop", loop
    if (base / UNROLLED_FILE).is_file():
        return "unrolled", [base / UNROLLED_FILE]
    return "", loop


def available(model_dir: Optional[str] = None) -> bool:
    """True when the ONNX files of a model exist (the registry lists ``dcdm`` only then)."""
    return bool(model_files(model_dir)[0])


def choose_providers(provider: str, available_providers: List[str]) -> Tuple[List[str], str]:
    """ONNX Runtime providers to ask for, and why the GPU is not among them (or ``""``)."""
    has_cuda = "CUDAExecutionProvider" in available_providers
    if provider == "cpu":
        return ["CPUExecutionProvider"], "CPU requested"
    if has_cuda:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"], ""
    why = ("this onnxruntime build has no CUDA provider (install onnxruntime-gpu instead of onnxruntime "
           "for a GPU)")
    if provider == "cuda":
        log.warning("CUDA requested but %s: running on CPU", why)
        why = "CUDA requested but " + why
    return ["CPUExecutionProvider"], why


@dataclass(frozen=True)
class LoadedModel:
    """The open ONNX Runtime sessions of one model and what they run on."""

    layout: str                    # "unrolled" or "loop"
    paths: Tuple[Path, ...]
    sessions: Dict[str, object]    # graph name ("unrolled", "condition", ...) -> InferenceSession
    contract: Contract             # of the first graph (all share one model version)
    provider: str                  # "cuda" or "cpu": what actually runs
    provider_note: str             # why the GPU is not used ("" when it is)
    threads: int                   # intra-op threads


def open_model(model_dir: Optional[str] = None, provider: str = "auto", threads: Optional[int] = None) -> LoadedModel:
    """Open the model in ``model_dir`` (default ``default_model_dir()``) on ``provider``.

    Raises ``InputError`` for an unknown provider and ``ModelError`` for missing, unreadable
    or inconsistent model files, or a missing onnxruntime.
    """
    if provider not in PROVIDERS:
        raise InputError(f"provider {provider!r} is unknown: use one of {', '.join(PROVIDERS)}")
    layout, paths = model_files(model_dir)
    if not layout:
        raise ModelError(
            f"DCDM model files are missing in {paths[0].parent} (expected {', '.join(LOOP_FILES)} or "
            f"{UNROLLED_FILE}): run `sarcoreg export-onnx` or install the model, or use a classical "
            "matcher (cfog)")
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise ModelError(f"onnxruntime is not installed ({exc}): pip install onnxruntime") from None
    providers, note = choose_providers(provider, ort.get_available_providers())
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(threads or max(1, min(4, os.cpu_count() or 1)))
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    # no busy-waiting between operators: on a small shared CPU spinning threads steal the
    # cores from the numpy work (ZNCC) and from other processes
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    sessions: Dict[str, object] = {}
    contracts = []
    for p in paths:
        try:
            sess = ort.InferenceSession(str(p), sess_options=opts, providers=providers)
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(f"{p}: cannot be loaded by onnxruntime ({exc}): re-export the model") from None
        c = read_contract(sess.get_modelmeta().custom_metadata_map, str(p))
        sessions[c.raw["graph"]] = sess
        contracts.append(c)
    versions = {c.model_version for c in contracts}
    if len(versions) != 1:
        raise ModelError(f"{paths[0].parent}: graphs of different model versions {sorted(versions)}: "
                         "re-export all of them together")
    used = next(iter(sessions.values())).get_providers()
    running = "cuda" if used and used[0] == "CUDAExecutionProvider" else "cpu"
    if running == "cpu" and not note:
        note = "the CUDA provider failed to start (see the onnxruntime log): running on CPU"
    return LoadedModel(layout, tuple(paths), sessions, contracts[0], running, note, opts.intra_op_num_threads)
