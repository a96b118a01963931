"""Co-register one optical/SAR scene pair: the engine behind CLI, batch, Processing and dock.

    prepare()        validate inputs, lay the working grid and the windows   (no pixels read)
    match_window()   read one window pair and match it                       (pure of outputs)
    build_tiepoints()turn window results into tie points (P, Q, shifts)
    flag_outliers()  the three outlier levels and the global fit
    coregister()     all of the above plus the outputs, staged and moved into place
"""
from __future__ import annotations

import logging
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Callable, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import outputs as out
from . import coarse as coarse_pass
from .coarse import CoarseOffset
from .config import CoregConfig
from .errors import InputError
from .feedback import Feedback, NullFeedback, check_cancel
from .grid import WorkingGrid, build_working_grid
from .matchers.base import Match, Matcher
from .outliers import GlobalFit, local_outliers, ransac_fit
from .raster import (RasterInfo, SceneSource, check_dtype, default_optical_bands,
                     describe, guess_sar_kind, stack_band_files)
from .results import CoregResult, TiePoint, WindowResult
from .staging import OutputStage
from .tiling import Window, lay_windows, nodata_fraction

log = logging.getLogger("sarcoreg.coregister")

ENGINE_VERSION = "0.1.0"
PathLike = Union[str, os.PathLike]


@dataclass(frozen=True)
class Scene:
    """A validated pair on its working grid, with the windows to match (no pixels)."""

    optical: SceneSource
    sar: SceneSource
    grid: WorkingGrid
    windows: Tuple[Window, ...]
    optical_info: RasterInfo
    sar_info: RasterInfo
    facts: dict
    coarse: CoarseOffset = CoarseOffset()

    @property
    def sar_offset_px(self) -> Tuple[int, int]:
        """``(dy, dx)``: the SAR windows are read this far from the optical ones (coarse pass)."""
        return self.coarse.offset_px


_FALLBACK_SAID: list = []


def resolve_matcher_name(name: str) -> str:
    """``auto`` → ``dcdm`` when its model is installed, else the best classical matcher."""
    from .matchers import DEFAULT_CLASSICAL, resolve_name
    resolved = resolve_name(name)
    if name == "auto" and resolved == DEFAULT_CLASSICAL and not _FALLBACK_SAID:
        _FALLBACK_SAID.append(True)
        log.warning("no DCDM model installed: using the classical matcher %s", DEFAULT_CLASSICAL)
    return resolved


_MATCHER_CACHE: dict = {}


def make_matcher(config: CoregConfig) -> Matcher:
    """The matcher ``config`` asks for, built once per process (it may hold a model)."""
    name = resolve_matcher_name(config.matcher)
    key = (name, config.provider)
    m = _MATCHER_CACHE.get(key)
    if m is None:
        from .matchers import get_matcher
        m = get_matcher(name, provider=config.provider) if name == "dcdm" else get_matcher(name)
        _MATCHER_CACHE[key] = m
    return m


def match_chunk(scene: "Scene", windows: Sequence[Window], config: CoregConfig) -> List[WindowResult]:
    """Match a chunk of windows in this process (the unit of work sent to a Dask worker)."""
    matcher = make_matcher(config)
    return [match_window(scene, w, matcher, config.max_nodata_fraction) for w in windows]


def _optical_path(optical: Union[PathLike, Sequence[PathLike]]) -> str:
    if isinstance(optical, (list, tuple)):
        return stack_band_files([os.fspath(p) for p in optical]) if len(optical) > 1 else os.fspath(optical[0])
    return os.fspath(optical)


def prepare(optical, sar: PathLike, config: CoregConfig) -> Scene:
    """Validate both scenes and lay the working grid and windows; reads no full raster.

    ``optical`` is a path, or a list of single-band files (one band per file).
    """
    opt_path = _optical_path(optical)
    opt_info = describe(opt_path)
    sar_info = describe(os.fspath(sar))
    opt_bands = config.optical_bands or default_optical_bands(opt_info)
    check_dtype(opt_info, opt_bands, "optical")
    check_dtype(sar_info, (config.sar_band,), "SAR")
    sar_kind = config.sar_kind if config.sar_kind != "auto" else guess_sar_kind(sar_info, config.sar_band)
    grid, facts = build_working_grid(opt_info, sar_info, config.resolution_m, config.window_px)
    windows = tuple(lay_windows(grid.height, grid.width, config.window_px, config.template_px,
                                config.effective_spacing_px))
    facts = dict(facts, optical_bands=list(opt_bands), sar_band=config.sar_band, sar_kind=sar_kind)
    opt_src = SceneSource(opt_path, tuple(opt_bands), grid, "optical", native_pixel_m=facts["optical_pixel_m"])
    sar_src = SceneSource(os.fspath(sar), (config.sar_band,), grid, "sar", sar_kind, facts["sar_pixel_m"])
    return Scene(opt_src, sar_src, grid, windows, opt_info, sar_info, facts)


