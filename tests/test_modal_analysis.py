"""symphony.music.modes: tonic and mode from the pitch collection and the final, on real
labelled tunes from music21's corpus and on hand-built melodies."""
from __future__ import annotations

from pathlib import Path

import pytest

from symphony.music.modes import analyze_mode, compatible, final_note
from symphony.music.score import Note, Part, Score
from symphony.music.theory import Key, parse_key, parse_meter


def _score(*parts: list[int], durations: list[float] | None = None, key: str = "C major") -> Score:
    ps = []
    for pitches in parts:
        durs = durations or [1.0] * len(pitches)
        onsets = [sum(durs[:i]) for i in range(len(pitches))]
        ps.append(Part([Note(p, o, d) for p, o, d in zip(pitches, onsets, durs)]))
    end = max(n.end for p in ps for n in p.notes)
    return Score(ps, parse_key(key), parse_meter("4/4"), 96, int(end // 4) + 1)


def _oneills(file: str, x: int) -> Score:
    import music21
    from music21 import converter
    from symphony.formats.musicxml import from_music21
    path = Path(music21.__file__).parent / "corpus" / "oneills1850" / file
    return from_music21(converter.parse(str(path), number=x))


# C D E G A, the gong collection on C, as a melody that ends on each of its five notes
GONG_ON_C = [60, 62, 64, 67, 69, 67, 64, 62, 60, 62, 64, 67, 69, 72, 69, 67]


@pytest.mark.parametrize("final,expected", [(64, "E jue"), (67, "G zhi"), (62, "D shang"),
                                            (69, "A yu"), (72, "C gong")])
def test_pentatonic_mode_is_named_by_its_final(final, expected):
    key, ev = analyze_mode(_score(GONG_ON_C + [final]))
    assert key == parse_key(expected)
    assert ev["pentatonic"] and ev["final"] == expected.split()[0]


def test_the_request_and_score_key_are_not_read():
    a = analyze_mode(_score(GONG_ON_C + [64], key="F# locrian"))[0]
    b = analyze_mode(_score(GONG_ON_C + [64], key="C major"))[0]
    assert a == b == Key("E", "jue")


def test_d_dorian_melody_ending_on_d_is_d_dorian_and_with_b_flat_d_minor():
    dorian = [62, 64, 65, 67, 69, 71, 72, 74, 72, 71, 69, 67, 65, 64, 62]  # D E F G A B C D
    assert analyze_mode(_score(dorian))[0] == Key("D", "dorian")
    minor = [p - 1 if p % 12 == 11 else p for p in dorian]  # B -> Bb: the aeolian collection
    assert analyze_mode(_score(minor))[0] == Key("D", "minor")


def test_major_scale_melody_is_major_not_its_pentatonic_subset():
    melody = [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62, 60]
    key, ev = analyze_mode(_score(melody))
    assert key == Key("C", "major")
    assert not ev["pentatonic"] and ev["best_collection"][1] == pytest.approx(1.0)


def test_ornamental_fourth_keeps_a_tune_pentatonic_a_structural_one_does_not():
    short = GONG_ON_C + [65, 64, 62, 60]  # a passing F
    durs = [1.0] * len(GONG_ON_C) + [0.125, 1.0, 1.0, 2.0]
    assert analyze_mode(_score(short, durations=durs))[0] == Key("C", "gong")
    long = GONG_ON_C + [65, 71, 65, 71, 60]  # F and B sounding as long as the other notes
    assert analyze_mode(_score(long))[0] == Key("C", "major")


def test_multi_part_music_takes_the_lowest_voice_final():
    top = [64, 65, 67, 69, 67, 65, 64, 62, 64]  # ends on E
    bass = [48, 53, 55, 45, 43, 41, 43, 43, 48]  # ends on C
    score = _score(top, bass)
    assert final_note(score).pitch == 48
    assert analyze_mode(score)[0] == Key("C", "major")


def test_compatible_scales():
    assert compatible(Key("G", "gong"), Key("G", "major"))
    assert compatible(Key("A", "yu"), Key("A", "dorian"))
    assert not compatible(Key("A", "dorian"), Key("A", "minor"))
    assert not compatible(Key("E", "jue"), Key("C", "major"))


def test_no_notes_is_an_error():
    with pytest.raises(ValueError):
        analyze_mode(Score([Part([])], Key("C", "major"), parse_meter("4/4"), 96, 1))


def test_oneills_dorian_tune_is_a_dorian_where_music21_hears_a_major_or_minor_key():
    from symphony.music.score import analyze_key
    score = _oneills("0201-0300.abc", 216)  # "The Alewoman", K:ADor
    assert analyze_mode(score)[0] == Key("A", "dorian")
    heard = analyze_key(score)
    assert heard.mode in ("major", "minor") and heard != Key("A", "dorian")


def test_oneills_mixolydian_tune_is_d_mixolydian():
    score = _oneills("0001-0050.abc", 46)  # "Barney O'Finnegan", K:Dmix
    key, ev = analyze_mode(score)
    assert key == Key("D", "mixolydian")
    assert ev["final"] == "D" and ev["final_trusted"]
