"""The score model: parts of notes with onset and duration in quarter lengths, plus key and mode,
meter, tempo and length in bars. Reading and writing MIDI (mido), MusicXML and ABC (music21).

Onsets count from the first downbeat of a *full* first bar: a piece with an anacrusis is stored
with a leading rest, so bar k always starts at ``k * meter.bar_quarters``.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from .errors import ScoreReadError, TheoryError
from .theory import (BAR_METERS, SUPPORTED_METERS, Key, Meter, bar_meter_quarters, bpm_to_quarter_bpm,
                     meter_for_quarters, parse_meter, quarter_bpm_to_bpm)

MIDI_TICKS_PER_QUARTER = 480
# Meters stored as several bars of a shorter meter (breve bars of Renaissance polyphony).
SPLIT_METERS = {"4/2": ("2/2", 2), "2/1": ("2/2", 2)}
GRID = 24  # positions per quarter note used when rounding durations for notation
MAX_FILE_BYTES = 20 * 1024 * 1024
MIDI_SUFFIXES = {".mid", ".midi"}
MUSIC21_SUFFIXES = {".xml", ".musicxml", ".mxl", ".abc", ".krn"}


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


@dataclass
class Score:
    parts: list[Part]
    key: Key
    meter: Meter
    bpm: float  # beats of the meter per minute, as musicians count
    bars: int
    title: str = ""
    style: str | None = None
    meta: dict = field(default_factory=dict)
    chords: list[tuple[float, str]] = field(default_factory=list)  # (onset, chord symbol) to print

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
            "title": self.title, "style": self.style, "key": str(self.key),
            "meter": str(self.meter), "bpm": self.bpm, "bars": self.bars, "meta": self.meta,
            "chords": [list(c) for c in self.chords],
            "parts": [{"name": p.name, "program": p.program,
                       "notes": [[n.pitch, n.onset, n.duration] for n in p.notes]}
                      for p in self.parts],
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Score":
        from .theory import parse_key
        parts = [Part([Note(int(a), float(b), float(c)) for a, b, c in p["notes"]],
                      p.get("name", ""), int(p.get("program", 0))) for p in d["parts"]]
        return cls(parts, parse_key(d["key"]), parse_meter(d["meter"]), float(d["bpm"]),
                   int(d["bars"]), d.get("title", ""), d.get("style"), d.get("meta", {}),
                   [(float(o), str(c)) for o, c in d.get("chords", [])])


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


def from_music21(s, style: str | None = None, default_bpm: float = 96.0,
                 analyze_key: bool = True) -> Score:
    """Convert a parsed music21 score (or single part) into a Score.

    Raises ScoreReadError for pieces we cannot represent (meter changes, no notes)."""
    from music21 import meter as m21meter, tempo as m21tempo, stream

    parts = list(s.parts) if s.hasPartLikeStreams() else [s]
    measures = list(parts[0].getElementsByClass(stream.Measure))
    sigs = [ts for ts in parts[0].recurse().getElementsByClass(m21meter.TimeSignature)]
    if not sigs:
        sigs = list(s.recurse().getElementsByClass(m21meter.TimeSignature))
    ratios = [ts.ratioString for ts in sigs] or ["4/4"]
    header = next((SPLIT_METERS.get(r, (r, 1))[0] for r in ratios
                   if SPLIT_METERS.get(r, (r, 1))[0] in SUPPORTED_METERS), None)
    if header is None:
        raise ScoreReadError(f"unsupported meter {ratios[0]!r}")
    meter = parse_meter(header)
    bar = float(meter.bar_quarters)
    marks = list(s.recurse().getElementsByClass(m21tempo.MetronomeMark))
    bpm = quarter_bpm_to_bpm(marks[0].getQuarterBPM(), meter) if marks and marks[0].number else default_bpm
    shift = 0.0
    if measures:
        first = float(measures[0].duration.quarterLength)
        first_meter = float(bar_meter_quarters(ratios[0])) if ratios[0] in BAR_METERS + SUPPORTED_METERS else bar
        if 0 < first < first_meter - 1e-6:
            shift = first_meter - first
    meta: dict = {}
    bar_meters, current = [], ratios[0]
    for i, m in enumerate(measures):
        if m.timeSignature is not None:
            current = m.timeSignature.ratioString
        if current not in BAR_METERS and current not in SUPPORTED_METERS:
            raise ScoreReadError(f"unsupported meter {current!r}")
        start = 0.0 if i == 0 else float(m.offset) + shift
        if current in SPLIT_METERS:  # a 4/2 bar of Palestrina is written as two 2/2 bars
            half, k = SPLIT_METERS[current]
            length = float(bar_meter_quarters(half))
            filled = float(m.duration.quarterLength) + (shift if i == 0 else 0.0)
            bar_meters += [[round(start + j * length, 6), half] for j in range(k)
                           if j == 0 or j * length < filled - 1e-6]
            continue
        bar_meters.append([round(start, 6), current])
    regular = all(abs(start - i * bar) < 1e-6 and m == header for i, (start, m) in enumerate(bar_meters))
    if not regular:
        # Mixed meters (common in the Han Chinese songs) or irregular bars: remember each bar.
        for (a, _), (b, _) in zip(bar_meters, bar_meters[1:]):
            try:
                meter_for_quarters(Fraction(b - a).limit_denominator(96))
            except TheoryError as e:
                raise ScoreReadError(f"irregular bar: {e}") from e
        meta["bar_meters"] = bar_meters
    out_parts = []
    from . import notation
    for p in parts:
        notes = []
        held = notation.fermata_spans(p)
        for el in p.stripTies().flatten().notes:
            dur = float(el.quarterLength)
            if dur <= 0:  # grace notes
                continue
            onset = float(el.offset) + shift
            for pitch in el.pitches:
                notes.append(Note(int(pitch.midi), round(onset, 6), round(dur, 6),
                                  spelling=pitch.nameWithOctave,
                                  fermata=held(float(el.offset), dur, int(pitch.midi))))
        notes.sort(key=lambda n: (n.onset, n.pitch))
        if notes:
            name = p.partName if hasattr(p, "partName") and p.partName else ""
            out_parts.append(Part(notes, name or ""))
    if not out_parts:
        raise ScoreReadError("the score has no notes")
    end = max(n.end for p in out_parts for n in p.notes)
    bars = len(meta["bar_meters"]) if meta else max(1, math.ceil(end / bar - 1e-6))
    if analyze_key:
        key = key_from_music21(s.analyze("key"))
    else:
        key = Key("C", "major")
    title = s.metadata.title if getattr(s, "metadata", None) is not None and s.metadata.title else ""
    signature = notation.read_signature(parts[0], key)
    if signature:
        meta["key_signature"] = signature
    return Score(out_parts, key, meter, round(bpm, 3), bars, title or "", style, meta)


def _chord_symbol(figure: str):
    """A music21 ChordSymbol for a letter-name figure (Bb7 -> B-7); unreadable ones as text."""
    import re
    from music21 import expressions, harmony
    try:
        return harmony.ChordSymbol(re.sub(r"^([A-G])b", r"\1-", re.sub(r"/([A-G])b", r"/\1-", figure)))
    except Exception:  # music21 raises several kinds of errors for figures it cannot read
        return expressions.TextExpression(figure)


def _ql(x: float) -> Fraction:
    return Fraction(max(1, round(x * GRID)), GRID)


def to_music21(score: Score):
    """Build a music21 Score for notation export (MusicXML)."""
    from dataclasses import replace

    from music21 import instrument, metadata, stream, tempo
    from music21 import meter as m21meter

    from . import notation

    s = stream.Score()
    s.metadata = metadata.Metadata()
    s.metadata.title = score.title or "Symphony"
    for i, part in enumerate(score.parts):
        p = stream.Part()
        p.partName = part.name or f"Part {i + 1}"
        inst = instrument.instrumentFromMidiProgram(part.program)
        p.insert(0, inst)
        signature = notation.written_signature(score)
        p.insert(0, signature)
        p.insert(0, m21meter.TimeSignature(str(score.meter)))
        if i == 0:
            beat = m21meter.TimeSignature(str(score.meter)).beatDuration
            p.insert(0, tempo.MetronomeMark(number=round(score.bpm), referent=beat))
            for onset, figure in score.chords:
                p.insert(_ql(onset) if onset > 0 else 0, _chord_symbol(figure))
        groups: dict[tuple[float, float], list[Note]] = {}
        names = notation.spell_part(part.notes, score.key)
        for n, name in zip(part.notes, names):
            groups.setdefault((n.onset, n.duration), []).append(replace(n, spelling=name))
        for (onset, dur), group in sorted(groups.items(), key=lambda g: g[0]):
            el = notation.music21_element(group)
            el.quarterLength = _ql(dur)
            p.insert(_ql(onset) if onset > 0 else 0, el)
        end = score.bars * score.bar_quarters
        p.makeRests(fillGaps=True, inPlace=True, timeRangeFromBarDuration=True, refStreamOrTimeRange=[0, end])
        notation.finish_part(p, notation.m21_signature_alters(signature))
        s.insert(0, p)
    return s


# ----------------------------------------------------------------------------- MIDI

def write_midi(score: Score, path: str | os.PathLike) -> None:
    import mido

    tpq = MIDI_TICKS_PER_QUARTER
    mid = mido.MidiFile(ticks_per_beat=tpq, type=1)
    conductor = mido.MidiTrack()
    # MIDI text is bytes and mido writes latin-1: a title outside latin-1 (a Chinese prompt) is
    # stored as its UTF-8 bytes instead of failing to encode.
    title = (score.title or "Symphony").encode("utf-8").decode("latin-1")
    conductor.append(mido.MetaMessage("track_name", name=title, time=0))
    conductor.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(score.quarter_bpm), time=0))
    conductor.append(mido.MetaMessage("time_signature", numerator=score.meter.numerator,
                                      denominator=score.meter.denominator, time=0))
    conductor.append(mido.MetaMessage("key_signature", key=_midi_key_name(score.key), time=0))
    now = 0
    for onset, figure in sorted(score.chords):  # chord symbols as MIDI markers
        tick = round(onset * tpq)
        conductor.append(mido.MetaMessage("marker", text=figure, time=tick - now))
        now = tick
    end_tick = round(score.bars * score.bar_quarters * tpq)
    conductor.append(mido.MetaMessage("end_of_track", time=max(0, end_tick - now)))
    mid.tracks.append(conductor)
    for i, part in enumerate(score.parts):
        ch = i if i < 9 else i + 1
        events = []
        for n in part.notes:
            events.append((round(n.onset * tpq), 1, n.pitch, n.velocity))
            events.append((round(n.end * tpq), 0, n.pitch, 0))
        events.sort()
        tr = mido.MidiTrack()
        tr.append(mido.MetaMessage("track_name", name=part.name or f"Part {i + 1}", time=0))
        tr.append(mido.Message("program_change", program=part.program, channel=ch, time=0))
        now = 0
        for tick, on, pitch, vel in events:
            kind = "note_on" if on else "note_off"
            tr.append(mido.Message(kind, note=pitch, velocity=vel, channel=ch, time=tick - now))
            now = tick
        tr.append(mido.MetaMessage("end_of_track", time=max(0, end_tick - now)))
        mid.tracks.append(tr)
    mid.save(str(path))


def _midi_key_name(key: Key) -> str:
    """MIDI key signatures only know major and minor: use the signature of the mode's scale."""
    from .theory import SHARP_NAMES
    ref = key.reference_mode
    if ref in ("major", "minor"):
        return _spell(key.tonic) + ("m" if ref == "minor" else "")
    # semitones from the major tonic of the same signature up to the mode's tonic
    ionian_rotation = {"dorian": 2, "phrygian": 4, "lydian": 5, "mixolydian": 7, "locrian": 11}
    return SHARP_NAMES[(key.tonic_pc - ionian_rotation[ref]) % 12]


