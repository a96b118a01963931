"""Write outputs under temporary names and move them into place only when complete.

``OutputStage(outdir, names, overwrite)`` refuses up front when any final name exists and
``overwrite`` is false (nothing is touched), creates a hidden staging folder inside
``outdir`` (so the final moves are renames on one file system), and ``commit()`` moves each
staged entry onto its final name.  If the job fails or is cancelled, ``discard()`` removes
the staging folder and the final names are as they were.
"""
from __future__ import annotations

import errno
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Iterable

from .errors import OutputError, OutputExistsError


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
        try:
            self.outdir.mkdir(parents=True, exist_ok=True)
            self.path = Path(tempfile.mkdtemp(prefix=".sarcoreg-partial-", dir=self.outdir))
        except OSError as exc:
            raise OutputError(f"{self.outdir}: cannot write there ({exc.strerror}): choose a writable output folder") from None
        self._done = False

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
            self._done = True

    def __enter__(self) -> "OutputStage":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            self.discard()
            if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
                raise OutputError(f"{self.outdir}: the disk is full: free some space and run again; "
                                  "nothing was written under a final name") from None
        return False
