"""The evaluation protocol of DCDM.md, for any ``Matcher``, learned or classical.

Every matcher sees the same samples (``core.samples``) and, at a given noise level, the same
noisy templates. For each sample ``e`` is the Euclidean distance in reference pixels between
the predicted and the true top-left ``(row, col)``:

* ``CMR(T)``: share of samples with ``e <= T`` (T = 1, 3, 5);
* ``RMSE(T)``: root mean square of ``e`` over the samples with ``e <= T`` (NaN if none);
* ``RMSE(all)``: root mean square of ``e`` over all samples;
* ``median_seconds``: median wall time of one ``match`` call.

A failed match (status not ``ok``) is a miss for every ``CMR(T)`` and left out of
``RMSE(T)``; for ``RMSE(all)`` it counts as the "no shift" answer, the centre of the search
range ``((R - T) / 2, (R - T) / 2)``, which is what the engine falls back to.

Noise: ``noise_var = v`` adds zero-mean Gaussian noise of variance ``v · var(template)`` to
the optical template (``var`` over its valid pixels), so ``v = 0.3`` is the paper's "30 %"
level. The noise of a sample is seeded by the seed, the setting, the sample and the level.

``confidence_auc`` tells how well a matcher's confidence ranks its own correct matches
(``e <= 5``) above its wrong ones: the probability that a random correct match has a higher
confidence than a random wrong one (0.5: useless; NaN when one group is empty).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from .errors import InputError
from .feedback import Feedback, NullFeedback, check_cancel
from .matchers import Matcher, evaluation_matcher, matcher_names
from .samples import SETTINGS, Sample, iter_samples

log = logging.getLogger("sarcoreg.evaluate")

THRESHOLDS_PX = (1, 3, 5)


@dataclass(frozen=True)
class MatcherScore:
    """Metrics of one matcher at one setting and noise level (distances in reference px)."""

    matcher: str
    window_px: int
    template_px: int
    noise_var: float
    n: int
    n_failed: int
    cmr1: float
    cmr3: float
    cmr5: float
    rmse5: float
    rmse_all: float
    median_seconds: float
    confidence_auc: float


def errors_px(pred_rows: np.ndarray, pred_cols: np.ndarray, true_rows: np.ndarray,
              true_cols: np.ndarray) -> np.ndarray:
    """Euclidean distances between predicted and true ``(row, col)``; NaN where no prediction."""
    return np.hypot(np.asarray(pred_rows, float) - true_rows, np.asarray(pred_cols, float) - true_cols)


def cmr(errors: np.ndarray, threshold_px: float) -> float:
    """Correct matching rate: share of ``errors`` ``<= threshold_px`` (NaN counts as a miss)."""
    e = np.asarray(errors, dtype=np.float64)
    if e.size == 0:
        return float("nan")
    with np.errstate(invalid="ignore"):
        return float(np.mean(e <= threshold_px))


def rmse(errors: np.ndarray, threshold_px: Optional[float] = None) -> float:
    """RMS of the finite ``errors`` (those ``<= threshold_px`` when given); NaN if none."""
    e = np.asarray(errors, dtype=np.float64)
    e = e[np.isfinite(e)]
    if threshold_px is not None:
        e = e[e <= threshold_px]
    return float(np.sqrt(np.mean(e * e))) if e.size else float("nan")


def rank_auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    s = np.asarray(scores, dtype=np.float64)
    pos = np.asarray(positive, dtype=bool)
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(s.size, dtype=np.float64)
    sorted_s = s[order]
    # average ranks over ties
    _, first, counts = np.unique(sorted_s, return_index=True, return_counts=True)
    avg = first + (counts - 1) / 2.0 + 1.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def score(name: str, window_px: int, template_px: int, noise_var: float, pred_rows, pred_cols,
          true_rows, true_cols, ok, confidences, seconds) -> MatcherScore:
    """``MatcherScore`` from per-sample predictions (arrays of equal length)."""
    ok = np.asarray(ok, dtype=bool)
    centre = (window_px - template_px) / 2.0
    rows = np.where(ok, np.asarray(pred_rows, float), np.nan)
    cols = np.where(ok, np.asarray(pred_cols, float), np.nan)
    e = errors_px(rows, cols, np.asarray(true_rows, float), np.asarray(true_cols, float))
    e_all = np.where(np.isfinite(e), e, errors_px(np.full(e.shape, centre), np.full(e.shape, centre),
                                                   np.asarray(true_rows, float), np.asarray(true_cols, float)))
    conf = np.where(ok, np.asarray(confidences, float), 0.0)
    with np.errstate(invalid="ignore"):
        correct = e <= THRESHOLDS_PX[-1]
    return MatcherScore(
        matcher=name, window_px=int(window_px), template_px=int(template_px), noise_var=float(noise_var),
        n=int(e.size), n_failed=int((~ok).sum()),
        cmr1=cmr(e, 1), cmr3=cmr(e, 3), cmr5=cmr(e, 5), rmse5=rmse(e, 5), rmse_all=rmse(e_all),
        median_seconds=float(np.median(seconds)) if len(seconds) else float("nan"),
        confidence_auc=rank_auc(conf, correct))


def add_noise(template: np.ndarray, noise_var: float, rng: np.random.Generator) -> np.ndarray:
    """``template`` plus Gaussian noise of variance ``noise_var · var(template)``; NaN kept."""
    if noise_var <= 0:
        return template
    finite = np.isfinite(template)
    var = float(np.var(template[finite])) if finite.any() else 0.0
    noise = rng.standard_normal(template.shape) * np.sqrt(noise_var * var)
    return (template + noise).astype(np.float32)


def _matchers(matchers: Iterable[Union[str, Matcher]]) -> List[Matcher]:
    """``Matcher``s of registry names (or ``matchers.TEXTBOOK``) and objects."""
    out = [evaluation_matcher(m) if isinstance(m, str) else m for m in matchers]
    if not out:
        raise InputError(f"no matcher to evaluate: name at least one of {', '.join(matcher_names())}")
    return out


def _predict(matcher: Matcher, samples: Sequence[Sample], templates: Optional[Sequence[np.ndarray]] = None,
             tick: Optional[Callable[[], None]] = None) -> Dict[str, list]:
    """Run ``matcher`` on each sample: per-sample ``rows, cols, ok, confidences, seconds``."""
    templates = [s.template for s in samples] if templates is None else templates
    out: Dict[str, list] = {"rows": [], "cols": [], "ok": [], "confidences": [], "seconds": []}
    for s, template in zip(samples, templates):
        start = time.perf_counter()
        m = matcher.match(template, s.reference)
        out["seconds"].append(time.perf_counter() - start)
        out["rows"].append(m.row)
        out["cols"].append(m.col)
        out["ok"].append(m.ok)
        out["confidences"].append(m.confidence)
        if tick is not None:
            tick()
    return out


def _score_subset(name: str, window_px: int, template_px: int, noise_var: float, samples: Sequence[Sample],
                  pred: Dict[str, list], keep: Sequence[int]) -> MatcherScore:
    idx = np.asarray(list(keep), dtype=int)
    p = {k: np.asarray(v)[idx] for k, v in pred.items()}
    return score(name, window_px, template_px, noise_var, p["rows"], p["cols"],
                 [samples[i].true_row for i in idx], [samples[i].true_col for i in idx],
                 p["ok"], p["confidences"], p["seconds"])


def scores_by_group(name: str, window_px: int, template_px: int, samples: Sequence, pred: Dict[str, list],
                    sizes: Sequence[int]) -> Tuple[List[MatcherScore], MatcherScore]:
    """The scores of consecutive groups of ``sizes`` samples (a source's, a pair's) from one
    run's predictions ``pred``, and the score over all of them."""
    out, start = [], 0
    for n in sizes:
        out.append(_score_subset(name, window_px, template_px, 0.0, samples, pred, range(start, start + n)))
        start += n
    return out, _score_subset(name, window_px, template_px, 0.0, samples, pred, range(len(samples)))


