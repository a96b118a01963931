"""What every sarcoreg algorithm shares: icon, help text, layer → path, option parameters,
error mapping."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from qgis.core import (QgsProcessingAlgorithm, QgsProcessingException, QgsProcessingParameterEnum,
                       QgsProcessingParameterNumber, QgsRasterLayer)
from qgis.PyQt.QtGui import QIcon

from ...compat import NUMBER_INTEGER
from ...ui.i18n import tr, user_language

PLUGIN_DIR = Path(__file__).resolve().parents[2]
RESOURCES = PLUGIN_DIR / "resources"


def icon_path(name: str) -> str:
    """Path of an icon in ``resources/icons`` (or ``resources``)."""
    for folder in (RESOURCES / "icons", RESOURCES):
        if (folder / name).is_file():
            return str(folder / name)
    return str(RESOURCES / "icon.svg")


def help_text(name: str) -> str:
    """The HTML help of ``name`` in QGIS's language, ``resources/help/<lang>/<name>.html``,
    else the English ``resources/help/<name>.html`` ('' when neither exists)."""
    folder = RESOURCES / "help"
    for path in (folder / user_language() / f"{name}.html", folder / f"{name}.html"):
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return ""


def search_tags(english: list, translated: str) -> list:
    """The tags the Processing toolbox searches: ``english`` and, in another language, the
    words of ``translated`` (``tr()`` of the same tags joined by commas) that are new."""
    words = (t.strip() for t in translated.split(","))
    return english + [t for t in words if t and t not in english]


def raster_path(layer: QgsRasterLayer, what: str) -> str:
    """The file a GDAL raster layer reads; a one-line error, naming the layer as ``what``
    ("the optical layer"), for anything else."""
    if layer is None:
        raise QgsProcessingException(tr("{layer} is missing or cannot be opened").format(layer=what))
    if layer.providerType() != "gdal":
        raise QgsProcessingException(
            tr("{layer} '{name}' is served by '{provider}', not a file: save it as a GeoTIFF first "
               "(Export ▸ Save As…)").format(layer=what, name=layer.name(), provider=layer.providerType()))
    return layer.source().split("|")[0]


def enum_param(name: str, description: str, options, default: str) -> QgsProcessingParameterEnum:
    """An enum whose values are the option strings (readable in models and qgis_process)."""
    param = QgsProcessingParameterEnum(name, description, list(options), False, default, False)
    param.setUsesStaticStrings(True)
    return param


def int_param(name: str, description: str, default: int, minimum: int) -> QgsProcessingParameterNumber:
    """An integer parameter with a default and a lower bound."""
    return QgsProcessingParameterNumber(name, description, NUMBER_INTEGER, default, False, minimum)


def choice(alg, parameters, name: str, context, options) -> str:
    """The chosen option string of an enum, whether given as a string or an index."""
    value = alg.parameterAsEnumString(parameters, name, context)
    if value:
        return value
    index = alg.parameterAsEnum(parameters, name, context)
    if 0 <= index < len(options):
        return options[index]
    raise QgsProcessingException(tr("{name}: {value} is not one of {options}").format(
        name=name, value=repr(parameters.get(name)), options=", ".join(options)))


def add_matching_parameters(alg, warp_label: str) -> None:
    """The co-registration options every co-registering algorithm offers, with the engine's
    defaults and option lists: matcher, window, template, spacing, runtime provider, warp (the
    algorithm names them ``MATCHER``, ``WINDOW``, ``TEMPLATE``, ``SPACING``, ``PROVIDER``, ``WARP``)."""
    from ...core.config import PROVIDERS, WARP_CHOICES, CoregConfig
    from ...core.matchers import AUTO, matcher_choices

    d = CoregConfig()
    alg.addParameter(enum_param(alg.MATCHER, tr("Matcher"), matcher_choices(), AUTO))
    alg.addParameter(int_param(alg.WINDOW, tr("SAR window (px)"), d.window_px, 16))
    alg.addParameter(int_param(alg.TEMPLATE, tr("Optical template (px)"), d.template_px, 8))
    alg.addParameter(int_param(alg.SPACING, tr("Spacing of the windows (px, 0: the template size)"), 0, 0))
    alg.addParameter(enum_param(alg.PROVIDER, tr("ONNX Runtime provider (learned matcher)"), PROVIDERS,
                                d.provider))
    alg.addParameter(enum_param(alg.WARP, warp_label, WARP_CHOICES, WARP_CHOICES[0]))


def matching_options(alg, parameters, context) -> dict:
    """``CoregConfig`` keyword arguments from the parameters of ``add_matching_parameters``."""
    from ...core.config import PROVIDERS, WARP_CHOICES
    from ...core.matchers import matcher_choices

    warp = choice(alg, parameters, alg.WARP, context, WARP_CHOICES)
    return dict(matcher=choice(alg, parameters, alg.MATCHER, context, matcher_choices()),
                window_px=alg.parameterAsInt(parameters, alg.WINDOW, context),
                template_px=alg.parameterAsInt(parameters, alg.TEMPLATE, context),
                spacing_px=alg.parameterAsInt(parameters, alg.SPACING, context) or None,
                provider=choice(alg, parameters, alg.PROVIDER, context, PROVIDERS),
                warp=None if warp == WARP_CHOICES[0] else warp)


@contextlib.contextmanager
def engine_errors() -> Iterator[None]:
    """Turn the engine's typed errors into ``QgsProcessingException`` with their one line."""
    from ...core.errors import CancelledError, SarcoregError

    try:
        yield
    except CancelledError as exc:
        raise QgsProcessingException(tr("cancelled: {reason}").format(reason=exc)) from None
    except (SarcoregError, ValueError, OSError, RuntimeError) as exc:
        raise QgsProcessingException(str(exc)) from None


class SarcoregAlgorithm(QgsProcessingAlgorithm):
    """Base: group, icon and help from ``resources/help/[<lang>/]<name>.html``."""

    def group(self) -> str:
        return ""

    def groupId(self) -> str:  # noqa: N802 (QGIS API)
        return ""

    def icon(self) -> QIcon:
        return QIcon(icon_path(f"{self.name()}.svg"))

    def svgIconPath(self) -> str:  # noqa: N802 (QGIS API)
        return icon_path(f"{self.name()}.svg")

    def shortHelpString(self) -> str:  # noqa: N802 (QGIS API)
        return help_text(self.name())

    def helpUrl(self) -> str:  # noqa: N802 (QGIS API)
        return "https://github.com/sarcoreg/sarcoreg#qgis"

    def createInstance(self):  # noqa: N802 (QGIS API)
        return type(self)()
