"""The evaluation protocol on your own co-registered pairs: ``evaluate_pairs(pairs_csv, ...)``.

How well does each matcher find a template on *your* sensors and places? Give pairs whose
alignment you know (ortho-rectified products on one grid, or pairs you co-registered by
hand) in a CSV, and every matcher is scored on the same samples by the protocol of DCDM.md
(``core.evaluate``): CMR(1/3/5), RMSE(all), time per sample and the confidence's AUC, per
pair and over all pairs.

The CSV is the batch's (``core.batch_files``: ``optical,sar[,name]``, optional header,
paths relative to the CSV) with three optional columns, taken by name from the header:

* ``dy``, ``dx``: the known residual in working-grid pixels (optical content at ``(y, x)``
  sits at ``(y + dy, x + dx)`` in the SAR, as ``s1s2_la``'s ``residual_shift_px``); 0 when
  absent: the pair is taken as aligned;
* ``sar_kind``: ``amplitude``, ``power``, ``db`` or ``auto`` (default: ``db`` for float
  data with negative values, else amplitude).

Pixels are read as ``sarcoreg coregister`` reads them: georeferenced pairs go onto the
working grid of the engine (``core.grid.build_working_grid``: the optical CRS, or its UTM
zone when geographic, at the coarser of the two pixel sizes), window by window, so a whole
scene never sits in memory. A pair without georeferencing (e.g. PNG chips) is taken as one
grid when both images have the same size. Optical grey is the mean of the red, green and
blue bands (by the raster's colour names, else its first three, or its one band), the SAR
the first band in dB.

Samples are drawn per pair (``core.samples.sample_specs``, seeded) at each setting the pair
is large enough for; a draw with more than a tenth nodata in its template or window is
replaced by the next one, and the report says how many were replaced.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from .batch_files import read_pairs
from .errors import InputError
from .evaluate import MatcherScore, _fmt, _matchers, _predict, metric_cells, scores_by_group
from .feedback import Feedback, NullFeedback, check_cancel
from .matchers import AGREEING_PAIRS, Matcher
from .radiometry import SAR_KINDS
from .samples import SETTINGS, Pair, Sample, sample_specs

log = logging.getLogger("sarcoreg.pairs_eval")

MAX_NODATA = 0.1          # a sample with more nodata than this (template or window) is redrawn
DRAWS_PER_SAMPLE = 8      # draws tried per sample wanted before a pair is given up at a setting
OVERALL = "overall"


@dataclass(frozen=True)
class EvalPair:
    """One row of the pairs CSV with its truth."""

    name: str
    optical: str
    sar: str
    dy: float
    dx: float
    sar_kind: str
    line: int

    @property
    def pair(self) -> Pair:
        """As ``core.samples`` draws samples from it (its pixels are read otherwise)."""
        return Pair(self.name, self.optical, self.sar, self.dy, self.dx, "db")


def read_eval_pairs(pairs_csv) -> List[EvalPair]:
    """The pairs of ``pairs_csv`` (see the module doc); ``InputError`` on a bad file or value."""
    out = []
    for s in read_pairs(pairs_csv):
        cells = dict(s.extra)
        try:
            dy, dx = (float(cells.get(k) or 0.0) for k in ("dy", "dx"))
        except ValueError:
            raise InputError(f"{pairs_csv} line {s.line}: dy {cells.get('dy')!r} / dx {cells.get('dx')!r} "
                             "are not numbers: give the known residual in pixels, or leave them empty for 0") from None
        if not (np.isfinite(dy) and np.isfinite(dx)):
            raise InputError(f"{pairs_csv} line {s.line}: dy / dx must be finite numbers of pixels")
        kind = (cells.get("sar_kind") or "auto").lower()
        if kind not in SAR_KINDS + ("auto",):
            raise InputError(f"{pairs_csv} line {s.line}: sar_kind {kind!r} is unknown: use "
                             f"{', '.join(SAR_KINDS)} or auto")
        out.append(EvalPair(s.name, s.optical, s.sar, dy, dx, kind, s.line))
    return out


# --------------------------------------------------------------------------- reading a pair

Reader = Callable[[int, int, int, int], np.ndarray]


def _georeferenced(path: str) -> bool:
    from .raster import open_raster

    ds = open_raster(path)
    ok = bool(ds.GetProjection()) and ds.GetGeoTransform(can_return_null=True) is not None
    del ds
    return ok


def open_pair(p: EvalPair, min_size_px: int) -> Tuple[Reader, Reader, Tuple[int, int], str]:
    """``(read_optical, read_sar, (H, W), how)`` of one pair: readers of ``(row, col, rows,
    cols)`` windows (float32, NaN for nodata; optical grey, SAR dB) on one grid, its size,
    and a few words on the grid used."""
    from .gdalscope import gdal_scope
    from .raster import SceneSource, check_dtype, default_optical_bands, describe, guess_sar_kind

    with gdal_scope():
        geo = _georeferenced(p.optical) and _georeferenced(p.sar)
        if geo:
            from .grid import build_working_grid

            opt_info, sar_info = describe(p.optical), describe(p.sar)
            opt_bands = tuple(default_optical_bands(opt_info))
            check_dtype(opt_info, opt_bands, "optical")
            check_dtype(sar_info, (1,), "SAR")
            kind = p.sar_kind if p.sar_kind != "auto" else guess_sar_kind(sar_info, 1)
            grid, facts = build_working_grid(opt_info, sar_info, None, min_size_px)
            opt = SceneSource(p.optical, opt_bands, grid, "optical",
                              native_pixel_m=facts["optical_pixel_m"])
            sar = SceneSource(p.sar, (1,), grid, "sar", kind, facts["sar_pixel_m"])
            how = f"working grid {facts['working_crs']} at {facts['pixel_m']:.3g} m, {grid.height} x {grid.width} px"
            return opt.read, sar.read, (grid.height, grid.width), how
    return _open_plain(p)


def _open_plain(p: EvalPair) -> Tuple[Reader, Reader, Tuple[int, int], str]:
    """A pair without georeferencing: both images whole in memory, on one grid by size."""
    from .radiometry import to_db
    from .raster import optical_grey
    from .samples import _read

    opt, sar_stack = _read(p.optical), _read(p.sar)
    opt = opt[:3] if opt.shape[0] >= 3 else opt[:1]      # as default_optical_bands without colour names
    if opt.shape[1:] != sar_stack.shape[1:]:
        raise InputError(
            f"{p.name}: optical {opt.shape[2]} x {opt.shape[1]} px and SAR {sar_stack.shape[2]} x "
            f"{sar_stack.shape[1]} px differ in size and are not both georeferenced: give pairs on one grid, "
            "or georeferenced rasters")
    grey = optical_grey(opt)
    kind = p.sar_kind
    if kind == "auto":   # as guess_sar_kind: negative values are dB, else linear
        kind = "db" if np.nanmin(sar_stack[0]) < 0 else "amplitude"
    sar = to_db(sar_stack[0], kind)

    def reader(img):
        return lambda r, c, h, w: img[r:r + h, c:c + w]

    return reader(grey), reader(sar), sar.shape, f"one grid by size (no georeferencing), {sar.shape[0]} x {sar.shape[1]} px"


def _valid(a: np.ndarray) -> bool:
    return float(np.isnan(a).mean()) <= MAX_NODATA


class _Group(NamedTuple):
    """One pair's samples at one setting, as the scores and the truth check need them."""

    name: str
    n: int
    n_replaced: int
    grid: str


