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
    for key in ("name", "qgisMinimumVersion", "qgisMaximumVersion", "description", "about", "version",
                "author", "email", "repository", "tracker", "homepage", "license", "tags", "category",
                "icon", "experimental", "deprecated", "changelog", "supportsQt6"):
        assert meta.get(key, "").strip(), f"metadata.txt lacks {key}"
    for flag in ("experimental", "deprecated", "supportsQt6", "hasProcessingProvider"):
        meta.getboolean(flag)  # a boolean the plugin manager can read
    assert meta.getboolean("supportsQt6"), "QGIS 4 (Qt6) lists only plugins with supportsQt6=True"
    for dependency in ("onnxruntime", "dask", "distributed"):
        assert dependency in meta["about"], f"about does not name the external dependency {dependency}"
    assert (REPO_ROOT / "LICENSE").is_file()
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

    The stand-in lacks addPluginToRasterMenu / removePluginRasterMenu, removePluginMenu and
    removeDockWidget, which the real QGIS interface has.
    """
    for name in ("addPluginToRasterMenu", "removePluginRasterMenu", "addPluginToMenu",
                 "removePluginMenu", "addToolBarIcon", "removeToolBarIcon", "removeDockWidget"):
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
def test_action_opens_the_dock_and_unload_removes_it(iface, plugin):
    from sarcoreg.ui.dock import SarcoregDock

    plugin.initGui()
    plugin.action.trigger()
    dock = plugin.dock
    assert isinstance(dock, SarcoregDock)
    plugin.action.trigger()  # a second click shows the same dock
    assert plugin.dock is dock
    plugin.unload()
    assert plugin.dock is None
    assert iface.removeDockWidget.calls == [(dock,)]


@pytest.mark.qgis
def test_loading_the_plugin_imports_neither_torch_nor_onnxruntime(tmp_path):
    """QGIS start-up (classFactory, initProcessing, initGui) stays light; so does the toolbox."""
    result = _run_python(
        """
        import sys
        from qgis.core import QgsApplication
        app = QgsApplication([], False)
        app.initQgis()
        from qgis.PyQt.QtWidgets import QMainWindow
        window = QMainWindow()

        class Iface:
            def mainWindow(self):
                return window

            def __getattr__(self, name):  # menu and toolbar calls
                return lambda *args: None

        iface = Iface()
        import sarcoreg
        plugin = sarcoreg.classFactory(iface)
        plugin.initProcessing()
        plugin.initGui()
        algs = [a.id() for a in plugin.provider.algorithms()]
        heavy = sorted(m for m in ("torch", "onnxruntime") if m in sys.modules)
        plugin.unload()
        del plugin, window
        app.exitQgis()
        assert "sarcoreg:coregister" in algs, algs
        assert not heavy, heavy
        print("ok")
        """,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")


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


@pytest.mark.qgis
def test_built_zip_installs_into_a_clean_profile_and_loads(tmp_path):
    """scripts/package_plugin.py: one folder sarcoreg/, no tests or caches, and it loads."""
    import zipfile

    build = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "package_plugin.py"),
                            "--output", str(tmp_path / "dist")], capture_output=True, text=True, timeout=120)
    assert build.returncode == 0, build.stderr
    archive = next((tmp_path / "dist").glob("sarcoreg-*.zip"))
    assert archive.name == f"sarcoreg-{_read_metadata()['version']}.zip"
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        assert all(n.startswith("sarcoreg/") for n in names)
        for banned in ("/tests/", "/.venv/", "/.git/", "__pycache__", "/build/", ".pyc"):
            assert not any(banned in n for n in names), banned
        for needed in ("sarcoreg/metadata.txt", "sarcoreg/resources/tiepoints.qml",
                       "sarcoreg/resources/similarity.qml", "sarcoreg/resources/demo/demo_opt.tif",
                       "sarcoreg/processing/provider.py", "sarcoreg/ui/dock.py"):
            assert needed in names, needed
        plugins_dir = tmp_path / "profile" / "python" / "plugins"
        zf.extractall(plugins_dir)
    result = _run_python(
        f"""
        import sys
        sys.path.insert(0, {str(plugins_dir)!r})
        from qgis.core import QgsApplication
        app = QgsApplication([], False)
        app.initQgis()
        import sarcoreg
        from pathlib import Path
        assert Path(sarcoreg.__file__).resolve().parent == Path({str(plugins_dir / "sarcoreg")!r}).resolve()
        from sarcoreg.processing.provider import SarcoregProvider
        provider = SarcoregProvider()
        QgsApplication.processingRegistry().addProvider(provider)
        print(sorted(a.id() for a in provider.algorithms()))
        QgsApplication.processingRegistry().removeProvider(provider)
        app.exitQgis()
        """,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "sarcoreg:coregister" in result.stdout
