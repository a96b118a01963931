#!/usr/bin/env python3
"""Build the installable QGIS plugin archive ``build/sarcoreg-<version>.zip``.

The archive holds one folder, ``sarcoreg/``, as QGIS's "Install from ZIP" expects: the
package (``__init__.py``, ``plugin.py``, ``metadata.txt``, ``core/``, ``processing/``,
``ui/``, ``models/``) and ``resources/`` (icons, styles, help, the demo pair), plus
``models/**/*.onnx`` when present. Left out: tests, scripts, docs, caches, virtual
environments, build outputs and version-control files.

    python3 scripts/build_plugin_zip.py [--output DIR]
"""
from __future__ import annotations

import argparse
import configparser
import fnmatch
import sys
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PLUGIN_NAME = "sarcoreg"
TOP_LEVEL = ("__init__.py", "__main__.py", "plugin.py", "metadata.txt", "LICENSE", "README.md",
             "core", "processing", "ui", "models", "resources")
EXCLUDED_NAMES = ("__pycache__", "*.pyc", "*.pyo", ".*", "*.egg-info", "*.aux.xml", "build", "dist",
                  "tests", "checkpoints", "runs", "*.ckpt", "*.pt", "*.pth", "dask-worker-space",
                  "dask-scratch-space")


def plugin_version() -> str:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO_ROOT / "metadata.txt", encoding="utf-8")
    return parser["general"]["version"]


def excluded(path: Path) -> bool:
    return any(fnmatch.fnmatch(part, pattern) for part in path.relative_to(REPO_ROOT).parts
               for pattern in EXCLUDED_NAMES)


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


def build(output_dir: Path) -> Path:
    output_dir.mkdir(parents=True, exist_ok=True)
    target = output_dir / f"{PLUGIN_NAME}-{plugin_version()}.zip"
    partial = target.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for rel in plugin_files():
            zf.write(REPO_ROOT / rel, f"{PLUGIN_NAME}/{rel.as_posix()}")
    partial.replace(target)
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "build", help="folder of the archive (default build/)")
    args = parser.parse_args(argv)
    target = build(args.output)
    with zipfile.ZipFile(target) as zf:
        count = len(zf.namelist())
    print(f"{target} ({count} files, {target.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
