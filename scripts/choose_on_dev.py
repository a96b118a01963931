"""Choose the classical matcher's settings and the learned matcher's fusion on the *dev* split
(never on ``val``), from one run of every candidate on the same samples.

    python scripts/choose_on_dev.py --samples 150 --out build/dev_choice.json

Dev samples: ``core.sources`` role ``dev`` (``s1s2_la`` dev pairs, OMBRIA's dev part of its
upstream ``train`` folder, the MultiEarth forest pair), truth-checked, at 256/192 and 512/384.
Every candidate's similarity surface is computed once per sample, then:

1. classical candidates (CFOG ``square`` / 9-orientation ``abs`` with several smoothings and
   normalisations, MIND) are ranked by the *selection score*: the mean over both settings of
   CMR(1) + CMR(3) + CMR(5) − RMSE(all) / 10 (gross errors count), speed printed beside it;
2. the model's own sub-pixel displacement of its translation is measured without truth
   (``structural_shift``: each pair is also translated flipped upside down and left to
   right; a displacement built into the model moves those peaks the other way), and the
   translation is moved back by it before it is matched (``--shift``); the translation's
   ZNCC surface (the model alone, no fusion) is scored with and without that move;
3. fusion ``(1 − w) · translation + w · classical`` with the chosen classical part, for w in
   0 … 1, each with and without the *guard* (where the fused peak lies more than
   ``--guard-px`` from the classical peak, take the classical answer and halve the
   confidence, so the window is flagged, not hidden): per template size the best w whose
   RMSE(all) is not above the classical part's, preferring the guard when scores tie; and
   with the *snap* (where the fused and the classical peaks lie within ``SNAPS`` px of each
   other, the classical peak's sub-pixel position is the answer), preferring no snap on ties.

Prints Markdown tables and writes the choice as JSON, with each dev sample's error under the
chosen fusion and under the translation alone (``per_sample``), so that
``scripts/compare_dev.py`` can tell whether two candidates differ by more than the draw of
samples.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sarcoreg.core.dcdm.matcher import TRANSLATION_ALONE  # noqa: E402
from sarcoreg.core.evaluate import errors_px, score  # noqa: E402
from sarcoreg.core.matchers import get_matcher  # noqa: E402
from sarcoreg.core.matchers.common import finish_match  # noqa: E402
from sarcoreg.core.sources import LA_TRUTH_HELP, LA_TRUTHS, TEXTBOOK_CFOG, source_samples  # noqa: E402
from sarcoreg.core.staging import atomic_file  # noqa: E402

CLASSICAL = {
    "cfog square (shipped)": ("cfog", dict(projection="square")),
    "cfog abs9 textbook": ("cfog", dict(TEXTBOOK_CFOG)),
    "cfog abs9 σ0.8 floor1": ("cfog", dict(projection="abs", n_orientations=9, presmooth_px=0.0, sigma_px=0.8,
                                           norm_floor=1.0)),
    "cfog abs9 pre0.7 σ1 floor1": ("cfog", dict(projection="abs", n_orientations=9)),
    "cfog abs9 σ1.5": ("cfog", dict(projection="abs", n_orientations=9, presmooth_px=0.0, sigma_px=1.5,
                                    norm_floor=0.0)),
    "cfog square pre0 σ0.8 floor0": ("cfog", dict(projection="square", presmooth_px=0.0, sigma_px=0.8,
                                                  norm_floor=0.0)),
    "mind": ("mind", {}),
}
WEIGHTS = np.round(np.linspace(0, 1, 11), 2)
# the snap: where the fused and the classical peaks lie this close (px), the classical peak's
# sub-pixel position is the answer (the translation places the peak, the classical part refines it)
SNAPS = (1.0, 2.0)


ATTENTION = (0.0, 0.1, 0.2, 0.4, 0.8)


FLIPS = {"rows": lambda a: a[::-1, :], "cols": lambda a: a[:, ::-1]}


def translations(samples, R, T, flips=True):
    """Per sample, one model call each: ``(translation, attention prior, seconds)`` and, with
    ``flips``, the translation-alone peak of the pair as it is and of the pair flipped upside
    down and left to right (``{"id"|"rows"|"cols": (row, col)}``, in the pair's own frame)."""
    from sarcoreg.core.dcdm.matcher import displacement_prior

    m = get_matcher("dcdm", **TRANSLATION_ALONE, attention_prior=0.0, translation_shift_px=(0.0, 0.0))
    n = R - T + 1
    out, secs = [], []
    for s in samples:
        start = time.perf_counter()
        tr = m.translate(s.template, s.reference)
        res = m.match_translation(s.template, s.reference, tr)
        secs.append(time.perf_counter() - start)
        peaks = {"id": (res.row, res.col)}
        for axis, f in FLIPS.items() if flips else ():
            t, r = np.ascontiguousarray(f(s.template)), np.ascontiguousarray(f(s.reference))
            mf = m.match_translation(t, r, m.translate(t, r))
            # back to the pair's frame: a flip maps offset k to n - 1 - k on its axis
            peaks[axis] = (n - 1 - mf.row, mf.col) if axis == "rows" else (mf.row, n - 1 - mf.col)
        out.append((tr, displacement_prior(tr, n), peaks))
    print(f"  translation and attention: {np.median(secs):.3f} s / sample", file=sys.stderr)
    return out, float(np.median(secs))


def structural_shift(per_setting):
    """The model's own sub-pixel displacement of its translation, measured without truth: a
    displacement built into the model moves the peak of a flipped pair the other way along
    the flipped axis, so half the difference between the peaks as-is and flipped is that
    displacement (samples whose two peaks are more than 3 px apart are left out). Median
    over every sample of every setting; ``(rows, cols)``."""
    out = []
    for k, axis in enumerate(("rows", "cols")):
        d = [(p["id"][k] - p[axis][k]) / 2 for items in per_setting for _, _, p in items
             if np.isfinite(p["id"][k]) and np.isfinite(p[axis][k]) and abs(p["id"][k] - p[axis][k]) <= 3]
        out.append(round(float(np.median(d)), 3) if d else 0.0)
    return tuple(out)


def translation_surfaces(items, samples, R, T, shift):
    """The translation's ZNCC surface (no fusion, no guard) of every sample, the translation
    moved by ``shift`` (rows, cols) px first."""
    m = get_matcher("dcdm", **TRANSLATION_ALONE, attention_prior=0.0, translation_shift_px=shift)
    return [surface_of(m.match_translation(s.template, s.reference, tr), R - T + 1)
            for s, (tr, _, _) in zip(samples, items)]


def surface_of(res, n):
    """A match's similarity surface, NaN (and a failed match) as -1 so that it never wins."""
    sim = res.similarity if res.similarity is not None else np.full((n, n), np.nan, np.float32)
    return np.nan_to_num(sim.astype(np.float32), nan=-1.0)


def protocol_samples(data, R, T, n_per_source, seed, role, la_truth="local"):
    """``(groups, samples)`` of ``core.sources.source_samples`` at ``R / T``, the sources'
    sizes printed to stderr."""
    groups = source_samples(data, R, T, n_per_source, seed, role, la_truth=la_truth)
    print(f"{R}/{T}: " + ", ".join(g.counts() for g in groups), file=sys.stderr, flush=True)
    return groups, [s for g in groups for s in g.samples]


def matcher_surfaces(m, samples, R, T):
    """``(surfaces, median seconds)``: ``m``'s similarity surface of every sample (NaN and
    failed matches as -1, so that they never win)."""
    n = R - T + 1
    out, t = [], []
    for s in samples:
        start = time.perf_counter()
        res = m.match(s.template, s.reference)
        t.append(time.perf_counter() - start)
        out.append(surface_of(res, n))
    return out, float(np.median(t))


def sample_score(s) -> float:
    """CMR(1) + CMR(3) + CMR(5) − RMSE(all) / 10 of one ``score`` row (gross errors count)."""
    return s.cmr1 + s.cmr3 + s.cmr5 - s.rmse_all / 10.0


def selection_score(scores) -> float:
    return float(np.mean([sample_score(s) for s in scores]))


def score_surfaces(name, R, T, samples, surfaces, confidences=None):
    rows, cols, ok, conf = [], [], [], []
    for k, s in enumerate(surfaces):
        m = finish_match(s, 4.0, time.perf_counter())
        rows.append(m.row)
        cols.append(m.col)
        ok.append(m.ok)
        conf.append(m.confidence if confidences is None else confidences[k])
    return score(name, R, T, 0.0, rows, cols, [x.true_row for x in samples], [x.true_col for x in samples],
                 ok, conf, [0.0] * len(samples)), np.array(rows), np.array(cols), np.array(ok)


def guarded_peaks(fused, classical, guard_px, snap_px=0.0):
    """``(rows, cols, ok, confidences)`` of the fused surfaces with the guard (farther than
    ``guard_px`` from the classical peak: the classical answer, half its confidence; 0: off)
    and the snap (within ``snap_px``: the classical peak's position, the fused confidence; 0:
    off), as ``DcdmMatcher`` applies them."""
    rows, cols, ok, conf = [], [], [], []
    for f, c in zip(fused, classical):
        mf = finish_match(f, 4.0, time.perf_counter())
        mc = finish_match(c, 4.0, time.perf_counter())
        apart = np.hypot(mf.row - mc.row, mf.col - mc.col) if mf.ok and mc.ok else np.nan
        if guard_px > 0 and apart > guard_px:
            rows.append(mc.row), cols.append(mc.col), ok.append(True), conf.append(0.5 * mc.confidence)
        elif snap_px > 0 and apart <= snap_px:
            rows.append(mc.row), cols.append(mc.col), ok.append(True), conf.append(mf.confidence)
        else:
            rows.append(mf.row), cols.append(mf.col), ok.append(mf.ok), conf.append(mf.confidence)
    return rows, cols, ok, conf


def guarded(name, R, T, samples, fused, classical, guard_px, snap_px=0.0):
    """The score of ``guarded_peaks``."""
    rows, cols, ok, conf = guarded_peaks(fused, classical, guard_px, snap_px)
    return score(name, R, T, 0.0, rows, cols, [x.true_row for x in samples], [x.true_col for x in samples],
                 ok, conf, [0.0] * len(samples))


def per_sample(R, T, samples, rows, cols, ok):
    """What ``scripts/compare_dev.py`` needs to compare two candidates sample by sample: each
    sample's error (``None`` where the match failed), its error counting a failure as the
    window's centre (as RMSE(all) does), and its truth (to check that both ran the same samples)."""
    tr_, tc = np.array([x.true_row for x in samples]), np.array([x.true_col for x in samples])
    e = errors_px(np.where(ok, np.asarray(rows, float), np.nan), np.where(ok, np.asarray(cols, float), np.nan), tr_, tc)
    centre = np.full(e.shape, (R - T) / 2.0)
    e_all = np.where(np.isfinite(e), e, errors_px(centre, centre, tr_, tc))
    return {"error_px": [round(float(v), 4) if np.isfinite(v) else None for v in e],
            "error_all_px": [round(float(v), 4) for v in e_all],
            "truth": [[round(float(r), 3), round(float(c), 3)] for r, c in zip(tr_, tc)]}


ENSEMBLE_WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7)


