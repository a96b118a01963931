"""Every real optical–SAR pair of the shared data folder that has a usable truth, by source
and role, for training, choosing (``dev``) and reporting (``val``) across places and sensors.

Sources (folders of the shared data, see its README):

* ``s1s2_la``: Sentinel-1 VH / Sentinel-2 RGB, Los Angeles (87 pairs, 1024 px). Truth: each
  pair's measured ``residual_shift_px``. Roles: the ``val`` pairs of ``samples.split_of``;
  the ``train`` pairs whose ``dev:`` hash falls in ``DEV_FRACTION`` are ``dev`` (the same
  rule as the model's training, so the model never trained on them); the rest ``train``.
* ``ombria``: Sentinel-1 VV (8-bit dB) / Sentinel-2 false colour, flood-prone places in
  several countries (694 pairs, 256 px, terrain-corrected, one grid by construction). Truth:
  each pair's residual measured by ``scripts/measure_residuals.py`` (stored in
  ``resources/truth/residuals.csv``); pairs without a reliable one are left out. Roles:
  upstream ``test`` → ``val``; upstream ``train`` → ``dev`` for the pairs whose ``dev:``
  hash falls in ``OMBRIA_DEV_FRACTION``, else ``train``. ``test`` is never trained on nor
  chosen on.
* ``multiearth``: Sentinel-1 VV (dB) / Sentinel-2 B4/B3/B2, Amazon forest, one day apart
  (1 pair, 256 px); truth: the measured residual. Role ``dev`` (a forest scene to choose on).
* ``other``: one pair each from other sensors and countries, on exact grids or with
  hand-made control points: ``hetero_cd`` #2, #4, #5, #6 (Radarsat-2, Sentinel-1 … against
  Landsat / Google Earth), ``cfog_visible1``, ``gefolki_s1s2``, ``gefolki_uavsar`` (airborne
  L-band). Role ``val`` only.

A ``val`` pair is never ``dev`` or ``train``: choices are made on ``dev`` and reported on
``val`` (``evaluate.evaluate_sources``).

Clean truth: where the ground moves inside a pair (SAR terrain geometry in the hills of
``s1s2_la``) the pair's single residual is not the truth of every window. ``truth_check``
runs two matchers built on unrelated descriptors (a 9-orientation CFOG and MIND) on a
sample; when they agree with each other within ``AGREE_PX`` and both miss the pair's truth
by more than ``MISS_PX``, the sample is left out (counted, never hidden). It applies to the
sources whose truth is a per-pair residual (``s1s2_la``, ``ombria``, ``multiearth``), not
to the exact grids.

A truth at the scale of a window for ``s1s2_la`` (``la_truth="local"``, the default). A
pair's upstream residual is off by a median of 1.4–1.7 px from the agreeing cells under a
192 px template (``resources/truth/la_cells.csv``, CFOG and MIND within 1 px of each other on
160 px cells), so at the scale of CMR(1) it is not the truth of a window. A sample's truth is
the mean residual of the agreeing cells whose centre lies in the square of
``max(T, LA_CELL_STEP)`` px around its template's centre (one cell at most for 192 px
templates, one to four for 384 px) when they lie within ``LA_CELLS_SPREAD_PX`` of their mean;
where they do not, the ground moves under the template and no one offset is its truth. A
sample without such a cell, or whose cells spread, keeps the pair's residual
(counted, ``SourceSamples.n_pair_truth``): leaving it out would leave out the places where
CFOG and MIND do not agree, the hard ones. ``la_truth="upstream"`` keeps the pair's residual
for every sample (the protocol before this change). The sample set is the same either way,
before the truth check. The cells come from two matchers of the
table, so on ``s1s2_la`` they favour those matchers at the sub-pixel level, as on OMBRIA,
whose truth is measured the same way.
"""
from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from .errors import InputError
from .matchers import TEXTBOOK_CFOG, TRUTH_CHECKERS, get_matcher
from .radiometry import to_db
from .samples import DATASET_DIR, DEV_FRACTION, Pair, Sample, SampleSpec, cut_sample, list_pairs, load_pair, sample_specs, split_of

log = logging.getLogger("sarcoreg.sources")

