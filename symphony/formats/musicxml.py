"""The music21 bridge: a parsed MusicXML / ABC / Humdrum stream to our Score, and a Score to a
music21 stream for MusicXML export."""
from __future__ import annotations

import math
import os
from dataclasses import replace
from fractions import Fraction

from symphony.errors import ScoreReadError, TheoryError
from symphony.formats import markings, notation, staves
from symphony.music.analysis import bar_starts
from symphony.music.score import (
    Note,
    Part,
    Score,
    key_from_music21,
    key_to_music21,
    quantize,
)
from symphony.music.theory import (
    BAR_METERS,
    SUPPORTED_METERS,
    Key,
    bar_meter_quarters,
    meter_for_quarters,
    parse_key,
    parse_meter,
    quarter_bpm_to_bpm,
)

# Meters stored as several bars of a shorter meter (breve bars of Renaissance polyphony).
SPLIT_METERS = {"4/2": ("2/2", 2), "2/1": ("2/2", 2)}


MUSIC21_SUFFIXES = {".xml", ".musicxml", ".mxl", ".abc", ".krn"}


def from_music21(s, style: str | None = None, default_bpm: float = 96.0,
                 analyze_key: bool = True, numbered: bool = False) -> Score:
    """Convert a parsed music21 score (or single part) into a Score. A short first bar is the
    anacrusis (``Score.pickup``); ``numbered``: the file prints its own bar numbers (MusicXML),
    which are kept, where ABC's and Humdrum's bars are counted.

    Meter changes and irregular bars are kept in ``Score.bar_meters``, the file's repeat signs,
    double barlines and endings in ``Score.barlines`` and ``Score.endings``. Raises ScoreReadError
    for pieces we cannot represent (a bar no meter gives, no notes)."""
    from music21 import meter as m21meter
    from music21 import stream
    from music21 import tempo as m21tempo

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
    shift = pickup = 0.0
    if measures:
        first = float(measures[0].duration.quarterLength)
        first_meter = float(bar_meter_quarters(ratios[0])) if ratios[0] in BAR_METERS + SUPPORTED_METERS else bar
        if 0 < first < first_meter - 1e-6:
            shift, pickup = first_meter - first, first
    bar_meters_out = None
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
        bar_meters_out = bar_meters
    out_parts = []
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
            out_parts.append(Part(notes, *_part_identity(p)))
    if not out_parts:
        raise ScoreReadError("the score has no notes")
    end = max(n.end for p in out_parts for n in p.notes)
    bars = len(bar_meters_out) if bar_meters_out else max(1, math.ceil(end / bar - 1e-6))
    if analyze_key:
        key = key_from_music21(s.analyze("key"))
    else:
        key = Key("C", "major")
    title, composer = _titles(s)
    numbers = None if len(bar_meters) != len(measures) else _bar_numbers(measures, shift, numbered)
    barlines, endings = markings.read_barlines(measures) if len(bar_meters) == len(measures) else (None, None)
    return Score(out_parts, key, meter, round(bpm, 3), bars, title, style, bar_meters=bar_meters_out,
                 key_signature=notation.read_signature(parts[0], key), composer=composer,
                 pickup=round(pickup, 6), pickup_completed=bool(pickup) and _completes(measures[-1], pickup),
                 bar_numbers=numbers, barlines=barlines, endings=endings)


def _full_bar(m) -> float:
    ts = m.getContextByClass("TimeSignature")
    return float(ts.barDuration.quarterLength) if ts is not None else 4.0


def _completes(last, pickup: float) -> bool:
    """Is the last measure short by the pickup (bwv66.6: 3 beats of 4 after a one-beat upbeat)?"""
    return abs(float(last.duration.quarterLength) + pickup - _full_bar(last)) < 1e-6


def _bar_numbers(measures, shift: float, numbered: bool) -> list[str] | None:
    """The printed number of every measure: the file's own (``numbered``), else counted as an
    edition would: 0 for a pickup, then 1, 2, ...; a short bar that completes the short bar
    before it (a bar split by a repeat and the next section's upbeat) is that bar's "a". None
    when the numbers are the plain count."""
    if numbered and all(m.number is not None for m in measures):
        out = [f"{m.number}{m.numberSuffix or ''}" for m in measures]
    else:
        out, n, prev = [], 0 if shift else 1, None
        for i, m in enumerate(measures):
            length, full = float(m.duration.quarterLength), _full_bar(m)
            if i > 0 and prev is not None and abs(prev + length - full) < 1e-6:
                out.append(out[-1] + "a")
                prev = None
                continue
            out.append(str(n))
            n += 1
            prev = length if i > 0 and length < full - 1e-6 else None
    counted = [str(k + (0 if shift else 1)) for k in range(len(measures))]
    return None if out == counted else out


