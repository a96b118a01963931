"""Cache the similarity surfaces of every protocol sample once, then score fusion rules on them.

    python scripts/fusion_study.py cache --role dev --samples 100 --seed 11 --out build/study_dev.npz
    python scripts/fusion_study.py score build/study_dev.npz

``cache`` stores, per setting (256/192, 512/384) and sample: the shipped model's translation
surface (moved by its stored shift, as ``dcdm`` matches it) from the fixed starting noise and
from ``--noises - 1`` other starting noises, MIND's and the shipped CFOG's surfaces, the truth
and the source. ``score`` prints the rules below for each setting and the selection score of
``scripts/choose_on_dev.py`` (mean over both settings of CMR(1) + CMR(3) + CMR(5) −
RMSE(all) / 10). Use ``--role dev`` to choose; ``--role val`` only to report a rule chosen on dev.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import sarcoreg.core.dcdm.matcher as dm  # noqa: E402
from sarcoreg.core.dcdm.matcher import TRANSLATION_ALONE  # noqa: E402
from sarcoreg.core.matchers import get_matcher  # noqa: E402
from sarcoreg.core.sources import LA_TRUTH_HELP, LA_TRUTHS  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from choose_on_dev import (guarded, protocol_samples, sample_score, score_surfaces,  # noqa: E402
                           surface_of)

SETTINGS = ((256, 192), (512, 384))
SMOOTH = (0.7, 1.0, 1.5, 2.0)


def smoothed_surface(translated, reference, sigma, n):
    """ZNCC surface of a translation (NaN outside its data) in the reference smoothed by a
    Gaussian of ``sigma`` px after the model's normalisation."""
    from scipy.ndimage import gaussian_filter

    from sarcoreg.core.dcdm.contract import prepare
    from sarcoreg.core.matchers.kernels import zncc_surface

    ref = gaussian_filter(prepare(reference), sigma, mode="nearest")
    ref = np.where(np.isfinite(reference), ref, np.float32(np.nan)).astype(np.float32)
    t_used = int(np.isfinite(translated).any(axis=1).sum())
    return np.nan_to_num(zncc_surface(translated[:t_used, :t_used], ref)[:n, :n], nan=-1.0).astype(np.float32)


def cache(a) -> int:
    out = {}
    base_noise = dm.fixed_noise
    m = get_matcher("dcdm", **TRANSLATION_ALONE, attention_prior=0.0, threads=a.threads)
    mind, cfog = get_matcher("mind"), get_matcher("cfog")
    for R, T in SETTINGS:
        groups, samples = protocol_samples(a.data, R, T, a.samples, a.seed, a.role, a.la_truth)
        n = R - T + 1
        tr = np.zeros((len(samples), a.noises, n, n), np.float32)
        images = []
        for k in range(a.noises):
            # noise 0 is the shipped fixed x_T; the others are drawn from seeded generators
            dm.fixed_noise = base_noise if k == 0 else (
                lambda shape, config, k=k: np.random.default_rng([1000 + k, *shape]).standard_normal(shape).astype(np.float32))
            for i, s in enumerate(samples):
                res = m.match(s.template, s.reference)
                tr[i, k] = surface_of(res, n)
                if k == 0:
                    images.append(res.translated)
            print(f"{R}/{T} noise {k} done", file=sys.stderr, flush=True)
        dm.fixed_noise = base_noise
        # the translation against a smoothed reference (the translation carries no speckle)
        for sigma in SMOOTH:
            out[f"{R}_tr_smooth{sigma:g}"] = np.stack(
                [smoothed_surface(img, s.reference, sigma, n) for img, s in zip(images, samples)])
        out[f"{R}_tr"] = tr
        out[f"{R}_mind"] = np.stack([surface_of(mind.match(s.template, s.reference), n) for s in samples])
        out[f"{R}_cfog"] = np.stack([surface_of(cfog.match(s.template, s.reference), n) for s in samples])
        out[f"{R}_truth"] = np.array([(s.true_row, s.true_col) for s in samples], np.float64)
        out[f"{R}_source"] = np.array([g.source for g in groups for _ in g.samples])
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    tmp = a.out + ".part.npz"
    np.savez_compressed(tmp, **out)
    os.replace(tmp, a.out)
    print(f"wrote {a.out}", file=sys.stderr)
    return 0


