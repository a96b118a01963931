"""The ``sarcoreg`` command line (also ``python -m sarcoreg``).

Exit codes: 0 success, 2 bad input (one line: what is wrong and what to do), 1 internal
error, 130 interrupted.  The engine never prints; this module owns the terminal.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time

# The window loop runs in parallel threads; one BLAS thread each avoids oversubscribing
# small machines and makes results independent of the BLAS thread count.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
from typing import List, Optional

from .core.config import PROVIDERS, SAR_KINDS, WARP_METHODS
from .core.errors import CancelledError, InputError, SarcoregError
from .core.matchers import AUTO, TEXTBOOK, matcher_info, matcher_names
from .core.sources import LA_TRUTH_HELP, LA_TRUTHS
from .core.summary import summary_lines

log = logging.getLogger("sarcoreg")


class TerminalFeedback:
    """A one-line progress bar on stderr (only when stderr is a terminal or forced)."""

    def __init__(self, label: str, enabled: Optional[bool] = None) -> None:
        self.label = label
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._last = -1.0
        self._t0 = time.monotonic()
        self._canceled = False

    def set_progress(self, percent: float) -> None:
        if not self.enabled or percent - self._last < 0.5 and percent < 100:
            return
        self._last = percent
        width = 30
        filled = int(width * min(percent, 100.0) / 100.0)
        elapsed = time.monotonic() - self._t0
        eta = elapsed * (100.0 - percent) / percent if percent > 0 else 0.0
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {percent:5.1f}% "
                         f"{elapsed:6.1f}s elapsed, ~{eta:5.0f}s left ")
        if percent >= 100:
            sys.stderr.write("\n")
        sys.stderr.flush()

    def is_canceled(self) -> bool:
        return self._canceled

    def cancel(self) -> None:
        self._canceled = True

    def info(self, message: str) -> None:
        log.info(message)


def _ints(text: str) -> tuple:
    try:
        return tuple(int(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of band numbers (e.g. 3,2,1)")


def _optical_arg(text: str):
    """A path, or comma-separated single-band files (one band per file)."""
    if "," in text and not os.path.exists(text):
        return [p for p in text.split(",") if p]
    return text


def _matcher_help() -> str:
    """The registry's matchers with their labels, and what ``auto`` runs now."""
    described = "; ".join(matcher_info(n).describe() for n in matcher_names(include_unavailable=True))
    return (f"{described}; {AUTO} (default) = the matcher that is best on the multi-region validation "
            f"(now {matcher_info(AUTO).name}, see docs/benchmarks.md)")


def _add_coreg_options(p: argparse.ArgumentParser, matcher_help: str) -> None:
    p.add_argument("--matcher", default=AUTO, help=matcher_help)
    p.add_argument("--window", type=int, default=512, help="SAR reference window in px (default 512)")
    p.add_argument("--template", type=int, default=384, help="optical template in px (default 384)")
    p.add_argument("--spacing", type=int, default=None, help="distance between window centres in px (default = template)")
    p.add_argument("--resolution", type=float, default=None, help="working-grid pixel size in map units (default: the coarser of the two)")
    p.add_argument("--optical-bands", type=_ints, default=None, help="1-based optical bands averaged to grey, e.g. 3,2,1 (default: the visible bands)")
    p.add_argument("--sar-band", type=int, default=1, help="SAR band (default 1)")
    p.add_argument("--sar-kind", default="auto", choices=SAR_KINDS, help="SAR radiometry (default auto: float with negatives = dB)")
    p.add_argument("--provider", default="auto", choices=PROVIDERS, help="ONNX Runtime provider of a learned matcher (default auto)")
    p.add_argument("--batch", type=int, default=0, help="windows per model call of a learned matcher (default: 16 on a GPU, 1 on the CPU)")
    p.add_argument("--warp", default=None, choices=WARP_METHODS,
                   help="also write sar_corrected.tif with this transform (auto: the one with the lowest "
                        "check-point RMSE, see report.json check_points)")
    p.add_argument("--min-confidence", type=float, default=None, help="flag points below this confidence (0-1)")
    p.add_argument("--max-nodata", type=float, default=None, help="skip windows with more than this share of nodata (default 0.2)")
    p.add_argument("--no-coarse", action="store_true", help="skip the coarse pre-alignment (offsets beyond the search radius are then missed)")
    p.add_argument("--threads", type=int, default=0, help="threads for the window loop (default: number of cores, up to 4)")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")


