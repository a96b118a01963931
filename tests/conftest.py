"""Shared test set-up.

* Markers: ``qgis`` (needs python3-qgis; skipped where QGIS cannot be imported) and
  ``shared_data`` (needs the real data in ``../shared/data`` beside the checkout; skipped
  when absent). Use the ``shared_data`` fixture to get that folder.
* QGIS runs offscreen: ``QT_QPA_PLATFORM=offscreen`` here plus ``--qgis_disable_gui`` in
  the pytest configuration (pyproject.toml); QGIS aborts without both when there is no
  display.
* Keep ``tests/`` without an ``__init__.py``: the repository root is itself a package, and
  a package here would make pytest import tests as ``<checkout-folder>.tests...``.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"

# `python -m pytest` run from the repository root puts the root on sys.path, where its
# sub-packages (`processing`, `core`, `models`, `ui`) would shadow top-level modules of
# the same name, above all QGIS's own `processing`. The project is always imported as
# `sarcoreg` (installed editable by scripts/setup.sh), so drop the root from sys.path.
sys.path[:] = [p for p in sys.path if Path(p or os.curdir).resolve() != REPO_ROOT]
# For the same reason pytest runs with --import-mode=importlib (pyproject.toml), which
# leaves sys.path alone: the default mode would import the root `__init__.py` as a package
# and put the root, or its parent, on sys.path. Helper modules beside the tests (such as
# `rasters.py`) stay importable by their plain name through this entry.
TESTS_DIR = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

HAVE_QGIS = importlib.util.find_spec("qgis") is not None

if HAVE_QGIS:
    # The tests read the plugin's English texts: QGIS's language, when its options do not
    # override it, is Qt's default locale (the system's, from LANG), so a French desktop
    # would show the plugin in French. Tests of the translations set the override themselves.
    from qgis.PyQt.QtCore import QLocale

    QLocale.setDefault(QLocale("en_US"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "qgis: needs QGIS (python3-qgis); skipped without it")
    config.addinivalue_line(
        "markers",
        "shared_data: needs the real data in ../shared/data beside the checkout; "
        "skipped when absent",
    )
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_qgis = pytest.mark.skip(reason="QGIS (python3-qgis) cannot be imported here")
    skip_data = pytest.mark.skip(reason=f"no shared data folder at {SHARED_DATA}")
    for item in items:
        if item.get_closest_marker("qgis") and not HAVE_QGIS:
            item.add_marker(skip_qgis)
        if item.get_closest_marker("shared_data") and not SHARED_DATA.is_dir():
            item.add_marker(skip_data)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root, which is the package ``sarcoreg``."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``<repo>/../shared/data``: real optical/SAR pairs (see its README.md).

    Tests using it are skipped, with the reason, when the folder is absent.
    """
    if not SHARED_DATA.is_dir():
        pytest.skip(f"no shared data folder at {SHARED_DATA} (expected beside the checkout)")
    return SHARED_DATA


@pytest.fixture(scope="module")
def provider(qgis_processing):
    """The sarcoreg Processing provider, registered in QGIS for one test module."""
    from qgis.core import QgsApplication

    from sarcoreg.processing.provider import SarcoregProvider

    registry = QgsApplication.processingRegistry()
    prov = SarcoregProvider()
    assert registry.addProvider(prov)
    yield prov
    registry.removeProvider(prov)
