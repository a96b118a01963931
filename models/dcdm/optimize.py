"""Faster variants of an exported DCDM graph, each behind a parity gate.

``build_variants(model_dir, data)`` makes, next to the float32 ``dcdm_unrolled.onnx``:

* ``light``: the same network with its decoder distilled to fewer residual blocks
  (``models.dcdm.distill``: by default none at full and half resolution, which were about a
  third of the network's multiply-adds), float32. The trainable model is recovered from the float32 graph
  itself (``models.dcdm.recover``), so this needs torch but no checkpoint, and applies to
  whatever model is in the folder; the student learns from **train** windows only;
* ``int8``: static int8 quantisation (``onnxruntime.quantization``, QDQ format, per-channel
  weights; the Conv, Gemm and MatMul nodes), calibrated on real windows of the **train**
  split (``core.samples``, never the validation pairs the gate uses);
* ``fp16``: the graph in float16 with float32 inputs and outputs, the numerically delicate
  nodes (TopK, Softmax, normalisations, logarithms...) kept in float32.

Each variant then goes through the **parity gate** (``gate``) on real samples of the
multi-region validation (``core.sources``, role ``val``: ``s1s2_la`` val pairs under their
local truth, OMBRIA ``test``, the other shared pairs; ``n`` per source large enough for the
size), matched by ``DcdmMatcher`` once with the float32 graph and once with the variant,
alternating sample by sample (so a change in the machine's load hits both alike):

* the same peak within ``0.1`` px on at least ``99 %`` of the samples, and
* CMR(1) and CMR(5) against the truth not lower than the float32 graph's,

at 512 / 384 and again at 256 / 192 (the model's fusion settings differ per template size);
it passes only where it passes at both.

A variant that passes is written as ``dcdm_unrolled.<variant>.onnx`` with the verdict in its
metadata (``parity_gate``: the figures, ``passed``, ``ship`` = passed and at least 5 % faster
on this machine, and the SHA-256 of the float32 file it was checked against); one that fails
is not written (the 512 / 384 figures, with the other sizes' under ``other_sizes``).
``core.dcdm.runtime`` opens a variant only when its gate passed, it ships and
the float32 file beside it is the one it was checked against, so a retrained or re-exported
model never runs with stale variants. ``sarcoreg export-onnx --variants int8 fp16`` runs this
after the export, ``sarcoreg optimize-onnx`` on an existing model folder; both write
``parity_gate.json`` beside the model. ``sarcoreg optimize-onnx --gate-only`` gates the
variant files already there again, without building them (after the gate or the data
changed): a variant that fails is removed.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ...core.dcdm.contract import prepare
from ...core.errors import InputError
from ...core.dcdm.runtime import UNROLLED_FILE, VARIANTS, file_sha256, variant_path
from ...core.dcdm.schedule import ScheduleConfig, fixed_noise
from ...core.samples import iter_samples
from ...core.sources import source_samples
from ...core.staging import atomic_file, atomic_path

PEAK_TOL_PX = 0.1
GATE_SIZES = ((512, 384), (256, 192))     # (window, template) px: the gate runs at each
LIGHT_DECODER = (1, 0, 0)                 # residual blocks per decoder level (stride 4, 2, 1) of the light variant
LIGHT_ENCODER = ()                        # the same for the auto-encoder's encoder (empty: kept whole)
LIGHT_MINUTES = 20.0                      # distillation time of the light variant
MIN_SHARE = 0.99
MIN_SPEEDUP = 1.05
FP16_KEEP_FLOAT32 = ("TopK", "Softmax", "Exp", "InstanceNormalization", "ReduceMean", "ReduceSum", "Pow", "Sqrt", "Log",
                     "Resize", "Range", "OneHot", "Div", "Where", "Equal", "GreaterOrEqual")


@dataclass(frozen=True)
class GateResult:
    variant: str
    samples: int
    window_px: int
    template_px: int
    share_within_tol: float        # share of samples whose peak is within PEAK_TOL_PX of float32's
    max_peak_diff_px: float
    cmr1_fp32: float
    cmr1_variant: float
    cmr5_fp32: float
    cmr5_variant: float
    seconds_fp32: float            # median whole match, float32 graph
    seconds_variant: float
    speedup: float                 # seconds_fp32 / seconds_variant
    passed: bool
    ship: bool
    reference_sha256: str
    other_sizes: tuple = ()        # the same figures (dicts) at the gate's other sizes
    sources: tuple = ()            # ((source, samples), ...) of the multi-region validation

    def to_dict(self) -> dict:
        return asdict(self)


def verdict(peak_diffs: Sequence[float], err_fp32: Sequence[float], err_variant: Sequence[float]) -> bool:
    """The gate on per-sample figures: peak differences to float32 (px, NaN when exactly one of the
    two failed) and both graphs' errors to the truth (px, NaN when failed)."""
    d = np.asarray(peak_diffs, dtype=np.float64)
    e0 = np.asarray(err_fp32, dtype=np.float64)
    e1 = np.asarray(err_variant, dtype=np.float64)
    if d.size == 0:
        return False
    with np.errstate(invalid="ignore"):
        share = float(np.mean(d <= PEAK_TOL_PX))
        cmr = lambda e, t: float(np.mean(e <= t))  # noqa: E731
    return share >= MIN_SHARE and cmr(e1, 1) >= cmr(e0, 1) and cmr(e1, 5) >= cmr(e0, 5)


