"""Co-register one optical/SAR scene pair: the engine behind CLI, batch, Processing and dock.

    prepare()            validate inputs, lay the working grid and the windows (no pixels read)
    with_coarse_offset() coarse pre-alignment for offsets beyond the search radius
    match_windows()      read window pairs and match them (writes nothing)
    coregister()         all of it, plus tie points and outlier flags (core.tiepoints),
                         the outputs (core.outputs, core.report), staged and moved into place
"""
from __future__ import annotations

import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from . import coarse as coarse_pass
from . import outputs as out
from .checkpoints import format_rmse, tiepoint_check_points
from .coarse import CoarseOffset, Gaps
from .config import CoregConfig
from .errors import InputError
from .feedback import Feedback, NullFeedback, check_cancel
from .gdalscope import scoped
from .grid import WorkingGrid, build_working_grid
from .matchers.base import Match, Matcher
from .raster import (RasterInfo, SceneSource, check_dtype, default_optical_bands,
                     describe, guess_sar_kind, stack_band_files)
from .report import build_report
from .stages import since, stage, totals
from .results import CoregResult, TiePoint, WindowResult
from .staging import OutputStage
from .tiepoints import build_tiepoint, flag_outliers
from .tiling import Window, lay_windows, nodata_fraction

log = logging.getLogger("sarcoreg.coregister")

PathLike = Union[str, os.PathLike]


class WindowPixels(NamedTuple):
    """One window's pixels on the working grid (``Scene.read_pair``)."""

    template: Optional[np.ndarray]    # None when the coarse pass knew it to be empty
    reference: Optional[np.ndarray]   # None when the template alone already rules the window out
    nodata_optical: float
    nodata_sar: float
    skipped: str          # "" or why the window is not matched ("nodata_optical" / "nodata_sar")


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
    gaps: Optional[Gaps] = field(default=None, compare=False, repr=False)   # the coarse pass's nodata

    @property
    def sar_offset_px(self) -> Tuple[int, int]:
        """``(dy, dx)``: the SAR windows are read this far from the optical ones (coarse pass)."""
        return self.coarse.offset_px

    def window_at(self, win_row: int, win_col: int) -> Window:
        """The window at lattice position ``(win_row, win_col)`` (``InputError`` if none)."""
        found = next((w for w in self.windows if w.win_row == int(win_row) and w.win_col == int(win_col)), None)
        if found is None:
            raise InputError(f"window ({win_row}, {win_col}) is not in the lattice of this scene: "
                             "the inputs or the window settings changed since the run")
        return found

    @scoped
    def read_pair(self, window: Window, max_nodata_fraction: float, read_skipped: bool = True) -> WindowPixels:
        """One window's template and reference on the working grid, and whether to skip it: the
        one reader of window pixels (the matching loop, the inspector, check scripts). The
        reference is read where the SAR windows are, i.e. displaced by the coarse offset.

        With ``read_skipped`` false (the matching loop), a template over the nodata limit is never
        matched, so its SAR window is not read (``reference`` None, its nodata share NaN, null in
        the report): on mosaics with gaps most windows are skipped, and reading their SAR was a
        third of a run's reading time. Nor is a template read where the coarse pass's
        ``gaps`` show it all nodata (``template`` None, its nodata share 1).
        """
        tr, tc = window.template_origin
        if not read_skipped and self.gaps is not None and self.gaps.covers(tr, tc, window.template_px,
                                                                          window.template_px):
            # the coarse pass saw only nodata there: the template would be all nodata
            return WindowPixels(None, None, 1.0, float("nan"), "nodata_optical")
        with stage("reading"):
            template = self.optical.read(tr, tc, window.template_px, window.template_px)
        f_opt = nodata_fraction(template)
        if f_opt > max_nodata_fraction and not read_skipped:
            return WindowPixels(template, None, f_opt, float("nan"), "nodata_optical")
        with stage("reading"):
            reference = self.sar.read(window.row0, window.col0, window.window_px, window.window_px)
        f_sar = nodata_fraction(reference)
        skip = ""
        if f_opt > max_nodata_fraction or f_sar > max_nodata_fraction:
            skip = "nodata_optical" if f_opt > max_nodata_fraction else "nodata_sar"
        return WindowPixels(template, reference, f_opt, f_sar, skip)


stage_time = stage   # ``stage`` is also the name of the output stage inside ``coregister``

_FALLBACK_SAID: list = []


