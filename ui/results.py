"""Results of a co-registration on the map: one layer group, styled from ``resources/*.qml``
(``ui/styles.py``).

Tie points are arrows from P in the direction of the shift, their length scaled by
``shift_m`` and their colour by ``confidence`` (outliers grey and thin); the similarity
mosaic is a heatmap under them; the corrected SAR, when written, is at the bottom.
Every layer carries the custom property ``sarcoreg/role`` and ``sarcoreg/outdir`` so that
the inspector finds the tie points and their outputs.
"""
from __future__ import annotations

import os
from typing import Dict, Optional

from qgis.core import QgsLayerTreeGroup, QgsMapLayer, QgsProject, QgsRasterLayer, QgsVectorLayer

from .i18n import tr
from .styles import OUTDIR_PROPERTY, apply_style


def add_results(outdir: str, project: Optional[QgsProject] = None, title: Optional[str] = None,
                with_corrected: bool = True) -> Dict[str, QgsMapLayer]:
    """Load the outputs of ``outdir`` into one group at the top of the layer tree.

    Returns the layers by role (``tiepoints``, ``similarity``, ``corrected``).
    """
    from ..core import outputs as out

    project = project or QgsProject.instance()
    outdir = os.fspath(outdir)
    name = title or tr("sarcoreg: {folder}").format(folder=os.path.basename(os.path.normpath(outdir)))
    root = project.layerTreeRoot()
    group: QgsLayerTreeGroup = root.insertGroup(0, name)
    layers: Dict[str, QgsMapLayer] = {}
    wanted = [("tiepoints", tr("Tie points"), os.path.join(outdir, out.TIEPOINTS_GPKG)),
              ("similarity", tr("Similarity"), os.path.join(outdir, out.SIMILARITY_VRT))]
    if with_corrected:
        wanted.append(("corrected", tr("Corrected SAR"), os.path.join(outdir, out.SAR_CORRECTED)))
    for role, label, path in wanted:
        if not os.path.exists(path):
            continue
        if role == "tiepoints":
            layer = QgsVectorLayer(f"{path}|layername=tiepoints", label, "ogr")
        else:
            layer = QgsRasterLayer(path, label, "gdal")
        if not layer.isValid():
            continue
        apply_style(layer, role, outdir)
        project.addMapLayer(layer, False)
        group.addLayer(layer)
        layers[role] = layer
    return layers


def remove_results(outdir: str, project: Optional[QgsProject] = None) -> int:
    """Remove from the project every sarcoreg layer of ``outdir``; returns how many."""
    project = project or QgsProject.instance()
    target = os.path.normpath(os.fspath(outdir))
    ids = [lid for lid, layer in project.mapLayers().items()
           if layer.customProperty(OUTDIR_PROPERTY)
           and os.path.normpath(str(layer.customProperty(OUTDIR_PROPERTY))) == target]
    project.removeMapLayers(ids)
    return len(ids)


def results_extent(layers: Dict[str, QgsMapLayer]):
    """The combined extent of the result layers (map CRS = the layers' CRS)."""
    extent = None
    for layer in layers.values():
        e = layer.extent()
        if extent is None:
            extent = e
        else:
            extent.combineExtentWith(e)
    return extent
