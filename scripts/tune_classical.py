"""Tune a classical matcher's settings on the *dev* split (never on ``val``): each setting
varied alone around the current default, scored like ``choose_on_dev.py``.

    python scripts/tune_classical.py --matcher mind --samples 250 --out build/tune_mind.json
    python scripts/tune_classical.py --matcher mind --grid "sigma_px=1.5,2;presmooth_px=0.5" --also "sigma_px=1.5,presmooth_px=0.5"

Dev samples as in ``choose_on_dev.py`` (``core.sources`` role ``dev``, truth-checked, seed 11,
256/192 and 512/384). For every candidate the similarity surface of every sample is computed
once and scored by the *selection score*: the mean over both settings of CMR(1) + CMR(3) +
CMR(5) − RMSE(all) / 10. ``--grid`` lists the values tried per option (one option changed at
a time from the default); ``--also`` adds whole settings (several options at once, ``;``
between settings). Prints a Markdown table, best first, with the median seconds per sample,
and writes the rows as JSON. A setting replaces the default only by a margin fixed before
looking (``--margin``, 0.02 by default): the script says whether one did.
"""
from __future__ import annotations

import argparse
import ast
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from choose_on_dev import matcher_surfaces, protocol_samples, score_surfaces, selection_score, write_json  # noqa: E402

from sarcoreg.core.matchers import get_matcher  # noqa: E402

GRIDS = {
    "mind": "presmooth_px=0.5,1.5;sigma_px=0.7,1.5,2.0;distance_px=2;neighbours=4;post_sigma_px=1.0;var_floor=0.01,0.1",
    "cfog": "presmooth_px=0,1.0;sigma_px=0.8,1.5,2.0;norm_floor=0,0.5,2.0;magnitude_power=1.5,2.0",
}


def parse_settings(text: str, sep: str = ";") -> list:
    """``"a=1,2;b=3"`` → ``[("a", [1, 2]), ("b", [3])]`` (values as Python literals)."""
    out = []
    for item in filter(None, (p.strip() for p in text.split(sep))):
        key, _, values = item.partition("=")
        out.append((key.strip(), [ast.literal_eval(v) for v in values.split(",") if v.strip()]))
    return out


def candidates(grid: str, also: str) -> list:
    """``(label, options)``: the default, each option of ``grid`` alone, each setting of ``also``."""
    out = [("default", {})]
    for key, values in parse_settings(grid):
        out += [(f"{key}={v}", {key: v}) for v in values]
    for setting in filter(None, (s.strip() for s in also.split(";"))):
        opts = {k: v[0] for k, v in parse_settings(setting, sep=",")}
        out.append((", ".join(f"{k}={v}" for k, v in opts.items()), opts))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.path.join("..", "shared", "data"))
    ap.add_argument("--matcher", default="mind", choices=sorted(GRIDS))
    ap.add_argument("--grid", default=None, help="values per option, e.g. 'sigma_px=1.5,2;presmooth_px=0.5' "
                                                 "(default: a grid around the matcher's defaults)")
    ap.add_argument("--also", default="", help="whole settings, e.g. 'sigma_px=1.5,presmooth_px=0.5;...'")
    ap.add_argument("--samples", type=int, default=250, help="per source and setting")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--margin", type=float, default=0.02, help="selection-score margin to replace the default")
    ap.add_argument("--out", default=None, help="JSON of the rows (default: build/tune_<matcher>.json)")
    a = ap.parse_args(argv)
    settings = ((256, 192), (512, 384))
    data = {}
    for R, T in settings:
        data[(R, T)] = protocol_samples(a.data, R, T, a.samples, a.seed, "dev")[1]
    rows = []
    for label, opts in candidates(a.grid or GRIDS[a.matcher], a.also):
        m = get_matcher(a.matcher, **opts)
        scores, secs = [], []
        for R, T in settings:
            surfaces, sec = matcher_surfaces(m, data[(R, T)], R, T)
            scores.append(score_surfaces(label, R, T, data[(R, T)], surfaces)[0])
            secs.append(sec)
        rows.append({"label": label, "options": opts, "selection_score": round(selection_score(scores), 4),
                     "seconds": [round(x, 4) for x in secs],
                     "scores": {f"{R}/{T}": {"cmr1": round(s.cmr1, 4), "cmr3": round(s.cmr3, 4), "cmr5": round(s.cmr5, 4),
                                             "rmse_all": round(s.rmse_all, 3)} for (R, T), s in zip(settings, scores)}})
        print(f"  {label}: {rows[-1]['selection_score']:.4f}", file=sys.stderr, flush=True)
    default = rows[0]["selection_score"]
    rows.sort(key=lambda r: -r["selection_score"])
    print(f"\n## {a.matcher} settings on dev ({a.samples} per source, seed {a.seed})\n")
    print("| setting | 256/192 CMR(1) / CMR(5) / RMSE(all) | 512/384 CMR(1) / CMR(5) / RMSE(all) | s / sample 256, 512 | selection score |")
    print("|---|---|---|---|---|")
    for r in rows:
        cells = " | ".join(f"{v['cmr1']:.3f} / {v['cmr5']:.3f} / {v['rmse_all']:.2f}" for v in r["scores"].values())
        print(f"| {r['label']} | {cells} | {r['seconds'][0]:.3f}, {r['seconds'][1]:.3f} | {r['selection_score']:.3f} |")
    best = rows[0]
    replace = best["label"] != "default" and best["selection_score"] >= default + a.margin
    print(f"\nbest: {best['label']} ({best['selection_score']:.4f}) against the default's {default:.4f}: "
          + (f"beats it by the margin {a.margin}" if replace else f"not by the margin {a.margin}: the default stays"))
    write_json(a.out or f"build/tune_{a.matcher}.json",
               {"matcher": a.matcher, "samples_per_source": a.samples, "seed": a.seed, "margin": a.margin,
                "default_score": default, "replace": replace, "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
