"""Layer styling, without widgets: the QML style of each result role and the layer tags.

``apply_style`` styles a layer from ``resources/*.qml`` and tags it with the custom properties
``sarcoreg/role`` and ``sarcoreg/outdir`` (the inspector finds the tie points and their outputs
by them). The dock (``ui/results.py``) and Processing both style the layers they load with it.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from qgis.core import QgsMapLayer, QgsRasterLayer


RESOURCES = Path(__file__).resolve().parent.parent / "resources"
ROLE_PROPERTY = "sarcoreg/role"
OUTDIR_PROPERTY = "sarcoreg/outdir"
STYLES = {"tiepoints": "tiepoints.qml", "similarity": "similarity.qml"}


def style_path(role: str) -> Optional[Path]:
    name = STYLES.get(role)
    return RESOURCES / name if name else None


def apply_style(layer: QgsMapLayer, role: str, outdir: Optional[str] = None) -> None:
    """Style ``layer`` for its ``role`` (tiepoints, similarity, corrected) and tag it."""
    path = style_path(role)
    if path is not None and path.is_file():
        layer.loadNamedStyle(str(path))  # first: a style also restores custom properties
    layer.setCustomProperty(ROLE_PROPERTY, role)
    if not outdir:
        outdir = os.path.dirname(layer.source().split("|")[0])
        if role == "similarity" and os.path.basename(outdir) == "similarity":
            outdir = os.path.dirname(outdir)
    layer.setCustomProperty(OUTDIR_PROPERTY, os.fspath(outdir))
    if role == "similarity" and isinstance(layer, QgsRasterLayer):
        _stretch_to_data(layer)
    layer.triggerRepaint()


def _stretch_to_data(layer: QgsRasterLayer) -> None:
    """Put the heatmap ramp on the similarity values actually present (scores differ per matcher)."""
    renderer = layer.renderer()
    if renderer is None or not hasattr(renderer, "setClassificationMin"):
        return
    # the default statistics (all of them, one pass): QGIS 3.40+ deprecates the overload that
    # takes the statistics as an int, and an OR of two enum members is an int under PyQt5
    stats = layer.dataProvider().bandStatistics(1)
    lo, hi = float(stats.minimumValue), float(stats.maximumValue)
    if not (hi > lo):
        return
    shader_fn = renderer.shader().rasterShaderFunction()
    items = shader_fn.colorRampItemList()
    if items:
        old_lo, old_hi = items[0].value, items[-1].value
        span = (old_hi - old_lo) or 1.0
        for item in items:
            item.value = lo + (item.value - old_lo) / span * (hi - lo)
            item.label = f"{item.value:.2f}"
        shader_fn.setColorRampItemList(items)
    shader_fn.setMinimumValue(lo)
    shader_fn.setMaximumValue(hi)
    renderer.setClassificationMin(lo)
    renderer.setClassificationMax(hi)
