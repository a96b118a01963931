"""Translations of the plugin's user interface.

Every user-visible string goes through ``tr`` (one translation context, ``sarcoreg``, for
the whole plugin). The catalogs are ``i18n/sarcoreg_<lang>.ts`` (Qt Linguist), compiled to
``i18n/sarcoreg_<lang>.qm`` by ``scripts/update_translations.py``; the plugin installs the
one of the QGIS user's language while it is loaded. A language without a catalog is English.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QCoreApplication, QTranslator

CONTEXT = "sarcoreg"
I18N_DIR = Path(__file__).resolve().parent.parent / "i18n"
#: The QGIS settings behind ``QgsApplication.locale()``: the user's locale counts only when the
#: override flag is set (Settings ▸ Options ▸ General), else QGIS follows the system's.
LOCALE_KEY = "locale/userLocale"
OVERRIDE_KEY = "locale/overrideFlag"


def tr(text: str) -> str:
    """``text`` in the user's language (``text`` itself when there is no translation)."""
    return QCoreApplication.translate(CONTEXT, text)


def user_language() -> str:
    """The language of QGIS's own user interface, two letters (``fr`` for ``fr_FR``): the
    locale chosen in the QGIS options when it overrides the system's, else the system's."""
    return QgsApplication.locale()[:2]


def catalog_path(language: str) -> Path:
    """The compiled catalog of ``language``."""
    return I18N_DIR / f"sarcoreg_{language}.qm"


def install_translator() -> Optional[QTranslator]:
    """Install the translator of the user's language; None when there is no catalog for it."""
    path = catalog_path(user_language())
    if not path.is_file():
        return None
    translator = QTranslator()
    if not translator.load(str(path)):
        return None
    QCoreApplication.installTranslator(translator)
    return translator


def remove_translator(translator: Optional[QTranslator]) -> None:
    """Remove a translator ``install_translator`` installed (None: nothing to do)."""
    if translator is not None:
        QCoreApplication.removeTranslator(translator)