@dataclass(frozen=True)
class _Truth:
    """A sample's truth, all the scores need once its pixels are gone."""

    true_row: float
    true_col: float


def _fits(p: EvalPair, shape: Tuple[int, int], window_px: int, template_px: int) -> bool:
    """Whether a ``window_px`` window (with the pair's residual) fits in the pair at all."""
    return bool(sample_specs([p.pair], window_px, template_px, 32, 0, shapes=[shape], skip_unfit=True))


def pair_samples(p: EvalPair, read_opt: Reader, read_sar: Reader, shape: Tuple[int, int], window_px: int,
                 template_px: int, n: int, seed: int) -> Tuple[List[Sample], int]:
    """Up to ``n`` samples of one pair at one setting, and how many draws were replaced for
    nodata (``([], 0)`` when the pair is too small for the window)."""
    R, T = int(window_px), int(template_px)
    specs = sample_specs([p.pair], R, T, n * DRAWS_PER_SAMPLE, seed, shapes=[shape], skip_unfit=True)
    out, replaced = [], 0
    for spec in specs:
        if len(out) == n:
            break
        template = read_opt(spec.opt_row, spec.opt_col, T, T)
        reference = read_sar(spec.sar_row, spec.sar_col, R, R)
        if not (_valid(template) and _valid(reference)):
            replaced += 1
            continue
        out.append(Sample(sample_id=f"{p.name}#{spec.index}", pair_id=p.name,
                          template=np.ascontiguousarray(template, dtype=np.float32),
                          reference=np.ascontiguousarray(reference, dtype=np.float32),
                          true_row=float(spec.true_row), true_col=float(spec.true_col)))
    return out, replaced


# --------------------------------------------------------------------------- the protocol

@dataclass(frozen=True)
class PairScore:
    """A ``MatcherScore`` on one pair's samples (``pair == "overall"``: all pooled), with the
    draws replaced for nodata and how the pair was read."""

    pair: str
    n_replaced: int
    grid: str
    score: MatcherScore


