"""The plugin speaks the QGIS user's language: every ``tr()`` string has a French translation
with the same placeholders, the shipped ``.qm`` says what the ``.ts`` says, the plugin
installs the translator of the QGIS locale and removes it on unload, and an unknown locale
stays English. ``scripts/update_translations.py`` keeps the catalogs in step with the code.
The Processing help pages have French versions with the same outline, shown in a French QGIS."""
from __future__ import annotations

import functools
import importlib.util
import shutil
import string
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPT = REPO_ROOT / "scripts" / "update_translations.py"
FRENCH_TS = REPO_ROOT / "i18n" / "sarcoreg_fr.ts"
FRENCH_QM = REPO_ROOT / "i18n" / "sarcoreg_fr.qm"


@functools.lru_cache(maxsize=None)
def _script():
    spec = importlib.util.spec_from_file_location("update_translations", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def _placeholders(text: str) -> list:
    return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


def _code_strings() -> list:
    strings, errors = _script().extract()
    assert not errors, errors
    assert len(strings) > 100, len(strings)
    return list(strings)


def _french() -> dict:
    _, messages = _script().read_catalog(FRENCH_TS)
    return messages


def test_every_tr_string_has_a_finished_french_translation_with_the_same_placeholders():
    french = _french()
    missing = [s for s in _code_strings() if s not in french]
    assert not missing, f"run scripts/update_translations.py and translate: {missing}"
    for source in _code_strings():
        m = french[source]
        assert m.state == "" and m.translation.strip(), f"unfinished: {source!r}"
        assert _placeholders(m.translation) == _placeholders(source), (source, m.translation)


def test_the_catalog_is_a_qt_linguist_file_with_one_sarcoreg_context():
    ts = ET.parse(FRENCH_TS).getroot()
    assert ts.tag == "TS" and ts.get("language", "").startswith("fr")
    assert [c.findtext("name") for c in ts.iter("context")] == ["sarcoreg"]


@pytest.mark.qgis
def test_the_shipped_qm_translates_every_string_as_the_ts_does(qgis_app):
    from qgis.PyQt.QtCore import QTranslator

    translator = QTranslator()
    assert translator.load(str(FRENCH_QM))
    french = _french()
    # the source text is a C string: UTF-8 bytes (PyQt would encode a str as ASCII)
    stale = [s for s in _code_strings()
             if translator.translate("sarcoreg", s.encode("utf-8")) != french[s].translation]
    assert not stale, f"the .qm is older than the .ts: run scripts/update_translations.py ({stale[:3]} ...)"


class _Recorder:
    def __call__(self, *args):
        pass


@pytest.fixture
def iface(qgis_iface, monkeypatch):
    # the stand-in interface lacks the Raster menu and removeDockWidget, which the real one has
    for name in ("addPluginToRasterMenu", "removePluginRasterMenu", "addToolBarIcon", "removeToolBarIcon",
                 "removeDockWidget"):
        monkeypatch.setattr(qgis_iface, name, _Recorder(), raising=False)
    return qgis_iface


@pytest.fixture
def user_locale():
    """``user_locale(value, override=True)``: set QGIS's ``locale/userLocale`` and its override
    flag for one test, as the QGIS options do (the former values come back after)."""
    from qgis.core import QgsSettings

    from sarcoreg.ui.i18n import LOCALE_KEY, OVERRIDE_KEY

    settings = QgsSettings()
    before = {key: (settings.contains(key), settings.value(key)) for key in (LOCALE_KEY, OVERRIDE_KEY)}

    def set_locale(value: str, override: bool = True) -> None:
        settings.setValue(LOCALE_KEY, value)
        settings.setValue(OVERRIDE_KEY, override)

    yield set_locale
    for key, (had, value) in before.items():
        if had:
            settings.setValue(key, value)
        else:
            settings.remove(key)


@pytest.fixture
def load_plugin(iface):
    """``load_plugin()``: the plugin as QGIS loads it (classFactory, initGui, the dock
    opened); unloaded after the test, whatever happens."""
    import sarcoreg

    loaded = []

    def load():
        plugin = sarcoreg.classFactory(iface)
        loaded.append(plugin)
        plugin.initGui()
        plugin.action.trigger()
        return plugin

    yield load
    for plugin in loaded:
        plugin.unload()


@pytest.mark.qgis
def test_a_french_qgis_shows_the_plugin_in_french_until_it_is_unloaded(user_locale, load_plugin):
    from sarcoreg.ui.i18n import tr

    user_locale("fr_FR")
    plugin = load_plugin()
    assert plugin.translator is not None
    assert plugin.action.text() == "Co-recaler optique/SAR…"
    dock = plugin.dock
    assert dock.run_button.text() == "Lancer"
    assert dock.inspect_button.text() == "Inspecter un point homologue"
    assert dock.install_dask_button.text() == "Installer Dask (pour les lots)"
    algorithm = plugin.provider.algorithm("coregister")
    assert algorithm.displayName() == "Co-recaler optique et SAR"
    assert algorithm.parameterDefinition("OPTICAL").description() == "Raster optique (source des imagettes)"
    assert tr("co-registering into {folder} …").format(folder="/x") == "co-recalage en cours dans /x …"

    # the engine's notes, recognised by their template and shown in French
    from sarcoreg.core import notes
    from sarcoreg.ui.notes import localised

    assert localised(notes.UNSURE.format(classical="mind", apart=6.25)) == \
        "incertain : pics de la traduction seule et de mind à 6.2 px l'un de l'autre"
    assert localised(notes.NO_TRANSLATION.format(matcher="dcdm")) == "la méthode dcdm n'a rendu aucune traduction"
    assert localised("something the engine wrote freely") == "something the engine wrote freely"

    plugin.unload()
    assert plugin.translator is None
    assert tr("Run") == "Run"
    assert tr("Co-register optical and SAR") == "Co-register optical and SAR"


@pytest.mark.qgis
def test_an_unknown_locale_stays_english(user_locale, load_plugin):
    user_locale("xx_XX")
    plugin = load_plugin()
    assert plugin.translator is None
    assert plugin.action.text() == "Co-register optical/SAR…"
    assert plugin.dock.run_button.text() == "Run"
    assert plugin.provider.algorithm("coregister").displayName() == "Co-register optical and SAR"


@pytest.mark.qgis
def test_without_the_override_the_language_is_the_system_s_as_in_qgis(user_locale):
    from qgis.PyQt.QtCore import QLocale

    from sarcoreg.ui.i18n import user_language

    # a locale chosen once in the options but not overriding the system's is not QGIS's language
    user_locale("fr_FR", override=False)
    before = QLocale()
    QLocale.setDefault(QLocale("de_DE"))
    try:
        assert user_language() == "de"
    finally:
        QLocale.setDefault(before)
    user_locale("pt_BR")
    assert user_language() == "pt"


def test_the_extractor_takes_literal_strings_and_refuses_anything_else():
    code = ('tr("Run")\n'
            'tr("a "\n   "b {x}").format(x=1)\n'
            'tr(f"into {folder}")\n'
            'tr(name)\n'
            'self.tr("not ours")\n')
    found, errors = _script().tr_strings(code, "demo.py")
    assert found == [("Run", 1), ("a b {x}", 2)]
    assert [e.split(":")[:2] for e in errors] == [["demo.py", "4"], ["demo.py", "5"]], errors


def _catalog(path: Path, translations: dict) -> None:
    messages = "".join(f"<message><source>{s}</source><translation>{t}</translation></message>"
                       for s, t in translations.items())
    path.write_text('<?xml version="1.0" encoding="utf-8"?><!DOCTYPE TS><TS version="2.1" language="fr_FR">'
                    f"<context><name>sarcoreg</name>{messages}</context></TS>", encoding="utf-8")


def test_the_update_script_adds_new_strings_marks_old_ones_obsolete_and_refuses_non_literals(tmp_path):
    """On a small plugin tree: a new string becomes unfinished, a gone one obsolete, a kept
    translation stays; a tr() of a variable stops the script before it writes anything."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(SCRIPT, tmp_path / "scripts")
    (tmp_path / "ui").mkdir()
    (tmp_path / "i18n").mkdir()
    (tmp_path / "plugin.py").write_text('from .ui.i18n import tr\nLABEL = tr("Run")\n', encoding="utf-8")
    (tmp_path / "ui" / "dock.py").write_text('from .i18n import tr\n\n\ndef f():\n    return tr("New")\n',
                                             encoding="utf-8")
    ts = tmp_path / "i18n" / "sarcoreg_fr.ts"
    _catalog(ts, {"Run": "Lancer", "Old": "Ancien"})
    run = [sys.executable, str(tmp_path / "scripts" / "update_translations.py")]

    proc = subprocess.run(run, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "1 new, 1 newly obsolete, 1 unfinished" in proc.stdout
    _, messages = _script().read_catalog(ts)
    assert (messages["Run"].translation, messages["Run"].state) == ("Lancer", "")
    assert (messages["New"].translation, messages["New"].state) == ("", "unfinished")
    assert (messages["Old"].translation, messages["Old"].state) == ("Ancien", "obsolete")
    assert '<location filename="../ui/dock.py" line="5"/>' in ts.read_text(encoding="utf-8")

    written = ts.read_text(encoding="utf-8")
    (tmp_path / "ui" / "bad.py").write_text("from .i18n import tr\nname = 'x'\ntr(name)\n", encoding="utf-8")
    proc = subprocess.run(run, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "ui/bad.py:3: tr() takes one literal string" in proc.stderr
    assert ts.read_text(encoding="utf-8") == written


HELP_DIR = REPO_ROOT / "resources" / "help"


class _HelpOutline(HTMLParser):
    """The outline of a help page: its tags in order, and the text of each ``<code>``."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags, self.codes, self._code = [], [], None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "code":
            self._code = ""

    def handle_data(self, data):
        if self._code is not None:
            self._code += data

    def handle_endtag(self, tag):
        if tag == "code":
            self.codes.append(" ".join(self._code.split()))
            self._code = None


def test_every_english_help_page_has_a_french_page_with_the_same_outline_and_code():
    """Only the prose is translated: the same paragraphs and bold parameter names, and the
    same file names, fields and command lines in ``<code>``."""
    pages = sorted(HELP_DIR.glob("*.html"))
    assert len(pages) == 5, pages
    for page in pages:
        french_page = HELP_DIR / "fr" / page.name
        assert french_page.is_file(), f"translate {page.name} into {french_page}"
        english = _HelpOutline(page.read_text(encoding="utf-8"))
        french = _HelpOutline(french_page.read_text(encoding="utf-8"))
        for tag in ("p", "b"):
            assert french.tags.count(tag) == english.tags.count(tag), (page.name, tag)
        assert sorted(french.codes) == sorted(english.codes), page.name
    assert sorted(p.name for p in (HELP_DIR / "fr").iterdir()) == [p.name for p in pages]


@pytest.mark.qgis
def test_the_processing_help_follows_the_qgis_language_and_falls_back_to_english(user_locale, load_plugin):
    english = (HELP_DIR / "coregister.html").read_text(encoding="utf-8")
    french = (HELP_DIR / "fr" / "coregister.html").read_text(encoding="utf-8")
    user_locale("fr_FR")
    algorithm = load_plugin().provider.algorithm("coregister")
    assert algorithm.shortHelpString() == french
    user_locale("xx_XX")
    assert algorithm.shortHelpString() == english


@pytest.mark.qgis
def test_the_toolbox_finds_the_algorithms_by_french_words_and_english_ones(user_locale, load_plugin):
    user_locale("fr_FR")
    plugin = load_plugin()
    tags = plugin.provider.algorithm("coregister").tags()
    assert {"recalage", "optique", "RSO"} <= set(tags)
    assert {"sar", "optical", "coregistration"} <= set(tags)     # English words still find it
    french = {type(a): a.tags() for a in plugin.provider.algorithms()}
    plugin.unload()
    for cls, in_french in french.items():
        english = cls().tags()
        assert "recalage" not in english and "RSO" not in english
        assert in_french[:len(english)] == english, cls.__name__
        assert len(in_french) > len(english) and len(in_french) == len(set(in_french)), cls.__name__
