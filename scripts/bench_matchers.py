"""Run the evaluation protocol (DCDM.md) for matchers and print Markdown tables.

    .venv/bin/python scripts/bench_matchers.py --data ../shared/data --split val --n 200 \\
        --matchers zncc cfog mind "cfog:projection=abs" --noise 0 0.1 0.2 0.3 --noise-matchers cfog

A matcher is a registry name, optionally with options: ``name:key=value,key=value``.
``--noise`` levels run only for ``--noise-matchers`` and only at the first setting (the noise
curve); every matcher runs at every setting without noise.
"""
from __future__ import annotations

import argparse
import ast
import logging
import sys
import time
from pathlib import Path

from sarcoreg.core.evaluate import evaluate, format_markdown
from sarcoreg.core.matchers import get_matcher

REPO_ROOT = Path(__file__).resolve().parents[1]


class Labelled:
    """A matcher under another name (to tell option variants apart in the tables)."""

    def __init__(self, label, matcher):
        self.name = label
        self._matcher = matcher

    def match(self, template, reference):
        return self._matcher.match(template, reference)


def build(spec: str):
    name, _, opts = spec.partition(":")
    options = {}
    for item in filter(None, opts.split(",")):
        key, _, value = item.partition("=")
        try:
            options[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            options[key] = value
    matcher = get_matcher(name, **options)
    return Labelled(spec, matcher) if options else matcher


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(REPO_ROOT.parent / "shared" / "data"))
    p.add_argument("--split", default="val", choices=("train", "val", "all"))
    p.add_argument("--n", type=int, default=200, help="samples per setting")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--settings", nargs="+", default=["256/192", "512/384"], help="window/template pairs")
    p.add_argument("--matchers", nargs="+", default=["zncc", "cfog", "mind"])
    p.add_argument("--noise", nargs="*", type=float, default=[], help="noise variance levels (fractions)")
    p.add_argument("--noise-matchers", nargs="*", default=None, help="matchers for the noise curve (default: all)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    settings = [tuple(int(v) for v in s.split("/")) for s in args.settings]
    matchers = [build(m) for m in args.matchers]
    start = time.perf_counter()
    results = evaluate(args.data, matchers, settings=settings, n_samples=args.n, seed=args.seed,
                       split=args.split, noise_var=0.0)
    print(format_markdown(results))
    if args.noise:
        noisy = [build(m) for m in (args.noise_matchers or args.matchers)]
        curve = evaluate(args.data, noisy, settings=settings[:1], n_samples=args.n, seed=args.seed,
                         split=args.split, noise_var=args.noise)
        print(format_markdown(curve))
    print(f"total {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
