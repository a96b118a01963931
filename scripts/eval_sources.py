"""The multi-region validation with the references the product is compared against: the
product's matchers as shipped (``cfog``, ``mind``, ``dcdm``), the translation alone (``dcdm``
without fusion), and a textbook 9-orientation CFOG (|g·u|, σ 0.8, [1, 2, 1] along
orientation, per-pixel L2 norm, multi-channel ZNCC).

    python scripts/eval_sources.py --samples 120 --role val

Same samples, truth check and scores as ``sarcoreg evaluate`` (``core.evaluate.evaluate_sources``);
prints its Markdown table.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sarcoreg.core.dcdm.matcher import TRANSLATION_ALONE  # noqa: E402
from sarcoreg.core.evaluate import evaluate_sources, format_sources_markdown  # noqa: E402
from sarcoreg.core.matchers import get_matcher, matcher_names  # noqa: E402
from sarcoreg.core.sources import LA_TRUTH_HELP, LA_TRUTHS, TEXTBOOK_CFOG  # noqa: E402


def matchers(with_dcdm: bool = True, with_translation: bool = True, with_classical: bool = True):
    out = []
    if with_classical:
        out = [get_matcher("cfog"), get_matcher("mind")]
        textbook = get_matcher("cfog", **TEXTBOOK_CFOG)
        textbook.name = "textbook CFOG (9 orient.)"
        out.append(textbook)
    if with_dcdm and "dcdm" in matcher_names():
        out.append(get_matcher("dcdm"))
    if with_dcdm and with_translation and "dcdm" in matcher_names():
        alone = get_matcher("dcdm", **TRANSLATION_ALONE)
        alone.name = "dcdm translation alone"
        out.append(alone)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.path.join("..", "shared", "data"))
    ap.add_argument("--samples", type=int, default=120, help="per source and setting")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--la-truth", choices=LA_TRUTHS, default="local",
                    help=LA_TRUTH_HELP)
    ap.add_argument("--role", default="val")
    ap.add_argument("--settings", default="256/192,512/384")
    ap.add_argument("--sources", default=None, help="comma-separated sources (default: all)")
    ap.add_argument("--no-dcdm", action="store_true")
    ap.add_argument("--no-translation", action="store_true", help="leave out the translation alone")
    ap.add_argument("--only-dcdm", action="store_true",
                    help="only dcdm and its translation alone (a candidate model: the classical rows are "
                         "the same samples' and do not change)")
    ap.add_argument("--model-dir", default=None, help="the DCDM model folder to evaluate (default: the shipped one)")
    a = ap.parse_args(argv)
    if a.model_dir:
        os.environ["SARCOREG_DCDM_DIR"] = os.path.abspath(a.model_dir)
    settings = tuple(tuple(int(v) for v in s.split("/")) for s in a.settings.split(","))
    res = evaluate_sources(a.data, matchers(not a.no_dcdm, not a.no_translation, not a.only_dcdm), settings, a.samples, a.seed,
                           a.role, sources=a.sources.split(",") if a.sources else None, la_truth=a.la_truth)
    print(format_sources_markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
