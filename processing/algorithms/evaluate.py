"""Processing algorithm "Evaluate matchers": CMR / RMSE on real pairs (``sarcoreg evaluate``)."""
from __future__ import annotations

import csv
import dataclasses

from qgis.core import (QgsProcessingException, QgsProcessingParameterEnum, QgsProcessingParameterFile,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterNumber,
                       QgsProcessingParameterString)

from ..feedback import ProcessingFeedbackAdapter
from ...compat import FILE_FILE, FILE_FOLDER, FLAG_ADVANCED, NUMBER_DOUBLE, NUMBER_INTEGER
from .base import SarcoregAlgorithm, engine_errors, search_tags
from ...core.matchers import TEXTBOOK, matcher_names
from ...core.sources import LA_TRUTH_HELP, LA_TRUTHS
from ...core.staging import atomic_file
from ...ui.i18n import tr

SPLITS = ("val", "train", "all", "dev")
PROTOCOLS = ("sources", "la")


def parse_settings(text: str) -> tuple:
    """``"256/192,512/384"`` → ``((256, 192), (512, 384))``."""
    try:
        settings = tuple(tuple(int(v) for v in s.strip().split("/")) for s in text.split(",") if s.strip())
    except ValueError:
        settings = ()
    if not settings or any(len(s) != 2 for s in settings):
        raise QgsProcessingException(
            tr("settings {text} must be reference/template sizes such as 256/192,512/384").format(text=repr(text)))
    return settings


