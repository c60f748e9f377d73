"""The score model: parts of notes with onset and duration in quarter lengths, plus key and mode,
meter, tempo and length in bars. Reading and writing MIDI (mido), MusicXML and ABC (music21).

Onsets count from the first downbeat of a *full* first bar: a piece with an anacrusis is stored
with a leading rest, so bar k always starts at ``k * meter.bar_quarters``. ``Score.pickup`` says
how much of that first bar is really there (the anacrusis, written as a short bar numbered 0), and
``Score.bar_numbers`` how the user's score numbers its bars: ``--bars 5-8`` means those numbers.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction

from symphony.music.theory import (
    Key,
    Meter,
    bar_meter_quarters,
    bpm_to_quarter_bpm,
    meter_for_quarters,
    parse_key,
    parse_meter,
)

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
    # the anacrusis: quarters of the short first bar that are written (bwv66.6: 1.0 in 4/4); 0 = none.
    # The first stored bar still spans a whole bar; its first bar_quarters - pickup are not written.
    pickup: float = 0.0
    pickup_completed: bool = False  # the last bar is short by the pickup, completing it
    # the printed number of every bar as the user's file gives them ("0", "1", ... "4", "4a");
    # None: counted (0 for a pickup bar, then 1, 2, ...)
    bar_numbers: list[str] | None = None
    # the user's own barlines other than plain ones, [stored bar (0-based), "left" | "right", kind]
    # with kind "repeat-start", "repeat-end" or a barline style ("double", "final", "heavy" ...),
    # and first/second endings, [first bar, last bar, "1"]; None: none (formats.markings)
    barlines: list[list] | None = None
    endings: list[list] | None = None

    @property
    def bar_quarters(self) -> float:
        return float(self.meter.bar_quarters)

    @property
    def full_bars(self) -> int:
        """The length as a musician counts it: bars 1 onwards. A pickup bar (bar 0) is not a bar;
        with the last bar completing it, the two make one. ``--bars 16`` asks for 16 of these."""
        return self.bars - (1 if self.pickup else 0)

    @property
    def quarter_bpm(self) -> float:
        return bpm_to_quarter_bpm(self.bpm, self.meter)

    def printed_numbers(self) -> list[str]:
        """The printed number of every bar of the score (stored bar k, from 0, is entry k)."""
        n = len(self.bar_meters) if self.bar_meters else self.bars
        given = list(self.bar_numbers or [])[:n]
        first = 0 if self.pickup else 1
        last = int("".join(c for c in given[-1] if c.isdigit()) or 0) if given else first - 1
        return given + [str(last + 1 + k) for k in range(n - len(given))]

    def bar_index(self, number: int | str, last: bool = False) -> int | None:
        """The stored bar (1-based) printed as ``number``: its first bar, or with ``last`` its last
        one (bar 4 split as 4 and 4a ends at 4a); None if no bar is printed so."""
        printed = self.printed_numbers()
        hits = [i + 1 for i, label in enumerate(printed)
                if label == str(number) or (last and label.rstrip("abcdefgh") == str(number))]
        return (hits[-1] if last else hits[0]) if hits else None

    def joined(self) -> "Score":
        """This score (the same notes, not copied) with every split bar joined into the one
        musical bar it is: bar 4 printed as 4 and 4a (two short bars of the meter that together
        make one bar of it, at a repeat or a line break) becomes bar 4 again, so that edits and the
        model see whole bars of the meter. ``bar_meters`` is None when the bars are then all bars
        of the meter; the printed numbers lose the second halves."""
        if not self.bar_meters:
            return self
        bar, meter = self.bar_quarters, str(self.meter)
        starts = [float(s) for s, _ in self.bar_meters]
        ends = starts[1:] + [starts[-1] + float(bar_meter_quarters(self.bar_meters[-1][1]))]
        printed = self.printed_numbers()
        kept, opened = [], None
        for i, ((start, m), end) in enumerate(zip(self.bar_meters, ends)):
            if opened is not None and m == meter and abs(end - opened - bar) < 1e-6:
                opened = None  # the second half of a split bar
                continue
            kept.append(i)
            opened = float(start) if m == meter and end - float(start) < bar - 1e-6 else None
        if len(kept) == len(self.bar_meters):
            return self
        bar_meters = [list(self.bar_meters[i]) for i in kept]
        regular = all(abs(float(s) - k * bar) < 1e-6 and m == meter for k, (s, m) in enumerate(bar_meters))
        return replace(self, bars=len(kept), bar_meters=None if regular else bar_meters,
                       bar_numbers=[printed[i] for i in kept])

    def written_bars(self, by_length: bool = False) -> list[tuple[float, float, str]]:
        """(onset, length, meter) of every bar as a score writes it: a bar split in two (4 and
        4a) is one bar of its meter; a bar longer than its meter says (an irregular bar read
        without a time signature of its own) is in the plainest meter of its length; a shorter
        one is an incomplete bar of its meter (a 1st ending before the next part's upbeat), or
        with ``by_length`` (MIDI, which has no incomplete bars) in the meter of its length too.
        The last bar is as long as its meter (a short last bar completes a pickup)."""
        joined = self.joined()
        if not joined.bar_meters:
            q = self.bar_quarters
            return [(k * q, q, str(self.meter)) for k in range(joined.bars)]
        starts = [float(s) for s, _ in joined.bar_meters]
        out = []
        for k, (start, (_, label)) in enumerate(zip(starts, joined.bar_meters)):
            full = float(bar_meter_quarters(label))
            length = starts[k + 1] - start if k + 1 < len(starts) else full
            if length > full + 1e-6 or (by_length and length < full - 1e-6):
                label = meter_for_quarters(length)
            out.append((start, length, label))
        return out

    def meter_changes(self, by_length: bool = False) -> list[tuple[float, str]]:
        """(onset, meter) where each meter starts, as a score writes its time signatures: the
        first bar's at 0, then every bar whose meter differs from the bar before (a 3/4 bar in a
        2/4 Han song, and the 2/4 after it); bars as ``written_bars`` has them."""
        out: list[tuple[float, str]] = []
        for start, _, label in self.written_bars(by_length):
            if not out or out[-1][1] != label:
                out.append((start, label))
        return out

    def all_notes(self) -> list[Note]:
        return [n for p in self.parts for n in p.notes]

    @property
    def n_notes(self) -> int:
        return sum(len(p.notes) for p in self.parts)

    def to_dict(self) -> dict:
        """A JSON-ready record. Notes stay [pitch, onset, duration] triples; their spellings and
        fermatas, the pickup, the printed bar numbers, barlines and endings are written only where
        there are any."""
        return {
            "title": self.title, **({"composer": self.composer} if self.composer else {}), "style": self.style, "key": str(self.key),
            "meter": str(self.meter), "bpm": self.bpm, "bars": self.bars, "meta": self.meta,
            "chords": [list(c) for c in self.chords], "bar_meters": self.bar_meters,
            **({"pickup": self.pickup, "pickup_completed": self.pickup_completed} if self.pickup else {}),
            **({"bar_numbers": list(self.bar_numbers)} if self.bar_numbers else {}),
            **({"barlines": [list(b) for b in self.barlines]} if self.barlines else {}),
            **({"endings": [list(e) for e in self.endings]} if self.endings else {}),
            "parts": [_part_dict(p) for p in self.parts],
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Score":
        parts = [_part_of(p) for p in d["parts"]]
        meta = dict(d.get("meta", {}))
        bar_meters = d.get("bar_meters", meta.pop("bar_meters", None))  # older caches kept them in meta
        return cls(parts, parse_key(d["key"]), parse_meter(d["meter"]), float(d["bpm"]),
                   int(d["bars"]), d.get("title", ""), d.get("style"), meta,
                   [(float(o), str(c)) for o, c in d.get("chords", [])], bar_meters or None,
                   composer=d.get("composer"), pickup=float(d.get("pickup", 0.0)),
                   pickup_completed=bool(d.get("pickup_completed", False)),
                   bar_numbers=[str(b) for b in d["bar_numbers"]] if d.get("bar_numbers") else None,
                   barlines=[[int(b), str(side), str(kind)] for b, side, kind in d.get("barlines") or []] or None,
                   endings=[[int(a), int(z), str(num)] for a, z, num in d.get("endings") or []] or None)


def _part_dict(p: Part) -> dict:
    out = {"name": p.name, "program": p.program, "notes": [[n.pitch, n.onset, n.duration] for n in p.notes]}
    if any(n.spelling for n in p.notes):
        out["spellings"] = [n.spelling for n in p.notes]
    if any(n.fermata for n in p.notes):
        out["fermatas"] = [i for i, n in enumerate(p.notes) if n.fermata]
    return out


def _part_of(d: dict) -> Part:
    spellings = d.get("spellings") or [None] * len(d["notes"])
    held = set(d.get("fermatas") or ())
    return Part([Note(int(a), float(b), float(c), spelling=s, fermata=i in held)
                 for i, ((a, b, c), s) in enumerate(zip(d["notes"], spellings))],
                d.get("name", ""), int(d.get("program", 0)))


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


