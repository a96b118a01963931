"""``sarcoreg.core`` imports neither QGIS, Qt nor torch (so it runs headless and on Dask).

QGIS code lives in ``plugin.py``, ``ui/`` and ``processing/``; torch only in training code
outside ``core/``.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CORE_DIR = REPO_ROOT / "core"
FORBIDDEN = ("qgis", "PyQt5", "PyQt6", "PySide2", "PySide6", "sip", "torch")

_IMPORT_RE = re.compile(
    r"^\s*(?:from\s+(?P<from>[\w.]+)\s+import\b|import\s+(?P<names>[\w., \t]+))", re.MULTILINE
)


def test_importing_every_core_module_loads_no_qgis_qt_or_torch(tmp_path):
    code = textwrap.dedent(
        f"""
        import importlib, json, pkgutil, sys
        import sarcoreg.core
        names = ["sarcoreg.core"]
        for info in pkgutil.walk_packages(sarcoreg.core.__path__, "sarcoreg.core."):
            importlib.import_module(info.name)
            names.append(info.name)
        forbidden = {FORBIDDEN!r}
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in forbidden)
        print(json.dumps({{"modules": names, "forbidden": loaded}}))
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, f"a core module failed to import:\n{result.stderr}"
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert "sarcoreg.core.errors" in report["modules"]
    assert report["forbidden"] == [], (
        f"importing sarcoreg.core loaded {report['forbidden']}; "
        "move QGIS/Qt code to plugin.py, ui/ or processing/ and torch code out of core/"
    )


def _imported_top_names(source: str) -> set[str]:
    names = set()
    for match in _IMPORT_RE.finditer(source):
        if match["from"]:
            if not match["from"].startswith("."):
                names.add(match["from"].split(".")[0])
        else:
            for part in match["names"].split(","):
                part = part.strip().split()[0] if part.strip() else ""
                if part:
                    names.add(part.split(".")[0])
    return names


def test_core_sources_do_not_import_qgis_qt_or_torch():
    """Catches lazy imports inside functions too, which the import test cannot see."""
    offenders = []
    sources = sorted(CORE_DIR.rglob("*.py"))
    assert sources, f"no Python files under {CORE_DIR}"
    for path in sources:
        bad = _imported_top_names(path.read_text(encoding="utf-8")) & set(FORBIDDEN)
        if bad:
            offenders.append(f"{path.relative_to(REPO_ROOT)}: {', '.join(sorted(bad))}")
    assert not offenders, "core/ must not import QGIS, Qt or torch:\n" + "\n".join(offenders)


def test_import_pattern_sees_lazy_and_aliased_imports():
    source = "import os\n    import torch.nn as nn\nfrom qgis.core import X\nimport a, PyQt5.QtCore\n"
    assert _imported_top_names(source) == {"os", "torch", "qgis", "a", "PyQt5"}
