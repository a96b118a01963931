#!/usr/bin/env python3
"""Speed of the default classical matcher at the plugin's window size (512 / 384 px).

A benchmark, not a test: timings depend on the machine and on its load, so they are
printed, never asserted. About 0.15 s per match on an idle 2-core machine.

    .venv/bin/python scripts/bench_classical_speed.py [--data ../shared/data] [--repeat 3]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REPO_ROOT.parent / "shared" / "data"), help="folder of real pairs")
    parser.add_argument("--window", type=int, default=512)
    parser.add_argument("--template", type=int, default=384)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the minimum is the figure (default 3)")
    args = parser.parse_args(argv)

    from sarcoreg.core.matchers import DEFAULT_CLASSICAL, get_matcher
    from sarcoreg.core.samples import iter_samples

    sample = next(iter_samples(args.data, args.window, args.template, 1, seed=0, split="val"))
    matcher = get_matcher(DEFAULT_CLASSICAL)
    times = []
    for _ in range(max(1, args.repeat)):
        t0 = time.perf_counter()
        matcher.match(sample.template, sample.reference)
        times.append(time.perf_counter() - t0)
    print(f"{DEFAULT_CLASSICAL} at {args.window} / {args.template} px: min {min(times):.3f} s, "
          f"median {sorted(times)[len(times) // 2]:.3f} s per match over {len(times)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
