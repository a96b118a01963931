"""QGIS user interface of the plugin: dialogs, map tools and layer styling.

Qt and QGIS may be imported here (never in ``sarcoreg.core``). Widgets turn layers into
file paths and options at this boundary and hand the work to ``sarcoreg.core``.
"""
