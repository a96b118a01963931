"""Write the shared pairs with a truth that are plain raster files as a pairs CSV for
``sarcoreg evaluate --pairs`` (as a user would give their own pairs):

    python scripts/shared_pairs_csv.py ../shared/data build/other_pairs.csv [--ombria 10]

- ``cfog_visible1``: its hand control points' mean offset as ``dy, dx``;
- ``gefolki_uavsar`` (EPSG:4326, read on the UTM working grid) and ``gefolki_s1s2``: aligned
  upstream, ``dy, dx`` 0;
- the first ``--ombria`` OMBRIA ``test`` pairs with a reliable measured residual (8-bit PNG
  without georeferencing; the SAR is scaled dB upstream, so ``sar_kind`` db).

The pairs and their truths are those of ``core.sources`` (the validation's "other" and
OMBRIA sources).

The ``hetero_cd`` pairs are MATLAB files, not rasters, and are not listed. Paths are written
absolute.
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sarcoreg.core.errors import InputError  # noqa: E402
from sarcoreg.core.sources import list_source_pairs  # noqa: E402


# the kinds of core.sources that are plain raster files, with the SAR kind to give
RASTER_KINDS = {"tif": "auto", "tif_masked": "auto", "ombria": "db"}


def rows(data: Path, n_ombria: int):
    """``(optical, sar, name, dy, dx, sar_kind)`` of the validation pairs of ``core.sources``
    that are plain raster files: the "other" ones, then the first ``n_ombria`` OMBRIA ones."""
    pairs = list_source_pairs(str(data), roles=("val",), sources=("other", "ombria"))
    ombria = [sp for sp in pairs if sp.source == "ombria"][:n_ombria]
    for sp in [sp for sp in pairs if sp.source == "other"] + ombria:
        if sp.kind in RASTER_KINDS:
            p = sp.pair
            yield (p.optical_path, p.sar_path, p.pair_id.replace("/", "_"), f"{p.residual_dy_px:.3f}",
                   f"{p.residual_dx_px:.3f}", RASTER_KINDS[sp.kind])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--ombria", type=int, default=10, help="how many OMBRIA test pairs (default 10)")
    a = ap.parse_args(argv)
    try:
        found = list(rows(a.data.resolve(), a.ombria))
    except InputError:
        found = []
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
