"""Training samples ``(template, reference, SAR template, truth)`` from folders of real pairs.

Pair sources (``find_pairs``):

* the ``s1s2_la`` GeoTIFF layout of ``core.samples`` (``<root>/s1s2_la/<tile>/<id>_opt.tif``,
  ``<id>_sar.tif``, ``<id>.json`` with the residual shift), found when ``<root>`` holds
  ``s1s2_la/``; the residual misregistration is corrected exactly as ``core.samples`` does;
* plain image pairs on one grid (PNG/TIF), by folder convention, for the public SEN1-2 and
  OSdataset layouts: a folder with sub-folders ``opt/`` and ``sar/`` holding files of the
  same name (OSdataset), or files named ``*_s2_*`` next to (or in a sibling folder ``s2_*``
  of) the matching ``*_s1_*`` (SEN1-2). Such pairs are taken as exactly aligned; SAR pixels
  are read as amplitude (8-bit PNG) and converted to dB.

Splits are by whole pairs with ``core.samples.split_of`` (a hash of the pair id), so a pair
is in the same split whichever other pairs are present.

Augmentation (``Augment``), each applied consistently with the truth:

* SAR: multiplicative gamma speckle of ``L`` looks on the *linear* intensity (the dB image
  is taken back to power, multiplied by ``Gamma(L, 1/L)``, and returned to dB), and a
  global gain in dB (removed again by normalisation, kept for realism);
* optical: a gamma change of the grey values and Gaussian noise of a random variance
  fraction (the paper's noise test, so the model learns to shrug it off);
* geometry: a small rotation (±3°) and scale change (±3 %) of the optical template about its
  centre. The SAR *target* (what the translation should look like) is warped alike; the
  reference window is not, so the truth of the template centre is unchanged.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ...core.dcdm.contract import prepare
from ...core.samples import DATASET_DIR, Pair, list_pairs, load_pair, split_of
from ...core.sources import SourcePair, local_truth
from ...core.sources import load as load_source

log = logging.getLogger("sarcoreg.models.data")

IMAGE_EXT = (".png", ".tif", ".tiff", ".jpg")


def _image_pairs(root: Path) -> List[Pair]:
    """Same-grid image pairs under ``root`` by the OSdataset / SEN1-2 folder conventions."""
    pairs = []
    for opt_dir in sorted(root.rglob("opt")):
        sar_dir = opt_dir.with_name("sar")
        if not (opt_dir.is_dir() and sar_dir.is_dir()):
            continue
        for opt in sorted(opt_dir.iterdir()):
            sar = sar_dir / opt.name
            if opt.suffix.lower() in IMAGE_EXT and sar.is_file():
                pid = str(opt.relative_to(root).with_suffix("")).replace("/opt/", "/").replace("opt/", "")
                pairs.append(Pair(pid, str(opt), str(sar), 0.0, 0.0, "amplitude"))
    for s1 in sorted(root.rglob("*_s1_*")):
        if s1.suffix.lower() not in IMAGE_EXT:
            continue
        name = s1.name.replace("_s1_", "_s2_")
        candidates = [s1.with_name(name),
                      s1.parent.with_name(re.sub(r"^s1_", "s2_", s1.parent.name)) / name]
        opt = next((c for c in candidates if c.is_file()), None)
        if opt is not None:
            pid = str(s1.relative_to(root).with_suffix("")).replace("_s1_", "_")
            pairs.append(Pair(pid, str(opt), str(s1), 0.0, 0.0, "amplitude"))
    return pairs


def find_pairs(root: str, split: str = "all") -> List[Pair]:
    """Every usable pair under ``root`` (see the module doc) in ``split`` (train/val/all)."""
    base = Path(root)
    pairs: List[Pair] = []
    if (base / DATASET_DIR).is_dir():
        pairs += list_pairs(str(base), split)
    others = [p for p in _image_pairs(base) if split == "all" or split_of(p.pair_id) == split]
    pairs += others
    if not pairs:
        raise FileNotFoundError(
            f"{root}: no optical-SAR pairs found (s1s2_la/, opt/+sar/ folders or *_s1_*/*_s2_* files)")
    return pairs


@dataclass(frozen=True)
class Augment:
    """Ranges of the random changes (0 disables one)."""

    rotate_deg: float = 3.0
    scale_frac: float = 0.03
    optical_noise_var: float = 0.3     # up to this fraction of the template variance
    optical_noise_p: float = 0.4
    optical_gamma: float = 0.3         # gamma in [1/(1+g), 1+g]
    speckle_p: float = 0.5
    speckle_looks: Tuple[float, float] = (3.0, 30.0)
    gain_db: float = 3.0


CELL_PX = 160      # side of the cells of ``PairBank``'s anchors (scripts/measure_residuals.py --la)


def add_speckle_db(sar_db: np.ndarray, looks: float, rng: np.random.Generator) -> np.ndarray:
    """``sar_db`` with multiplicative gamma speckle of ``looks`` applied to the linear power."""
    speckle = rng.gamma(looks, 1.0 / looks, size=sar_db.shape)
    return (sar_db + 10.0 * np.log10(speckle)).astype(np.float32)


def _warp(img: np.ndarray, angle_rad: float, scale: float, out_px: int,
          shift: Tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Centre ``out_px`` crop of ``img`` rotated by ``angle_rad`` and scaled about its centre,
    the centre moved by ``shift`` (rows, cols) input pixels (bilinear)."""
    from scipy.ndimage import affine_transform

    c, s = np.cos(angle_rad), np.sin(angle_rad)
    mat = np.array([[c, -s], [s, c]]) / scale                 # output (row, col) → input
    centre_in = (np.array(img.shape, float) - 1) / 2.0 + np.asarray(shift, float)
    centre_out = (out_px - 1) / 2.0
    offset = centre_in - mat @ np.array([centre_out, centre_out])
    return affine_transform(img, mat, offset=offset, output_shape=(out_px, out_px), order=1,
                            mode="reflect").astype(np.float32)


