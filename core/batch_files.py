"""The files of a batch: the pairs CSV, input fingerprints, pair manifests and the summary.

The pairs CSV
    One pair per row: ``optical,sar[,name]``.  A header row is optional: when the first row
    names the columns (two of its cells are ``optical`` and ``sar``), columns are taken by
    name (``optical``, ``sar``, optional ``name``, in any order; other columns are
    ignored by the batch and kept in ``PairSpec.extra`` for other readers of the CSV);
    otherwise by position.  Blank rows and rows starting with ``#`` are skipped.
    Relative paths are relative to the CSV's folder.  ``name`` defaults to the optical
    file's stem; names are reduced to ``A-Z a-z 0-9 . _ -`` and made unique (``_2``,
    ``_3``, ...).  A malformed CSV is refused (``InputError``) before anything runs.

Fingerprints
    An input's fingerprint is its size, modification time and the SHA-256 of its first and
    last MiB (of the whole file when it is at most 2 MiB), for every file GDAL reads for it
    (a VRT and its sources): fast on any scene size, and it catches a replaced or
    rewritten file.

Manifests and the summary
    ``OUTROOT/<name>/batch_manifest.json`` (state ``started`` or ``complete``, fingerprints,
    config) and ``OUTROOT/batch_summary.csv`` / ``.json`` are written through a temporary
    file and renamed into place, so neither is ever half-written.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from . import outputs as out
from .config import CoregConfig
from .report import ENGINE_VERSION
from .errors import InputError, OutputError
from .staging import atomic_file

MANIFEST = "batch_manifest.json"
SUMMARY_CSV = "batch_summary.csv"
SUMMARY_JSON = "batch_summary.json"
MANIFEST_FORMAT = "sarcoreg-batch-manifest/1"
STATUSES = ("ok", "bad_input", "error", "skipped_complete", "cancelled")
# config fields that never change a result (so changing them does not redo a pair)
_CONFIG_NOT_IN_RESULT = ("workers",)
_HASH_PART = 1 << 20


# --------------------------------------------------------------------------- the pairs CSV

@dataclass(frozen=True)
class PairSpec:
    """One row of the pairs CSV: absolute input paths and a unique, file-safe name."""

    name: str
    optical: str
    sar: str
    line: int
    # the row's other columns named by the header, ``((column, text), ...)`` (lower-case
    # names; empty without a header): what a reader beyond the batch may take from the row
    extra: Tuple[Tuple[str, str], ...] = ()


def sanitise_name(text: str) -> str:
    """``text`` reduced to ``A-Z a-z 0-9 . _ -`` (runs of others become ``_``), never empty."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", text.strip()).strip("._-")
    return name or "pair"


def read_pairs(pairs_csv) -> List[PairSpec]:
    """Parse the pairs CSV (see the module docstring); raises ``InputError`` on a bad file."""
    path = Path(pairs_csv)
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "no such file"
        raise InputError(f"{path}: {what}: give a CSV of pairs, one 'optical,sar[,name]' per row")
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = [(i + 1, [c.strip() for c in row]) for i, row in enumerate(csv.reader(fh))]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: is not a readable CSV text file ({exc}): give a CSV of "
                         "'optical,sar[,name]' rows") from None
    rows = [(n, r) for n, r in rows if any(r) and not r[0].startswith("#")]
    col = {"optical": 0, "sar": 1, "name": 2}
    extra_col: Dict[str, int] = {}
    if rows and {"optical", "sar"} <= {c.lower() for c in rows[0][1]}:
        header = [c.lower() for c in rows.pop(0)[1]]
        col = {k: header.index(k) for k in ("optical", "sar", "name") if k in header}
        for i, k in enumerate(header):
            if k and k not in col:
                extra_col.setdefault(k, i)
    base = path.resolve().parent
    specs: List[PairSpec] = []
    taken: set = set()
    reserved = {SUMMARY_CSV.lower(), SUMMARY_JSON.lower()}
    for line, row in rows:
        cells = {k: row[i] if i < len(row) else "" for k, i in col.items()}
        if not cells["optical"] or not cells["sar"]:
            raise InputError(f"{path} line {line}: expected 'optical,sar[,name]', got {','.join(row)!r}: "
                             "give both paths on every row")
        optical, sar = (str(base / os.path.expanduser(cells[k])) for k in ("optical", "sar"))
        stem = cells.get("name") or Path(cells["optical"]).stem
        name = candidate = sanitise_name(stem)
        k = 1
        while candidate.lower() in taken or candidate.lower() in reserved:
            k += 1
            candidate = f"{name}_{k}"
        taken.add(candidate.lower())
        extra = tuple((k, row[i] if i < len(row) else "") for k, i in extra_col.items())
        specs.append(PairSpec(candidate, os.path.normpath(optical), os.path.normpath(sar), line, extra))
    if not specs:
        raise InputError(f"{path}: holds no pairs: give one 'optical,sar[,name]' row per pair")
    return specs