def ensembles(data, settings, labels):
    """Score ``(1 - w) · a + w · b`` of every two classical candidates' similarity surfaces
    (both ZNCC, so on one scale): whether two descriptors that fail in different places
    beat each alone. Returns ``(selection score, label, scores)`` rows; the surfaces are
    stored under the label so that the fusion step can use the winner."""
    rows = []
    print("\n## Two classical candidates, surfaces mixed (dev)\n")
    print("| candidate | 256/192 CMR(1) / CMR(5) / RMSE(all) | 512/384 CMR(1) / CMR(5) / RMSE(all) | selection score |")
    print("|---|---|---|---|")
    for i, la in enumerate(labels):
        for lb in labels[i + 1:]:
            for w in ENSEMBLE_WEIGHTS:
                label = f"{la} ⊕ {w:g} {lb}"
                sc = []
                for R, T in settings:
                    _, samples, surf, secs = data[(R, T)]
                    surf[label] = [(1 - w) * x + w * y for x, y in zip(surf[la], surf[lb])]
                    secs[label] = secs[la] + secs[lb]
                    sc.append(score_surfaces(label, R, T, samples, surf[label])[0])
                rows.append((selection_score(sc), label, sc))
                print(f"| {label} | " + " | ".join(f"{s.cmr1:.3f} / {s.cmr5:.3f} / {s.rmse_all:.2f}" for s in sc)
                      + f" | {selection_score(sc):.3f} |")
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.path.join("..", "shared", "data"))
    ap.add_argument("--samples", type=int, default=150, help="per source and setting")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--la-truth", choices=LA_TRUTHS, default="local",
                    help=LA_TRUTH_HELP)
    ap.add_argument("--role", default="dev", help="dev (to choose) or val (to report only)")
    ap.add_argument("--guard-px", type=float, default=3.0)
    ap.add_argument("--out", default="build/dev_choice.json")
    ap.add_argument("--no-dcdm", action="store_true")
    ap.add_argument("--classical", default=None,
                    help="comma-separated labels of the classical candidates to run (default: all)")
    ap.add_argument("--ensembles", action="store_true",
                    help="also score the mean of two classical candidates' surfaces, (1 - w) a + w b, for w in 0.3 … 0.7")
    ap.add_argument("--attention", action="store_true",
                    help="also try adding the calibrated attention's displacement prior to the fused surface")
    ap.add_argument("--shift", default="measure",
                    help="the translation's own displacement to undo: 'measure' (flipped pairs, no truth; "
                         "default), or ROWS,COLS px (0,0: none)")
    a = ap.parse_args(argv)
    settings = ((256, 192), (512, 384))
    data, items = {}, {}
    measure = a.shift == "measure"
    shift = (0.0, 0.0) if measure else tuple(float(v) for v in a.shift.split(","))
    for R, T in settings:
        groups, samples = protocol_samples(a.data, R, T, a.samples, a.seed, a.role, a.la_truth)
        surf, secs = {}, {}
        if not a.no_dcdm:
            items[(R, T)], t_sec = translations(samples, R, T, flips=measure)
            surf["attention prior"] = [att for _, att, _ in items[(R, T)]]
            secs["translation (dcdm, no fusion)"] = secs["attention prior"] = t_sec
        data[(R, T)] = (groups, samples, surf, secs)
    if not a.no_dcdm:
        if measure:
            shift = structural_shift(items.values())
            print(f"  the translation's own displacement (flipped pairs): rows {shift[0]:+.3f}, "
                  f"cols {shift[1]:+.3f} px", file=sys.stderr)
        for (R, T), its in items.items():
            _, samples, surf, secs = data[(R, T)]
            surf["translation (dcdm, no fusion)"] = translation_surfaces(its, samples, R, T, shift)
            if shift != (0.0, 0.0):
                surf["translation, not moved"] = translation_surfaces(its, samples, R, T, (0.0, 0.0))
        items.clear()
    for R, T in settings:
        groups, samples, surf, secs = data[(R, T)]
        wanted = a.classical.split(",") if a.classical else list(CLASSICAL)
        cands = {k: v for k, v in CLASSICAL.items() if k in wanted}
        for label, (name, opts) in cands.items():
            surf[label], secs[label] = matcher_surfaces(get_matcher(name, **opts), samples, R, T)
            print(f"  {label}: {secs[label]:.3f} s / sample", file=sys.stderr)
        data[(R, T)] = (groups, samples, surf, secs)

    choice = {"role": a.role, "samples_per_source": a.samples, "seed": a.seed, "la_truth": a.la_truth}
    print("\n## Classical candidates (dev)\n")
    print("| candidate | 256/192 CMR(1) / CMR(5) / RMSE(all) | 512/384 CMR(1) / CMR(5) / RMSE(all) | s / sample 256, 512 | selection score |")
    print("|---|---|---|---|---|")
    ranked = []
    for label in [k for k in CLASSICAL if k in data[settings[0]][2]]:
        sc = [score_surfaces(label, R, T, data[(R, T)][1], data[(R, T)][2][label])[0] for R, T in settings]
        ranked.append((selection_score(sc), label, sc))
        print(f"| {label} | " + " | ".join(f"{s.cmr1:.3f} / {s.cmr5:.3f} / {s.rmse_all:.2f}" for s in sc)
              + f" | {data[settings[0]][3][label]:.3f}, {data[settings[1]][3][label]:.3f} | {selection_score(sc):.3f} |")
    if a.ensembles:
        ranked += ensembles(data, settings, [lab for _, lab, _ in ranked])
    ranked.sort(key=lambda t: -t[0])
    best_classical = ranked[0][1]
    matcher, options = CLASSICAL.get(best_classical, (best_classical, {}))
    choice["classical"] = {"label": best_classical, "matcher": matcher, "options": options,
                           "scores": {lab: round(v, 4) for v, lab, _ in ranked}}
    print(f"\nchosen classical: {best_classical}")
    if a.no_dcdm:
        write_json(a.out, choice)
        return 0

    print("\n## Translation alone and fusion with the chosen classical part (dev)\n")
    print("| R / T | w (classical) | guard | CMR(1) | CMR(3) | CMR(5) | RMSE(all) | conf. AUC |")
    print("|---|---|---|---|---|---|---|---|")
    fusion, samples_out = {}, {}
    choice["translation_shift_px"] = list(shift)
    for R, T in settings:
        _, samples, surf, _ = data[(R, T)]
        tr, cl = surf["translation (dcdm, no fusion)"], surf[best_classical]
        base = score_surfaces("classical", R, T, samples, cl)[0]
        if "translation, not moved" in surf:
            s0 = score_surfaces("not moved", R, T, samples, surf["translation, not moved"])[0]
            print(f"| {R} / {T} | translation not moved by ({shift[0]:+.2f}, {shift[1]:+.2f}) px | – | {s0.cmr1:.3f} "
                  f"| {s0.cmr3:.3f} | {s0.cmr5:.3f} | {s0.rmse_all:.2f} | {s0.confidence_auc:.2f} |")
        best = None
        att = surf["attention prior"]
        if a.attention:
            alone = score_surfaces("attention", R, T, samples, att)[0]
            print(f"| {R} / {T} | attention prior alone | – | {alone.cmr1:.3f} | {alone.cmr3:.3f} | {alone.cmr5:.3f} "
                  f"| {alone.rmse_all:.2f} | {alone.confidence_auc:.2f} |")
        for w, prior in [(w, p) for w in WEIGHTS for p in (ATTENTION if a.attention else (0.0,))]:
            fused = [(1 - w) * a_ + w * b_ + prior * c_ for a_, b_, c_ in zip(tr, cl, att)]
            plain = score_surfaces("fused", R, T, samples, fused)[0]
            rules = [("no", 0.0, plain), ("yes", 0.0, guarded("fused+guard", R, T, samples, fused, cl, a.guard_px))]
            if 0 < w < 1:
                rules += [(g, snap, guarded("fused+snap", R, T, samples, fused, cl, a.guard_px if g == "yes" else 0.0, snap))
                          for snap in SNAPS for g in ("no", "yes")]
            for g, snap, s in rules:
                print(f"| {R} / {T} | {w:.1f}{f' + att {prior:g}' if prior else ''} | {g}{f', snap {snap:g} px' if snap else ''} "
                      f"| {s.cmr1:.3f} | {s.cmr3:.3f} | {s.cmr5:.3f} | {s.rmse_all:.2f} | {s.confidence_auc:.2f} |")
                key = (sample_score(s), g == "yes", -snap)
                if s.rmse_all <= base.rmse_all + 1e-9 and (best is None or key > best[0]):
                    best = (key, float(w), g == "yes", s, float(prior), snap)
        if best is None:
            best = ((sample_score(base), True, 0.0), 1.0, True, base, 0.0, 0.0)
        w, g, prior, snap = best[1], best[2], best[4], best[5]
        fused = [(1 - w) * a_ + w * b_ + prior * c_ for a_, b_, c_ in zip(tr, cl, att)]
        samples_out[str(T)] = {
            "fused": per_sample(R, T, samples, *guarded_peaks(fused, cl, a.guard_px if g else 0.0, snap)[:3]),
            "translation": per_sample(R, T, samples, *score_surfaces("translation", R, T, samples, tr)[1:])}
        fusion[str(T)] = {"weight": best[1], "guard": best[2], "snap_px": best[5], "attention_prior": best[4],
                          "cmr1": round(best[3].cmr1, 4),
                          "cmr3": round(best[3].cmr3, 4), "cmr5": round(best[3].cmr5, 4),
                          "selection_score": round(best[0][0], 4), "rmse_all": round(best[3].rmse_all, 3),
                          "classical_rmse_all": round(base.rmse_all, 3)}
        print(f"| {R} / {T} | classical alone | – | {base.cmr1:.3f} | {base.cmr3:.3f} | {base.cmr5:.3f} "
              f"| {base.rmse_all:.2f} | {base.confidence_auc:.2f} |")
    choice["fusion"] = fusion
    choice["per_sample"] = samples_out
    choice["guard_px"] = a.guard_px
    # the candidate's score, comparable between checkpoints on the same dev samples
    choice["selection_score"] = round(float(np.mean([v["selection_score"] for v in fusion.values()])), 4)
    print("\nchosen fusion:", json.dumps(fusion))
    write_json(a.out, choice)
    return 0


def write_json(path, obj):
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(p) as fh:
        fh.write(json.dumps(obj, indent=2))
    print(f"wrote {p}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
