"""The DCDM matcher on ONNX Runtime: translate the optical template into SAR appearance, then
match the translation against the SAR window with ZNCC (no torch).

``DcdmMatcher.match(template, reference) -> Match`` follows ``core.matchers.base``:

1. both images are prepared as the model's contract says (``contract.prepare``); the
   template is used in its top-left ``T' × T'`` part with ``T'`` the largest multiple of 16
   (the grid) not above ``T``, the reference in its top-left ``R'`` part (``R' - T'`` a
   multiple of 8; the reference is padded with zeros, i.e. its mean, when the search range
   is too small for the model's top-k attention);
2. the condition graph encodes the template and the reference and runs the sparse
   cross-attention with its calibration block once; the DDIM loop
   (``schedule.ddim_step``, eta = 0, from the fixed ``x_T``) calls the denoiser graph
   ``sample_steps`` times; the decoder graph turns the final x0 into the translated template;
3. ZNCC of the translation (NaN where the template is NaN) in the prepared reference
   (``kernels.zncc_surface``), optionally mixed with the CFOG descriptor surface
   (``fuse_cfog``), then the sub-pixel peak and its confidence (``common.finish_match``).

``row, col`` are the template's top-left position in the reference (``core/__init__``
conventions). ``Match.translated`` holds the translated template (``T × T``, NaN outside
``T' × T'``).

The ONNX files and sessions come from ``runtime.open_model``. ``match_many`` translates
``batch_size`` windows of one size per model call, and one call runs at a time per matcher.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from typing import Dict, List, Optional, Tuple

import numpy as np

from .. import notes
from ..errors import InputError, ModelError
from ..matchers.base import Match
from ..matchers.common import HelperThread, check_pair, finish_match, input_status
from ..matchers.kernels import peak_subpixel, shift_image, zncc_surface
from ..stages import stage
from .contract import Contract, prepare
from .runtime import MODEL_DIR_ENV, PROVIDERS, available, default_model_dir, model_files, open_model
from .schedule import alphas_cumprod, ddim_step, ddim_timesteps, fixed_noise, timestep_embedding

# the model-file helpers live in ``runtime``; the registry asks this module for ``available``
__all__ = ["DcdmMatcher", "Translation", "displacement_prior", "GPU_BATCH", "MODEL_DIR_ENV", "PROVIDERS",
           "available", "default_model_dir", "model_files"]

log = logging.getLogger("sarcoreg.dcdm")

GPU_BATCH = 16          # windows per call on CUDA
# the translation matched on its own: no classical surface fused, no guard, no snap
TRANSLATION_ALONE = {"fuse_cfog": 0.0, "guard_px": 0.0, "snap_px": 0.0, "agreement_px": 0.0}
_CLASSICAL_HELPER = HelperThread("sarcoreg-classical")
# with the agreement on, a window whose translation alone and classical part put their peaks
# farther apart than this is flagged unsure (a note; the answer is kept): issue 14's failure
# distance, one of the two views misses by at least half of it
UNSURE_APART_PX = 5.0


def _size_table(value, name: str, where: str) -> Tuple[Tuple[int, float], ...]:
    """``((template_px, value), ...)`` from one number or ``{"<template px>": number, ...}``."""
    try:
        if isinstance(value, dict):
            table = tuple(sorted((int(k), float(v)) for k, v in value.items()))
        else:
            table = ((0, float(value)),)
    except (TypeError, ValueError):
        raise ModelError(f"{where}: {name} {value!r} is neither a number nor {{template px: number}}: "
                         "re-export the model") from None
    if not table:
        raise ModelError(f"{where}: {name} is an empty table: re-export the model")
    return table


def _fuse_table(value, where: str) -> Tuple[Tuple[int, float], ...]:
    """``((template_px, weight), ...)`` from a ``fuse_cfog`` that is one weight for every
    size or ``{"<template px>": weight, ...}`` (tuned per size on the dev pairs)."""
    table = _size_table(value, "fuse_cfog", where)
    if not all(0.0 <= w <= 1.0 for _, w in table):
        raise InputError(f"fuse_cfog {value!r}: weights must be in [0, 1]")
    return table


@dataclasses.dataclass(frozen=True)
class Translation:
    """What the model produced for one pair (arrays of the cropped sizes)."""

    image: np.ndarray          # (T', T') translated template, normalised SAR units
    att_raw: np.ndarray        # (h·w, ny·nx) head-averaged attention (queries × displacements)
    att_cal: np.ndarray        # same after the calibration block
    grid: Tuple[int, int, int, int]   # (h, w, ny, nx): query grid and displacement grid, cells


def displacement_prior(tr: Translation, n_out: int) -> np.ndarray:
    """The calibrated attention's displacement distribution on the pixel offsets ``(n_out, n_out)``.

    Mean of ``att_cal`` over the template tokens → ``(ny, nx)`` over 8-px cells; a pixel
    offset ``(i, j)`` reads it bilinearly at ``(i / 8, j / 8)``; scaled to a maximum of 1.
    """
    h, w, ny, nx = tr.grid
    p = tr.att_cal.mean(axis=0).reshape(ny, nx).astype(np.float64)
    pos = np.arange(n_out) / 8.0
    r0 = np.clip(np.floor(pos).astype(int), 0, ny - 1)
    r1 = np.clip(r0 + 1, 0, ny - 1)
    fr = np.clip(pos - r0, 0, 1)
    c0 = np.clip(np.floor(pos).astype(int), 0, nx - 1)
    c1 = np.clip(c0 + 1, 0, nx - 1)
    fc = np.clip(pos - c0, 0, 1)
    rows = p[r0] * (1 - fr)[:, None] + p[r1] * fr[:, None]
    out = rows[:, c0] * (1 - fc)[None] + rows[:, c1] * fc[None]
    return (out / max(float(out.max()), 1e-12)).astype(np.float32)


class DcdmMatcher:
    """ONNX Runtime DCDM matcher (see the module doc).

    ``provider``: ``auto`` (CUDA when this onnxruntime has it, else CPU), ``cuda`` or ``cpu``.
    After construction ``provider`` is the provider actually used (``"cuda"`` or ``"cpu"``)
    and ``provider_note`` says why the GPU is not used (empty when it is).
    ``model_dir``: folder of the ONNX files (default ``default_model_dir()``).
    ``threads``: intra-op threads (default: the cores, at most 4).
    ``precision``: ``auto`` (a faster variant, ``light`` / ``int8`` / ``fp16``, when its parity
    gate passed and it measured faster, else float32), ``fp32``, or one variant (see ``runtime``).
    ``fuse_cfog`` and ``attention_prior`` default to the values stored with the model
    (metadata ``matching``, chosen on the dev pairs), else 0.
    ``fuse_cfog``: weight in ``[0, 1]`` of the classical part's surface mixed into the
    translation's ZNCC surface (0: translation only), or ``{template px: weight}`` when it
    was tuned per template size (linear in between, see ``fuse_weight``).
    ``attention_prior``: weight of the calibrated attention's displacement distribution
    (mean over template tokens, interpolated from the 8-px cells to pixels, scaled to a
    maximum of 1) added to the surface (0: off).
    ``exclusion_radius_px``: radius around the peak ignored when looking for a rival peak.
    ``batch_size``: windows translated per ONNX Runtime call by ``match_many`` (default
    ``GPU_BATCH`` on CUDA, 1 on the CPU, where batching measured no gain).
    ``classical`` / ``classical_options``: the classical matcher whose surface is fused
    (default: the model's metadata ``matching.classical``, else ``cfog`` as registered).
    ``guard_px``: when the fused peak lies farther than this from the classical part's own
    peak, the classical answer is kept with half its confidence and a ``note`` (the window is
    flagged, not hidden), so fusion cannot add gross errors the classical part does not make
    (default: the model's metadata ``matching.guard_px``, else 0 = off).
    ``snap_px``: where the fused peak lies within this of the classical part's peak, the
    answer is the classical peak's sub-pixel position with the fused confidence (the fusion
    places the peak, the classical part refines it); one value, or ``{template px: value}``
    (the nearest tuned size applies; default: the metadata's ``matching.snap_px``, else 0 = off).
    ``translation_shift_px``: ``(rows, cols)`` by which the model's translation is moved
    before it is matched: the model's own systematic sub-pixel displacement of its output,
    measured without truth by ``scripts/choose_on_dev.py`` (the translation of a flipped pair,
    flipped back, is displaced the other way) and stored with the model (default: the
    metadata's ``matching.translation_shift_px``, else none).
    ``agreement_px``: the confidence also asks whether the translation alone and the classical
    part, two unrelated views of the pair, put the peak at the same place: it is multiplied by
    ``(1 + a) / 2`` with ``a = 1 / (1 + (d / agreement_px)²)`` and ``d`` the distance between
    their peaks, so it is kept where they agree and halved where they are far apart (chosen on
    dev by ``scripts/confidence_study.py``; default: the metadata's ``matching.agreement_px``,
    else 0 = off). Where they lie more than ``UNSURE_APART_PX`` apart the window is also
    flagged with a ``note`` (``report.json`` lists it under ``unsure_windows``); its answer is kept.
    """

    name = "dcdm"

    def __init__(self, provider: str = "auto", model_dir: Optional[str] = None, threads: Optional[int] = None,
                 fuse_cfog: Optional[float] = None, attention_prior: Optional[float] = None,
                 exclusion_radius_px: float = 4.0, batch_size: Optional[int] = None,
                 classical: Optional[str] = None, classical_options: Optional[dict] = None,
                 guard_px: Optional[float] = None, precision: str = "auto",
                 translation_shift_px: Optional[Tuple[float, float]] = None, snap_px=None,
                 agreement_px: Optional[float] = None):
        model = open_model(model_dir, provider, threads, precision)
        self.precision = model.precision            # graph file opened: fp32, or a gated variant
        self.precision_note = model.precision_note
        self.layout = model.layout
        self.sessions = model.sessions
        self.contract: Contract = model.contract
        self.model_version = model.contract.model_version
        self.provider = model.provider
        self.provider_note = model.provider_note
        self.threads = model.threads
        where = str(model.paths[0])
        # one model call at a time: each call already uses every intra-op thread, and
        # concurrent calls from the window threads multiplied the memory (4 window threads:
        # 1.5 GB instead of 0.7 GB) without being faster; the numpy part still overlaps
        self._run_lock = threading.Lock()
        if batch_size is not None and int(batch_size) < 1:
            raise InputError(f"batch size {batch_size} must be at least 1")
        self.batch_size = int(batch_size or (GPU_BATCH if self.provider == "cuda" else 1))
        # the surface fusion weights chosen on the dev pairs travel in the metadata ("matching")
        try:
            tuned = json.loads(self.contract.raw.get("matching", "{}"))
        except ValueError:
            raise ModelError(f"{where}: metadata 'matching' is not JSON: re-export the model") from None
        # "fuse_classical" (the weight of the classical part); models before it was configurable say "fuse_cfog"
        stored = tuned.get("fuse_classical", tuned.get("fuse_cfog", 0.0))
        self.fuse_table = _fuse_table(stored if fuse_cfog is None else fuse_cfog, where)
        self.attention_prior = float(tuned.get("attention_prior", 0.0) if attention_prior is None else attention_prior)
        if not self.attention_prior >= 0.0:
            raise InputError(f"attention_prior {self.attention_prior} must be >= 0")
        self.exclusion_radius_px = float(exclusion_radius_px)
        # the classical part of the fused surface and the guard, chosen on the dev split
        # (scripts/choose_on_dev.py) and stored with the model; older models: shipped CFOG, no guard
        part = tuned.get("classical") or {}
        self.classical = str(classical or part.get("matcher", "cfog"))
        self.classical_options = dict(part.get("options", {}) if classical_options is None else classical_options)
        self.guard_px = float(tuned.get("guard_px", 0.0) if guard_px is None else guard_px)
        if not self.guard_px >= 0.0:
            raise InputError(f"guard_px {self.guard_px} must be >= 0 (0: off)")
        self.snap_table = _size_table(tuned.get("snap_px", 0.0) if snap_px is None else snap_px, "snap_px", where)
        if not all(v >= 0.0 for _, v in self.snap_table):
            raise InputError(f"snap_px {snap_px!r}: distances must be >= 0 (0: off)")
        self.agreement_px = float(tuned.get("agreement_px", 0.0) if agreement_px is None else agreement_px)
        if not self.agreement_px >= 0.0:
            raise InputError(f"agreement_px {self.agreement_px} must be >= 0 (0: off)")
        shift = tuned.get("translation_shift_px", (0.0, 0.0)) if translation_shift_px is None else translation_shift_px
        try:
            self.translation_shift_px = tuple(float(v) for v in shift)
        except (TypeError, ValueError):
            raise InputError(f"translation_shift_px {shift!r} is not (rows, cols)") from None
        if len(self.translation_shift_px) != 2 or not all(abs(v) <= 2.0 for v in self.translation_shift_px):
            raise InputError(f"translation_shift_px {shift!r} must be (rows, cols), each within ±2 px")
        s = self.contract.schedule
        self._abar = alphas_cumprod(s)
        self._steps = ddim_timesteps(s)
        self._embs = timestep_embedding(self._steps, self.contract.time_dim)
        self._classical = None                 # built on first use (the benchmarks swap kernels before it)
        self._classical_lock = threading.Lock()
        log.info("DCDM %s (%s layout, %s graph) on %s%s", self.model_version, self.layout, self.precision,
                 self.provider, f" ({self.provider_note})" if self.provider_note else "")

    def facts(self) -> dict:
        """What ``report.json`` records about this matcher beyond its name and versions."""
        return {"classical": self.classical, "guard_px": self.guard_px,
                "snap_px": {str(t): v for t, v in self.snap_table} if len(self.snap_table) > 1 else self.snap_table[0][1],
                "translation_shift_px": list(self.translation_shift_px), "agreement_px": self.agreement_px}

    def snap(self, template_px: int) -> float:
        """The snap distance for a template of ``template_px``: that of the nearest tuned size."""
        return min(self.snap_table, key=lambda tv: abs(tv[0] - template_px))[1]

    def fuse_weight(self, template_px: int) -> float:
        """CFOG weight for a template of ``template_px``: linear between the tuned sizes,
        constant beyond them."""
        sizes = [t for t, _ in self.fuse_table]
        return float(np.interp(template_px, sizes, [w for _, w in self.fuse_table]))

    # ----------------------------------------------------------------- translation
    def _sizes(self, t: int, r: int) -> Tuple[int, int, int]:
        """``(T', R', pad)``: template side used, reference side used, zero padding added."""
        grid, stride = self.contract.grid_px, self.contract.stride_px
        t_used = (t // grid) * grid
        if t_used < grid:
            raise InputError(f"template {t} px is smaller than the model grid {grid} px")
        r_used = t_used + ((r - t_used) // stride) * stride
        need = t_used + (self.contract.min_search_cells - 1) * stride
        pad = max(0, need - r_used)
        return t_used, r_used, pad

    def translate(self, template: np.ndarray, reference: np.ndarray) -> Translation:
        """Run the model on a raw template (optical grey) and reference (SAR dB), square."""
        return self.translate_many([template], [reference])[0]

    def translate_many(self, templates: List[np.ndarray], references: List[np.ndarray]) -> List[Translation]:
        """``translate`` for pairs of one size, in one ONNX Runtime call (one batch)."""
        return self._translate([prepare(t) for t in templates], [prepare(r) for r in references])

    def _translate(self, templates: List[np.ndarray], references: List[np.ndarray]) -> List[Translation]:
        """``translate_many`` on inputs already through ``contract.prepare``."""
        sizes = {self._sizes(t.shape[0], r.shape[0]) for t, r in zip(templates, references)}
        if len(sizes) != 1:
            raise InputError(f"one batch needs pairs of one size, got {sorted(sizes)}")
        t_used, r_used, pad = sizes.pop()
        tm = np.stack([t[:t_used, :t_used][None] for t in templates])
        rf = np.stack([r[:r_used, :r_used][None] for r in references])
        if pad:
            rf = np.pad(rf, ((0, 0), (0, 0), (0, pad), (0, pad)))
        rf = np.ascontiguousarray(rf, dtype=np.float32)
        tm = np.ascontiguousarray(tm, dtype=np.float32)
        b = len(templates)
        h = t_used // self.contract.stride_px
        x_T = np.ascontiguousarray(np.broadcast_to(
            fixed_noise((self.contract.latent_ch, h, h), self.contract.schedule)[None], (b, self.contract.latent_ch, h, h)))
        with self._run_lock, stage("model"):
            image, att_raw, att_cal = self._run(tm, rf, x_T, b)
        hr = rf.shape[-1] // self.contract.stride_px
        n = hr - h + 1
        return [Translation(image[k, 0], att_raw[k], att_cal[k], (h, h, n, n)) for k in range(b)]

    def _run(self, tm: np.ndarray, rf: np.ndarray, x_T: np.ndarray, b: int):
        """``(image, att_raw, att_cal)`` of one batch from the ONNX graph(s)."""
        if self.layout == "unrolled":
            return self.sessions["unrolled"].run(None, {"template": tm, "reference": rf, "x_T": x_T})
        opt_feat, attended, att_raw, att_cal = self.sessions["condition"].run(
            None, {"template": tm, "reference": rf})
        x = x_T
        for i, t in enumerate(self._steps):
            (x0,) = self.sessions["denoiser"].run(
                None, {"x_t": x, "t_emb": np.repeat(self._embs[i:i + 1], b, axis=0), "opt_feat": opt_feat,
                       "attended": attended})
            abar_prev = float(self._abar[self._steps[i + 1]]) if i + 1 < len(self._steps) else 1.0
            x = ddim_step(x, x0, float(self._abar[t]), abar_prev).astype(np.float32)
        (image,) = self.sessions["decoder"].run(None, {"latent": x})
        return image, att_raw, att_cal

    # ----------------------------------------------------------------- matching
    def match(self, template: np.ndarray, reference: np.ndarray) -> Match:
        return self.match_many([(template, reference)])[0]

    def match_many(self, pairs) -> List[Match]:
        """``match`` for many ``(template, reference)`` pairs, translated ``batch_size`` at a time.

        The result of each pair is the same as ``match`` gives it alone (the graph treats the
        batch items independently); ``seconds`` is the batch's time shared among its pairs.
        """
        out: List[Optional[Match]] = [None] * len(pairs)
        todo: Dict[Tuple[int, int, int], List[Tuple[int, np.ndarray, np.ndarray, np.ndarray]]] = {}
        for k, (template, reference) in enumerate(pairs):
            start = time.perf_counter()
            t, r = check_pair(template, reference)
            if t.shape[0] != t.shape[1] or r.shape[0] != r.shape[1]:
                out[k] = Match.failed(f"shape: dcdm needs square windows, got {t.shape} and {r.shape}",
                                      time.perf_counter() - start)
                continue
            reason = input_status(t, r)
            if reason:
                out[k] = Match.failed(reason, time.perf_counter() - start)
                continue
            try:
                key = self._sizes(t.shape[0], r.shape[0])
            except InputError as exc:
                out[k] = Match.failed(f"size: {exc}", time.perf_counter() - start)
                continue
            # the prepared reference feeds both the model and the ZNCC of its translation
            todo.setdefault(key, []).append((k, t, r, prepare(r)))
        for items in todo.values():
            for i in range(0, len(items), self.batch_size):
                chunk = items[i:i + self.batch_size]
                start = time.perf_counter()
                # the classical part does not need the translation: it runs on the helper
                # thread (when free) while ONNX Runtime translates
                classical = [self._classical_soon(t, r) for _, t, r, _ in chunk]
                trs = self._translate([prepare(t) for _, t, _, _ in chunk], [rp for _, _, _, rp in chunk])
                share = (time.perf_counter() - start) / len(chunk)
                for (k, t, r, rp), tr, c in zip(chunk, trs, classical):
                    out[k] = self._finish(t, r, rp, tr, time.perf_counter() - share,
                                          c.result() if c is not None else None)
        return out  # type: ignore[return-value]

    def match_translation(self, template: np.ndarray, reference: np.ndarray, translation: Translation) -> Match:
        """The match of a pair from its ``translate`` result, finished as ``match`` does (the
        translation's surface, the fusion, guard and snap of this matcher): for analyses that
        translate a pair once and match it several ways."""
        start = time.perf_counter()
        t, r = check_pair(template, reference)
        return self._finish(t, r, prepare(r), translation, start)

    def _classical_soon(self, t: np.ndarray, r: np.ndarray):
        """The classical part's match of one pair started on the helper thread, when the
        fusion or the guard needs it and the helper is free; else ``None``."""
        if not self._needs_classical(t.shape[0]):
            return None
        return _CLASSICAL_HELPER.try_submit(self._classical_match, t, r)

    def _needs_classical(self, template_px: int) -> bool:
        """Whether the fusion, the guard, the snap or the agreement uses the classical part's match."""
        return (self.fuse_weight(template_px) > 0 or self.guard_px > 0 or self.snap(template_px) > 0
                or self.agreement_px > 0)

    def _finish(self, t: np.ndarray, r: np.ndarray, r_prepared: np.ndarray, tr: Translation,
                start: float, classical: Optional[Match] = None) -> Match:
        """Similarity surface of one translation in its reference, peak and confidence
        (``classical``: the classical part's match of the pair when it was computed already)."""
        t_used = tr.image.shape[0]
        aligned = self.aligned(tr.image)
        translated = aligned.copy()
        translated[~np.isfinite(t[:t_used, :t_used])] = np.nan
        ref_prepared = np.where(np.isfinite(r), r_prepared, np.float32(np.nan))
        n_out = r.shape[0] - t.shape[0] + 1
        surface = zncc_surface(translated, ref_prepared)[:n_out, :n_out]
        w = self.fuse_weight(t.shape[0])
        if classical is None and self._needs_classical(t.shape[0]):
            classical = self._classical_match(t, r)
        agreement, views_apart = self._agreement(surface, classical)
        if w > 0:
            surface = (1 - w) * surface + w * self._classical_surface(classical, t, r)
        if self.attention_prior > 0:
            surface = surface + self.attention_prior * displacement_prior(tr, n_out)
        m = finish_match(surface.astype(np.float32), self.exclusion_radius_px, start)
        if classical is not None and classical.ok and m.ok:
            apart = float(np.hypot(m.row - classical.row, m.col - classical.col))
            if 0 < self.guard_px < apart:
                # the translation pulled the peak away from where the classical part is sure:
                # keep the classical answer, and halve the confidence so the window is flagged
                m = dataclasses.replace(
                    classical, confidence=0.5 * classical.confidence,
                    note=notes.GUARD.format(classical=self.classical, apart=apart))
            elif apart <= self.snap(t.shape[0]):
                # the same peak: the classical surface places it more precisely
                m = dataclasses.replace(m, row=classical.row, col=classical.col)
        if agreement < 1.0 and m.ok:
            m = dataclasses.replace(m, confidence=float(m.confidence * agreement))
            if views_apart > UNSURE_APART_PX and not m.note:
                m = dataclasses.replace(m, note=notes.UNSURE.format(classical=self.classical, apart=views_apart))
        full = np.full(t.shape, np.nan, dtype=np.float32)
        full[:t_used, :t_used] = aligned
        return dataclasses.replace(m, translated=full, seconds=time.perf_counter() - start)

    def _agreement(self, translation_surface: np.ndarray, classical: Optional[Match]) -> Tuple[float, float]:
        """``(factor, distance)``: the confidence's factor in ``[1/2, 1]`` for how far the
        translation alone's peak lies from the classical part's, and that distance in px
        (``(1, 0)`` when ``agreement_px`` is off or the classical part found no peak)."""
        if not self.agreement_px > 0 or classical is None or not classical.ok:
            return 1.0, 0.0
        row, col, _ = peak_subpixel(translation_surface)
        if not (np.isfinite(row) and np.isfinite(col)):
            return 0.5, float("inf")
        d = float(np.hypot(row - classical.row, col - classical.col))
        return 0.5 * (1.0 + 1.0 / (1.0 + (d / self.agreement_px) ** 2)), d

    def aligned(self, image: np.ndarray) -> np.ndarray:
        """The model's translation moved by ``translation_shift_px`` (float32, a copy)."""
        dr, dc = self.translation_shift_px
        if dr or dc:
            return shift_image(image, dr, dc)
        return image.astype(np.float32)

    def _classical_match(self, template: np.ndarray, reference: np.ndarray) -> Match:
        with self._classical_lock:        # the helper thread and the callers share it
            if self._classical is None:
                from ..matchers import get_matcher
                self._classical = get_matcher(self.classical, **self.classical_options)
        return self._classical.match(template, reference)

    @staticmethod
    def _classical_surface(m: Match, template: np.ndarray, reference: np.ndarray) -> np.ndarray:
        if m.similarity is None:
            return np.zeros((reference.shape[0] - template.shape[0] + 1,) * 2, dtype=np.float32)
        return np.nan_to_num(m.similarity, nan=0.0)
