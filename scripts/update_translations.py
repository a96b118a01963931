#!/usr/bin/env python3
"""Update the translation catalogs i18n/sarcoreg_<lang>.ts from the code, compile the .qm.

1. Every string passed to ``tr(...)`` in ``plugin.py``, ``ui/`` and ``processing/`` is read
   with Python's ``ast`` (no Qt tool is needed). A ``tr()`` whose argument is not one literal
   string is an error (exit status 1, nothing written): a catalog cannot hold it. Format a
   translated template instead: ``tr("into {folder}").format(folder=path)``.
2. Each catalog (Qt Linguist's TS format, one context ``sarcoreg``) keeps its translations,
   gets the new strings as unfinished, and marks obsolete the strings the code no longer
   uses (an obsolete string that comes back gets its translation back).
3. ``lrelease`` (Qt's Linguist tools; or the program in ``$LRELEASE``) compiles every
   catalog to the ``.qm`` QGIS loads, when it is installed. Commit both files.

    python3 scripts/update_translations.py [--add LANG]    (LANG: de, es, it, pt, ...)
"""
from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple
from xml.sax.saxutils import escape, quoteattr

REPO_ROOT = Path(__file__).resolve().parents[1]
I18N_DIR = REPO_ROOT / "i18n"
SOURCES = ("plugin.py", "ui", "processing")
CONTEXT = "sarcoreg"
LRELEASE_NAMES = ("lrelease", "lrelease-qt5", "lrelease-qt6")
UNFINISHED, OBSOLETE = "unfinished", "obsolete"


@dataclass
class Message:
    """One string of a catalog: its translation, its state ('' when finished) and where the
    code uses it (``(path relative to the repository, line)``)."""
    source: str
    translation: str = ""
    state: str = UNFINISHED
    locations: List[Tuple[str, int]] = field(default_factory=list)


def source_files(root: Path = REPO_ROOT) -> List[Path]:
    """The Python files whose ``tr()`` strings the catalogs hold."""
    files: List[Path] = []
    for name in SOURCES:
        path = root / name
        files.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return files


def tr_strings(code: str, filename: str) -> Tuple[List[Tuple[str, int]], List[str]]:
    """``(text, line)`` of every ``tr("...")`` call in ``code``, in the order of the code, and
    one ``file:line: ...`` error for each ``tr()`` whose argument is not one literal string."""
    found, errors = [], []
    calls = [node for node in ast.walk(ast.parse(code, filename)) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Name) and node.func.id == "tr"]
    for call in sorted(calls, key=lambda c: (c.lineno, c.col_offset)):
        args = call.args
        if len(args) == 1 and not call.keywords and isinstance(args[0], ast.Constant) \
                and isinstance(args[0].value, str):
            found.append((args[0].value, call.lineno))
        else:
            errors.append(f"{filename}:{call.lineno}: tr() takes one literal string, not {ast.unparse(call)}")
    return found, errors


def extract(root: Path = REPO_ROOT) -> Tuple[Dict[str, List[Tuple[str, int]]], List[str]]:
    """Every ``tr()`` string of the plugin with its locations (first use first), and the errors."""
    strings: Dict[str, List[Tuple[str, int]]] = {}
    errors: List[str] = []
    for path in source_files(root):
        rel = path.relative_to(root).as_posix()
        found, bad = tr_strings(path.read_text(encoding="utf-8"), rel)
        errors.extend(bad)
        for text, line in found:
            strings.setdefault(text, []).append((rel, line))
    return strings, errors


def read_catalog(path: Path) -> Tuple[str, Dict[str, Message]]:
    """The language and the messages (context ``sarcoreg``) of a TS file."""
    ts = ET.parse(path).getroot()
    messages: Dict[str, Message] = {}
    for context in ts.iter("context"):
        if context.findtext("name") != CONTEXT:
            continue
        for element in context.iter("message"):
            translation = element.find("translation")
            source = element.findtext("source") or ""
            if translation is None:
                messages[source] = Message(source)
                continue
            state = translation.get("type", "")
            # lupdate calls a string the code no longer uses "vanished"
            messages[source] = Message(source, translation.text or "", OBSOLETE if state == "vanished" else state)
    return ts.get("language", ""), messages