def _spell(tonic: str) -> str:
    valid = {"C", "C#", "Db", "D", "Eb", "E", "F", "F#", "Gb", "G", "Ab", "A", "Bb", "B", "Cb"}
    if tonic in valid:
        return tonic
    from .theory import SHARP_NAMES, pitch_class
    return SHARP_NAMES[pitch_class(tonic)]


def read_midi(path: str | os.PathLike) -> Score:
    import mido
    try:
        mid = mido.MidiFile(str(path))
    except Exception as e:  # mido raises many types (OSError, EOFError, KeyError, ValueError)
        raise ScoreReadError(f"cannot read MIDI file {os.fspath(path)!r}: {e or type(e).__name__}") from e
    tpq = mid.ticks_per_beat
    qbpm, meter_txt, key_txt = 120.0, "4/4", None
    parts: dict[tuple[int, int], Part] = {}
    chords: list[tuple[float, str]] = []
    for ti, track in enumerate(mid.tracks):
        tick, active, programs = 0, {}, {}
        for msg in track:
            tick += msg.time
            if msg.type == "marker" and msg.text.strip():
                chords.append((tick / tpq, msg.text.strip()))
            elif msg.type == "set_tempo" and tick == 0:
                qbpm = mido.tempo2bpm(msg.tempo)
            elif msg.type == "time_signature" and tick == 0:
                meter_txt = f"{msg.numerator}/{msg.denominator}"
            elif msg.type == "key_signature" and key_txt is None:
                key_txt = msg.key
            elif msg.type == "program_change":
                programs[msg.channel] = msg.program
            elif msg.type in ("note_on", "note_off"):
                k = (msg.channel, msg.note)
                if msg.type == "note_on" and msg.velocity > 0:
                    active[k] = (tick, msg.velocity)
                elif k in active:
                    start, vel = active.pop(k)
                    if tick > start and msg.channel != 9:
                        part = parts.setdefault((ti, msg.channel), Part(program=programs.get(msg.channel, 0)))
                        part.notes.append(Note(msg.note, start / tpq, (tick - start) / tpq, vel))
    parts_list = [p for _, p in sorted(parts.items()) if p.notes]
    if not parts_list:
        raise ScoreReadError(f"MIDI file {os.fspath(path)!r} has no notes")
    for p in parts_list:
        p.notes.sort(key=lambda n: (n.onset, n.pitch))
    try:
        meter = parse_meter(meter_txt)
    except TheoryError:
        meter = parse_meter("4/4")
    end = max(n.end for p in parts_list for n in p.notes)
    bars = max(1, math.ceil(end / float(meter.bar_quarters) - 1e-6))
    key = analyze_key(Score(parts_list, Key("C", "major"), meter, 0, bars))
    return Score(parts_list, key, meter, round(quarter_bpm_to_bpm(qbpm, meter), 3), bars, chords=sorted(chords))