def source_of(p) -> str:
    """The source a pair is drawn for (``s1s2_la``, ``ombria``, or the first folder of its id)."""
    if isinstance(p, SourcePair):
        return p.source
    return DATASET_DIR if DATASET_DIR in Path(p.optical_path).parts else p.pair_id.split("/")[0]


def _template_bounds(H: int, W: int, R: int, T: int, margin: int, oy: int, ox: int, iy: int, ix: int):
    """``(lo_r, hi_r, lo_c, hi_c)``: where the optical template's top-left ``(r, c)`` may lie so
    that it (with ``margin``), its SAR (moved by ``(iy, ix)``) and the SAR window of top-left
    ``(r + iy - oy, c + ix - ox)`` all fit in an ``H`` × ``W`` pair."""
    return (max(margin, oy - iy, margin - iy), min(H - T - margin, H - R + oy - iy, H - T - margin - iy),
            max(margin, ox - ix, margin - ix), min(W - T - margin, W - R + ox - ix, W - T - margin - ix))


class PairBank:
    """The pixels of some pairs in memory and a seeded sampler of training crops.

    ``pairs``: ``Pair``s of ``find_pairs`` or ``core.sources.SourcePair``s (read with
    ``core.sources.load``). Each source (``s1s2_la``, ``ombria``, a folder of image pairs)
    is drawn equally often, and a pair within its source uniformly, so that many small
    pairs of one source do not crowd out a few large ones of another.

    ``anchors``: ``{pair_id: (n, 4) [cy, cx, dy, dx]}``, places of a pair with their own truth
    (the agreeing cells of ``scripts/measure_residuals.py --la``, ``CELL_PX`` wide). A pair
    listed there has its templates drawn inside one of its cells, with that cell's residual as
    the truth, instead of anywhere with the pair's one residual.

    ``anchor_mode``: ``"inside"`` (above) or ``"under"``: templates drawn anywhere, each with
    the truth of the agreeing cells under it where they agree with each other, else the pair's
    residual: the evaluation's ``local`` truth (``core.sources.local_truth``), so that the
    places where the classical matchers do not agree stay in training.
    """

    def __init__(self, pairs: Sequence, augment: Optional[Augment] = None, seed: int = 0,
                 anchors: Optional[Dict[str, np.ndarray]] = None, anchor_mode: str = "inside"):
        if anchor_mode not in ("inside", "under"):
            raise ValueError(f"anchor_mode {anchor_mode!r}: use inside or under")
        self.anchor_mode = anchor_mode
        self.pairs, self.images, sources = [], [], []
        for p in pairs:
            if isinstance(p, SourcePair):
                opt, sar = load_source(p)
                self.pairs.append(p.pair)
            else:
                opt, sar = load_pair(p)
                self.pairs.append(p)
            self.images.append((opt, sar))
            sources.append(source_of(p))
        counts = {k: sources.count(k) for k in set(sources)}
        w = np.array([1.0 / (counts[k] * len(counts)) for k in sources]) if sources else np.ones(0)
        self.weights = w / w.sum() if w.size else w
        self.augment = augment or Augment()
        self.rng = np.random.default_rng(seed)
        self.anchors = [None if anchors is None else anchors.get(p.pair_id) for p in self.pairs]

    def _pick(self) -> int:
        return int(self.rng.choice(len(self.pairs), p=self.weights))

    def sample(self, window_px: int, template_px: int, augment: bool = True):
        """One training sample: ``(template, reference, sar_template, true_row, true_col)``.

        ``template`` (T, T) optical and ``reference`` (R, R) SAR, both ``prepare``d;
        ``sar_template`` (T, T) is the SAR under the template at its true place (sub-pixel,
        bilinear), warped like the template; the truth is the template's top-left in the
        reference, in reference pixels (sub-pixel, after the residual correction).
        """
        R, T = int(window_px), int(template_px)
        rng, aug = self.rng, self.augment
        margin = int(np.ceil(T * 0.08)) + 2
        for _ in range(100):
            k = self._pick()
            pair, (opt, sar), cells = self.pairs[k], self.images[k], self.anchors[k]
            H, W = sar.shape
            cell = None if cells is None or self.anchor_mode == "under" else cells[int(rng.integers(len(cells)))]
            dy, dx = (pair.residual_dy_px, pair.residual_dx_px) if cell is None else (cell[2], cell[3])
            iy, ix = int(round(dy)), int(round(dx))
            oy, ox = (int(v) for v in rng.integers(0, R - T + 1, size=2))
            lo_r, hi_r, lo_c, hi_c = _template_bounds(H, W, R, T, margin, oy, ox, iy, ix)
            if lo_r > hi_r or lo_c > hi_c:
                continue
            if cell is None:
                r = int(rng.integers(lo_r, hi_r + 1))
                c = int(rng.integers(lo_c, hi_c + 1))
                local = local_truth(cells, r, c, T)
                if local is not None:
                    dy, dx = local
                    iy, ix = int(round(dy)), int(round(dx))
                    lo_r, hi_r, lo_c, hi_c = _template_bounds(H, W, R, T, margin, oy, ox, iy, ix)
                    if not (lo_r <= r <= hi_r and lo_c <= c <= hi_c):
                        continue
            else:
                # the template inside the cell (centred on it when it is the larger)
                j = max(0, (CELL_PX - T) // 2)
                r = int(round(cell[0] - T / 2)) + int(rng.integers(-j, j + 1))
                c = int(round(cell[1] - T / 2)) + int(rng.integers(-j, j + 1))
                if not (lo_r <= r <= hi_r and lo_c <= c <= hi_c):
                    continue
            opt_big = opt[r - margin:r + T + margin, c - margin:c + T + margin]
            sar_big = sar[r + iy - margin:r + iy + T + margin, c + ix - margin:c + ix + T + margin]
            ref = sar[r + iy - oy:r + iy - oy + R, c + ix - ox:c + ix - ox + R]
            if not (np.isfinite(opt_big).mean() > 0.9 and np.isfinite(ref).mean() > 0.9):
                continue
            break
        else:
            raise ValueError(f"no pair is large enough for a {R} px window")
        true_row = oy + (dy - iy)
        true_col = ox + (dx - ix)
        opt_big = np.nan_to_num(opt_big, nan=float(np.nanmean(opt_big)))
        sar_big = np.nan_to_num(sar_big, nan=float(np.nanmean(sar_big)))
        if augment:
            angle = np.deg2rad(rng.uniform(-aug.rotate_deg, aug.rotate_deg))
            scale = 1.0 + rng.uniform(-aug.scale_frac, aug.scale_frac)
        else:
            angle, scale = 0.0, 1.0
        # the SAR under the template at its exact place: the residual's fraction of a pixel
        # (up to ±0.5 px, a different one per pair) is interpolated, not rounded away; rounded,
        # it made every target a little off in its own direction and the translation blurred
        frac = (dy - iy, dx - ix)
        exact = augment or frac != (0.0, 0.0)
        tmpl = _warp(opt_big, angle, scale, T) if augment else opt_big[margin:-margin, margin:-margin]
        sar_t = _warp(sar_big, angle, scale, T, frac) if exact else sar_big[margin:-margin, margin:-margin]
        ref = np.array(ref, dtype=np.float32)
        if augment:
            lo, hi = np.nanpercentile(tmpl, [1, 99])
            u = np.clip((tmpl - lo) / max(hi - lo, 1e-6), 0, 1)
            g = (1 + aug.optical_gamma) ** rng.uniform(-1, 1)
            tmpl = (u ** g).astype(np.float32)
            if rng.random() < aug.optical_noise_p:
                var = rng.uniform(0, aug.optical_noise_var) * float(np.var(tmpl))
                tmpl = tmpl + rng.standard_normal(tmpl.shape).astype(np.float32) * np.float32(np.sqrt(var))
            if rng.random() < aug.speckle_p:
                ref = add_speckle_db(ref, rng.uniform(*aug.speckle_looks), rng)
            ref = ref + np.float32(rng.uniform(-aug.gain_db, aug.gain_db))
        return prepare(tmpl), prepare(ref), prepare(sar_t), float(true_row), float(true_col)

    def batch(self, n: int, window_px: int, template_px: int, augment: bool = True):
        """``n`` samples stacked: arrays ``(n, 1, T, T)``, ``(n, 1, R, R)``, ``(n, 1, T, T)``, ``(n, 2)``."""
        items = [self.sample(window_px, template_px, augment) for _ in range(n)]
        tm = np.stack([i[0] for i in items])[:, None]
        rf = np.stack([i[1] for i in items])[:, None]
        st = np.stack([i[2] for i in items])[:, None]
        truth = np.array([[i[3], i[4]] for i in items], dtype=np.float32)
        return tm, rf, st, truth

    def ae_batch(self, n: int, crop_px: int):
        """``n`` single-image crops (half SAR, half optical), ``prepare``d, ``(n, 1, P, P)``."""
        out = []
        for i in range(n):
            k = self._pick()
            img = self.images[k][1 if i % 2 == 0 else 0]
            H, W = img.shape
            r = int(self.rng.integers(0, H - crop_px + 1))
            c = int(self.rng.integers(0, W - crop_px + 1))
            out.append(prepare(img[r:r + crop_px, c:c + crop_px]))
        return np.stack(out)[:, None]


def describe(pairs: Sequence) -> str:
    """A one-line summary of ``pairs`` for the model card and the ONNX metadata."""
    groups: dict = {}
    for p in pairs:
        key = p.source if isinstance(p, SourcePair) else p.pair_id.split("/")[0]
        groups[key] = groups.get(key, 0) + 1
    return ", ".join(f"{k}: {v} pairs" for k, v in sorted(groups.items()))


def pair_ids_json(pairs: Sequence) -> str:
    return json.dumps(sorted(p.pair_id for p in pairs))
