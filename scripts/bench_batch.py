"""Benchmark ``sarcoreg batch`` on Dask: throughput with 1 and 2 workers on Los Angeles pairs.

    python scripts/bench_batch.py --pairs 6 --workers 1,2 --window 256 --template 192 --repeat 3

Takes ``--pairs`` 1024 x 1024 Sentinel-1/2 tile pairs from ``../shared/data/s1s2_la/<tile>``
(the first ones with a measured residual), moves each SAR's georeferencing by a known shift
(a VRT, no pixel copy), and for each worker count starts a local Dask cluster (one
single-threaded worker process per worker, on 127.0.0.1), imports the engine on every
worker, then times ``run_batch`` on all pairs into a fresh output folder (the cluster start
is not timed; the pairs are).  Also measured: the CPU seconds the workers and this client
(which writes the outputs) spent in the batch, which do not depend on what else the machine
runs, and the peak memory of each worker and of the client (maximum resident set,
``getrusage``).  Prints a Markdown table and a JSON block.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO.parent))


def _worker_peak_mib() -> float:
    import resource as r
    return r.getrusage(r.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_s() -> float:
    import time as t
    return t.process_time()


def _warm_up() -> None:
    import sarcoreg.core.batch  # noqa: F401 - the engine and GDAL, imported once per worker


_SPIN = "x = 0\nfor i in range(15_000_000):\n    x += i\n"


def parallel_capacity(n: int) -> float:
    """How many cores ``n`` CPU-bound processes get at once: ``n * t(1) / t(n)`` (n on an idle
    machine with n free cores; the 2 cores here are shared, so this says what was free)."""
    import subprocess

    def spin(k: int) -> float:
        t0 = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-c", _SPIN]) for _ in range(k)]
        for p in procs:
            p.wait()
        return time.perf_counter() - t0

    return n * spin(1) / spin(n)


def make_pairs(data: Path, tile: str, n: int, shift_m, folder: Path):
    from sarcoreg.core.demo import shift_georeferencing

    src = data / "s1s2_la" / tile
    ids = [p.stem for p in sorted(src.glob("*.json")) if json.loads(p.read_text()).get("residual_shift_px")]
    if len(ids) < n:
        raise SystemExit(f"{src} has only {len(ids)} pairs with a residual, {n} asked for")
    rows = []
    for pid in ids[:n]:
        sar = shift_georeferencing(str(src / f"{pid}_sar.tif"), str(folder / f"{pid}_sar_shifted.vrt"), *shift_m)
        rows.append(f"{src / f'{pid}_opt.tif'},{sar},{tile}_{pid}")
    csv_path = folder / "pairs.csv"
    csv_path.write_text("optical,sar,name\n" + "\n".join(rows) + "\n")
    return csv_path, ids[:n]


def run_one(csv_path: Path, outroot: Path, n_workers: int, config) -> dict:
    from distributed import Client, LocalCluster

    from sarcoreg.core.batch import run_batch

    shutil.rmtree(outroot, ignore_errors=True)
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
    try:
        with Client(cluster, set_as_default=False) as client:
            client.run(_warm_up)
            workers_cpu0 = client.run(_cpu_s)
            t0, cpu0 = time.perf_counter(), time.process_time()
            summary = run_batch(csv_path, outroot, config, scheduler=cluster.scheduler_address)
            wall, client_cpu = time.perf_counter() - t0, time.process_time() - cpu0
            workers_cpu = sum(v - workers_cpu0[k] for k, v in client.run(_cpu_s).items())
            peaks = sorted(client.run(_worker_peak_mib).values())
    finally:
        cluster.close()
    statuses = [o.status for o in summary.outcomes]
    if any(s != "ok" for s in statuses):
        raise SystemExit(f"a pair failed:\n{summary.text()}")
    windows = sum(o.windows or 0 for o in summary.outcomes)
    return {"workers": n_workers, "pairs": len(statuses), "windows": windows, "wall_s": round(wall, 2),
            "pairs_per_min": round(60.0 * len(statuses) / wall, 2), "windows_per_s": round(windows / wall, 2),
            "client_cpu_s": round(client_cpu, 2), "workers_cpu_s": round(workers_cpu, 2),
            "worker_peak_mib": [round(p, 1) for p in peaks]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("--tile", default="T11SLT")
    ap.add_argument("--pairs", type=int, default=6)
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts (default 1,2)")
    ap.add_argument("--matcher", default="cfog")
    ap.add_argument("--window", type=int, default=256)
    ap.add_argument("--template", type=int, default=192)
    ap.add_argument("--spacing", type=int, default=None, help="default: the template size")
    ap.add_argument("--repeat", type=int, default=1, help="runs per worker count; the fastest is reported")
    ap.add_argument("--shift", nargs=2, type=float, default=(43.0, -27.0), metavar=("DX_M", "DY_M"))
    ap.add_argument("-o", "--outdir", default=None, help="scratch folder (default: a temporary one, removed)")
    args = ap.parse_args()

    from sarcoreg.core.config import CoregConfig

    config = CoregConfig(matcher=args.matcher, window_px=args.window, template_px=args.template,
                         spacing_px=args.spacing)
    scratch = Path(args.outdir) if args.outdir else Path(tempfile.mkdtemp(prefix="sarcoreg-bench-batch-"))
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        csv_path, ids = make_pairs(Path(args.data), args.tile, args.pairs, args.shift, scratch)
        counts = [int(w) for w in args.workers.split(",")]
        capacity_before = parallel_capacity(max(counts))
        runs = []
        for n in counts:
            tries = [run_one(csv_path, scratch / f"out_{n}", n, config) for _ in range(args.repeat)]
            best = min(tries, key=lambda r: r["wall_s"])
            best["wall_s_all"] = [r["wall_s"] for r in tries]
            runs.append(best)
        capacity_after = parallel_capacity(max(counts))
    finally:
        if not args.outdir:
            shutil.rmtree(scratch, ignore_errors=True)
    base = runs[0]["wall_s"]
    for r in runs:
        r["speed_up"] = round(base / r["wall_s"], 2)
    client_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"{len(ids)} pairs of {args.tile} ({', '.join(ids)}), matcher {args.matcher}, window {args.window} / "
          f"template {args.template} / spacing {config.effective_spacing_px} px; {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} at the end; fastest of {args.repeat} run(s)")
    print(f"parallel capacity ({max(counts)} busy processes at once got the CPU of): {capacity_before:.2f} cores "
          f"before, {capacity_after:.2f} after")
    print("| workers | pairs | windows | wall (s) | pairs/min | windows/s | speed-up | CPU s: workers, client "
          "| peak RSS per worker (MiB) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        print(f"| {r['workers']} | {r['pairs']} | {r['windows']} | {r['wall_s']:.1f} | {r['pairs_per_min']:.1f} | "
              f"{r['windows_per_s']:.2f} | {r['speed_up']:.2f} | {r['workers_cpu_s']:.1f}, {r['client_cpu_s']:.1f} | "
              f"{', '.join(f'{p:.0f}' for p in r['worker_peak_mib'])} |")
    print(f"client (writes the outputs) peak RSS: {client_peak:.0f} MiB")
    print(json.dumps({"tile": args.tile, "pairs": ids, "config": config.to_dict(), "runs": runs,
                      "parallel_capacity": [round(capacity_before, 2), round(capacity_after, 2)],
                      "client_peak_mib": round(client_peak, 1)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