ROLES = ("train", "dev", "val")
# the published CFOG (Ye et al.): |g·u| on 9 orientations, σ 0.8, [1, 2, 1] along orientation,
# per-pixel L2 norm; with MIND, the two unrelated matchers of the truth check and of the
# residual measurement, and the textbook reference of the validation
SOURCES = ("s1s2_la", "ombria", "multiearth", "other")
OMBRIA_DEV_FRACTION = 0.2    # of OMBRIA's upstream train folder
RESIDUALS_CSV = Path(__file__).resolve().parents[1] / "resources" / "truth" / "residuals.csv"
# the s1s2_la pairs measured the same way on a 5 x 5 grid of 160 px cells, 208 px apart
# (scripts/measure_residuals.py --la): the agreeing cells, each with its own residual
LA_CELLS_CSV = RESIDUALS_CSV.parent / "la_cells.csv"
LA_CELL_STEP = 208
LA_CELLS_SPREAD_PX = 1.0   # cells under one template farther than this from their mean: no local truth
# the truth of an s1s2_la sample: "local", the mean residual of the agreeing cells under its
# template where they agree (the protocol's default); "upstream", the pair's one residual (before)
LA_TRUTHS = ("local", "upstream")
# the help of every command-line option that chooses it (sarcoreg evaluate and the scripts)
LA_TRUTH_HELP = ("s1s2_la truth: local, the agreeing cells under each template where they agree (default), "
                 "or upstream, the pair's one residual")
# the same for training (sarcoreg train --la-truth), and "cells": templates drawn only inside
# agreeing cells, with the cell's residual
LA_TRAIN_TRUTHS = ("upstream", "cells", "local")
CHECKED_SOURCES = ("s1s2_la", "ombria", "multiearth")   # per-pair residual truth: check samples
AGREE_PX = 1.5
MISS_PX = 3.0

# which image of each hetero_cd dataset is the SAR (looked at: speckle, one grey channel)
HETERO_SAR = {"dataset#2": "image_t2", "dataset#4": "image_t1", "dataset#5": "image_t1", "dataset#6": "image_t2"}


@dataclass(frozen=True)
class SourcePair:
    """One pair with its source and role; ``pair`` carries the paths and the residual truth."""

    source: str
    role: str
    pair: Pair
    kind: str = ""            # how to read it (see ``load``): "la", "ombria", "multiearth", "mat", ...

    @property
    def pair_id(self) -> str:
        return self.pair.pair_id


# --------------------------------------------------------------------------- residuals

def read_residuals(path: Path = RESIDUALS_CSV) -> Dict[str, Tuple[float, float]]:
    """``{pair_id: (dy, dx)}`` of the pairs marked reliable in the residuals table."""
    if not path.is_file():
        return {}
    out = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            if row.get("reliable", "0") == "1":
                out[row["pair_id"]] = (float(row["dy"]), float(row["dx"]))
    return out


def read_la_cells(path: Path = LA_CELLS_CSV) -> Dict[str, np.ndarray]:
    """``{pair_id: (n, 4) [cy, cx, dy, dx]}``: the agreeing ``s1s2_la`` cells (optical pixel
    centre, residual) of ``resources/truth/la_cells.csv``; empty when the table is absent."""
    out: Dict[str, list] = {}
    if path.is_file():
        with open(path, newline="") as fh:
            for row in csv.DictReader(fh):
                out.setdefault(row["pair_id"], []).append([float(row[k]) for k in ("cy", "cx", "dy", "dx")])
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


def local_truth(cells: Optional[np.ndarray], opt_row: int, opt_col: int, template_px: int) -> Optional[Tuple[float, float]]:
    """The mean ``(dy, dx)`` of the agreeing ``cells`` whose centre lies in the square of
    ``max(T, LA_CELL_STEP)`` px around the centre of a template at ``(opt_row, opt_col)``;
    ``None`` when there is none (see the module doc)."""
    if cells is None or not len(cells):
        return None
    half = max(template_px, LA_CELL_STEP) / 2.0
    cy, cx = opt_row + template_px / 2.0, opt_col + template_px / 2.0
    under = cells[(np.abs(cells[:, 0] - cy) <= half) & (np.abs(cells[:, 1] - cx) <= half)]
    if not len(under):
        return None
    dy, dx = float(under[:, 2].mean()), float(under[:, 3].mean())
    if np.hypot(under[:, 2] - dy, under[:, 3] - dx).max() > LA_CELLS_SPREAD_PX:
        return None     # the ground moves under the template: no one offset is its truth
    return dy, dx


