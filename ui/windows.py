"""Re-read one window of a finished co-registration, for the inspector.

The inputs, band choice, window sizes and coarse offset are those recorded in ``report.json``;
the scene is laid out again with the engine (``core.coregister.prepare``), its SAR windows
displaced by the recorded coarse offset (``with_recorded_offset``), the window found by its
lattice position ``(win_row, win_col)`` and read by the engine's own window reader
(``read_window_pixels``), so the pictures are exactly what was matched.
No Qt here: arrays in, arrays out.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

LEARNED_MATCHERS = ("dcdm",)


@dataclass(frozen=True)
class WindowImages:
    """Pictures of one tie point's window (arrays ``[row, col]``, float32, NaN = nodata).

    ``peak_rc`` is the matched ``(row, col)`` in similarity pixels (the template's top-left
    in the reference, see docs/conventions.md); ``translated`` is the matcher's SAR-like
    picture of the template when it makes one, else ``None`` with ``translated_note`` saying why.
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


def load_report(outdir: str) -> dict:
    path = os.path.join(outdir, "report.json")
    if not os.path.isfile(path):
        from ..core.errors import InputError
        raise InputError(f"{outdir}: has no report.json: inspect the outputs of a finished run")
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def config_from_report(report: dict):
    """The ``CoregConfig`` recorded in a report (unknown keys ignored)."""
    from ..core.config import CoregConfig

    known = {f.name for f in dataclasses.fields(CoregConfig)}
    values = {k: v for k, v in report.get("config", {}).items() if k in known}
    if values.get("optical_bands") is not None:
        values["optical_bands"] = tuple(values["optical_bands"])
    values["matcher"] = report.get("matcher", {}).get("name") or values.get("matcher", "auto")
    return CoregConfig(**values)


def _input_path(path, outdir: str):
    if isinstance(path, list):
        return [_input_path(p, outdir) for p in path]
    if os.path.isabs(path) or os.path.exists(path):
        return path
    beside = os.path.join(outdir, path)
    return beside if os.path.exists(beside) else path


def _read_similarity(outdir: str, relative: str) -> Optional[np.ndarray]:
    from osgeo import gdal

    from ..core.gdalscope import gdal_scope

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
    learned matcher, which is the one that makes a translation, or when no similarity
    raster was written).
    """
    from ..core.raster import close_thread_datasets

    try:
        return _read_window(outdir, win_row, win_col, similarity, shift_px, rerun)
    finally:
        # the engine caches open GDAL datasets per thread: do not keep them in the GUI thread
        close_thread_datasets()


def _read_window(outdir, win_row, win_col, similarity, shift_px, rerun) -> WindowImages:
    from ..core.coregister import make_matcher, prepare, read_window_pixels, with_recorded_offset
    from ..core.errors import InputError

    report = load_report(outdir)
    config = config_from_report(report)
    inputs = report.get("inputs", {})
    scene = prepare(_input_path(inputs["optical"], outdir), _input_path(inputs["sar"], outdir), config)
    # the SAR windows are read where the run read them: displaced by its coarse offset
    scene = with_recorded_offset(scene, report.get("coarse_offset"))
    window = next((w for w in scene.windows if w.win_row == int(win_row) and w.win_col == int(win_col)), None)
    if window is None:
        raise InputError(f"window ({win_row}, {win_col}) is not in the lattice of {outdir}: "
                         "the inputs changed since the run")
    pixels = read_window_pixels(scene, window, config.max_nodata_fraction)
    template, reference = pixels.template, pixels.reference
    sim = _read_similarity(outdir, similarity)
    margin = window.margin_px
    # the tie point's shift includes the coarse offset; the peak is in the displaced window
    dy0, dx0 = scene.sar_offset_px
    dx, dy = shift_px
    peak = ((dy - dy0 + margin, dx - dx0 + margin) if math.isfinite(dx) and math.isfinite(dy)
            else None)
    learned = config.matcher in LEARNED_MATCHERS
    translated, note = None, ""
    if rerun is None:
        rerun = learned or sim is None
    if rerun:
        match = make_matcher(config).match(template, reference)
        if sim is None:
            sim = match.similarity
        if peak is None and match.ok:
            peak = (match.row, match.col)
        translated = match.translated
    if translated is None:
        note = (f"not available for {config.matcher}: a classical matcher compares structure "
                "descriptors, it does not translate the template" if not learned
                else f"the {config.matcher} matcher returned no translation")
    return WindowImages(config.matcher, template, reference, sim, peak, translated, note,
                        window.window_px, window.template_px)
