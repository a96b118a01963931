"""Processing algorithm "Co-register optical and SAR": ``core.coregister`` on two layers."""
from __future__ import annotations

import os

from qgis.core import (QgsProcessingContext, QgsProcessingLayerPostProcessorInterface, QgsProcessingOutputFile,
                       QgsProcessingOutputNumber, QgsProcessingOutputRasterLayer,
                       QgsProcessingOutputVectorLayer, QgsProcessingParameterBand,
                       QgsProcessingParameterBoolean, QgsProcessingParameterFolderDestination,
                       QgsProcessingParameterNumber, QgsProcessingParameterRasterLayer, QgsProcessingUtils)

from ..feedback import ProcessingFeedbackAdapter
from ...core.config import SAR_KINDS
from ...core.summary import summary_lines
from ...compat import FLAG_ADVANCED, NUMBER_DOUBLE, VECTOR_POINT
from ...ui.i18n import tr
from .base import (SarcoregAlgorithm, add_matching_parameters, choice, engine_errors, enum_param, matching_options,
                   raster_path, search_tags)


class _StyleResult(QgsProcessingLayerPostProcessorInterface):
    """Applies sarcoreg's QML style to a layer loaded when the algorithm completes."""

    _alive: list = []  # Processing keeps only a raw pointer: hold the objects here

    def __init__(self, role: str) -> None:
        super().__init__()
        self.role = role
        _StyleResult._alive.append(self)

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 (QGIS API)
        from ...ui.styles import apply_style

        apply_style(layer, self.role)


