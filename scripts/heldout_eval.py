"""The evaluation protocol on real pairs from other sensors and places than the training data.

    python scripts/heldout_eval.py --samples 100 --matchers cfog,mind,dcdm

No pair here was used to train, select or tune anything (the model is trained on the
Los Angeles Sentinel-1/Sentinel-2 pairs only):

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

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sarcoreg.core.evaluate import format_markdown, score_samples_by_pair  # noqa: E402
from sarcoreg.core.matchers import get_matcher  # noqa: E402
from sarcoreg.core.radiometry import to_db  # noqa: E402
from sarcoreg.core.samples import Pair, cut_sample, sample_specs  # noqa: E402

# which image of each hetero_cd dataset is the SAR (looked at: speckle, one grey channel)
HETERO_SAR = {"dataset#2": "image_t2", "dataset#4": "image_t1", "dataset#5": "image_t1", "dataset#6": "image_t2"}


def load_pairs(data: Path):
    """``[(Pair, optical_grey, sar_db)]`` of the held-out pairs that exist under ``data``."""
    from osgeo import gdal

    out = []
    het = data / "hetero_cd"
    if het.is_dir():
        from scipy.io import loadmat
        for name, sar_key in HETERO_SAR.items():
            f = het / f"{name}.mat"
            if not f.is_file():
                continue
            d = loadmat(str(f))
            opt_key = "image_t2" if sar_key == "image_t1" else "image_t1"
            opt = d[opt_key].astype(np.float32).mean(axis=2)
            sar = to_db(d[sar_key].astype(np.float32).mean(axis=2), "amplitude")
            out.append((Pair(f"hetero_cd/{name}", str(f), str(f), 0.0, 0.0), opt, sar))
    cv = data / "cfog_visible1"
    if cv.is_dir():
        cps = np.loadtxt(cv / "visibleToSAR1_CP.txt")   # x_ref y_ref x_sen y_sen
        dy, dx = float(np.mean(cps[:, 3] - cps[:, 1])), float(np.mean(cps[:, 2] - cps[:, 0]))
        opt = gdal.Open(str(cv / "visible1_ref.tif")).ReadAsArray().astype(np.float32)
        sar = gdal.Open(str(cv / "SAR1_sen.tif")).ReadAsArray().astype(np.float32)
        opt = opt.mean(axis=0) if opt.ndim == 3 else opt
        sar = sar.mean(axis=0) if sar.ndim == 3 else sar
        out.append((Pair("cfog_visible1", str(cv), str(cv), dy, dx), opt, to_db(sar, "amplitude")))
    for folder, sar_glob, opt_glob in (("gefolki_uavsar", "*_radar.tif", "*_optique.tif"),
                                       ("gefolki_s1s2", "S1_*.tif", "S2_*.tif")):
        sar_files, opt_files = sorted((data / folder).glob(sar_glob)), sorted((data / folder).glob(opt_glob))
        if not (sar_files and opt_files):
            continue
        sar = gdal.Open(str(sar_files[0])).ReadAsArray().astype(np.float32)
        opt = gdal.Open(str(opt_files[0])).ReadAsArray().astype(np.float32)
        sar = sar.reshape(-1, *sar.shape[-2:])
        sar_grey = sar.mean(axis=0)
        sar_grey[(sar == 0).all(axis=0)] = np.nan          # the Pauli image's black border
        opt = opt.mean(axis=0) if opt.ndim == 3 else opt
        out.append((Pair(folder, str(sar_files[0]), str(opt_files[0]), 0.0, 0.0), opt, to_db(sar_grey, "amplitude")))
    return out


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
