"""What a DCDM model file promises, and the input preparation both sides share.

Every exported ONNX graph carries the same metadata (``metadata_props``), a flat map of
strings; ``read_contract`` parses and checks it. Keys:

``model_version``   e.g. ``dcdm-0.1`` (the engine accepts the ``dcdm-0.`` family)
``graph``           ``condition`` | ``denoiser`` | ``decoder`` | ``unrolled``
``preset``          ``cpu`` or ``paper``
``stride_px``       8, latent / attention stride; ``grid_px`` 16, sides are used in
                    multiples of it
``latent_ch``, ``time_dim``, ``top_k``
``train_window_px``, ``train_template_px``  sizes used in training
``window_px``, ``template_px``              the plugin setting the graph was checked at
                                            (the graphs take any multiple of ``grid_px``)
``normalisation``   how inputs are prepared (``prepare`` below)
``schedule``        JSON of ``schedule.ScheduleConfig``
``training_data``   a one-line summary; ``metrics`` JSON of validation results
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Dict

import numpy as np

from ..errors import ModelError
from ..radiometry import normalise
from .schedule import ScheduleConfig

SUPPORTED_VERSION_PREFIX = "dcdm-0."
NORMALISATION = ("template: optical grey; reference: SAR in dB; each clipped to its 1-99 % percentiles, "
                 "zero mean, unit variance (core.radiometry.normalise), NaN -> 0")
REQUIRED = ("model_version", "graph", "stride_px", "grid_px", "latent_ch", "time_dim", "top_k",
            "normalisation", "schedule")


def prepare(image: np.ndarray) -> np.ndarray:
    """Network input from a template (optical grey) or reference (SAR dB): float32, NaN → 0."""
    return np.nan_to_num(normalise(image), nan=0.0).astype(np.float32)


@dataclass(frozen=True)
class Contract:
    model_version: str
    preset: str
    stride_px: int
    grid_px: int
    latent_ch: int
    time_dim: int
    top_k: int
    schedule: ScheduleConfig
    raw: Dict[str, str]

    @property
    def min_search_cells(self) -> int:
        """Smallest displacement range (cells per axis) that keeps ``top_k`` candidates."""
        return int(np.ceil(np.sqrt(self.top_k)))


def read_contract(props: Dict[str, str], where: str) -> Contract:
    """Parse and check the metadata ``props`` of the graph file ``where``."""
    missing = [k for k in REQUIRED if k not in props]
    if missing:
        raise ModelError(f"{where}: model metadata lacks {', '.join(missing)}: re-export it with "
                         "`sarcoreg export-onnx`")
    version = props["model_version"]
    if not version.startswith(SUPPORTED_VERSION_PREFIX):
        raise ModelError(f"{where}: model version {version!r} is not supported by this engine "
                         f"(expects {SUPPORTED_VERSION_PREFIX}*): install a matching model")
    if props["normalisation"] != NORMALISATION:
        raise ModelError(f"{where}: model expects normalisation {props['normalisation']!r}, the engine "
                         f"prepares {NORMALISATION!r}: re-export the model with this engine")
    try:
        schedule = ScheduleConfig(**json.loads(props["schedule"]))
        contract = Contract(version, props.get("preset", "?"), int(props["stride_px"]), int(props["grid_px"]),
                            int(props["latent_ch"]), int(props["time_dim"]), int(props["top_k"]), schedule,
                            dict(props))
    except (TypeError, ValueError) as exc:
        raise ModelError(f"{where}: model metadata is invalid ({exc}): re-export it") from None
    if contract.stride_px != 8 or contract.grid_px % contract.stride_px:
        raise ModelError(f"{where}: stride {contract.stride_px} px / grid {contract.grid_px} px is not "
                         "supported (expects stride 8)")
    return contract
