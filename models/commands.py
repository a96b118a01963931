"""``sarcoreg train``, ``export-onnx``, ``set-matching``, ``optimize-onnx`` and ``explain``.

``register(subparsers)`` adds these sub-commands to the ``sarcoreg`` command line. torch
is imported only when one of them runs, so the CLI works without it.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from ..core.errors import InputError
from ..core.sources import LA_TRAIN_TRUTHS

DEFAULT_OUT = os.path.join("build", "dcdm")
ONNX_DIR = Path(__file__).resolve().parent / "onnx"


def _echo(text: str) -> None:
    print(text, flush=True)


def _existing_checkpoint(path, option: str = "") -> None:
    """One-line ``InputError`` when a checkpoint the user named is not a readable file."""
    if path and not Path(path).is_file():
        what = f"{option} " if option else ""
        raise InputError(f"{what}{path}: no such checkpoint file: give a .pt file written by `sarcoreg train` "
                         f"(its --out folder holds best.pt, last.pt and step_<N>.pt)")


def _needs_torch(command: str) -> None:
    """A one-line error (exit 2) when torch, which ``command`` needs, is not installed."""
    try:
        import torch  # noqa: F401
    except (ImportError, OSError):        # not installed, or a build whose libraries do not load
        raise InputError(f"{command} needs torch, which is not installed: run `bash scripts/setup.sh --with-torch` "
                         "(docs/platforms.md says where a CPU build of torch comes from); matching, evaluation "
                         "and `optimize-onnx --variants int8 fp16` do not need it") from None


def cmd_train(args) -> int:
    _existing_checkpoint(args.finetune, "--finetune")
    _existing_checkpoint(args.init_ae, "--init-ae")
    from .dcdm.config import PRESETS, TrainConfig

    if args.preset not in PRESETS:
        raise InputError(f"preset {args.preset!r} is unknown: use one of {', '.join(PRESETS)}")
    extra = {}
    if args.lr is not None:
        extra["lr"] = args.lr
    if args.lambda_stripes is not None:
        extra["lambda_stripes"] = args.lambda_stripes
    if args.lambda_match is not None:
        if not args.lambda_match >= 0:
            raise InputError(f"--lambda-match {args.lambda_match} must be >= 0: give the matching loss's weight "
                             "(0 turns it off)")
        extra["lambda_match"] = args.lambda_match
    if args.match_sigma is not None:
        if not args.match_sigma > 0:
            raise InputError(f"--match-sigma {args.match_sigma} must be > 0: give the target's width in pixels")
        extra["match_sigma_px"] = args.match_sigma
    if args.la_truth is not None:
        extra["la_truth"] = args.la_truth
    if args.finetune:
        extra["match_warmup"] = (0.0, 0.0)     # the translation already carries structure
    _needs_torch("sarcoreg train")
    from .dcdm.train import RunOptions, train

    tcfg = TrainConfig(window_px=args.window, template_px=args.template, batch=args.batch, seed=args.seed,
                       steps=args.steps, **extra)
    options = RunOptions(args.data, args.out, args.preset, time_budget_min=args.time_budget_min,
                         checkpoint_every=args.checkpoint_every, resume=args.resume, dev_samples=args.dev_samples,
                         dev_every=args.dev_every, init_ae=args.init_ae, threads=args.threads,
                         keep_every=args.keep_every, finetune=args.finetune, device=args.device)
    best = train(options, tcfg, log=_echo)
    _echo(f"best checkpoint: {best}\nnext: sarcoreg export-onnx {best}")
    return 0


def cmd_export(args) -> int:
    _existing_checkpoint(args.checkpoint)
    _needs_torch("sarcoreg export-onnx")
    from .dcdm.export import export
    from .dcdm.train import load_model

    from .dcdm.optimize import remove_stale

    model, ck = load_model(args.checkpoint)
    metrics = json.loads(Path(args.metrics).read_text()) if args.metrics else {"dev": ck.get("history", [])[-1:]}
    matching = json.loads(args.matching) if args.matching else {}
    for p in remove_stale(args.out):   # variants of the previous float32 graph
        _echo(f"removed {p} (made for the previous model)")
    paths = export(model, ck, args.out, args.window, args.template, args.layout, metrics, matching)
    total = sum(p.stat().st_size for p in paths)
    trainable, frozen = model.parameter_counts()
    _echo(f"{model.cfg.preset}: {trainable:,} trainable + {frozen:,} frozen parameters")
    for p in paths:
        _echo(f"wrote {p} ({p.stat().st_size / 1e6:.1f} MB)")
    _echo(f"total {total / 1e6:.1f} MB")
    if args.variants:
        if args.layout != "unrolled":
            _echo("--variants needs --layout unrolled: no variants made")
            return 2
        return _optimize(args.out, args)
    return 0


def cmd_set_matching(args) -> int:
    from .dcdm.optimize import set_matching

    if not Path(args.model).is_file():
        raise InputError(f"{args.model}: no such ONNX file: give a model written by `sarcoreg export-onnx`")
    try:
        matching = json.loads(Path(args.matching).read_text()) if Path(args.matching).is_file() else json.loads(args.matching)
    except ValueError as exc:
        raise InputError(f"--matching is neither a JSON file nor JSON ({exc}): e.g. '{{\"fuse_cfog\": 0.5}}'") from None
    previous = set_matching(args.model, matching)
    _echo(f"{args.model}: matching {json.dumps(previous)} -> {json.dumps(matching)}")
    return 0


def _optimize(model_dir: str, args) -> int:
    from .dcdm.optimize import build_variants

    results = build_variants(model_dir, args.data, args.variants, n_samples=args.gate_samples,
                             n_calibration=args.calibration_samples, window_px=args.window,
                             template_px=args.template, log=_echo, distill_minutes=args.distill_minutes,
                             gate_only=getattr(args, "gate_only", False))
    _echo(f"wrote {Path(model_dir) / 'parity_gate.json'}")
    return 0 if results else 1


def cmd_optimize(args) -> int:
    from ..core.dcdm.runtime import default_model_dir

    return _optimize(args.model_dir or str(default_model_dir()), args)


def _gate_options(parser, default_data: str, variants_default) -> None:
    parser.add_argument("--variants", nargs="*", default=variants_default, choices=("light", "int8", "fp16"),
                        help="faster variants to build and gate (light: the decoder distilled to fewer "
                             "residual blocks on train windows, needs torch; int8: static quantisation "
                             "calibrated on train windows; fp16)")
    parser.add_argument("--distill-minutes", type=float, default=20.0,
                        help="training time of the light variant's decoder (default 20)")
    parser.add_argument("--data", default=default_data, help="real pairs for calibration and the gate "
                                                              "(default ../shared/data)")
    parser.add_argument("--gate-samples", type=int, default=100,
                        help="samples per source of the multi-region validation that the parity gate "
                             "matches (default 100)")
    parser.add_argument("--calibration-samples", type=int, default=16,
                        help="train windows the int8 calibration sees (default 16)")


def cmd_explain(args) -> int:
    from .dcdm.explain import explain_pair, explain_sample

    if args.template and args.reference:
        out = explain_pair(args.template, args.reference, args.out, model_dir=args.model_dir,
                           sar_kind=args.sar_kind)
    else:
        out = explain_sample(args.data, args.out, index=args.sample, window_px=args.window,
                             template_px=args.template_px, split=args.split, model_dir=args.model_dir)
    _echo(f"wrote {out}")
    return 0


def register(subparsers) -> None:
    """Add ``train``, ``export-onnx`` and ``explain`` to an argparse ``subparsers``."""
    default_data = os.path.join("..", "shared", "data")
    t = subparsers.add_parser("train", help="train the DCDM model (needs torch)")
    t.add_argument("--data", default=default_data, help="folder of co-registered pairs (default ../shared/data)")
    t.add_argument("--out", default=DEFAULT_OUT, help=f"checkpoint folder (default {DEFAULT_OUT})")
    t.add_argument("--preset", default="cpu", help="cpu (small, trains on CPU) or paper (~21 M parameters)")
    t.add_argument("--time-budget-min", type=float, default=60.0, help="stop after this many minutes (default 60)")
    t.add_argument("--checkpoint-every", type=int, default=25, help="write last.pt every N steps (default 25)")
    t.add_argument("--keep-every", type=int, default=0,
                   help="also keep step_<N>.pt every N steps, to choose among them on the dev pairs (default: off)")
    t.add_argument("--dev-every", type=int, default=100, help="score the dev pairs every N steps (default 100)")
    t.add_argument("--dev-samples", type=int, default=24, help="dev samples scored each time (default 24)")
    t.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    t.add_argument("--window", type=int, default=160, help="training reference window px (default 160)")
    t.add_argument("--template", type=int, default=96, help="training template px (default 96)")
    t.add_argument("--batch", type=int, default=4)
    t.add_argument("--steps", type=int, default=100000, help="at most this many denoiser steps")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, default=None, help="torch threads (default: half the cores)")
    t.add_argument("--init-ae", default=None, help="reuse the auto-encoder of this checkpoint (skip its training)")
    t.add_argument("--finetune", default=None, metavar="CHECKPOINT",
                   help="start from all weights of this checkpoint with a fresh optimiser and schedule "
                        "(e.g. at the evaluation's --window 256 --template 192)")
    t.add_argument("--lr", type=float, default=None, help="peak learning rate (default 1e-3)")
    t.add_argument("--lambda-stripes", type=float, default=None,
                   help="weight of the stripe loss: the translation's row/column gradient balance against the "
                        "true SAR's (default 0: off)")
    t.add_argument("--lambda-match", type=float, default=None,
                   help="weight of the matching loss: a sharp ZNCC peak of the decoded translation at the true "
                        "offset in the SAR window (default 1)")
    t.add_argument("--match-sigma", type=float, default=None,
                   help="width in px of the matching loss's target at the true offset (default 1.0; smaller "
                        "asks for a sharper, more precise similarity peak)")
    t.add_argument("--la-truth", default=None, choices=LA_TRAIN_TRUTHS,
                   help="truth of the s1s2_la pairs: one upstream residual per pair (default), or templates "
                        "drawn inside the cells where CFOG and MIND agree, with the cell's own residual "
                        "(resources/truth/la_cells.csv from scripts/measure_residuals.py --la), or local: "
                        "templates anywhere, with the truth of the agreeing cells under them where there are "
                        "some (the evaluation's truth), else the pair's")
    t.add_argument("--device", default="cpu", help="cpu (default) or cuda (a GPU; see scripts/train_gpu.sh)")
    t.set_defaults(func=cmd_train)

    e = subparsers.add_parser("export-onnx", help="export a DCDM checkpoint to ONNX (needs torch and onnx)")
    e.add_argument("checkpoint", help="a .pt checkpoint written by `sarcoreg train`")
    e.add_argument("--out", default=str(ONNX_DIR), help="output folder (default: the package's models/onnx)")
    e.add_argument("--layout", default="unrolled", choices=("loop", "unrolled"),
                   help="unrolled: one graph with the 5 DDIM steps inside (default, 10-15 %% faster "
                        "with 2 threads); loop: condition/denoiser/decoder graphs driven by the numpy "
                        "DDIM loop of core.dcdm")
    e.add_argument("--window", type=int, default=512, help="window px the export is checked at (default 512)")
    e.add_argument("--template", type=int, default=384, help="template px the export is checked at (default 384)")
    e.add_argument("--metrics", default=None, help="JSON file of validation metrics to store in the metadata")
    e.add_argument("--matching", default=None,
                   help='surface fusion chosen on the dev pairs, JSON, e.g. \'{"fuse_cfog": 0.35, "attention_prior": 0.1}\'')
    _gate_options(e, default_data, [])
    e.set_defaults(func=cmd_export)

    s = subparsers.add_parser("set-matching", help="replace the fusion settings stored with an exported model "
                                                   "(needs onnx)")
    s.add_argument("model", help="an ONNX file written by `sarcoreg export-onnx`")
    s.add_argument("matching", help='JSON or a JSON file, e.g. \'{"fuse_cfog": {"192": 0.5}, "guard_px": 3}\'')
    s.set_defaults(func=cmd_set_matching)

    o = subparsers.add_parser("optimize-onnx", help="build light / int8 / fp16 variants of the ONNX model, each "
                                                    "kept only if it passes the parity gate on real val samples "
                                                    "at 512/384 and 256/192")
    o.add_argument("--model-dir", default=None, help="folder of dcdm_unrolled.onnx (default: installed model)")
    o.add_argument("--window", type=int, default=512, help="window px of the int8 calibration (default 512)")
    o.add_argument("--template", type=int, default=384, help="template px of the int8 calibration (default 384)")
    _gate_options(o, default_data, ["light", "int8", "fp16"])
    o.add_argument("--gate-only", action="store_true",
                   help="gate the variant files already in the model folder again, without building them "
                        "(one that fails is removed)")
    o.set_defaults(func=cmd_optimize)

    x = subparsers.add_parser("explain", help="one PNG: template, translation, SAR window, attention "
                                              "before/after calibration, similarity map")
    x.add_argument("-o", "--out", required=True, help="output PNG")
    x.add_argument("--template", dest="template", default=None, help="optical template image (grey or RGB)")
    x.add_argument("--reference", default=None, help="SAR reference image (larger than the template)")
    x.add_argument("--sar-kind", default="amplitude", help="SAR pixel kind of --reference: amplitude, power or db")
    x.add_argument("--data", default=default_data, help="pairs for --sample (default ../shared/data)")
    x.add_argument("--sample", type=int, default=0, help="index of a protocol sample (default 0)")
    x.add_argument("--split", default="val")
    x.add_argument("--window", type=int, default=512)
    x.add_argument("--template-px", type=int, default=384)
    x.add_argument("--model-dir", default=None, help="folder of the ONNX model (default: installed model)")
    x.set_defaults(func=cmd_explain)


if __name__ == "__main__":  # pragma: no cover
    import argparse

    parser = argparse.ArgumentParser(prog="sarcoreg-models")
    register(parser.add_subparsers(dest="command", required=True))
    ns = parser.parse_args()
    sys.exit(ns.func(ns))
