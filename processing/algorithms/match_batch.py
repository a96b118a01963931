"""Processing algorithm "Match batch": the benchmark protocol (``sarcoreg match-batch``)."""
from __future__ import annotations

from qgis.core import (QgsProcessingException, QgsProcessingParameterBoolean, QgsProcessingParameterEnum,
                       QgsProcessingParameterFile, QgsProcessingParameterFileDestination)

from ..feedback import ProcessingFeedbackAdapter
from ...compat import FILE_FILE
from .base import SarcoregAlgorithm, engine_errors, search_tags
from ...core.matchers import AUTO, matcher_choices
from ...ui.i18n import tr


class MatchBatchAlgorithm(SarcoregAlgorithm):
    MANIFEST = "MANIFEST"
    MATCHER = "MATCHER"
    OVERWRITE = "OVERWRITE"
    OUTPUT = "OUTPUT"

    def name(self) -> str:
        return "matchbatch"

    def displayName(self) -> str:  # noqa: N802 (QGIS API)
        return tr("Match batch (benchmark protocol)")

    def tags(self) -> list:
        return search_tags(["benchmark", "template matching", "manifest", "csv", "sar", "optical"],
                           tr("benchmark,template matching,manifest,csv,sar,optical"))

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API)
        self.addParameter(QgsProcessingParameterFile(
            self.MANIFEST, tr("Manifest CSV (id,template,reference)"), FILE_FILE, "csv"))
        matcher = QgsProcessingParameterEnum(self.MATCHER, tr("Matcher"), matcher_choices(), False, AUTO)
        matcher.setUsesStaticStrings(True)
        self.addParameter(matcher)
        self.addParameter(QgsProcessingParameterBoolean(
            self.OVERWRITE, tr("Replace an existing results file"), False))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT, tr("Results CSV (id,row,col,score,confidence,seconds)"), tr("CSV files (*.csv)")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API)
        try:
            from ...core.matchbatch import match_batch
        except ImportError:
            raise QgsProcessingException(
                tr("this version of the sarcoreg engine has no match-batch (core/matchbatch.py)")) from None
        from ...core.coregister import resolve_matcher_name

        manifest = self.parameterAsFile(parameters, self.MANIFEST, context)
        matcher = self.parameterAsEnumString(parameters, self.MATCHER, context) or AUTO
        results = self.parameterAsFileOutput(parameters, self.OUTPUT, context)
        overwrite = self.parameterAsBool(parameters, self.OVERWRITE, context)
        with engine_errors():
            summary = match_batch(manifest, results, resolve_matcher_name(matcher), overwrite=overwrite,
                                  feedback=ProcessingFeedbackAdapter(feedback))
        if isinstance(summary, dict):
            feedback.pushInfo(", ".join(f"{k}: {v}" for k, v in summary.items()
                                        if not isinstance(v, (list, dict))))
        elif summary:
            feedback.pushInfo(str(summary))
        return {self.OUTPUT: results}
