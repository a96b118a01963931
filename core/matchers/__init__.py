"""Matcher registry: ``get_matcher(name, **options)`` builds a ``Matcher`` by name.

Built in: ``zncc`` (raw pixels), ``cfog`` and ``mind`` (dense structural descriptors, see
``descriptor.py``). ``DEFAULT_CLASSICAL`` is the classical matcher that scored best on the
evaluation protocol (docs/benchmarks.md). Other matchers register themselves with
``register(name, factory)``; a factory may also be given as ``"module:attribute"``, imported
on first use so that heavy imports (ONNX Runtime) happen only when the matcher is asked for
(a relative module name is resolved from this package: ``"..dcdm.matcher"`` is
``core/dcdm/matcher.py``). ``dcdm`` is pre-registered that way as
``"..dcdm.matcher:DcdmMatcher"``: ``matcher_names()`` lists it only when that module exists
and its ``available()`` (model files present) is true; ``get_matcher("dcdm", **options)``
calls ``DcdmMatcher(**options)`` whenever the module exists, so a missing model is reported
by the matcher itself.
"""
from __future__ import annotations

import importlib
import importlib.util
import math
from dataclasses import fields
from typing import Callable, Dict, List, Union

from ..errors import InputError
from .base import Match, Matcher
from .descriptor import (CfogConfig, DescriptorMatcher, MindConfig, cfog_descriptor, cfog_reach_px,
                         mind_descriptor, mind_reach_px)
from .zncc import ZnccConfig, ZnccMatcher

__all__ = ["Match", "Matcher", "AUTO", "AUTO_PREFERENCE", "COARSE_MATCHER", "DEFAULT_CLASSICAL", "get_matcher", "matcher_names", "register",
           "resolve_name"]

# The classical matcher with the best selection score on the multi-region dev split
# (scripts/choose_on_dev.py: MIND 2.512, CFOG "square" 2.481, 9-orientation CFOG 2.34-2.44).
DEFAULT_CLASSICAL = "mind"
# The coarse pass (core/coarse.py) matches one big downsampled window: the fastest classical.
COARSE_MATCHER = "cfog"
AUTO = "auto"
# What ``auto`` (the default of the command line, the dock and Processing) stands for: the
# first of these that is available. The order is the evidence of the multi-region protocol
# (settings chosen on the dev split with scripts/choose_on_dev.py, reported on the validation
# with scripts/eval_sources.py / `sarcoreg evaluate`; docs/benchmarks.md, models/MODEL_CARD.md).
# On that validation dcdm (translation fused with MIND behind the guard) ties MIND within
# sampling noise at both settings and takes 2-3 times as long, and its translation alone is
# far behind: so auto runs MIND. Put "dcdm" first again once a model beats its classical
# part there.
AUTO_PREFERENCE = (DEFAULT_CLASSICAL, "cfog")

Factory = Callable[..., Matcher]
_REGISTRY: Dict[str, Union[Factory, str]] = {}
# Learned matchers whose module or model may be absent: listed only when available.
_OPTIONAL: Dict[str, str] = {"dcdm": "..dcdm.matcher:DcdmMatcher"}


def _config(config_cls, name: str, options: dict):
    valid = [f.name for f in fields(config_cls)]
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise InputError(
            f"matcher {name!r} has no option {', '.join(unknown)}: valid options are {', '.join(valid)}")
    try:
        return config_cls(**options)
    except (TypeError, ValueError) as exc:
        raise InputError(f"matcher {name!r}: bad option value ({exc})") from None


def _zncc(**options) -> Matcher:
    return ZnccMatcher(_config(ZnccConfig, "zncc", options))


def _cfog(**options) -> Matcher:
    cfg = _config(CfogConfig, "cfog", options)
    border = cfg.border_px or math.ceil(cfog_reach_px(cfg))
    return DescriptorMatcher("cfog", lambda image: cfog_descriptor(image, cfg), border, cfg.exclusion_radius_px, cfg,
                             cfg.min_valid)


def _mind(**options) -> Matcher:
    cfg = _config(MindConfig, "mind", options)
    border = cfg.border_px or math.ceil(mind_reach_px(cfg))
    return DescriptorMatcher("mind", lambda image: mind_descriptor(image, cfg), border, cfg.exclusion_radius_px, cfg,
                             cfg.min_valid)


def register(name: str, factory: Union[Factory, str], replace: bool = False) -> None:
    """Make ``get_matcher(name, **options)`` call ``factory(**options)``.

    ``factory`` is a callable returning a ``Matcher``, or ``"module:attribute"`` naming one
    (imported on first use). Registering a taken name raises ``ValueError`` unless
    ``replace`` is true.
    """
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"matcher name {name!r} must be letters, digits, '-' or '_'")
    if name in _REGISTRY and not replace:
        raise ValueError(f"matcher {name!r} is already registered: pass replace=True to change it")
    if not (callable(factory) or (isinstance(factory, str) and ":" in factory)):
        raise ValueError(f"factory for {name!r} must be callable or 'module:attribute', got {factory!r}")
    _REGISTRY[name] = factory


def _module_name(spec: str) -> str:
    module = spec.split(":", 1)[0]
    return importlib.util.resolve_name(module, __name__) if module.startswith(".") else module


def _importable(spec: str) -> bool:
    try:
        return importlib.util.find_spec(_module_name(spec)) is not None
    except (ImportError, ValueError):
        return False


def _available(spec: str) -> bool:
    """Importable, and the module's ``available()`` (if it has one, e.g. model files present) is true."""
    if not _importable(spec):
        return False
    try:
        check = getattr(importlib.import_module(_module_name(spec)), "available", None)
    except ImportError:
        return False
    return bool(check()) if callable(check) else True


def matcher_names() -> List[str]:
    """Names ``get_matcher`` accepts and can build now, sorted (``dcdm`` once its model files exist)."""
    names = set(_REGISTRY)
    names.update(n for n, spec in _OPTIONAL.items() if n not in _REGISTRY and _available(spec))
    return sorted(names)


def _resolve(spec: str) -> Factory:
    attr = spec.split(":", 1)[1]
    return getattr(importlib.import_module(_module_name(spec)), attr)


def resolve_name(name: str) -> str:
    """``auto`` → the first of ``AUTO_PREFERENCE`` that ``matcher_names()`` lists; other names unchanged."""
    if name != AUTO:
        return name
    names = matcher_names()
    return next((n for n in AUTO_PREFERENCE if n in names), DEFAULT_CLASSICAL)


def get_matcher(name: str, **options) -> Matcher:
    """A new ``Matcher`` called ``name`` (or ``auto``, see ``resolve_name``) built with
    ``options`` (its config's fields).

    Raises ``InputError`` for an unknown name (listing the valid ones) or bad options.
    """
    name = resolve_name(name)
    factory = _REGISTRY.get(name)
    if factory is None and name in _OPTIONAL and _importable(_OPTIONAL[name]):
        factory = _OPTIONAL[name]
    if factory is None:
        raise InputError(f"matcher {name!r} is unknown: use one of {', '.join([AUTO] + matcher_names())}")
    if isinstance(factory, str):
        factory = _resolve(factory)
    return factory(**options)


register("zncc", _zncc)
register("cfog", _cfog)
register("mind", _mind)
