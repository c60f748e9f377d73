"""Notation a musician can read: spelled pitches, accidentals exactly where required, and notes
and rests split at the beats of the meter.

Spelling (``spell_part``), for notes that do not carry one from the input file:

1. a pitch class of the key's seven-note scale is written on the key's letter for it (the
   reference mode's scale: ``G zhi`` uses the letters of G mixolydian, the written signature);
2. in a minor-like key (minor, dorian, phrygian, locrian) the raised 6th and 7th are written on
   the 6th and 7th letters (F minor: D natural, E natural; never E-flat-flat or F-flat);
3. any other chromatic note that moves by a semitone to the next note is written as a minor
   second to it (rising: the raised lower letter, C major G# -> A; falling: the lowered upper
   letter, Ab -> G), unless that needs a double sharp or flat;
4. otherwise it takes the spelling nearer to the key signature on the line of fifths (C major:
   F#, Bb, Eb, C#; a tie goes to the sharp when rising from the previous note, else the flat).

Accidentals (``set_accidentals``): an accidental is printed when a note's alteration differs from
the one a reader assumes, namely the previous note on the same letter and octave earlier in the
bar, else the key signature; a note tied over a bar line prints none (and does not change what
the reader assumes for later notes in that bar). No courtesy accidentals.

Rhythm (``split_points``), as published editions write it:

* notes and rests are split at bar lines and tied;
* compound meters (6/8, 9/8, 12/8, 6/4): a note or rest that crosses a dotted beat starts and
  ends on beats, or is split at the beat (dotted rests, never a half rest in 6/8);
* 4/4 and 2/2: a note starting off the beat does not run across the middle of the bar;
* rests never cross a beat boundary unless they start and end on beats, never cross the middle
  of a 4/4 or 12/8 bar, and a rest of a whole bar stays one rest.

``hiding_beat`` is the same rule as a check, used by ``benchmarks.notation``.
"""
from __future__ import annotations

import copy
import re
from fractions import Fraction

from symphony.music.score import key_to_music21
from symphony.music.theory import HEPTATONIC, PITCH_CLASS, Key

LETTERS = "CDEFGAB"
# Line of fifths positions of the natural letters (F=-1, C=0, G=1, ... B=5).
FIFTHS = {"F": -1, "C": 0, "G": 1, "D": 2, "A": 3, "E": 4, "B": 5}
EPS = 1e-6


# ----------------------------------------------------------------------------- spelling

def _acc(alter: int) -> str:
    return "#" * alter if alter > 0 else "-" * (-alter)


def _name(letter: str, alter: int, midi: int) -> str:
    octave = (midi - alter - PITCH_CLASS[letter]) // 12 - 1
    return f"{letter}{_acc(alter)}{octave}"


def _alter(pc: int, letter: str) -> int:
    return (pc - PITCH_CLASS[letter] + 6) % 12 - 6


def key_letters(key: Key) -> list[tuple[str, int]]:
    """(letter, alteration) of the seven degrees of the key's reference scale."""
    t = LETTERS.index(key.tonic[0].upper())
    semis = HEPTATONIC[key.reference_mode]
    out = []
    for i, s in enumerate(semis):
        letter = LETTERS[(t + i) % 7]
        out.append((letter, _alter((key.tonic_pc + s) % 12, letter)))
    return out


def signature_alters(key: Key) -> dict[str, int]:
    """Alteration the key signature gives each letter."""
    return dict(key_letters(key))


def _fifths(letter: str, alter: int) -> int:
    return FIFTHS[letter] + 7 * alter


def spell(midi: int, key: Key, prev: int | None = None, nxt: int | None = None) -> str:
    """music21 nameWithOctave ('F#4', 'E-5', 'B#3') of a MIDI pitch in `key` (rules in the module
    docstring); `prev` and `nxt` are the neighbouring pitches of the line, when known."""
    pc = midi % 12
    degrees = key_letters(key)
    for letter, alter in degrees:
        if (PITCH_CLASS[letter] + alter) % 12 == pc:
            if abs(alter) <= 2:
                return _name(letter, alter, midi)
            break
    semis = (pc - key.tonic_pc) % 12
    if key.is_minor_like and semis in (9, 11):  # the raised 6th and 7th of a minor key
        letter, _ = degrees[5 if semis == 9 else 6]
        alter = _alter(pc, letter)
        if abs(alter) <= 2:
            return _name(letter, alter, midi)
    # The two candidates: the lower neighbouring letter raised, the upper one lowered.
    cands = []
    for letter in LETTERS:
        alter = _alter(pc, letter)
        if abs(alter) <= 2:
            cands.append((letter, alter))
    sig = dict(degrees)
    # only the letters one diatonic step from the note: raised lower letter, lowered upper letter
    cands = [(lt, a) for lt, a in cands if a - sig[lt] in (1, -1)] or cands
    if nxt is not None and abs(nxt - midi) == 1:
        nxt_letter = _letter_of(nxt, key)
        step = 1 if nxt > midi else -1
        want = LETTERS[(LETTERS.index(nxt_letter) - step) % 7]
        for letter, alter in cands:
            if letter == want and abs(alter) <= 1:
                return _name(letter, alter, midi)
    lo = min(_fifths(lt, a) for lt, a in degrees)
    hi = max(_fifths(lt, a) for lt, a in degrees)

    def distance(c):
        f = _fifths(*c)
        return max(lo - f, f - hi, 0)

    rising = prev is not None and prev < midi
    cands.sort(key=lambda c: (distance(c), abs(c[1]), -c[1] if rising else c[1]))
    letter, alter = cands[0]
    return _name(letter, alter, midi)