# --------------------------------------------------------------------------- fingerprints

def file_fingerprint(path: str) -> dict:
    """Size, mtime and SHA-256 of the first and last MiB (all of it when <= 2 MiB)."""
    st = os.stat(path)
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        if st.st_size <= 2 * _HASH_PART:
            for block in iter(lambda: fh.read(_HASH_PART), b""):
                h.update(block)
            kind = "sha256"
        else:
            h.update(fh.read(_HASH_PART))
            fh.seek(st.st_size - _HASH_PART)
            h.update(fh.read(_HASH_PART))
            kind = "sha256-first-last-MiB"
    return {"path": path, "size": st.st_size, "mtime_ns": st.st_mtime_ns, kind: h.hexdigest()}


def input_fingerprint(path: str) -> List[dict]:
    """Fingerprints of every file GDAL reads for raster ``path`` (a VRT and its sources)."""
    files = [path]
    try:
        from osgeo import gdal

        from .gdalscope import gdal_scope
        with gdal_scope():
            ds = gdal.OpenEx(path, gdal.OF_RASTER | gdal.OF_READONLY)
            files = ds.GetFileList() or [path]
            del ds
    except Exception:  # an unreadable input is reported by coregister, not here
        pass
    prints = []
    for f in dict.fromkeys(files):
        try:
            prints.append(file_fingerprint(f))
        except OSError as exc:
            prints.append({"path": f, "error": exc.strerror or str(exc)})
    return prints


def config_key(config: CoregConfig) -> dict:
    """``config`` as JSON values, without the fields that never change a result."""
    d = json.loads(json.dumps(config.to_dict()))
    for k in _CONFIG_NOT_IN_RESULT:
        d.pop(k, None)
    return d


# --------------------------------------------------------------------------- results

@dataclass(frozen=True)
class PairOutcome:
    """What happened to one pair; counts and shifts are empty unless it has outputs."""

    name: str
    status: str
    message: str
    optical: str
    sar: str
    outdir: str
    windows: Optional[int] = None
    matched: Optional[int] = None
    inliers: Optional[int] = None
    outliers: Optional[int] = None
    skipped_windows: Optional[int] = None
    median_dx_m: Optional[float] = None
    median_dy_m: Optional[float] = None
    median_dx_px: Optional[float] = None
    median_dy_px: Optional[float] = None
    seconds: float = 0.0

    @classmethod
    def from_report(cls, spec: PairSpec, outdir: Path, status: str, message: str, report: dict,
                    seconds: float) -> "PairOutcome":
        c, s = report.get("counts", {}), report.get("shift", {})
        return cls(spec.name, status, message, spec.optical, spec.sar, str(outdir),
                   c.get("windows"), c.get("matched"), c.get("inliers"), c.get("outliers"), c.get("skipped"),
                   s.get("median_dx_m"), s.get("median_dy_m"), s.get("median_dx_px"), s.get("median_dy_px"),
                   round(seconds, 3))


SUMMARY_FIELDS = tuple(f.name for f in fields(PairOutcome))


