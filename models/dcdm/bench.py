"""Benchmarks of the DCDM matcher against the classical ones (``core.evaluate`` protocol).

``python -m sarcoreg.models.dcdm.bench table``  Markdown table, both settings, same samples
``python -m sarcoreg.models.dcdm.bench noise``  CMR(5) under Gaussian noise of variance
0–30 % on the optical template (no retraining), as a PNG plot and a Markdown table
``python -m sarcoreg.models.dcdm.bench tune``   choose the surface fusion weights on the
dev pairs (train split, held out of training)
``python -m sarcoreg.models.dcdm.bench versus`` torch eager vs ONNX Runtime, same samples,
same post-processing, alternating (network alone, whole match, batched)
``python -m sarcoreg.models.dcdm.bench speed``  ONNX Runtime time per window, loop versus
unrolled layout (torch against ONNX Runtime is ``versus``)
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

from ...core.evaluate import evaluate, format_markdown
from ...core.samples import iter_samples
from ...core.staging import atomic_file


def noise_curve(data: str, matchers: Sequence[str], levels: Sequence[float], n_samples: int, out_png: str,
                window_px: int = 256, template_px: int = 192, seed: int = 0) -> List:
    results = evaluate(data, list(matchers), settings=((window_px, template_px),), n_samples=n_samples,
                       seed=seed, noise_var=list(levels))
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for name in matchers:
        rs = [r for r in results if r.matcher == name]
        ax.plot([100 * r.noise_var for r in rs], [r.cmr5 for r in rs], "o-", label=name)
    ax.set_xlabel("Gaussian noise variance on the optical template (% of its variance)")
    ax.set_ylabel("CMR(5 px)")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(f"noise robustness, {window_px}/{template_px}, {n_samples} val samples", fontsize=9)
    fig.tight_layout()
    fig.savefig(out_png, dpi=100)
    plt.close(fig)
    return results


def speed(data: str, model_dirs: Dict[str, str], n: int = 10, threads: Sequence[int] = (1, 2)) -> str:
    """Median seconds per ``match`` for each model folder (layout) and thread count."""
    from ...core.dcdm.matcher import DcdmMatcher

    lines = ["| layout | R / T | threads | s / window (median) |", "|---|---|---|---|"]
    for (R, T) in ((256, 192), (512, 384)):
        samples = list(iter_samples(data, R, T, n, 0, "val"))
        for name, d in model_dirs.items():
            for th in threads:
                m = DcdmMatcher(provider="cpu", model_dir=d, threads=th)
                m.match(samples[0].template, samples[0].reference)
                secs = []
                for s in samples:
                    t0 = time.perf_counter()
                    m.match(s.template, s.reference)
                    secs.append(time.perf_counter() - t0)
                lines.append(f"| {name} | {R} / {T} | {th} | {np.median(secs):.3f} |")
    return "\n".join(lines) + "\n"


def torch_vs_onnx(data: str, checkpoint: str, model_dir=None, n: int = 12, threads: int = 2,
                  batch: int = 4) -> str:
    """Side by side in one run, on the same ``val`` samples, alternating per sample so that a
    change in the machine's load hits both alike: seconds per window of

    - the network alone: torch eager (``sampler.translate``) vs ONNX Runtime (``translate``);
    - the whole ``dcdm`` match (translation + ZNCC + the shipped CFOG fusion, peak,
      confidence): the same ``DcdmMatcher`` post-processing fed by torch or by ONNX Runtime;
    - ONNX Runtime with ``batch`` windows per call (``match_many``), per window.

    Both runtimes get ``threads`` intra-op threads. Medians; ratio = torch / ONNX.
    """
    import torch

    from ...core.dcdm.matcher import DcdmMatcher
    from .sampler import translate as torch_translate
    from .train import load_model

    torch.set_num_threads(threads)
    model, _ = load_model(checkpoint)
    model.eval()

    class TorchDcdm(DcdmMatcher):
        """The shipped matcher with the network run by torch eager instead of ONNX Runtime."""

        def _run(self, tm, rf, x_T, b):
            with torch.no_grad():   # the sampler starts from the same fixed x_T
                tr = torch_translate(model, torch.from_numpy(tm), torch.from_numpy(rf))
            return tr.image.numpy(), tr.att_raw.numpy(), tr.att_cal.numpy()

    onnx_m = DcdmMatcher(provider="cpu", model_dir=model_dir, threads=threads)
    torch_m = TorchDcdm(provider="cpu", model_dir=model_dir, threads=threads)
    batched = DcdmMatcher(provider="cpu", model_dir=model_dir, threads=threads, batch_size=batch)
    lines = ["| R / T | what | torch eager | ONNX Runtime | torch / ONNX |", "|---|---|---|---|---|"]
    for (R, T) in ((256, 192), (512, 384)):
        samples = list(iter_samples(data, R, T, n, 0, "val"))
        warm = samples[0]
        for m in (onnx_m, torch_m):
            m.match(warm.template, warm.reference)
        times = {k: [] for k in ("net_torch", "net_onnx", "e2e_torch", "e2e_onnx")}
        peak_diff = []
        for s in samples:
            for key, fn in (("net_torch", lambda: torch_m.translate(s.template, s.reference)),
                            ("net_onnx", lambda: onnx_m.translate(s.template, s.reference)),
                            ("e2e_torch", lambda: torch_m.match(s.template, s.reference)),
                            ("e2e_onnx", lambda: onnx_m.match(s.template, s.reference))):
                t0 = time.perf_counter()
                res = fn()
                times[key].append(time.perf_counter() - t0)
                if key == "e2e_torch":
                    ref_peak = (res.row, res.col)
                elif key == "e2e_onnx":
                    peak_diff.append(float(np.hypot(res.row - ref_peak[0], res.col - ref_peak[1])))
        t0 = time.perf_counter()
        batched.match_many([(s.template, s.reference) for s in samples])
        per_batched = (time.perf_counter() - t0) / len(samples)
        med = {k: float(np.median(v)) for k, v in times.items()}
        lines.append(f"| {R} / {T} | network (translation) | {med['net_torch']:.3f} s | {med['net_onnx']:.3f} s "
                     f"| **{med['net_torch'] / med['net_onnx']:.2f}×** |")
        lines.append(f"| {R} / {T} | whole dcdm match | {med['e2e_torch']:.3f} s | {med['e2e_onnx']:.3f} s "
                     f"| **{med['e2e_torch'] / med['e2e_onnx']:.2f}×** |")
        lines.append(f"| {R} / {T} | whole match, ONNX batch {batch} (mean per window) | – | {per_batched:.3f} s "
                     f"| {med['e2e_torch'] / per_batched:.2f}× |")
        lines.append(f"| {R} / {T} | peak torch vs ONNX (max over samples) | – | {max(peak_diff):.3f} px | – |")
    return "\n".join(lines) + "\n"


def tune(data: str, model_dir: str, n_samples: int = 40, seed: int = 11,
         fuse_grid: Sequence[float] = (0.0, 0.2, 0.35, 0.5, 0.6, 0.7, 0.85),
         prior_grid: Sequence[float] = (0.0, 0.1, 0.2, 0.4)) -> str:
    """Choose ``fuse_cfog`` / ``attention_prior`` on the *dev* pairs (held out of training,
    inside the train split), never on the validation pairs. Markdown table of CMR / RMSE."""
    from ...core.dcdm.contract import prepare
    from ...core.dcdm.matcher import DcdmMatcher, displacement_prior
    from ...core.matchers import get_matcher
    from ...core.matchers.kernels import peak_subpixel, zncc_surface
    from ...core.samples import cut_sample, load_pair, sample_specs, split_train_dev
    from .data import find_pairs

    _, dev = split_train_dev(find_pairs(data, "train"))
    m = DcdmMatcher(provider="cpu", model_dir=model_dir)
    cfog = get_matcher("cfog")
    rows = ["| R / T | fuse_cfog | attention_prior | CMR(1) | CMR(3) | CMR(5) | RMSE(all) |", "|---|---|---|---|---|---|---|"]
    for R, T in ((256, 192), (512, 384)):
        specs = sample_specs(dev, R, T, n_samples, seed)
        cache, items = {}, []
        for sp in specs:
            if sp.pair.pair_id not in cache:
                cache[sp.pair.pair_id] = load_pair(sp.pair)
            smp = cut_sample(sp, *cache[sp.pair.pair_id], R, T)
            tr = m.translate(smp.template, smp.reference)
            n_out = R - T + 1
            zs = zncc_surface(tr.image, prepare(smp.reference))[:n_out, :n_out]
            cs = cfog.match(smp.template, smp.reference).similarity
            items.append((zs, cs, displacement_prior(tr, n_out), smp.true_row, smp.true_col))
        for a in fuse_grid:
            for b in prior_grid:
                e = []
                for zs, cs, pr, tr_, tc in items:
                    r, c, _ = peak_subpixel((1 - a) * zs + a * cs + b * pr)
                    e.append(np.hypot(r - tr_, c - tc))
                e = np.array(e)
                rows.append(f"| {R} / {T} | {a:g} | {b:g} | {np.mean(e <= 1):.3f} | {np.mean(e <= 3):.3f} "
                            f"| {np.mean(e <= 5):.3f} | {np.sqrt(np.mean(e ** 2)):.2f} |")
        e = []
        for zs, cs, pr, tr_, tc in items:
            r, c, _ = peak_subpixel(cs)
            e.append(np.hypot(r - tr_, c - tc))
        e = np.array(e)
        rows.append(f"| {R} / {T} | cfog alone | – | {np.mean(e <= 1):.3f} | {np.mean(e <= 3):.3f} "
                    f"| {np.mean(e <= 5):.3f} | {np.sqrt(np.mean(e ** 2)):.2f} |")
    return "\n".join(rows) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m sarcoreg.models.dcdm.bench")
    p.add_argument("what", choices=("table", "noise", "speed", "tune", "versus"))
    p.add_argument("--data", default=os.path.join("..", "shared", "data"))
    p.add_argument("--matchers", default="cfog,dcdm")
    p.add_argument("--samples", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--levels", default="0,0.1,0.2,0.3")
    p.add_argument("--out", default=os.path.join("docs", "noise_robustness.png"))
    p.add_argument("--model-dirs", default=None, help="name=dir,... for speed")
    p.add_argument("--checkpoint", default=None, help="torch checkpoint for versus")
    p.add_argument("--threads", type=int, default=2, help="intra-op threads for versus")
    p.add_argument("--batch", type=int, default=4, help="windows per call for versus")
    p.add_argument("--json", default=None, help="also write the results as JSON here")
    a = p.parse_args(argv)
    matchers = a.matchers.split(",")
    if a.what == "table":
        res = evaluate(a.data, matchers, n_samples=a.samples, seed=a.seed)
        print(format_markdown(res))
    elif a.what == "tune":
        print(tune(a.data, a.model_dirs or None, a.samples, seed=a.seed))
        res = []
    elif a.what == "versus":
        print(torch_vs_onnx(a.data, a.checkpoint, a.model_dirs or None, a.samples, a.threads, a.batch))
        res = []
    elif a.what == "noise":
        res = noise_curve(a.data, matchers, [float(v) for v in a.levels.split(",")], a.samples, a.out, seed=a.seed)
        print(format_markdown(res))
    else:
        dirs = dict(kv.split("=", 1) for kv in a.model_dirs.split(",")) if a.model_dirs else {}
        print(speed(a.data, dirs, a.samples))
        res = []
    if a.json and res:
        with atomic_file(a.json) as fh:
            fh.write(json.dumps([r.__dict__ for r in res], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