def _titles(s) -> tuple[str, str | None]:
    """(title, composer) of a parsed file: the work title, else the movement's; music21's
    placeholders for files without them ('Music21 Fragment', 'Music21') count as none."""
    md = getattr(s, "metadata", None)
    if md is None:
        return "", None
    title = next((t for t in (md.title, md.movementName) if t and str(t) != "Music21 Fragment"), "")
    composer = md.composer if md.composer and str(md.composer) != "Music21" else None
    return str(title), (str(composer) if composer else None)


def _part_identity(p) -> tuple[str, int, str, str]:
    """(name, General MIDI program, instrument name, first clef) of a music21 part as its file
    gives them."""
    from music21 import clef
    name = p.partName if getattr(p, "partName", None) else ""
    inst = p.getInstrument(returnDefault=False) if hasattr(p, "getInstrument") else None
    program = inst.midiProgram if inst is not None and inst.midiProgram is not None else 0
    instrument = inst.instrumentName if inst is not None and inst.instrumentName else ""
    first = p.recurse().getElementsByClass(clef.Clef).first()
    return str(name), int(program), str(instrument), type(first).__name__ if first is not None else ""


def _chord_symbol(figure: str):
    """A music21 ChordSymbol for a letter-name figure (Bb7 -> B-7); unreadable ones as text."""
    import re

    from music21 import expressions, harmony
    try:
        return harmony.ChordSymbol(re.sub(r"^([A-G])b", r"\1-", re.sub(r"/([A-G])b", r"/\1-", figure)))
    except Exception:  # music21 raises several kinds of errors for figures it cannot read
        return expressions.TextExpression(figure)


def default_title(score: Score) -> str:
    """A title for a score that has none: what it is ("Chorale in G major")."""
    return f"{score.style.title()} in {score.key}" if score.style else f"Piece in {score.key}"


def _instrument(part: Part):
    from music21 import instrument
    inst = instrument.instrumentFromMidiProgram(part.program)
    if part.instrument:
        inst.instrumentName = part.instrument
    inst.partName = part.name or inst.instrumentName
    inst.instrumentAbbreviation = inst.partAbbreviation = staves.abbreviation(inst.partName)
    return inst


def _staff(score: Score, part: Part, notes: list[Note], clef_kind: str, first: bool, cls, dynamic: bool = True):
    """One staff (a music21 Part or PartStaff) of a Symphony part, made into measures."""
    from music21 import duration, dynamics, tempo
    from music21 import meter as m21meter

    p = cls()
    p.partName = part.name
    p.partAbbreviation = staves.abbreviation(part.name)
    p.insert(0, _instrument(part))
    p.insert(0, staves.music21_clef(clef_kind))
    signature = notation.written_signature(score)
    p.insert(0, signature)
    for onset, key_txt in (score.meta or {}).get("key_changes", []):  # e.g. a bridge into B's key
        p.insert(quantize(onset), key_to_music21(parse_key(key_txt)))
    for onset, ts in _time_signatures(score):  # a 3/4 bar among 2/4 bars has its own
        p.insert(quantize(onset) if onset > 0 else 0, ts)
    if first:
        beat = m21meter.TimeSignature(str(score.meter)).beatDuration  # 6/8: a dotted quarter
        p.insert(0, tempo.MetronomeMark(number=round(score.bpm), referent=beat))
        for onset, figure in score.chords:
            p.insert(quantize(onset) if onset > 0 else 0, _chord_symbol(figure))
    if score.dynamic and dynamic:
        p.insert(0, dynamics.Dynamic(score.dynamic))
    groups: dict[tuple[float, float], list[Note]] = {}
    names = notation.spell_part(notes, score.key)
    for n, name in zip(notes, names):
        groups.setdefault((n.onset, n.duration), []).append(replace(n, spelling=name))
    for (onset, dur), group in sorted(groups.items(), key=lambda g: g[0]):
        el = notation.music21_element(group)
        el.quarterLength = quantize(dur)
        p.insert(quantize(onset) if onset > 0 else 0, el)
    # up to the end of the last bar, whole (a bar split by a repeat, 4 and 4a, is one bar)
    last_at, last_length, _ = score.written_bars()[-1]
    end = last_at + last_length
    p.makeRests(fillGaps=True, inPlace=True, timeRangeFromBarDuration=True, refStreamOrTimeRange=[0, end])
    notation.finish_part(p, notation.m21_signature_alters(signature))
    for ts in list(p.recurse().getElementsByClass(m21meter.TimeSignature)):
        m, full = ts.activeSite, float(bar_meter_quarters(ts.ratioString))
        # an incomplete bar is written short (music21 would fill it up with a hidden rest)
        m.paddingRight = full - float(ts.barDuration.quarterLength)
        if ts.style.hideObjectOnPrint:  # it only sized the bar; the meter is as before
            m.remove(ts)
        else:  # the bars after it, in its meter, are whole ones
            ts.barDuration = duration.Duration(full)
    return p