@dataclass(frozen=True)
class TruthCheck:
    """How the truth given for one pair at one setting compares with two classical matchers
    that agree with each other: where two unrelated descriptors land within ``AGREE_PX`` of
    each other, their mean answer minus the truth, median over those samples."""

    pair: str
    window_px: int
    template_px: int
    matchers: Tuple[str, str]
    n: int
    n_agree: int
    median_dy: float
    median_dx: float
    given_dy: float             # the residual the CSV gave (0 when none)
    given_dx: float

    @property
    def suspect(self) -> bool:
        """The agreeing matchers sit more than ``SUSPECT_PX`` from the truth on most samples."""
        return self.n_agree >= max(3, self.n // 2) and float(np.hypot(self.median_dy, self.median_dx)) > SUSPECT_PX


AGREE_PX = 1.0
SUSPECT_PX = 1.0


@dataclass(frozen=True)
class PairsEvaluation:
    """What ``evaluate_pairs`` found: the scores, and the truth checks where two unrelated
    classical matchers were among the matchers."""

    scores: List[PairScore]
    checks: List[TruthCheck]


def _truth_checks(names: Sequence[str], preds: Dict[str, Dict[str, list]], samples: Sequence[_Truth],
                  groups: Sequence[_Group], given: Dict[str, EvalPair], R: int, T: int) -> List[TruthCheck]:
    pair = next(((a, b) for a, b in AGREEING_PAIRS if a in names and b in names), None)
    if pair is None:
        return []
    a, b = (preds[n] for n in pair)
    out, start = [], 0
    for name, n, _, _ in groups:
        idx = np.arange(start, start + n)
        start += n
        ra, ca, rb, cb = (np.asarray(p[k], float)[idx] for p in (a, b) for k in ("rows", "cols"))
        ok = np.asarray(a["ok"], bool)[idx] & np.asarray(b["ok"], bool)[idx]
        agree = ok & (np.hypot(ra - rb, ca - cb) <= AGREE_PX)
        tr = np.array([samples[i].true_row for i in idx])
        tc = np.array([samples[i].true_col for i in idx])
        dy = ((ra + rb) / 2 - tr)[agree]
        dx = ((ca + cb) / 2 - tc)[agree]
        out.append(TruthCheck(name, R, T, pair, n, int(agree.sum()),
                              float(np.median(dy)) if dy.size else float("nan"),
                              float(np.median(dx)) if dx.size else float("nan"), given[name].dy, given[name].dx))
    return out


def evaluate_pairs(pairs_csv, matchers: Sequence[Union[str, Matcher]], settings: Sequence[Tuple[int, int]] = SETTINGS,
                   n_per_pair: int = 50, seed: int = 0, feedback: Optional[Feedback] = None) -> PairsEvaluation:
    """Score ``matchers`` on ``n_per_pair`` samples of every pair of ``pairs_csv`` at each
    setting; one ``PairScore`` per setting, matcher and pair, then ``overall`` (every pair
    weighing its sample count), and the pairs' ``TruthCheck``s. A pair too small for a
    setting is left out of it (said in the feedback); a setting that no pair fits raises
    ``InputError``. Every pair is opened before anything is matched, so a bad row fails at
    once. Progress and cancellation go through ``feedback``."""
    from .raster import close_thread_datasets

    try:
        return _evaluate_pairs(pairs_csv, matchers, settings, n_per_pair, seed, feedback or NullFeedback())
    finally:
        # the readers keep this thread's GDAL datasets open; left to the interpreter's exit
        # they are freed after GDAL and crash it
        close_thread_datasets()


def _evaluate_pairs(pairs_csv, matchers, settings, n_per_pair: int, seed: int, feedback: Feedback) -> PairsEvaluation:
    objs = _matchers(matchers)
    if n_per_pair < 1:
        raise InputError(f"samples per pair {n_per_pair} must be at least 1")
    pairs = read_eval_pairs(pairs_csv)
    smallest = min(t for _, t in settings)
    opened = []
    for p in pairs:
        check_cancel(feedback)
        read_opt, read_sar, shape, how = open_pair(p, smallest)
        feedback.info(f"{p.name}: {how}")
        opened.append((p, read_opt, read_sar, shape, how))
    # a setting that no pair fits is refused before anything is matched
    fits = []
    for R, T in settings:
        fitting = [o for o in opened if _fits(o[0], o[3], R, T)]
        if not fitting:
            raise InputError(f"no pair is large enough for a {R} px window: use a smaller --settings "
                             "(e.g. 256/192) or larger pairs")
        for p, _, _, shape, _ in opened:
            if not any(p is o[0] for o in fitting):
                feedback.info(f"{p.name}: {shape[0]} x {shape[1]} px is too small for a {R} px window: "
                              f"left out at {R}/{T}")
        fits.append(fitting)
    total, done = sum(len(f) for f in fits) * n_per_pair * len(objs), 0

    def tick() -> None:
        nonlocal done
        done += 1
        feedback.set_progress(min(100.0, 100.0 * done / max(total, 1)))
        check_cancel(feedback)

    scores: List[PairScore] = []
    checks: List[TruthCheck] = []
    given = {p.name: p for p in pairs}
    for (R, T), fitting in zip(settings, fits):
        # pair by pair, so that only one pair's samples are in memory; each matcher's answers
        # and the truths are kept for the scores over all pairs
        groups: List[_Group] = []
        truths: List[_Truth] = []
        preds: Dict[str, Dict[str, list]] = {m.name: {} for m in objs}
        for p, read_opt, read_sar, shape, how in fitting:
            check_cancel(feedback)
            samples, replaced = pair_samples(p, read_opt, read_sar, shape, R, T, n_per_pair, seed)
            done += (n_per_pair - len(samples)) * len(objs)
            if not samples:
                feedback.info(f"{p.name}: no {R} px window with valid pixels: left out at {R}/{T}")
                continue
            groups.append(_Group(p.name, len(samples), replaced, how))
            truths += [_Truth(s.true_row, s.true_col) for s in samples]
            for matcher in objs:
                for k, v in _predict(matcher, samples, None, tick).items():
                    preds[matcher.name].setdefault(k, []).extend(v)
        if not groups:
            raise InputError(f"no pair has a {R} px window with valid pixels: use a smaller --settings "
                             "(e.g. 256/192) or pairs with more valid pixels")
        for matcher in objs:
            each, overall = scores_by_group(matcher.name, R, T, truths, preds[matcher.name], [g.n for g in groups])
            scores += [PairScore(g.name, g.n_replaced, g.grid, sc) for g, sc in zip(groups, each)]
            scores.append(PairScore(OVERALL, sum(g.n_replaced for g in groups), "", overall))
            feedback.info(f"{matcher.name} window {R} template {T}: overall CMR(5) {overall.cmr5:.3f}, "
                          f"RMSE(all) {overall.rmse_all:.2f} px over {len(groups)} pairs")
        checks += _truth_checks([m.name for m in objs], preds, truths, groups, given, R, T)
    return PairsEvaluation(scores, checks)


def format_pairs_markdown(ev: PairsEvaluation) -> str:
    """A Markdown table of ``evaluate_pairs`` results, one row per setting, pair and matcher,
    then the truth checks."""
    lines = [
        "| R / T | pair | matcher | n | draws replaced (nodata) | CMR(1) | CMR(3) | CMR(5) | RMSE(5) px "
        "| RMSE(all) px | s / sample | conf. AUC (≤ 5 px) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    order = sorted(ev.scores, key=lambda r: (r.score.window_px, r.pair == OVERALL, r.pair, r.score.matcher))
    for r in order:
        s = r.score
        lines.append(f"| {s.window_px} / {s.template_px} | {r.pair} | {s.matcher} | {s.n} | {r.n_replaced} "
                     + metric_cells(s))
    if ev.checks:
        a, b = ev.checks[0].matchers
        lines += ["", f"Truth check: where {a} and {b} agree within {AGREE_PX:g} px, their answer minus the "
                  "truth given (median, rows / cols px):", "",
                  "| R / T | pair | agree | median dy | median dx | |", "|---|---|---|---|---|---|"]
        for c in sorted(ev.checks, key=lambda c: (c.window_px, c.pair)):
            flag = (f"the truth may be off: if the pair is not aligned that well, give dy "
                    f"{c.given_dy + c.median_dy:.1f}, dx {c.given_dx + c.median_dx:.1f} (or measure it)"
                    if c.suspect else "")
            lines.append(f"| {c.window_px} / {c.template_px} | {c.pair} | {c.n_agree} of {c.n} "
                         f"| {_fmt(c.median_dy, 2)} | {_fmt(c.median_dx, 2)} | {flag} |")
    return "\n".join(lines) + "\n"


def pairs_json(ev: PairsEvaluation) -> dict:
    """``evaluate_pairs`` results as JSON-ready data (NaN written as null)."""
    from dataclasses import asdict

    def clean(v):
        return None if isinstance(v, float) and not np.isfinite(v) else v

    return {"format": "sarcoreg-evaluate-pairs/1",
            "results": [{"pair": r.pair, "draws_replaced": r.n_replaced, "grid": r.grid,
                         **{k: clean(v) for k, v in asdict(r.score).items()}} for r in ev.scores],
            "truth_checks": [{**{k: clean(v) for k, v in asdict(c).items()}, "suspect": c.suspect}
                             for c in ev.checks]}