def _peak_diff(a, b) -> float:
    if a.ok and b.ok:
        return float(np.hypot(a.row - b.row, a.col - b.col))
    return 0.0 if (not a.ok and not b.ok) else float("nan")


def gate_samples(data: str, window_px: int, template_px: int, n_per_source: int, seed: int = 7):
    """``(samples, ((source, count), ...))``: ``n_per_source`` samples of every source of the
    multi-region validation (``core.sources``, role ``val``, local truth, truth-checked) whose
    pairs are large enough for ``window_px``."""
    groups = source_samples(data, window_px, template_px, n_per_source, seed, "val")
    return [s for g in groups for s in g.samples], tuple((g.source, len(g.samples)) for g in groups)


def gate(fp32_dir: str, variant_file: Path, variant: str, data: str, n_samples: int = 100,
         window_px: int = 512, template_px: int = 384, seed: int = 7, threads: Optional[int] = None,
         log: Callable[[str], None] = print) -> GateResult:
    """Match ``n_samples`` samples per source of the multi-region validation (``gate_samples``)
    with the float32 graph of ``fp32_dir`` and with ``variant_file`` (alternating), and apply
    the gate."""
    import shutil
    import tempfile

    from ...core.dcdm.matcher import DcdmMatcher

    fp32_path = Path(fp32_dir) / UNROLLED_FILE
    with tempfile.TemporaryDirectory(prefix="dcdm-gate-") as tmp:
        shutil.copyfile(variant_file, Path(tmp) / UNROLLED_FILE)   # a folder the matcher opens as is
        ref = DcdmMatcher(provider="cpu", model_dir=str(fp32_dir), threads=threads, precision="fp32")
        var = DcdmMatcher(provider="cpu", model_dir=tmp, threads=threads, precision="fp32")
        samples, sources = gate_samples(data, window_px, template_px, n_samples, seed)
        if not samples:
            raise InputError(f"no validation samples of {window_px}/{template_px} px under {data}: "
                             "the gate needs the shared pairs (--data)")
        ref.match(samples[0].template, samples[0].reference)
        var.match(samples[0].template, samples[0].reference)
        diffs, e0, e1, s0, s1 = [], [], [], [], []
        for k, s in enumerate(samples):
            t0 = time.perf_counter()
            a = ref.match(s.template, s.reference)
            t1 = time.perf_counter()
            b = var.match(s.template, s.reference)
            t2 = time.perf_counter()
            s0.append(t1 - t0)
            s1.append(t2 - t1)
            diffs.append(_peak_diff(a, b))
            e0.append(float(np.hypot(a.row - s.true_row, a.col - s.true_col)) if a.ok else float("nan"))
            e1.append(float(np.hypot(b.row - s.true_row, b.col - s.true_col)) if b.ok else float("nan"))
            if (k + 1) % 25 == 0:
                log(f"  {variant}: {k + 1}/{len(samples)} samples")
    d = np.asarray(diffs)
    with np.errstate(invalid="ignore"):
        cmr = lambda e, t: float(np.mean(np.asarray(e) <= t))  # noqa: E731
        share = float(np.mean(d <= PEAK_TOL_PX))
    passed = verdict(diffs, e0, e1)
    speed = float(np.median(s0) / np.median(s1))
    finite = d[np.isfinite(d)]
    return GateResult(variant, len(samples), window_px, template_px, round(share, 4),
                      round(float(finite.max()) if finite.size else float("nan"), 4),
                      round(cmr(e0, 1), 4), round(cmr(e1, 1), 4), round(cmr(e0, 5), 4), round(cmr(e1, 5), 4),
                      round(float(np.median(s0)), 4), round(float(np.median(s1)), 4), round(speed, 3),
                      bool(passed), bool(passed and speed >= MIN_SPEEDUP), file_sha256(fp32_path),
                      sources=sources)


