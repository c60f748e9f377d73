"""The score model: parts of notes with onset and duration in quarter lengths, plus key and mode,
meter, tempo and length in bars. Reading and writing MIDI (mido), MusicXML and ABC (music21).

Onsets count from the first downbeat of a *full* first bar: a piece with an anacrusis is stored
with a leading rest, so bar k always starts at ``k * meter.bar_quarters``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from symphony.music.theory import Key, Meter, bpm_to_quarter_bpm, parse_key, parse_meter

GRID = 24  # positions per quarter note used when rounding durations for notation


@dataclass
class Note:
    pitch: int  # MIDI number
    onset: float  # quarter lengths from the start of the first full bar
    duration: float  # quarter lengths
    velocity: int = 80
    spelling: str | None = None  # as written in the input file (music21 name: 'E#4', 'B-3'); None: from the key
    fermata: bool = False

    @property
    def end(self) -> float:
        return self.onset + self.duration


@dataclass
class Part:
    notes: list[Note] = field(default_factory=list)
    name: str = ""
    program: int = 0  # General MIDI program, 0-based
    instrument: str = ""  # the instrument's name in the input file ("Violin"); "" = from the program
    clef: str = ""  # the input file's clef (music21's class name: "AltoClef"); "" = by the voice or range


@dataclass
class Score:
    parts: list[Part]
    key: Key
    meter: Meter
    bpm: float  # beats of the meter per minute, as musicians count
    bars: int
    title: str = ""
    style: str | None = None
    meta: dict = field(default_factory=dict)  # diagnostics: the resolved request, model time, tokens ...
    chords: list[tuple[float, str]] = field(default_factory=list)  # (onset, chord symbol) to print
    # [onset in quarters, "n/d"] of every bar when the bars are not all of the meter (mixed meters,
    # a chorale's short bars around a repeat); None when every bar is a bar of `meter`
    bar_meters: list[list] | None = None
    explanation: list[str] = field(default_factory=list)  # what was understood and decided, line by line
    provenance: dict | None = None  # the edit that made this score: operation, parameters, seed, input
    source: str | None = None  # the file name this score was read from
    fingerprint: str | None = None  # "sha256:..." of that file
    # the key signature the input file wrote ({"sharps", "mode", "for_key"}), kept on export while
    # the score's key is still the one it was read with (formats.notation.written_signature)
    key_signature: dict | None = None
    composer: str | None = None  # as the input file names them; None for a generated piece
    dynamic: str | None = None  # the dynamic at bar 1 that the mood set ("mp", "f"); None: none printed

    @property
    def bar_quarters(self) -> float:
        return float(self.meter.bar_quarters)

    @property
    def quarter_bpm(self) -> float:
        return bpm_to_quarter_bpm(self.bpm, self.meter)

    def all_notes(self) -> list[Note]:
        return [n for p in self.parts for n in p.notes]

    @property
    def n_notes(self) -> int:
        return sum(len(p.notes) for p in self.parts)

    def to_dict(self) -> dict:
        return {
            "title": self.title, **({"composer": self.composer} if self.composer else {}), "style": self.style, "key": str(self.key),
            "meter": str(self.meter), "bpm": self.bpm, "bars": self.bars, "meta": self.meta,
            "chords": [list(c) for c in self.chords], "bar_meters": self.bar_meters,
            "parts": [{"name": p.name, "program": p.program,
                       "notes": [[n.pitch, n.onset, n.duration] for n in p.notes]}
                      for p in self.parts],
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Score":
        parts = [Part([Note(int(a), float(b), float(c)) for a, b, c in p["notes"]],
                      p.get("name", ""), int(p.get("program", 0))) for p in d["parts"]]
        meta = dict(d.get("meta", {}))
        bar_meters = d.get("bar_meters", meta.pop("bar_meters", None))  # older caches kept them in meta
        return cls(parts, parse_key(d["key"]), parse_meter(d["meter"]), float(d["bpm"]),
                   int(d["bars"]), d.get("title", ""), d.get("style"), meta,
                   [(float(o), str(c)) for o, c in d.get("chords", [])], bar_meters or None,
                   composer=d.get("composer"))


# ----------------------------------------------------------------------------- music21 bridge

def key_from_music21(k) -> Key:
    tonic = k.tonic.name.replace("-", "b")
    mode = k.mode if k.mode in ("major", "minor", "dorian", "phrygian", "lydian", "mixolydian",
                                "locrian") else "major"
    return Key(tonic, mode)


def key_to_music21(key: Key):
    from music21 import key as m21key
    return m21key.Key(key.tonic.replace("b", "-") if len(key.tonic) > 1 else key.tonic,
                      key.reference_mode)


def quantize(x: float) -> Fraction:
    return Fraction(max(1, round(x * GRID)), GRID)


# ----------------------------------------------------------------------------- MIDI


def analyze_key(score: Score) -> Key:
    """music21's Krumhansl-Schmuckler key analysis over all notes of the score."""
    from music21 import note, stream
    s = stream.Stream()
    for n in score.all_notes():
        m = note.Note(n.pitch)
        m.quarterLength = quantize(n.duration)
        s.insert(quantize(n.onset), m)
    return key_from_music21(s.analyze("key"))


# ----------------------------------------------------------------------------- any format


