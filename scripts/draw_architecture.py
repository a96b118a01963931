"""Draw docs/architecture.png: the layers and the data's way through them.

    python scripts/draw_architecture.py [--out docs/architecture.png]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

LAYER_COLOURS = {"front": "#e8f0fb", "models": "#fdf1e0", "engine": "#e9f6ea"}


def box(ax, x, y, w, h, title, lines=(), colour="#ffffff", weight="bold", size=9):
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                linewidth=1.0, edgecolor="#555555", facecolor=colour))
    ax.text(x + w / 2, y + h - 0.13, title, ha="center", va="top", fontsize=size, weight=weight)
    for i, line in enumerate(lines):
        ax.text(x + w / 2, y + h - 0.42 - 0.22 * i, line, ha="center", va="top", fontsize=7.2, color="#333333")


def arrow(ax, a, b, text="", colour="#333333", style="-|>", dashed=False, rad=0.0):
    ax.add_patch(FancyArrowPatch(a, b, arrowstyle=style, mutation_scale=11, color=colour, linewidth=1.1,
                                 linestyle="--" if dashed else "-", connectionstyle=f"arc3,rad={rad}"))
    if text:
        ax.text((a[0] + b[0]) / 2 + 0.05, (a[1] + b[1]) / 2, text, fontsize=7, color=colour, va="center")


def draw(out: Path) -> None:
    fig, ax = plt.subplots(figsize=(11, 7.6))
    ax.set_xlim(0, 11)
    ax.set_ylim(0, 7.6)
    ax.axis("off")

    # the three layers (imports only go down)
    for y, h, key, name in ((5.55, 1.9, "front", "front ends"), (4.3, 1.1, "models", "models (torch)"),
                            (0.1, 4.1, "engine", "engine: core/ (no QGIS, no torch)")):
        ax.add_patch(FancyBboxPatch((0.1, y), 10.8, h, boxstyle="round,pad=0.0,rounding_size=0.1",
                                    linewidth=0, facecolor=LAYER_COLOURS[key]))
        ax.text(0.2, y + h - 0.08, name, fontsize=10, weight="bold", va="top", color="#444444")

    box(ax, 0.35, 5.7, 2.3, 1.25, "cli.py", ["sarcoreg coregister / batch /", "evaluate / demo; terminal"])
    box(ax, 2.9, 5.7, 2.3, 1.25, "processing/", ["Processing algorithms", "(toolbox, models, qgis_process)"])
    box(ax, 5.45, 5.7, 2.3, 1.25, "ui/", ["dock, background task,", "inspector (draws only)"])
    box(ax, 8.0, 5.7, 2.6, 1.25, "plugin.py", ["loads the dock and", "the Processing provider"])
    box(ax, 0.35, 4.45, 4.0, 0.55, "models/: train, export-onnx, explain", [], weight="normal")
    box(ax, 4.6, 4.45, 3.6, 0.55, "models/onnx: the shipped model", [], weight="normal")

    # engine: the data's way
    y1, y2 = 2.55, 1.2
    box(ax, 0.35, y1, 1.9, 1.1, "prepare", ["describe, working grid,", "lay windows (Scene)"])
    box(ax, 2.45, y1, 1.7, 1.1, "coarse", ["one big window", "(coarse offset)"])
    box(ax, 4.35, y1, 2.0, 1.1, "Scene.read_pair", ["the one window", "reader"])
    box(ax, 6.55, y1, 2.0, 1.1, "matchers registry", ["cfog, mind, zncc (numpy)", "dcdm (ONNX Runtime)"])
    box(ax, 8.75, y1, 1.9, 1.1, "tiepoints", ["shift_from_peak,", "outliers flagged"])
    box(ax, 0.35, y2, 3.8, 1.0, "revisit", ["reads report.json: a tie point -> its windows", "(peak_from_shift, recorded coarse offset)"])
    box(ax, 4.35, y2, 2.0, 1.0, "summary", ["report.json -> the lines", "a person reads"])
    box(ax, 6.55, y2, 4.1, 1.0, "outputs, report.json", ["tie points, shift field, similarity maps,",
                                                        "staged, then moved into place"])
    box(ax, 0.35, 0.2, 10.3, 0.7, "config (options defined once) - errors - feedback - gdalscope - staging "
        "(atomic writes) - batch on Dask", [], weight="normal", size=8.5)

    mid = y1 + 0.55
    for a, b in (((2.25, mid), (2.45, mid)), ((4.15, mid), (4.35, mid)), ((6.35, mid), (6.55, mid)),
                 ((8.55, mid), (8.75, mid))):
        arrow(ax, a, b, colour="#2b6a2f")
    arrow(ax, (9.7, y1), (9.7, y2 + 1.0), colour="#2b6a2f")
    arrow(ax, (6.55, y2 + 0.5), (6.35, y2 + 0.5), colour="#2b6a2f")
    arrow(ax, (3.2, y2 + 1.0), (4.6, y1), "re-reads", colour="#2b6a2f")
    # front ends read the engine; models plug commands into the command line
    arrow(ax, (1.2, 5.7), (1.2, y1 + 1.1), "imports", dashed=True)
    arrow(ax, (4.0, 5.7), (5.35, y1 + 1.1), dashed=True)
    arrow(ax, (6.6, 5.7), (7.55, y1 + 1.1), dashed=True)
    arrow(ax, (2.35, 4.45), (3.3, y1 + 1.1), dashed=True)
    arrow(ax, (2.0, 5.0), (2.0, 5.7), "commands", colour="#8a5a00", dashed=True)
    arrow(ax, (6.4, 4.45), (7.8, y1 + 1.1), "model files", colour="#8a5a00", dashed=True)
    ax.text(10.85, 7.5, "solid: data; dashed: imports (only downwards; ui/ never imports processing/)",
            ha="right", va="top", fontsize=7.5, color="#444444")
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs" / "architecture.png"))
    draw(Path(p.parse_args().out))


if __name__ == "__main__":
    main()
