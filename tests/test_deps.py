"""Installing optional dependencies into a folder of the QGIS profile (``core.deps``):
QGIS's own interpreter, pip constrained to what QGIS already has, and a real install from
the package registry into a temporary folder."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sarcoreg.core import deps
from sarcoreg.core.errors import InputError


def test_find_python_is_this_interpreter_when_it_is_python():
    found = deps.find_python()
    assert Path(found).name.startswith("python")
    out = subprocess.run([found, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True)
    assert out.stdout.strip() == str(sys.version_info[:2])


def test_find_python_beside_qgis_on_windows_and_macos(tmp_path):
    """On Windows ``sys.executable`` is qgis-bin.exe: pip must run with the python.exe of
    QGIS's Python prefix, not with QGIS itself (which would start another QGIS)."""
    prefix = tmp_path / "OSGeo4W" / "apps" / "Python312"
    prefix.mkdir(parents=True)
    (prefix / "python.exe").write_bytes(b"")
    qgis_exe = str(tmp_path / "OSGeo4W" / "bin" / "qgis-bin.exe")
    found = deps.find_python(qgis_exe, str(prefix), "win32", verify=False)
    assert found == str(prefix / "python.exe")
    app = tmp_path / "QGIS.app" / "Contents"
    (app / "MacOS" / "bin").mkdir(parents=True)
    major, minor = sys.version_info[:2]
    (app / "MacOS" / "bin" / f"python{major}.{minor}").write_bytes(b"")
    found = deps.find_python(str(app / "MacOS" / "QGIS"), str(app / "MacOS"), "darwin", verify=False)
    assert found == str(app / "MacOS" / "bin" / f"python{major}.{minor}")
    with pytest.raises(InputError, match="Python interpreter was not found"):
        deps.find_python(str(tmp_path / "qgis"), str(tmp_path / "nowhere"), "linux", verify=False)


def test_constraints_pin_what_qgis_has_and_allow_what_is_asked_for(tmp_path):
    import numpy

    host = deps.host_versions()
    assert host["numpy"] == numpy.__version__
    path = deps.write_constraints(tmp_path / "c.txt", host, allow=["onnxruntime"])
    lines = path.read_text().splitlines()
    assert f"numpy=={numpy.__version__}" in lines
    assert not any(line.startswith("onnxruntime==") for line in lines)
    cmd = deps.pip_command("/py", tmp_path / "t", ["onnxruntime"], path)
    assert cmd[:4] == ["/py", "-m", "pip", "install"]
    assert cmd[cmd.index("--target") + 1] == str(tmp_path / "t")
    assert cmd[cmd.index("--constraint") + 1] == str(path)
    assert cmd[-1] == "onnxruntime"


def test_missing_names_the_modules_of_a_feature_that_cannot_be_imported(tmp_path, monkeypatch):
    """Looked for (cheap) or imported (``load``: a package that breaks on import is missing too)."""
    (tmp_path / "sarcoreg_probe_ok.py").write_text("")
    (tmp_path / "sarcoreg_probe_broken.py").write_text("raise ImportError('built for another Python')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(deps.MODULES, "probe", ("sarcoreg_probe_ok", "sarcoreg_probe_broken", "sarcoreg_probe_absent"))
    try:
        assert deps.missing("probe") == ["sarcoreg_probe_absent"]
        assert deps.missing("probe", load=True) == ["sarcoreg_probe_broken", "sarcoreg_probe_absent"]
    finally:
        sys.modules.pop("sarcoreg_probe_ok", None)


def test_missing_dask_and_its_pip_command(monkeypatch):
    from helpers_imports import hide_packages

    hide_packages(monkeypatch, ["dask", "distributed"])
    assert deps.missing("batch") == ["dask", "distributed"]
    assert deps.missing("batch", load=True) == ["dask", "distributed"]
    assert deps.pip_hint("batch") == f"{deps.find_python(verify=False)} -m pip install dask distributed"


def _fake_distribution(folder: Path, name: str, version: str, module: str) -> None:
    """A distribution as pip leaves it in a --target folder: the module and its dist-info."""
    (folder / module).mkdir(parents=True)
    (folder / module / "__init__.py").write_text("")
    info = folder / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "RECORD").write_text(f"{module}/__init__.py,,\n{info.name}/METADATA,,\n{info.name}/RECORD,,\n")


def test_cpu_and_gpu_onnxruntime_never_share_the_folder(tmp_path):
    _fake_distribution(tmp_path, "onnxruntime-gpu", "1.32.0", "onnxruntime")
    _fake_distribution(tmp_path, "tomli-w", "1.2.0", "tomli_w")
    assert deps.remove_from_folder(tmp_path, ["onnxruntime"]) == []
    assert deps.remove_from_folder(tmp_path, ["onnxruntime_gpu"]) == ["onnxruntime-gpu-1.32.0"]
    assert not (tmp_path / "onnxruntime").exists()
    assert not list(tmp_path.glob("onnxruntime_gpu-*"))
    assert (tmp_path / "tomli_w" / "__init__.py").is_file()


@pytest.mark.slow
def test_install_from_the_registry_keeps_qgis_packages_as_they_are(tmp_path):
    """A real install: tifffile needs numpy, which every QGIS ships (here Debian's, older than
    the registry's newest). pip must take QGIS's numpy version, and the folder must end up
    with tifffile only, importable next to QGIS's numpy."""
    import numpy

    folder = tmp_path / "profile" / "python" / deps.FOLDER_NAME
    lines = []
    result = deps.install(["tifffile"], folder, on_line=lines.append)
    assert result.ok, (result.message, result.log[-10:])
    assert lines and any("tifffile" in line for line in lines)
    assert (folder / "tifffile" / "__init__.py").is_file()
    assert not (folder / "numpy").exists(), "a copy of QGIS's numpy was left in the folder"
    assert not any(line.startswith("Collecting numpy") and "==" in line and numpy.__version__ not in line
                   for line in lines)
    assert all(d == f"numpy-{numpy.__version__}" for d in result.removed_duplicates if d.startswith("numpy"))
    assert [d for d in result.installed if d.startswith("tifffile-")]
    assert "tifffile" in result.message and str(folder) in result.message
    code = textwrap.dedent(f"""
        import sys
        sys.path.append({str(folder)!r})
        import numpy, tifffile
        assert tifffile.__file__.startswith({str(folder)!r}), tifffile.__file__
        assert not numpy.__file__.startswith({str(folder)!r}), numpy.__file__
        assert numpy.__version__ == {numpy.__version__!r}
        tifffile.imwrite({str(tmp_path / "a.tif")!r}, numpy.arange(12, dtype="uint8").reshape(3, 4))
        assert tifffile.imread({str(tmp_path / "a.tif")!r}).sum() == 66
        print("ok")
        """)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_a_failed_install_says_why_in_one_line(tmp_path):
    result = deps.install(["sarcoreg-no-such-package-xyz==0.0.0"], tmp_path / "deps")
    assert not result.ok
    assert result.message.startswith("pip failed") and "\n" not in result.message
