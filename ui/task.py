"""The background task of the dock: one ``core.coregister`` run in a ``QgsTask``.

``run()`` executes in a worker thread and never touches a widget: it gets plain paths and a
``CoregConfig``, reports through ``TaskFeedback`` (``setProgress`` / ``isCanceled``), and
keeps the result or the error. ``finished()`` runs in the main thread and hands them to the
``on_done`` callback, which may update the GUI.
"""
from __future__ import annotations

import logging
from typing import Callable, Optional

from qgis.core import QgsTask

from .i18n import tr

log = logging.getLogger("sarcoreg.ui")


def cancelled_message() -> str:
    """The line of a cancelled run."""
    return tr("cancelled: no output was written under a final name")


def internal_error_message(exc: BaseException) -> str:
    """The message bar's line for an unexpected exception."""
    return tr("internal error: {kind}: {error}").format(kind=type(exc).__name__, error=exc)


class TaskFeedback:
    """Engine ``Feedback`` for a ``QgsTask``: progress and cancel go through the task."""

    def __init__(self, task: QgsTask) -> None:
        self._task = task
        self.messages: list = []

    def set_progress(self, percent: float) -> None:
        self._task.setProgress(float(percent))

    def is_canceled(self) -> bool:
        return self._task.isCanceled()

    def info(self, message: str) -> None:
        self.messages.append(message)
        log.info(message)


class CoregTask(QgsTask):
    """Co-register ``sar`` onto ``optical`` into ``outdir``.

    After ``finished``: ``result`` is the ``CoregResult`` on success; otherwise ``error``
    is the exception (``CancelledError`` when cancelled) and ``error_message`` its line.
    ``on_done(task)`` is called in the main thread either way.
    """

    def __init__(self, optical: str, sar: str, outdir: str, config, overwrite: bool = False,
                 on_done: Optional[Callable[["CoregTask"], None]] = None) -> None:
        super().__init__(tr("sarcoreg: co-register into {folder}").format(folder=outdir), QgsTask.Flag.CanCancel)
        self.optical, self.sar, self.outdir = optical, sar, outdir
        self.config = config
        self.overwrite = overwrite
        self.on_done = on_done
        self.result = None
        self.error: Optional[BaseException] = None
        self.error_message = ""
        self.cancelled = False
        self.feedback = TaskFeedback(self)

    def run(self) -> bool:  # worker thread: no widgets here
        from ..core.coregister import coregister
        from ..core.errors import CancelledError, SarcoregError

        try:
            self.result = coregister(self.optical, self.sar, self.outdir, self.config, self.feedback,
                                     overwrite=self.overwrite)
            return True
        except CancelledError as exc:
            self.cancelled = True
            self.error, self.error_message = exc, cancelled_message()
        except SarcoregError as exc:
            self.error, self.error_message = exc, str(exc)
        except Exception as exc:  # an internal error: keep it for the message bar and the log
            log.exception("co-registration failed")
            self.error, self.error_message = exc, internal_error_message(exc)
        finally:
            from ..core.raster import close_thread_datasets
            close_thread_datasets()
        if self.isCanceled():
            self.cancelled = True
            self.error_message = cancelled_message()
        return False

    def cancel(self) -> None:
        self.cancelled = True
        super().cancel()

    def finished(self, ok: bool) -> None:  # main thread
        if not ok and not self.error_message:
            self.cancelled = self.cancelled or self.isCanceled()
            self.error_message = (cancelled_message() if self.cancelled
                                  else tr("the co-registration stopped without a result"))
        if self.on_done is not None:
            self.on_done(self)
