"""How far apart are `dcdm` and the classical matchers on the validation, beyond the draw?

    python scripts/fusion_study.py cache --role val --samples 120 --seed 0 --noises 1 --out build/conf_val.npz
    python scripts/paired_intervals.py build/conf_val.npz [--per-pair ../shared/data]

From the cached surfaces (the shipped model's translation, MIND's, the shipped CFOG's) it
rebuilds each sample's answer of `dcdm` as the matcher makes it (fused with MIND at the
model's weight, snapped onto MIND's peak), of the translation alone, of `mind` and of `cfog`.
For each pair (`dcdm` or the translation alone against a classical matcher) it prints the
difference of CMR(1), CMR(5) and RMSE(all) over all sources of a setting, with a 90 % paired
bootstrap interval: the samples are drawn again with replacement, the same draw for both
matchers. An interval that holds 0 is a difference this draw cannot tell from none.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from confidence_study import dcdm_answers, peaks  # noqa: E402

from sarcoreg.core.matchers import get_matcher  # noqa: E402

SETTINGS = ((256, 192), (512, 384))


def answers(d, R: int, weight: float, snap_px: float) -> dict:
    """``name -> error (px) of every sample``; a failed match counts as the window's centre,
    as RMSE(all) counts it."""
    tr, mind, cfog = d[f"{R}_tr"][:, 0], d[f"{R}_mind"], d[f"{R}_cfog"]
    truth = d[f"{R}_truth"]
    centre = (tr.shape[-1] - 1) / 2.0

    def err(rows, cols, ok):
        rows, cols = np.where(ok, rows, centre), np.where(ok, cols, centre)
        return np.hypot(rows - truth[:, 0], cols - truth[:, 1])

    rows, cols, _, ok = dcdm_answers(tr, mind, weight, snap_px)
    mr, mc, _, m_ok = peaks(mind)
    out = {"dcdm": err(rows, cols, ok), "mind": err(mr, mc, m_ok)}
    cr, cc, _, c_ok = peaks(cfog)
    out["cfog"] = err(cr, cc, c_ok)
    tr_r, tr_c, _, t_ok = peaks(tr)
    out["translation alone"] = err(tr_r, tr_c, t_ok)
    return out


def measures(e: np.ndarray) -> np.ndarray:
    """CMR(1), CMR(5), RMSE(all) of errors ``e`` along the last axis."""
    return np.stack([(e <= 1).mean(-1), (e <= 5).mean(-1), np.sqrt((e ** 2).mean(-1))], -1)


def paired(a: np.ndarray, b: np.ndarray, n_boot: int, rng: np.random.Generator):
    """``(difference, low, high)`` of ``measures(b) - measures(a)``, 90 % paired bootstrap."""
    idx = rng.integers(0, a.size, size=(n_boot, a.size))
    diff = measures(b[idx]) - measures(a[idx])
    return measures(b) - measures(a), np.percentile(diff, 5, axis=0), np.percentile(diff, 95, axis=0)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("npz", help="a cache of scripts/fusion_study.py (role val to report)")
    p.add_argument("--boot", type=int, default=4000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--per-pair", metavar="DATA", default=None,
                   help="also count each matcher's misses beyond 5 px pair by pair (DATA: the shared data "
                        "folder; the cache must be of the validation, 120 per source, seed 0)")
    a = p.parse_args(argv)
    d = np.load(a.npz)
    m = get_matcher("dcdm")
    rng = np.random.default_rng(a.seed)
    print("| R/T | B − A | n | CMR(1) | CMR(5) | RMSE(all) px |")
    print("|---|---|---|---|---|---|")
    for R, T in SETTINGS:
        if f"{R}_tr" not in d.files:
            continue
        e = answers(d, R, m.fuse_weight(T), m.snap(T))
        for b in ("dcdm", "translation alone"):
            for c in ("mind", "cfog"):
                diff, lo, hi = paired(e[c], e[b], a.boot, rng)
                cells = [f"{diff[k]:+.3f} [{lo[k]:+.3f}, {hi[k]:+.3f}]" for k in range(3)]
                print(f"| {R}/{T} | {b} − {c} | {e[b].size} | " + " | ".join(cells) + " |")
    print("\n(RMSE: lower is better, so a negative difference favours B.)")
    if a.per_pair:
        per_pair(d, m, a.per_pair)
    return 0


def per_pair(d, m, data: str) -> None:
    """Misses beyond 5 px of each matcher, pair by pair (``s1s2_la`` and OMBRIA each as one)."""
    from sarcoreg.core.sources import source_samples

    for R, T in SETTINGS:
        if f"{R}_tr" not in d.files:
            continue
        samples = [s for g in source_samples(data, R, T, 120, 0, "val", la_truth="local") for s in g.samples]
        source = d[f"{R}_source"]
        if len(samples) != len(source):
            raise SystemExit(f"{R}/{T}: the cache holds {len(source)} samples, the validation {len(samples)}: "
                             "give a cache of --role val --samples 120 --seed 0")
        e = answers(d, R, m.fuse_weight(T), m.snap(T))
        names = list(e)
        print(f"\n{R}/{T}, misses beyond 5 px: pair (n): " + " / ".join(names))
        pairs = np.array([s.pair_id if src == "other" else str(src) for s, src in zip(samples, source)])
        for pair in sorted(set(pairs)):
            k = pairs == pair
            print(f"  {pair} ({int(k.sum())}): " + " / ".join(str(int((e[n][k] > 5).sum())) for n in names))


if __name__ == "__main__":
    sys.exit(main())
