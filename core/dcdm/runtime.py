"""Where the DCDM model files are and how ONNX Runtime opens them (no torch).

``open_model(model_dir, provider, threads) -> LoadedModel``: finds the ONNX file(s) of one
model (the unrolled graph, or the condition / denoiser / decoder graphs of the loop layout),
opens an ONNX Runtime session per graph with the provider asked for (``auto``: CUDA when this
onnxruntime build has it, else CPU), checks each graph's contract (``contract.read_contract``)
and that all graphs come from one model version, and says which provider runs and why the
GPU does not.

Faster variants of the unrolled graph (``dcdm_unrolled.light.onnx``: the same network with a
decoder distilled to fewer residual blocks, float32; ``dcdm_unrolled.int8.onnx``,
``dcdm_unrolled.fp16.onnx``; written by ``models/dcdm/optimize.py``) carry the verdict of their parity gate in the metadata
key ``parity_gate`` (JSON: ``passed``, ``ship``, ``reference_sha256`` of the float32 file
they were checked against, the measured figures). ``precision="auto"`` opens such a variant
only when its gate passed, it measured faster (``ship``), and it was checked against the very
float32 file beside it (a re-exported or retrained model makes old variants stale), trying
``VARIANTS`` in order; else the float32 graph. ``precision="fp32"`` always opens the float32
graph; ``"light"``, ``"int8"`` / ``"fp16"`` open that variant if its gate passed, else raise
``ModelError``.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from ..errors import InputError, ModelError
from .contract import Contract, read_contract

log = logging.getLogger("sarcoreg.dcdm")

PROVIDERS = ("auto", "cuda", "cpu")
VARIANTS = ("light", "int8", "fp16")       # in the order precision "auto" tries them
PRECISIONS = ("auto", "fp32") + VARIANTS
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


def variant_path(fp32_path: Path, variant: str) -> Path:
    """``dcdm_unrolled.onnx`` -> ``dcdm_unrolled.<variant>.onnx`` (same folder)."""
    return fp32_path.with_name(f"{fp32_path.stem}.{variant}{fp32_path.suffix}")


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_gate(path: Path) -> dict:
    """The ``parity_gate`` metadata of an ONNX file (``{}`` when absent or unreadable)."""
    try:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        opts.log_severity_level = 3
        meta = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"]
                                    ).get_modelmeta().custom_metadata_map
        return json.loads(meta.get("parity_gate", "{}"))
    except Exception:  # an unreadable variant is simply not used
        return {}


def choose_variant(paths: List[Path], layout: str, precision: str) -> Tuple[List[Path], str, str]:
    """``(paths, precision used, why)``: the graph files to open for ``precision``."""
    if precision not in PRECISIONS:
        raise InputError(f"precision {precision!r} is unknown: use one of {', '.join(PRECISIONS)}")
    if precision == "fp32" or layout != "unrolled":
        if precision in VARIANTS:
            raise ModelError(f"precision {precision} needs the unrolled layout: use --precision fp32")
        return paths, "fp32", ""
    candidates = VARIANTS if precision == "auto" else (precision,)
    reference_sha = None
    reasons = []
    for variant in candidates:
        p = variant_path(paths[0], variant)
        if not p.is_file():
            if precision != "auto":
                reasons.append(f"{variant}: no {p.name}")
            continue
        gate = read_gate(p)
        if reference_sha is None:
            reference_sha = file_sha256(paths[0])
        if not gate.get("passed"):
            reasons.append(f"{variant}: its parity gate did not pass")
        elif gate.get("reference_sha256") != reference_sha:
            reasons.append(f"{variant}: checked against another float32 model (stale: rerun `sarcoreg optimize-onnx`)")
        elif precision == "auto" and not gate.get("ship"):
            reasons.append(f"{variant}: passed its gate but measured no faster")
        else:
            return [p], variant, ""
    if precision != "auto":
        raise ModelError(f"precision {precision} is not available ({'; '.join(reasons)}): run "
                         "`sarcoreg optimize-onnx` or use --precision fp32")
    return paths, "fp32", "; ".join(reasons)


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
    precision: str = "fp32"        # "fp32", or the variant opened: "light", "int8" or "fp16"
    precision_note: str = ""       # why no faster variant is used (precision "auto")


def session_options(threads: Optional[int] = None):
    """ONNX Runtime options of every DCDM session (measured best on the 2-core CPU, see
    docs/benchmarks.md): all graph optimisations, sequential execution, ``threads`` intra-op
    threads (default: the cores, at most 4), one inter-op thread, no spinning."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(threads or max(1, min(4, os.cpu_count() or 1)))
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    # no busy-waiting between operators: on a small shared CPU spinning threads steal the
    # cores from the numpy work (ZNCC) and from other processes
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return opts


def open_model(model_dir: Optional[str] = None, provider: str = "auto", threads: Optional[int] = None,
               precision: str = "auto") -> LoadedModel:
    """Open the model in ``model_dir`` (default ``default_model_dir()``) on ``provider``
    (``precision``: see the module doc).

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
    paths, used_precision, precision_note = choose_variant(list(paths), layout, precision)
    opts = session_options(threads)
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
    return LoadedModel(layout, tuple(paths), sessions, contracts[0], running, note, opts.intra_op_num_threads,
                       used_precision, precision_note)
