"""The heatmap inspector: click a tie point, see what was matched.

``InspectorTool`` is a map tool; a click picks the nearest tie point of a sarcoreg tie-point
layer and ``InspectorPanel`` (a dock) shows the optical template, its SAR-like translation
(when the matcher makes one), the SAR window, the similarity map with the peak marked, and
the point's numbers. The pictures are re-read through ``core.revisit.read_window``.
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np
from qgis.core import (Qgis, QgsCoordinateTransform, QgsFeatureRequest, QgsPointXY, QgsProject,
                       QgsRectangle, QgsVectorLayer)
from qgis.gui import QgsDockWidget, QgsMapToolEmitPoint
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from qgis.PyQt.QtWidgets import (QApplication, QGridLayout, QLabel, QTableWidget, QTableWidgetItem,
                                 QVBoxLayout, QWidget)

from .i18n import tr
from .notes import localised
from .styles import OUTDIR_PROPERTY, ROLE_PROPERTY

TOLERANCE_PX = 10
PICTURE_PX = 170
SHOWN_FIELDS = ("id", "win_row", "win_col", "dx_px", "dy_px", "dx_m", "dy_m", "shift_m", "angle_deg",
                "score", "confidence", "outlier", "outlier_reason", "unsure", "matcher")
# the heatmap ramp of resources/similarity.qml (dark = low, bright = high)
HEAT_STOPS = ((0.0, (0, 0, 4)), (0.2, (59, 15, 112)), (0.4, (140, 41, 129)), (0.6, (222, 73, 104)),
              (0.8, (254, 159, 109)), (1.0, (252, 253, 191)))


def to_grey8(array: np.ndarray) -> np.ndarray:
    """Stretch ``array`` between its 2nd and 98th percentiles to uint8 (NaN → 0)."""
    a = np.asarray(array, dtype=np.float64)
    valid = np.isfinite(a)
    out = np.zeros(a.shape, np.uint8)
    if not valid.any():
        return out
    lo, hi = np.percentile(a[valid], [2, 98])
    if hi <= lo:
        hi = lo + 1.0
    out[valid] = np.clip((a[valid] - lo) / (hi - lo) * 255.0, 0, 255).astype(np.uint8)
    return out


def to_heat_rgb(array: np.ndarray) -> np.ndarray:
    """``array`` → ``(rows, cols, 3)`` uint8 with the heatmap ramp, min to max."""
    g = to_grey8(array).astype(np.float64) / 255.0
    pos = np.array([p for p, _ in HEAT_STOPS])
    rgb = np.stack([np.interp(g, pos, [c[i] for _, c in HEAT_STOPS]) for i in range(3)], axis=-1)
    rgb[~np.isfinite(np.asarray(array, dtype=np.float64))] = 0
    return rgb.astype(np.uint8)


def pixmap_from(array: np.ndarray, heat: bool = False, peak_rc=None, size: int = PICTURE_PX) -> QPixmap:
    """A ``size`` px picture of ``array`` (grey, or heatmap with a cross at ``peak_rc``)."""
    if heat:
        rgb = np.ascontiguousarray(to_heat_rgb(array))
        h, w = rgb.shape[:2]
        image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    else:
        grey = np.ascontiguousarray(to_grey8(array))
        h, w = grey.shape
        image = QImage(grey.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    pixmap = QPixmap.fromImage(image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation))
    if peak_rc is not None and all(math.isfinite(v) for v in peak_rc):
        scale = pixmap.width() / float(w)
        x, y = (peak_rc[1] + 0.5) * scale, (peak_rc[0] + 0.5) * scale
        painter = QPainter(pixmap)
        painter.setPen(QPen(QColor(0, 230, 255), 2))
        painter.drawLine(int(x - 9), int(y), int(x - 3), int(y))
        painter.drawLine(int(x + 3), int(y), int(x + 9), int(y))
        painter.drawLine(int(x), int(y - 9), int(x), int(y - 3))
        painter.drawLine(int(x), int(y + 3), int(x), int(y + 9))
        painter.drawEllipse(int(x - 5), int(y - 5), 10, 10)
        painter.end()
    return pixmap


def tiepoint_layers(project: Optional[QgsProject] = None) -> list:
    project = project or QgsProject.instance()
    return [layer for layer in project.mapLayers().values()
            if isinstance(layer, QgsVectorLayer) and layer.customProperty(ROLE_PROPERTY) == "tiepoints"]


def nearest_tiepoint(point: QgsPointXY, point_crs, tolerance: float, project: Optional[QgsProject] = None):
    """``(layer, feature)`` of the tie point nearest to ``point`` within ``tolerance`` (map units)."""
    project = project or QgsProject.instance()
    best, best_d = None, math.inf
    for layer in tiepoint_layers(project):
        p = QgsPointXY(point)
        if point_crs is not None and point_crs.isValid() and layer.crs() != point_crs:
            p = QgsCoordinateTransform(point_crs, layer.crs(), project).transform(p)
        rect = QgsRectangle(p.x() - tolerance, p.y() - tolerance, p.x() + tolerance, p.y() + tolerance)
        for feature in layer.getFeatures(QgsFeatureRequest().setFilterRect(rect)):
            d = feature.geometry().asPoint().distance(p)
            if d < best_d:
                best, best_d = (layer, feature), d
    return best


class InspectorPanel(QgsDockWidget):
    """The pictures and numbers of one tie point."""

    def __init__(self, parent=None) -> None:
        super().__init__(tr("sarcoreg inspector"), parent)
        self.setObjectName("SarcoregInspector")
        body = QWidget(self)
        layout = QVBoxLayout(body)
        self.title = QLabel(tr("Click a tie point on the map"), body)
        self.title.setWordWrap(True)
        layout.addWidget(self.title)
        grid = QGridLayout()
        self.pictures = {}
        captions = (("template", tr("Optical template")), ("translated", tr("SAR-like translation")),
                    ("reference", tr("SAR window")), ("similarity", tr("Similarity (peak +)")))
        for i, (key, caption) in enumerate(captions):
            cap = QLabel(caption, body)
            pic = QLabel(body)
            pic.setMinimumSize(PICTURE_PX, PICTURE_PX)
            pic.setAlignment(Qt.AlignmentFlag.AlignCenter)
            pic.setWordWrap(True)
            pic.setObjectName(f"inspector_{key}")
            grid.addWidget(cap, (i // 2) * 2, i % 2)
            grid.addWidget(pic, (i // 2) * 2 + 1, i % 2)
            self.pictures[key] = pic
        layout.addLayout(grid)
        self.table = QTableWidget(0, 2, body)
        self.table.setHorizontalHeaderLabels([tr("field"), tr("value")])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.table)
        self.setWidget(body)

    def show_point(self, attributes: dict, images) -> None:
        tid = attributes.get("id")
        title = tr("Tie point {id}: window ({row}, {col}), matcher {matcher}").format(
            id=tid, row=attributes.get("win_row"), col=attributes.get("win_col"), matcher=images.matcher)
        if images.unsure:
            title += "\n" + tr("Flagged unsure: {note}").format(note=localised(images.unsure))
        self.title.setText(title)
        self.pictures["template"].setPixmap(pixmap_from(images.template))
        self.pictures["reference"].setPixmap(pixmap_from(images.reference))
        if images.translated is not None:
            self.pictures["translated"].setPixmap(pixmap_from(images.translated))
        else:
            self.pictures["translated"].setPixmap(QPixmap())
            self.pictures["translated"].setText(localised(images.translated_note))
        if images.similarity is not None:
            self.pictures["similarity"].setPixmap(pixmap_from(images.similarity, heat=True, peak_rc=images.peak_rc))
        else:
            self.pictures["similarity"].setPixmap(QPixmap())
            self.pictures["similarity"].setText(tr("no similarity map for this point"))
        self.show_numbers(dict(attributes, unsure=localised(images.unsure)) if images.unsure else attributes)

    def show_numbers(self, attributes: dict) -> None:
        rows = [(k, attributes[k]) for k in SHOWN_FIELDS if k in attributes]
        self.table.setRowCount(len(rows))
        for r, (k, v) in enumerate(rows):
            text = f"{v:.3f}" if isinstance(v, float) else ("" if v is None else str(v))
            self.table.setItem(r, 0, QTableWidgetItem(k))
            self.table.setItem(r, 1, QTableWidgetItem(text))

    def show_error(self, text: str) -> None:
        self.title.setText(text)
        for pic in self.pictures.values():
            pic.setPixmap(QPixmap())
            pic.setText("")


class InspectorTool(QgsMapToolEmitPoint):
    """Map tool: a click inspects the nearest sarcoreg tie point."""

    def __init__(self, canvas, iface=None) -> None:
        super().__init__(canvas)
        self.iface = iface
        self.panel: Optional[InspectorPanel] = None
        self.last = None  # (attributes, WindowImages) of the last inspected point

    def canvasReleaseEvent(self, event):  # noqa: N802 (QGIS API)
        self.inspect_at(self.toMapCoordinates(event.pos()))

    def ensure_panel(self) -> InspectorPanel:
        if self.panel is None:
            parent = self.iface.mainWindow() if self.iface is not None else None
            self.panel = InspectorPanel(parent)
            if self.iface is not None:
                self.iface.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.panel)
        self.panel.show()
        return self.panel

    def inspect_at(self, map_point: QgsPointXY) -> bool:
        """Inspect the tie point nearest to ``map_point`` (canvas CRS); False if none is near."""
        canvas = self.canvas()
        tolerance = TOLERANCE_PX * canvas.mapUnitsPerPixel()
        found = nearest_tiepoint(map_point, canvas.mapSettings().destinationCrs(), tolerance)
        if found is None:
            return False
        layer, feature = found
        self.inspect_feature(layer, feature)
        return True

    def inspect_feature(self, layer, feature) -> None:
        from ..core.errors import SarcoregError
        from ..core.revisit import read_window

        attributes = {name: _plain(feature[name]) for name in layer.fields().names()}
        panel = self.ensure_panel()
        outdir = str(layer.customProperty(OUTDIR_PROPERTY) or "")
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            images = read_window(outdir, int(attributes["win_row"]), int(attributes["win_col"]),
                                 str(attributes.get("similarity") or ""),
                                 (_num(attributes.get("dx_px")), _num(attributes.get("dy_px"))))
        except (SarcoregError, OSError, ValueError, KeyError) as exc:
            panel.show_error(tr("cannot re-read this tie point's window: {error}").format(error=exc))
            panel.show_numbers(attributes)
            if self.iface is not None:
                self.iface.messageBar().pushMessage("sarcoreg", tr("inspector: {error}").format(error=exc),
                                                    Qgis.MessageLevel.Warning, 8)
            return
        finally:
            QApplication.restoreOverrideCursor()
        panel.show_point(attributes, images)
        self.last = (attributes, images)

    def close_panel(self) -> None:
        if self.panel is not None:
            if self.iface is not None and hasattr(self.iface, "removeDockWidget"):
                self.iface.removeDockWidget(self.panel)
            self.panel.deleteLater()
            self.panel = None


def _plain(value):
    """QVariant NULLs → None."""
    try:
        from qgis.PyQt.QtCore import QVariant
        if isinstance(value, QVariant) and value.isNull():
            return None
    except ImportError:  # pragma: no cover
        pass
    return value


def _num(value) -> float:
    try:
        return float(value) if value is not None else math.nan
    except (TypeError, ValueError):
        return math.nan
