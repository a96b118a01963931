"""QGIS Processing provider of the plugin.

Contract with ``plugin.py``: the module ``sarcoreg.processing.provider`` defines a
``QgsProcessingProvider`` subclass named ``SarcoregProvider`` whose constructor takes no
arguments. ``SarcoregPlugin.initProcessing`` imports it lazily and registers one instance;
``unload`` removes it. Algorithms stay thin: they convert parameters to paths and options
and call ``sarcoreg.core``.

Note: inside the plugin, ``import processing`` (absolute) is QGIS's own Processing
framework; this sub-package is always reached as ``sarcoreg.processing`` or relatively.
"""
