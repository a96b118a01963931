"""The banded cross-attention against the dense reference, side by side on real windows.

    python scripts/recover_checkpoint.py models/onnx/dcdm_unrolled.onnx -o build/shipped.pt
    python scripts/bench_attention.py build/shipped.pt --n 100 --threads 2

"new" is ``SparseCrossAttention`` as it is (``models/dcdm/network.py``: logits by template
row against the band of reference rows, calibration convolutions as depthwise groups);
"reference" is the same module computed densely (``tests/reference_attention.py``: every
query against every reference token, then a gather of the search window; the calibration
convolutions on thousands of one-channel images), which is how the graph was exported before.

1. torch, on ``--n-torch`` real ``val`` windows: the largest absolute difference of
   ``opt_feat``, ``attended``, ``att_raw``, ``att_cal`` and of the translated template;
2. both are exported (the condition graph of the ``loop`` layout and the ``unrolled`` graph,
   with the ``matching`` and ``metrics`` metadata of ``--model`` so that the matcher fuses as
   the shipped model does);
3. ONNX Runtime, ``--threads`` threads: seconds per condition-graph call, reference and new
   alternating ``--repeats`` times on one real window (so a change in the machine's load hits
   both alike);
4. the whole ``dcdm`` match per window on ``--n`` real ``val`` windows, through the parity
   gate of ``models/dcdm/optimize.py`` (alternating; the same peak within 0.1 px on at least
   99 % of the windows, CMR(1) and CMR(5) not lower).

The figures are printed and, with ``--json``, written to a file.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


@contextlib.contextmanager
def dense_reference():
    """``SparseCrossAttention`` computed by ``reference_attention`` inside the block."""
    from reference_attention import reference_attention
    from sarcoreg.models.dcdm.network import SparseCrossAttention

    saved = SparseCrossAttention.forward
    SparseCrossAttention.forward = reference_attention
    try:
        yield
    finally:
        SparseCrossAttention.forward = saved


def torch_parity(model, samples) -> dict:
    import torch

    from sarcoreg.core.dcdm.contract import prepare
    from sarcoreg.models.dcdm.sampler import translate

    names = ("opt_feat", "attended", "att_raw", "att_cal", "image")
    worst = dict.fromkeys(names, 0.0)
    for s in samples:
        tm = torch.from_numpy(prepare(s.template))[None, None]
        rf = torch.from_numpy(prepare(s.reference))[None, None]
        runs = []
        for ctx in (dense_reference, contextlib.nullcontext):
            with ctx(), torch.no_grad():
                runs.append(model.condition(tm, rf) + (translate(model, tm, rf).image,))
        for name, a, b in zip(names, *runs):
            worst[name] = max(worst[name], float((a - b).abs().max()))
    return worst


def condition_seconds(paths, feed, threads: int, repeats: int) -> dict:
    import onnxruntime as ort

    from sarcoreg.core.dcdm.runtime import session_options

    sessions = {k: ort.InferenceSession(str(p), session_options(threads), providers=["CPUExecutionProvider"])
                for k, p in paths.items()}
    outs = {k: s.run(None, feed) for k, s in sessions.items()}
    diff = max(float(np.abs(a - b).max()) for a, b in zip(outs["reference"], outs["new"]))
    times = {k: [] for k in sessions}
    for _ in range(repeats):
        for k, s in sessions.items():
            t0 = time.perf_counter()
            s.run(None, feed)
            times[k].append(time.perf_counter() - t0)
    med = {k: float(np.median(v)) for k, v in times.items()}
    return {"seconds_reference": round(med["reference"], 4), "seconds_new": round(med["new"], 4),
            "ratio": round(med["reference"] / med["new"], 2), "max_abs_diff_outputs": diff}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoint", help="a DCDM checkpoint (.pt)")
    p.add_argument("--model", default=str(REPO / "models" / "onnx" / "dcdm_unrolled.onnx"),
                   help="ONNX model whose matching and metrics metadata the exports carry")
    p.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    p.add_argument("--n", type=int, default=100, help="val windows for the whole match and the peak parity")
    p.add_argument("--n-torch", type=int, default=6, help="val windows for the torch parity")
    p.add_argument("--repeats", type=int, default=20, help="condition-graph calls of each, alternating")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--window", type=int, default=512)
    p.add_argument("--template", type=int, default=384)
    p.add_argument("--json", default="")
    args = p.parse_args(argv)
    import onnxruntime as ort
    import torch

    from sarcoreg.core.dcdm.contract import prepare
    from sarcoreg.core.samples import iter_samples
    from sarcoreg.models.dcdm.export import export
    from sarcoreg.models.dcdm.optimize import gate
    from sarcoreg.models.dcdm.train import load_model

    torch.set_num_threads(args.threads)
    model, ck = load_model(args.checkpoint)
    model.eval()
    meta = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"]).get_modelmeta().custom_metadata_map
    metrics, matching = json.loads(meta.get("metrics") or "{}"), json.loads(meta.get("matching") or "{}")
    R, T = args.window, args.template
    result = {"checkpoint_step": ck.get("step"), "window_px": R, "template_px": T, "threads": args.threads}

    samples = list(iter_samples(args.data, R, T, args.n_torch, 0, "val"))
    result["torch_max_abs_diff"] = torch_parity(model, samples)
    print(f"torch, {len(samples)} val windows, largest |new - reference|: "
          + ", ".join(f"{k} {v:.1e}" for k, v in result["torch_max_abs_diff"].items()))

    with tempfile.TemporaryDirectory(prefix="bench-attention-") as tmp:
        dirs = {}
        for name, ctx in (("reference", dense_reference), ("new", contextlib.nullcontext)):
            with ctx():
                for layout in ("loop", "unrolled"):
                    export(model, ck, str(Path(tmp) / name / layout), R, T, layout, metrics=metrics, matching=matching)
            dirs[name] = Path(tmp) / name
        s = samples[0]
        feed = {"template": prepare(s.template)[None, None], "reference": prepare(s.reference)[None, None]}
        cond = condition_seconds({k: d / "loop" / "dcdm_condition.onnx" for k, d in dirs.items()}, feed,
                                 args.threads, args.repeats)
        result["condition_graph"] = cond
        print(f"condition graph, ONNX Runtime {args.threads} threads, {args.repeats} calls each: reference "
              f"{cond['seconds_reference']:.4f} s, new {cond['seconds_new']:.4f} s ({cond['ratio']:.2f}x); "
              f"outputs differ by at most {cond['max_abs_diff_outputs']:.1e}")
        g = gate(str(dirs["reference"] / "unrolled"), dirs["new"] / "unrolled" / "dcdm_unrolled.onnx", "banded",
                 args.data, args.n, R, T, threads=args.threads, log=print)
        result["whole_match"] = g.to_dict()
        print(f"whole dcdm match, {g.samples} val windows {R}/{T}: reference {g.seconds_fp32:.4f} s, new "
              f"{g.seconds_variant:.4f} s per window (medians, {g.speedup:.2f}x); same peak within 0.1 px on "
              f"{100 * g.share_within_tol:.1f} % (largest difference {g.max_peak_diff_px:.3f} px); CMR(1) "
              f"{g.cmr1_variant:.3f} vs {g.cmr1_fp32:.3f}, CMR(5) {g.cmr5_variant:.3f} vs {g.cmr5_fp32:.3f}: "
              f"{'passed' if g.passed else 'FAILED'}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    return 0 if result["whole_match"]["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
