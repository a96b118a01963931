#!/usr/bin/env python3
"""Check the plugin's Python files for PyQt5-only code that breaks on QGIS 4 (Qt6/PyQt6).

Prints ``file:line: message`` for each finding and exits 1 when there is any (0 when clean):

- Qt imported other than through ``qgis.PyQt`` (``PyQt5``, ``PyQt6``, ``sip``);
- ``exec_()`` / ``print_()`` (PyQt6 has only ``exec()`` / ``print()``);
- ``QRegExp`` / ``QRegExpValidator`` (removed in Qt6: ``QRegularExpression``);
- ``QVariant`` type names (``QVariant.Int``, ``QVariant.String``, ...; use ``QMetaType``);
- enum members not reached through their enum (``Qt.AlignLeft`` instead of
  ``Qt.AlignmentFlag.AlignLeft``, ``QImage.Format_RGB888`` instead of
  ``QImage.Format.Format_RGB888``, ``Qgis.Warning`` instead of ``Qgis.MessageLevel.Warning``):
  PyQt6 has only the scoped form, and PyQt5 / QGIS 3.22 accept it too;
- compiled Qt resources (``*.qrc``, ``resources_rc`` modules, ``":/..."`` resource paths).

The QGIS project has its own migration script (``scripts/pyqt5_to_pyqt6`` in the qgis/QGIS
repository), but CI reaches only package registries, not GitHub, so it cannot be fetched
there; this is our own, smaller check of the same rules, run by tests/test_qt6_ready.py.

    python3 scripts/check_qt6.py [PATH ...]     (default: the plugin, without tests/scripts)
"""
from __future__ import annotations

import ast
import io
import sys
import tokenize
import warnings
from pathlib import Path
from typing import Iterator, List, Tuple

REPO_ROOT = Path(__file__).resolve().parents[1]
SKIP_DIRS = {"tests", "scripts", "docs", "build", "dist", "__pycache__"}

QT_BINDINGS = ("PyQt4", "PyQt5", "PyQt6", "sip", "PySide2", "PySide6")
REMOVED_NAMES = {"QRegExp": "QRegularExpression", "QRegExpValidator": "QRegularExpressionValidator"}
RENAMED_METHODS = {"exec_": "exec", "print_": "print"}
# Class attributes that start with a capital letter but are not enum members.
NOT_ENUM_MEMBERS = {"TEMPORARY_OUTPUT"}


def _is_qt_or_qgis_class(name: str) -> bool:
    """``Qt``, ``QImage``, ``Qgis``, ``QgsTask``, ... (not the modules ``QtCore``, ``QtGui``)."""
    if name in ("Qt", "Qgis"):
        return True
    if name.startswith("Qgs") and len(name) > 3 and name[3].isupper():
        return True
    return len(name) > 1 and name[0] == "Q" and name[1].isupper()


def _unscoped_enums(source: str) -> Iterator[Tuple[int, str]]:
    """``Class.Member`` in code (not strings or comments) where ``Member`` is capitalised
    and neither called nor followed by another ``.``: an enum member reached through its
    class instead of through its enum."""
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(source).readline)
              if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT,
                                tokenize.DEDENT)]
    for i in range(len(tokens) - 2):
        owner, dot, member = tokens[i], tokens[i + 1], tokens[i + 2]
        if owner.type != tokenize.NAME or dot.string != "." or member.type != tokenize.NAME:
            continue
        if i > 0 and tokens[i - 1].string == ".":
            continue  # Qt reached as a module attribute (QtCore.Qt.X) is checked from Qt
        if not _is_qt_or_qgis_class(owner.string) or not member.string[:1].isupper():
            continue
        if member.string in NOT_ENUM_MEMBERS:
            continue
        after = tokens[i + 3].string if i + 3 < len(tokens) else ""
        if after in (".", "("):
            continue  # Qt.AlignmentFlag.AlignLeft, or a nested class / function called
        if owner.string == "QVariant":
            yield owner.start[0], (f"QVariant.{member.string}: QVariant type names are gone in PyQt6; "
                                   "use QMetaType.Type (QGIS >= 3.38) with a fallback for older QGIS")
            continue
        yield owner.start[0], (f"{owner.string}.{member.string}: reach the enum member through its enum "
                               f"({owner.string}.<EnumName>.{member.string}); PyQt6 has only that form")


