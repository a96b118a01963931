"""How much of the evaluation's misses can the truth explain? (diagnostic, not a score)

    python scripts/truth_check.py --samples 200 --setting 256 192

The ``s1s2_la`` truth is one residual shift per 1024 × 1024 pair; hilly ground moves inside
a pair by several pixels (SAR geometry). For each ``val`` protocol sample, two matchers built
on unrelated descriptors (CFOG: oriented gradients; MIND: self-similarity) are run; when
both agree with each other within ``--agree`` px but both miss the truth by more than 5 px,
the miss is more likely the truth's than the matchers'. Prints CMR(5) of each matcher, the
share of such "agreeing misses", and the CMR(5) one would get if those samples were right.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sarcoreg.core.matchers import get_matcher  # noqa: E402
from sarcoreg.core.samples import iter_samples  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.path.join("..", "shared", "data"))
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--setting", nargs=2, type=int, default=(256, 192), metavar=("WINDOW", "TEMPLATE"))
    ap.add_argument("--agree", type=float, default=1.5, help="px within which two matchers agree")
    ap.add_argument("--matchers", default="cfog,mind,dcdm")
    a = ap.parse_args(argv)
    names = a.matchers.split(",")
    ms = [get_matcher(n) for n in names]
    R, T = a.setting
    errs = {n: [] for n in names}
    pos = {n: [] for n in names}
    for s in iter_samples(a.data, R, T, a.samples, a.seed, "val"):
        for n, m in zip(names, ms):
            r = m.match(s.template, s.reference)
            pos[n].append((r.row, r.col))
            errs[n].append(float(np.hypot(r.row - s.true_row, r.col - s.true_col)))
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
