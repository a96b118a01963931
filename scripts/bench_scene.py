"""Whole-scene co-registration with the previous and the current settings, side by side.

    .venv/bin/python scripts/bench_scene.py OPTICAL SAR --matcher cfog --srcwin 8192 3072 4096 4096

Both settings run on the same scene in one process, alternating (previous, current, previous,
current, ... ``--repeats`` times each), so that a change in the machine's load hits both alike;
the script prints each run's wall time, seconds per window and per-stage split
(``report.json`` ``timings.stages``), the ratios previous / current (medians), and whether the
two settings gave the same tie points.

``--baseline kernels`` (the default): "previous" is the engine as it was before the speed work
of issue 13: the plain kernels of
``core/matchers/reference.py`` (dense-matrix Gaussian blur, full-spectrum float64 FFTs, 2-D
integral images, the first ``normalise``) for CFOG/MIND, the coarse pass and DCDM's CFOG
fusion, every raster read through a warped VRT (``raster.WARP_ALIGNED``), and the float32
DCDM graph. ``--baseline serial``: "previous" is the current engine with a window's
pieces of work done one after the other (``matchers.common.HELPER_THREADS`` off: no helper
thread for the template's descriptor or DCDM's classical part), to see what the helper threads
do to a whole scene. ``--baseline gaps``: "previous" is the current engine reading every
template, also where the coarse pass's ``Gaps`` show it empty. ``--baseline fp32``: "previous" is
the current engine with the float32 DCDM graph, "current" opens the fastest variant whose
parity gate passed (``light``: the distilled decoder). "current" is the engine as it is.

``--srcwin XOFF YOFF XSIZE YSIZE`` first cuts both scenes to that pixel window of the optical
scene's grid with ``gdal_translate`` into a temporary folder (the SAR by the same map extent),
so a large mosaic can be benchmarked on a part of it.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


@contextlib.contextmanager
def previous_settings():
    """Swap in the kernels and reading the engine used before (see the module doc)."""
    from sarcoreg.core import coregister, raster
    from sarcoreg.core import matchers as registry
    from sarcoreg.core.dcdm import contract
    from sarcoreg.core.matchers import reference

    saved = (registry.get_matcher, raster.WARP_ALIGNED, contract.normalise)
    dcdm_mod = sys.modules.get("sarcoreg.core.dcdm.matcher")
    saved_zncc = getattr(dcdm_mod, "zncc_surface", None)

    def get_matcher(name, **options):
        if name in ("cfog", "mind"):
            return reference.get_matcher(name, **options)
        return saved[0](name, **options)

    registry.get_matcher = get_matcher
    raster.WARP_ALIGNED = True
    contract.normalise = reference.normalise
    if dcdm_mod is not None:
        dcdm_mod.zncc_surface = reference.zncc_surface
    coregister._MATCHER_CACHE.clear()
    try:
        yield
    finally:
        registry.get_matcher, raster.WARP_ALIGNED, contract.normalise = saved
        if dcdm_mod is not None:
            dcdm_mod.zncc_surface = saved_zncc
        coregister._MATCHER_CACHE.clear()
        raster.close_thread_datasets()


@contextlib.contextmanager
def without_helpers():
    """The current engine without helper threads: each window's work one piece after the other."""
    from sarcoreg.core.matchers import common

    saved = common.HELPER_THREADS
    common.HELPER_THREADS = False
    try:
        yield
    finally:
        common.HELPER_THREADS = saved


@contextlib.contextmanager
def reading_every_template():
    """The current engine without the coarse pass's gap mask: every template is read."""
    from sarcoreg.core import coarse

    saved = coarse.Gaps.covers
    coarse.Gaps.covers = lambda self, *box: False
    try:
        yield
    finally:
        coarse.Gaps.covers = saved


# what "previous" is (``--baseline``): each a context in which the engine runs as it did
BASELINES = {"kernels": previous_settings, "serial": without_helpers, "gaps": reading_every_template,
             "fp32": contextlib.nullcontext}


def crop(optical: str, sar: str, srcwin, out_dir: Path):
    """Both scenes cut to ``srcwin`` of the optical grid (the SAR by the same map extent)."""
    from osgeo import gdal

    gdal.UseExceptions()
    ds = gdal.Open(optical)
    gt = ds.GetGeoTransform()
    x0, y0, w, h = srcwin
    ulx, uly = gt[0] + x0 * gt[1], gt[3] + y0 * gt[5]
    lrx, lry = gt[0] + (x0 + w) * gt[1], gt[3] + (y0 + h) * gt[5]
    opt, sr = out_dir / "optical.tif", out_dir / "sar.tif"
    subprocess.run(["gdal_translate", "-q", "-srcwin", *map(str, srcwin), "-co", "TILED=YES", optical, str(opt)],
                   check=True)
    subprocess.run(["gdal_translate", "-q", "-projwin", *map(str, (ulx, uly, lrx, lry)), "-co", "TILED=YES", sar,
                    str(sr)], check=True)
    return str(opt), str(sr)