def _time_signatures(score: Score) -> list:
    """(onset, music21 TimeSignature) for a staff: the first meter and every change
    (``Score.written_bars``). An incomplete bar inside the piece (a 1st ending shortened by the
    next part's upbeat, an Essen song's short bar) gets a hidden one of its meter that makes its
    measure only that long, and the bar after it a hidden one that makes whole bars again; the
    hidden ones are removed once the measures are made, so the file writes no time signature
    there."""
    from music21 import duration
    from music21 import meter as m21meter
    bars = score.written_bars()
    out, shown, after_short = [], None, False
    for k, (start, length, label) in enumerate(bars):
        short = k + 1 < len(bars) and length < float(bar_meter_quarters(label)) - 1e-6
        if label != shown or short or after_short:
            ts = m21meter.TimeSignature(label)
            if short:
                ts.barDuration = duration.Duration(quantize(length))
            ts.style.hideObjectOnPrint = label == shown
            out.append((start, ts))
            shown = label
        after_short = short
    return out


def to_music21(score: Score):
    """Build a music21 Score for notation export (MusicXML): each part on its staff (SATB voices
    in their clefs, an accompaniment on a grand staff), the title and composer, the tempo with
    its beat unit, the mood's dynamic and the form's repeats."""
    from music21 import layout, metadata, stream

    s = stream.Score()
    s.metadata = metadata.Metadata()
    s.metadata.title = score.title or default_title(score)
    if score.composer:
        s.metadata.composer = score.composer
    staffs = []
    for i, part in enumerate(score.parts):
        if not part.name:
            part = replace(part, name=f"Part {i + 1}" if len(score.parts) > 1 else "Melody")
        if not part.clef and staves.is_grand_staff(part):  # a user's one-staff part stays one
            upper, lower = staves.split_hands(part.notes)
            group = [_staff(score, part, upper, staves.TREBLE, i == 0, stream.PartStaff),
                     _staff(score, part, lower, staves.BASS, False, stream.PartStaff, dynamic=False)]
            staffs += group
            for p in group:
                s.insert(0, p)
            s.insert(0, layout.StaffGroup(group, name=part.name, abbreviation=staves.abbreviation(part.name),
                                          symbol="brace"))
        else:
            p = _staff(score, part, part.notes, part.clef or staves.clef_for(part), i == 0, stream.Part)
            staffs.append(p)
            s.insert(0, p)
    plan = markings.repeats(score)
    upbeat_at = Fraction(score.bar_quarters - score.pickup).limit_denominator(96) if score.pickup else Fraction(0)
    markings.apply_repeats(staffs, plan, upbeat_at)
    harmony = (score.meta or {}).get("harmony") or {}
    if harmony.get("show_numerals") and staffs:  # placed by the score's onsets, before the pickup moves bars
        _numeral_lyrics(staffs[-1], harmony.get("numerals") or [])
    written = write_pickup(staffs, score)
    split_bars(staffs, score, upbeat_at if written else Fraction(0))
    if not plan:
        markings.write_barlines(staffs, score)
    number_bars(staffs, score, renumbered=bool(plan))
    return s


def _numeral_lyrics(staff, numerals: list[dict]) -> None:
    """Roman numerals as lyrics under the lowest staff (the bass), on the note or chord struck
    at each numeral's offset, as a theory teacher writes them."""
    from symphony.music.numerals import display
    by_onset = {}
    for el in staff.recurse().notes:
        by_onset.setdefault(round(float(el.getOffsetInHierarchy(staff)), 4), el)
    for entry in numerals:
        el = by_onset.get(round(float(quantize(entry["offset"])) if entry["offset"] > 0 else 0.0, 4))
        if el is not None:
            el.addLyric(display(entry["numeral"]))


def write_pickup(staffs, score: Score) -> bool:
    """Write the anacrusis as a short first bar (the rests before the upbeat removed) and, where
    the score says so, the last bar short by as much, completing it. Nothing changes if a note
    sounds in the part of the first bar that the pickup leaves out. Returns whether it was
    written."""
    from music21 import stream
    cut = Fraction(score.bar_quarters - score.pickup).limit_denominator(96)
    if not score.pickup or cut <= 0:
        return False
    firsts = [p.getElementsByClass(stream.Measure).first() for p in staffs]
    if any(m is None or any(not el.isRest for el in _rests_and_notes(m) if el.offset < cut) for m in firsts):
        return False
    for p, m in zip(staffs, firsts):
        _trim(m, 0, cut)
        m.paddingLeft = float(cut)
        for later in list(p.getElementsByClass(stream.Measure))[1:]:
            p.coreSetElementOffset(later, later.offset - cut)
        p.coreElementsChanged()
        last = p.getElementsByClass(stream.Measure).last()
        if score.pickup_completed and last is not m and not any(
                not el.isRest for el in _rests_and_notes(last) if el.offset + el.quarterLength > cut):
            _trim(last, cut, Fraction(score.bar_quarters).limit_denominator(96))
            last.paddingRight = score.pickup
    return True