def with_coarse_offset(scene: Scene, config: CoregConfig) -> Scene:
    """Run the coarse pass (``core.coarse``) and, when it applies, read SAR windows displaced."""
    if not config.coarse_search:
        return scene
    from .matchers import DEFAULT_CLASSICAL, get_matcher
    matcher = get_matcher(DEFAULT_CLASSICAL)
    matcher.min_valid = 0.15  # whole scenes may have large gaps (mosaics, swaths); nodata is masked
    est = coarse_pass.estimate(scene.optical, scene.sar, scene.grid, config.search_radius_px, matcher)
    log.info("coarse pass: offset (%d, %d) px, confidence %.2f, %s", est.dy_px, est.dx_px, est.confidence, est.note)
    if not est.applied:
        return replace(scene, coarse=est)
    sar = replace(scene.sar, grid=coarse_pass.shifted_grid(scene.grid, est.dy_px, est.dx_px))
    return replace(scene, sar=sar, coarse=est)


def match_window(scene: Scene, window: Window, matcher: Matcher, max_nodata_fraction: float) -> WindowResult:
    """Read one window pair on the working grid and match it; never raises for bad pixels."""
    tr, tc = window.template_origin
    template = scene.optical.read(tr, tc, window.template_px, window.template_px)
    f_opt = nodata_fraction(template)
    reference = scene.sar.read(window.row0, window.col0, window.window_px, window.window_px)
    f_sar = nodata_fraction(reference)
    if f_opt > max_nodata_fraction or f_sar > max_nodata_fraction:
        which = "optical" if f_opt > max_nodata_fraction else "sar"
        return WindowResult(window, Match.failed("skipped"), f"nodata_{which}", f_opt, f_sar)
    t0 = time.perf_counter()
    m = matcher.match(template, reference)
    if m.seconds == 0.0:
        m = replace(m, seconds=time.perf_counter() - t0)
    return WindowResult(window, m, "", f_opt, f_sar)


def iter_matches(scene: Scene, windows: Sequence[Window], matcher: Matcher, config: CoregConfig,
                 feedback: Feedback) -> Iterator[WindowResult]:
    """Match ``windows`` on a small thread pool, yielding results in order; bounded in flight."""
    workers = config.workers or min(4, os.cpu_count() or 1)
    if workers <= 1:
        for w in windows:
            check_cancel(feedback)
            yield match_window(scene, w, matcher, config.max_nodata_fraction)
        return

    def task(w):
        return match_window(scene, w, matcher, config.max_nodata_fraction)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sarcoreg") as pool:
        pending = []
        it = iter(windows)
        try:
            for w in it:
                pending.append(pool.submit(task, w))
                if len(pending) >= 2 * workers:
                    break
            while pending:
                check_cancel(feedback)
                res = pending.pop(0).result()
                nxt = next(it, None)
                if nxt is not None:
                    pending.append(pool.submit(task, nxt))
                yield res
        finally:
            for f in pending:
                f.cancel()


def _azimuth_deg(dx: float, dy: float) -> float:
    if not (math.isfinite(dx) and math.isfinite(dy)) or (dx == 0 and dy == 0):
        return 0.0 if math.isfinite(dx) else float("nan")
    return math.degrees(math.atan2(dx, dy)) % 360.0


def build_tiepoint(idx: int, res: WindowResult, grid: WorkingGrid, matcher_name: str, sim_name: str,
                   sar_offset_px: Tuple[int, int] = (0, 0)) -> TiePoint:
    """P = template centre; Q = P + the matched offset (+ the coarse offset), PRODUCT convention."""
    w, m = res.window, res.match
    rc, cc = w.template_centre
    x_opt, y_opt = (float(v) for v in grid.pixel_to_map(rc, cc))
    dy_px = m.row - w.margin_px + sar_offset_px[0]
    dx_px = m.col - w.margin_px + sar_offset_px[1]
    dx_m, dy_m = dx_px * grid.pixel_m, -dy_px * grid.pixel_m
    return TiePoint(
        id=idx, win_row=w.win_row, win_col=w.win_col, x_opt=x_opt, y_opt=y_opt,
        x_sar=x_opt + dx_m, y_sar=y_opt + dy_m, dx_px=float(dx_px), dy_px=float(dy_px),
        dx_m=float(dx_m), dy_m=float(dy_m), shift_m=float(math.hypot(dx_m, dy_m)),
        angle_deg=_azimuth_deg(dx_m, dy_m), score=float(m.score), confidence=float(m.confidence),
        outlier=0 if m.ok else 1, outlier_reason="" if m.ok else f"no_match:{m.status}",
        matcher=matcher_name, similarity=sim_name)


