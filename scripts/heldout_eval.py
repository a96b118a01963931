"""The evaluation protocol on real pairs from other sensors and places than the training data.

    python scripts/heldout_eval.py --samples 100 --matchers cfog,mind,dcdm

No pair here was used to train, select or tune anything (the model is trained on the
Los Angeles Sentinel-1/Sentinel-2 `train` pairs and OMBRIA's upstream `train` folder; choices
are made on their `dev` parts):

- ``hetero_cd`` datasets #2, #4, #5, #6: optical and SAR on one exact grid by construction
  (Radarsat-2, Sentinel-1 and other SAR against Landsat / Google Earth optical, other
  countries and dates; 4–12 % of the pixels changed between the dates), truth = the
  integer offset of the cut;
- ``cfog_visible1``: optical + SAR with hand control points; the truth adds their mean
  offset (about 1 px);
- ``gefolki_uavsar``: UAVSAR L-band Pauli RGB against aerial RGB (airborne SAR, 1024 px),
  and ``gefolki_s1s2``: Sentinel-1 against Sentinel-2 in another country (448 px, so only
  at 256/192); both are aligned upstream, truth = the offset of the cut alone. CFOG and MIND
  agree on a median residual of (-0.45, 0.01) and (-0.15, -0.19) px over a grid of templates
  on them, so CMR(1) there is good to about half a pixel. (The ``Flow_patch11.tif`` field
  beside the S1/S2 pair does not describe the offset between its two images: it is all
  positive, up to 7 px, where both descriptors find less than 1 px.)

Samples are cut as in ``core/samples.py`` (SAR 8-bit amplitude → dB, optical grey = mean of
the bands) at 256/192 and, where a pair is large enough, 512/384, and scored with
``core.evaluate.score`` (CMR, RMSE as in DCDM.md). Prints a Markdown table, then the same
figures pair by pair.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sarcoreg.core.evaluate import format_markdown, score_samples_by_pair  # noqa: E402
from sarcoreg.core.matchers import get_matcher  # noqa: E402
from sarcoreg.core.samples import cut_sample, sample_specs  # noqa: E402
from sarcoreg.core.sources import list_source_pairs, load  # noqa: E402

def load_pairs(data: Path):
    """``[(Pair, optical_grey, sar_db)]`` of the held-out pairs that exist under ``data``
    (the ``other`` source of ``core.sources``, read by its one loader)."""
    from sarcoreg.core.errors import InputError

    try:
        pairs = list_source_pairs(str(data), roles=("val",), sources=("other",))
    except InputError:
        return []
    return [(sp.pair, *load(sp)) for sp in pairs]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.path.join("..", "shared", "data"))
    ap.add_argument("--samples", type=int, default=100, help="per setting, spread over the pairs")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--matchers", default="cfog,mind,dcdm")
    a = ap.parse_args(argv)
    loaded = load_pairs(Path(a.data))
    if not loaded:
        print(f"{a.data}: no held-out pairs (hetero_cd/, cfog_visible1/, gefolki_*/) found", file=sys.stderr)
        return 2
    matchers = [get_matcher(n) for n in a.matchers.split(",")]
    results, per_pair = [], []
    for R, T in ((256, 192), (512, 384)):
        usable = [(p, o, s) for p, o, s in loaded if min(o.shape) >= R + 8]
        if not usable:
            continue
        specs = sample_specs([p for p, _, _ in usable], R, T, a.samples, a.seed,
                             shapes=[o.shape for _, o, _ in usable])
        images = {p.pair_id: (o, s) for p, o, s in usable}
        samples = [cut_sample(sp, *images[sp.pair.pair_id], R, T) for sp in specs]
        print(f"{R}/{T}: {len(samples)} samples from {', '.join(p.pair_id for p, _, _ in usable)}", file=sys.stderr)
        for m in matchers:
            total, by_pair = score_samples_by_pair(m, samples, R, T)
            results.append(total)
            per_pair += [(pid, r) for pid, r in by_pair.items()]
    print(format_markdown(results))
    print("| pair | R / T | matcher | n | CMR(1) | CMR(5) | RMSE(all) px |\n|---|---|---|---|---|---|---|")
    for pid, r in sorted(per_pair, key=lambda t: (t[0], t[1].window_px)):
        print(f"| {pid} | {r.window_px} / {r.template_px} | {r.matcher} | {r.n} | {r.cmr1:.2f} | {r.cmr5:.2f} "
              f"| {r.rmse_all:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