def _config_from(args):
    from .core.config import CoregConfig
    kw = dict(matcher=args.matcher, window_px=args.window, template_px=args.template, spacing_px=args.spacing,
              resolution_m=args.resolution, optical_bands=args.optical_bands, sar_band=args.sar_band,
              sar_kind=args.sar_kind, provider=args.provider, warp=args.warp, workers=args.threads,
              batch_size=args.batch,
              coarse_search=not args.no_coarse)
    if args.min_confidence is not None:
        kw["min_confidence"] = args.min_confidence
    if args.max_nodata is not None:
        kw["max_nodata_fraction"] = args.max_nodata
    return CoregConfig(**kw)


def cmd_coregister(args) -> int:
    from .core.coregister import coregister
    config = _config_from(args)
    fb = TerminalFeedback("co-registering")
    result = coregister(_optical_arg(args.optical), args.sar, args.outdir, config, fb, overwrite=args.overwrite)
    print("\n".join(summary_lines(result.report, result.outdir)))
    return 0


def cmd_match_batch(args) -> int:
    from .core.matchbatch import match_batch
    fb = TerminalFeedback("matching")
    summary = match_batch(args.manifest, args.results, args.matcher, overwrite=args.overwrite, feedback=fb)
    print(summary if isinstance(summary, str) else
          ", ".join(f"{k}: {v}" for k, v in summary.items() if not isinstance(v, (list, dict))))
    return 0


def _samples(args, default: int) -> int:
    """``--samples``, or the protocol's own default when it was not given."""
    return default if args.samples is None else args.samples


def cmd_evaluate(args) -> int:
    from .core import evaluate as ev
    matchers = args.matchers.split(",") if args.matchers else matcher_names()
    settings = tuple(tuple(int(v) for v in s.split("/")) for s in args.settings.split(","))
    fb = TerminalFeedback("evaluating")
    if args.pairs:
        from .core import pairs_eval as pe
        if args.protocol != "sources" or args.noise or args.sources:
            raise InputError("--pairs evaluates the pairs of its CSV: drop --protocol, --sources and --noise")
        scores = pe.evaluate_pairs(args.pairs, matchers, settings=settings, n_per_pair=_samples(args, 50),
                                   seed=args.seed, feedback=fb)
        print(pe.format_pairs_markdown(scores))
        if args.json:
            from .core.staging import atomic_file
            with atomic_file(args.json, encoding="utf-8") as fh:
                json.dump(pe.pairs_json(scores), fh, indent=1)
            print(f"wrote {args.json}")
        return 0
    if args.json:
        raise InputError("--json is written for --pairs only: add --pairs PAIRS.csv or drop --json")
    if args.protocol == "sources":
        if args.noise:
            raise InputError("--noise applies to --protocol la: drop it or add --protocol la")
        sources = args.sources.split(",") if args.sources else None
        role = "val" if args.split in ("val", None) else args.split
        scores = ev.evaluate_sources(args.data, matchers, settings=settings, n_per_source=_samples(args, 200),
                                     seed=args.seed, role=role, sources=sources, feedback=fb,
                                     la_truth=args.la_truth)
        print(ev.format_sources_markdown(scores))
        return 0
    results = ev.evaluate(args.data, matchers, settings=settings, n_samples=_samples(args, 200), seed=args.seed,
                          split=args.split, noise_var=args.noise, feedback=fb)
    print(ev.format_markdown(results))
    return 0


def cmd_batch(args) -> int:
    from .core.batch import run_batch
    fb = TerminalFeedback("batch")
    summary = run_batch(args.pairs, args.outroot, _config_from(args), scheduler=args.scheduler,
                        n_workers=args.workers, overwrite=args.overwrite, feedback=fb)
    print(summary.text())
    return summary.exit_code()


