"""How much of the evaluation's misses can the truth explain? (diagnostic, not a score)

    python scripts/truth_check.py --samples 200 --setting 256 192

The ``s1s2_la`` truth is one residual shift per 1024 × 1024 pair; hilly ground moves inside
a pair by several pixels (SAR geometry). For each ``val`` protocol sample, two matchers built
on unrelated descriptors (CFOG: oriented gradients; MIND: self-similarity) are run; when
both agree with each other within ``--agree`` px but both miss the truth by more than 5 px,
the miss is more likely the truth's than the matchers'. Prints CMR(5) of each matcher, the
share of such "agreeing misses", and the CMR(5) one would get if those samples were right.

Context check: each agreeing miss is matched again with a template and a window twice as
large around the same centre (where the pair has room for them). Periodic ground (a street
grid) fools a small template but rarely one with twice the context; a truth that is off at
that place stays off. Prints how often the larger template lands where the small ones did,
and how the misses split between rows (azimuth, roughly north–south) and columns (range).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sarcoreg.core.matchers import get_matcher  # noqa: E402
from sarcoreg.core.samples import cut_sample, list_pairs, load_pair, sample_specs  # noqa: E402


def _context_sample(spec, optical, sar, R: int, T: int):
    """The sample of ``spec`` with a template of 2T and a window of 2R around the same centres,
    or ``None`` where the pair has no room for it. Its truth is the small sample's + (R - T) / 2."""
    g_t, g_r = T // 2, R // 2
    o_row, o_col, s_row, s_col = spec.opt_row - g_t, spec.opt_col - g_t, spec.sar_row - g_r, spec.sar_col - g_r
    if min(o_row, o_col, s_row, s_col) < 0:
        return None
    if o_row + 2 * T > optical.shape[0] or o_col + 2 * T > optical.shape[1]:
        return None
    if s_row + 2 * R > sar.shape[0] or s_col + 2 * R > sar.shape[1]:
        return None
    return (np.ascontiguousarray(optical[o_row:o_row + 2 * T, o_col:o_col + 2 * T], dtype=np.float32),
            np.ascontiguousarray(sar[s_row:s_row + 2 * R, s_col:s_col + 2 * R], dtype=np.float32))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.path.join("..", "shared", "data"))
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--setting", nargs=2, type=int, default=(256, 192), metavar=("WINDOW", "TEMPLATE"))
    ap.add_argument("--agree", type=float, default=1.5, help="px within which two matchers agree")
    ap.add_argument("--matchers", default="cfog,mind,dcdm",
                    help="the first two are the unrelated pair; the context check uses them")
    a = ap.parse_args(argv)
    names = a.matchers.split(",")
    ms = [get_matcher(n) for n in names]
    R, T = a.setting
    specs = sample_specs(list_pairs(a.data, "val"), R, T, a.samples, a.seed)
    errs = {n: [] for n in names}
    pos = {n: [] for n in names}
    ctx = []          # per agreeing miss: (context match − small-template answer, context match − truth)
    miss_rc = []      # per agreeing miss: the small-template answer − truth, (rows, cols)
    loaded = {}
    for sp in sorted(specs, key=lambda sp: sp.pair.pair_id):    # each pair is read once
        if sp.pair.pair_id not in loaded:
            loaded = {sp.pair.pair_id: load_pair(sp.pair)}
        optical, sar = loaded[sp.pair.pair_id]
        s = cut_sample(sp, optical, sar, R, T)
        for n, m in zip(names, ms):
            r = m.match(s.template, s.reference)
            pos[n].append((r.row, r.col))
            errs[n].append(float(np.hypot(r.row - s.true_row, r.col - s.true_col)))
        e0, e1 = errs[names[0]][-1], errs[names[1]][-1]
        (r0, c0), (r1, c1) = pos[names[0]][-1], pos[names[1]][-1]
        if not (e0 > 5 and e1 > 5 and np.hypot(r0 - r1, c0 - c1) <= a.agree):
            continue
        miss_rc.append((r0 - s.true_row, c0 - s.true_col))
        big = _context_sample(sp, optical, sar, R, T)
        if big is None:
            continue
        shift = (R - T) / 2
        for m in ms[:2]:
            b = m.match(*big)
            ctx.append((float(np.hypot(b.row - shift - r0, b.col - shift - c0)),
                        float(np.hypot(b.row - shift - s.true_row, b.col - shift - s.true_col))))
    E = {n: np.nan_to_num(np.array(v), nan=1e9) for n, v in errs.items()}
    P = {n: np.array(v) for n, v in pos.items()}
    n = len(E[names[0]])
    a0, a1 = names[0], names[1]
    agree = np.hypot(*(P[a0] - P[a1]).T) <= a.agree
    agreeing_miss = agree & (E[a0] > 5) & (E[a1] > 5)
    print(f"{n} val samples at {R}/{T}, seed {a.seed}")
    for k in names:
        print(f"  {k:6s} CMR(5) {np.mean(E[k] <= 5):.3f}   misses {np.sum(E[k] > 5)}")
    print(f"  {a0} and {a1} agree within {a.agree} px but both miss by > 5 px: {agreeing_miss.sum()} "
          f"samples ({agreeing_miss.mean():.1%})")
    print(f"  median disagreement with the truth on those: "
          f"{np.median(E[a0][agreeing_miss]) if agreeing_miss.any() else float('nan'):.1f} px")
    for k in names:
        other = E[k] > 5
        print(f"  {k:6s} misses that are agreeing misses: {np.sum(other & agreeing_miss)} of {other.sum()}; "
              f"CMR(5) without them {np.mean(E[k][~agreeing_miss] <= 5):.3f}")
    if miss_rc:
        rc = np.abs(np.array(miss_rc))
        print(f"  {a0}'s miss on those, median |rows| {np.median(rc[:, 0]):.1f} px, |cols| {np.median(rc[:, 1]):.1f} px")
    if ctx:
        c = np.array(ctx)
        k = len(c) // 2
        print(f"  context check ({2 * R}/{2 * T} around the same centres, {k} of {len(miss_rc)} agreeing misses "
              f"have room; {a0} and {a1} each): the larger template lands within {a.agree} px of the small "
              f"ones' answer in {np.mean(c[:, 0] <= a.agree):.0%}, within 5 px of the truth in "
              f"{np.mean(c[:, 1] <= 5):.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