def score_samples(matcher: Matcher, samples: Sequence[Sample], window_px: int, template_px: int,
                  noise_var: float = 0.0, templates: Optional[Sequence[np.ndarray]] = None,
                  tick: Optional[Callable[[], None]] = None) -> MatcherScore:
    """Run ``matcher`` on ``samples`` (their templates, or ``templates`` in their place, e.g.
    with noise added) and score it; ``tick()`` is called after each sample."""
    pred = _predict(matcher, samples, templates, tick)
    return _score_subset(matcher.name, window_px, template_px, noise_var, samples, pred, range(len(samples)))


def score_samples_by_pair(matcher: Matcher, samples: Sequence[Sample], window_px: int,
                          template_px: int) -> Tuple[MatcherScore, Dict[str, MatcherScore]]:
    """``score_samples`` over all ``samples``, and one score per pair, from one run of the matcher."""
    pred = _predict(matcher, samples)
    total = _score_subset(matcher.name, window_px, template_px, 0.0, samples, pred, range(len(samples)))
    groups: Dict[str, List[int]] = {}
    for i, s in enumerate(samples):
        groups.setdefault(s.pair_id, []).append(i)
    return total, {pid: _score_subset(matcher.name, window_px, template_px, 0.0, samples, pred, idx)
                   for pid, idx in groups.items()}


