"""Installing the plugin's optional Python dependencies into a folder of the QGIS profile.

No Qt here: the dock (``ui.deps_install``) runs ``install()`` in a background task and shows
its progress. What it does, and the failures of other plugins' installers it avoids:

- the packages go into one folder of the user's QGIS profile (``--target``), never into
  QGIS's own Python, and that folder is appended to ``sys.path`` (QGIS's packages win);
- pip runs with QGIS's *own* Python interpreter: on Windows and macOS ``sys.executable`` is
  the QGIS program itself, so the interpreter is looked for beside it (``find_python``) and
  must report the same Python version;
- nothing QGIS already has is upgraded: every distribution QGIS's Python can import (numpy,
  GDAL, ...) is pinned to its installed version in a constraints file, and copies of those
  that pip still puts into the folder are removed again;
- ONNX Runtime comes as the CPU build ``onnxruntime`` or the GPU build ``onnxruntime-gpu``,
  never both (they overwrite each other's files): installing one removes the other from the
  folder first.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence

from .errors import InputError
from .staging import atomic_file

FOLDER_NAME = "sarcoreg-python"
# what each feature needs; one name per feature is what the dock offers
FEATURES: Dict[str, Sequence[str]] = {
    "onnxruntime": ("onnxruntime",),
    "onnxruntime-gpu": ("onnxruntime-gpu",),
    "batch": ("dask", "distributed"),
}
# the modules that show whether a feature is there (the GPU build is imported as onnxruntime)
MODULES: Dict[str, Sequence[str]] = {
    "onnxruntime": ("onnxruntime",),
    "onnxruntime-gpu": ("onnxruntime",),
    "batch": ("dask", "distributed"),
}
EXCLUSIVE = ("onnxruntime", "onnxruntime-gpu")


def canonical(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def dependency_folder(profile_dir: str) -> Path:
    """The folder in the QGIS profile ``profile_dir`` that holds the installed packages."""
    return Path(profile_dir) / "python" / FOLDER_NAME


def activate(folder) -> bool:
    """Append ``folder`` to ``sys.path`` (after QGIS's own packages); True when added now."""
    folder = os.fspath(folder)
    if not os.path.isdir(folder) or folder in sys.path:
        return False
    sys.path.append(folder)
    import importlib
    importlib.invalidate_caches()
    return True


def missing(feature: str, load: bool = False) -> List[str]:
    """The modules of ``feature`` (``MODULES``) that this Python cannot import.

    Without ``load`` each is only looked for (cheap, for the dock while QGIS runs); with
    ``load`` each is imported, which also catches a broken install (before a batch runs).
    """
    import importlib
    import importlib.util

    gone = []
    for name in MODULES[feature]:
        try:
            found = importlib.import_module(name) if load else importlib.util.find_spec(name)
        except Exception:  # noqa: BLE001 - not there (ImportError), or there but broken: not usable
            found = None
        if found is None:
            gone.append(name)
    return gone


def pip_hint(feature: str) -> str:
    """The pip command that installs ``feature`` into the Python QGIS runs (for messages)."""
    try:
        python = find_python(verify=False)
    except InputError:
        python = sys.executable or "python3"
    return f"{python} -m pip install {' '.join(FEATURES[feature])}"


def _python_names(platform: str) -> List[str]:
    major, minor = sys.version_info[:2]
    if platform.startswith("win"):
        return ["python.exe", "python3.exe", f"python{major}.{minor}.exe"]
    return [f"python{major}.{minor}", f"python{major}", "python3", "python"]


def find_python(executable: Optional[str] = None, exec_prefix: Optional[str] = None,
                platform: Optional[str] = None, verify: bool = True) -> str:
    """The Python interpreter of the running QGIS, to run pip with.

    ``sys.executable`` when it is a Python interpreter; else (QGIS on Windows: ``qgis-bin.exe``,
    on macOS: the QGIS app) an interpreter in ``exec_prefix`` (Windows: the prefix itself,
    elsewhere its ``bin``) or beside the executable. With ``verify`` the candidate must run
    and report this Python's version. Raises ``InputError`` when none is found.
    """
    executable = executable if executable is not None else sys.executable
    exec_prefix = exec_prefix if exec_prefix is not None else sys.exec_prefix
    platform = platform or sys.platform
    names = _python_names(platform)
    candidates = []
    if executable and os.path.basename(executable).lower().startswith("python"):
        candidates.append(executable)
    folders = [exec_prefix] if platform.startswith("win") else [os.path.join(exec_prefix, "bin")]
    if executable:
        folders.append(os.path.dirname(executable))
    candidates += [os.path.join(folder, name) for folder in folders for name in names]
    for candidate in candidates:
        if os.path.isfile(candidate) and (not verify or _same_python(candidate)):
            return candidate
    raise InputError(f"QGIS's Python interpreter was not found (looked for {', '.join(names)} in "
                     f"{', '.join(folders)}): install the packages with QGIS's Python by hand (see the README)")


def _same_python(candidate: str) -> bool:
    try:
        out = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip() == "%d.%d" % sys.version_info[:2]


def host_versions(exclude: Iterable[str] = ()) -> Dict[str, str]:
    """``{canonical name: version}`` of every distribution this Python can import, except
    those in the folders ``exclude`` (our own dependency folder may be upgraded)."""
    skip = [os.path.realpath(os.fspath(p)) for p in exclude]
    versions: Dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"] if dist.metadata else None
        if not name:
            continue
        where = os.path.realpath(str(getattr(dist, "_path", "")))
        if any(where.startswith(s + os.sep) for s in skip):
            continue
        versions.setdefault(canonical(name), dist.version)  # the first on sys.path is the one imported
    return versions


def write_constraints(path, versions: Dict[str, str], allow: Iterable[str] = ()) -> Path:
    """A pip constraints file pinning ``versions`` (except the names in ``allow``)."""
    allowed = {canonical(a) for a in allow}
    lines = ["# QGIS's own packages, pinned so that installing never upgrades them"]
    lines += [f"{name}=={version}" for name, version in sorted(versions.items())
              if name not in allowed and re.match(r"^[0-9][0-9A-Za-z.+!_-]*$", version)]
    with atomic_file(path, encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return Path(path)


def pip_command(python: str, target, packages: Sequence[str], constraints) -> List[str]:
    """The pip command line that installs ``packages`` into ``target``."""
    return [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
            "--upgrade", "--target", os.fspath(target), "--constraint", os.fspath(constraints), *packages]


@dataclass
class InstallResult:
    ok: bool
    packages: List[str]
    folder: str
    installed: List[str] = field(default_factory=list)   # "name-version" pip reported
    removed_duplicates: List[str] = field(default_factory=list)
    log: List[str] = field(default_factory=list)
    message: str = ""


def _remove_distribution(folder: Path, dist: metadata.Distribution) -> None:
    for f in dist.files or []:
        p = (folder / f).resolve()
        if p.is_relative_to(folder.resolve()) and p.is_file():
            p.unlink()
    info = Path(str(getattr(dist, "_path", "")))
    if info.is_dir() and info.resolve().is_relative_to(folder.resolve()):
        shutil.rmtree(info)
    # folders the removed files leave empty
    for d in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(d.iterdir()):
            d.rmdir()


def remove_from_folder(folder, names: Iterable[str]) -> List[str]:
    """Remove the distributions ``names`` from ``folder``; returns those removed."""
    folder = Path(folder)
    wanted = {canonical(n) for n in names}
    removed = []
    if not folder.is_dir():
        return removed
    for dist in list(metadata.distributions(path=[str(folder)])):
        name = canonical(dist.metadata["Name"] or "")
        if name in wanted:
            label = f"{name}-{dist.version}"
            _remove_distribution(folder, dist)
            removed.append(label)
    return removed


def install(packages: Sequence[str], folder, python: Optional[str] = None,
            on_line: Optional[Callable[[str], None]] = None,
            is_canceled: Optional[Callable[[], bool]] = None, extra_args: Sequence[str] = ()) -> InstallResult:
    """Install ``packages`` into ``folder`` with QGIS's Python and pip (see the module doc).

    ``on_line`` gets each line pip prints (progress); ``is_canceled`` is polled and stops pip.
    Never raises for a failed install: ``ok`` is False and ``message`` says why in one line.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    python = python or find_python()
    names = {canonical(p.split("[")[0].split("=")[0].split("<")[0].split(">")[0]) for p in packages}
    result = InstallResult(False, list(packages), str(folder))
    for a, b in (EXCLUSIVE, EXCLUSIVE[::-1]):
        if a in names:
            result.removed_duplicates += remove_from_folder(folder, [b])
    host = host_versions(exclude=[folder])
    with tempfile.TemporaryDirectory(prefix="sarcoreg-pip-") as tmp:
        constraints = write_constraints(Path(tmp) / "constraints.txt", host, allow=names)
        cmd = pip_command(python, folder, packages, constraints) + list(extra_args)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PIP_TARGET",
                                                                  "PIP_PREFIX", "PIP_USER")}
        env["PYTHONNOUSERSITE"] = "1"
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                                    cwd=tmp)
        except OSError as exc:
            result.message = f"cannot run {python} ({exc.strerror}): install the packages by hand (see the README)"
            return result
        with proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                line = line.rstrip()
                if not line:
                    continue
                result.log.append(line)
                if on_line is not None:
                    on_line(line)
                if is_canceled is not None and is_canceled():
                    proc.terminate()
                    break
            code = proc.wait()
    if is_canceled is not None and is_canceled():
        result.message = "cancelled: the folder may hold a partial install; install again to complete it"
        return result
    if code != 0:
        last = next((line for line in reversed(result.log) if "ERROR" in line), result.log[-1] if result.log else "")
        result.message = f"pip failed (exit {code}): {last.strip()}"
        return result
    done = next((line for line in reversed(result.log) if line.startswith("Successfully installed")), "")
    result.installed = done.split()[2:]
    # pip --target puts a copy of every dependency into the folder, also those QGIS has (at
    # the pinned, i.e. the same, version): QGIS's own copy is the one to use
    dropped = remove_from_folder(folder, [n for n in host if n not in names])
    result.removed_duplicates += dropped
    result.installed = [d for d in result.installed if canonical(d) not in {canonical(x) for x in dropped}]
    activate(folder)
    result.ok = True
    result.message = (f"installed {', '.join(packages)} into {folder}"
                      + (f" ({', '.join(result.installed)})" if result.installed else ""))
    return result