def _letter_of(midi: int, key: Key) -> str:
    """The letter a neighbouring note is written on (diatonic: the key's letter; else by sharps
    and flats of the signature)."""
    pc = midi % 12
    for letter, alter in key_letters(key):
        if (PITCH_CLASS[letter] + alter) % 12 == pc:
            return letter
    semis = (pc - key.tonic_pc) % 12
    degrees = key_letters(key)
    if key.is_minor_like and semis in (9, 11):
        return degrees[5 if semis == 9 else 6][0]
    sharp_key = sum(a for _, a in degrees) >= 0
    for letter in LETTERS:
        if _alter(pc, letter) == (1 if sharp_key else -1):
            return letter
    return next(lt for lt in LETTERS if _alter(pc, lt) == 0)


def to_music21_name(spelling: str) -> str:
    """'Eb5' -> 'E-5', 'Bbb3' -> 'B--3'; music21 names pass through."""
    m = re.fullmatch(r"\s*([A-Ga-g])([#b\-♯♭]*)(-?\d+)\s*", spelling)
    if not m:
        return spelling
    acc = m.group(2).replace("♯", "#").replace("♭", "-").replace("b", "-")
    return f"{m.group(1).upper()}{acc}{m.group(3)}"


def spelling_fits(spelling: str | None, midi: int) -> str | None:
    """The spelling, with its octave corrected, when it names `midi`'s pitch class; else None
    (a note transposed after it was read is spelled again from the key)."""
    if not spelling:
        return None
    from music21 import pitch
    try:
        p = pitch.Pitch(to_music21_name(spelling))
    except Exception:  # music21 raises several error types on unreadable names
        return None
    if p.ps != round(p.ps) or int(p.ps) % 12 != midi % 12:
        return None
    p.octave += (midi - int(p.ps)) // 12
    return p.nameWithOctave


def spell_part(notes, key: Key) -> list[str]:
    """Spelling of every note of a part (kept from the input where it still fits the pitch)."""
    order = sorted(range(len(notes)), key=lambda i: (notes[i].onset, -notes[i].pitch))
    # the melodic line: the highest pitch at each onset
    tops: list[tuple[float, int]] = []
    for i in order:
        if not tops or abs(tops[-1][0] - notes[i].onset) > EPS:
            tops.append((notes[i].onset, notes[i].pitch))
    onsets = [o for o, _ in tops]
    out = [""] * len(notes)
    import bisect
    for i in order:
        n = notes[i]
        kept = spelling_fits(getattr(n, "spelling", None), n.pitch)
        if kept:
            out[i] = kept
            continue
        j = bisect.bisect_left(onsets, n.onset - EPS)
        prev = tops[j - 1][1] if j > 0 else None
        nxt = tops[j + 1][1] if j + 1 < len(tops) else None
        out[i] = spell(n.pitch, key, prev, nxt)
    return out


# ----------------------------------------------------------------------------- rhythm

def beat_length(numerator: int, denominator: int) -> Fraction:
    """The beat musicians count, in quarter notes (dotted in compound meters)."""
    unit = Fraction(4, denominator)
    if numerator in (6, 9, 12) and denominator in (4, 8):
        return 3 * unit
    return unit


def _meter_levels(numerator: int, denominator: int):
    bar = Fraction(4 * numerator, denominator)
    beat = beat_length(numerator, denominator)
    compound = numerator in (6, 9, 12) and denominator in (4, 8)
    middle = bar / 2 if (numerator, denominator) in ((4, 4), (2, 2), (12, 8)) else None
    return bar, beat, compound, middle


def _on(x: Fraction, unit: Fraction) -> bool:
    return (x / unit).denominator == 1


