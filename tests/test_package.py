"""The release zip follows the QGIS plugin repository's rules: under 25 MB, no compiled
binaries, the ONNX model inside and the training code outside, and no finding from the
repository's blocking security scans (Bandit, medium severity and up, and detect-secrets),
run here on the zip's extracted content as CI runs them."""
from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPT = REPO_ROOT / "scripts" / "package_plugin.py"


def _packager():
    spec = importlib.util.spec_from_file_location("package_plugin", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """``(zip path, folder it was extracted into)``, built by scripts/package_plugin.py."""
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, str(SCRIPT), "--output", str(out)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    archive = next(out.glob("sarcoreg-*.zip"))
    extracted = tmp_path_factory.mktemp("extracted")
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(extracted)
    return archive, extracted


def _tool(module: str):
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (scripts/setup.sh --with-torch installs it)")


def bandit_findings(folder: Path) -> list:
    """Bandit's findings of medium severity and up (``-ll``) in ``folder``."""
    proc = subprocess.run([sys.executable, "-m", "bandit", "-r", "-ll", "-f", "json", "-q", str(folder)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    assert not report["errors"], report["errors"]
    return [f"{r['filename']}:{r['line_number']}: {r['test_id']} {r['issue_text']}" for r in report["results"]]


def secrets_found(folder: Path) -> dict:
    """detect-secrets' findings in every file under ``folder`` (no git repository needed)."""
    proc = subprocess.run([sys.executable, "-m", "detect_secrets", "scan", "--all-files", "."],
                          capture_output=True, text=True, timeout=300, cwd=folder)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["results"]


def test_zip_is_small_has_the_model_and_no_training_code_or_binaries(release):
    archive, _ = release
    assert archive.stat().st_size < 25 * 1000 * 1000
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
    assert "sarcoreg/models/onnx/dcdm_unrolled.onnx" in names
    assert "sarcoreg/compat.py" in names and "sarcoreg/metadata.txt" in names
    # the compiled translations travel with the plugin, their sources do not
    assert "sarcoreg/i18n/sarcoreg_fr.qm" in names and not [n for n in names if n.endswith(".ts")]
    assert not [n for n in names if n.startswith("sarcoreg/models/dcdm/") or n == "sarcoreg/models/commands.py"]
    for banned in ("/tests/", "/scripts/", "/docs/", "__pycache__", ".pyc"):
        assert not any(banned in n for n in names), banned
    assert _packager().check_archive(archive) == []


def test_the_plugin_runs_without_the_training_code(release):
    """Nothing the plugin runs imports the left-out training code: the shipped folder imports
    its engine, Processing and dock modules, and the DCDM runtime finds the model."""
    _, extracted = release
    code = f"""
import sys
sys.path.insert(0, {str(extracted)!r})
import sarcoreg.core.coregister, sarcoreg.cli, sarcoreg.core.dcdm.runtime as rt
import sarcoreg.processing.provider, sarcoreg.ui.dock, sarcoreg.ui.inspector, sarcoreg.plugin
from pathlib import Path
assert Path(sarcoreg.__file__).resolve().parent == Path({str(extracted / "sarcoreg")!r}).resolve()
for module in (sarcoreg.cli, sarcoreg.core.coregister, sarcoreg.ui.dock):  # every part from the zip itself
    assert Path({str(extracted / "sarcoreg")!r}).resolve() in Path(module.__file__).resolve().parents, module
assert (rt.default_model_dir() / rt.UNROLLED_FILE).is_file(), rt.default_model_dir()
assert "torch" not in sys.modules and "sarcoreg.models.dcdm" not in sys.modules
parser = sarcoreg.cli.build_parser()  # the command line works without its training commands
print("ok")
"""
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("PYTHONPATH", "SARCOREG_DCDM_DIR")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env,
                          cwd=extracted)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), proc.stderr[-3000:]


def test_the_archive_check_refuses_compiled_binaries_and_size(tmp_path):
    packager = _packager()
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("sarcoreg/metadata.txt", "[general]\n")
        zf.writestr("sarcoreg/core/_fast.so", b"\x7fELF\x02\x01\x01" + b"\0" * 64)
        zf.writestr("sarcoreg/core/helper.dat", b"MZ\x90\x00" + b"\0" * 64)
        zf.writestr("sarcoreg/core/cached.pyc", b"\x55\x0d\x0d\x0a")
    problems = packager.check_archive(bad)
    assert any("_fast.so is a compiled binary" in p for p in problems), problems
    assert any("helper.dat is a compiled binary" in p for p in problems), problems
    assert any("cached.pyc is a compiled binary" in p for p in problems), problems
    assert any("dcdm_unrolled.onnx is missing" in p for p in problems), problems
    old = packager.MAX_BYTES
    try:
        packager.MAX_BYTES = 10
        assert any("the plugin repository takes less than" in p for p in packager.check_archive(bad))
    finally:
        packager.MAX_BYTES = old


def test_bandit_finds_nothing_in_the_release(release):
    _tool("bandit")
    _, extracted = release
    assert bandit_findings(extracted) == []


def test_bandit_would_flag_the_training_code_left_out_of_the_release(tmp_path):
    """Why the training code stays out: its torch.load calls are Bandit B614 findings."""
    _tool("bandit")
    shutil.copytree(REPO_ROOT / "models" / "dcdm", tmp_path / "dcdm", ignore=shutil.ignore_patterns("__pycache__"))
    assert any(" B614 " in f for f in bandit_findings(tmp_path)), "no B614 finding in the training code"


def test_detect_secrets_finds_nothing_in_the_release(release):
    _tool("detect_secrets")
    _, extracted = release
    assert secrets_found(extracted) == {}


def test_detect_secrets_would_find_a_planted_key(tmp_path):
    _tool("detect_secrets")
    (tmp_path / "settings.py").write_text('AWS_ACCESS_KEY_ID = "AKIAZ7QXKD3RTV4PLM2N"\n', encoding="utf-8")
    assert "settings.py" in secrets_found(tmp_path)
