"""QGIS enum members whose home moved between QGIS 3.22 and QGIS 3.36+ / QGIS 4 (Qt6).

PyQt6 only knows enum members reached through their enum (``Enum.Member``), and QGIS 3.36
moved many enums into ``Qgis`` (``Qgis.ProcessingSourceType.VectorPoint`` for
``QgsProcessing.TypeVectorPoint``). Each name below is the newest spelling this QGIS has,
else the scoped spelling of QGIS 3.22, so the plugin runs unchanged on both.
"""
from __future__ import annotations

import qgis.core as _core


def first_of(*paths: str):
    """The first of ``paths`` (dotted, from ``qgis.core``) that this QGIS has."""
    for path in paths:
        obj = _core
        try:
            for part in path.split("."):
                obj = getattr(obj, part)
        except AttributeError:
            continue
        return obj
    raise AttributeError(f"this QGIS has none of {', '.join(paths)}")


VECTOR_POINT = first_of("Qgis.ProcessingSourceType.VectorPoint", "QgsProcessing.SourceType.TypeVectorPoint")
NUMBER_DOUBLE = first_of("Qgis.ProcessingNumberParameterType.Double", "QgsProcessingParameterNumber.Type.Double")
NUMBER_INTEGER = first_of("Qgis.ProcessingNumberParameterType.Integer", "QgsProcessingParameterNumber.Type.Integer")
FLAG_ADVANCED = first_of("Qgis.ProcessingParameterFlag.Advanced", "QgsProcessingParameterDefinition.Flag.FlagAdvanced")
FILE_FOLDER = first_of("Qgis.ProcessingFileParameterBehavior.Folder", "QgsProcessingParameterFile.Behavior.Folder")
FILE_FILE = first_of("Qgis.ProcessingFileParameterBehavior.File", "QgsProcessingParameterFile.Behavior.File")
WKT_PREFERRED_GDAL = first_of("Qgis.CrsWktVariant.PreferredGdal",
                              "QgsCoordinateReferenceSystem.WktVariant.WKT_PREFERRED_GDAL")
RASTER_LAYERS = first_of("Qgis.LayerFilter.RasterLayer", "QgsMapLayerProxyModel.Filter.RasterLayer")