@dataclass(frozen=True)
class BatchSummary:
    """Every pair's outcome plus the batch's own facts; ``text()`` and ``exit_code()`` for the CLI."""

    outroot: str
    outcomes: Tuple[PairOutcome, ...]
    seconds: float
    cluster: str
    cancelled: bool = False
    config: dict = field(default_factory=dict)

    def counts(self) -> Dict[str, int]:
        return {s: sum(1 for o in self.outcomes if o.status == s) for s in STATUSES}

    def exit_code(self) -> int:
        c = self.counts()
        if c["error"]:
            return 1
        if c["bad_input"]:
            return 2
        return 130 if self.cancelled or c["cancelled"] else 0

    def text(self) -> str:
        c = self.counts()
        parts = [f"{c[s]} {s.replace('_', ' ')}" for s in STATUSES if c[s]]
        lines = [f"{len(self.outcomes)} pairs in {self.seconds:.1f} s on {self.cluster}: {', '.join(parts)}"]
        lines += [f"  {o.name}: {o.status}: {o.message}" for o in self.outcomes
                  if o.status not in ("ok", "skipped_complete")]
        lines.append(f"summary in {Path(self.outroot) / SUMMARY_CSV}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"format": "sarcoreg-batch-summary/1", "engine_version": ENGINE_VERSION,
                "outroot": self.outroot, "cluster": self.cluster, "seconds": round(self.seconds, 3),
                "cancelled": self.cancelled, "counts": self.counts(), "config": self.config,
                "pairs": [asdict(o) for o in self.outcomes]}


def write_atomic(path: Path, writer) -> None:
    """Write ``path`` with ``writer(file)`` through a temporary file (``atomic_file``)."""
    try:
        with atomic_file(path, newline="", encoding="utf-8") as fh:
            writer(fh)
    except OutputError:
        raise
    except OSError as exc:
        raise OutputError(f"{path}: cannot be written ({exc.strerror or exc}): check free space "
                          "and permissions of the output folder") from None


def write_summary(summary: BatchSummary) -> None:
    """``batch_summary.csv`` (one row per pair) and ``batch_summary.json`` in the output root."""
    root = Path(summary.outroot)

    def write_csv(fh):
        w = csv.DictWriter(fh, fieldnames=SUMMARY_FIELDS)
        w.writeheader()
        for o in summary.outcomes:
            w.writerow({k: "" if v is None else v for k, v in asdict(o).items()})

    write_atomic(root / SUMMARY_CSV, write_csv)
    write_atomic(root / SUMMARY_JSON, lambda fh: json.dump(summary.to_dict(), fh, indent=2))


# --------------------------------------------------------------------------- manifests

def read_json(path: Path) -> Optional[dict]:
    """The JSON document in ``path``, or None when it is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_manifest(outdir: Path, state: str, spec: PairSpec, config: CoregConfig,
                   inputs: Optional[dict] = None) -> None:
    """``outdir/batch_manifest.json``: ``state`` (started / complete), inputs and config."""
    doc = {"format": MANIFEST_FORMAT, "state": state, "name": spec.name, "engine_version": ENGINE_VERSION,
           "optical": spec.optical, "sar": spec.sar, "inputs": inputs or {}, "config": config_key(config),
           "written_utc": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    write_atomic(outdir / MANIFEST, lambda fh: json.dump(doc, fh, indent=2))


def is_complete(outdir: Path, manifest: Optional[dict], spec: PairSpec, config: CoregConfig,
                inputs: dict) -> bool:
    """Whether ``manifest`` says the pair finished with these inputs and this config."""
    if not manifest or manifest.get("format") != MANIFEST_FORMAT or manifest.get("state") != "complete":
        return False
    same = (manifest.get("engine_version") == ENGINE_VERSION and manifest.get("optical") == spec.optical
            and manifest.get("sar") == spec.sar and manifest.get("config") == config_key(config)
            and manifest.get("inputs") == inputs)
    return same and all((outdir / n).exists() for n in (out.REPORT, out.TIEPOINTS_GPKG))


def has_outputs(outdir: Path) -> bool:
    """Whether any final output name of ``coregister`` exists in ``outdir``."""
    return any((outdir / n).exists() for n in out.ALL_OUTPUTS)
