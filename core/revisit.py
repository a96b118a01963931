"""Back from a finished run's tie point to the windows that produced it (the inspector).

``reopen(outdir)`` lays the scene out again from what ``report.json`` recorded (inputs, band
choice, window sizes: ``config_from_report``) with the engine's ``prepare``, its SAR windows
displaced by the recorded coarse offset (``with_recorded_offset``, not estimated again).
``read_window`` finds a tie point's window by its lattice position ``(win_row, win_col)``,
reads it with the engine's one window reader (``Scene.read_pair``), turns the tie point's
shift back into the match peak (``tiepoints.peak_from_shift``), and re-runs the matcher when
its registry entry says it shows a translation: the pictures are exactly what was matched.
Arrays in, arrays out: the inspector (``ui/inspector.py``) only draws them.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np
from osgeo import gdal

from . import notes
from .config import CoregConfig
from .coregister import Scene, make_matcher, prepare, with_recorded_offset
from .errors import InputError
from .gdalscope import gdal_scope
from .matchers import AUTO, matcher_info
from .outputs import REPORT
from .raster import close_thread_datasets
from .tiepoints import peak_from_shift


@dataclass(frozen=True)
class WindowImages:
    """Pictures of one tie point's window (arrays ``[row, col]``, float32, NaN = nodata).

    ``peak_rc`` is the matched ``(row, col)`` in similarity pixels (the template's top-left
    in the reference, see docs/conventions.md); ``translated`` is the matcher's SAR-like
    picture of the template when it makes one, else ``None`` with ``translated_note`` saying why.
    ``unsure`` is the matcher's note when the run flagged the window unsure (``report.json``
    ``unsure_windows``), else ``""``.
    """

    matcher: str
    template: np.ndarray
    reference: np.ndarray
    similarity: Optional[np.ndarray]
    peak_rc: Optional[Tuple[float, float]]
    translated: Optional[np.ndarray]
    translated_note: str
    window_px: int
    template_px: int
    unsure: str = ""


def load_report(outdir: str) -> dict:
    """The ``report.json`` of the run in ``outdir`` (``InputError`` without one)."""
    path = os.path.join(outdir, REPORT)
    if not os.path.isfile(path):
        raise InputError(f"{outdir}: has no report.json: inspect the outputs of a finished run")
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def config_from_report(report: dict) -> CoregConfig:
    """The ``CoregConfig`` recorded in a report (unknown keys ignored)."""
    known = {f.name for f in dataclasses.fields(CoregConfig)}
    values = {k: v for k, v in report.get("config", {}).items() if k in known}
    if values.get("optical_bands") is not None:
        values["optical_bands"] = tuple(values["optical_bands"])
    values["matcher"] = report.get("matcher", {}).get("name") or values.get("matcher", AUTO)
    return CoregConfig(**values)


def _input_path(path, outdir: str):
    if isinstance(path, list):
        return [_input_path(p, outdir) for p in path]
    if os.path.isabs(path) or os.path.exists(path):
        return path
    beside = os.path.join(outdir, path)
    return beside if os.path.exists(beside) else path


def _read_similarity(outdir: str, relative: str) -> Optional[np.ndarray]:
    path = os.path.join(outdir, relative) if relative else ""
    if not path or not os.path.isfile(path):
        return None
    with gdal_scope():
        ds = gdal.Open(path)
        band = ds.GetRasterBand(1)
        array = band.ReadAsArray().astype(np.float32)
        del band, ds
    return array


def read_window(outdir: str, win_row: int, win_col: int, similarity: str = "",
                shift_px: Tuple[float, float] = (math.nan, math.nan), rerun: Optional[bool] = None) -> WindowImages:
    """The pictures of window ``(win_row, win_col)`` of the run in ``outdir``.

    ``similarity`` is the tie point's relative similarity raster and ``shift_px`` its
    ``(dx_px, dy_px)``; ``rerun`` runs the matcher again on the window (default: only for a
    matcher whose registry entry ``shows`` a translation, or when no similarity raster was
    written).
    """
    try:
        return _read_window(outdir, win_row, win_col, similarity, shift_px, rerun)
    finally:
        # the engine caches open GDAL datasets per thread: do not keep them in the GUI thread
        close_thread_datasets()


def reopen(outdir: str, report: Optional[dict] = None) -> Tuple[Scene, CoregConfig]:
    """The scene of the run in ``outdir`` laid out again as it ran (its SAR windows displaced by
    the recorded coarse offset), and the run's ``CoregConfig``."""
    report = report if report is not None else load_report(outdir)
    config = config_from_report(report)
    inputs = report.get("inputs", {})
    scene = prepare(_input_path(inputs["optical"], outdir), _input_path(inputs["sar"], outdir), config)
    return with_recorded_offset(scene, report.get("coarse_offset")), config


def unsure_note(report: dict, win_row: int, win_col: int) -> str:
    """The note of window ``(win_row, win_col)`` among a report's ``unsure_windows`` (``""``)."""
    for w in report.get("unsure_windows") or []:
        if (w.get("win_row"), w.get("win_col")) == (win_row, win_col):
            return str(w.get("note") or "")
    return ""


def _read_window(outdir, win_row, win_col, similarity, shift_px, rerun) -> WindowImages:
    report = load_report(outdir)
    scene, config = reopen(outdir, report)
    window = scene.window_at(win_row, win_col)
    pixels = scene.read_pair(window, config.max_nodata_fraction)
    template, reference = pixels.template, pixels.reference
    sim = _read_similarity(outdir, similarity)
    dx, dy = shift_px
    peak = (peak_from_shift(window, dy, dx, scene.sar_offset_px) if math.isfinite(dx) and math.isfinite(dy)
            else None)
    info = matcher_info(config.matcher)
    translates = "translation" in info.shows
    translated, note = None, ""
    if rerun is None:
        rerun = translates or sim is None
    if rerun:
        match = make_matcher(config).match(template, reference)
        if sim is None:
            sim = match.similarity
        if peak is None and match.ok:
            peak = (match.row, match.col)
        translated = match.translated
    if translated is None:
        note = (notes.NO_TRANSLATION_CLASSICAL if not translates else notes.NO_TRANSLATION).format(matcher=config.matcher)
    return WindowImages(config.matcher, template, reference, sim, peak, translated, note,
                        window.window_px, window.template_px, unsure_note(report, win_row, win_col))
