"""Matcher registry: every matcher describes itself here, and every front end reads it.

``register(name, factory, label=..., learned=..., options=..., shows=..., requires=...)``
adds a matcher; ``matcher_info(name)`` is its ``MatcherInfo`` (what menus, the command
line's help, the dock, Processing and the inspector need to know), ``get_matcher(name,
**options)`` builds it, and ``matcher_for(info, config)`` builds it with the options it
takes from a ``CoregConfig``. No module outside this package (and a matcher's own files)
names a matcher: adding one is one file plus one ``register`` line below.

Built in: ``zncc`` (raw pixels), ``cfog`` and ``mind`` (dense structural descriptors, see
``descriptor.py``). ``DEFAULT_CLASSICAL`` is the classical matcher that scored best on the
evaluation protocol (docs/benchmarks.md). A factory may also be given as
``"module:attribute"``, imported on first use so that heavy imports (ONNX Runtime) happen
only when the matcher is asked for (a relative module name is resolved from this package:
``"..dcdm.matcher"`` is ``core/dcdm/matcher.py``). ``dcdm`` is registered that way and
``optional``: ``matcher_names()`` lists it only when that module exists and its
``available()`` (model files present) is true; ``get_matcher("dcdm", **options)`` calls
``DcdmMatcher(**options)`` whenever the module exists, so a missing model is reported by the
matcher itself.
"""
from __future__ import annotations

import importlib
import importlib.util
import math
from dataclasses import dataclass, fields
from typing import Callable, Dict, List, Tuple, Union

from ..errors import InputError
from .base import Match, Matcher
from .descriptor import (CfogConfig, DescriptorMatcher, MindConfig, cfog_descriptor, cfog_reach_px,
                         mind_descriptor, mind_reach_px)
from .zncc import ZnccConfig, ZnccMatcher

__all__ = ["Match", "Matcher", "MatcherInfo", "AUTO", "AUTO_PREFERENCE", "COARSE_MATCHER", "DEFAULT_CLASSICAL",
           "TEXTBOOK", "TEXTBOOK_CFOG", "TRUTH_CHECKERS", "AGREEING_PAIRS", "evaluation_matcher", "get_matcher", "matcher_choices", "matcher_for", "matcher_info",
           "matcher_names", "register", "resolve_name"]

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

# The textbook CFOG of the literature (|g.u| on 9 orientations, sigma 0.8, [1, 2, 1] along the
# orientation, per-pixel L2 norm, multi-channel ZNCC): the baseline of the validation.
TEXTBOOK_CFOG = {"projection": "abs", "n_orientations": 9, "presmooth_px": 0.0, "sigma_px": 0.8, "norm_floor": 0.0}
# The textbook CFOG by name, for evaluations only (``evaluation_matcher``): a baseline beside
# the registry's matchers, not offered for co-registration.
TEXTBOOK = "textbook-cfog"
# Pairs of unrelated descriptors whose agreement checks a truth a user gives
# (core.pairs_eval): the first pair that was evaluated is used.
AGREEING_PAIRS = (("mind", TEXTBOOK), ("mind", "cfog"))
# Two unrelated matchers whose agreement against a pair's residual marks a window whose truth
# cannot be trusted (core.sources.truth_check): (name, options).
TRUTH_CHECKERS = (("cfog", TEXTBOOK_CFOG), ("mind", {}))

Factory = Callable[..., Matcher]
# the CoregConfig fields a matcher may take as options (``MatcherInfo.options``)
RUN_OPTIONS = ("provider", "batch_size")


@dataclass(frozen=True)
class MatcherInfo:
    """What a matcher is, for the front ends.

    ``label``: one line for menus and help. ``learned``: a trained model (else a classical
    matcher computed in numpy). ``options``: the ``CoregConfig`` fields it takes
    (``RUN_OPTIONS``: the runtime ``provider``, the ``batch_size`` per model call).
    ``shows``: pictures it can make of a window (``"translation"``: ``Match.translated``;
    ``"attention"``: an attention map). ``requires``: Python modules it needs at run time
    (``"onnxruntime"``). ``optional``: listed only when ``available()`` of its module is true.
    """

    name: str
    factory: Union[Factory, str]
    label: str = ""
    learned: bool = False
    options: Tuple[str, ...] = ()
    shows: Tuple[str, ...] = ()
    requires: Tuple[str, ...] = ()
    optional: bool = False

    def describe(self) -> str:
        """``"name: label"`` (or the name alone)."""
        return f"{self.name}: {self.label}" if self.label else self.name


_REGISTRY: Dict[str, MatcherInfo] = {}


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


