"""Install optional Python dependencies from inside QGIS: a background task running
``core.deps.install`` and its progress in the message bar.

The packages go into ``<profile>/python/sarcoreg-python`` (``core.deps.dependency_folder``),
which the plugin puts on ``sys.path`` when it loads, with QGIS's own Python and pip
constrained to the versions QGIS already has; see ``core.deps``.
"""
from __future__ import annotations

from typing import Callable, List, Optional, Sequence

from qgis.core import Qgis, QgsApplication, QgsTask
from qgis.PyQt.QtWidgets import QProgressBar

from .i18n import tr
from .task import internal_error_message

TITLE = "sarcoreg"
# pip's output lines and how far along they put the install (a rough, monotone guide)
_STAGES = (("Collecting", 10), ("Downloading", 30), ("Processing", 30), ("Installing collected packages", 70),
           ("Successfully installed", 100))


def profile_folder():
    """The dependency folder of the running QGIS profile."""
    from ..core.deps import dependency_folder
    return dependency_folder(QgsApplication.qgisSettingsDirPath())


def activate_profile_folder() -> bool:
    """Put the profile's dependency folder on ``sys.path`` (plugin load); True when added."""
    from ..core.deps import activate
    return activate(profile_folder())


class DepsInstallTask(QgsTask):
    """Installs ``packages`` into ``folder``; ``on_done(task)`` runs in the main thread."""

    def __init__(self, packages: Sequence[str], folder=None, on_done: Optional[Callable] = None) -> None:
        super().__init__(tr("sarcoreg: installing {packages}").format(packages=", ".join(packages)),
                         QgsTask.Flag.CanCancel)
        self.packages = list(packages)
        self.folder = folder if folder is not None else profile_folder()
        self.on_done = on_done
        self.result = None
        self.lines: List[str] = []
        self.error_message = ""

    def _line(self, line: str) -> None:
        self.lines.append(line)
        for prefix, percent in _STAGES:
            if line.lstrip().startswith(prefix) and percent > self.progress():
                self.setProgress(percent)

    def run(self) -> bool:  # worker thread: no widgets here
        from ..core.deps import install
        from ..core.errors import SarcoregError

        try:
            self.result = install(self.packages, self.folder, on_line=self._line, is_canceled=self.isCanceled)
        except SarcoregError as exc:
            self.error_message = str(exc)
            return False
        except Exception as exc:  # a task must not raise into QGIS
            self.error_message = internal_error_message(exc)
            return False
        if not self.result.ok:
            self.error_message = self.result.message
        return self.result.ok

    def finished(self, ok: bool) -> None:  # main thread
        if ok:
            from ..core.deps import activate
            activate(self.folder)  # the worker thread added it; say so again here, harmlessly
        if self.on_done is not None:
            self.on_done(self)


class InstallProgress:
    """A message-bar item with a progress bar, for one install task."""

    def __init__(self, bar, task: DepsInstallTask) -> None:
        self.bar = bar
        self.item = bar.createMessage(TITLE, tr("installing {packages} into {folder} …").format(
            packages=", ".join(task.packages), folder=task.folder))
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setObjectName("sarcoregInstallProgress")
        self.item.layout().addWidget(self.progress)
        bar.pushWidget(self.item, Qgis.MessageLevel.Info)
        task.progressChanged.connect(lambda value: self.progress.setValue(int(value)))

    def close(self) -> None:
        try:
            self.bar.popWidget(self.item)
        except RuntimeError:  # the user closed it already
            pass


def start_install(bar, packages: Sequence[str], folder=None, on_done: Optional[Callable] = None) -> DepsInstallTask:
    """Start installing ``packages`` with progress in the message bar ``bar``; at the end the
    bar says what was installed where (or why not) and ``on_done(task)`` runs."""
    def done(task: DepsInstallTask) -> None:
        progress.close()
        if task.result is not None and task.result.ok:
            kept = ", ".join(task.result.installed) or ", ".join(task.packages)
            bar.pushMessage(TITLE, tr("installed {packages} into {folder} with QGIS's Python; nothing QGIS ships "
                                      "was changed").format(packages=kept, folder=task.folder),
                            Qgis.MessageLevel.Success, 15)
        else:
            bar.pushMessage(TITLE, tr("installing {packages} failed: {reason}").format(
                packages=", ".join(task.packages), reason=task.error_message or tr("cancelled")),
                Qgis.MessageLevel.Critical, 0)
        if on_done is not None:
            on_done(task)

    task = DepsInstallTask(packages, folder, on_done=done)
    progress = InstallProgress(bar, task)
    QgsApplication.taskManager().addTask(task)
    return task
