"""``match-batch``: match many (template, reference) image pairs listed in a CSV manifest.

MANIFEST columns: ``id,template,reference`` at least (more are ignored), plus optionally
``reference_kind`` (``amplitude``, ``power``, ``db`` or ``auto``; empty = the
``reference_kind`` argument, ``auto`` by default). ``auto`` reads a reference holding any
negative value as dB and any other as amplitude (negative values cannot be linear
backscatter; amplitude and power give the same normalised image anyway). Paths may be absolute or relative to the manifest's folder; any GDAL-readable
image, georeferenced or not. The template is optical: several bands are averaged to grey.
The reference is SAR: band ``reference_band`` is converted to dB. Band nodata values become
NaN.

RESULTS columns: ``id,row,col,score,confidence,seconds,status``. ``(row, col)`` is the
sub-pixel position of the template's top-left pixel inside the reference, in reference
pixels (pixel-centre convention of ``core/__init__``); ``seconds`` is the time of the match
itself (reading excluded). A row that cannot be matched (unreadable image, template larger
than the reference, too much nodata) is written with ``nan`` values and a ``status`` saying
why, and the batch goes on; ``status`` is ``ok`` otherwise.

RESULTS is written under a temporary name in its folder and moved into place only when
complete, so a crash or a cancel never leaves a partial file under the final name.
"""
from __future__ import annotations

import csv
import logging
import math
import time
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from .errors import InputError, OutputError, OutputExistsError, SarcoregError
from .feedback import Feedback, NullFeedback, check_cancel
from .matchers import get_matcher
from .radiometry import SAR_KINDS, to_db
from .staging import atomic_file

log = logging.getLogger("sarcoreg.matchbatch")

REQUIRED_COLUMNS = ("id", "template", "reference")
RESULT_COLUMNS = ("id", "row", "col", "score", "confidence", "seconds", "status")
REFERENCE_KINDS = SAR_KINDS + ("auto",)


def read_manifest(manifest_csv: str) -> List[Dict[str, str]]:
    """The manifest's rows as dicts; ``InputError`` if it is missing or lacks a column."""
    path = Path(manifest_csv)
    if not path.is_file():
        raise InputError(f"{manifest_csv}: no such manifest file: give a CSV with columns id,template,reference")
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            if missing:
                raise InputError(
                    f"{manifest_csv}: lacks column(s) {', '.join(missing)} (found: {', '.join(header) or 'none'}): "
                    "the manifest needs a header line id,template,reference")
            reader.fieldnames = header
            rows = [{k: (v or "").strip() for k, v in row.items() if k is not None} for row in reader]
    except UnicodeDecodeError:
        raise InputError(f"{manifest_csv}: is not a UTF-8 text CSV: save it as CSV") from None
    except csv.Error as exc:
        raise InputError(f"{manifest_csv}: is not a valid CSV ({exc}): check its quoting") from None
    return rows


def _resolve(base: Path, value: str) -> str:
    if not value:
        return value
    p = Path(value)
    return str(p if p.is_absolute() or value.startswith("/vsi") else base / p)


def read_template(path: str) -> np.ndarray:
    """Grey float32 ``(H, W)`` of an optical image: mean of all bands, nodata → NaN."""
    stack = _read_stack(path, None)
    with np.errstate(invalid="ignore"):
        return stack.mean(axis=0).astype(np.float32)


def read_reference(path: str, kind: str = "auto", band: int = 1) -> np.ndarray:
    """SAR band ``band`` of ``path`` in dB, float32 ``(H, W)``, nodata → NaN.

    ``kind`` is ``amplitude``, ``power``, ``db`` or ``auto`` (dB if any value is negative).
    """
    values = _read_stack(path, band)[0]
    if kind == "auto":
        finite = values[np.isfinite(values)]
        kind = "db" if finite.size and float(finite.min()) < 0 else "amplitude"
    return to_db(values, kind)


def _read_stack(path: str, band: Optional[int]) -> np.ndarray:
    from .gdalscope import gdal_scope  # GDAL only when pixels are read

    with gdal_scope():
        return _read_stack_scoped(path, band)


def _read_stack_scoped(path: str, band: Optional[int]) -> np.ndarray:
    from .raster import COMPLEX_TYPES, open_raster

    from osgeo import gdal

    ds = open_raster(path)
    numbers = list(range(1, ds.RasterCount + 1)) if band is None else [band]
    if band is not None and not 1 <= band <= ds.RasterCount:
        raise InputError(f"{path}: has {ds.RasterCount} band(s), band {band} was asked for")
    planes = []
    for b in numbers:
        rb = ds.GetRasterBand(b)
        if gdal.GetDataTypeName(rb.DataType) in COMPLEX_TYPES:
            raise InputError(f"{path}: band {b} is complex (SLC): detect it first (amplitude, power or dB)")
        a = np.asarray(rb.ReadAsArray(), dtype=np.float32)
        nodata = rb.GetNoDataValue()
        if nodata is not None:
            a[a == np.float32(nodata)] = np.nan
        planes.append(a)
    del ds
    return np.stack(planes)


