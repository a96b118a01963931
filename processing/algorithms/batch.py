"""Processing algorithm "Co-register many pairs (batch, Dask)": ``core.batch.run_batch``.

The same batch as ``sarcoreg batch``: one co-registration per row of a pairs CSV, each into
its own folder under the output root, on a local Dask cluster or a running scheduler,
resumable (complete pairs are skipped), with ``batch_summary.csv`` / ``.json``.
"""
from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator

from qgis.core import (QgsProcessingException, QgsProcessingOutputFile, QgsProcessingOutputNumber,
                       QgsProcessingParameterBoolean, QgsProcessingParameterFile,
                       QgsProcessingParameterFolderDestination, QgsProcessingParameterString)

from ..feedback import ProcessingFeedbackAdapter
from ...compat import FILE_FILE
from ...core.batch_files import STATUSES, SUMMARY_CSV, SUMMARY_JSON
from ...ui.i18n import tr
from .base import SarcoregAlgorithm, add_matching_parameters, engine_errors, int_param, matching_options, search_tags

FEATURE = "batch"   # core.deps: what the batch needs (dask, distributed)


def require_dask() -> None:
    """Raise a one-line ``QgsProcessingException`` that says how to install Dask when it
    cannot be imported (the batch is the only part of the plugin that needs it)."""
    from ...core.deps import missing, pip_hint

    gone = missing(FEATURE, load=True)
    if gone:
        raise QgsProcessingException(
            tr("Dask is not installed in QGIS's Python ({modules} cannot be imported): install it with the "
               "sarcoreg dock's '{button}' button, or with  {command}").format(
                modules=", ".join(gone), button=tr("Install Dask (for batch)"), command=pip_hint(FEATURE)))


def status_label(status: str) -> str:
    """Description of the output that counts the pairs of one ``core.batch_files`` status."""
    labels = {"ok": tr("Pairs ok"), "bad_input": tr("Pairs bad input"), "error": tr("Pairs error"),
              "skipped_complete": tr("Pairs skipped complete"), "cancelled": tr("Pairs cancelled")}
    return labels.get(status) or tr("Pairs {status}").format(status=status.replace("_", " "))


@contextlib.contextmanager
def workers_run_python(local: bool) -> Iterator[None]:
    """Start a local cluster's worker processes with QGIS's Python interpreter.

    Dask starts local workers through ``multiprocessing``, which runs ``sys.executable``: in
    QGIS on Windows and macOS that is the QGIS program, which would open QGIS again instead
    of a worker. For the batch's duration ``multiprocessing`` runs the interpreter beside it
    (``core.deps.find_python``), and is set back afterwards. Nothing changes where
    ``sys.executable`` is a Python interpreter, or when the workers belong to a scheduler.
    """
    if not local or os.path.basename(sys.executable or "").lower().startswith("python"):
        yield
        return
    import multiprocessing
    from multiprocessing import spawn

    from ...core.deps import find_python
    from ...core.errors import InputError

    try:
        python = find_python()
    except InputError:
        raise QgsProcessingException(
            tr("a local Dask cluster needs QGIS's Python interpreter, which was not found beside {program}: give "
               "the address of a running Dask scheduler instead").format(program=sys.executable)) from None
    before = spawn.get_executable()
    multiprocessing.set_executable(python)
    try:
        yield
    finally:
        multiprocessing.set_executable(before)


class BatchAlgorithm(SarcoregAlgorithm):
    PAIRS = "PAIRS"
    MATCHER = "MATCHER"
    WINDOW = "WINDOW"
    TEMPLATE = "TEMPLATE"
    SPACING = "SPACING"
    PROVIDER = "PROVIDER"
    WARP = "WARP"
    SCHEDULER = "SCHEDULER"
    WORKERS = "WORKERS"
    OVERWRITE = "OVERWRITE"
    OUTPUT = "OUTPUT"
    SUMMARY_CSV = "SUMMARY_CSV"
    SUMMARY_JSON = "SUMMARY_JSON"

    def name(self) -> str:
        return "batch"

    def displayName(self) -> str:  # noqa: N802 (QGIS API)
        return tr("Co-register many pairs (batch, Dask)")

    def tags(self) -> list:
        return search_tags(["batch", "dask", "cluster", "pairs", "csv", "sar", "optical", "coregistration",
                            "tie points"],
                           tr("batch,dask,cluster,pairs,csv,sar,optical,coregistration,tie points"))

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API)
        self.addParameter(QgsProcessingParameterFile(
            self.PAIRS, tr("Pairs CSV (optical,sar[,name] per row; paths relative to the CSV)"), FILE_FILE, "csv"))
        add_matching_parameters(self, tr("Write each corrected SAR with"))
        self.addParameter(QgsProcessingParameterString(
            self.SCHEDULER, tr("Dask scheduler address (empty: a local cluster on this computer)"), "", False, True))
        self.addParameter(int_param(self.WORKERS, tr("Workers of the local cluster (0: one per core)"), 0, 0))
        self.addParameter(QgsProcessingParameterBoolean(
            self.OVERWRITE, tr("Redo pairs that are complete from an earlier run"), False))
        self.addParameter(QgsProcessingParameterFolderDestination(
            self.OUTPUT, tr("Output root folder (one folder per pair)")))
        for key, file_name in ((self.SUMMARY_CSV, SUMMARY_CSV), (self.SUMMARY_JSON, SUMMARY_JSON)):
            self.addOutput(QgsProcessingOutputFile(key, tr("Batch summary ({file})").format(file=file_name)))
        for status in STATUSES:
            self.addOutput(QgsProcessingOutputNumber(status.upper(), status_label(status)))

    def config_from(self, parameters, context):
        """The ``CoregConfig`` every pair runs with (raises on a bad combination)."""
        from ...core.config import CoregConfig

        with engine_errors():
            return CoregConfig(**matching_options(self, parameters, context))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API)
        require_dask()
        from ...core.batch import run_batch

        pairs = self.parameterAsFile(parameters, self.PAIRS, context)
        outroot = self.parameterAsString(parameters, self.OUTPUT, context)
        scheduler = (self.parameterAsString(parameters, self.SCHEDULER, context) or "").strip() or None
        workers = self.parameterAsInt(parameters, self.WORKERS, context) or None
        overwrite = self.parameterAsBool(parameters, self.OVERWRITE, context)
        config = self.config_from(parameters, context)
        with engine_errors(), workers_run_python(local=scheduler is None):
            summary = run_batch(pairs, outroot, config, scheduler=scheduler, n_workers=workers,
                                overwrite=overwrite, feedback=ProcessingFeedbackAdapter(feedback))
        for line in summary.text().splitlines():
            feedback.pushInfo(line)
        counts = summary.counts()
        failed = counts["bad_input"] + counts["error"]
        if failed:
            feedback.reportError(tr("{failed} of {total} pairs failed: their reasons are above and in {file}").format(
                failed=failed, total=len(summary.outcomes), file=os.path.join(summary.outroot, SUMMARY_CSV)), False)
        results = {self.OUTPUT: summary.outroot,
                   self.SUMMARY_CSV: os.path.join(summary.outroot, SUMMARY_CSV),
                   self.SUMMARY_JSON: os.path.join(summary.outroot, SUMMARY_JSON)}
        results.update({status.upper(): counts[status] for status in STATUSES})
        return results
