"""The shipped DCDM model on a GPU: seconds per window (batched), peak GPU memory, parity with the CPU.

Run by ``scripts/bench_gpu.sh`` (which makes the environment); by hand:

    python scripts/bench_gpu.py --data ../shared/data --samples 64 --batch 16

1. cuts ``--samples`` real ``val`` windows (``--window`` / ``--template``, default 512 / 384)
   from the ``s1s2_la`` pairs under ``--data`` (read with GDAL, or with rasterio where GDAL's
   Python bindings are not installed);
2. matches them with ``DcdmMatcher(provider=--provider, batch_size=--batch)`` after a warm-up
   batch, timing ``match_many`` over all windows (translation + ZNCC + fusion + peaks) and the
   network alone (``translate_many``), and polling ``nvidia-smi`` for this process's GPU memory;
3. matches the first ``--cpu-samples`` windows on the CPU provider and prints the parity: the
   share of peaks within 0.1 px of the CPU's, the largest difference, and CMR(1) / CMR(5) of
   both against the truth.

Exit status 0 when the GPU ran and the parity holds (>= 99 % within 0.1 px), 1 when the GPU
provider did not start (the reason is printed), 2 when the parity fails.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def _use_rasterio_if_no_gdal() -> str:
    """``core.samples`` reads with GDAL's bindings; on a bare GPU machine use rasterio."""
    try:
        from osgeo import gdal  # noqa: F401
        return "GDAL"
    except ImportError:
        pass
    import rasterio

    from sarcoreg.core import samples

    def _read(path):
        with rasterio.open(path) as ds:
            stack = ds.read().astype(np.float32)
            for b, nodata in enumerate(ds.nodatavals):
                if nodata is not None and np.isfinite(nodata):
                    stack[b][stack[b] == np.float32(nodata)] = np.nan
        return stack

    def _pair_shape(pair):
        with rasterio.open(pair.sar_path) as ds:
            return ds.height, ds.width

    samples._read = _read
    samples._pair_shape = _pair_shape
    return "rasterio"


class GpuMemory:
    """Peak GPU memory of this process (MiB), from ``nvidia-smi`` polled every 0.1 s."""

    def __init__(self):
        self.peak_mib = 0
        self.note = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _sample(self) -> int:
        out = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=10).stdout
        used = 0
        for line in out.splitlines():
            parts = [p.strip() for p in line.split(",")]
            if len(parts) == 2 and parts[0] == str(os.getpid()) and parts[1].isdigit():
                used += int(parts[1])
        return used

    def _poll(self):
        while not self._stop.is_set():
            try:
                self.peak_mib = max(self.peak_mib, self._sample())
            except (OSError, subprocess.SubprocessError) as exc:
                self.note = f"nvidia-smi failed ({exc})"
                return
            self._stop.wait(0.1)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    p.add_argument("--samples", type=int, default=64, help="val windows timed on the GPU (default 64)")
    p.add_argument("--cpu-samples", type=int, default=16, help="of them, matched on the CPU for parity (default 16)")
    p.add_argument("--batch", type=int, default=16, help="windows per model call (default 16)")
    p.add_argument("--window", type=int, default=512)
    p.add_argument("--template", type=int, default=384)
    p.add_argument("--provider", default="cuda", choices=("cuda", "cpu"), help="cpu: a dry run of this script")
    p.add_argument("--model-dir", default=None)
    args = p.parse_args(argv)

    import onnxruntime as ort
    if hasattr(ort, "preload_dlls"):          # CUDA / cuDNN from the nvidia-* wheels, when installed
        try:
            ort.preload_dlls()
        except Exception as exc:  # noqa: BLE001 - the provider check below says what is missing
            print(f"onnxruntime.preload_dlls: {exc}")
    reader = _use_rasterio_if_no_gdal()
    from sarcoreg.core.dcdm.matcher import DcdmMatcher
    from sarcoreg.core.samples import iter_samples

    t0 = time.perf_counter()
    samples = list(iter_samples(args.data, args.window, args.template, args.samples, 0, "val"))
    if not samples:
        print(f"no val samples under {args.data}: pass --data (the shared data folder with s1s2_la)")
        return 1
    print(f"{len(samples)} val windows {args.window} / {args.template} read with {reader} in "
          f"{time.perf_counter() - t0:.1f} s; onnxruntime {ort.__version__}, providers {ort.get_available_providers()}")

    gpu = DcdmMatcher(provider=args.provider, model_dir=args.model_dir, batch_size=args.batch, precision="fp32")
    print(f"model {gpu.model_version}: running on {gpu.provider}"
          + (f" ({gpu.provider_note})" if gpu.provider_note else ""))
    if args.provider == "cuda" and gpu.provider != "cuda":
        print("GPU NOT USED: no figure measured")
        return 1
    pairs = [(s.template, s.reference) for s in samples]
    gpu.match_many(pairs[:args.batch])                                   # warm-up (CUDA kernels, arena)
    with GpuMemory() if args.provider == "cuda" else _NoMemory() as mem:
        t0 = time.perf_counter()
        gpu_matches = gpu.match_many(pairs)
        t_match = time.perf_counter() - t0
        t0 = time.perf_counter()
        for i in range(0, len(pairs), args.batch):
            gpu.translate_many([t for t, _ in pairs[i:i + args.batch]], [r for _, r in pairs[i:i + args.batch]])
        t_net = time.perf_counter() - t0
    n = len(pairs)
    print(f"{args.provider}, batch {args.batch}: whole match {t_match / n:.4f} s/window, network alone "
          f"{t_net / n:.4f} s/window ({n} windows)")
    if args.provider == "cuda":
        print(f"peak GPU memory of this process: {mem.peak_mib} MiB" + (f" ({mem.note})" if mem.note else ""))

    cpu = DcdmMatcher(provider="cpu", model_dir=args.model_dir, precision="fp32")
    k = min(args.cpu_samples, n)
    t0 = time.perf_counter()
    cpu_matches = [cpu.match(t, r) for t, r in pairs[:k]]
    print(f"cpu ({cpu.threads} threads): whole match {(time.perf_counter() - t0) / max(k, 1):.4f} s/window ({k} windows)")
    diffs, e_cpu, e_gpu = [], [], []
    for s, a, b in zip(samples[:k], cpu_matches, gpu_matches[:k]):
        diffs.append(float(np.hypot(a.row - b.row, a.col - b.col)) if a.ok and b.ok else
                     (0.0 if not a.ok and not b.ok else float("nan")))
        e_cpu.append(float(np.hypot(a.row - s.true_row, a.col - s.true_col)) if a.ok else np.nan)
        e_gpu.append(float(np.hypot(b.row - s.true_row, b.col - s.true_col)) if b.ok else np.nan)
    d, ec, eg = np.array(diffs), np.array(e_cpu), np.array(e_gpu)
    with np.errstate(invalid="ignore"):
        share = float(np.mean(d <= 0.1))
        cmr = lambda e, t: float(np.mean(e <= t))  # noqa: E731
    print(f"parity on {k} windows: peaks within 0.1 px of the CPU's {100 * share:.1f} %, largest difference "
          f"{np.nanmax(d) if np.isfinite(d).any() else float('nan'):.4f} px; CMR(1) gpu {cmr(eg, 1):.3f} / cpu "
          f"{cmr(ec, 1):.3f}, CMR(5) gpu {cmr(eg, 5):.3f} / cpu {cmr(ec, 5):.3f}")
    return 0 if share >= 0.99 else 2


class _NoMemory:
    peak_mib, note = 0, ""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


if __name__ == "__main__":
    sys.exit(main())