def _fmt(v: float, digits: int) -> str:
    return "nan" if not math.isfinite(v) else f"{v:.{digits}f}"


def _result_row(row_id: str, match=None, status: str = "", seconds: float = float("nan")) -> List[str]:
    if match is None:
        return [row_id, "nan", "nan", "nan", "nan", "nan", status]
    return [row_id, _fmt(match.row, 4), _fmt(match.col, 4), _fmt(match.score, 6), _fmt(match.confidence, 4),
            _fmt(seconds, 4), match.status]


def _one_line(exc: BaseException) -> str:
    from .errors import one_line
    return (one_line(exc) or type(exc).__name__).replace(",", ";")


def match_batch(manifest_csv: str, results_csv: str, matcher_name: str, overwrite: bool = False,
                feedback: Optional[Feedback] = None, reference_kind: str = "auto",
                reference_band: int = 1, **matcher_options) -> dict:
    """Match every manifest row with ``matcher_name`` and write RESULTS (see module doc).

    Returns a summary dict: ``rows``, ``ok``, ``failed``, ``matcher``, ``results`` (the path),
    ``seconds`` (wall time of the whole batch), ``median_match_seconds``.
    Raises ``InputError`` for a bad manifest, matcher or option, ``OutputExistsError`` if
    ``results_csv`` exists and ``overwrite`` is false, ``OutputError`` if it cannot be
    written, ``CancelledError`` when ``feedback`` asks to stop (nothing is left behind).
    """
    feedback = feedback or NullFeedback()
    start = time.perf_counter()
    if reference_kind not in REFERENCE_KINDS:
        raise InputError(f"reference kind {reference_kind!r} is unknown: use one of {', '.join(REFERENCE_KINDS)}")
    out = Path(results_csv)
    if out.exists() and not overwrite:
        raise OutputExistsError(f"{results_csv}: already exists: pass --overwrite to replace it, or choose another name")
    if out.is_dir():
        raise OutputError(f"{results_csv}: is a folder: give a file name for the results CSV")
    rows = read_manifest(manifest_csv)
    matcher = get_matcher(matcher_name, **matcher_options)
    base = Path(manifest_csv).resolve().parent
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out.parent}: cannot write there ({exc.strerror}): choose a writable folder") from None

    n_ok, secs = 0, []
    try:
        with atomic_file(out, newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(RESULT_COLUMNS)
            for k, row in enumerate(rows):
                check_cancel(feedback)
                row_id = row.get("id", "")
                try:
                    kind = (row.get("reference_kind") or reference_kind).lower()
                    if kind not in REFERENCE_KINDS:
                        raise InputError(f"reference_kind {kind!r} is not one of {', '.join(REFERENCE_KINDS)}")
                    if not row.get("template") or not row.get("reference"):
                        raise InputError("template or reference path is empty")
                    template = read_template(_resolve(base, row["template"]))
                    reference = read_reference(_resolve(base, row["reference"]), kind, reference_band)
                    if template.shape[0] > reference.shape[0] or template.shape[1] > reference.shape[1]:
                        raise InputError(f"template {template.shape[0]}x{template.shape[1]} is larger than "
                                         f"reference {reference.shape[0]}x{reference.shape[1]}")
                except (SarcoregError, RuntimeError) as exc:
                    log.warning("row %s: %s", row_id, exc)
                    writer.writerow(_result_row(row_id, status=f"input: {_one_line(exc)}"))
                else:
                    t0 = time.perf_counter()
                    m = matcher.match(template, reference)
                    seconds = time.perf_counter() - t0
                    writer.writerow(_result_row(row_id, m, seconds=seconds))
                    n_ok += int(m.ok)
                    secs.append(seconds)
                feedback.set_progress(100.0 * (k + 1) / max(len(rows), 1))
            check_cancel(feedback)
    except OutputError:
        raise
    except OSError as exc:
        raise OutputError(f"{results_csv}: cannot be written ({exc.strerror or exc}): check the folder and disk") from None
    summary = {
        "rows": len(rows), "ok": n_ok, "failed": len(rows) - n_ok, "matcher": matcher.name,
        "results": str(out), "seconds": time.perf_counter() - start,
        "median_match_seconds": float(np.median(secs)) if secs else float("nan"),
    }
    feedback.info(f"matched {n_ok} of {len(rows)} rows with {matcher.name}: {out}")
    return summary
