"""One root for every error the engine raises on purpose.

Each error also inherits the built-in kind it resembles, so callers that only know
``ValueError`` or ``OSError`` still catch it.  Messages are one line: what is wrong, with
the offending value, and what to do next.
"""


def one_line(message: object) -> str:
    """``message`` on one line, its lines joined by spaces: GDAL >= 3.10 chains causes with
    line breaks ("... failed.\nMay be caused by: ZIPDecode: ..."), a path may hold one."""
    parts = [p.strip() for p in str(message).splitlines()]
    return " ".join(p for p in parts if p)


class SarcoregError(Exception):
    """Root of all sarcoreg errors; its message is always one line."""

    def __str__(self) -> str:
        return one_line(super().__str__())


class InputError(SarcoregError, ValueError):
    """The user's input cannot be used (bad file, bad option, no overlap, ...). Exit code 2."""


class RasterReadError(InputError, OSError):
    """A raster cannot be opened or read."""


class OverlapError(InputError):
    """The two scenes do not overlap enough to lay a single window."""


class OutputExistsError(InputError, FileExistsError):
    """An output exists and ``overwrite`` was not requested."""


class OutputError(InputError, OSError):
    """An output cannot be written (unwritable folder, full disk, ...)."""


class ModelError(SarcoregError, RuntimeError):
    """A model file is missing, invalid or does not match the engine's contract."""


class CancelledError(SarcoregError):
    """The user cancelled a running job; nothing was left under a final name."""


class ShapeError(SarcoregError, ValueError):
    """An array passed to a numeric kernel has the wrong shape or dtype."""