def flag_outliers(tiepoints: List[TiePoint], config: CoregConfig, pixel_m: float,
                  sar_offset_px: Tuple[int, int] = (0, 0)) -> Tuple[List[TiePoint], GlobalFit]:
    """Flag (never drop) outliers in three levels; see ``core.outliers``.

    1. the matcher's verdict: failed, peak on the search edge, confidence below threshold;
    2. residual above ``ransac_threshold_px`` from the robust global fit (gross errors);
    3. shift more than ``local_threshold_px`` from the median of neighbouring windows.
    """
    edge = config.search_radius_px - 0.5
    flagged: List[TiePoint] = []
    for t in tiepoints:
        if t.outlier:
            flagged.append(t)
        elif max(abs(t.dx_px - sar_offset_px[1]), abs(t.dy_px - sar_offset_px[0])) >= edge:
            flagged.append(replace(t, outlier=1, outlier_reason="search_edge"))
        elif t.confidence < config.min_confidence:
            flagged.append(replace(t, outlier=1, outlier_reason="low_confidence"))
        else:
            flagged.append(t)
    cand = [i for i, t in enumerate(flagged) if not t.outlier]
    # fit P -> Q with map axes scaled to working-grid pixels, so the threshold is in pixels
    src = np.array([[flagged[i].x_opt, flagged[i].y_opt] for i in cand]).reshape(-1, 2) / pixel_m
    dst = np.array([[flagged[i].x_sar, flagged[i].y_sar] for i in cand]).reshape(-1, 2) / pixel_m
    fit = ransac_fit(src, dst, config.ransac_threshold_px, config.ransac_iterations, config.seed)
    for k, i in enumerate(cand):
        if not fit.inliers[k]:
            flagged[i] = replace(flagged[i], outlier=1, outlier_reason="ransac")
    # level 3: local consistency, for shifts that vary over the scene (terrain, SAR geometry)
    kept = [i for i in cand if not flagged[i].outlier]
    cells = np.array([[flagged[i].win_row, flagged[i].win_col] for i in kept], float).reshape(-1, 2)
    shifts = np.array([[flagged[i].dx_px, flagged[i].dy_px] for i in kept]).reshape(-1, 2)
    for k in np.flatnonzero(local_outliers(cells, shifts, config.local_threshold_px)):
        flagged[kept[k]] = replace(flagged[kept[k]], outlier=1, outlier_reason="local")
    return flagged, fit


def _shift_stats(tiepoints: Sequence[TiePoint]) -> dict:
    inl = [t for t in tiepoints if not t.outlier and t.matched]
    if not inl:
        return {"n": 0}
    dx = np.array([t.dx_m for t in inl])
    dy = np.array([t.dy_m for t in inl])
    dxp = np.array([t.dx_px for t in inl])
    dyp = np.array([t.dy_px for t in inl])
    return {"n": len(inl), "median_dx_m": float(np.median(dx)), "median_dy_m": float(np.median(dy)),
            "median_dx_px": float(np.median(dxp)), "median_dy_px": float(np.median(dyp)),
            "std_dx_m": float(dx.std()), "std_dy_m": float(dy.std()),
            "mean_shift_m": float(np.hypot(dx, dy).mean())}


WindowRunner = Callable[[Scene, Sequence[Window], Matcher, CoregConfig, Feedback], Iterable[WindowResult]]