def _calibration_feeds(data: str, n: int, window_px: int, template_px: int, seed: int = 1) -> List[Dict]:
    feeds = []
    for s in iter_samples(data, window_px, template_px, n, seed, "train"):
        tm = prepare(s.template)[None, None]
        h = template_px // 8
        feeds.append({"template": tm, "reference": prepare(s.reference)[None, None],
                      "x_T": fixed_noise((8, h, h), ScheduleConfig())[None].astype(np.float32)})
    return feeds


def make_int8(src: Path, out: Path, data: str, n_calibration: int = 16, window_px: int = 512,
              template_px: int = 384) -> Path:
    """Static int8 quantisation of ``src`` calibrated on ``n_calibration`` train windows."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    feeds = _calibration_feeds(data, n_calibration, window_px, template_px)
    if not feeds:
        raise InputError(f"no train windows under {data} to calibrate on")

    class Reader(CalibrationDataReader):
        def __init__(self):
            self._it = iter(feeds)

        def get_next(self):
            return next(self._it, None)

    pre = out.with_suffix(".pre.onnx")
    try:
        quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
        with atomic_path(out) as quantised:
            quantize_static(str(pre), str(quantised), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            op_types_to_quantize=["Conv", "Gemm", "MatMul"])
    finally:
        pre.unlink(missing_ok=True)
    return out


def make_light(src: Path, out: Path, data: str, minutes: float = LIGHT_MINUTES,
               level_res: Sequence[int] = LIGHT_DECODER, log: Callable[[str], None] = print,
               max_pairs: int = 0, enc_res: Sequence[int] = LIGHT_ENCODER) -> Path:
    """``src`` with its decoder distilled to ``level_res`` residual blocks per level, and its
    auto-encoder's encoder to ``enc_res`` unless that is empty (see the module doc); the
    contract metadata of ``src`` with the student's ``config`` and a ``decoder`` record (what
    was distilled, how long, how close to the teacher)."""
    import shutil
    import tempfile

    try:
        from .distill import distill
    except ModuleNotFoundError as exc:
        if exc.name != "torch":
            raise
        raise InputError("the light variant is distilled with torch, which is not installed: run "
                         "`scripts/setup.sh --with-torch`, or build only --variants int8 fp16") from None
    from .export import export
    from .recover import recover

    with tempfile.TemporaryDirectory(prefix="dcdm-light-") as tmp:
        model, ck = recover(str(src), workdir=tmp)
        student = distill(model, ck, level_res, data, minutes=minutes, log=log, max_pairs=max_pairs, enc_res=enc_res)
        meta = {p.key: p.value for p in _metadata(src)}
        (path,) = export(model, student, str(Path(tmp) / "onnx"), int(meta.get("window_px", 512)),
                         int(meta.get("template_px", 384)), "unrolled")
        trainable, frozen = model.parameter_counts()
        _write_metadata(path, src, {"config": json.dumps(model.cfg.to_dict()),
                                    "decoder": json.dumps(student["distilled"]),
                                    "parameters": json.dumps({"trainable": trainable, "frozen": frozen})})
        shutil.move(str(path), str(out))
    return out


def _metadata(path: Path):
    import onnx

    return onnx.load(str(path), load_external_data=False).metadata_props


def make_fp16(src: Path, out: Path) -> Path:
    """``src`` in float16 (float32 inputs/outputs, ``FP16_KEEP_FLOAT32`` nodes in float32)."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = convert_float_to_float16(onnx.load(str(src)), keep_io_types=True, op_block_list=list(FP16_KEEP_FLOAT32))
    with atomic_file(out, "wb") as fh:
        onnx.save(model, fh)
    return out