def write_catalog(path: Path, language: str, messages: List[Message]) -> None:
    """Write a TS file as Qt Linguist writes it (locations relative to the file)."""
    lines = ['<?xml version="1.0" encoding="utf-8"?>', "<!DOCTYPE TS>",
             f'<TS version="2.1" language={quoteattr(language)} sourcelanguage="en">', "<context>",
             f"    <name>{CONTEXT}</name>"]
    for m in messages:
        lines.append("    <message>")
        for rel, line in m.locations:
            where = os.path.relpath(REPO_ROOT / rel, path.parent).replace(os.sep, "/")
            lines.append(f"        <location filename={quoteattr(where)} line=\"{line}\"/>")
        lines.append(f"        <source>{escape(m.source)}</source>")
        state = f' type="{m.state}"' if m.state else ""
        lines.append(f"        <translation{state}>{escape(m.translation)}</translation>")
        lines.append("    </message>")
    lines += ["</context>", "</TS>", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def merge(old: Dict[str, Message], strings: Dict[str, List[Tuple[str, int]]]) -> Tuple[List[Message], dict]:
    """The catalog's messages for the code's strings (code order, then the obsolete ones)
    and how many are new, newly obsolete and unfinished."""
    counts = {"new": 0, "obsolete": 0, "unfinished": 0}
    merged = []
    for text, locations in strings.items():
        m = old.get(text)
        if m is None:
            m = Message(text)
            counts["new"] += 1
        elif m.state == OBSOLETE:
            m.state = "" if m.translation else UNFINISHED
        m.locations = locations
        counts["unfinished"] += m.state == UNFINISHED
        merged.append(m)
    for text, m in old.items():
        if text not in strings:
            counts["obsolete"] += m.state != OBSOLETE
            m.state, m.locations = OBSOLETE, []
            merged.append(m)
    return merged, counts


def find_lrelease() -> Optional[str]:
    """Qt's catalog compiler, when installed."""
    return os.environ.get("LRELEASE") or next(filter(None, map(shutil.which, LRELEASE_NAMES)), None)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--add", metavar="LANG", help="start the catalog of a new language (e.g. de)")
    args = parser.parse_args(argv)

    strings, errors = extract()
    for error in errors:
        print(error, file=sys.stderr)
    if errors:
        print(f"{len(errors)} tr() call(s) without a literal string: no catalog was changed", file=sys.stderr)
        return 1
    print(f"{len(strings)} strings passed to tr() in {', '.join(SOURCES)}")
    I18N_DIR.mkdir(exist_ok=True)
    if args.add:
        new = I18N_DIR / f"sarcoreg_{args.add}.ts"
        if not new.exists():
            write_catalog(new, args.add, [])
            print(f"started {new.relative_to(REPO_ROOT)}")
    catalogs = sorted(I18N_DIR.glob("sarcoreg_*.ts"))
    for path in catalogs:
        language, old = read_catalog(path)
        messages, counts = merge(old, strings)
        write_catalog(path, language, messages)
        print(f"{path.relative_to(REPO_ROOT)}: {counts['new']} new, {counts['obsolete']} newly obsolete, "
              f"{counts['unfinished']} unfinished")
    lrelease = find_lrelease()
    if lrelease is None:
        print("lrelease (Qt Linguist tools) not found: the .qm files were not compiled")
        return 0
    for path in catalogs:
        qm = path.with_suffix(".qm")
        subprocess.run([lrelease, "-silent", str(path), "-qm", str(qm)], check=True)
        print(f"compiled {qm.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