def _rests_and_notes(m):
    """The notes, chords and rests of a measure, in it or in its voices (offsets in the voice)."""
    return [el for c in [m, *m.voices] for el in c.getElementsByClass(("GeneralNote",))]


def _trim(m, a: Fraction, z: Fraction) -> None:
    """Remove the rests of measure ``m`` within a..z (offsets in the bar), shorten those that
    reach into it, and when a = 0 move what follows to the bar's start."""
    for c in [m, *m.voices]:
        for el in list(c.getElementsByClass(("GeneralNote",))):
            start, end = Fraction(el.offset), Fraction(el.offset) + Fraction(el.quarterLength)
            if end <= a or start >= z:
                continue
            if a <= start and end <= z:
                c.remove(el)
            elif start < a:
                el.quarterLength = a - start
            else:  # starts inside a..z and ends after z
                c.coreSetElementOffset(el, z)
                el.quarterLength = end - z
        if a == 0:
            for el in list(c):
                if Fraction(el.offset) >= z:
                    c.coreSetElementOffset(el, Fraction(el.offset) - z)
        c.coreElementsChanged()


def split_bars(staffs, score: Score, moved: Fraction = Fraction(0)) -> None:
    """Write a bar that the user's score splits in two (bar 4 as 4 and 4a, at a repeat sign or a
    line break: two short bars that together make one bar of the meter) as those two bars. A
    written bar of the meter is cut where the score's bars (``Score.bar_meters``) start inside
    it, only when the bar itself starts and ends where the score's bars do; a note sounding across
    the cut is tied over it. ``moved``: quarters the written bars start earlier than the score's
    (the pickup's missing part)."""
    from music21 import stream
    if not score.bar_meters:
        return
    starts = {Fraction(s).limit_denominator(96) - moved for s in bar_starts(score)}
    for p in staffs:
        for m in list(p.getElementsByClass(stream.Measure)):
            a = Fraction(m.offset).limit_denominator(96)
            z = a + Fraction(m.duration.quarterLength).limit_denominator(96)
            inside = sorted(b - a for b in starts if a < b < z)
            if not inside or (a != 0 and a not in starts) or z not in starts:
                continue
            halves = [m]
            for at in reversed(inside):  # from the right, so that `at` stays an offset in m
                halves.append(notation.cut_measure(m, at))
                p.insert(a + at, halves[-1])
            for half in halves:  # a beam may have crossed the cut
                for n in half.recurse().notes:
                    n.beams.beamsList = []
                half.makeBeams(inPlace=True)
        p.coreElementsChanged()
        signature = p.recurse().getElementsByClass("KeySignature").first()
        notation.set_accidentals(p, notation.m21_signature_alters(signature))  # a new bar, new accidentals


def number_bars(staffs, score: Score, renumbered: bool) -> None:
    """Number the written bars as the user's score does: a pickup bar is 0 (and, as in printed
    editions, shows no number), then 1, 2, ...; the user's own numbers where the written bars are
    the user's bars."""
    from music21 import stream
    for p in staffs:
        measures = list(p.getElementsByClass(stream.Measure))
        printed = score.printed_numbers()
        if len(printed) != len(measures):  # a split bar (4 and 4a) written as one bar of the meter
            printed = [label for label in printed if label[-1:].isdigit()]
        if renumbered or len(printed) != len(measures):  # counted, a bar split at a repeat as 4, 4a
            printed = (_bar_numbers(measures, score.pickup, numbered=False)
                       or [str(k + (0 if score.pickup else 1)) for k in range(len(measures))])
        for m, label in zip(measures, printed):
            digits = "".join(ch for ch in label if ch.isdigit())
            m.number, m.numberSuffix = int(digits or 0), label[len(digits):] or None
        if score.pickup and measures and measures[0].paddingLeft:
            measures[0].showNumber = stream.enums.ShowNumber.NEVER  # MusicXML's implicit="yes"


def write_musicxml(score: Score, path: str | os.PathLike) -> None:
    from music21.musicxml.m21ToXml import GeneralObjectExporter
    data = GeneralObjectExporter(to_music21(score)).parse()
    if not score.composer:  # music21 names itself the composer of a score without one
        data = data.replace(b'<creator type="composer">Music21</creator>', b"", 1)
    with open(path, "wb") as f:
        f.write(data)
