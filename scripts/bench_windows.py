"""Seconds per window of a matcher, previous vs current kernels, side by side on real windows.

    .venv/bin/python scripts/bench_windows.py --matcher cfog --n 24
    .venv/bin/python scripts/bench_windows.py --matcher "cfog:projection=abs,n_orientations=9" --n 24
    .venv/bin/python scripts/bench_windows.py --matcher dcdm --n 12

For each of ``--n`` real ``val`` windows (``--window`` / ``--template``, default 512 / 384) the
previous and the current matcher run one after the other (so both see the same load), and the
script prints the medians, their ratio, and the largest difference of peak and confidence.
"previous" is as in ``scripts/bench_scene.py``: with ``--baseline kernels`` (the default) the
plain kernels of ``core/matchers/reference.py`` (for DCDM: its CFOG fusion and translation ZNCC,
float32 graph); with ``--baseline serial`` the current code without helper threads (a
window's pieces of work one after the other); with ``--baseline fp32`` (DCDM) the current code
with the float32 graph against the gated variant that ``precision="auto"`` opens (``light``).
"""
from __future__ import annotations

import argparse
import ast
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scene import previous_settings, without_helpers  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def build(spec: str, previous: bool, baseline: str = "kernels"):
    name, _, opts = spec.partition(":")
    options = {}
    for item in filter(None, opts.split(",")):
        key, _, value = item.partition("=")
        try:
            options[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            options[key] = value
    if name == "dcdm":
        from sarcoreg.core.dcdm.matcher import DcdmMatcher
        return DcdmMatcher(provider="cpu", precision="fp32" if previous else "auto", **options)
    if previous and baseline == "kernels":
        from sarcoreg.core.matchers import reference
        return reference.get_matcher(name, **options)
    from sarcoreg.core.matchers import get_matcher
    return get_matcher(name, **options)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    p.add_argument("--matcher", default="cfog", help="registry name, optionally name:key=value,...")
    p.add_argument("--n", type=int, default=24)
    p.add_argument("--window", type=int, default=512)
    p.add_argument("--template", type=int, default=384)
    p.add_argument("--split", default="val")
    p.add_argument("--baseline", choices=("kernels", "serial", "fp32"), default="kernels",
                   help="what 'previous' is: the kernels before issue 13 (default), the current code "
                        "without helper threads, or (dcdm) the float32 graph against the gated variant")
    args = p.parse_args(argv)
    from sarcoreg.core.samples import iter_samples

    samples = list(iter_samples(args.data, args.window, args.template, args.n, 0, args.split))
    old, new = build(args.matcher, True, args.baseline), build(args.matcher, False)
    dcdm = args.matcher.startswith("dcdm")

    def run(m, s, previous):
        if previous and args.baseline == "serial":
            with without_helpers():
                return m.match(s.template, s.reference)
        if dcdm and previous and args.baseline == "kernels":
            # each matcher builds its classical part once, on its first call: the previous
            # one inside these settings (the plain kernels), the current one outside them
            with previous_settings():
                return m.match(s.template, s.reference)
        return m.match(s.template, s.reference)

    run(old, samples[0], True)
    run(new, samples[0], False)
    t_old, t_new, d_peak, d_conf = [], [], 0.0, 0.0
    for s in samples:
        t0 = time.perf_counter()
        a = run(old, s, True)
        t1 = time.perf_counter()
        b = run(new, s, False)
        t2 = time.perf_counter()
        t_old.append(t1 - t0)
        t_new.append(t2 - t1)
        if a.status != b.status:
            print(f"status differs: {a.status!r} vs {b.status!r}")
        elif a.ok:
            d_peak = max(d_peak, abs(a.row - b.row), abs(a.col - b.col))
            d_conf = max(d_conf, abs(a.confidence - b.confidence))
    mo, mn = float(np.median(t_old)), float(np.median(t_new))
    if dcdm:
        print(f"previous graph: {old.precision}; current graph: {new.precision}"
              f"{f' ({new.precision_note})' if new.precision_note else ''}")
    print(f"{args.matcher} {args.window}/{args.template}, {len(samples)} {args.split} windows: previous {mo:.4f} s, "
          f"current {mn:.4f} s per window (medians), ratio {mo / mn:.2f}x; largest peak difference {d_peak:.1e} px, "
          f"confidence {d_conf:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