def resolve_matcher_name(name: str) -> str:
    """``auto`` → the first available matcher of ``matchers.AUTO_PREFERENCE`` (the evidence of
    the multi-region validation); says once when a preferred one is not installed."""
    from .matchers import AUTO_PREFERENCE, resolve_name
    resolved = resolve_name(name)
    skipped = AUTO_PREFERENCE[:AUTO_PREFERENCE.index(resolved)] if resolved in AUTO_PREFERENCE else ()
    if name == "auto" and skipped and not _FALLBACK_SAID:
        _FALLBACK_SAID.append(True)
        log.warning("%s is not installed: using the matcher %s", ", ".join(skipped), resolved)
    return resolved


_MATCHER_CACHE: dict = {}


def make_matcher(config: CoregConfig) -> Matcher:
    """The matcher ``config`` asks for, built once per process (it may hold a model) with the
    run options its registry entry takes (``matchers.matcher_for``)."""
    from .matchers import matcher_for, matcher_info
    info = matcher_info(resolve_matcher_name(config.matcher))
    key = (info.name,) + tuple((opt, getattr(config, opt)) for opt in info.options)
    m = _MATCHER_CACHE.get(key)
    if m is None:
        m = _MATCHER_CACHE[key] = matcher_for(info.name, config)
    return m


@scoped
def match_chunk(scene: "Scene", windows: Sequence[Window], config: CoregConfig) -> List[WindowResult]:
    """Match a chunk of windows in this process (the unit of work sent to a Dask worker)."""
    matcher = make_matcher(config)
    return [res for g in _window_groups(windows, matcher)
            for res in match_windows(scene, g, matcher, config.max_nodata_fraction)]


def _optical_path(optical: Union[PathLike, Sequence[PathLike]]) -> str:
    if isinstance(optical, (list, tuple)):
        return stack_band_files([os.fspath(p) for p in optical]) if len(optical) > 1 else os.fspath(optical[0])
    return os.fspath(optical)


@scoped
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


@scoped
def with_coarse_offset(scene: Scene, config: CoregConfig) -> Scene:
    """Run the coarse pass (``core.coarse``) and, when it applies, read SAR windows displaced."""
    if not config.coarse_search:
        return scene
    from .matchers import COARSE_MATCHER, get_matcher
    # whole scenes may have large gaps (mosaics, swaths): accept 15 % data, nodata is masked
    matcher = get_matcher(COARSE_MATCHER, min_valid=0.15)
    with stage("coarse"):
        est, gaps = coarse_pass.run(scene.optical, scene.sar, scene.grid, config.search_radius_px, matcher)
    log.info("coarse pass: offset (%d, %d) px, confidence %.2f, %s", est.dy_px, est.dx_px, est.confidence, est.note)
    scene = replace(scene, gaps=gaps)
    if not est.applied:
        return replace(scene, coarse=est)
    return _displaced(scene, est)


def _displaced(scene: Scene, coarse: CoarseOffset) -> Scene:
    """``scene`` with ``coarse`` recorded and, when it was applied, its SAR windows moved."""
    if not coarse.applied:
        return replace(scene, coarse=coarse)
    sar = replace(scene.sar, grid=coarse_pass.shifted_grid(scene.grid, coarse.dy_px, coarse.dx_px))
    return replace(scene, sar=sar, coarse=coarse)


def with_recorded_offset(scene: Scene, recorded: Optional[dict]) -> Scene:
    """``scene`` displaced by the coarse offset a finished run recorded (``report.json``
    ``coarse_offset``), without estimating it again: re-reading a run's windows (the
    inspector) then reads exactly the SAR windows the run matched."""
    if not recorded:
        return scene
    known = {f: recorded[f] for f in CoarseOffset.__dataclass_fields__ if f in recorded}
    return _displaced(scene, CoarseOffset(**known))


@scoped
def match_windows(scene: Scene, windows: Sequence[Window], matcher: Matcher,
                  max_nodata_fraction: float) -> List[WindowResult]:
    """Read and match several windows; never raises for bad pixels. A matcher with
    ``match_many`` gets them as one batch (the DCDM matcher translates ``batch_size`` windows
    per model call)."""
    pixels = [scene.read_pair(w, max_nodata_fraction, read_skipped=False) for w in windows]
    todo = [px for px in pixels if not px.skipped]
    t0 = time.perf_counter()
    many = getattr(matcher, "match_many", None)
    if many is not None and len(todo) > 1:
        matches = iter(many([(px.template, px.reference) for px in todo]))
    else:
        matches = iter([matcher.match(px.template, px.reference) for px in todo])
    share = (time.perf_counter() - t0) / max(1, len(todo))
    out = []
    for w, px in zip(windows, pixels):
        if px.skipped:
            m = Match.failed("skipped")
        else:
            m = next(matches)
            m = m if m.seconds else replace(m, seconds=share)
        out.append(WindowResult(w, m, px.skipped, px.nodata_optical, px.nodata_sar))
    return out