def analyze_key(score: Score) -> Key:
    """music21's Krumhansl-Schmuckler key analysis over all notes of the score."""
    from music21 import note, stream
    s = stream.Stream()
    for n in score.all_notes():
        m = note.Note(n.pitch)
        m.quarterLength = _ql(n.duration)
        s.insert(_ql(n.onset), m)
    return key_from_music21(s.analyze("key"))


# ----------------------------------------------------------------------------- any format

def read_score(path: str | os.PathLike, style: str | None = None) -> Score:
    """Read a MIDI, MusicXML, ABC or Humdrum file (the first tune of a multi-tune ABC file)."""
    p = Path(path)
    if not p.is_file():
        raise ScoreReadError(f"no such file: {os.fspath(path)!r}")
    if p.stat().st_size > MAX_FILE_BYTES:
        raise ScoreReadError(f"{p.name} is larger than {MAX_FILE_BYTES // 2**20} MB")
    suffix = p.suffix.lower()
    if suffix in MIDI_SUFFIXES:
        score = read_midi(p)
        score.style = style
        return score
    if suffix not in MUSIC21_SUFFIXES:
        raise ScoreReadError(f"unsupported file type {suffix!r} for {p.name} "
                             f"(use .mid, .musicxml, .mxl, .abc or .krn)")
    from music21 import converter
    try:
        parsed = converter.parse(str(p))
    except Exception as e:  # music21 raises a wide range of errors on corrupt input
        raise ScoreReadError(f"cannot read {p.name}: {type(e).__name__}: {e}".split("\n")[0]) from e
    if hasattr(parsed, "scores") and not hasattr(parsed, "parts"):
        scores = list(parsed.scores)
        if not scores:
            raise ScoreReadError(f"{p.name} contains no tunes")
        parsed = scores[0]
    try:
        return from_music21(parsed, style=style)
    except ScoreReadError:
        raise
    except Exception as e:
        raise ScoreReadError(f"cannot interpret {p.name}: {type(e).__name__}: {e}") from e


def write_musicxml(score: Score, path: str | os.PathLike) -> None:
    s = to_music21(score)
    s.write("musicxml", fp=str(path))


def write_json(data: dict, path: str | os.PathLike) -> None:
    Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
