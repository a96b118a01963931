"""Whether one candidate beats another on dev by more than the draw of samples explains.

    python scripts/compare_dev.py build/rank/shipped/dev.json build/rank/step_52000/dev.json

Both files come from ``scripts/choose_on_dev.py`` on the same dev samples (same ``--samples``,
``--seed`` and truth; checked). For each setting and for the overall selection score (the
mean over both settings of CMR(1) + CMR(3) + CMR(5) − RMSE(all) / 10) it prints the
difference B − A, a paired bootstrap interval of it (the same resampled samples for both
candidates), and how many samples each one has within 1 and 5 px that the other has not.
A difference whose interval holds 0 is one the dev split cannot tell from the draw: do not
choose on it. ``--what translation`` compares the translations alone instead of the fusions.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def load(path: str, what: str):
    d = json.loads(Path(path).read_text())
    if "per_sample" not in d:
        sys.exit(f"{path}: no per-sample errors: run scripts/choose_on_dev.py again (it records them now)")
    out = {}
    for t, v in d["per_sample"].items():
        e = np.array([np.nan if x is None else x for x in v[what]["error_px"]], float)
        out[t] = (e, np.array(v[what]["error_all_px"], float), np.array(v[what]["truth"], float))
    return out


def setting_score(e: np.ndarray, e_all: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Selection score of one setting for each row of sample indices ``idx`` (k, n)."""
    with np.errstate(invalid="ignore"):
        hits = sum((e[idx] <= t).mean(axis=1) for t in (1.0, 3.0, 5.0))
    return hits - np.sqrt((e_all[idx] ** 2).mean(axis=1)) / 10.0


def compare(a, b, n_boot: int = 4000, seed: int = 0):
    """Rows ``(setting, difference, low, high, only_a_1, only_b_1, only_a_5, only_b_5)`` and the
    overall row, with a 90 % paired bootstrap interval."""
    if a.keys() != b.keys():
        sys.exit(f"the two files hold other settings: {sorted(a)} against {sorted(b)}")
    rng = np.random.default_rng(seed)
    rows, boots, diffs = [], [], []
    for t in sorted(a, key=int):
        (ea, aa, ta), (eb, ab, tb) = a[t], b[t]
        if ta.shape != tb.shape or not np.allclose(ta, tb, atol=1e-3):
            sys.exit(f"template {t} px: the two files scored other samples (other --samples, --seed or truth)")
        n = len(ea)
        whole = np.arange(n)[None]
        diff = float(setting_score(eb, ab, whole)[0] - setting_score(ea, aa, whole)[0])
        idx = rng.integers(0, n, size=(n_boot, n))
        boot = setting_score(eb, ab, idx) - setting_score(ea, aa, idx)
        with np.errstate(invalid="ignore"):
            only = [int(((ea <= k) & ~(eb <= k)).sum()) for k in (1, 5)], [int(((eb <= k) & ~(ea <= k)).sum()) for k in (1, 5)]
        rows.append((f"{t} px", diff, *np.percentile(boot, [5, 95]), only[0][0], only[1][0], only[0][1], only[1][1]))
        boots.append(boot)
        diffs.append(diff)
    overall = np.mean(boots, axis=0)
    rows.append(("overall", float(np.mean(diffs)), *np.percentile(overall, [5, 95]), None, None, None, None))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", help="dev.json of the reference (e.g. the shipped model)")
    ap.add_argument("b", help="dev.json of the candidate")
    ap.add_argument("--what", choices=("fused", "translation"), default="fused")
    ap.add_argument("--boot", type=int, default=4000, help="bootstrap draws")
    a = ap.parse_args(argv)
    rows = compare(load(a.a, a.what), load(a.b, a.what), a.boot)
    print(f"B = {a.b}\nA = {a.a}\n")
    print("| template | score B − A | 90 % interval | within 1 px: only A / only B | within 5 px: only A / only B |")
    print("|---|---|---|---|---|")
    for name, d, lo, hi, a1, b1, a5, b5 in rows:
        tail = f"{a1} / {b1} | {a5} / {b5}" if a1 is not None else "– | –"
        print(f"| {name} | {d:+.3f} | [{lo:+.3f}, {hi:+.3f}] | {tail} |")
    d, lo, hi = rows[-1][1:4]
    verdict = "B is better" if lo > 0 else "A is better" if hi < 0 else "no difference the dev split can tell"
    print(f"\n{verdict} (overall {d:+.3f}, 90 % interval [{lo:+.3f}, {hi:+.3f}])")
    return 0


if __name__ == "__main__":
    sys.exit(main())
