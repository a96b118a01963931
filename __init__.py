"""sarcoreg: co-register optical and SAR satellite scenes.

This folder is both the Python package ``sarcoreg`` (engine in ``sarcoreg.core``, command
line ``sarcoreg`` / ``python -m sarcoreg``) and the QGIS plugin folder ``sarcoreg``.

Importing the package must stay cheap and must work without QGIS: nothing heavy (numpy,
GDAL, Qt, QGIS) is imported here. QGIS calls :func:`classFactory`, which imports the plugin
class only then.
"""

__version__ = "0.1.0"


def classFactory(iface):  # noqa: N802 (name required by QGIS)
    """Entry point called by QGIS when the plugin is loaded.

    :param iface: the running ``QgisInterface``.
    :returns: the plugin object, with ``initGui``, ``initProcessing`` and ``unload``.
    """
    from .plugin import SarcoregPlugin

    return SarcoregPlugin(iface)