def register(name: str, factory: Union[Factory, str], label: str = "", learned: bool = False,
             options: Tuple[str, ...] = (), shows: Tuple[str, ...] = (), requires: Tuple[str, ...] = (),
             optional: bool = False, replace: bool = False) -> MatcherInfo:
    """Make ``get_matcher(name, **options)`` call ``factory(**options)``, described by the
    other arguments (see ``MatcherInfo``); returns the ``MatcherInfo``.

    ``factory`` is a callable returning a ``Matcher``, or ``"module:attribute"`` naming one
    (imported on first use). Registering a taken name raises ``ValueError`` unless
    ``replace`` is true.
    """
    if not name or not name.replace("_", "").replace("-", "").isalnum() or name == AUTO:
        raise ValueError(f"matcher name {name!r} must be letters, digits, '-' or '_' (and not {AUTO!r})")
    if name in _REGISTRY and not replace:
        raise ValueError(f"matcher {name!r} is already registered: pass replace=True to change it")
    if not (callable(factory) or (isinstance(factory, str) and ":" in factory)):
        raise ValueError(f"factory for {name!r} must be callable or 'module:attribute', got {factory!r}")
    unknown = sorted(set(options) - set(RUN_OPTIONS))
    if unknown:
        raise ValueError(f"matcher {name!r}: options {unknown} are not run options ({', '.join(RUN_OPTIONS)})")
    if optional and not isinstance(factory, str):
        raise ValueError(f"matcher {name!r}: only a 'module:attribute' factory can be optional")
    info = MatcherInfo(name, factory, label, learned, tuple(options), tuple(shows), tuple(requires), optional)
    _REGISTRY[name] = info
    return info


def unregister(name: str) -> None:
    """Forget ``name`` (a matcher registered for a while, e.g. by a test)."""
    _REGISTRY.pop(name, None)


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


def _listed(info: MatcherInfo) -> bool:
    return not info.optional or _available(info.factory)


def matcher_names(include_unavailable: bool = False) -> List[str]:
    """Names ``get_matcher`` accepts and can build now, sorted (an optional matcher such as
    ``dcdm`` once its model files exist; every registered name with ``include_unavailable``)."""
    return sorted(n for n, info in _REGISTRY.items() if include_unavailable or _listed(info))


def matcher_choices() -> List[str]:
    """``auto`` then ``matcher_names()``: the choices every front end offers."""
    return [AUTO] + matcher_names()


def _resolve(spec: str) -> Factory:
    attr = spec.split(":", 1)[1]
    return getattr(importlib.import_module(_module_name(spec)), attr)


def resolve_name(name: str) -> str:
    """``auto`` → the first of ``AUTO_PREFERENCE`` that ``matcher_names()`` lists; other names unchanged."""
    if name != AUTO:
        return name
    names = matcher_names()
    return next((n for n in AUTO_PREFERENCE if n in names), DEFAULT_CLASSICAL)


def matcher_info(name: str) -> MatcherInfo:
    """The ``MatcherInfo`` of ``name`` (``auto`` resolved); ``InputError`` for an unknown name."""
    info = _REGISTRY.get(resolve_name(name))
    if info is None:
        raise InputError(f"matcher {name!r} is unknown: use one of {', '.join(matcher_choices())}")
    return info


def evaluation_matcher(name: str) -> Matcher:
    """``get_matcher(name)``, or the textbook CFOG named ``TEXTBOOK``."""
    if name != TEXTBOOK:
        return get_matcher(name)
    m = get_matcher("cfog", **TEXTBOOK_CFOG)
    m.name = TEXTBOOK
    return m


def get_matcher(name: str, **options) -> Matcher:
    """A new ``Matcher`` called ``name`` (or ``auto``, see ``resolve_name``) built with
    ``options`` (its config's fields).

    Raises ``InputError`` for an unknown name (listing the valid ones) or bad options.
    """
    info = matcher_info(name)
    factory = info.factory
    if isinstance(factory, str):
        if not _importable(factory):
            raise InputError(f"matcher {info.name!r} is not installed here: use one of "
                             f"{', '.join(matcher_choices())}")
        factory = _resolve(factory)
    return factory(**options)


def matcher_for(name: str, config) -> Matcher:
    """``get_matcher(name)`` with the run options its ``MatcherInfo.options`` names, taken from
    ``config`` (a ``CoregConfig``: e.g. the runtime ``provider`` and ``batch_size``). An option
    left at "derive it" (0 or None, e.g. ``batch_size`` 0) is not passed: the matcher's own
    default applies."""
    info = matcher_info(name)
    values = {opt: getattr(config, opt) for opt in info.options}
    return get_matcher(info.name, **{k: v for k, v in values.items() if v not in (0, None)})


register("zncc", _zncc, "ZNCC of the raw pixels (same sensor, same look)")
register("cfog", _cfog, "CFOG structure descriptor (fastest classical)")
register("mind", _mind, "MIND self-similarity descriptor (best classical on the multi-region validation)")
register("dcdm", "..dcdm.matcher:DcdmMatcher", "learned DCDM: the template translated into SAR look, fused with "
         "its classical part", learned=True, options=("provider", "batch_size"), shows=("translation", "attention"),
         requires=("onnxruntime",), optional=True)
