"""Roman-numeral analysis of what a harmonization wrote (issue 18, item 4): at each chord
change, the notes sounding there are read by music21 (``roman.romanNumeralFromChord``) in the
piece's key, so the numerals describe the written notes, not the plan behind them.

Each entry is a dict ``{"offset", "numeral", "figure", "key"}``: the onset in quarters, the
numeral with its inversion figures as music21 and RomanText write them (``V65``, ``I6``,
``V7/V``, ``viio``), the letter-name chord symbol of the same notes (``D7/C``) and the key.
``display`` turns a numeral into the form printed under the bass staff (``vii°``, ``iiø7``).

>>> from symphony.music.score import Note, Part, Score
>>> from symphony.music.theory import parse_key, parse_meter
>>> s = Score([Part([Note(67, 0, 2), Note(72, 2, 2)]), Part([Note(62, 0, 2), Note(64, 2, 2)]),
...            Part([Note(59, 0, 2), Note(55, 2, 2)]), Part([Note(43, 0, 2), Note(48, 2, 2)])],
...           parse_key("C major"), parse_meter("4/4"), 90, 1)
>>> [(e["offset"], e["numeral"], e["figure"]) for e in analyze(s, [0.0, 2.0])]
[(0.0, 'V', 'G'), (2.0, 'I', 'C')]
"""
from __future__ import annotations

from functools import lru_cache

from symphony.music.score import Score, key_to_music21
from symphony.music.theory import HEPTATONIC, Key

EPS = 1e-6
_LETTERS = "CDEFGAB"
_NATURAL = (0, 2, 4, 5, 7, 9, 11)


def spell(pc: int, key: Key) -> str:
    """music21 name of a pitch class in ``key``: the scale's own letter, else the letter of the
    scale step a semitone below, sharpened (a minor key's raised 6th and 7th, V/V's #4)."""
    tonic_letter = _LETTERS.index(key.tonic[0].upper())
    scale = HEPTATONIC[key.reference_mode]
    for step, semis in enumerate(scale):
        if (key.tonic_pc + semis) % 12 == pc % 12:
            break
    else:
        step = next(s for s, semis in enumerate(scale) if (key.tonic_pc + semis + 1) % 12 == pc % 12) \
            if any((key.tonic_pc + semis + 1) % 12 == pc % 12 for semis in scale) else None
        if step is None:
            return ("C", "C#", "D", "E-", "E", "F", "F#", "G", "G#", "A", "B-", "B")[pc % 12]
    letter = (tonic_letter + step) % 7
    alter = (pc - _NATURAL[letter] + 6) % 12 - 6
    return _LETTERS[letter] + ("#" * alter if alter > 0 else "-" * -alter)


def _sounding(parts, t: float) -> list[int]:
    return sorted({n.pitch for p in parts for n in p.notes if n.onset <= t + EPS < n.end})


@lru_cache(maxsize=64)
def _m21key(key: Key):
    return key_to_music21(key)


@lru_cache(maxsize=4096)
def _read(pitches: tuple[int, ...], key: Key):
    """(music21 RomanNumeral, letter figure) of sounding pitches; cached, as chords recur."""
    from music21 import chord, harmony, pitch, roman
    ch = chord.Chord([pitch.Pitch(spell(p, key) + str(p // 12 - 1)) for p in pitches])
    rn = roman.romanNumeralFromChord(ch, _m21key(key))
    try:
        figure = harmony.chordSymbolFigureFromChord(ch, True)[0].replace("-", "b")
    except Exception:  # music21 raises several kinds of errors for chords it cannot name
        figure = ""
    if "Cannot Be Identified" in figure:
        figure = ""
    return rn, figure


def analyze(score: Score, onsets: list[float], chord_parts: list[int] | None = None) -> list[dict]:
    """The Roman numeral of the notes sounding at each onset. ``chord_parts``: the parts that
    carry the chords (an accompaniment without its melody); by default all. Where those notes
    form no triad or seventh chord (a suspension, a passing note), the lowest parts alone are
    read, dropping the top part first."""
    parts = [score.parts[i] for i in chord_parts] if chord_parts is not None else list(score.parts)
    out = []
    for t in onsets:
        best = None
        for k in range(len(parts)):
            pitches = _sounding(parts[k:], t)
            if len(set(p % 12 for p in pitches)) < 2:
                break
            rn, figure = _read(tuple(pitches), score.key)
            best = best or (rn, figure)
            if rn.isTriad() or rn.isSeventh():
                best = (rn, figure)
                break
        if best is None:
            continue
        rn, figure = best
        out.append({"offset": round(float(t), 6), "numeral": rn.figure, "figure": figure, "key": str(score.key)})
    return out


def display(numeral: str) -> str:
    """The numeral as a teacher writes it under the bass: vii°, iiø7 (music21: viio, ii/o7)."""
    return numeral.replace("/o", "ø").replace("o", "°")


def annotate(score: Score, show: bool = False) -> bool:
    """Add the Roman numerals of a harmonized score to ``score.meta["harmony"]``, at the chord
    changes its harmonizer recorded: four-part harmony (``roman_numerals`` in the meta: all
    voices read) or chord symbols with an accompaniment (``score.chords``: the last part, the
    accompaniment, read without the melody). ``show`` prints them under the bass staff. False when the score has neither."""
    harmony = dict(score.meta.get("harmony") or {})
    if harmony.get("roman_numerals"):
        onsets, parts = [o for o, _ in harmony["roman_numerals"]], None
    elif score.chords and len(score.parts) > 1:
        onsets, parts = [o for o, _ in score.chords], [len(score.parts) - 1]
    else:
        return False
    harmony["numerals"] = analyze(score, onsets, chord_parts=parts)
    harmony["show_numerals"] = bool(show)
    score.meta["harmony"] = harmony
    return True