def _write_metadata(path: Path, source: Path, extra: Dict[str, str]) -> None:
    """Copy the contract metadata of ``source`` into ``path`` and add ``extra``."""
    import onnx

    meta = {p.key: p.value for p in _metadata(source)}
    meta.update(extra)
    model = onnx.load(str(path))
    del model.metadata_props[:]
    for k, v in meta.items():
        e = model.metadata_props.add()
        e.key, e.value = k, str(v)
    with atomic_file(path, "wb") as fh:
        onnx.save(model, fh)


def set_matching(onnx_path: str, matching: Dict) -> Dict:
    """Replace the ``matching`` metadata of an exported model (fusion weight per template size,
    classical part, guard: what ``scripts/choose_on_dev.py`` chose on the dev split) without
    touching its graph (needs onnx, not torch); written through a temporary file. Returns the
    previous value.

    The gated variants beside a float32 file (``dcdm_unrolled.<variant>.onnx``) get the same
    ``matching``, and their gates, which name the float32 file by its checksum, are pointed at
    the new file: only metadata changed, so the graphs they were checked against are the same.
    """
    from ...core.dcdm.runtime import read_gate

    path = Path(onnx_path)
    previous = json.loads({p.key: p.value for p in _metadata(path)}.get("matching") or "{}")
    old_sha = file_sha256(path)
    _write_metadata(path, path, {"matching": json.dumps(matching)})
    new_sha = file_sha256(path)
    for variant in VARIANTS:
        other = variant_path(path, variant)
        if not other.is_file():
            continue
        extra = {"matching": json.dumps(matching)}
        gate = read_gate(other)
        if gate.get("reference_sha256") == old_sha:
            extra["parity_gate"] = json.dumps({**gate, "reference_sha256": new_sha})
        _write_metadata(other, other, extra)
    report = path.parent / "parity_gate.json"
    if report.is_file() and old_sha != new_sha:
        text = report.read_text()
        if old_sha in text:
            with atomic_file(report) as fh:
                fh.write(text.replace(old_sha, new_sha))
    return previous


def remove_stale(model_dir: str) -> List[Path]:
    """Delete the variant files of ``model_dir`` (before a new float32 graph is written there)."""
    gone = []
    for v in VARIANTS:
        p = variant_path(Path(model_dir) / UNROLLED_FILE, v)
        if p.is_file():
            p.unlink()
            gone.append(p)
    return gone


