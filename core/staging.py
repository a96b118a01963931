"""Write outputs under temporary names and move them into place only when complete.

``atomic_file(path)`` writes one file: it opens a hidden temporary file beside ``path``,
and when the ``with`` block completes it flushes it to disk and renames it onto ``path``;
if the block raises anything (``KeyboardInterrupt`` and cancellation included) the
temporary file is removed and ``path`` is as it was.
``atomic_path(path)`` gives the same guarantee to a writer that wants a file name (an
exporter, a quantiser): it yields the temporary path and renames it onto ``path`` at the end.

``OutputStage(outdir, names, overwrite)`` refuses up front when any final name exists and
``overwrite`` is false (nothing is touched), creates a hidden staging folder inside
``outdir`` (so the final moves are renames on one file system), and ``commit()`` moves each
staged entry onto its final name.  If the job fails or is cancelled, ``discard()`` removes
the staging folder, and the output folders it created if they are left empty, so the final
names are as they were.  A full disk is reported as ``OutputError`` whatever raised it
(``OSError`` ENOSPC, or GDAL / SQLite errors about disk space).
"""
from __future__ import annotations

import errno
import os
import shutil
import sys
import tempfile
import traceback
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterable, Iterator, List

from .errors import OutputError, OutputExistsError, SarcoregError


@contextmanager
def atomic_file(path: os.PathLike, mode: str = "w", **open_options) -> Iterator[IO]:
    """Yield a file opened for writing (``mode`` "w" or "wb"; ``open_options`` as for
    ``open``) that becomes ``path`` only when the ``with`` block completes, so ``path`` is
    never half-written: a reader sees the old file or the new one, and a failure, an
    interrupt or a cancellation leaves the old one and no temporary file.

    The temporary file is a hidden name in the same folder (the final move is a rename on
    one file system) and gets the usual permissions of a new file.  When it cannot be
    created, ``OutputError`` says so; errors while writing reach the caller unchanged.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_file writes a whole new file: mode {mode!r} is not 'w' or 'wb'")
    path = Path(path)
    with atomic_path(path) as tmp:
        try:
            fh = open(tmp, "x" + mode[1:], **open_options)
        except OSError as exc:
            raise OutputError(f"{path.parent}: cannot write there ({exc.strerror}): choose a writable folder") from None
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())


@contextmanager
def atomic_path(path: os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` for a writer that wants a file name (an
    exporter, a quantiser, a zip archive); when the ``with`` block completes, the file
    written there replaces ``path`` in one rename. A failure, an interrupt or a cancellation
    leaves the old ``path`` and no temporary file (the same guarantee as ``atomic_file``)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        _remove_quietly(tmp)
        raise


def _remove_quietly(path: Path) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


class OutputStage:
    def __init__(self, outdir: os.PathLike, names: Iterable[str], overwrite: bool = False) -> None:
        self.outdir = Path(outdir)
        self.names = list(names)
        if self.outdir.exists() and not self.outdir.is_dir():
            raise OutputError(f"{self.outdir}: exists and is not a folder: choose another output folder")
        existing = [n for n in self.names if (self.outdir / n).exists()]
        if existing and not overwrite:
            raise OutputExistsError(
                f"{self.outdir}: already holds {', '.join(existing)}: pass --overwrite to replace "
                "them, or choose another output folder")
        # the folders this stage creates (deepest first), removed again by discard() if empty
        self._created: List[Path] = []
        folder = self.outdir.absolute()
        while not folder.exists() and folder != folder.parent:
            self._created.append(folder)
            folder = folder.parent
        try:
            self.outdir.mkdir(parents=True, exist_ok=True)
            self.path = Path(tempfile.mkdtemp(prefix=".sarcoreg-partial-", dir=self.outdir))
        except OSError as exc:
            raise OutputError(f"{self.outdir}: cannot write there ({exc.strerror}): choose a writable output folder") from None
        self._done = False

    def require_free(self, nbytes: int) -> None:
        """Refuse, before anything is written, when the disk has less than ``nbytes`` free: a
        write that fills the disk makes some libraries print their own errors (libtiff in GDAL
        >= 3.10), and the run would be lost after all the matching anyway."""
        try:
            st = os.statvfs(self.path)
        except (OSError, AttributeError):  # no statvfs (Windows): the write errors say it
            return
        free = st.f_bavail * st.f_frsize
        if free < nbytes:
            raise OutputError(
                f"{self.outdir}: the disk is full: the outputs need about {_size(nbytes)}, {_size(free)} "
                "is free: free some space and run again; nothing was written under a final name")

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    def commit(self) -> None:
        """Move every staged entry onto its final name (replacing old ones)."""
        for name in self.names:
            src = self.path / name
            if not src.exists():
                continue
            dst = self.outdir / name
            if dst.is_dir() and not dst.is_symlink():
                trash = self.outdir / f".sarcoreg-old-{uuid.uuid4().hex}"
                os.replace(dst, trash)
                os.replace(src, dst)
                shutil.rmtree(trash, ignore_errors=True)
            else:
                os.replace(src, dst)
        shutil.rmtree(self.path, ignore_errors=True)
        self._done = True

    def discard(self) -> None:
        if not self._done:
            shutil.rmtree(self.path, ignore_errors=True)
            for folder in self._created:
                try:
                    folder.rmdir()  # only when empty
                except OSError:
                    break
            self._done = True

    def __enter__(self) -> "OutputStage":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            full = _disk_full(exc, self.path)
            if full:
                _release_frames(tb)
            self.discard()
            if full:
                raise OutputError(f"{self.outdir}: the disk is full: free some space and run again; "
                                  "nothing was written under a final name") from None
        return False


def _size(nbytes: int) -> str:
    return f"{nbytes / 1e6:.1f} MB" if nbytes >= 100_000 else f"{nbytes / 1e3:.0f} kB"


_DISK_FULL_WORDS = ("no space left", "disk is full", "disk full", "free disk space", "quota exceeded")
_LOW_SPACE_BYTES = 1 << 20


def _disk_full(exc: BaseException, folder: Path) -> bool:
    """Whether ``exc`` comes from a full disk: ENOSPC/EDQUOT, a GDAL or SQLite message saying
    so, or a write error while less than 1 MiB is free in ``folder``."""
    if isinstance(exc, SarcoregError) or not isinstance(exc, (OSError, RuntimeError)):
        return False  # the engine's own errors already say what is wrong
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    if any(word in str(exc).lower() for word in _DISK_FULL_WORDS):
        return True
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < _LOW_SPACE_BYTES


def _release_frames(tb) -> None:
    """Drop the locals of the finished frames in ``tb`` so that writers left open by the
    failure (GDAL datasets) are closed now, before their files are removed; the errors
    they report while closing on a full disk are expected and kept off the terminal."""
    hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        traceback.clear_frames(tb)
    finally:
        sys.unraisablehook = hook
