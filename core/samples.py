"""Evaluation and training samples cut from real co-registered optical–SAR pairs.

The pairs are the ``s1s2_la`` set of the shared data folder (``<data_root>/s1s2_la/<tile>/``
holding ``<id>_opt.tif``, ``<id>_sar.tif`` and ``<id>.json``; see the data README). A
*sample* follows the evaluation protocol of DCDM.md: a SAR reference window ``R × R`` and an
optical template ``T × T`` whose true top-left position in the reference is
``(true_row, true_col)``; row/col follow the conventions of ``core/__init__``.

Residual misregistration: ``residual_shift_px = [dy, dx]`` says that optical content at
``(y, x)`` sits at ``(y + dy, x + dx)`` in the SAR. We never resample either image for it:
the reference window is cut at the integer part ``round(dy), round(dx)`` and the fractional
remainder is added to the truth. So a sample drawn with integer offset ``(oy, ox)`` has
``true_row = oy + (dy - round(dy))`` and ``true_col = ox + (dx - round(dx))``: both images
keep their native pixels (speckle statistics untouched, no interpolation blur), and the
truth is sub-pixel.

Splits are by whole pairs (overlapping crops of one pair never straddle two splits):
``split_of(pair_id)`` hashes the pair id, so it is deterministic and does not depend on
which other pairs are present.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np

from .errors import InputError
from .radiometry import to_db

log = logging.getLogger("sarcoreg.samples")

DATASET_DIR = "s1s2_la"
SPLITS = ("train", "val", "all")
VAL_FRACTION = 0.25
SETTINGS = ((256, 192), (512, 384))   # (window_px, template_px): published protocol, plugin


@dataclass(frozen=True)
class Pair:
    """One co-registered optical–SAR pair on disk (no pixels)."""

    pair_id: str                 # "<tile>/<id>", e.g. "T11SLT/003"
    optical_path: str
    sar_path: str
    residual_dy_px: float        # optical (y, x) sits at (y + dy, x + dx) in the SAR
    residual_dx_px: float
    sar_kind: str = "amplitude"  # the s1s2_la SAR is 8-bit stretched VH amplitude

    @property
    def split(self) -> str:
        return split_of(self.pair_id)


@dataclass(frozen=True)
class Sample:
    """One protocol sample: find ``template`` (optical grey) inside ``reference`` (SAR dB).

    ``template``: float32 ``(T, T)``; ``reference``: float32 ``(R, R)`` in dB; the truth is
    the sub-pixel top-left position of the template in the reference, ``(true_row,
    true_col)``, in reference pixels.
    """

    sample_id: str
    pair_id: str
    template: np.ndarray = field(repr=False, compare=False)
    reference: np.ndarray = field(repr=False, compare=False)
    true_row: float
    true_col: float

    @property
    def window_px(self) -> int:
        return int(self.reference.shape[0])

    @property
    def template_px(self) -> int:
        return int(self.template.shape[0])


@dataclass(frozen=True)
class SampleSpec:
    """Where a sample is cut: template top-left in the optical image, window in the SAR."""

    index: int
    pair: Pair
    opt_row: int
    opt_col: int
    sar_row: int
    sar_col: int
    true_row: float
    true_col: float


def split_of(pair_id: str, val_fraction: float = VAL_FRACTION) -> str:
    """``'val'`` or ``'train'`` for a pair id, from a hash of the id (stable across runs)."""
    digest = hashlib.sha256(pair_id.encode("utf-8")).hexdigest()
    return "val" if int(digest[:8], 16) / 0x100000000 < val_fraction else "train"


DEV_FRACTION = 0.12  # of the train split: the model's dev pairs (models/dcdm/train.py)

# Eleven s1s2_la pairs are stored twice, under T11SLT and T11SMT, with the same pixels (optical
# and SAR) and different georeferencing. The split hashes the name, so some twins fell on both
# sides (a val or dev pair whose twin trained the model). Only one copy is listed: the val or
# dev one where the split gave one, else T11SLT's. Dropped copy -> kept copy
# (tests/test_samples.py checks it against the pixels).
DUPLICATE_PAIRS = {
    "T11SLT/128": "T11SMT/128", "T11SLT/139": "T11SMT/139",
    "T11SMT/127": "T11SLT/127", "T11SMT/129": "T11SLT/129", "T11SMT/130": "T11SLT/130",
    "T11SMT/140": "T11SLT/140", "T11SMT/141": "T11SLT/141", "T11SMT/142": "T11SLT/142",
    "T11SMT/145": "T11SLT/145", "T11SMT/151": "T11SLT/151", "T11SMT/155": "T11SLT/155",
}


def split_train_dev(pairs):
    """``(train, dev)``: dev = the train-split pairs whose ``dev:`` hash falls in 12 %."""
    dev = [p for p in pairs if split_of("dev:" + p.pair_id, DEV_FRACTION) == "val"]
    return [p for p in pairs if p not in dev], dev


def list_pairs(data_root: str, split: str = "all") -> List[Pair]:
    """The ``s1s2_la`` pairs under ``data_root`` in ``split`` (``train``, ``val`` or ``all``).

    Pairs whose ``residual_shift_px`` is ``null`` (the upstream measurement failed, so there
    is no truth) are left out, and so is the second copy of a pair stored twice
    (``DUPLICATE_PAIRS``). Raises ``InputError`` when the folder or its pairs are missing.
    """
    if split not in SPLITS:
        raise InputError(f"split {split!r} is unknown: use one of {', '.join(SPLITS)}")
    root = Path(data_root)
    base = root / DATASET_DIR
    if not base.is_dir():
        raise InputError(
            f"{root}: holds no {DATASET_DIR}/ folder of optical-SAR pairs: pass the shared data "
            "folder (e.g. --data ../shared/data)")
    pairs, skipped = [], []
    for meta in sorted(base.glob("*/*.json")):
        opt = meta.with_name(meta.stem + "_opt.tif")
        sar = meta.with_name(meta.stem + "_sar.tif")
        if not (opt.is_file() and sar.is_file()):
            continue
        try:
            residual = json.loads(meta.read_text()).get("residual_shift_px")
        except (ValueError, AttributeError) as exc:
            raise InputError(f"{meta}: is not valid JSON ({exc}): restore the file") from None
        if residual is None:
            # the upstream measurement failed for this pair: no truth, so it cannot be scored
            skipped.append(meta.stem)
            continue
        try:
            dy, dx = (float(v) for v in residual)
        except (ValueError, TypeError) as exc:
            raise InputError(f"{meta}: residual_shift_px {residual!r} is not [dy, dx] ({exc}): restore the file") from None
        pair_id = f"{meta.parent.name}/{meta.stem}"
        if pair_id in DUPLICATE_PAIRS and (base / DUPLICATE_PAIRS[pair_id]).with_suffix(".json").is_file():
            continue
        pairs.append(Pair(pair_id, str(opt), str(sar), dy, dx))
    if skipped:
        log.debug("skipped %d pairs without a measured residual shift: %s", len(skipped), ", ".join(skipped))
    if not pairs:
        raise InputError(
            f"{base}: no pairs found (expected <tile>/<id>_opt.tif, <id>_sar.tif and <id>.json): "
            "check the data folder")
    chosen = [p for p in pairs if split == "all" or p.split == split]
    if not chosen:
        raise InputError(f"{base}: none of the {len(pairs)} pairs is in split {split!r}: use split 'all'")
    return chosen


def _read(path: str) -> np.ndarray:
    from .raster import open_raster  # GDAL is imported only when pixels are read

    ds = open_raster(path)
    stack = np.asarray(ds.ReadAsArray(), dtype=np.float32)
    if stack.ndim == 2:
        stack = stack[None]
    for b in range(stack.shape[0]):
        band = ds.GetRasterBand(b + 1)
        nodata = band.GetNoDataValue()
        if nodata is not None and np.isfinite(nodata):
            stack[b][stack[b] == np.float32(nodata)] = np.nan
    del ds
    return stack


def load_pair(pair: Pair) -> Tuple[np.ndarray, np.ndarray]:
    """``(optical_grey, sar_db)``, float32 ``(H, W)`` each, NaN for nodata.

    Optical grey is the mean of the optical bands (RGB for ``s1s2_la``); the SAR band is
    converted to dB from ``pair.sar_kind`` with ``radiometry.to_db``.
    """
    opt = _read(pair.optical_path).mean(axis=0)
    sar = to_db(_read(pair.sar_path)[0], pair.sar_kind)
    if opt.shape != sar.shape:
        raise InputError(
            f"{pair.pair_id}: optical {opt.shape} and SAR {sar.shape} differ in size: the pair "
            "must share one grid")
    return opt.astype(np.float32), sar


def _pair_shape(pair: Pair) -> Tuple[int, int]:
    from .raster import open_raster

    ds = open_raster(pair.sar_path)
    shape = (ds.RasterYSize, ds.RasterXSize)
    del ds
    return shape


def sample_specs(pairs: Sequence[Pair], window_px: int, template_px: int, n_samples: int,
                 seed: int = 0, shapes: Optional[Sequence[Tuple[int, int]]] = None,
                 skip_unfit: bool = False) -> List[SampleSpec]:
    """Draw ``n_samples`` sample positions over ``pairs`` (round-robin in a seeded order).

    Each sample draws its integer offset ``(oy, ox)`` uniformly in ``[0, R - T]²`` and then
    the template position uniformly among those that keep both the template and the
    reference window inside the pair. Deterministic for a given ``seed`` and inputs.
    ``shapes`` gives each pair's ``(H, W)``; it is read from the files when omitted. A draw
    whose window does not fit in its pair raises ``InputError``, or with ``skip_unfit`` is
    left out (so fewer specs may come back).
    """
    R, T = int(window_px), int(template_px)
    if not 8 <= T <= R:
        raise InputError(f"template {T} px must be between 8 px and the window {R} px")
    if not pairs:
        raise InputError("no pairs to sample from")
    if shapes is None:
        shapes = [_pair_shape(p) for p in pairs]
    rng = np.random.default_rng([int(seed), R, T])
    order = rng.permutation(len(pairs))
    specs = []
    for k in range(int(n_samples)):
        p_index = int(order[k % len(pairs)])
        pair, (H, W) = pairs[p_index], shapes[p_index]
        iy, ix = int(round(pair.residual_dy_px)), int(round(pair.residual_dx_px))
        oy, ox = (int(v) for v in rng.integers(0, R - T + 1, size=2))
        lo_r, hi_r = max(0, oy - iy), min(H - T, H - R + oy - iy)
        lo_c, hi_c = max(0, ox - ix), min(W - T, W - R + ox - ix)
        if lo_r > hi_r or lo_c > hi_c:
            if skip_unfit:
                continue
            raise InputError(f"{pair.pair_id}: {H}x{W} px is too small for a {R} px window")
        opt_row = int(rng.integers(lo_r, hi_r + 1))
        opt_col = int(rng.integers(lo_c, hi_c + 1))
        specs.append(SampleSpec(
            index=k, pair=pair, opt_row=opt_row, opt_col=opt_col,
            sar_row=opt_row + iy - oy, sar_col=opt_col + ix - ox,
            true_row=oy + (pair.residual_dy_px - iy), true_col=ox + (pair.residual_dx_px - ix)))
    return specs


def cut_sample(spec: SampleSpec, optical: np.ndarray, sar: np.ndarray, window_px: int, template_px: int) -> Sample:
    """Cut the sample described by ``spec`` from the pair's loaded images."""
    R, T = int(window_px), int(template_px)
    template = optical[spec.opt_row:spec.opt_row + T, spec.opt_col:spec.opt_col + T]
    reference = sar[spec.sar_row:spec.sar_row + R, spec.sar_col:spec.sar_col + R]
    return Sample(
        sample_id=f"{spec.pair.pair_id}#{spec.index}", pair_id=spec.pair.pair_id,
        template=np.ascontiguousarray(template, dtype=np.float32),
        reference=np.ascontiguousarray(reference, dtype=np.float32),
        true_row=float(spec.true_row), true_col=float(spec.true_col))


def iter_samples(data_root: str, window_px: int, template_px: int, n_samples: int,
                 seed: int = 0, split: str = "val") -> Iterator[Sample]:
    """Yield ``n_samples`` protocol samples from the pairs of ``split`` under ``data_root``.

    Samples of one pair come together (each pair is read once); the set and order are
    deterministic for given arguments.
    """
    pairs = list_pairs(data_root, split)
    specs = sample_specs(pairs, window_px, template_px, n_samples, seed)
    by_pair: dict = {}
    for s in specs:
        by_pair.setdefault(s.pair.pair_id, []).append(s)
    for group in by_pair.values():
        optical, sar = load_pair(group[0].pair)
        for spec in group:
            yield cut_sample(spec, optical, sar, window_px, template_px)