def build_variants(model_dir: str, data: str, variants: Sequence[str] = VARIANTS, n_samples: int = 100,
                   n_calibration: int = 16, window_px: int = 512, template_px: int = 384,
                   threads: Optional[int] = None, log: Callable[[str], None] = print,
                   distill_minutes: float = LIGHT_MINUTES, light_decoder: Sequence[int] = LIGHT_DECODER,
                   light_encoder: Sequence[int] = LIGHT_ENCODER,
                   sizes: Sequence[Tuple[int, int]] = GATE_SIZES, gate_only: bool = False) -> List[GateResult]:
    """Make each of ``variants`` for the float32 graph in ``model_dir``, gate it at every
    ``(window, template)`` of ``sizes``, and keep the ones that pass everywhere (see the module
    doc). ``window_px`` / ``template_px``: the int8 calibration's size. ``gate_only``: gate the
    variant files already in ``model_dir`` again instead of building them (one that is not
    there is left out; one that fails is removed). Writes ``parity_gate.json`` in ``model_dir``."""
    import shutil
    import tempfile

    base = Path(model_dir)
    src = base / UNROLLED_FILE
    if not src.is_file():
        raise InputError(f"{src}: no unrolled float32 graph: export one with `sarcoreg export-onnx --layout unrolled`")
    results = []
    for v in variants:
        if v not in VARIANTS:
            raise InputError(f"variant {v!r} is unknown: use {', '.join(VARIANTS)}")
        final = variant_path(src, v)
        if gate_only and not final.is_file():
            log(f"{v}: no {final.name} to gate")
            continue
        if not gate_only:
            final.unlink(missing_ok=True)        # a stale variant never outlives a failed build
        with tempfile.TemporaryDirectory(prefix="dcdm-variant-") as tmp:
            cand = Path(tmp) / f"{v}.onnx"
            t0 = time.perf_counter()
            if gate_only:
                shutil.copyfile(final, cand)     # the file stays in place while it is gated
            elif v == "int8":
                make_int8(src, cand, data, n_calibration, window_px, template_px)
                _write_metadata(cand, src, {})
            elif v == "light":
                make_light(src, cand, data, distill_minutes, light_decoder, log, enc_res=light_encoder)
            else:
                make_fp16(src, cand)
                _write_metadata(cand, src, {})
            if not gate_only:
                log(f"{v}: built in {time.perf_counter() - t0:.0f} s")
            log(f"{v}: gating on {n_samples} validation samples per source at {', '.join(f'{w}/{t}' for w, t in sizes)}")
            each = []
            for w, t in sizes:
                each.append(gate(str(base), cand, v, data, n_samples, w, t, threads=threads, log=log))
                r = each[-1]
                log(f"{v} {w}/{t}: peaks within {PEAK_TOL_PX} px of float32 on {100 * r.share_within_tol:.1f} %, "
                    f"CMR(1) {r.cmr1_variant:.3f} vs {r.cmr1_fp32:.3f}, CMR(5) {r.cmr5_variant:.3f} vs "
                    f"{r.cmr5_fp32:.3f}, {r.seconds_variant:.3f} s vs {r.seconds_fp32:.3f} s per window "
                    f"({r.speedup:.2f}x): {'passed' if r.passed else 'FAILED'}")
            res = combined(each)
            log(f"{v}: {'passed' if res.passed else 'FAILED'}"
                f"{', ships' if res.ship else ', not used by default' if res.passed else ', removed' if gate_only else ', not written'}")
            if res.passed:
                _write_metadata(cand, cand, {"parity_gate": json.dumps(res.to_dict())})
                with atomic_path(final) as placed:        # the temporary folder may be on another disk
                    shutil.copyfile(cand, placed)
            else:
                final.unlink(missing_ok=True)
        results.append(res)
    with atomic_file(base / "parity_gate.json") as fh:
        fh.write(json.dumps([r.to_dict() for r in results], indent=1) + "\n")
    return results


def combined(results: Sequence[GateResult]) -> GateResult:
    """One verdict from the gates at several sizes: the first size's figures, the others under
    ``other_sizes``; passed where every size passed; ships where it also measured at least
    ``MIN_SPEEDUP`` faster at the first (largest) size."""
    first = results[0]
    passed = all(r.passed for r in results)
    return replace(first, passed=passed, ship=bool(passed and first.speedup >= MIN_SPEEDUP),
                   other_sizes=tuple(r.to_dict() for r in results[1:]))
