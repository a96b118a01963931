"""The engine's window notes: made from templates, recognised again, and shown in the user's
language by the interface with the same values."""
from __future__ import annotations

import pytest

from sarcoreg.core import notes


@pytest.mark.parametrize("template", notes.TEMPLATES)
def test_every_note_is_recognised_with_its_values(template):
    values = {"classical": "mind", "apart": 12.345, "matcher": "cfog"}
    note = template.format(**values)
    found = notes.parse(note)
    assert found is not None and found[0] == template
    assert template.format(**{k: values[k] for k in found[1]}) == note
    assert set(found[1]) == set(notes.fields(template))


def test_a_field_used_twice_must_agree_and_other_text_is_not_a_note():
    note = notes.GUARD.format(classical="mind", apart=7.0)
    assert notes.parse(note)[1] == {"classical": "mind", "apart": "7.0"}
    assert notes.parse(note.replace("; mind kept", "; cfog kept")) is None
    assert notes.parse("overlap too small for a coarse pass") is None
    assert notes.parse("") is None


@pytest.mark.qgis
def test_the_interface_has_a_twin_with_the_same_fields_for_every_template(qgis_app):
    from sarcoreg.ui.notes import localised, translated_templates

    twins = translated_templates()
    assert set(twins) == set(notes.TEMPLATES)
    for template, twin in twins.items():
        assert list(notes.fields(twin)) and set(notes.fields(twin)) == set(notes.fields(template)), template
        note = template.format(classical="mind", apart=3.14159, matcher="zncc")
        assert localised(note) == note          # English: the twin gives the engine's own text
