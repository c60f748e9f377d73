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

import re
from functools import lru_cache

from symphony.music.score import Score, key_to_music21
from symphony.music.theory import HEPTATONIC, Key, spell_on

EPS = 1e-6


# semitones over the tonic of the notes outside the scale that are written as the step below
# raised (else as the step above lowered): V/ii's #1, V/V's #4, V/vi's #5 in major; the
# Picardy third, V/V's #4 and the raised 6th and 7th in minor; b3, b7 (bVII, V7/IV) and the
# Neapolitan b2 are flats
RAISED = {"major": {1, 6, 8}, "minor": {4, 6, 9, 11}}


def spell(pc: int, key: Key) -> str:
    """music21 name of a pitch class in ``key``: the scale's own letter, else a raised step
    below or a lowered step above (``RAISED``).

    >>> [spell(pc, Key("C", "major")) for pc in (6, 10, 8)], spell(8, Key("A", "minor"))
    (['F#', 'B-', 'G#'], 'G#')
    """
    scale = HEPTATONIC[key.reference_mode]
    rel = (pc - key.tonic_pc) % 12
    if rel in scale:
        step = scale.index(rel)
    else:
        raised = rel in RAISED.get("minor" if key.is_minor_like else "major", set())
        below = [i for i, semis in enumerate(scale) if (semis + 1) % 12 == rel]
        above = [i for i, semis in enumerate(scale) if (semis - 1) % 12 == rel]
        step = (below or above)[0] if raised else (above or below)[0]
    return spell_on(key.tonic, step, pc, "-")


def _sounding(parts, t: float) -> list[int]:
    return sorted({n.pitch for p in parts for n in p.notes if n.onset <= t + EPS < n.end})


@lru_cache(maxsize=64)
def _m21key(key: Key):
    return key_to_music21(key)


def _within(parts, start: float, end: float) -> list[int]:
    return sorted({n.pitch for p in parts for n in p.notes if n.onset < end - EPS and n.end > start + EPS})


@lru_cache(maxsize=4096)
def _read(pitches: tuple[int, ...], key: Key):
    """(music21 RomanNumeral, letter figure) of sounding pitches; cached, as chords recur."""
    from music21 import chord, harmony, pitch, roman
    ch = chord.Chord([pitch.Pitch(spell(p, key) + str(p // 12 - 1)) for p in pitches])
    rn = roman.romanNumeralFromChord(ch, _m21key(key))
    applied = APPLIED_DOMINANT_ROOTS["minor" if key.is_minor_like else "major"]
    if rn.romanNumeral in applied and rn.impliedQuality == "major" or rn.romanNumeral == "I" and rn.isDominantSeventh():
        rn = roman.romanNumeralFromChord(ch, _m21key(key), preferSecondaryDominants=True)  # D7 in C: V7/V
    try:
        figure = harmony.chordSymbolFigureFromChord(ch, True)[0].replace("-", "b")
    except Exception:  # music21 raises several kinds of errors for chords it cannot name
        figure = ""
    if "Cannot Be Identified" in figure:
        figure = ""
    return rn, figure


def analyze(score: Score, onsets: list[float], chord_parts: list[int] | None = None) -> list[dict]:
    """The Roman numeral of the notes sounding at each onset. ``chord_parts``: the parts that
    carry the chords (an accompaniment without its melody), read over the whole time until the
    next onset, since an accompaniment may spread its chord over the beats (bass, then chord);
    by default all parts, read where the onset sounds. Where those notes form no triad or
    seventh chord (a suspension, a passing note), the lowest parts alone are read, dropping the
    top part first."""
    parts = [score.parts[i] for i in chord_parts] if chord_parts is not None else list(score.parts)
    ends = list(onsets[1:]) + [max((n.end for p in parts for n in p.notes), default=0.0)]
    out = []
    for t, end in zip(onsets, ends):
        best = None
        for k in range(len(parts)):
            pitches = _sounding(parts[k:], t) if chord_parts is None else _within(parts[k:], t, end)
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
        out.append({"offset": round(float(t), 6), "numeral": _figure(rn), "figure": figure, "key": str(score.key)})
    return out


# major chords on these degrees are read as the dominant of another degree (V/V, not II)
APPLIED_DOMINANT_ROOTS = {"major": ("II", "III", "VI", "VII"), "minor": ("II",)}
_INVERSIONS = {False: ("", "6", "64"), True: ("7", "65", "43", "42")}
_ALTERED_FIGURE = re.compile(r"[#b]\d")


def _figure(rn) -> str:
    """music21's figure of a numeral, with the plain inversion figures where music21 spells
    out an altered interval (V7 in minor: 'V75#3' -> 'V7', 'V#643' -> 'V43')."""
    head, _, applied = rn.figure.partition("/")
    if not _ALTERED_FIGURE.search(head[1:]):
        return rn.figure
    figures = _INVERSIONS[bool(rn.isSeventh())]
    inversion = rn.inversion()
    return rn.romanNumeral + (figures[inversion] if inversion < len(figures) else "") + (f"/{applied}" if applied else "")


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
