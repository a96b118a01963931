#!/usr/bin/env python3
"""Build the QGIS plugin release archive ``build/sarcoreg-<version>.zip`` and check it
against the QGIS plugin repository's rules.

The archive holds one folder, ``sarcoreg/``, as QGIS's "Install from ZIP" and the plugin
repository expect: the package (``__init__.py``, ``plugin.py``, ``compat.py``,
``metadata.txt``, ``core/``, ``processing/``, ``ui/``), ``resources/`` (icons, styles,
help, the demo pair) and the shipped ONNX model (``models/onnx/*.onnx``, with
``models/MODEL_CARD.md``). Left out: tests, scripts, docs, caches, virtual environments,
build outputs, version-control files, and the model's training code (``models/dcdm/``,
``models/commands.py``: torch, used by ``sarcoreg train`` / ``export-onnx`` from a
checkout; nothing the plugin runs in QGIS imports it).

Checks (exit status 1 and one line each when one fails): the archive is under 25 MB,
holds no compiled binaries (native libraries, executables, Python bytecode), and holds the
files QGIS needs (``metadata.txt``, the plugin's entry point, the icon, the ONNX model).
The Bandit and detect-secrets scans the repository runs are in tests/test_package.py.

    python3 scripts/package_plugin.py [--output DIR]
"""
from __future__ import annotations

import argparse
import configparser
import fnmatch
import sys
import zipfile
from pathlib import Path
from typing import List

REPO_ROOT = Path(__file__).resolve().parent.parent
PLUGIN_NAME = "sarcoreg"
MAX_BYTES = 25 * 1000 * 1000  # the plugin repository's limit (25 MB)
TOP_LEVEL = ("__init__.py", "__main__.py", "plugin.py", "cli.py", "compat.py", "metadata.txt", "LICENSE",
             "README.md", "core", "processing", "ui", "models", "resources", "i18n")
EXCLUDED_NAMES = ("__pycache__", "*.pyc", "*.pyo", ".*", "*.egg-info", "*.aux.xml", "build", "dist",
                  "tests", "checkpoints", "runs", "*.ckpt", "*.pt", "*.pth", "dask-worker-space",
                  "dask-scratch-space", "*.onnx.data",
                  # translation sources: the plugin loads the compiled catalogs (*.qm) only
                  "*.ts",
                  # the parity gate's report (checksums): each variant carries its verdict in its metadata
                  "parity_gate.json")
# Training code: needs torch, runs only from a checkout (`sarcoreg train`, `export-onnx`).
EXCLUDED_PATHS = ("models/dcdm", "models/commands.py", "models/checkpoints")
REQUIRED = ("metadata.txt", "__init__.py", "plugin.py", "resources/icon.svg", "models/onnx/dcdm_unrolled.onnx")
BINARY_SUFFIXES = (".so", ".pyd", ".dll", ".dylib", ".exe", ".pyc", ".pyo", ".a", ".o", ".lib", ".obj",
                   ".class", ".jar", ".bin", ".msi", ".whl", ".egg")
# Magic numbers of compiled code: ELF, PE/COFF ("MZ"), Mach-O (32/64, both byte orders,
# universal), Python bytecode is caught by its suffix, Java classes by 0xCAFEBABE.
BINARY_MAGIC = (b"\x7fELF", b"MZ", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe",
                b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")


def plugin_version() -> str:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO_ROOT / "metadata.txt", encoding="utf-8")
    return parser["general"]["version"]


def excluded(path: Path) -> bool:
    rel = path.relative_to(REPO_ROOT)
    if any(rel.as_posix() == p or rel.as_posix().startswith(p + "/") for p in EXCLUDED_PATHS):
        return True
    return any(fnmatch.fnmatch(part, pattern) for part in rel.parts for pattern in EXCLUDED_NAMES)


def plugin_files() -> list:
    """Files of the plugin, relative to the repository root, sorted."""
    files = []
    for name in TOP_LEVEL:
        top = REPO_ROOT / name
        if top.is_file():
            files.append(top)
        elif top.is_dir():
            files.extend(p for p in top.rglob("*") if p.is_file() and not excluded(p))
    return sorted(p.relative_to(REPO_ROOT) for p in files)


def is_compiled_binary(name: str, head: bytes) -> bool:
    """Whether a file (its name and first bytes) is compiled code."""
    return name.lower().endswith(BINARY_SUFFIXES) or head.startswith(BINARY_MAGIC)


def check_archive(archive: Path) -> List[str]:
    """What breaks the plugin repository's rules in ``archive`` (empty when nothing)."""
    problems = []
    size = archive.stat().st_size
    if size >= MAX_BYTES:
        problems.append(f"{archive.name}: {size / 1e6:.1f} MB, the plugin repository takes less than "
                        f"{MAX_BYTES / 1e6:.0f} MB")
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        outside = [n for n in names if not n.startswith(f"{PLUGIN_NAME}/")]
        if outside:
            problems.append(f"{archive.name}: files outside the folder {PLUGIN_NAME}/: {', '.join(outside[:5])}")
        for info in zf.infolist():
            if info.is_dir():
                continue
            with zf.open(info) as fh:
                head = fh.read(8)
            if is_compiled_binary(info.filename, head):
                problems.append(f"{archive.name}: {info.filename} is a compiled binary; the plugin "
                                "repository refuses them")
        for needed in REQUIRED:
            if f"{PLUGIN_NAME}/{needed}" not in names:
                problems.append(f"{archive.name}: {PLUGIN_NAME}/{needed} is missing")
    return problems


def build(output_dir: Path) -> Path:
    output_dir.mkdir(parents=True, exist_ok=True)
    target = output_dir / f"{PLUGIN_NAME}-{plugin_version()}.zip"
    partial = target.with_suffix(".zip.partial")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for rel in plugin_files():
                zf.write(REPO_ROOT / rel, f"{PLUGIN_NAME}/{rel.as_posix()}")
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)   # a failed build leaves no half-written archive
        raise
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "build", help="folder of the archive (default build/)")
    args = parser.parse_args(argv)
    target = build(args.output)
    with zipfile.ZipFile(target) as zf:
        count = len(zf.namelist())
    print(f"{target} ({count} files, {target.stat().st_size / 1e6:.1f} MB)")
    problems = check_archive(target)
    for line in problems:
        print(f"package_plugin: error: {line}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