def _window_groups(windows: Sequence[Window], matcher: Matcher) -> List[Sequence[Window]]:
    """``windows`` in groups of the matcher's ``batch_size`` (1 for matchers without one)."""
    group = max(1, int(getattr(matcher, "batch_size", 1) or 1))
    return [windows[i:i + group] for i in range(0, len(windows), group)]


def iter_matches(scene: Scene, windows: Sequence[Window], matcher: Matcher, config: CoregConfig,
                 feedback: Feedback) -> Iterator[WindowResult]:
    """Match ``windows`` on a small thread pool, yielding results in order; bounded in flight.

    A matcher with ``batch_size`` > 1 (DCDM on a GPU) gets groups of that many windows per task.
    """
    workers = config.workers or min(4, os.cpu_count() or 1)
    groups = _window_groups(windows, matcher)
    if workers <= 1:
        for g in groups:
            check_cancel(feedback)
            yield from match_windows(scene, g, matcher, config.max_nodata_fraction)
        return

    def task(g):
        return match_windows(scene, g, matcher, config.max_nodata_fraction)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sarcoreg") as pool:
        pending = []
        it = iter(groups)
        try:
            for g in it:
                pending.append(pool.submit(task, g))
                if len(pending) >= 2 * workers:
                    break
            while pending:
                check_cancel(feedback)
                res = pending.pop(0).result()
                nxt = next(it, None)
                if nxt is not None:
                    pending.append(pool.submit(task, nxt))
                yield from res
        finally:
            for f in pending:
                f.cancel()


WindowRunner = Callable[[Scene, Sequence[Window], Matcher, CoregConfig, Feedback], Iterable[WindowResult]]


@scoped
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
    stages_before = totals()
    scene = prepare(optical, sar, config)
    if not scene.windows:
        raise InputError("no window fits in the overlap: use a smaller --window")
    names = list(out.ALL_OUTPUTS)
    stage = OutputStage(outdir, names, overwrite)
    with stage:
        scene = with_coarse_offset(scene, config)
        stage.require_free(out.estimated_bytes(scene.windows, config.write_similarity))
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
                    with stage_time("writing"):
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
        with stage_time("outliers"):
            tiepoints, fit = flag_outliers(tiepoints, config, scene.grid.pixel_m, scene.sar_offset_px)
        with stage_time("writing"):
            out.write_tiepoints(str(stage / out.TIEPOINTS_GPKG), tiepoints, scene.grid.crs_wkt)
            out.write_similarity_vrt(str(stage.path), sim_files)
            out.write_shift_field(str(stage / out.SHIFT_FIELD), tiepoints, scene.windows, scene.grid,
                                  config.effective_spacing_px)
            out.write_points(str(stage / out.POINTS_FILE), tiepoints, scene.grid, scene.sar_info)
        with stage_time("check_points"):
            check = tiepoint_check_points(tiepoints, scene.grid.pixel_m,
                                          config.effective_spacing_px < config.template_px)
        warp_info = None
        if config.warp:
            from .warp import choose_method, warp_sar
            check_cancel(feedback)
            method = choose_method(config.warp, check)
            if config.warp == "auto":
                feedback.info(f"--warp auto: {method} (check-point RMSE px: {format_rmse(check)})")
            try:
                with stage_time("warp"):
                    used = warp_sar(str(stage / out.SAR_CORRECTED), scene.sar_info, tiepoints, scene.grid, method)
                warp_info = {"method": method, "requested": config.warp, "gcps": used, "written": True}
            except InputError as exc:
                log.warning("sar_corrected.tif not written: %s", exc)
                warp_info = {"method": method, "requested": config.warp, "written": False, "reason": str(exc)}
        t_write = time.perf_counter()
        report = build_report(scene, config, matcher, results, tiepoints, fit, check, warp_info,
                         {"prepare_s": t_prep - t_start, "match_s": t_match - t_prep,
                          "write_s": t_write - t_match, "total_s": t_write - t_start,
                          "seconds_per_window": (t_match - t_prep) / max(1, n),
                          "stages": since(stages_before)},
                         optical, sar)
        out.write_report(str(stage / out.REPORT), report)
        check_cancel(feedback)
        stage.commit()
    feedback.set_progress(100.0)
    return CoregResult(os.fspath(outdir), tiepoints, report)