def with_local_truth(specs: Sequence[SampleSpec], cells: Dict[str, np.ndarray], window_px: int,
                     template_px: int) -> Tuple[List[SampleSpec], int]:
    """``(specs, n)``: ``specs`` with the truth of the agreeing cells under each template
    (``local_truth``); ``n`` of them keep the pair's residual (no such cell, or the template
    would leave its window)."""
    out, kept, room = [], 0, window_px - template_px
    for spec in specs:
        found = local_truth(cells.get(spec.pair.pair_id), spec.opt_row, spec.opt_col, template_px)
        if found is not None:
            row = spec.true_row + found[0] - spec.pair.residual_dy_px
            col = spec.true_col + found[1] - spec.pair.residual_dx_px
            if 0.0 <= row <= room and 0.0 <= col <= room:
                out.append(replace(spec, true_row=row, true_col=col))
                continue
        out.append(spec)
        kept += 1
    return out, kept


# --------------------------------------------------------------------------- listing

def _ombria_pairs(root: Path, residuals) -> List[SourcePair]:
    base = root / "ombria"
    out = []
    for folder, upstream in (("train", "train"), ("test", "test")):
        for s1 in sorted((base / "OmbriaS1" / folder / "BEFORE").glob("S1_before_*.png")):
            number = s1.stem.rsplit("_", 1)[-1]
            s2 = base / "OmbriaS2" / folder / "BEFORE" / f"S2_before_{number}.png"
            if not s2.is_file():
                continue
            pid = f"ombria/{upstream}/{number}"
            raw = Pair(pid, str(s2), str(s1), 0.0, 0.0, "db")
            out.append(SourcePair("ombria", _ombria_role(pid, upstream), raw, "ombria"))
    return out


def _ombria_role(pair_id: str, upstream: str) -> str:
    if upstream == "test":
        return "val"
    return "dev" if split_of("dev:" + pair_id, OMBRIA_DEV_FRACTION) == "val" else "train"


def _multiearth_pairs(root: Path) -> List[SourcePair]:
    base = root / "multiearth"
    vv = sorted(base.glob("Sentinel1_VV_*.tif*"))
    b4 = sorted(base.glob("Sentinel2_B4_*.tif*"))
    if not (vv and b4):
        return []
    return [SourcePair("multiearth", "dev", Pair("multiearth/amazon", str(b4[0]), str(vv[0]), 0.0, 0.0, "db"),
                       "multiearth")]


def _other_pairs(root: Path) -> List[SourcePair]:
    out = []
    het = root / "hetero_cd"
    for name in HETERO_SAR:
        f = het / f"{name}.mat"
        if f.is_file():
            out.append(SourcePair("other", "val", Pair(f"hetero_cd/{name}", str(f), str(f), 0.0, 0.0), "mat"))
    cv = root / "cfog_visible1"
    if (cv / "visibleToSAR1_CP.txt").is_file():
        cps = np.loadtxt(cv / "visibleToSAR1_CP.txt")   # x_ref y_ref x_sen y_sen
        dy, dx = float(np.mean(cps[:, 3] - cps[:, 1])), float(np.mean(cps[:, 2] - cps[:, 0]))
        out.append(SourcePair("other", "val", Pair("cfog_visible1", str(cv / "visible1_ref.tif"),
                                                     str(cv / "SAR1_sen.tif"), dy, dx), "tif"))
    for folder, sar_glob, opt_glob in (("gefolki_uavsar", "*_radar.tif", "*_optique.tif"),
                                       ("gefolki_s1s2", "S1_*.tif", "S2_*.tif")):
        sar_files, opt_files = sorted((root / folder).glob(sar_glob)), sorted((root / folder).glob(opt_glob))
        if sar_files and opt_files:
            out.append(SourcePair("other", "val", Pair(folder, str(opt_files[0]), str(sar_files[0]), 0.0, 0.0),
                                  "tif_masked"))
    return out


def _la_pairs(root: Path) -> List[SourcePair]:
    if not (root / DATASET_DIR).is_dir():
        return []
    out = []
    for p in list_pairs(str(root), "all"):
        if p.split == "val":
            role = "val"
        else:
            role = "dev" if split_of("dev:" + p.pair_id, DEV_FRACTION) == "val" else "train"
        out.append(SourcePair("s1s2_la", role, p, "la"))
    return out


