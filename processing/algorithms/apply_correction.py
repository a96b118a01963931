"""Processing algorithm "Apply correction": warp a raster from a tie-point layer.

GCPs come from the tie points' fields: each inlier's SAR position Q = (x_sar, y_sar) is
turned into the raster's pixel/line and tied to its true map position P = (x_opt, y_opt);
the warp itself is the engine's ``core.warp.warp_sar`` (affine, poly2 or tps through GDAL;
``auto`` takes the one whose check points, ``core.checkpoints``, predict the tie points best).
"""
from __future__ import annotations

import dataclasses
import math

from qgis.core import (QgsCoordinateReferenceSystem, QgsProcessingException,
                       QgsProcessingOutputNumber, QgsProcessingParameterBoolean,
                       QgsProcessingParameterEnum, QgsProcessingParameterFeatureSource,
                       QgsProcessingParameterNumber, QgsProcessingParameterRasterDestination,
                       QgsProcessingParameterRasterLayer)

from ..feedback import ProcessingFeedbackAdapter
from ...compat import NUMBER_DOUBLE, VECTOR_POINT, WKT_PREFERRED_GDAL
from ...ui.i18n import tr
from .base import SarcoregAlgorithm, engine_errors, raster_path, search_tags

METHODS = ("affine", "poly2", "tps", "auto")
REQUIRED_FIELDS = ("x_opt", "y_opt", "x_sar", "y_sar")


def tiepoints_from_features(features, field_names) -> list:
    """``core.results.TiePoint`` values from tie-point features (missing fields get defaults)."""
    from ...core.results import TiePoint

    missing = [f for f in REQUIRED_FIELDS if f not in field_names]
    if missing:
        raise QgsProcessingException(
            tr("the tie-point layer lacks the field(s) {fields}: give a sarcoreg tiepoints.gpkg")
            .format(fields=", ".join(missing)))

    def num(feature, name, default=math.nan):
        if name not in field_names:
            return default
        value = feature[name]
        try:
            return float(value) if value is not None else default
        except (TypeError, ValueError):
            return default

    points = []
    for k, f in enumerate(features):
        x_opt, y_opt, x_sar, y_sar = (num(f, n) for n in REQUIRED_FIELDS)
        dx_m, dy_m = x_sar - x_opt, y_sar - y_opt
        outlier = int(num(f, "outlier", 0.0) or 0)
        points.append(TiePoint(
            id=int(num(f, "id", k)), win_row=int(num(f, "win_row", 0)), win_col=int(num(f, "win_col", 0)),
            x_opt=x_opt, y_opt=y_opt, x_sar=x_sar, y_sar=y_sar,
            dx_px=num(f, "dx_px", dx_m), dy_px=num(f, "dy_px", -dy_m), dx_m=dx_m, dy_m=dy_m,
            shift_m=math.hypot(dx_m, dy_m), angle_deg=num(f, "angle_deg"), score=num(f, "score"),
            confidence=num(f, "confidence", 1.0), outlier=outlier, outlier_reason="",
            matcher="", similarity=""))
    return [p for p in points if all(math.isfinite(v) for v in (p.x_opt, p.y_opt, p.x_sar, p.y_sar))]


def output_grid(info, crs_wkt: str, pixel_m: float):
    """A ``WorkingGrid`` in the tie points' CRS covering the raster's footprint."""
    from ...core.grid import WorkingGrid, footprint

    minx, miny, maxx, maxy = footprint(info.width, info.height, info.geotransform, info.crs_wkt, crs_wkt)
    if not pixel_m:
        pixel_m = min((maxx - minx) / info.width, (maxy - miny) / info.height)
    width = max(1, int(math.ceil((maxx - minx) / pixel_m)))
    height = max(1, int(math.ceil((maxy - miny) / pixel_m)))
    return WorkingGrid(crs_wkt, float(minx), float(maxy), float(pixel_m), width, height)


class ApplyCorrectionAlgorithm(SarcoregAlgorithm):
    INPUT = "INPUT"
    TIEPOINTS = "TIEPOINTS"
    METHOD = "METHOD"
    INCLUDE_OUTLIERS = "INCLUDE_OUTLIERS"
    RESOLUTION = "RESOLUTION"
    OUTPUT = "OUTPUT"
    GCPS = "GCPS"

    def name(self) -> str:
        return "applycorrection"

    def displayName(self) -> str:  # noqa: N802 (QGIS API)
        return tr("Apply correction")

    def tags(self) -> list:
        return search_tags(["warp", "gcp", "tie points", "affine", "polynomial", "tps", "georeference", "sar"],
                           tr("warp,gcp,tie points,affine,polynomial,tps,georeference,sar"))

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API)
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, tr("Raster to correct (usually the SAR)")))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.TIEPOINTS, tr("Tie points (sarcoreg tiepoints.gpkg)"), [VECTOR_POINT]))
        method = QgsProcessingParameterEnum(self.METHOD, tr("Transformation"), list(METHODS), False, "affine")
        method.setUsesStaticStrings(True)
        self.addParameter(method)
        self.addParameter(QgsProcessingParameterBoolean(
            self.INCLUDE_OUTLIERS, tr("Use outlier tie points too"), False))
        self.addParameter(QgsProcessingParameterNumber(
            self.RESOLUTION, tr("Output pixel size (tie-point CRS units, 0: like the input)"),
            NUMBER_DOUBLE, 0.0, False, 0.0))
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, tr("Corrected raster")))
        self.addOutput(QgsProcessingOutputNumber(self.GCPS, tr("GCPs used")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API)
        from ...core.raster import describe
        from ...core.checkpoints import format_rmse, tiepoint_check_points
        from ...core.warp import choose_method, warp_sar

        path = raster_path(self.parameterAsRasterLayer(parameters, self.INPUT, context), tr("the input layer"))
        source = self.parameterAsSource(parameters, self.TIEPOINTS, context)
        if source is None:
            raise QgsProcessingException(tr("the tie-point layer cannot be read"))
        method = self.parameterAsEnumString(parameters, self.METHOD, context) or \
            METHODS[self.parameterAsEnum(parameters, self.METHOD, context)]
        include_outliers = self.parameterAsBool(parameters, self.INCLUDE_OUTLIERS, context)
        out_path = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        names = source.fields().names()
        points = tiepoints_from_features(source.getFeatures(), names)
        if include_outliers:
            points = [dataclasses.replace(p, outlier=0) for p in points]
        crs: QgsCoordinateReferenceSystem = source.sourceCrs()
        if not crs.isValid():
            raise QgsProcessingException(tr("the tie-point layer has no CRS: give a sarcoreg tiepoints.gpkg"))
        crs_wkt = crs.toWkt(WKT_PREFERRED_GDAL)
        with engine_errors():
            info = describe(path)
            grid = output_grid(info, crs_wkt, self.parameterAsDouble(parameters, self.RESOLUTION, context))
            if method == "auto":
                check = tiepoint_check_points(points, grid.pixel_m)
                method = choose_method(method, check)
                feedback.pushInfo(tr("auto: {method} (check-point RMSE px: {rmse})")
                                  .format(method=method, rmse=format_rmse(check)))
            feedback.pushInfo(tr("{count} tie points usable for a {method} warp")
                              .format(count=sum(1 for p in points if not p.outlier), method=method))
            used = warp_sar(out_path, info, points, grid, method, ProcessingFeedbackAdapter(feedback))
        if feedback.isCanceled():
            raise QgsProcessingException(tr("cancelled"))
        return {self.OUTPUT: out_path, self.GCPS: used}
