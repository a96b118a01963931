"""The QGIS plugin object: a Raster menu entry, a toolbar button, the dock and the Processing provider.

QGIS calls, in this order, ``classFactory(iface)`` (in ``__init__.py``, which installs the
translator of the user's language), then ``initProcessing`` and ``initGui`` when the plugin
is enabled, and ``unload`` when it is disabled or reloaded. ``unload`` removes everything
the others added.
"""
from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

from qgis.core import Qgis, QgsApplication, QgsMessageLog
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction

from .ui.i18n import install_translator, remove_translator, tr

PLUGIN_DIR = Path(__file__).resolve().parent
ICON_PATH = PLUGIN_DIR / "resources" / "icon.svg"

#: Submenu of the Raster menu that holds the plugin's entries.
MENU_NAME = "sarcoreg"
#: Tag of the plugin's lines in the QGIS message log panel.
LOG_TAG = "sarcoreg"

PROVIDER_MODULE = ".processing.provider"
PROVIDER_CLASS = "SarcoregProvider"


class SarcoregPlugin:
    """The plugin object QGIS holds while sarcoreg is enabled."""

    def __init__(self, iface) -> None:
        self.iface = iface
        # the user's language, for every string the plugin shows from now on (removed by unload)
        self.translator = install_translator()
        # packages the dock installed into this QGIS profile (ui.deps_install), after QGIS's own
        from .ui.deps_install import activate_profile_folder
        activate_profile_folder()
        self.action: QAction | None = None
        self.provider = None
        self.dock = None

    # --- Processing ----------------------------------------------------------------
    def initProcessing(self) -> None:  # noqa: N802 (QGIS hook)
        """Register the Processing provider, when ``processing/provider.py`` exists.

        The provider is imported lazily so that a missing optional dependency only
        disables Processing algorithms, with a line in the message log, and never stops
        the plugin from loading.
        """
        if self.provider is not None:
            return
        module_name = importlib.util.resolve_name(PROVIDER_MODULE, __package__)
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            if isinstance(exc, ModuleNotFoundError) and exc.name == module_name:
                return  # no provider in this version
            self._log(tr("Processing algorithms not available: {error}").format(error=exc), Qgis.MessageLevel.Warning)
            return
        self.provider = getattr(module, PROVIDER_CLASS)()
        QgsApplication.processingRegistry().addProvider(self.provider)

    # --- GUI -----------------------------------------------------------------------
    def initGui(self) -> None:  # noqa: N802 (QGIS hook)
        """Add the menu entry (Raster ▸ sarcoreg) and the toolbar button."""
        self.initProcessing()
        action = QAction(QIcon(str(ICON_PATH)), tr("Co-register optical/SAR…"), self.iface.mainWindow())
        action.setObjectName("sarcoregCoregisterAction")
        action.setStatusTip(tr("Co-register an optical and a SAR raster layer"))
        action.triggered.connect(self.run)
        self.iface.addPluginToRasterMenu(MENU_NAME, action)
        self.iface.addToolBarIcon(action)
        self.action = action

    def unload(self) -> None:
        """Remove the dock, the menu entry, the toolbar button, the Processing provider and the
        translator."""
        if self.dock is not None:
            self.dock.shutdown()
            if hasattr(self.iface, "removeDockWidget"):
                self.iface.removeDockWidget(self.dock)
            self.dock.deleteLater()
            self.dock = None
        if self.action is not None:
            self.iface.removePluginRasterMenu(MENU_NAME, self.action)
            self.iface.removeToolBarIcon(self.action)
            self.action.triggered.disconnect(self.run)
            self.action.deleteLater()
            self.action = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        remove_translator(self.translator)
        self.translator = None

    def run(self) -> None:
        """Menu entry and toolbar button: show (or raise) the co-registration dock."""
        if self.dock is None:
            from qgis.PyQt.QtCore import Qt

            from .ui.dock import SarcoregDock

            self.dock = SarcoregDock(self.iface, self.iface.mainWindow())
            self.iface.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.show()
        self.dock.raise_()

    @staticmethod
    def _log(message: str, level) -> None:
        QgsMessageLog.logMessage(message, LOG_TAG, level)
