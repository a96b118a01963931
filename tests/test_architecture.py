"""The layers stay in order, and only the registry names a matcher.

engine (``core/``) ← models (``models/``) ← front ends (``cli.py``, ``processing/``, ``ui/``,
``plugin.py``): no module imports a layer above its own, ``ui/`` never imports
``processing/``, and no module under ``core/``, ``ui/``, ``processing/`` (nor the command
line) names a specific matcher: names come from ``core.matchers`` (the registry, with the
matchers' own files under ``core/matchers/`` and ``core/dcdm/``). Read from the source with
``ast``, so the check covers imports made inside functions too.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "sarcoreg"

# what each part may not import (by top-level part of the package)
FORBIDDEN = {
    "core": {"models", "ui", "processing", "cli", "plugin", "compat", "__main__"},
    "models": {"ui", "processing", "cli", "plugin", "compat", "__main__"},
    "ui": {"processing", "cli", "__main__"},
    "processing": {"cli", "__main__"},
}
# where a matcher may be named: the registry and the matchers' own files
MATCHER_HOMES = ("core/matchers/", "core/dcdm/")
NAMING_CHECKED = ("core/", "ui/", "processing/", "cli.py", "plugin.py")


def _modules() -> Iterator[Tuple[str, Path]]:
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.split("/")[0] in ("tests", "scripts", "build", "resources") or rel.startswith("."):
            continue
        yield rel, path


def _part(rel: str) -> str:
    return rel.split("/")[0].removesuffix(".py")


def _imported_parts(rel: str, tree: ast.AST) -> List[Tuple[int, str]]:
    """``(line, part)`` for every import of a part of this package (absolute or relative)."""
    here = rel.removesuffix(".py").split("/")
    if here[-1] == "__init__":
        here = here[:-1] + ["_"]          # a package's relative imports start from the package itself
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - node.level]
                target = base + (node.module.split(".") if node.module else [])
                if not target:                  # ``from .. import x`` at the root: x is a part
                    found += [(node.lineno, a.name) for a in node.names]
                    continue
            elif node.module and node.module.split(".")[0] == PACKAGE:
                target = node.module.split(".")[1:]
                if not target:
                    found += [(node.lineno, a.name) for a in node.names]
                    continue
            else:
                continue
            found.append((node.lineno, target[0]))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name.split(".")[1]) for a in node.names
                      if a.name.startswith(PACKAGE + ".")]
    return found


def test_no_import_runs_back_up_the_layers():
    wrong = []
    checked = 0
    for rel, path in _modules():
        banned = FORBIDDEN.get(_part(rel), set())
        tree = ast.parse(path.read_text(encoding="utf-8"), rel)
        for line, part in _imported_parts(rel, tree):
            checked += 1
            if part in banned:
                wrong.append(f"{rel}:{line} imports {part}")
    assert checked > 100, "the import scan found too few imports: is it reading the package?"
    assert not wrong, "imports against the layers (engine <- models <- front ends):\n" + "\n".join(wrong)


def test_the_scan_sees_relative_imports():
    """The rule above would pass vacuously if relative imports were misread."""
    tree = ast.parse("from ..processing.algorithms import x\nfrom .. import cli\nfrom .base import y\n")
    assert [p for _, p in _imported_parts("ui/dock.py", tree)] == ["processing", "cli", "ui"]
    tree = ast.parse("from .matchers import get_matcher\nfrom ..models.commands import register\n")
    assert [p for _, p in _imported_parts("core/__init__.py", tree)] == ["core", "models"]


def _docstrings(tree: ast.AST) -> set:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def _named_matchers(source: str, rel: str, names) -> List[str]:
    tree = ast.parse(source, rel)
    skip = _docstrings(tree)
    word = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            for m in word.finditer(node.value):
                hits.append(f"{rel}:{node.lineno} names {m.group(1)!r} in {node.value[:60]!r}")
    return hits


def test_only_the_registry_names_a_matcher():
    from sarcoreg.core.matchers import matcher_names

    names = matcher_names(include_unavailable=True)
    assert {"cfog", "mind", "zncc"} <= set(names)
    hits, checked = [], 0
    for rel, path in _modules():
        if not rel.startswith(NAMING_CHECKED) or rel.startswith(MATCHER_HOMES):
            continue
        checked += 1
        hits += _named_matchers(path.read_text(encoding="utf-8"), rel, names)
    assert checked > 40
    assert not hits, "name matchers through core.matchers (its registry entries), not here:\n" + "\n".join(hits)


def test_the_naming_check_catches_a_special_case():
    source = '"""The dcdm docstring may mention dcdm."""\nif name == "dcdm":\n    pass\n'
    assert len(_named_matchers(source, "ui/x.py", ["dcdm"])) == 1


@pytest.mark.parametrize("name", ["architecture.md"])
def test_the_architecture_page_shows_the_layers(name):
    page = (ROOT / "docs" / name).read_text(encoding="utf-8")
    picture = re.search(r"!\[[^\]]*\]\(([^)]+)\)", page)
    assert picture and (ROOT / "docs" / picture.group(1)).is_file(), "docs/architecture.md needs its picture"
    for part in ("core/", "models/", "cli.py", "processing/", "ui/"):
        assert part in page, part