def evaluate(data_root: str, matchers: Sequence[Union[str, Matcher]],
             settings: Sequence[Tuple[int, int]] = SETTINGS, n_samples: int = 200, seed: int = 0,
             split: str = "val", noise_var: Union[float, Sequence[float]] = 0.0,
             feedback: Optional[Feedback] = None) -> List[MatcherScore]:
    """Run ``matchers`` on the protocol's samples and return one ``MatcherScore`` per
    (setting, noise level, matcher), in that nesting order.

    ``matchers``: registry names or ``Matcher`` objects. ``settings``: ``(window_px,
    template_px)`` pairs. ``n_samples`` per setting, drawn with ``seed`` from the pairs of
    ``split`` (``train``, ``val`` or ``all``) under ``data_root``. ``noise_var``: one level or
    a sequence of levels (see the module doc). Progress and cancellation go through
    ``feedback``; a cancel raises ``CancelledError``.
    """
    feedback = feedback or NullFeedback()
    objs = _matchers(matchers)
    levels = [float(noise_var)] if np.isscalar(noise_var) else [float(v) for v in noise_var]
    if not levels or any(not 0 <= v <= 10 for v in levels):
        raise InputError(f"noise variance {noise_var} must be a fraction of the template variance in [0, 10]")
    if n_samples < 1:
        raise InputError(f"n_samples {n_samples} must be at least 1")
    total = len(settings) * len(levels) * len(objs) * n_samples
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        feedback.set_progress(100.0 * done / total)
        check_cancel(feedback)

    check_cancel(feedback)
    results: List[MatcherScore] = []
    for window_px, template_px in settings:
        samples = list(iter_samples(data_root, window_px, template_px, n_samples, seed, split))
        for level in levels:
            templates = [add_noise(s.template, level, np.random.default_rng(
                [int(seed), int(window_px), int(template_px), i, int(round(level * 1e6))]))
                for i, s in enumerate(samples)]
            for matcher in objs:
                result = score_samples(matcher, samples, window_px, template_px, level, templates, tick)
                log.info("%s %d/%d noise %.2f: CMR(5) %.3f", result.matcher, window_px, template_px,
                         level, result.cmr5)
                feedback.info(f"{result.matcher} window {window_px} template {template_px} noise {level:g}: "
                              f"CMR(5) {result.cmr5:.3f}, RMSE(all) {result.rmse_all:.2f} px")
                results.append(result)
    return results


def _fmt(v: float, digits: int) -> str:
    return "–" if not np.isfinite(v) else f"{v:.{digits}f}"


def metric_cells(s: MatcherScore) -> str:
    """The table cells from CMR(1) to the confidence's AUC of one score, ``"| … |"``."""
    return (f"| {_fmt(s.cmr1, 3)} | {_fmt(s.cmr3, 3)} | {_fmt(s.cmr5, 3)} | {_fmt(s.rmse5, 2)} "
            f"| {_fmt(s.rmse_all, 2)} | {_fmt(s.median_seconds, 3)} | {_fmt(s.confidence_auc, 2)} |")


