"""``report.json``: what was run, on what, and what came out."""
from __future__ import annotations

import os
from typing import Sequence

from .config import CoregConfig
from .matchers.base import Matcher
from .outliers import GlobalFit
from .results import TiePoint, WindowResult
from .tiepoints import shift_stats

ENGINE_VERSION = "0.1.0"


def _facts(matcher: Matcher) -> dict:
    """The matcher's own facts for the report (``facts()``, e.g. a learned matcher's classical part)."""
    facts = getattr(matcher, "facts", None)
    return dict(facts()) if callable(facts) else {}


def build_report(scene, config: CoregConfig, matcher: Matcher, results: Sequence[WindowResult],
                 tiepoints: Sequence[TiePoint], fit: GlobalFit, check: dict, warp_info, timings: dict, optical,
                 sar) -> dict:
    """The content of ``report.json`` for a ``core.coregister.Scene`` and its results."""
    skipped = [r for r in results if r.skipped]
    reasons: dict = {}
    for t in tiepoints:
        if t.outlier:
            key = t.outlier_reason.split(":")[0]
            reasons[key] = reasons.get(key, 0) + 1
    return {
        "engine_version": ENGINE_VERSION,
        "inputs": {"optical": [os.fspath(p) for p in optical] if isinstance(optical, (list, tuple)) else os.fspath(optical),
                   "sar": os.fspath(sar)},
        "crs": {k: scene.facts[k] for k in ("optical_crs", "sar_crs", "working_crs")},
        "grid": scene.grid.to_dict(),
        "radiometry": {"optical_bands": scene.facts["optical_bands"], "sar_band": scene.facts["sar_band"],
                       "sar_kind": scene.facts["sar_kind"]},
        "native_pixel_m": {"optical": scene.facts["optical_pixel_m"], "sar": scene.facts["sar_pixel_m"]},
        "config": config.to_dict(),
        "matcher": {"name": matcher.name, "version": getattr(matcher, "version", ENGINE_VERSION),
                    "model_version": getattr(matcher, "model_version", None),
                    **_facts(matcher)},
        "runtime": {"provider": getattr(matcher, "provider", "numpy-cpu"),
                    "provider_note": getattr(matcher, "provider_note", ""),
                    "batch_size": getattr(matcher, "batch_size", 1),
                    "precision": getattr(matcher, "precision", "fp32"),
                    "precision_note": getattr(matcher, "precision_note", "")},
        "counts": {"windows": len(results), "skipped": len(skipped),
                   "matched": sum(1 for t in tiepoints if t.outlier_reason.split(":")[0] != "no_match"),
                   "failed": reasons.get("no_match", 0),
                   "outliers": sum(1 for t in tiepoints if t.outlier), "inliers": sum(1 for t in tiepoints if not t.outlier),
                   "outlier_reasons": reasons,
                   # matched, but the matcher said why to look again (e.g. a learned matcher's guard kept its
                   # classical part's answer): flagged, not hidden; listed in "unsure_windows"
                   "unsure": sum(1 for r in results if not r.skipped and r.match.note)},
        "unsure_windows": [{"win_row": r.window.win_row, "win_col": r.window.win_col, "note": r.match.note}
                           for r in results if not r.skipped and r.match.note],
        "skipped_windows": [{"win_row": r.window.win_row, "win_col": r.window.win_col, "reason": r.skipped,
                             "nodata_optical": round(r.nodata_optical, 3), "nodata_sar": round(r.nodata_sar, 3)}
                            for r in skipped],
        "coarse_offset": dict(scene.coarse.to_dict(), dy_m=-scene.coarse.dy_px * scene.grid.pixel_m,
                              dx_m=scene.coarse.dx_px * scene.grid.pixel_m),
        "global_fit": dict(fit.to_dict(), frame="working-grid pixels, (x, y) map axes scaled by 1/pixel_m"),
        "check_points": check,
        "shift": shift_stats(tiepoints),
        "warp": warp_info,
        "timings": timings,
    }