def cmd_demo(args) -> int:
    from .core.demo import run_demo
    fb = TerminalFeedback("demo")
    ok = run_demo(args.outdir, matcher=args.matcher, feedback=fb, overwrite=True, echo=print)
    return 0 if ok else 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sarcoreg", description="Co-register optical and SAR satellite scenes.")
    p.add_argument("-v", "--verbose", action="store_true", help="log what the engine does")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    matcher_help = _matcher_help()   # asks the registry once (it checks the learned model's files)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    c = sub.add_parser("coregister", help="co-register one optical/SAR scene pair")
    c.add_argument("optical", help="optical raster (or comma-separated single-band files)")
    c.add_argument("sar", help="SAR raster (detected: amplitude, power or dB)")
    c.add_argument("-o", "--outdir", required=True, help="output folder")
    _add_coreg_options(c, matcher_help)
    c.set_defaults(func=cmd_coregister)

    b = sub.add_parser("batch", help="co-register many scene pairs on Dask (local cluster by default)")
    b.add_argument("pairs", help="CSV with rows optical,sar[,name] (paths relative to the CSV)")
    b.add_argument("-o", "--outroot", required=True, help="one output folder per pair is made in here")
    b.add_argument("--scheduler", default=None, help="address of a Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a local cluster)")
    b.add_argument("--workers", type=int, default=None, help="workers of the local cluster (default: cores)")
    _add_coreg_options(b, matcher_help)
    b.set_defaults(func=cmd_batch)

    m = sub.add_parser("match-batch", help="benchmark protocol: match template/reference image pairs from a manifest")
    m.add_argument("manifest", help="CSV with at least id,template,reference (paths relative to the manifest)")
    m.add_argument("-o", "--results", required=True, help="results CSV: id,row,col,score,confidence,seconds")
    m.add_argument("--matcher", default=AUTO, help=matcher_help)
    m.add_argument("--overwrite", action="store_true")
    m.set_defaults(func=cmd_match_batch)

    e = sub.add_parser("evaluate", help="CMR / RMSE of matchers on real co-registered pairs (DCDM protocol)")
    e.add_argument("--data", default=os.path.join("..", "shared", "data"), help="folder of real pairs (default ../shared/data)")
    e.add_argument("--pairs", default=None, metavar="PAIRS.csv",
                   help="evaluate on your own aligned pairs: a CSV of optical,sar[,name][,dy,dx][,sar_kind] "
                        "(the batch CSV; dy, dx: the known residual in pixels, default 0); --samples is per pair")
    e.add_argument("--json", default=None, help="with --pairs: also write the results to this JSON file")
    e.add_argument("--matchers", default=None,
                   help=f"comma-separated matchers (default: all); {TEXTBOOK} adds the literature's 9-orientation CFOG")
    e.add_argument("--settings", default="256/192,512/384", help="reference/template sizes (default 256/192,512/384)")
    e.add_argument("--protocol", choices=("sources", "la"), default="sources",
                   help="sources: per source and overall over every shared source with a usable truth "
                        "(s1s2_la, ombria, multiearth, other; default); la: the s1s2_la pairs alone")
    e.add_argument("--sources", default=None, help="comma-separated sources of --protocol sources (default: all)")
    e.add_argument("--samples", type=int, default=None,
                   help="samples per setting: per source with --protocol sources (default 200), per pair with "
                        "--pairs (default 50)")
    e.add_argument("--split", default="val", help="pairs to use: val or dev with --protocol sources; val, train or all "
                                                   "with --protocol la (default val)")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--noise", type=float, default=0.0, help="Gaussian noise variance on the optical template (0-0.3)")
    e.add_argument("--la-truth", choices=LA_TRUTHS, default="local", help=f"with --protocol sources: {LA_TRUTH_HELP}")
    e.set_defaults(func=cmd_evaluate)

    d = sub.add_parser("demo", help="co-register the bundled Sentinel-1/2 sub-scene after a known shift")
    d.add_argument("-o", "--outdir", default="sarcoreg-demo", help="output folder (default ./sarcoreg-demo)")
    d.add_argument("--matcher", default=AUTO, help=matcher_help)
    d.set_defaults(func=cmd_demo)
    try:  # train / export-onnx / explain: torch is imported only when they run
        from .models.commands import register as register_model_commands
    except ImportError:
        register_model_commands = None
    if register_model_commands is not None:
        register_model_commands(sub)
    return p


def _gdal_for_the_command_line() -> None:
    """The command line owns its process, so it may set GDAL's process-wide state (the
    plugin never does, see ``core.gdalscope``): exceptions on, GDAL's messages from outside the engine's
    scopes (datasets closed late) go the same way as inside them, each distinct warning once
    to the ``sarcoreg.gdal`` logger and failures only into the one-line errors; and the
    block cache stays modest, since the engine reads a few windows at a time."""
    try:
        from osgeo import gdal, ogr, osr

        from .core.gdalscope import install_cli_handler
    except ImportError:  # pragma: no cover - GDAL is a hard dependency of the engine
        return
    # said explicitly, so that GDAL >= 3.7 does not warn that the mode was never chosen
    for module in (gdal, ogr, osr):
        module.UseExceptions()
    install_cli_handler()
    if gdal.GetCacheMax() > 256 * 1024 * 1024:
        gdal.SetCacheMax(256 * 1024 * 1024)


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    _gdal_for_the_command_line()
    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"sarcoreg: error: {exc}", file=sys.stderr)
        return 2
    except (CancelledError, KeyboardInterrupt):
        print("\nsarcoreg: interrupted: nothing was left under a final output name; run again to redo it",
              file=sys.stderr)
        return 130
    except SarcoregError as exc:
        print(f"sarcoreg: error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # an internal error: one line, traceback on --debug
        if args.debug:
            raise
        from .core.errors import one_line
        print(f"sarcoreg: internal error: {type(exc).__name__}: {one_line(exc)} (run with --debug for the traceback and "
              "report it)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
