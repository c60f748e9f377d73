"""Voice-leading measures (DESIGN.md "Measures": Harmony) on hand-built progressions with known
parallels, crossings and range violations, on real Bach, and against music21's own checks."""
import random

import pytest

from symphony.evaluation.voiceleading import analyze, combine, slices, voice_ranges
from symphony.decoding.sampler import DEFAULT_RANGES
from symphony.music.score import Note, Part, Score
from symphony.formats.files import read_score
from symphony.music.theory import parse_key, parse_meter

from .conftest import DATA


def chorale(*chords, durations=None):
    """A four-part Score from chords written top voice first, one per quarter note."""
    durations = durations or [1.0] * len(chords)
    parts = [Part() for _ in range(4)]
    t = 0.0
    for chord, d in zip(chords, durations):
        for v, p in enumerate(chord):
            if p is not None:
                parts[v].notes.append(Note(p, t, d))
        t += d
    bars = max(1, int(-(-t // 4)))
    return Score(parts, parse_key("C major"), parse_meter("4/4"), 80, bars)


def test_clean_progression_has_no_faults():
    # I IV V I in C, textbook voice leading (contrary motion against the bass)
    s = chorale((72, 67, 64, 48), (72, 69, 65, 53), (71, 67, 62, 55), (72, 67, 64, 48))
    r = analyze(s)
    assert r["slices"] == 4 and r["transitions"] == 3 * 6
    assert r["parallels"] == r["crossings"] == r["range_violations"] == 0
    assert r["parallels_per_100"] == 0.0


def test_parallel_fifths_and_octaves_are_found():
    # C-G-E-C to D-A-F-D, all voices up: S/B double octaves (24 -> 24 semitones) and A/B
    # twelfths (19 -> 19) are parallel; S/A fourths, S/T, A/T and T/B sixths/thirds are not
    s = chorale((72, 67, 64, 48), (74, 69, 65, 50))
    r = analyze(s, keep_events=True)
    assert r["transitions"] == 6
    assert r["parallel_octaves"] == 1 and r["events"]["parallel_octaves"] == [(1.0, 0, 3)]
    assert r["parallel_fifths"] == 1 and r["events"]["parallel_fifths"] == [(1.0, 1, 3)]
    assert r["parallels_per_100"] == pytest.approx(100 * 2 / 6)
    assert r["parallel_fifths_per_100"] == pytest.approx(100 / 6)


def test_not_parallel_when_a_voice_holds_or_moves_the_other_way():
    # fifths in both chords, but the bass holds (oblique) or moves down (contrary: 5ths by
    # contrary motion do not count under the "same direction" definition)
    oblique = chorale((79, 72, 64, 60), (79, 74, 67, 60))  # S/B 19 -> 19 with both S and B held
    contrary = chorale((79, 71, 67, 48), (74, 71, 67, 55))  # S/B 31 -> 19 (both 7 mod 12), opposite ways
    assert analyze(oblique)["parallels"] == 0
    assert analyze(contrary)["parallels"] == 0
    # unison to octave in the same direction counts as parallel octaves (0 mod 12 both times)
    r = analyze(chorale((67, 64, 64, 48), (69, 67, 55, 50)), keep_events=True)
    assert (1.0, 1, 2) not in r["events"]["parallel_octaves"]  # A up, T down: contrary
    r = analyze(chorale((67, 64, 64, 48), (69, 67, 67, 50)), keep_events=True)
    assert (1.0, 1, 2) in r["events"]["parallel_octaves"]  # unison -> unison, both up


def test_crossings_and_ranges():
    # tenor above alto in the second chord; bass below E2 and soprano above A5 in the third
    s = chorale((72, 64, 55, 48), (72, 60, 64, 48), (84, 67, 60, 36))
    r = analyze(s, keep_events=True)
    assert r["crossings"] == 1 and r["events"]["crossings"] == [(1.0, 1, 2)]
    assert r["crossings_per_100_slices"] == pytest.approx(100 / 3)
    assert r["range_violations"] == 2 and r["range_violations_per_voice"] == [1, 0, 0, 1]
    assert r["range_violations_per_100_notes"] == pytest.approx(100 * 2 / 12)
    assert voice_ranges(4) == DEFAULT_RANGES[4] == [(60, 81), (53, 74), (48, 69), (40, 62)]


def test_slices_hold_sounding_notes_and_rests():
    # soprano holds a half note while the lower voices move in quarters; the alto rests at first
    s = Score([Part([Note(72, 0, 2)]), Part([Note(67, 1, 1)]), Part([Note(64, 0, 1), Note(62, 1, 1)]),
               Part([Note(48, 0, 1), Note(55, 1, 1)])], parse_key("C major"), parse_meter("4/4"), 80, 1)
    assert slices(s) == [(0.0, [72, None, 64, 48]), (1.0, [72, 67, 62, 55])]
    r = analyze(s)
    assert r["transitions"] == 3  # only the pairs without the alto sound in both slices
    # S holds (no motion), and T/B goes from 16 to 7 semitones: not a fifth both times
    assert r["parallels"] == 0


def test_combine_pools_counts():
    a = analyze(chorale((72, 67, 64, 48), (74, 69, 65, 50)))
    b = analyze(chorale((72, 67, 64, 48), (72, 69, 65, 53)))
    c = combine([a, b])
    assert c["transitions"] == 12 and c["parallels"] == 2 and c["pieces"] == 2
    assert c["parallels_per_100"] == pytest.approx(100 * 2 / 12)


def test_agrees_with_music21_on_natural_notes():
    """On notes without accidentals (spelling cannot differ) our parallels are music21's."""
    from music21 import note, voiceLeading
    white = [p for p in range(40, 84) if p % 12 in (0, 2, 4, 5, 7, 9, 11)]
    rng = random.Random(0)
    checked = found = 0
    for _ in range(3000):
        hi1, lo1 = sorted(rng.sample(white, 2), reverse=True)
        hi2 = white[min(max(white.index(hi1) + rng.randint(-3, 3), 0), len(white) - 1)]
        lo2 = white[min(max(white.index(lo1) + rng.randint(-3, 3), 0), len(white) - 1)]
        if lo2 >= hi2 or lo1 >= hi1:
            continue
        s = Score([Part([Note(hi1, 0, 1), Note(hi2, 1, 1)]), Part([Note(lo1, 0, 1), Note(lo2, 1, 1)])],
                  parse_key("C major"), parse_meter("4/4"), 80, 1)
        ours = analyze(s, ranges=[(0, 127)] * 2, voices=2)["parallels"] == 1
        q = voiceLeading.VoiceLeadingQuartet(note.Note(hi1), note.Note(hi2), note.Note(lo1), note.Note(lo2))
        theirs = bool(q.parallelFifth() or q.parallelUnisonOrOctave())
        assert ours == theirs, (hi1, hi2, lo1, lo2)
        checked += 1
        found += ours
    assert checked > 1000 and found > 10


def test_bach_has_few_faults():
    s = read_score(DATA / "bwv66.6.mxl")
    r = analyze(s)
    assert r["transitions"] > 250 and r["slices"] > 40
    assert r["parallels_per_100"] < 1.0
    assert r["crossings_per_100_slices"] < 5.0
    assert r["range_violations"] == 0
    pooled = combine([analyze(read_score(p)) for p in sorted(DATA.glob("bwv*.mxl"))])
    assert pooled["parallels_per_100"] < 1.0 and pooled["range_violations_per_100_notes"] < 2.0


def test_needs_four_parts():
    with pytest.raises(ValueError):
        analyze(Score([Part([Note(60, 0, 1)])], parse_key("C major"), parse_meter("4/4"), 80, 1))