def check_source(source: str, filename: str = "<source>") -> List[str]:
    """The findings for one file's ``source``, as ``filename:line: message``."""
    found: List[Tuple[int, str]] = []
    try:
        with warnings.catch_warnings():  # e.g. invalid escape sequences: not this check's business
            warnings.simplefilter("ignore")
            tree = ast.parse(source, filename)
    except SyntaxError as exc:
        return [f"{filename}:{exc.lineno}: cannot parse: {exc.msg}"]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in QT_BINDINGS:
                    found.append((node.lineno, f"import {alias.name}: import Qt from qgis.PyQt"))
                if alias.name.split(".")[-1].endswith("resources_rc"):
                    found.append((node.lineno, f"import {alias.name}: compiled Qt resources; load files by path"))
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module.split(".")[0] in QT_BINDINGS:
                found.append((node.lineno, f"from {module} import ...: import Qt from qgis.PyQt"))
            if module == "qgis.PyQt" and any(a.name == "sip" for a in node.names):
                pass  # qgis.PyQt.sip is the portable way
            names = [module.split(".")[-1]] + [a.name for a in node.names]
            if any(n.endswith("resources_rc") for n in names):
                found.append((node.lineno, "resources_rc: compiled Qt resources; load files by path"))
            for alias in node.names:
                if alias.name in REMOVED_NAMES:
                    found.append((node.lineno, f"{alias.name}: removed in Qt6; use {REMOVED_NAMES[alias.name]}"))
        elif isinstance(node, ast.Attribute) and node.attr in RENAMED_METHODS:
            found.append((node.lineno, f".{node.attr}(): PyQt6 has only .{RENAMED_METHODS[node.attr]}()"))
        elif isinstance(node, ast.Name) and node.id in REMOVED_NAMES:
            found.append((node.lineno, f"{node.id}: removed in Qt6; use {REMOVED_NAMES[node.id]}"))
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and node.value.startswith(":/") and len(node.value) > 2):
            found.append((node.lineno, f"{node.value!r}: a compiled-resource path; load files by path"))
    found.extend(_unscoped_enums(source))
    return [f"{filename}:{line}: {message}" for line, message in sorted(set(found))]


def plugin_files(root: Path = REPO_ROOT) -> List[Path]:
    """The plugin's ``.py`` files (what the release zip ships), sorted."""
    files = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if any(part in SKIP_DIRS or part.startswith(".") for part in rel.parts[:-1]):
            continue
        files.append(path)
    return files


def resource_files(root: Path = REPO_ROOT) -> List[str]:
    """Compiled-resource sources or outputs anywhere in the plugin."""
    return [f"{p.relative_to(root)}:1: compiled Qt resources; ship the files and load them by path"
            for pattern in ("*.qrc", "*_rc.py", "*.rcc")
            for p in sorted(root.rglob(pattern))
            if not any(part.startswith(".") or part in SKIP_DIRS for part in p.relative_to(root).parts[:-1])]


def check_paths(paths: List[Path], root: Path = REPO_ROOT) -> List[str]:
    findings = []
    for path in paths:
        try:
            name = str(path.relative_to(root))
        except ValueError:
            name = str(path)
        findings.extend(check_source(path.read_text(encoding="utf-8"), name))
    return findings


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args:
        paths = [p for a in args for p in ([Path(a)] if Path(a).is_file() else sorted(Path(a).rglob("*.py")))]
        findings = check_paths([p.resolve() for p in paths])
    else:
        findings = check_paths(plugin_files()) + resource_files()
    for line in findings:
        print(line)
    if findings:
        print(f"check_qt6: {len(findings)} finding(s)", file=sys.stderr)
        return 1
    print(f"check_qt6: clean ({len(plugin_files()) if not args else len(paths)} files)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