def list_source_pairs(data_root: str, roles: Iterable[str] = ROLES, sources: Iterable[str] = SOURCES,
                      residuals: Optional[Dict[str, Tuple[float, float]]] = None,
                      need_residual: bool = True) -> List[SourcePair]:
    """The pairs of ``sources`` in ``roles`` under ``data_root`` (see the module doc).

    ``residuals`` (default: the stored table) gives the measured truth of OMBRIA and
    MultiEarth; with ``need_residual`` those without a reliable one are left out (pass
    ``False`` to list them all, e.g. to measure them). Raises ``InputError`` when nothing is found.
    """
    root = Path(data_root)
    roles, sources = set(roles), set(sources)
    bad = (roles - set(ROLES)) | (sources - set(SOURCES))
    if bad:
        raise InputError(f"unknown role or source {', '.join(sorted(bad))}: roles are {', '.join(ROLES)}, "
                         f"sources {', '.join(SOURCES)}")
    residuals = read_residuals() if residuals is None else residuals
    found: List[SourcePair] = []
    if "s1s2_la" in sources:
        found += _la_pairs(root)
    measured = []
    if "ombria" in sources:
        measured += _ombria_pairs(root, residuals)
    if "multiearth" in sources:
        measured += _multiearth_pairs(root)
    dropped = 0
    for sp in measured:
        if sp.pair_id in residuals:
            dy, dx = residuals[sp.pair_id]
            p = sp.pair
            found.append(SourcePair(sp.source, sp.role, Pair(p.pair_id, p.optical_path, p.sar_path, dy, dx, p.sar_kind),
                                    sp.kind))
        elif need_residual:
            dropped += 1
        else:
            found.append(sp)
    if dropped:
        log.debug("left out %d pairs without a reliable measured residual", dropped)
    if "other" in sources:
        found += _other_pairs(root)
    chosen = [sp for sp in found if sp.role in roles]
    if not chosen:
        raise InputError(f"{root}: no pairs of {', '.join(sorted(sources))} in {', '.join(sorted(roles))}: pass the "
                         "shared data folder (e.g. --data ../shared/data)")
    return chosen


# --------------------------------------------------------------------------- loading

def _gdal_stack(path: str) -> np.ndarray:
    from .raster import open_raster

    ds = open_raster(path)
    arr = np.asarray(ds.ReadAsArray(), dtype=np.float32)
    del ds
    return arr[None] if arr.ndim == 2 else arr


def load(sp: SourcePair) -> Tuple[np.ndarray, np.ndarray]:
    """``(optical_grey, sar_db)`` of a pair, float32 ``(H, W)`` each on one grid, NaN for nodata."""
    kind, p = sp.kind, sp.pair
    if kind == "la":
        return load_pair(p)
    if kind == "ombria":
        opt = _gdal_stack(p.optical_path)
        sar = _gdal_stack(p.sar_path)[0]
        blank = (opt == 0).all(axis=0)            # the composite's unfilled rows
        grey = opt.mean(axis=0)
        grey[blank] = np.nan
        sar = sar.copy()
        sar[blank] = np.nan
        return grey.astype(np.float32), to_db(sar, "db")
    if kind == "multiearth":
        folder = Path(p.optical_path).parent
        bands = [_gdal_stack(str(f))[0] for f in sorted(folder.glob("Sentinel2_B[234]_*.tif*"))]
        opt = np.mean(bands, axis=0).astype(np.float32)
        return opt, to_db(_gdal_stack(p.sar_path)[0], "db")
    if kind == "mat":
        from scipy.io import loadmat

        d = loadmat(p.optical_path)
        sar_key = HETERO_SAR[Path(p.optical_path).stem]
        opt_key = "image_t2" if sar_key == "image_t1" else "image_t1"
        opt = d[opt_key].astype(np.float32)
        sar = d[sar_key].astype(np.float32)
        opt = opt.mean(axis=2) if opt.ndim == 3 else opt
        sar = sar.mean(axis=2) if sar.ndim == 3 else sar
        return opt, to_db(sar, "amplitude")
    if kind in ("tif", "tif_masked"):
        opt = _gdal_stack(p.optical_path).mean(axis=0)
        sar = _gdal_stack(p.sar_path)
        grey = sar.mean(axis=0)
        if kind == "tif_masked":
            grey[(sar == 0).all(axis=0)] = np.nan      # e.g. the Pauli image's black border
        return opt.astype(np.float32), to_db(grey, "amplitude")
    raise InputError(f"{sp.pair_id}: unknown pair kind {kind!r}")


