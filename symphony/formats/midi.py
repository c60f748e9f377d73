"""MIDI in and out through mido, from our own score model (music21 cannot write some
single-part scores parsed from ABC to MIDI)."""
from __future__ import annotations

import math
import os
from typing import BinaryIO

from symphony.errors import ScoreReadError, TheoryError
from symphony.music.analysis import bar_starts
from symphony.music.pickup import upbeat_length
from symphony.music.score import Note, Part, Score, analyze_key
from symphony.music.theory import (
    BAR_METERS,
    SHARP_NAMES,
    SUPPORTED_METERS,
    Key,
    bar_meter_quarters,
    parse_key,
    parse_meter,
    pitch_class,
    quarter_bpm_to_bpm,
)

MIDI_TICKS_PER_QUARTER = 480


MIDI_SUFFIXES = {".mid", ".midi"}


def write_midi(score: Score, path: str | os.PathLike | BinaryIO) -> None:
    """Write a MIDI file to a path or an open binary file."""
    import mido

    tpq = MIDI_TICKS_PER_QUARTER
    mid = mido.MidiFile(ticks_per_beat=tpq, type=1)
    conductor = mido.MidiTrack()
    # MIDI text is bytes and mido writes latin-1: a title outside latin-1 (a Chinese prompt) is
    # stored as its UTF-8 bytes instead of failing to encode.
    title = (score.title or "Symphony").encode("utf-8").decode("latin-1")
    conductor.append(mido.MetaMessage("track_name", name=title, time=0))
    conductor.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(score.quarter_bpm), time=0))
    # the first meter, then every change (a 3/4 bar among 2/4, a short bar in the meter of its length)
    changes = score.meter_changes(by_length=True)
    conductor.append(mido.MetaMessage("time_signature", numerator=score.meter.numerator,
                                      denominator=score.meter.denominator, time=0))
    conductor.append(mido.MetaMessage("key_signature", key=_midi_key_name(score.key), time=0))
    timed = [(round(onset * tpq), 1, "marker", {"text": figure})  # chord symbols as MIDI markers
             for onset, figure in score.chords]
    timed += [(round(onset * tpq), 0, "time_signature",
               {"numerator": int(m.split("/")[0]), "denominator": int(m.split("/")[1])})
              for onset, m in changes if onset > 0 or m != str(score.meter)]
    for onset, key_txt in (score.meta or {}).get("key_changes", []):  # e.g. a bridge into B's key
        if onset > 0:
            timed.append((round(onset * tpq), 0, "key_signature", {"key": _midi_key_name(parse_key(key_txt))}))
    now = 0
    for tick, _, kind, fields in sorted(timed, key=lambda t: (t[0], t[1])):
        conductor.append(mido.MetaMessage(kind, time=tick - now, **fields))
        now = tick
    end_tick = round(bar_starts(score)[-1] * tpq)
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
    if hasattr(path, "write"):
        mid.save(file=path)
    else:
        mid.save(str(path))


def _midi_key_name(key: Key) -> str:
    """MIDI key signatures only know major and minor: use the signature of the mode's scale."""
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
    return SHARP_NAMES[pitch_class(tonic)]


def _midi_reason(e: Exception) -> str:
    """A reason a musician can act on for mido's error (EOFError has no message at all)."""
    if isinstance(e, EOFError):
        return "the file is empty or cut short (truncated)"
    text = " ".join(str(e).split())
    if "MThd" in text or "header" in text.lower():
        return f"not a Standard MIDI File ({text})"
    return text or type(e).__name__


def read_midi(path: str | os.PathLike | BinaryIO, name: str | None = None) -> Score:
    """A MIDI file by path, or from an open binary file (``name`` names it in messages)."""
    import mido
    try:
        mid = mido.MidiFile(file=path) if hasattr(path, "read") else mido.MidiFile(str(path))
    except Exception as e:  # mido raises many types (OSError, EOFError, KeyError, ValueError)
        where = name or (os.fspath(path) if not hasattr(path, "read") else "upload")
        raise ScoreReadError(f"cannot read MIDI file {where!r}: {_midi_reason(e)}") from e
    tpq = mid.ticks_per_beat
    qbpm, key_txt = 120.0, None
    meters: list[tuple[int, str]] = []  # (tick, "n/d") of every time signature
    parts: dict[tuple[int, int], Part] = {}
    chords: list[tuple[float, str]] = []
    key_changes: list[tuple[float, str]] = []  # (onset, MIDI key name) after the first
    for ti, track in enumerate(mid.tracks):
        tick, active, programs = 0, {}, {}
        for msg in track:
            tick += msg.time
            if msg.type == "marker" and msg.text.strip():
                chords.append((tick / tpq, msg.text.strip()))
            elif msg.type == "set_tempo" and tick == 0:
                qbpm = mido.tempo2bpm(msg.tempo)
            elif msg.type == "time_signature":
                meters.append((tick, f"{msg.numerator}/{msg.denominator}"))
            elif msg.type == "key_signature" and key_txt is None:
                key_txt = msg.key
            elif msg.type == "key_signature" and tick > 0:
                key_changes.append((tick / tpq, msg.key))
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
    meters.sort(key=lambda m: m[0])
    first = ([m for tick, m in meters if tick == 0] or ["4/4"])[-1]
    try:
        meter = parse_meter(first)
    except TheoryError:
        meter = parse_meter("4/4")
    end = max(n.end for p in parts_list for n in p.notes)
    bar_meters = _bar_meters([(tick / tpq, m) for tick, m in meters if tick > 0], meter, end)
    bars = len(bar_meters) if bar_meters else max(1, math.ceil(end / float(meter.bar_quarters) - 1e-6))
    key = analyze_key(Score(parts_list, Key("C", "major"), meter, 0, bars))
    meta = {"key_changes": [[onset, _key_text(name)] for onset, name in key_changes]} if key_changes else {}
    score = Score(parts_list, key, meter, round(quarter_bpm_to_bpm(qbpm, meter), 3), bars, meta=meta,
                  chords=sorted(chords), bar_meters=bar_meters)
    # MIDI has no bars of its own: a first bar that opens with a rest in every part is an upbeat,
    # as a score editor exports one (and a last bar ending that much early completes it)
    score.pickup = upbeat_length(score)
    score.pickup_completed = bool(score.pickup) and end < bars * float(meter.bar_quarters) - score.pickup + 1e-3
    return score


def _bar_meters(changes: list[tuple[float, str]], meter, end: float) -> list[list] | None:
    """Score.bar_meters of a MIDI file whose time signature changes (``changes``: (quarters,
    "n/d") after the first): bars of each meter from where it is set up to ``end``, a bar cut
    short where a change comes inside it. None when every bar is of ``meter``; changes to meters
    no bar can have are ignored."""
    changes = [(round(at, 6), m) for at, m in changes if m in BAR_METERS or m in SUPPORTED_METERS]
    if not changes or all(m == str(meter) for _, m in changes):
        return None
    out, at, current = [], 0.0, str(meter)
    while at < end - 1e-6:
        while changes and changes[0][0] <= at + 1e-6:
            current = changes.pop(0)[1]
        out.append([round(at, 6), current])
        nxt = at + float(bar_meter_quarters(current))
        at = min(nxt, changes[0][0]) if changes and changes[0][0] > at + 1e-6 else nxt
    return out


def _key_text(midi_key: str) -> str:
    """A MIDI key signature name ("Em", "Bb") as Symphony writes keys ("E minor", "Bb major")."""
    return f"{midi_key[:-1]} minor" if midi_key.endswith("m") else f"{midi_key} major"