class CoregisterAlgorithm(SarcoregAlgorithm):
    OPTICAL = "OPTICAL"
    OPTICAL_BANDS = "OPTICAL_BANDS"
    SAR = "SAR"
    SAR_BAND = "SAR_BAND"
    SAR_KIND = "SAR_KIND"
    MATCHER = "MATCHER"
    WINDOW = "WINDOW"
    TEMPLATE = "TEMPLATE"
    SPACING = "SPACING"
    RESOLUTION = "RESOLUTION"
    PROVIDER = "PROVIDER"
    WARP = "WARP"
    MIN_CONFIDENCE = "MIN_CONFIDENCE"
    MAX_NODATA = "MAX_NODATA"
    OVERWRITE = "OVERWRITE"
    OUTPUT = "OUTPUT"
    TIEPOINTS = "TIEPOINTS"
    SHIFT_FIELD = "SHIFT_FIELD"
    SIMILARITY = "SIMILARITY"
    CORRECTED = "CORRECTED"
    REPORT = "REPORT"
    POINTS = "POINTS"
    INLIERS = "INLIERS"
    OUTLIERS = "OUTLIERS"

    def name(self) -> str:
        return "coregister"

    def displayName(self) -> str:  # noqa: N802 (QGIS API)
        return tr("Co-register optical and SAR")

    def tags(self) -> list:
        return search_tags(["sar", "optical", "coregistration", "registration", "tie points", "shift", "gcp"],
                           tr("sar,optical,coregistration,registration,tie points,shift,gcp"))

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API)
        from ...core.config import CoregConfig

        d = CoregConfig()
        self.addParameter(QgsProcessingParameterRasterLayer(
            self.OPTICAL, tr("Optical raster (template source)")))
        self.addParameter(QgsProcessingParameterBand(
            self.OPTICAL_BANDS, tr("Optical bands (grey = their mean; empty: the visible bands)"),
            None, self.OPTICAL, optional=True, allowMultiple=True))
        self.addParameter(QgsProcessingParameterRasterLayer(self.SAR, tr("SAR raster (reference, detected)")))
        # optional so that an omitted band means band 1 (QGIS 3.22 refuses a missing band value
        # even when the parameter has a default)
        self.addParameter(QgsProcessingParameterBand(self.SAR_BAND, tr("SAR band"), d.sar_band, self.SAR, True))
        self.addParameter(enum_param(self.SAR_KIND, tr("SAR values"), SAR_KINDS, d.sar_kind))
        add_matching_parameters(self, tr("Write the corrected SAR with"))
        self.addParameter(QgsProcessingParameterNumber(
            self.RESOLUTION, tr("Working pixel size (map units, 0: the coarser of the two)"),
            NUMBER_DOUBLE, 0.0, False, 0.0))
        self.addParameter(QgsProcessingParameterNumber(
            self.MIN_CONFIDENCE, tr("Minimum confidence (below: outlier)"),
            NUMBER_DOUBLE, d.min_confidence, False, 0.0, 1.0))
        nodata = QgsProcessingParameterNumber(
            self.MAX_NODATA, tr("Skip a window above this share of nodata"),
            NUMBER_DOUBLE, d.max_nodata_fraction, False, 0.0, 0.99)
        nodata.setFlags(nodata.flags() | FLAG_ADVANCED)
        self.addParameter(nodata)
        self.addParameter(QgsProcessingParameterBoolean(self.OVERWRITE, tr("Replace existing outputs"), False))
        self.addParameter(QgsProcessingParameterFolderDestination(self.OUTPUT, tr("Output folder")))
        self.addOutput(QgsProcessingOutputVectorLayer(self.TIEPOINTS, tr("Tie points"), VECTOR_POINT))
        self.addOutput(QgsProcessingOutputRasterLayer(self.SHIFT_FIELD, tr("Shift field (dx_m, dy_m)")))
        self.addOutput(QgsProcessingOutputRasterLayer(self.SIMILARITY, tr("Similarity maps")))
        self.addOutput(QgsProcessingOutputRasterLayer(self.CORRECTED, tr("Corrected SAR")))
        self.addOutput(QgsProcessingOutputFile(self.REPORT, tr("Report (report.json)")))
        self.addOutput(QgsProcessingOutputFile(self.POINTS, tr("Georeferencer GCPs (.points)")))
        self.addOutput(QgsProcessingOutputNumber(self.INLIERS, tr("Inlier tie points")))
        self.addOutput(QgsProcessingOutputNumber(self.OUTLIERS, tr("Outlier tie points")))

    def config_from(self, parameters, context):
        """The ``CoregConfig`` the parameters describe (raises on a bad combination)."""
        from ...core.config import CoregConfig

        bands = self.parameterAsInts(parameters, self.OPTICAL_BANDS, context)
        resolution = self.parameterAsDouble(parameters, self.RESOLUTION, context)
        with engine_errors():
            return CoregConfig(
                **matching_options(self, parameters, context),
                resolution_m=resolution or None,
                optical_bands=tuple(bands) or None,
                sar_band=self.parameterAsInt(parameters, self.SAR_BAND, context) or 1,
                sar_kind=choice(self, parameters, self.SAR_KIND, context, SAR_KINDS),
                min_confidence=self.parameterAsDouble(parameters, self.MIN_CONFIDENCE, context),
                max_nodata_fraction=self.parameterAsDouble(parameters, self.MAX_NODATA, context),
            )

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API)
        from ...core import outputs as out
        from ...core.coregister import coregister

        optical = raster_path(self.parameterAsRasterLayer(parameters, self.OPTICAL, context),
                              tr("the optical layer"))
        sar = raster_path(self.parameterAsRasterLayer(parameters, self.SAR, context), tr("the SAR layer"))
        outdir = self.parameterAsString(parameters, self.OUTPUT, context)
        overwrite = self.parameterAsBool(parameters, self.OVERWRITE, context)
        config = self.config_from(parameters, context)
        with engine_errors():
            result = coregister(optical, sar, outdir, config, ProcessingFeedbackAdapter(feedback),
                                overwrite=overwrite)
        counts = result.report["counts"]
        for line in summary_lines(result.report, outdir):
            feedback.pushInfo(line)

        def path(name):
            p = os.path.join(outdir, name)
            return p if os.path.exists(p) else None

        tiepoints = path(out.TIEPOINTS_GPKG)
        results = {
            self.OUTPUT: outdir,
            self.TIEPOINTS: f"{tiepoints}|layername=tiepoints" if tiepoints else None,
            self.SHIFT_FIELD: path(out.SHIFT_FIELD),
            self.SIMILARITY: path(out.SIMILARITY_VRT),
            self.CORRECTED: path(out.SAR_CORRECTED),
            self.REPORT: path(out.REPORT),
            self.POINTS: path(out.POINTS_FILE),
            self.INLIERS: counts["inliers"],
            self.OUTLIERS: counts["outliers"],
        }
        self._load_on_completion(results, context)
        return results

    def _load_on_completion(self, results, context) -> None:
        """Show the styled results when the algorithm runs from the toolbox or a model."""
        if context.project() is None:
            return
        raster, vector = QgsProcessingUtils.LayerHint.Raster, QgsProcessingUtils.LayerHint.Vector
        shown = ((self.CORRECTED, tr("Corrected SAR"), raster, "corrected"),
                 (self.SIMILARITY, tr("Similarity"), raster, "similarity"),
                 (self.TIEPOINTS, tr("Tie points"), vector, "tiepoints"))
        for key, name, kind, role in shown:
            if not results.get(key):
                continue
            details = QgsProcessingContext.LayerDetails(name, context.project(), key, kind)
            details.setPostProcessor(_StyleResult(role))
            context.addLayerToLoadOnCompletion(results[key], details)
