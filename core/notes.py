"""The notes the engine attaches to a window, as templates (``str.format``), so that a front
end can recognise a note and show it in the user's language (``ui/notes.py``). The engine
writes them in English into ``report.json`` and the tie points; the values are formatted in
the template's own way (e.g. ``{apart:.1f}``)."""
from __future__ import annotations

import re
from typing import Dict, Optional

# core/dcdm/matcher.py: the fused peak strayed from the classical part's, which is kept
GUARD = "guard: learned and {classical} peaks {apart:.1f} px apart; {classical} kept"
# core/dcdm/matcher.py: the translation alone and the classical part disagree (report.json unsure_windows)
UNSURE = "unsure: translation alone and {classical} peaks {apart:.1f} px apart"
# core/revisit.py: why the inspector has no translated template
NO_TRANSLATION_CLASSICAL = ("not available for {matcher}: it compares the images as they are (a classical matcher "
                            "compares structure descriptors), it does not translate the template")
NO_TRANSLATION = "the {matcher} matcher returned no translation"

TEMPLATES = (GUARD, UNSURE, NO_TRANSLATION_CLASSICAL, NO_TRANSLATION)

_FIELD = re.compile(r"\{(\w+)(?::[^}]*)?\}")


def _pattern(template: str) -> "re.Pattern":
    """A regular expression that matches ``template`` formatted with any values, one named
    group per field (a field used twice must have the same value)."""
    out, seen, pos = [], set(), 0
    for m in _FIELD.finditer(template):
        out.append(re.escape(template[pos:m.start()]))
        name = m.group(1)
        out.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
        seen.add(name)
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("".join(out))


_PATTERNS = {t: _pattern(t) for t in TEMPLATES}


def parse(note: str) -> Optional[tuple]:
    """``(template, {field: text})`` of a note made from one of ``TEMPLATES``, else ``None``."""
    for template, pattern in _PATTERNS.items():
        m = pattern.fullmatch(note or "")
        if m:
            return template, m.groupdict()
    return None


def fields(template: str) -> Dict[str, None]:
    """The field names of ``template``, in order, once each."""
    return dict.fromkeys(m.group(1) for m in _FIELD.finditer(template))
