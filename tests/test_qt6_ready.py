"""QGIS 4 (Qt6 / PyQt6) readiness: the plugin's code passes scripts/check_qt6.py, the check
finds what it is meant to find, and metadata.txt lets QGIS 4 list the plugin."""
from __future__ import annotations

import configparser
import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
CHECKER = REPO_ROOT / "scripts" / "check_qt6.py"


def _checker():
    spec = importlib.util.spec_from_file_location("check_qt6", CHECKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_plugin_has_no_pyqt5_only_code():
    proc = subprocess.run([sys.executable, str(CHECKER)], capture_output=True, text=True, timeout=120,
                          cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "clean" in proc.stderr


PYQT5_ONLY = textwrap.dedent('''\
    from PyQt5.QtCore import Qt
    import sip
    from qgis.PyQt.QtCore import QRegExp, QVariant
    from . import resources_rc
    from qgis.core import Qgis, QgsField, QgsProcessing
    from qgis.PyQt.QtGui import QImage, QIcon

    def run(dialog, label, layer):
        dialog.exec_()
        label.setAlignment(Qt.AlignLeft)
        field = QgsField("n", QVariant.Int)
        image = QImage(4, 4, QImage.Format_RGB32)
        icon = QIcon(":/plugins/sarcoreg/icon.svg")
        level = Qgis.Warning
        pattern = QRegExp("a+")
        # Qt.AlignRight in a comment and "Qt.AlignRight" in a string are not code
        text = "Qt.AlignRight"
        return QgsProcessing.TEMPORARY_OUTPUT, Qt.AlignmentFlag.AlignRight, Qt.mightBeRichText(text)
    ''')


def test_the_check_finds_each_pyqt5_only_pattern_with_its_line():
    findings = _checker().check_source(PYQT5_ONLY, "demo.py")
    by_line = {}
    for f in findings:
        name, line, message = f.split(":", 2)
        assert name == "demo.py"
        by_line.setdefault(int(line), []).append(message)
    assert "qgis.PyQt" in " ".join(by_line[1])               # from PyQt5 ...
    assert "qgis.PyQt" in " ".join(by_line[2])               # import sip
    assert "QRegularExpression" in " ".join(by_line[3])      # QRegExp imported
    assert "compiled Qt resources" in " ".join(by_line[4])   # resources_rc
    assert "exec()" in " ".join(by_line[9])
    assert "Qt.AlignLeft" in " ".join(by_line[10])
    assert "QMetaType" in " ".join(by_line[11])               # QVariant.Int
    assert "QImage.Format_RGB32" in " ".join(by_line[12])
    assert "resource path" in " ".join(by_line[13])
    assert "Qgis.Warning" in " ".join(by_line[14])
    assert "QRegularExpression" in " ".join(by_line[15])
    # comments, strings, scoped members, constants and calls are not findings
    assert set(by_line) == {1, 2, 3, 4, 9, 10, 11, 12, 13, 14, 15}, findings


def test_the_check_fails_with_file_and_line_on_a_bad_file(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from qgis.PyQt.QtCore import Qt\nx = Qt.AlignCenter\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, str(CHECKER), str(bad)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert f"{bad}:2: Qt.AlignCenter" in proc.stdout, proc.stdout


def test_metadata_lets_qgis_4_list_the_plugin():
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO_ROOT / "metadata.txt", encoding="utf-8")
    meta = parser["general"]
    assert meta["qgisMinimumVersion"] == "3.22"
    assert meta["qgisMaximumVersion"] == "4.99"


@pytest.mark.qgis
def test_moved_qgis_enums_resolve_on_this_qgis():
    from sarcoreg import compat

    names = [n for n in dir(compat) if n.isupper()]
    assert set(names) == {"FILE_FILE", "FILE_FOLDER", "FLAG_ADVANCED", "NUMBER_DOUBLE", "NUMBER_INTEGER",
                          "RASTER_LAYERS", "VECTOR_POINT", "WKT_PREFERRED_GDAL"}
    for name in names:
        assert getattr(compat, name) is not None, name
    with pytest.raises(AttributeError):
        compat.first_of("Qgis.NoSuchEnum.Member", "QgsNoSuchClass.Member")
