"""The repository loads as the QGIS plugin ``sarcoreg`` and unloads cleanly."""
from __future__ import annotations

import configparser
import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

# What a packaged plugin folder would not contain.
NOT_PLUGIN_FILES = shutil.ignore_patterns(
    ".*", "__pycache__", "*.egg-info", "build", "dist", "tests", "outputs", "demo_out",
    "sarcoreg-demo",
)


def _run_python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )


def _read_metadata() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO_ROOT / "metadata.txt", encoding="utf-8")
    return parser["general"]


def test_metadata_has_what_the_plugin_repository_requires():
    meta = _read_metadata()
    for key in ("name", "qgisMinimumVersion", "description", "about", "version", "author",
                "email", "repository", "tracker", "homepage", "tags", "category", "icon"):
        assert meta.get(key, "").strip(), f"metadata.txt lacks {key}"
    assert meta["name"] == "sarcoreg"
    assert meta["category"] == "Raster"
    assert meta.getboolean("hasProcessingProvider")
    assert (REPO_ROOT / meta["icon"]).is_file(), f"icon {meta['icon']} missing"


def test_versions_agree():
    import sarcoreg

    pyproject = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'version = "{sarcoreg.__version__}"' in pyproject
    assert _read_metadata()["version"] == sarcoreg.__version__


def _python_folders() -> tuple[set[str], list[str]]:
    """Packages (folders with __init__.py) and folders of modules without one."""
    skip = {"tests", "scripts", "docs", "resources", "build", "dist"}
    packages, without_init = {"sarcoreg"}, []
    for folder in sorted(p for p in REPO_ROOT.rglob("*") if p.is_dir()):
        rel = folder.relative_to(REPO_ROOT)
        if rel.parts[0] in skip or any(part.startswith((".", "_")) or part.endswith(".egg-info")
                                       for part in rel.parts):
            continue
        if (folder / "__init__.py").is_file():
            packages.add(".".join(("sarcoreg",) + rel.parts))
        elif any(folder.glob("*.py")):
            without_init.append(str(rel))
    return packages, without_init


def test_every_folder_of_modules_is_a_package():
    """A folder without __init__.py is left out of a built wheel and of the import walk
    in test_core_is_pure.py."""
    _, without_init = _python_folders()
    assert not without_init, f"add an __init__.py to: {without_init}"


def test_pyproject_lists_every_sub_package():
    """The editable install finds any sub-package, but a built wheel only the listed ones."""
    import tomllib

    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    found, _ = _python_folders()
    assert found - listed == set(), (
        f"add to [tool.setuptools] packages in pyproject.toml: {sorted(found - listed)}")
    assert listed - found == set(), f"listed in pyproject.toml but missing: {sorted(listed - found)}"


def test_import_sarcoreg_resolves_to_this_checkout():
    import sarcoreg

    assert Path(sarcoreg.__file__).resolve().parent == REPO_ROOT


def test_importing_the_package_is_light(tmp_path):
    """QGIS imports the package at start-up: it must not pull in numpy, GDAL or Qt."""
    result = _run_python(
        """
        import sys
        import sarcoreg
        assert callable(sarcoreg.classFactory)
        heavy = sorted(m for m in ("numpy", "osgeo", "qgis", "PyQt5", "torch", "onnxruntime")
                       if m in sys.modules)
        assert not heavy, heavy
        """,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.qgis
def test_checkout_copied_to_a_folder_named_sarcoreg_imports_as_a_plugin(tmp_path):
    """What QGIS does with a plugin folder: put its parent on sys.path, import by name."""
    plugins_dir = tmp_path / "plugins"
    shutil.copytree(REPO_ROOT, plugins_dir / "sarcoreg", ignore=NOT_PLUGIN_FILES)
    result = _run_python(
        f"""
        import sys
        sys.path.insert(0, {str(plugins_dir)!r})
        import sarcoreg, sarcoreg.plugin, sarcoreg.core.errors
        from pathlib import Path
        where = Path(sarcoreg.__file__).resolve().parent
        assert where == Path({str(plugins_dir / "sarcoreg")!r}).resolve(), where
        assert Path(sarcoreg.core.errors.__file__).resolve().is_relative_to(where)
        assert callable(sarcoreg.classFactory)
        assert sarcoreg.plugin.ICON_PATH.is_file()
        print("ok")
        """,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")


class _Recorder:
    def __init__(self):
        self.calls: list[tuple] = []

    def __call__(self, *args):
        self.calls.append(args)


@pytest.fixture
def iface(qgis_iface, monkeypatch):
    """pytest-qgis's stand-in iface, with the menu and toolbar calls recorded.

    The stand-in lacks addPluginToRasterMenu / removePluginRasterMenu (and
    removePluginMenu), which the real QGIS interface has.
    """
    for name in ("addPluginToRasterMenu", "removePluginRasterMenu", "addPluginToMenu",
                 "removePluginMenu", "addToolBarIcon", "removeToolBarIcon"):
        monkeypatch.setattr(qgis_iface, name, _Recorder(), raising=False)
    return qgis_iface


@pytest.fixture
def plugin(iface):
    import sarcoreg

    plugin = sarcoreg.classFactory(iface)
    yield plugin
    plugin.unload()  # a second unload must be harmless


@pytest.mark.qgis
def test_init_gui_adds_menu_entry_and_toolbar_button_and_unload_removes_them(iface, plugin):
    from qgis.PyQt.QtWidgets import QAction

    plugin.initGui()
    action = plugin.action
    assert isinstance(action, QAction)
    assert action.text() == "Co-register optical/SAR…"
    assert not action.icon().isNull()
    assert iface.addPluginToRasterMenu.calls == [("sarcoreg", action)]
    assert iface.addToolBarIcon.calls == [(action,)]

    plugin.unload()
    assert iface.removePluginRasterMenu.calls == [("sarcoreg", action)]
    assert iface.removeToolBarIcon.calls == [(action,)]
    assert plugin.action is None


@pytest.mark.qgis
def test_action_shows_a_message(iface, plugin):
    from qgis.core import Qgis

    plugin.initGui()
    before = len(iface.messageBar().get_messages(Qgis.Info))
    plugin.action.trigger()
    messages = iface.messageBar().get_messages(Qgis.Info)
    assert len(messages) == before + 1
    assert messages[-1].startswith("sarcoreg:")


@pytest.mark.qgis
def test_processing_provider_is_registered_when_present_and_removed_on_unload(iface, plugin):
    from qgis.core import QgsApplication

    registry = QgsApplication.processingRegistry()
    has_provider = importlib.util.find_spec("sarcoreg.processing.provider") is not None

    plugin.initProcessing()
    if not has_provider:
        assert plugin.provider is None
        return
    provider = plugin.provider
    assert provider is not None
    provider_id = provider.id()
    assert registry.providerById(provider_id) is not None
    plugin.initProcessing()  # QGIS may call it again: still one provider
    assert [p.id() for p in registry.providers()].count(provider_id) == 1

    plugin.unload()
    assert plugin.provider is None
    assert registry.providerById(provider_id) is None


@pytest.mark.qgis
def test_qgis_processing_framework_is_not_shadowed_by_our_subpackage(qgis_processing):
    """`import processing` must be QGIS's framework, never this repository's processing/."""
    import processing

    assert Path(processing.__file__).resolve().parent != REPO_ROOT / "processing"
    assert hasattr(processing, "run")
