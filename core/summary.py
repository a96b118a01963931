"""What a person reads after a run: ``report.json`` → lines, the same in every front end.

``summary_lines(report, outdir)`` is the full summary (the command line prints it, Processing
pushes it to its log); ``status_line(report)`` is the one line for a status bar, a message
bar or a batch summary's row (the dock, ``core.batch``). Both read only ``report.json``'s
content, so they describe a finished run whichever front end started it.
"""
from __future__ import annotations

from typing import List, Optional

from .checkpoints import summary_line as check_points_line


def counts_line(report: dict) -> str:
    """``"12 windows: 10 inliers, 1 outliers, 1 skipped"``."""
    c = report["counts"]
    return f"{c['windows']} windows: {c['inliers']} inliers, {c['outliers']} outliers, {c['skipped']} skipped"


def summary_lines(report: dict, outdir: Optional[str] = None) -> List[str]:
    """Counts with the matcher and its speed, the median shift and global fit, the check
    points' best warp (with their note), the unsure windows, and where the outputs are."""
    lines = [f"{counts_line(report)} (matcher {report['matcher']['name']}, "
             f"{report['timings']['seconds_per_window']:.2f} s/window)"]
    s = report["shift"]
    if s.get("n"):
        fit = report["global_fit"]
        lines.append(f"median shift dx = {s['median_dx_m']:+.2f} m, dy = {s['median_dy_m']:+.2f} m "
                     f"({s['median_dx_px']:+.2f}, {s['median_dy_px']:+.2f} px); "
                     f"global {fit['model']} fit RMSE {fit['rmse_px']:.2f} px")
    cp = report.get("check_points", {})
    if check_points_line(cp):
        lines.append(check_points_line(cp))
        if cp.get("note"):
            lines.append(f"  (check points: {cp['note']})")
    unsure = report["counts"].get("unsure", 0)
    if unsure:
        lines.append(f"{unsure} window(s) flagged unsure (report.json unsure_windows): look at them in the inspector")
    if outdir:
        lines.append(f"outputs in {outdir}")
    return lines


def status_line(report: dict) -> str:
    """One line: the counts, the median shift in map units and the check points' best warp."""
    line = counts_line(report)
    shift = report.get("shift", {})
    if shift.get("n"):
        line += f"; median shift dx {shift['median_dx_m']:+.2f} m, dy {shift['median_dy_m']:+.2f} m"
    cp = report.get("check_points", {})
    if cp.get("suggested_warp"):
        line += f"; check points: {cp['suggested_warp']} warp {cp['rmse_px'][cp['suggested_warp']]:.2f} px"
    return line