def coregister(optical, sar: PathLike, outdir: PathLike, config: Optional[CoregConfig] = None,
               feedback: Optional[Feedback] = None, overwrite: bool = False,
               matcher: Optional[Matcher] = None, runner: Optional[WindowRunner] = None) -> CoregResult:
    """Co-register ``sar`` onto ``optical`` and write the outputs into ``outdir``.

    ``runner(scene, windows, matcher, config, feedback)`` yields one ``WindowResult`` per
    window *in order*; the default matches on a local thread pool, ``core.batch`` passes one
    that spreads chunks of windows over a Dask cluster.

    Outputs are staged under a hidden temporary folder in ``outdir`` and moved onto their
    final names only when all are complete; existing outputs are refused unless
    ``overwrite``.  Raises ``InputError`` (bad input), ``CancelledError`` (cancel).
    """
    config = config or CoregConfig()
    feedback = feedback or NullFeedback()
    t_start = time.perf_counter()
    scene = prepare(optical, sar, config)
    if not scene.windows:
        raise InputError("no window fits in the overlap: use a smaller --window")
    names = list(out.ALL_OUTPUTS)
    stage = OutputStage(outdir, names, overwrite)
    with stage:
        scene = with_coarse_offset(scene, config)
        if matcher is None:
            matcher = make_matcher(config)
        runner = runner or iter_matches
        feedback.info(f"{len(scene.windows)} windows of {config.window_px} px on a "
                      f"{scene.grid.width} x {scene.grid.height} px grid at {scene.grid.pixel_m:.3g} m; "
                      f"matcher {matcher.name}")
        t_prep = time.perf_counter()
        (stage / out.SIMILARITY_DIR).mkdir()
        results: List[WindowResult] = []
        tiepoints: List[TiePoint] = []
        sim_files: List[str] = []
        n = len(scene.windows)
        for k, res in enumerate(runner(scene, scene.windows, matcher, config, feedback)):
            results.append(replace(res, match=replace(res.match, similarity=None, translated=None)))
            if not res.skipped:
                sim_name = ""
                if config.write_similarity and res.match.similarity is not None:
                    sim_name = out.similarity_name(res.window.win_row, res.window.win_col)
                    out.write_similarity(str(stage / sim_name), res.match.similarity, scene.grid, res.window,
                                         scene.sar_offset_px)
                    sim_files.append(sim_name)
                tiepoints.append(build_tiepoint(len(tiepoints), res, scene.grid, matcher.name, sim_name,
                                                scene.sar_offset_px))
            feedback.set_progress(90.0 * (k + 1) / n)
        t_match = time.perf_counter()
        if not tiepoints:
            why = sorted({r.skipped for r in results})
            raise InputError(
                f"all {n} windows have more than {config.max_nodata_fraction:.0%} nodata ({', '.join(why)}): "
                "check the nodata value and bands of the scenes, or raise --max-nodata")
        tiepoints, fit = flag_outliers(tiepoints, config, scene.grid.pixel_m, scene.sar_offset_px)
        out.write_tiepoints(str(stage / out.TIEPOINTS_GPKG), tiepoints, scene.grid.crs_wkt)
        out.write_similarity_vrt(str(stage.path), sim_files)
        out.write_shift_field(str(stage / out.SHIFT_FIELD), tiepoints, scene.windows, scene.grid,
                              config.effective_spacing_px)
        out.write_points(str(stage / out.POINTS_FILE), tiepoints, scene.grid, scene.sar_info)
        warp_info = None
        if config.warp:
            from .warp import warp_sar
            check_cancel(feedback)
            try:
                used = warp_sar(str(stage / out.SAR_CORRECTED), scene.sar_info, tiepoints, scene.grid, config.warp)
                warp_info = {"method": config.warp, "gcps": used, "written": True}
            except InputError as exc:
                log.warning("sar_corrected.tif not written: %s", exc)
                warp_info = {"method": config.warp, "written": False, "reason": str(exc)}
        t_write = time.perf_counter()
        report = _report(scene, config, matcher, results, tiepoints, fit, warp_info,
                         {"prepare_s": t_prep - t_start, "match_s": t_match - t_prep,
                          "write_s": t_write - t_match, "total_s": t_write - t_start,
                          "seconds_per_window": (t_match - t_prep) / max(1, n)},
                         optical, sar)
        out.write_report(str(stage / out.REPORT), report)
        check_cancel(feedback)
        stage.commit()
    feedback.set_progress(100.0)
    return CoregResult(os.fspath(outdir), tiepoints, report)


def _report(scene: Scene, config: CoregConfig, matcher: Matcher, results: Sequence[WindowResult],
            tiepoints: Sequence[TiePoint], fit: GlobalFit, warp_info, timings: dict, optical, sar) -> dict:
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
                    "model_version": getattr(matcher, "model_version", None)},
        "runtime": {"provider": getattr(matcher, "provider", "numpy-cpu"),
                    "provider_note": getattr(matcher, "provider_note", "")},
        "counts": {"windows": len(results), "skipped": len(skipped),
                   "matched": sum(1 for t in tiepoints if t.outlier_reason.split(":")[0] != "no_match"),
                   "failed": reasons.get("no_match", 0),
                   "outliers": sum(1 for t in tiepoints if t.outlier), "inliers": sum(1 for t in tiepoints if not t.outlier),
                   "outlier_reasons": reasons},
        "skipped_windows": [{"win_row": r.window.win_row, "win_col": r.window.win_col, "reason": r.skipped,
                             "nodata_optical": round(r.nodata_optical, 3), "nodata_sar": round(r.nodata_sar, 3)}
                            for r in skipped],
        "coarse_offset": dict(scene.coarse.to_dict(), dy_m=-scene.coarse.dy_px * scene.grid.pixel_m,
                              dx_m=scene.coarse.dx_px * scene.grid.pixel_m),
        "global_fit": dict(fit.to_dict(), frame="working-grid pixels, (x, y) map axes scaled by 1/pixel_m"),
        "shift": _shift_stats(tiepoints),
        "warp": warp_info,
        "timings": timings,
    }
