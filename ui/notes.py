"""The engine's window notes (``core/notes.py``) in the user's language.

Each template of the engine has its translatable twin here, with the same fields; a note is
recognised by its template, and the twin is filled with the note's own values (already
formatted by the engine, e.g. "6.3"). A note the engine does not make from a template is
shown as it is.
"""
from __future__ import annotations

from ..core import notes
from .i18n import tr


def translated_templates() -> dict:
    """``{engine template: its translation}``: the literals stay here, for the catalog."""
    return {
        notes.GUARD: tr("guard: learned and {classical} peaks {apart} px apart; {classical} kept"),
        notes.UNSURE: tr("unsure: translation alone and {classical} peaks {apart} px apart"),
        notes.NO_TRANSLATION_CLASSICAL: tr(
            "not available for {matcher}: it compares the images as they are (a classical matcher compares "
            "structure descriptors), it does not translate the template"),
        notes.NO_TRANSLATION: tr("the {matcher} matcher returned no translation"),
    }


def localised(note: str) -> str:
    """``note`` in the user's language when the engine made it from a template, else as it is."""
    found = notes.parse(note)
    if found is None:
        return note
    template, values = found
    return translated_templates()[template].format(**values)
