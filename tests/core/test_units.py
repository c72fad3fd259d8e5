"""Numbers with their units, as a sentence says them."""

import pytest

from core.templatetags.units import with_unit


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (1, "semitones", "1 semitone"),
        (-1.0, "semitones", "-1 semitone"),
        (0.5, "semitones", "0.5 semitones"),
        (12, "semitones", "12 semitones"),
        (1, "dB", "1 dB"),
        (1.25, "×", "1.25×"),
        (0.1, "s", "0.1 s"),
        (3, "", "3"),
        ("n/a", "s", "n/a s"),
    ],
)
def test_a_word_unit_is_singular_for_one_and_symbols_never_change(value, unit, text):
    assert with_unit(value, unit) == text
