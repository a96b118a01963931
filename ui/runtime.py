"""Which ONNX Runtime execution providers exist here and which one a run would use.

ONNX Runtime is imported only when asked (never when QGIS starts), and its absence is a
message with the command that installs it, not an error.
"""
from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from typing import Tuple

from .i18n import tr

RUNTIME_MODULE = "onnxruntime"   # what a learned matcher's registry entry ``requires``
PROVIDER_NAMES = {"cuda": "CUDAExecutionProvider", "cpu": "CPUExecutionProvider"}


@dataclass(frozen=True)
class RuntimeStatus:
    installed: bool
    version: str
    available: Tuple[str, ...]     # ONNX Runtime execution providers present
    chosen: str                    # what the run will use ("" when not installed)
    message: str                   # one line for the dock


def install_command() -> str:
    """The command that installs onnxruntime into the Python QGIS runs."""
    return f"{sys.executable or 'python3'} -m pip install onnxruntime"


def runtime_status(requested: str = "auto") -> RuntimeStatus:
    """What ONNX Runtime offers and which provider ``requested`` (auto|cuda|cpu) will get."""
    try:
        ort = importlib.import_module(RUNTIME_MODULE)
    except ImportError:
        return RuntimeStatus(False, "", (), "", tr("onnxruntime is not installed in QGIS's Python, so the learned "
                                                   "matcher cannot run: install it with the button below, or with  "
                                                   "{command}  (classical matchers work without it)")
                             .format(command=install_command()))
    available = tuple(ort.get_available_providers())
    has_cuda = PROVIDER_NAMES["cuda"] in available
    if requested == "cpu" or (requested == "auto" and not has_cuda):
        chosen = PROVIDER_NAMES["cpu"]
    elif has_cuda:
        chosen = PROVIDER_NAMES["cuda"]
    else:
        chosen = PROVIDER_NAMES["cpu"]
    short = ", ".join(p.replace("ExecutionProvider", "") for p in available)
    if requested != "cuda" or has_cuda:
        line = tr("ONNX Runtime {version} ({providers}): will use {chosen}")
    else:
        line = tr("ONNX Runtime {version} ({providers}): will use {chosen} (CUDA asked for, not available)")
    version = getattr(ort, "__version__", "?")
    return RuntimeStatus(True, version, available, chosen,
                         line.format(version=version, providers=short,
                                     chosen=chosen.replace("ExecutionProvider", "")))
