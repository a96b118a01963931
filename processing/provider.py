"""The Processing provider: only a list of thin algorithms (see ``algorithms/``)."""
from __future__ import annotations

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from ..ui.i18n import tr
from .algorithms import all_algorithms
from .algorithms.base import icon_path

PROVIDER_ID = "sarcoreg"


class SarcoregProvider(QgsProcessingProvider):
    """Provider ``sarcoreg``: co-register (one pair or many), apply a correction, match batch,
    evaluate."""

    def id(self) -> str:  # noqa: A003 (QGIS API)
        return PROVIDER_ID

    def name(self) -> str:
        return "sarcoreg"

    def longName(self) -> str:  # noqa: N802 (QGIS API)
        from .. import __version__
        return tr("sarcoreg {version}: optical/SAR co-registration").format(version=__version__)

    def icon(self) -> QIcon:
        return QIcon(icon_path("icon.svg"))

    def svgIconPath(self) -> str:  # noqa: N802 (QGIS API)
        return icon_path("icon.svg")

    def loadAlgorithms(self) -> None:  # noqa: N802 (QGIS API)
        for algorithm in all_algorithms():
            self.addAlgorithm(algorithm)
