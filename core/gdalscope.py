"""GDAL settings scoped to the engine's own calls: the engine is a guest in QGIS's process.

QGIS, other plugins and the user's console share one GDAL. Importing sarcoreg changes none
of GDAL's process-wide settings (exception mode, error handler, block cache, configuration
options); instead every engine entry point runs inside ``gdal_scope()``:

- a *thread-local* error handler is pushed for the duration (``gdal.PushErrorHandler``):
  GDAL's warnings reach the ``sarcoreg.gdal`` logger once per distinct message per process
  (GDAL repeats some, e.g. a CRS remark, for every dataset a window thread opens), its
  failures are kept for the engine's one-line errors and never printed by GDAL itself;
- GDAL's Python exceptions are turned on for this thread only (GDAL >= 3.7:
  ``_SetExceptionsLocal``) and the previous state is restored on exit. With GDAL < 3.7 the
  exception mode of ``osgeo.gdal/ogr/osr`` is one flag per module for the whole process:
  it is switched on while at least one engine scope is open and back off when the last one
  closes, so it is the same before and after every engine call.

Scopes nest (only the outermost one of a thread does anything) and are cheap, so small
functions such as ``SceneSource.read`` take one themselves. The command line, which owns
its process, additionally installs ``install_cli_handler()``.
"""
from __future__ import annotations

import contextlib
import functools
import logging
import threading
from typing import Callable, List, TypeVar

from osgeo import gdal, ogr, osr

from .errors import one_line

log = logging.getLogger("sarcoreg.gdal")

F = TypeVar("F", bound=Callable)

_THREAD_LOCAL_EXCEPTIONS = hasattr(gdal, "_SetExceptionsLocal")
_MAX_REMEMBERED = 1000


class _Messages:
    """What GDAL said inside engine scopes; warnings are logged once per distinct text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._warned: set = set()

    def warn_once(self, text: str) -> None:
        with self._lock:
            if text in self._warned:
                return
            if len(self._warned) < _MAX_REMEMBERED:
                self._warned.add(text)
        log.warning("%s", text)

    def forget(self) -> None:
        with self._lock:
            self._warned.clear()


MESSAGES = _Messages()
_local = threading.local()


def _state():
    st = getattr(_local, "state", None)
    if st is None:
        st = _local.state = {"depth": 0, "failures": [], "restore": None}
    return st


def _handler(err_class, err_no, message) -> None:
    """The thread-local GDAL error handler of an engine scope (never raises, never prints)."""
    try:
        text = one_line(message)
        if err_class in (gdal.CE_Failure, gdal.CE_Fatal):
            failures = _state()["failures"]
            if len(failures) >= 20:
                del failures[0]
            failures.append(text)
            log.debug("GDAL error %s: %s", err_no, text)
        elif err_class == gdal.CE_Warning:
            MESSAGES.warn_once(text)
        else:
            log.debug("%s", text)
    except Exception:  # pragma: no cover - an error handler must not raise into GDAL
        pass


def last_failure() -> str:
    """GDAL's last failure message in this thread's engine scope ('' when none)."""
    failures = _state()["failures"]
    return failures[-1] if failures else ""


# ---------------------------------------------------------------- exception mode

_MODULES = (gdal, ogr, osr)
_global_lock = threading.Lock()
_global_users = 0
_global_switched: List = []
_CHAIN_OPTION = "__chain_python_error_handlers"  # where GDAL < 3.7 records the switches
_global_chain: List = []


def _array_module():
    try:
        from osgeo import gdal_array
    except ImportError:  # pragma: no cover - numpy support is part of python3-gdal
        return None
    return gdal_array if hasattr(gdal_array, "_SetExceptionsLocal") else None


def _exceptions_on() -> Callable[[], None]:
    """Turn GDAL's Python exceptions on for this thread (or, GDAL < 3.7, while any engine
    scope is open); returns the function that restores the previous state."""
    global _global_users
    if _THREAD_LOCAL_EXCEPTIONS:
        modules = [m for m in (*_MODULES, _array_module()) if m is not None]
        saved = [(m, m._GetExceptionsLocal()) for m in modules]
        for m in modules:
            m._SetExceptionsLocal(1)

        def restore() -> None:
            gdal.ErrorReset()  # some GDAL versions re-raise a pending error when switching
            for m, value in saved:
                try:
                    m._SetExceptionsLocal(value)
                except RuntimeError:  # pragma: no cover - see above
                    pass
        return restore

    with _global_lock:
        if _global_users == 0:
            _global_chain[:] = [gdal.GetConfigOption(_CHAIN_OPTION)]
            _global_switched[:] = [m for m in _MODULES if not m.GetUseExceptions()]
            for m in _global_switched:
                m.UseExceptions()
        _global_users += 1

    def restore_global() -> None:
        global _global_users
        with _global_lock:
            _global_users -= 1
            if _global_users == 0:
                # GDAL < 3.7 chains these handlers: switch off in the reverse order
                for m in reversed(_global_switched):
                    try:
                        m.DontUseExceptions()
                    except RuntimeError:  # someone else switched it on meanwhile: theirs now
                        gdal.ErrorReset()
                        _global_chain[:] = []
                # switching off leaves "" where the option was unset: unset it again
                if _global_chain and gdal.GetConfigOption(_CHAIN_OPTION) in ("", None):
                    gdal.SetConfigOption(_CHAIN_OPTION, _global_chain[0])
                _global_switched.clear()
                _global_chain.clear()
    return restore_global


@contextlib.contextmanager
def gdal_scope():
    """Run the block with the engine's GDAL settings (see the module docstring)."""
    st = _state()
    if st["depth"]:
        st["depth"] += 1
        try:
            yield
        finally:
            st["depth"] -= 1
        return
    gdal.PushErrorHandler(_handler)
    st["depth"] = 1
    st["failures"] = []
    restore = None
    try:
        restore = _exceptions_on()
        yield
    finally:
        st["depth"] = 0
        try:
            if restore is not None:
                restore()
        finally:
            gdal.PopErrorHandler()


def scoped(func: F) -> F:
    """Decorator: run ``func`` inside ``gdal_scope()``."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with gdal_scope():
            return func(*args, **kwargs)
    return wrapper  # type: ignore[return-value]


def install_cli_handler() -> None:
    """For the command line only (it owns its process): GDAL messages from outside engine
    scopes (e.g. datasets closed by the garbage collector) go the same way as inside them."""
    gdal.SetErrorHandler(_handler)
