import doctest

import pytest

import symphony.music.analysis
import symphony.music.phrase
import symphony.music.theory
import symphony.tasks.generate
import symphony.understanding.prompt
from symphony.errors import TheoryError
from symphony.music.theory import Key, meter_for_quarters, parse_key, parse_meter


def test_doctests():
    for mod in (symphony.music.theory, symphony.understanding.prompt, symphony.music.analysis,
                symphony.music.phrase, symphony.tasks.generate):
        failures, _ = doctest.testmod(mod)
        assert failures == 0


@pytest.mark.parametrize("text,tonic,mode", [
    ("D major", "D", "major"), ("Bb minor", "Bb", "minor"), ("F# dorian", "F#", "dorian"),
    ("G zhi", "G", "zhi"), ("a minor", "A", "minor"), ("E-flat major", "Eb", "major"),
    ("C aeolian", "C", "minor"), ("D 羽", "D", "yu"),
])
def test_parse_key(text, tonic, mode):
    assert parse_key(text) == Key(tonic, mode)


@pytest.mark.parametrize("bad", ["H major", "D majestic", "", "42"])
def test_bad_keys_are_clear(bad):
    with pytest.raises(TheoryError, match="unknown key"):
        parse_key(bad)


def test_key_suggestion():
    with pytest.raises(TheoryError, match="did you mean"):
        parse_key("D majr")


def test_pentatonic_modes_are_rotations_of_gong():
    gong = set(parse_key("C gong").scale_semitones())
    # G zhi uses the same pitch classes as C gong.
    zhi = {(s + 7) % 12 for s in parse_key("G zhi").scale_semitones()}
    assert zhi == gong
    yu = {(s + 9) % 12 for s in parse_key("A yu").scale_semitones()}
    assert yu == gong


def test_meters():
    assert parse_meter("6/8").beat_quarters == 1.5
    assert parse_meter("2/2").beat_quarters == 2.0
    assert parse_meter("3/4").bar_quarters == 3
    with pytest.raises(TheoryError):
        parse_meter("7/3")
    assert meter_for_quarters(1) == "1/4"
    assert meter_for_quarters(2.5) == "5/8"