def run_once(optical: str, sar: str, out: Path, args, previous: bool) -> dict:
    from sarcoreg.core.config import CoregConfig
    from sarcoreg.core.coregister import coregister

    config = CoregConfig(matcher=args.matcher, window_px=args.window, template_px=args.template,
                         spacing_px=args.spacing, workers=args.workers, write_similarity=False)
    matcher = None
    if args.matcher == "dcdm":
        from sarcoreg.core.dcdm.matcher import DcdmMatcher

        matcher = DcdmMatcher(provider="cpu", precision="fp32" if previous else "auto")
    t0 = time.perf_counter()
    with BASELINES[args.baseline]() if previous else contextlib.nullcontext():
        if matcher is None:
            from sarcoreg.core.coregister import make_matcher
            matcher = make_matcher(config)
        res = coregister(optical, sar, out, config, overwrite=True, matcher=matcher)
    wall = time.perf_counter() - t0
    t = res.report["timings"]
    return {"wall_s": wall, "match_s": t["match_s"], "seconds_per_window": t["seconds_per_window"],
            "stages": t.get("stages", {}), "windows": res.report["counts"]["windows"],
            "inliers": res.report["counts"]["inliers"], "tiepoints": res.tiepoints}


def compare(a: list, b: list) -> str:
    """How far the tie points of two runs are apart (matched ones, by window)."""
    pa, pb = {(p.win_row, p.win_col): p for p in a}, {(p.win_row, p.win_col): p for p in b}
    common = [k for k in pa if k in pb]
    if not common:
        return "no common tie points"
    import math
    d = max((math.hypot(pa[k].dx_px - pb[k].dx_px, pa[k].dy_px - pb[k].dy_px) for k in common
             if math.isfinite(pa[k].dx_px) and math.isfinite(pb[k].dx_px)), default=0.0)
    same_flags = sum(pa[k].outlier == pb[k].outlier for k in common)
    return (f"{len(common)} tie points in both ({len(pa)} / {len(pb)}), largest shift difference {d:.2e} px, "
            f"same outlier flag on {same_flags}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("optical")
    p.add_argument("sar")
    p.add_argument("--matcher", default="cfog", choices=("cfog", "mind", "dcdm"))
    p.add_argument("--window", type=int, default=512)
    p.add_argument("--template", type=int, default=384)
    p.add_argument("--spacing", type=int, default=None)
    p.add_argument("--workers", type=int, default=0, help="window threads (default: cores, at most 4)")
    p.add_argument("--repeats", type=int, default=1, help="runs of each setting (default 1)")
    p.add_argument("--baseline", choices=sorted(BASELINES), default="kernels",
                   help="what 'previous' is: the kernels before issue 13 (default), the current engine "
                        "without helper threads, reading every template (no gap mask), or (dcdm) the "
                        "float32 graph against the gated variant")
    p.add_argument("--srcwin", type=int, nargs=4, default=None, metavar=("XOFF", "YOFF", "XSIZE", "YSIZE"),
                   help="benchmark this pixel window of the optical scene (cut with gdal_translate)")
    args = p.parse_args(argv)
    import logging
    logging.basicConfig(level=logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="bench-scene-") as tmp:
        tmp = Path(tmp)
        optical, sar = args.optical, args.sar
        if args.srcwin:
            optical, sar = crop(optical, sar, args.srcwin, tmp)
        runs = {"previous": [], "current": []}
        for k in range(args.repeats):
            for name in ("previous", "current"):
                r = run_once(optical, sar, tmp / f"{name}{k}", args, name == "previous")
                runs[name].append(r)
                print(f"{name:8s} run {k + 1}: {r['wall_s']:.1f} s wall, {r['seconds_per_window']:.3f} s/window "
                      f"({r['windows']} windows, {r['inliers']} inliers); stages "
                      + ", ".join(f"{s} {v:.1f}" for s, v in r["stages"].items()), flush=True)
        med = {n: {m: statistics.median(r[m] for r in rs) for m in ("wall_s", "seconds_per_window")}
               for n, rs in runs.items()}
        stages = sorted(set(runs["previous"][0]["stages"]) | set(runs["current"][0]["stages"]))
        print(f"\n{args.matcher}, window {args.window} / template {args.template}, median of {args.repeats}:")
        print(f"  wall        previous {med['previous']['wall_s']:.1f} s, current {med['current']['wall_s']:.1f} s, "
              f"ratio {med['previous']['wall_s'] / med['current']['wall_s']:.2f}x")
        print(f"  per window  previous {med['previous']['seconds_per_window']:.3f} s, current "
              f"{med['current']['seconds_per_window']:.3f} s, ratio "
              f"{med['previous']['seconds_per_window'] / med['current']['seconds_per_window']:.2f}x")
        for s in stages:
            a = statistics.median(r["stages"].get(s, 0.0) for r in runs["previous"])
            b = statistics.median(r["stages"].get(s, 0.0) for r in runs["current"])
            print(f"  {s:12s} previous {a:7.1f} s  current {b:7.1f} s" + (f"  ratio {a / b:.2f}x" if b > 0 else ""))
        print("  answers: " + compare(runs["previous"][0]["tiepoints"], runs["current"][0]["tiepoints"]))
        print(f"  peak memory of this process (both settings): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