def split_points(start: Fraction, length: Fraction, numerator: int, denominator: int,
                 is_rest: bool) -> list[Fraction]:
    """Absolute positions (from the first full bar) where an element should be split."""
    bar, beat, compound, middle = _meter_levels(numerator, denominator)
    end = start + length
    cuts: list[Fraction] = []
    b0 = (start // bar) * bar
    pos = b0
    while pos < end:  # bar by bar
        a, z = max(start, pos), min(end, pos + bar)
        if pos > start:
            cuts.append(pos)
        cuts += _split_in_bar(a - pos, z - pos, bar, beat, compound, middle, is_rest, pos)
        pos += bar
    return sorted({c for c in cuts if start < c < end})


def _split_in_bar(a, z, bar, beat, compound, middle, is_rest, pos):
    if is_rest:
        if a == 0 and z == bar:
            return []  # a whole-bar rest
        beats_inside = [k * beat for k in range(1, int(bar / beat) + 1) if a < k * beat < z]
        if not beats_inside:
            return []
        if not (_on(a, beat) and _on(z, beat)) or compound:
            return [pos + c for c in beats_inside]  # one rest per beat (dotted in compound meters)
        if middle is not None and a < middle < z:
            return [pos + middle]
        return []
    cuts = []
    if compound:
        inside = [k * beat for k in range(1, int(bar / beat) + 1) if a < k * beat < z]
        if inside:
            if not _on(a, beat):
                cuts.append(inside[0])
            if not _on(z, beat) or not _one_note(z - a):  # 9/8's whole bar: dotted half + dotted quarter
                cuts.append(inside[-1])
    elif middle is not None and not _on(a, beat) and a < middle < z:
        cuts.append(middle)
    return [pos + c for c in cuts]


def _one_note(length: Fraction) -> bool:
    """Can one note head (plain or dotted) last ``length`` quarters?"""
    for base in (length, length * Fraction(2, 3)):
        if base.numerator & (base.numerator - 1) == 0 and base.denominator & (base.denominator - 1) == 0:
            return True
    return False


def hiding_beat(start: Fraction, length: Fraction, numerator: int, denominator: int,
                is_rest: bool) -> bool:
    """Does a written note or rest (within one bar, positions from the bar's start) hide a beat
    that a published edition would show? The same rule as ``split_points``."""
    return bool(_split_in_bar(start, start + length, *_meter_levels(numerator, denominator),
                              is_rest, 0))


# ----------------------------------------------------------------------------- music21 stream

def _frac(x) -> Fraction:
    return Fraction(x).limit_denominator(96)


def split_by_meter(part, meters: list[tuple[Fraction, int, int]]) -> None:
    """Split and tie the notes and rests of a flat music21 part (no measures yet) in place.
    ``meters``: (offset, numerator, denominator) of the first meter, at 0, and of every change
    (a 3/4 bar in a 2/4 song); each meter's bars count from where it starts."""
    from music21 import tie as m21tie
    for el in list(part.notesAndRests):
        start, length = _frac(el.offset), _frac(el.quarterLength)
        cuts = _meter_cuts(start, length, meters, el.isRest)
        if not cuts:
            continue
        bounds = [start] + cuts + [start + length]
        exprs = list(getattr(el, "expressions", []))
        part.remove(el)
        n = len(bounds) - 1
        for k in range(n):
            piece = copy.deepcopy(el)
            piece.quarterLength = bounds[k + 1] - bounds[k]
            if not el.isRest:
                piece.expressions = exprs if k == n - 1 else []
                piece.tie = m21tie.Tie("start" if k == 0 else "stop" if k == n - 1 else "continue")
            part.insert(bounds[k], piece)


def _meter_cuts(start: Fraction, length: Fraction, meters, is_rest: bool) -> list[Fraction]:
    """``split_points`` across meter changes: cut where a meter starts, then by each meter."""
    end, cuts = start + length, []
    for k, (at, num, den) in enumerate(meters):
        until = meters[k + 1][0] if k + 1 < len(meters) else end
        a, z = max(start, at), min(end, until)
        if a >= z:
            continue
        if a > start:
            cuts.append(a)
        cuts += [at + c for c in split_points(a - at, z - a, num, den, is_rest)]
    return sorted({c for c in cuts if start < c < end})


def cut_measure(m, at: Fraction):
    """Cut measure ``m`` at ``at`` quarters: what starts from there moves into a new measure
    (returned, not yet in the part); a note or rest across the cut is split and tied."""
    from music21 import note, stream
    second = stream.Measure()
    for c in [m, *m.voices]:
        target = second
        if c is not m:
            target = stream.Voice(id=c.id)
            second.insert(0, target)
        for el in list(c):
            if isinstance(el, stream.Voice):
                continue
            start = Fraction(el.offset).limit_denominator(96)
            length = Fraction(el.quarterLength).limit_denominator(96)
            if start < at < start + length and isinstance(el, note.GeneralNote):
                _, right = el.splitAtQuarterLength(at - start)
                target.insert(0, right)
            elif start >= at:
                c.remove(el)
                target.insert(start - at, el)
        c.coreElementsChanged()
    second.paddingLeft = float(at) + m.paddingLeft
    m.paddingRight = float(Fraction(m.barDuration.quarterLength).limit_denominator(96) - at) - m.paddingLeft
    return second


def set_accidentals(part, key_alters: dict[str, int]) -> None:
    """Show accidentals exactly where required (rules in the module docstring) on a part made
    of measures; marks the part so that music21's export does not redo them."""
    from music21 import harmony, stream
    from music21 import pitch as m21pitch
    for m in part.getElementsByClass(stream.Measure):
        state: dict[tuple[str, int], int] = {}
        els = sorted((e for e in m.recurse().notes if not isinstance(e, harmony.ChordSymbol)),
                     key=lambda e: e.getOffsetInHierarchy(m))
        for el in els:
            # a tied note prints no sign; one tied over the bar line leaves the bar's state alone
            tied_in = el.tie is not None and el.tie.type in ("stop", "continue")
            over_bar = tied_in and el.getOffsetInHierarchy(m) == 0
            for p in el.pitches:
                alter = int(round(p.alter))
                where = (p.step, p.octave)
                show = not tied_in and alter != state.get(where, key_alters.get(p.step, 0))
                if not over_bar:
                    state[where] = alter
                if alter == 0:
                    p.accidental = m21pitch.Accidental("natural") if show else None
                if p.accidental is not None:
                    p.accidental.displayStatus = show
    part.streamStatus.accidentals = True


def finish_part(part, key_alters: dict[str, int]) -> None:
    """Measures, ties, beams and accidentals of one flat part built by ``score.to_music21``
    (bars of every meter its time signatures set, from where each is)."""
    from music21 import meter as m21meter
    meters = [(_frac(ts.offset), ts.numerator, ts.denominator)
              for ts in part.getElementsByClass(m21meter.TimeSignature)] or [(Fraction(0), 4, 4)]
    split_by_meter(part, meters)
    part.streamStatus.accidentals = True  # ours follow: music21's would add courtesy signs
    part.makeNotation(inPlace=True)  # measures, ties at bar lines, beams by the meter's beats
    set_accidentals(part, key_alters)


def music21_element(group):
    """A music21 Note or Chord from Symphony notes that share onset and duration (spelled)."""
    from music21 import chord, expressions, note
    group = sorted(group, key=lambda n: n.pitch)
    names = [to_music21_name(n.spelling) for n in group]
    el = note.Note(names[0]) if len(group) == 1 else chord.Chord(names)
    if any(n.fermata for n in group):
        el.expressions.append(expressions.Fermata())
    return el


def fermata_spans(part):
    """A test `held(offset, duration, midi)`: does a note of the (unstripped) music21 part with a
    fermata lie inside this note? (music21's stripTies keeps only the first note's markings.)"""
    from music21 import expressions
    marks = []
    for el in part.flatten().notes:
        if any(isinstance(e, expressions.Fermata) for e in el.expressions):
            marks.append((float(el.offset), {int(p.midi) for p in el.pitches}))

    def held(offset: float, duration: float, midi: int) -> bool:
        return any(offset - EPS <= o < offset + duration - EPS and midi in ps for o, ps in marks)
    return held


# ----------------------------------------------------------------------------- key signature

def read_signature(m21part, key: Key) -> dict | None:
    """The key signature a file writes (its first), remembered with the key Symphony analysed, so
    that a score written back keeps the user's signature while its key is unchanged."""
    from music21 import key as m21key
    ks = m21part.recurse().getElementsByClass(m21key.KeySignature).first()
    if ks is None:
        return None
    mode = getattr(ks, "mode", None)
    return {"sharps": int(ks.sharps), "mode": mode if isinstance(mode, str) else None, "for_key": str(key)}


def written_signature(score):
    """The music21 key signature to write: the input file's while the score's key is the one it
    was read with, else the signature of the score's key (modes included)."""
    from music21 import key as m21key

    sig = score.key_signature
    if sig and sig.get("for_key") == str(score.key):
        ks = m21key.KeySignature(int(sig["sharps"]))
        if sig.get("mode"):
            try:
                return ks.asKey(sig["mode"])
            except Exception:  # music21 raises several error types on odd mode names
                return ks
        return ks
    return key_to_music21(score.key)


def m21_signature_alters(ks) -> dict[str, int]:
    """Letter -> alteration of a music21 KeySignature or Key."""
    return {p.step: int(round(p.alter)) for p in ks.alteredPitches}
