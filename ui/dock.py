"""The dock: pick an optical and a SAR layer, set the windows, Run in a background task.

The dock turns its widgets into paths and a ``CoregConfig`` (``current_request``), hands
them to a ``CoregTask`` and, when the task has finished, shows the styled results in one
layer group and a line in the message bar. Settings are remembered with ``QgsSettings``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

from qgis.core import (Qgis, QgsApplication, QgsProject, QgsRasterLayer,
                       QgsSettings)
from qgis.gui import QgsDockWidget, QgsFileWidget, QgsMapLayerComboBox, QgsRasterBandComboBox
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                                 QLineEdit, QProgressBar, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from ..compat import RASTER_LAYERS
from .i18n import tr
from .results import add_results
from .task import CoregTask

SETTINGS_PREFIX = "sarcoreg/dock/"
TITLE = "sarcoreg"
BATCH_FEATURE = "batch"   # core.deps: what the Processing batch needs (Dask)


class DockError(ValueError):
    """What the user must fix before a run can start (one line for the message bar)."""


@dataclass(frozen=True)
class RunRequest:
    optical: str
    sar: str
    outdir: str
    config: object  # core.config.CoregConfig


def parse_bands(text: str):
    """``"4,3,2"`` → ``(4, 3, 2)``; empty → ``None`` (the visible bands)."""
    text = text.strip()
    if not text:
        return None
    try:
        bands = tuple(int(v) for v in text.replace(" ", ",").split(",") if v)
    except ValueError:
        raise DockError(tr("optical bands {text} must be band numbers such as 4,3,2").format(text=repr(text))) \
            from None
    return bands or None


def _layer_path(layer, what: str) -> str:
    """The file of a GDAL raster ``layer``; ``what`` names it in a refusal ("the optical layer")."""
    if layer is None:
        raise DockError(tr("choose {layer}").format(layer=what))
    if not isinstance(layer, QgsRasterLayer) or layer.providerType() != "gdal":
        raise DockError(tr("{layer} '{name}' is not a raster file: save it as a GeoTIFF first")
                        .format(layer=what, name=layer.name()))
    return layer.source().split("|")[0]


def existing_outputs(outdir: str) -> list:
    """The co-registration outputs already in ``outdir``."""
    from ..core.outputs import ALL_OUTPUTS
    return [n for n in ALL_OUTPUTS if os.path.exists(os.path.join(outdir, n))]


class SarcoregDock(QgsDockWidget):
    """Dock widget of the plugin (one per QGIS window)."""

    def __init__(self, iface, parent=None) -> None:
        super().__init__(TITLE, parent)
        self.setObjectName("SarcoregDock")
        self.iface = iface
        self.task: Optional[CoregTask] = None
        self.last_layers: dict = {}
        self.last_outdir = ""
        self._build()
        self.restore_settings()
        self._update_runtime()
        self._update_batch()

    # --- widgets -----------------------------------------------------------------
    def _build(self) -> None:
        from ..core.config import PROVIDERS, SAR_KINDS, WARP_CHOICES, CoregConfig
        from ..core.matchers import AUTO, matcher_info, matcher_names

        d = CoregConfig()
        body = QWidget(self)
        layout = QVBoxLayout(body)

        inputs = QGroupBox(tr("Scenes"), body)
        form = QFormLayout(inputs)
        self.optical_combo = QgsMapLayerComboBox(inputs)
        self.optical_combo.setFilters(RASTER_LAYERS)
        self.optical_combo.setObjectName("opticalLayer")
        form.addRow(tr("Optical"), self.optical_combo)
        self.optical_bands = QLineEdit(inputs)
        self.optical_bands.setPlaceholderText(tr("visible bands (e.g. 4,3,2)"))
        self.optical_bands.setToolTip(tr("Band numbers whose mean is the grey template; empty: R, G, B"))
        form.addRow(tr("Optical bands"), self.optical_bands)
        self.sar_combo = QgsMapLayerComboBox(inputs)
        self.sar_combo.setFilters(RASTER_LAYERS)
        self.sar_combo.setObjectName("sarLayer")
        form.addRow(tr("SAR"), self.sar_combo)
        self.sar_band = QgsRasterBandComboBox(inputs)
        self.sar_combo.layerChanged.connect(self.sar_band.setLayer)
        self.sar_band.setLayer(self.sar_combo.currentLayer())
        form.addRow(tr("SAR band"), self.sar_band)
        self.sar_kind = QComboBox(inputs)
        self.sar_kind.addItems(SAR_KINDS)
        form.addRow(tr("SAR values"), self.sar_kind)
        layout.addWidget(inputs)

        match = QGroupBox(tr("Matching"), body)
        form = QFormLayout(match)
        self.matcher = QComboBox(match)
        names = matcher_names()   # once: listing the learned matcher checks its model files
        self.matcher.addItems([AUTO] + names)
        self.matcher.setToolTip(tr("auto: the matcher that is best on the multi-region validation (places and "
                                   "sensors the model never saw; see the model card).") + "\n" +
                                "\n".join(matcher_info(n).describe() for n in names))
        form.addRow(tr("Matcher"), self.matcher)
        self.window = _spin(16, 4096, d.window_px, " px")
        self.template = _spin(8, 4096, d.template_px, " px")
        self.spacing = _spin(0, 4096, 0, " px")
        self.spacing.setSpecialValueText(tr("= template"))
        form.addRow(tr("SAR window"), self.window)
        form.addRow(tr("Optical template"), self.template)
        form.addRow(tr("Spacing"), self.spacing)
        self.provider = QComboBox(match)
        self.provider.addItems(PROVIDERS)
        form.addRow(tr("Runtime"), self.provider)
        self.runtime_label = QLabel(match)
        self.runtime_label.setWordWrap(True)
        self.runtime_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.runtime_label.setObjectName("runtimeLabel")
        form.addRow(self.runtime_label)  # full width: the line names providers or the install command
        # shown only while ONNX Runtime is missing: install it into the QGIS profile (core.deps)
        self.install_row = QWidget(match)
        install_layout = QHBoxLayout(self.install_row)
        install_layout.setContentsMargins(0, 0, 0, 0)
        self.install_cpu_button = QPushButton(tr("Install ONNX Runtime (CPU)"), self.install_row)
        self.install_cpu_button.setObjectName("installOnnxCpu")
        self.install_cpu_button.setToolTip(tr("pip install onnxruntime into this QGIS profile, with QGIS's own "
                                              "Python; nothing QGIS ships is upgraded"))
        self.install_cpu_button.clicked.connect(lambda: self.install_runtime(gpu=False))
        self.install_gpu_button = QPushButton(tr("… (NVIDIA GPU)"), self.install_row)
        self.install_gpu_button.setObjectName("installOnnxGpu")
        self.install_gpu_button.setToolTip(tr("pip install onnxruntime-gpu (CUDA) instead of the CPU build; the two "
                                              "are never installed together"))
        self.install_gpu_button.clicked.connect(lambda: self.install_runtime(gpu=True))
        install_layout.addWidget(self.install_cpu_button)
        install_layout.addWidget(self.install_gpu_button)
        form.addRow(self.install_row)
        # shown only while Dask is missing: the batch (Processing ▸ sarcoreg) runs on it
        self.batch_row = QWidget(match)
        batch_layout = QHBoxLayout(self.batch_row)
        batch_layout.setContentsMargins(0, 0, 0, 0)
        batch_label = QLabel(tr("Batch (Processing) needs Dask:"), self.batch_row)
        self.install_dask_button = QPushButton(tr("Install Dask (for batch)"), self.batch_row)
        self.install_dask_button.setObjectName("installDask")
        self.install_dask_button.setToolTip(tr("pip install dask and distributed into this QGIS profile, with "
                                               "QGIS's own Python; nothing QGIS ships is upgraded. Processing ▸ "
                                               "sarcoreg ▸ Co-register many pairs (batch, Dask) needs them"))
        self.install_dask_button.clicked.connect(lambda: self.install_batch())
        batch_layout.addWidget(batch_label)
        batch_layout.addWidget(self.install_dask_button)
        batch_layout.addStretch(1)
        form.addRow(self.batch_row)
        self.install_task = None
        self.warp = QComboBox(match)
        self.warp.addItems(WARP_CHOICES)
        self.warp.setToolTip(tr("Also write the SAR warped onto the optical frame (sar_corrected.tif); auto picks "
                                "the transform that best predicts each tie point from the others"))
        form.addRow(tr("Corrected SAR"), self.warp)
        layout.addWidget(match)

        out = QGroupBox(tr("Output"), body)
        form = QFormLayout(out)
        self.outdir = QgsFileWidget(out)
        self.outdir.setStorageMode(QgsFileWidget.StorageMode.GetDirectory)
        self.outdir.setDialogTitle(tr("Output folder of the co-registration"))
        form.addRow(tr("Folder"), self.outdir)
        self.load_results = QCheckBox(tr("Show the results on the map"), out)
        self.load_results.setChecked(True)
        form.addRow("", self.load_results)
        layout.addWidget(out)

        buttons = QHBoxLayout()
        self.run_button = QPushButton(tr("Run"), body)
        self.run_button.setObjectName("runButton")
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton(tr("Cancel"), body)
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.inspect_button = QPushButton(tr("Inspect tie point"), body)
        self.inspect_button.setCheckable(True)
        self.inspect_button.setToolTip(tr("Click a tie point on the map to see its windows and similarity map"))
        self.inspect_button.toggled.connect(self._toggle_inspector)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.inspect_button)
        layout.addLayout(buttons)
        self.progress = QProgressBar(body)
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        layout.addWidget(self.progress)
        self.status = QLabel("", body)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self.setWidget(body)

        self.provider.currentTextChanged.connect(self._update_runtime)
        self.matcher.currentTextChanged.connect(self._update_runtime)
        self.inspector_tool = None

    def _update_runtime(self, *_args) -> None:
        from .runtime import runtime_status

        from ..core.matchers import AUTO, resolve_name

        matcher = self.matcher.currentText()
        st = runtime_status(self.provider.currentText())
        text = st.message
        if not self.needs_runtime(matcher):
            said = tr("{auto} runs {matcher}").format(auto=AUTO, matcher=resolve_name(matcher)) \
                if matcher == AUTO else matcher
            text = tr("{runtime}; {matcher}, in numpy, without it").format(runtime=text, matcher=said)
        self.runtime_label.setText(text)
        self.runtime_label.setToolTip(
            tr("Execution providers of ONNX Runtime: {providers}. Learned matchers run in ONNX Runtime; classical "
               "matchers in numpy.").format(providers=", ".join(st.available) or tr("none")))
        self.runtime_status = st
        self.install_row.setVisible(not st.installed)
        for button in self._install_buttons():
            button.setEnabled(self.install_task is None)

    def _update_batch(self) -> None:
        """Show the Dask install row only while Dask (for the Processing batch) is missing."""
        from ..core.deps import missing

        self.dask_missing = missing(BATCH_FEATURE)
        self.batch_row.setVisible(bool(self.dask_missing))

    def _install_buttons(self) -> tuple:
        return self.install_cpu_button, self.install_gpu_button, self.install_dask_button

    def install_runtime(self, gpu: bool = False, folder=None):
        """Install ONNX Runtime (CPU or GPU build) into the QGIS profile, in the background,
        with progress in the message bar; the runtime line is updated when it is done."""
        return self._install(["onnxruntime-gpu" if gpu else "onnxruntime"], folder)

    def install_batch(self, folder=None):
        """Install Dask (``dask``, ``distributed``) into the QGIS profile for the Processing
        batch, in the background, with progress in the message bar; the row hides when done."""
        from ..core.deps import FEATURES

        return self._install(list(FEATURES[BATCH_FEATURE]), folder)

    def _install(self, packages, folder):
        """One install at a time (they share the profile folder): every install button waits."""
        from .deps_install import start_install

        if self.install_task is not None:
            return None
        for button in self._install_buttons():
            button.setEnabled(False)
        self.install_task = start_install(self.iface.messageBar(), packages, folder, on_done=self._installed)
        return self.install_task

    def _installed(self, task) -> None:
        self.install_task = None
        try:
            self._update_runtime()
            self._update_batch()
        except RuntimeError:  # the dock was closed (plugin unloaded) while installing
            pass

    # --- settings -----------------------------------------------------------------
    def save_settings(self) -> None:
        s = QgsSettings()
        s.setValue(SETTINGS_PREFIX + "matcher", self.matcher.currentText())
        s.setValue(SETTINGS_PREFIX + "window_px", self.window.value())
        s.setValue(SETTINGS_PREFIX + "template_px", self.template.value())
        s.setValue(SETTINGS_PREFIX + "spacing_px", self.spacing.value())
        s.setValue(SETTINGS_PREFIX + "provider", self.provider.currentText())
        s.setValue(SETTINGS_PREFIX + "sar_kind", self.sar_kind.currentText())
        s.setValue(SETTINGS_PREFIX + "warp", self.warp.currentText())
        s.setValue(SETTINGS_PREFIX + "optical_bands", self.optical_bands.text())
        s.setValue(SETTINGS_PREFIX + "outdir", self.outdir.filePath())

    def restore_settings(self) -> None:
        s = QgsSettings()

        def text(combo, key):
            value = s.value(SETTINGS_PREFIX + key, "", type=str)
            if value and combo.findText(value) >= 0:
                combo.setCurrentText(value)

        text(self.matcher, "matcher")
        text(self.provider, "provider")
        text(self.sar_kind, "sar_kind")
        text(self.warp, "warp")
        for spin, key in ((self.window, "window_px"), (self.template, "template_px"), (self.spacing, "spacing_px")):
            value = s.value(SETTINGS_PREFIX + key, None)
            if value not in (None, ""):
                spin.setValue(int(value))
        self.optical_bands.setText(s.value(SETTINGS_PREFIX + "optical_bands", "", type=str))
        self.outdir.setFilePath(s.value(SETTINGS_PREFIX + "outdir", "", type=str))

    # --- run ------------------------------------------------------------------------
    def current_request(self) -> RunRequest:
        """Paths and config from the widgets; raises ``DockError`` with one line."""
        from ..core.config import CoregConfig
        from ..core.errors import InputError

        optical = _layer_path(self.optical_combo.currentLayer(), tr("the optical layer"))
        sar = _layer_path(self.sar_combo.currentLayer(), tr("the SAR layer"))
        outdir = self.outdir.filePath().strip()
        if not outdir:
            raise DockError(tr("choose an output folder"))
        warp = self.warp.currentText()
        try:
            config = CoregConfig(
                matcher=self.matcher.currentText(), window_px=self.window.value(),
                template_px=self.template.value(), spacing_px=self.spacing.value() or None,
                optical_bands=parse_bands(self.optical_bands.text()),
                sar_band=max(1, self.sar_band.currentBand()), sar_kind=self.sar_kind.currentText(),
                provider=self.provider.currentText(), warp=None if warp == "none" else warp)
        except InputError as exc:
            raise DockError(str(exc)) from None
        return RunRequest(optical, sar, os.path.abspath(outdir), config)

    def run(self) -> Optional[CoregTask]:
        """Start a co-registration task; refuses (message bar) what cannot run."""
        if self.task is not None:
            self._message(tr("a co-registration is already running: wait for it or cancel it"),
                          Qgis.MessageLevel.Warning)
            return None
        try:
            request = self.current_request()
            if self.needs_runtime(request.config.matcher) and not self.runtime_status.installed:
                raise DockError(self.runtime_status.message)
            existing = existing_outputs(request.outdir)
            if existing:
                raise DockError(tr("{folder} already holds the results of a run ({files}): choose another output "
                                   "folder, or remove those files first")
                                .format(folder=request.outdir, files=", ".join(existing)))
        except DockError as exc:
            self._message(str(exc), Qgis.MessageLevel.Warning)
            return None
        self.save_settings()
        task = CoregTask(request.optical, request.sar, request.outdir, request.config, on_done=self._done)
        task.progressChanged.connect(lambda value: self.progress.setValue(int(value)))
        self.task = task
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        self.status.setText(tr("co-registering into {folder} …").format(folder=request.outdir))
        QgsApplication.taskManager().addTask(task)
        return task

    @staticmethod
    def needs_runtime(matcher: str) -> bool:
        """Whether ``matcher`` (or what ``auto`` runs) needs ONNX Runtime (its registry entry says)."""
        from .runtime import RUNTIME_MODULE

        from ..core.matchers import matcher_info

        return RUNTIME_MODULE in matcher_info(matcher).requires

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.status.setText(tr("cancelling …"))

    def _done(self, task: CoregTask) -> None:
        """Main thread: the task has finished (success, error or cancel)."""
        self.task = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if task.result is not None:
            from ..core.summary import status_line

            line = status_line(task.result.report)
            self.progress.setValue(100)
            self.status.setText(line)
            self.last_outdir = task.outdir
            if self.load_results.isChecked():
                self.last_layers = add_results(task.outdir, QgsProject.instance(),
                                               with_corrected=task.config.warp is not None)
                tp = self.last_layers.get("tiepoints")
                canvas = self.iface.mapCanvas()
                if tp is not None and canvas is not None:
                    canvas.refresh()
            self._message(tr("done: {summary}").format(summary=line), Qgis.MessageLevel.Success)
        elif task.cancelled:
            self.progress.setValue(0)
            self.status.setText(task.error_message)
            self._message(task.error_message, Qgis.MessageLevel.Info)
        else:
            self.progress.setValue(0)
            self.status.setText(task.error_message)
            self._message(task.error_message, Qgis.MessageLevel.Critical)

    def _message(self, text: str, level) -> None:
        bar = self.iface.messageBar()
        duration = 0 if level == Qgis.MessageLevel.Critical else 10
        bar.pushMessage(TITLE, text, level, duration)

    # --- inspector ----------------------------------------------------------------------
    def _toggle_inspector(self, on: bool) -> None:
        canvas = self.iface.mapCanvas()
        if on:
            from .inspector import InspectorTool
            if self.inspector_tool is None:
                self.inspector_tool = InspectorTool(canvas, self.iface)
                self.inspector_tool.deactivated.connect(lambda: self.inspect_button.setChecked(False))
            canvas.setMapTool(self.inspector_tool)
        elif self.inspector_tool is not None and canvas.mapTool() is self.inspector_tool:
            canvas.unsetMapTool(self.inspector_tool)

    def shutdown(self) -> None:
        """Cancel a running task and release the map tool (plugin unload)."""
        if self.task is not None:
            self.task.on_done = None
            self.task.cancel()
            self.task = None
        if self.inspector_tool is not None:
            canvas = self.iface.mapCanvas()
            if canvas is not None and canvas.mapTool() is self.inspector_tool:
                canvas.unsetMapTool(self.inspector_tool)
            self.inspector_tool.close_panel()
            self.inspector_tool = None


def _spin(lo: int, hi: int, value: int, suffix: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(lo, hi)
    spin.setValue(value)
    spin.setSuffix(suffix)
    return spin
