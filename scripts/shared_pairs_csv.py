"""Write the shared pairs with a truth that are plain raster files as a pairs CSV for
``sarcoreg evaluate --pairs`` (as a user would give their own pairs):

    python scripts/shared_pairs_csv.py ../shared/data build/other_pairs.csv [--ombria 10]

- ``cfog_visible1``: its hand control points' mean offset as ``dy, dx``;
- ``gefolki_uavsar`` (EPSG:4326, read on the UTM working grid) and ``gefolki_s1s2``: aligned
  upstream, ``dy, dx`` empty (0);
- the first ``--ombria`` OMBRIA ``test`` pairs with a reliable measured residual (8-bit PNG
  without georeferencing; the SAR is scaled dB upstream, so ``sar_kind`` db).

The ``hetero_cd`` pairs are MATLAB files, not rasters, and are not listed. Paths are written
absolute.
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sarcoreg.core.sources import read_residuals  # noqa: E402


def rows(data: Path, n_ombria: int):
    cv = data / "cfog_visible1"
    if (cv / "visibleToSAR1_CP.txt").is_file():
        cps = np.loadtxt(cv / "visibleToSAR1_CP.txt")   # x_ref y_ref x_sen y_sen
        yield (cv / "visible1_ref.tif", cv / "SAR1_sen.tif", "cfog_visible1",
               f"{np.mean(cps[:, 3] - cps[:, 1]):.3f}", f"{np.mean(cps[:, 2] - cps[:, 0]):.3f}", "auto")
    for folder, sar_glob, opt_glob in (("gefolki_uavsar", "*_radar.tif", "*_optique.tif"),
                                       ("gefolki_s1s2", "S1_*.tif", "S2_*.tif")):
        sar, opt = sorted((data / folder).glob(sar_glob)), sorted((data / folder).glob(opt_glob))
        if sar and opt:
            yield opt[0], sar[0], folder, "", "", "auto"
    residuals = read_residuals()
    taken = 0
    for s1 in sorted((data / "ombria" / "OmbriaS1" / "test" / "BEFORE").glob("S1_before_*.png")):
        number = s1.stem.rsplit("_", 1)[-1]
        s2 = data / "ombria" / "OmbriaS2" / "test" / "BEFORE" / f"S2_before_{number}.png"
        pid = f"ombria/test/{number}"
        if taken == n_ombria or not s2.is_file() or pid not in residuals:
            continue
        taken += 1
        dy, dx = residuals[pid]
        yield s2, s1, f"ombria_test_{number}", f"{dy:.3f}", f"{dx:.3f}", "db"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--ombria", type=int, default=10, help="how many OMBRIA test pairs (default 10)")
    a = ap.parse_args(argv)
    found = list(rows(a.data.resolve(), a.ombria))
    if not found:
        print(f"{a.data}: none of the shared pairs is there", file=sys.stderr)
        return 2
    a.out.parent.mkdir(parents=True, exist_ok=True)
    with open(a.out, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["optical", "sar", "name", "dy", "dx", "sar_kind"])
        w.writerows([str(r[0]), str(r[1]), *r[2:]] for r in found)
    print(f"wrote {len(found)} pairs to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