class EvaluateAlgorithm(SarcoregAlgorithm):
    DATA = "DATA"
    PAIRS = "PAIRS"
    MATCHERS = "MATCHERS"
    SETTINGS = "SETTINGS"
    SAMPLES = "SAMPLES"
    SPLIT = "SPLIT"
    SEED = "SEED"
    NOISE = "NOISE"
    PROTOCOL = "PROTOCOL"
    LA_TRUTH = "LA_TRUTH"
    OUTPUT = "OUTPUT"

    def name(self) -> str:
        return "evaluate"

    def displayName(self) -> str:  # noqa: N802 (QGIS API)
        return tr("Evaluate matchers")

    def tags(self) -> list:
        return search_tags(["benchmark", "cmr", "rmse", "evaluation", "matcher"],
                           tr("benchmark,cmr,rmse,evaluation,matcher"))

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API)
        self.addParameter(QgsProcessingParameterFile(
            self.DATA, tr("Folder of co-registered pairs (the shared data layout)"), FILE_FOLDER, optional=True))
        self.addParameter(QgsProcessingParameterFile(
            self.PAIRS, tr("Or your own aligned pairs: CSV of optical,sar[,name][,dy,dx][,sar_kind]"), FILE_FILE,
            "csv", optional=True))
        names = matcher_names() + [TEXTBOOK]
        matchers = QgsProcessingParameterEnum(self.MATCHERS, tr("Matchers (none: all)"), names, True, None, True)
        matchers.setUsesStaticStrings(True)
        self.addParameter(matchers)
        self.addParameter(QgsProcessingParameterString(
            self.SETTINGS, tr("Reference/template sizes"), "256/192,512/384"))
        self.addParameter(QgsProcessingParameterNumber(
            self.SAMPLES, tr("Samples per setting (per source, or per pair of a CSV)"), NUMBER_INTEGER, 200, False, 1))
        split = QgsProcessingParameterEnum(self.SPLIT, tr("Pairs"), list(SPLITS), False, "val")
        split.setUsesStaticStrings(True)
        self.addParameter(split)
        self.addParameter(QgsProcessingParameterNumber(
            self.SEED, tr("Seed"), NUMBER_INTEGER, 0, False))
        self.addParameter(QgsProcessingParameterNumber(
            self.NOISE, tr("Noise variance on the template (share of its variance)"),
            NUMBER_DOUBLE, 0.0, False, 0.0, 10.0))
        protocol = QgsProcessingParameterEnum(
            self.PROTOCOL, tr("Protocol (sources: per source and overall over every shared source with a truth; "
                              "la: the Los Angeles pairs alone)"), list(PROTOCOLS), False, "sources")
        protocol.setUsesStaticStrings(True)
        self.addParameter(protocol)
        la_truth = QgsProcessingParameterEnum(
            self.LA_TRUTH, tr("Truth of the Los Angeles samples, protocol sources ({choices})").format(
                choices=LA_TRUTH_HELP), list(LA_TRUTHS), False, "local")
        la_truth.setUsesStaticStrings(True)
        la_truth.setFlags(la_truth.flags() | FLAG_ADVANCED)
        self.addParameter(la_truth)
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT, tr("Scores (CSV)"), tr("CSV files (*.csv)")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API)
        from ...core import evaluate as ev

        matchers = self.parameterAsEnumStrings(parameters, self.MATCHERS, context) or \
            matcher_names()
        settings = parse_settings(self.parameterAsString(parameters, self.SETTINGS, context))
        out_path = self.parameterAsFileOutput(parameters, self.OUTPUT, context)
        protocol = self.parameterAsEnumString(parameters, self.PROTOCOL, context) or "sources"
        noise = self.parameterAsDouble(parameters, self.NOISE, context)
        common = dict(settings=settings, seed=self.parameterAsInt(parameters, self.SEED, context),
                      feedback=ProcessingFeedbackAdapter(feedback))
        data = self.parameterAsFile(parameters, self.DATA, context)
        pairs = self.parameterAsFile(parameters, self.PAIRS, context)
        samples = self.parameterAsInt(parameters, self.SAMPLES, context)
        split = self.parameterAsEnumString(parameters, self.SPLIT, context) or "val"
        if bool(data) == bool(pairs):
            raise QgsProcessingException(tr("give either a folder of co-registered pairs or a CSV of your own "
                                            "aligned pairs, not both"))
        if pairs:
            from ...core import pairs_eval as pe

            if noise > 0:
                raise QgsProcessingException(tr("template noise applies to the 'la' protocol: set it to 0"))
            with engine_errors():
                result = pe.evaluate_pairs(pairs, list(matchers), n_per_pair=samples, **common)
            self._write([dict(pair=r.pair, draws_replaced=r.n_replaced, **dataclasses.asdict(r.score))
                         for r in result.scores], out_path)
            feedback.pushInfo(pe.format_pairs_markdown(result))
            for c in result.checks:
                if c.suspect:
                    feedback.pushWarning(tr("{pair} ({size} px): the truth given may be off; two unrelated "
                                            "matchers agree {dy:+.1f}, {dx:+.1f} px from it").format(
                        pair=c.pair, size=c.window_px, dy=c.median_dy, dx=c.median_dx))
            return {self.OUTPUT: out_path}
        if protocol == "sources":
            if noise > 0:
                raise QgsProcessingException(tr("template noise applies to the 'la' protocol: set it to 0 or "
                                                "choose protocol 'la'"))
            la_truth = self.parameterAsEnumString(parameters, self.LA_TRUTH, context) or "local"
            with engine_errors():
                by_source = ev.evaluate_sources(data, list(matchers), n_per_source=samples, role=split,
                                                la_truth=la_truth, **common)
            self._write([dict(source=r.source, removed_by_truth_check=r.n_removed, **dataclasses.asdict(r.score))
                         for r in by_source], out_path)
            feedback.pushInfo(ev.format_sources_markdown(by_source))
            return {self.OUTPUT: out_path}
        with engine_errors():
            scores = ev.evaluate(data, list(matchers), n_samples=samples, split=split, noise_var=noise, **common)
        self._write([dataclasses.asdict(s) for s in scores], out_path)
        feedback.pushInfo(ev.format_markdown(scores))
        return {self.OUTPUT: out_path}

    @staticmethod
    def _write(rows, out_path: str) -> None:
        # a temporary name, moved into place when complete: an earlier CSV is never half-overwritten
        with atomic_file(out_path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["matcher"])
            writer.writeheader()
            writer.writerows(rows)