# --------------------------------------------------------------------------- samples

@dataclass
class SourceSamples:
    """The protocol samples of one source at one setting, after the truth check."""

    source: str
    window_px: int
    template_px: int
    samples: List[Sample]
    n_drawn: int
    n_removed: int            # left out by the truth check
    n_pair_truth: int = 0     # s1s2_la, la_truth="local": samples that keep the pair's residual (no agreeing cell)

    def counts(self) -> str:
        """``"s1s2_la 92 of 100 (truth check removed 8; 30 with the pair's residual)"``."""
        pair = f"; {self.n_pair_truth} with the pair's residual" if self.n_pair_truth else ""
        return f"{self.source} {len(self.samples)} of {self.n_drawn} (truth check removed {self.n_removed}{pair})"


def truth_check(samples: Sequence[Sample]) -> np.ndarray:
    """``keep`` mask: False where a 9-orientation CFOG and MIND agree within ``AGREE_PX`` with
    each other and both miss the sample's truth by more than ``MISS_PX`` (see the module doc)."""
    checkers = tuple(get_matcher(name, **options) for name, options in TRUTH_CHECKERS)
    keep = np.ones(len(samples), dtype=bool)
    for i, s in enumerate(samples):
        found = [m.match(s.template, s.reference) for m in checkers]
        if not all(f.ok for f in found):
            continue
        a, b = found
        agree = np.hypot(a.row - b.row, a.col - b.col) <= AGREE_PX
        miss = all(np.hypot(f.row - s.true_row, f.col - s.true_col) > MISS_PX for f in found)
        keep[i] = not (agree and miss)
    return keep


def source_samples(data_root: str, window_px: int, template_px: int, n_per_source: int, seed: int = 0,
                   role: str = "val", sources: Iterable[str] = SOURCES, check_truth: bool = True,
                   pairs: Optional[Sequence[SourcePair]] = None,
                   images: Optional[Dict[str, Tuple[np.ndarray, np.ndarray]]] = None,
                   la_truth: str = "local") -> List[SourceSamples]:
    """``n_per_source`` protocol samples drawn from each source's pairs in ``role`` that are large
    enough for the setting (sources without such pairs are left out), truth-checked where the
    truth is a per-pair residual, ``s1s2_la`` with the truth of ``la_truth`` (module doc).
    Deterministic for given arguments."""
    R, T = int(window_px), int(template_px)
    if la_truth not in LA_TRUTHS:
        raise InputError(f"s1s2_la truth {la_truth!r} is unknown: use one of {', '.join(LA_TRUTHS)}")
    cells = read_la_cells() if la_truth == "local" else None
    pairs = list(pairs) if pairs is not None else list_source_pairs(data_root, [role], sources)
    if cells is not None and not cells and any(sp.source == "s1s2_la" for sp in pairs):
        raise InputError(f"{LA_CELLS_CSV}: no s1s2_la cell: run `python scripts/measure_residuals.py --la` "
                         "or use the upstream truth")
    images = {} if images is None else images     # pair id -> (optical, SAR); pass one dict to read each pair once
    out = []
    for source in SOURCES:
        group = [sp for sp in pairs if sp.source == source and sp.role == role]
        if not group:
            continue
        for sp in group:
            if sp.pair_id not in images:
                images[sp.pair_id] = load(sp)
        usable = [sp for sp in group if min(images[sp.pair_id][0].shape) >= R + 2 * max(
            abs(round(sp.pair.residual_dy_px)), abs(round(sp.pair.residual_dx_px)))]
        if not usable:
            continue
        specs = sample_specs([sp.pair for sp in usable], R, T, n_per_source, seed,
                             shapes=[images[sp.pair_id][0].shape for sp in usable])
        pair_truth = 0
        if source == "s1s2_la" and cells is not None:
            specs, pair_truth = with_local_truth(specs, cells, R, T)
        samples = [cut_sample(s, *images[s.pair.pair_id], R, T) for s in specs]
        removed = 0
        if check_truth and source in CHECKED_SOURCES:
            keep = truth_check(samples)
            removed = int((~keep).sum())
            samples = [s for s, k in zip(samples, keep) if k]
        out.append(SourceSamples(source, R, T, samples, len(specs), removed, pair_truth))
    if not out:
        raise InputError(f"no {role} pairs are large enough for a {R} px window under {data_root}")
    return out
