"""Making an installed package look absent to this process, for one test.

A finder placed first on ``sys.meta_path`` refuses the packages (and their sub-modules), and
the packages themselves, when already imported, are taken out of ``sys.modules`` for the test
(their sub-modules stay, for whatever still runs on them); ``monkeypatch`` puts both back.
Packages installed later into one of ``except_in`` (a dependency folder) are found again
there once that folder is on ``sys.path``, as when a user installs them from the dock.
"""
from __future__ import annotations

import importlib
import importlib.machinery
import os
import sys
from typing import Iterable, Sequence


class HiddenPackages:
    """A ``sys.meta_path`` finder that hides ``names`` except from the folders ``except_in``."""

    def __init__(self, names: Iterable[str], except_in: Sequence = ()) -> None:
        self.names = set(names)
        self.except_in = [os.fspath(f) for f in except_in]

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] not in self.names:
            return None
        if "." not in fullname:
            folders = [f for f in self.except_in if f in sys.path]
            spec = importlib.machinery.PathFinder.find_spec(fullname, folders) if folders else None
            if spec is not None:
                return spec
        elif path and all(any(os.fspath(p).startswith(f) for f in self.except_in) for p in path):
            return None  # a sub-module of a copy in an allowed folder: the usual finders load it
        raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)


def hide_packages(monkeypatch, names: Iterable[str], except_in: Sequence = ()) -> HiddenPackages:
    """Hide ``names`` from imports for the rest of the test (see the module docstring)."""
    names = set(names)
    for name in names:
        monkeypatch.delitem(sys.modules, name, raising=False)
    finder = HiddenPackages(names, except_in)
    monkeypatch.setattr(sys, "meta_path", [finder, *sys.meta_path])
    importlib.invalidate_caches()
    return finder