def format_markdown(results: Sequence[MatcherScore]) -> str:
    """A Markdown table of ``results`` (one row each), distances in reference pixels."""
    lines = [
        "| matcher | R / T | noise var | n | failed | CMR(1) | CMR(3) | CMR(5) | RMSE(5) px | RMSE(all) px "
        "| s / sample | conf. AUC |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(f"| {r.matcher} | {r.window_px} / {r.template_px} | {r.noise_var:g} | {r.n} | {r.n_failed} "
                     + metric_cells(r))
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class SourceScore:
    """A ``MatcherScore`` on one source's samples (``source == "overall"``: all pooled), with how
    many samples the truth check left out of that source."""

    source: str
    n_removed: int
    score: MatcherScore


def evaluate_sources(data_root: str, matchers: Sequence[Union[str, Matcher]],
                     settings: Sequence[Tuple[int, int]] = SETTINGS, n_per_source: int = 200, seed: int = 0,
                     role: str = "val", sources: Optional[Sequence[str]] = None, check_truth: bool = True,
                     feedback: Optional[Feedback] = None, la_truth: str = "local") -> List[SourceScore]:
    """The multi-region protocol: ``n_per_source`` samples from each source (``core.sources``) in
    ``role`` (``val`` to report, ``dev`` to choose), truth-checked, and every matcher scored per
    source and over all sources pooled (``overall``, each source weighing its sample count).

    Returns ``SourceScore``s ordered by setting, then matcher, then source (``overall`` last).
    """
    from . import sources as src

    feedback = feedback or NullFeedback()
    objs = _matchers(matchers)
    if n_per_source < 1:
        raise InputError(f"samples per source {n_per_source} must be at least 1")
    chosen = tuple(sources) if sources else src.SOURCES
    pairs = src.list_source_pairs(data_root, [role], chosen)
    images: dict = {}       # each pair's pixels are read once for all settings
    out: List[SourceScore] = []
    for s_index, (window_px, template_px) in enumerate(settings):
        check_cancel(feedback)
        feedback.info(f"window {window_px} template {template_px}: drawing and checking samples")
        groups = src.source_samples(data_root, window_px, template_px, n_per_source, seed, role, chosen,
                                    check_truth, pairs, images, la_truth)
        samples = [s for g in groups for s in g.samples]
        feedback.info(f"window {window_px} template {template_px}: " + ", ".join(g.counts() for g in groups))
        total = len(objs) * len(samples)
        done = 0

        def tick() -> None:
            nonlocal done
            done += 1
            feedback.set_progress(100.0 * (s_index + done / max(total, 1)) / len(settings))
            check_cancel(feedback)

        for matcher in objs:
            pred = _predict(matcher, samples, None, tick)
            each, overall = scores_by_group(matcher.name, window_px, template_px, samples, pred,
                                            [len(g.samples) for g in groups])
            out += [SourceScore(g.source, g.n_removed, sc) for g, sc in zip(groups, each)]
            out.append(SourceScore("overall", sum(g.n_removed for g in groups), overall))
            feedback.info(f"{matcher.name} window {window_px} template {template_px}: overall CMR(5) "
                          f"{overall.cmr5:.3f}, RMSE(all) {overall.rmse_all:.2f} px")
    return out


def format_sources_markdown(results: Sequence[SourceScore]) -> str:
    """A Markdown table of ``evaluate_sources`` results, one row per setting, source and matcher."""
    lines = [
        "| R / T | source | matcher | n | removed by truth check | CMR(1) | CMR(3) | CMR(5) | RMSE(5) px "
        "| RMSE(all) px | s / sample | conf. AUC (≤ 5 px) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    order = sorted(results, key=lambda r: (r.score.window_px, r.source == "overall", r.source, r.score.matcher))
    for r in order:
        s = r.score
        lines.append(f"| {s.window_px} / {s.template_px} | {r.source} | {s.matcher} | {s.n} | {r.n_removed} "
                     + metric_cells(s))
    return "\n".join(lines) + "\n"