class _S:
    def __init__(self, r, c):
        self.true_row, self.true_col = r, c


def zscore(s):
    v = s[s > -1]
    return (s - v.mean()) / max(float(v.std()), 1e-6) if v.size else s


def rules(tr, mind, cfog, w, smooth):
    """Candidate fusions of one sample, ``name -> (fused surface, its classical part)`` (tr:
    (noises, n, n); smooth: ``{sigma: the translation's surface in the smoothed reference}``);
    the classical part is what the snap moves the answer onto."""
    t0, tm = tr[0], tr.mean(axis=0)
    both = 0.5 * (mind + cfog)
    return {
        **{f"fixed w, reference smoothed σ {k:g}": ((1 - w) * v + w * mind, mind) for k, v in smooth.items()},
        "fixed w (shipped rule)": ((1 - w) * t0 + w * mind, mind),
        "fixed w, noises averaged": ((1 - w) * tm + w * mind, mind),
        "z-scored surfaces": ((1 - w) * zscore(t0) + w * zscore(mind), mind),
        "three-way (cfog half of classical)": ((1 - w) * t0 + w * both, both),
    }


def score_file(a) -> int:
    z = np.load(a.npz)
    table = {}
    for R, T in SETTINGS:
        tr, mind, cfog = z[f"{R}_tr"], z[f"{R}_mind"], z[f"{R}_cfog"]
        samples = [_S(r, c) for r, c in z[f"{R}_truth"]]
        src = z[f"{R}_source"]
        alone = {"translation alone": [x[0] for x in tr], "translation alone, noises averaged": [x.mean(0) for x in tr],
                 "mind": list(mind), "cfog": list(cfog)}
        for sigma in SMOOTH:
            alone[f"translation alone, reference smoothed σ {sigma:g}"] = list(z[f"{R}_tr_smooth{sigma:g}"])
        for name, surf in alone.items():
            s = score_surfaces(name, R, T, samples, surf)[0]
            table.setdefault((name, "–", 0.0), {})[R] = s
        for w in np.round(np.linspace(0.1, 0.9, 9), 2):
            fused = [rules(tr[i], mind[i], cfog[i], w, {g: z[f"{R}_tr_smooth{g:g}"][i] for g in SMOOTH})
                     for i in range(len(samples))]
            for name in fused[0]:
                surf, cl = [f[name][0] for f in fused], [f[name][1] for f in fused]
                for snap in (0.0, 1.0):
                    s = guarded(name, R, T, samples, surf, cl, 0.0, snap) if snap else \
                        score_surfaces(name, R, T, samples, surf)[0]
                    table.setdefault((name, f"{w:g}", snap), {})[R] = s
        print(f"{R}/{T}: " + ", ".join(f"{u} {int((src == u).sum())}" for u in np.unique(src)), file=sys.stderr)
    print("| rule | w | snap | 256/192 CMR(1) / CMR(5) / RMSE(all) | 512/384 | score per setting |")
    print("|---|---|---|---|---|---|")
    for (name, w, snap), by in table.items():
        sc = [sample_score(by[R]) for R, _ in SETTINGS]
        print(f"| {name} | {w} | {snap:g} | " + " | ".join(f"{by[R].cmr1:.3f} / {by[R].cmr5:.3f} / {by[R].rmse_all:.2f}"
                                                            for R, _ in SETTINGS)
              + f" | {sc[0]:.3f}, {sc[1]:.3f} |")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("cache")
    c.add_argument("--data", default=os.path.join("..", "shared", "data"))
    c.add_argument("--role", default="dev")
    c.add_argument("--samples", type=int, default=100)
    c.add_argument("--seed", type=int, default=11)
    c.add_argument("--la-truth", choices=LA_TRUTHS, default="local", help=LA_TRUTH_HELP)
    c.add_argument("--noises", type=int, default=3)
    c.add_argument("--threads", type=int, default=1)
    c.add_argument("--out", required=True)
    s = sub.add_parser("score")
    s.add_argument("npz")
    a = ap.parse_args(argv)
    return cache(a) if a.cmd == "cache" else score_file(a)


if __name__ == "__main__":
    sys.exit(main())
