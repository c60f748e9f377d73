"""Functional four-part harmony under a given soprano (issue 18): a chord per beat chosen with
its voicing by one dynamic programme, so that the rules of a theory class hold by construction.

**Slots.** The harmony changes at most once a beat (the meter's beat; dotted quarters in 6/8),
following the bars of ``layout`` (irregular bars included). A pickup starts the first slot at
the melody's first onset. A phrase-ending note longer than a beat is one slot (the cadence chord
is held), and so is the last note. Beats where the melody is silent throughout are rests for
all voices (phrase breaths); otherwise the lower voices sing in every slot, so no voice rests
mid-phrase.

**Phrase ends** are the melody's fermata notes (``getattr(note, "fermata", False)``). A melody
without fermatas gets a guess (``guess_phrase_ends``): long notes on strong beats, notes before
rests, stable degrees, chosen by a dynamic programme that prefers phrases of about two bars;
the last note always ends a phrase.

**Chords.** The key's diatonic triads and sevenths (harmonic minor's V and vii°), applied
dominants (V/V, V/vi, V/ii, V7/IV; V/III = VII and V/iv in minor) and a Picardy tonic at the end
of a minor piece. A mode keeps to its own notes (``vocabulary``): a church mode takes the chords
of the major or minor list (by its third) that lie in its scale and the other triads of its scale
(phrygian's bII, mixolydian's bVII), and closes on them (bVII-I, bII-i, v-i, IV-i); a pentatonic
mode takes the chords whose root and fifth are among its five notes, a third outside them
replaced by the scale's note a step away (an open fifth with an added second or fourth, as
Chinese arrangers voice them). A chord must contain the soprano note sounding on its beat
(a melody note no chord holds is taken as a non-chord tone at a heavy price).

**Grammar** (costs, lower is better): tonic -> anything, predominant -> dominant or tonic,
dominant -> tonic (or vi: deceptive), applied dominants -> their target, sevenths -> a chord a
fifth below; a chord is not repeated across a bar line while the melody moves. At a phrase end
the chord is a cadence: its local tonic after its dominant (authentic: V(7)-I, V/V-V, V/vi-vi,
VII-III in minor), a plagal IV-I, a deceptive V-vi, or a half cadence on V, root position; the
last chord is the tonic (a Picardy major third in minor) after V or IV, in root position.

**Voicings** (alto, tenor, bass under the soprano): complete chords (a seventh chord may drop its
fifth, at a price), the root doubled by preference and never the leading tone or a chordal
seventh, root position or an inversion (first inversions cheap, as Bach puts a third or seventh
in the bass on about two beats in five; a seventh chord as 6/5, 4/3 or 4/2, its 4/3 only with
the bass arriving and leaving by step; no six-four triads; diminished triads in first
inversion), S-A and A-T within an octave, T-B within a twelfth, no crossing, ranges A 55-74,
T 48-67, B 40-62 (moved by octaves with a melody that lies outside C4-A5). Between chords: no
parallel fifths or octaves between any pair of voices (counted the way
``symphony.evaluation.voiceleading`` counts them, with the soprano's last note of the previous
beat), leading tones of dominants rise a semitone (in an inner voice at the last cadence one may fall
a third to the tonic's fifth, at a price, as Bach's do to complete the final chord), chordal sevenths fall by step, small motion
in the inner voices, a bass that moves by step rather than by leap, no overlapping, no hidden
octaves/fifths in the outer voices with a leaping soprano. The rules are hard (they cost 1000)
except where a melody leaves no other choice.

**See-saws.** A chord, or a bass note, that comes straight back after one beat (I-V-I-V, a bass
F#-E#-F#) costs ``SEE_SAW``: the chord and bass two beats back are those on the best path into
each state, an approximate second-order term that keeps the programme first-order and fast.

A chordal seventh in the given soprano that does not fall by step, and an augmented second (the
minor's sixth to its raised seventh) in a lower voice, are avoided at a price, and so is a
cadence whose dominant is not on its root (dearly at the last cadence, where vii°-I pays too).

**Phrases start afresh.** No voice holds or suspends its note from a fermata chord into the next
phrase: each ends at the fermata and sings the next phrase's first chord anew.

**Repeated melody.** Where the melody sings a stretch of ``REPEAT_MIN_SLOTS`` beats or more again
(the Stollen of a bar form), a second pass prices each beat of the repeat for keeping the chord
and bass note it had the first time, so it is harmonized afresh where nearly as good a setting
exists (in the written-out repeats of 30 held-out chorales Bach keeps all three lower voices on
about half of the beats).

**Embellishment** (``music.embellish``): suspensions (4-3, 7-6, 9-8) in the alto and tenor at
the cadences and now and then elsewhere, and eighth-note passing and neighbour notes in the three
lower voices, each only where it makes no parallels or crossings.
"""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

import numpy as np

from symphony.music.embellish import passing_notes, suspensions
from symphony.music.score import Note, Part
from symphony.music.theory import HEPTATONIC, PENTATONIC, Key, Meter

EPS = 1e-6
HARD = 1000.0
MAX_STATES = 240  # chord-and-voicing states kept per beat
RANGES = {"alto": (55, 74), "tenor": (48, 67), "bass": (40, 62)}
SOPRANO_RANGE = (60, 81)


@dataclass(frozen=True)
class ChordDef:
    name: str  # roman numeral
    pcs: tuple[int, ...]  # semitones over the tonic: root, third, fifth[, seventh]
    func: str  # T, PD, D (home dominant), A (applied dominant), X (modal colour)
    cost: float
    target: int | None = None  # root (semitones over the tonic) an applied chord resolves to

    @property
    def root(self) -> int:
        return self.pcs[0]

    @property
    def seventh(self) -> bool:
        return len(self.pcs) == 4

    @property
    def leading(self) -> int | None:
        """The leading tone (semitones over the tonic) of a dominant-function chord."""
        if self.func in ("D", "A"):
            q = (self.pcs[1] - self.pcs[0]) % 12
            if q == 4:
                return self.pcs[1]  # the third of a major (dominant) chord
            if q == 3 and (self.pcs[2] - self.pcs[0]) % 12 == 6:
                return self.pcs[0]  # vii°: its root
        return None

    @property
    def diminished(self) -> bool:
        return (self.pcs[2] - self.pcs[0]) % 12 == 6

    @property
    def figure(self) -> str:
        """The numeral as written: a pentatonic chord's added second or fourth shown (Vsus2)."""
        return self.name + {2: "sus2", 5: "sus4"}.get((self.pcs[1] - self.pcs[0]) % 12, "")


def _c(name, pcs, func, cost, target=None):
    return ChordDef(name, tuple(p % 12 for p in pcs), func, cost, target)


MAJOR = [
    _c("I", (0, 4, 7), "T", 0.0), _c("ii", (2, 5, 9), "PD", 0.6), _c("iii", (4, 7, 11), "T", 2.0),
    _c("IV", (5, 9, 0), "PD", 0.3), _c("V", (7, 11, 2), "D", 0.2), _c("vi", (9, 0, 4), "T", 0.6),
    _c("vii°", (11, 2, 5), "D", 2.0), _c("V7", (7, 11, 2, 5), "D", 0.6), _c("ii7", (2, 5, 9, 0), "PD", 1.2),
    _c("V/V", (2, 6, 9), "A", 0.9, 7), _c("V7/V", (2, 6, 9, 0), "A", 1.1, 7),
    _c("V/vi", (4, 8, 11), "A", 1.3, 9), _c("V7/vi", (4, 8, 11, 2), "A", 1.5, 9),
    _c("V/ii", (9, 1, 4), "A", 1.8, 2), _c("V7/IV", (0, 4, 7, 10), "A", 1.5, 5),
    _c("bVII", (10, 2, 5), "X", 2.5), _c("v", (7, 10, 2), "X", 2.5), _c("iv", (5, 8, 0), "PD", 2.8),
]
MINOR = [
    _c("i", (0, 3, 7), "T", 0.0), _c("ii°", (2, 5, 8), "PD", 1.0), _c("iiø7", (2, 5, 8, 0), "PD", 1.3),
    _c("III", (3, 7, 10), "T", 1.0), _c("iv", (5, 8, 0), "PD", 0.3), _c("V", (7, 11, 2), "D", 0.2),
    _c("V7", (7, 11, 2, 5), "D", 0.6), _c("VI", (8, 0, 3), "T", 0.7), _c("vii°", (11, 2, 5), "D", 2.0),
    _c("vii°7", (11, 2, 5, 8), "D", 2.2), _c("VII", (10, 2, 5), "A", 1.0, 3), _c("VII7", (10, 2, 5, 8), "A", 1.5, 3),
    _c("v", (7, 10, 2), "X", 1.8), _c("V/V", (2, 6, 9), "A", 1.1, 7), _c("V7/V", (2, 6, 9, 0), "A", 1.3, 7),
    _c("V/iv", (0, 4, 7), "A", 1.6, 5), _c("IV", (5, 9, 0), "X", 2.0), _c("ii", (2, 5, 9), "PD", 2.2),
]
MODAL_CHORD = 1.0  # a church mode's own triad that the major or minor list lacks (bII, bVII, v)
MODAL_CLOSE = 1.0  # a church mode's cadence on its own chords (bVII-I, bII-i, v-i, IV-i)
ADDED_NOTE = 0.4  # a pentatonic chord with a second or fourth for its third
SUSPENDED_CLOSE = 2.0  # ... and a last chord with a fourth (sus4), which does not sound closed
ROMANS = ("I", "II", "III", "IV", "V", "VI", "VII")


def vocabulary(key: Key) -> list[ChordDef]:
    """The chords of ``key`` (module doc, **Chords**)."""
    base = MINOR if key.is_minor_like else MAJOR
    if key.mode in ("major", "minor"):
        return base
    if key.mode in PENTATONIC:
        return _pentatonic(_church(key.reference_mode, base) if key.reference_mode not in ("major", "minor")
                           else base, set(key.scale_semitones()))
    return _church(key.mode, base)


def _church(mode: str, base: list[ChordDef]) -> list[ChordDef]:
    scale = HEPTATONIC[mode]
    out = [c for c in base if set(c.pcs) <= set(scale)]
    for step in range(7):
        pcs = tuple(scale[(step + k) % 7] for k in (0, 2, 4))
        if (pcs[2] - pcs[0]) % 12 != 7 or any(set(c.pcs) == set(pcs) for c in out):
            continue
        major = (pcs[1] - pcs[0]) % 12 == 4
        flat = "b" if pcs[0] < HEPTATONIC["major"][step] else ""
        roman = ROMANS[step] if major else ROMANS[step].lower()
        out.append(_c(flat + roman, pcs, "X", MODAL_CHORD))
    return out


def _pentatonic(base: list[ChordDef], scale: set[int]) -> list[ChordDef]:
    out: list[ChordDef] = []
    for c in base:
        root, third, fifth = c.pcs[:3]
        if set(c.pcs) <= scale:
            options = [c]
        elif c.seventh or root not in scale:
            options = []
        elif fifth in scale:  # sus2 / sus4: the scale's notes between root and fifth for the third
            options = [_c(c.name, (root, p, fifth), c.func, c.cost + ADDED_NOTE, c.target)
                       for p in sorted(scale, key=lambda p: (p - root) % 12) if 0 < (p - root) % 12 < 7]
        elif root == 0 and third in scale and (root + 10) % 12 in scale:  # jue's tonic: E-G-D
            options = [_c(c.name, (root, third, 10), c.func, c.cost + ADDED_NOTE)]
        else:
            options = []
        out += [o for o in options if all(set(o.pcs) != set(x.pcs) for x in out)]
    return out


# chords that may close a phrase as its (local) tonic, with the price of each kind of close
LOCAL_TONICS = {"major": {"I": 0.0, "V": 0.3, "vi": 1.5, "ii": 2.5, "IV": 2.5, "iii": 3.0},
                "minor": {"i": 0.0, "III": 0.4, "VI": 2.0, "iv": 2.5, "v": 1.5}}
# half cadences: on V, and on the dominant of a related key (V/V, V/vi; VII = V/III in minor)
HALF_CLOSES = {"major": {"V": 0.6, "V/V": 1.5, "V/vi": 1.5},
               "minor": {"V": 0.6, "VII": 1.0, "V/V": 2.0}}
# cost of a move of 0..24 semitones: inner voices (alto, tenor) and bass. Bach's basses move by
# step in two moves of three (benchmarks/fourpart.md): a leap costs more than a step or a held note.
INNER_MOTION = np.array([0.45, 0.0, 0.0, 0.05, 0.1, 0.9, 4.0, 1.6] + [4.0 + 0.5 * k for k in range(17)])
BASS_MOTION = np.array([0.6, 0.0, 0.0, 0.5, 0.55, 0.65, 3.0, 0.75, 1.2, 1.2, 1.6, 2.0, 0.9] + [5.0] * 12)
# bass on the root, third, fifth or seventh: Bach puts a chord's third or seventh in the bass on
# about two beats in five; a seventh chord's fifth in the bass (4/3) only between steps
INVERSION_COST = {"triad": (0.0, 0.35, HARD), "seventh": (0.0, 0.3, 0.5, 0.8)}
SEE_SAW = 0.8  # a chord, or a bass note, that returns right after the beat between (X-Y-X)
DIMINISHED_FOURTH = 3.0  # a lower voice leaping a diminished fourth to or from a note outside the key
FALLING_LEADING_TONE = 1.5  # an inner voice's leading tone falling to the fifth at the last cadence
MINOR_CLOSE = 4.0  # a last chord off the tonic that is a minor triad (a melody ending on the fourth: IV, not ii)
CADENCE_DOMINANT_INVERTED, FINAL_DOMINANT_INVERTED = 1.0, 6.0  # a cadence's dominant not on its root
# a slot of a repeated stretch of melody (REPEAT_MIN_SLOTS beats or more) pays for the chord and
# bass note it had the first time, and more for the whole voicing: sized so that the 7 held-out
# Bach melodies with a written-out repeat keep all lower voices on 42% of its beats (Bach 45%;
# 71% without the price, 13% at twice it)
REPEAT_MIN_SLOTS, REPEAT_SAME, REPEAT_VOICING = 6, 0.25, 0.15
PASSING_BASS = 6.0  # a 4/3 chord whose bass does not arrive and leave by step


@dataclass
class Slot:
    start: float
    end: float
    sop: int | None  # soprano sounding at the start (or first struck in the slot)
    sop_end: int | None  # soprano sounding just before the end
    held: bool  # the soprano note at the start was struck before this slot
    downbeat: bool
    phrase_end: bool = False
    final: bool = False
    rest: bool = False
    struck: list = field(default_factory=list)  # soprano notes struck inside the slot


@dataclass
class FourPart:
    alto: list[Note]
    tenor: list[Note]
    bass: list[Note]
    chords: list[tuple[float, str]]  # (onset, roman numeral) per slot where the chord changes
    phrase_ends: list[float]
    seconds: float
    cost: float


# ----------------------------------------------------------------------------- slots

def _layout(meter: Meter, end: float) -> list[tuple[float, float, float]]:
    bq = float(meter.bar_quarters)
    n = max(1, int(np.ceil(end / bq - EPS)))
    return [(i * bq, bq, meter.beat_quarters) for i in range(n)]


def phrase_ends(melody: list[Note], meter: Meter, layout: list[tuple[float, float, float]],
                key: Key | None = None, min_bars: float = 1.0) -> list[float]:
    """Onsets of the notes that end phrases: the fermatas, or ``guess_phrase_ends``."""
    notes = sorted(melody, key=lambda n: n.onset)
    marked = [n.onset for n in notes if getattr(n, "fermata", False)]
    if marked:
        return sorted(set(marked) | {notes[-1].onset})
    return guess_phrase_ends(notes, meter, layout, key, min_bars)


# phrase-end guessing (tuned on chorales of the corpus' train split, not on the benchmark's)
PHRASE_BARS = 2.0  # the usual phrase length
PHRASE_LENGTH_COST = 1.2  # per bar away from it (1-4 bars), more beyond 4 bars
PHRASE_STEP_IN = 0.5  # a phrase end approached by step
PHRASE_NEW_START = 1.2  # the next note leaps or repeats


def guess_phrase_ends(notes: list[Note], meter: Meter, layout, key: Key | None = None,
                      min_bars: float = 1.0) -> list[float]:
    """Phrase ends of a melody without fermatas: candidates are notes on a strong beat (the
    first, or the third of four) at least a beat long, or followed by a rest, scored by a rest
    after (3), a length of two beats or more (1.5), a shorter next note (0.8), a tonic-triad
    degree (0.5) or the second degree (0.3), a stepwise approach (0.5), a next note that leaps
    or repeats, as a new phrase starts (1.2); a dynamic programme picks
    the set that best trades those scores against phrases of about two bars (``PHRASE_BARS``).
    The last note always ends a phrase; no phrase is shorter than ``min_bars``."""
    bar_len = layout[0][1] if layout else float(meter.bar_quarters)
    last = notes[-1].onset
    cands: list[tuple[float, float]] = []
    for i, n in enumerate(notes[:-1]):
        bar = max((b for b in layout if b[0] <= n.onset + EPS), key=lambda b: b[0],
                  default=(0.0, bar_len, meter.beat_quarters))
        start, length, beat = bar
        pos = (n.onset - start) / beat
        strong = abs(pos) < EPS or (round(length / beat) == 4 and abs(pos - 2) < EPS)
        rest_after = notes[i + 1].onset - n.end > EPS
        if not rest_after and (not strong or n.duration < beat - EPS):
            continue
        if last - n.onset < min_bars * bar_len - EPS:
            continue
        sc = 3.0 * rest_after + 1.5 * (n.duration >= 2 * beat - EPS) + 0.8 * (notes[i + 1].duration < n.duration - EPS)
        if key is not None:
            deg = (n.pitch - key.tonic_pc) % 12
            sc += 0.5 if deg in (0, 7, 3 if key.is_minor_like else 4) else 0.3 if deg == 2 else 0.0
        if i and abs(n.pitch - notes[i - 1].pitch) <= 2:
            sc += PHRASE_STEP_IN
        if abs(notes[i + 1].pitch - n.pitch) >= 3 or notes[i + 1].pitch == n.pitch:
            sc += PHRASE_NEW_START  # the next phrase starts with a leap or on the same note
        cands.append((n.onset, sc))
    cands.append((last, 0.0))
    first = bar_len * np.floor(notes[0].onset / bar_len + EPS)  # a pickup belongs to the first phrase

    def cost(span: float) -> float:
        bars = span / bar_len
        if bars < min_bars - EPS:
            return 1e9
        return PHRASE_LENGTH_COST * (abs(bars - PHRASE_BARS) + 2 * max(0.0, bars - 2 * PHRASE_BARS))

    best = [-1e18] * len(cands)
    back = [-1] * len(cands)
    for j, (t, sc) in enumerate(cands):
        best[j] = sc - cost(t - first)
        for i in range(j):
            v = best[i] + sc - cost(t - cands[i][0])
            if v > best[j]:
                best[j], back[j] = v, i
    out, j = [], len(cands) - 1
    while j >= 0:
        out.append(cands[j][0])
        j = back[j]
    return sorted(out)


def make_slots(melody: list[Note], meter: Meter, layout, ends: list[float]) -> list[Slot]:
    notes = sorted(melody, key=lambda n: n.onset)
    first, end = notes[0].onset, max(n.end for n in notes)
    grid: list[tuple[float, bool]] = []
    for start, length, beat in layout:
        k = 0
        while start + k * beat < start + length - EPS:
            grid.append((start + k * beat, k == 0))
            k += 1
    last_bar = layout[-1]
    s = last_bar[0] + last_bar[1]
    while s < end - EPS:  # a melody running past the layout
        for k in range(max(1, round(last_bar[1] / last_bar[2]))):
            grid.append((s + k * last_bar[2], k == 0))
        s += last_bar[1]
    dedup: list[tuple[float, bool]] = []
    for i, (t, db) in enumerate(grid):
        nxt = grid[i + 1][0] if i + 1 < len(grid) else end
        if t < end - EPS and nxt > first + EPS:
            t = max(t, first)  # the beat holding a pickup off the beat starts with it
            if not dedup or t > dedup[-1][0] + EPS:
                dedup.append((t, db))
    final_note = notes[-1]
    end_notes = {round(e, 6) for e in ends}

    def sounding(t):
        for n in notes:
            if n.onset <= t + EPS < n.end:
                return n
        return None

    slots: list[Slot] = []
    for i, (t, db) in enumerate(dedup):
        e = dedup[i + 1][0] if i + 1 < len(dedup) else end
        cur = sounding(t)
        struck = [n for n in notes if t + EPS < n.onset < e - EPS]
        anchor = cur or (struck[0] if struck else None)
        tail = sounding(e - 1e-3)
        if anchor is None:
            slots.append(Slot(t, e, None, None, False, db, rest=True))
            continue
        held = cur is not None and cur.onset < t - EPS
        sl = Slot(t, e, anchor.pitch, tail.pitch if tail else anchor.pitch, held, db, struck=struck)
        # a phrase-end (or the last) note held over several beats stays one slot
        if held and slots and not slots[-1].rest and (slots[-1].phrase_end or slots[-1].final) \
                and cur is not None and round(cur.onset, 6) in end_notes:
            slots[-1].end = e
            slots[-1].sop_end = sl.sop_end
            continue
        if cur is not None and abs(cur.onset - t) < EPS and round(t, 6) in end_notes:
            sl.phrase_end = True
            sl.final = cur is final_note
        slots.append(sl)
    if slots and not any(s.final for s in slots):
        for s in reversed(slots):
            if not s.rest:
                s.final = s.phrase_end = True
                break
    return slots


# ----------------------------------------------------------------------------- voicings

def _ranges(melody: list[Note]) -> tuple[dict[str, tuple[int, int]], int]:
    """Voice ranges, moved by octaves when the melody lies outside the soprano's range."""
    ps = sorted(n.pitch for n in melody)
    med = ps[len(ps) // 2]
    shift = 0
    while med + shift < SOPRANO_RANGE[0]:
        shift += 12
    while med + shift > SOPRANO_RANGE[1]:
        shift -= 12
    return {k: (lo - shift, hi - shift) for k, (lo, hi) in RANGES.items()}, shift


class Voicer:
    def __init__(self, tonic: int, ranges: dict[str, tuple[int, int]]):
        self.tonic = tonic
        self.ranges = ranges
        self.cache: dict = {}

    def voicings(self, c: ChordDef, s: int | None, final: bool, cadence_root: bool,
                 floor: int | None = None) -> list[tuple[tuple[int, int, int, int], float]]:
        """(S, A, T, B) voicings of chord ``c`` under the soprano ``s`` with their costs; the
        alto stays below ``floor`` (the lowest soprano note of the beat) too."""
        key = (c, s, final, cadence_root, floor)
        if key in self.cache:
            return self.cache[key]
        pcs = [(p + self.tonic) % 12 for p in c.pcs]
        root, third, fifth = pcs[0], pcs[1], pcs[2]
        seventh = pcs[3] if c.seventh else None
        lt = (c.leading + self.tonic) % 12 if c.leading is not None else None
        out = []
        (alo, ahi), (tlo, thi), (blo, bhi) = self.ranges["alto"], self.ranges["tenor"], self.ranges["bass"]
        top = s if s is not None else ahi + 1
        if floor is not None:
            top = min(top, floor)
        s_in = s is not None and s % 12 in pcs
        pcset = set(pcs)
        basses = [b for b in range(blo, bhi + 1) if b % 12 in pcset]
        tenors = [t for t in range(tlo, thi + 1) if t % 12 in pcset]
        altos = [a for a in range(alo, ahi + 1) if a % 12 in pcset]
        for b in basses:
            bpc = b % 12
            if bpc == fifth and not c.seventh:
                continue  # no six-four chord (a seventh chord's 4/3 passes by step: see PASSING_BASS)
            if final and bpc != root:
                continue
            inv = INVERSION_COST["seventh" if c.seventh else "triad"][pcs.index(bpc)]
            if c.diminished and not c.seventh:
                inv = 4.0 if bpc == root else 0.0
            if cadence_root and bpc != root:
                inv += 20.0
            for t in tenors:
                if t <= b or t - b > 19:
                    continue
                for a in altos:
                    if a <= t or a >= top or a - t > 12 or (s is not None and s - a > 12):
                        continue
                    voiced = [b % 12, t % 12, a % 12] + ([s % 12] if s_in else [])
                    if not s_in and s is not None and len(set(voiced)) < 3:
                        continue
                    have = set(voiced)
                    cost = inv
                    if not pcset <= have:
                        if c.seventh and have == pcset - {fifth} and not final:
                            cost += 3.0
                        else:
                            continue
                    counts = {p: voiced.count(p) for p in have}
                    if lt is not None and counts.get(lt, 0) > 1:
                        continue
                    if seventh is not None and counts.get(seventh, 0) > 1:
                        continue
                    if any(v > 2 for v in counts.values()):
                        cost += 4.0  # a tripled note
                    if not c.seventh:
                        doubled = [p for p, v in counts.items() if v >= 2]
                        for p in doubled:
                            if c.diminished:
                                cost += 0.0 if p == third else 3.0
                            elif p == root:
                                cost += 0.0
                            elif p == fifth:
                                cost += 0.8
                            else:  # the third
                                cost += 2.0 if (third - root) % 12 == 4 else 1.2
                    if final and len(have) < 3:
                        continue
                    cost += 0.03 * (abs(a - (alo + ahi) / 2) + abs(t - (tlo + thi) / 2) + 0.5 * abs(b - (blo + bhi) / 2 - 2))
                    out.append(((s if s is not None else a, a, t, b), cost))
        self.cache[key] = out
        return out


# ----------------------------------------------------------------------------- the programme

def _transition(a: ChordDef, b: ChordDef) -> float:
    """Grammar cost of chord a followed by a different chord b."""
    up = (b.root - a.root) % 12
    cost = 0.0
    if a.func == "A":
        cost += -0.3 if b.root == a.target else 5.0
    elif a.seventh and up not in (5,) and not (a.func == "D" and b.name in ("vi", "VI")) \
            and not (a.diminished and up == 1):
        cost += 6.0
    if a.func == "D":
        if b.func == "T":
            cost += -0.3 if b.root == 0 else 0.8 if b.root in (8, 9) else 2.0
        elif b.func == "D":
            cost += 0.0 if (b.seventh and not a.seventh and b.root == a.root) else 2.0
        elif b.func == "PD":
            cost += 4.0
        else:
            cost += 3.0
    elif a.func == "PD":
        if b.func in ("D", "A") and b.name not in ("V/ii", "V/vi", "V7/vi", "V7/IV", "V/iv"):
            cost += -0.2
        elif b.func == "PD":
            cost += 0.2 if up in (9, 8, 5) else 1.5
        elif b.func == "T":
            cost += 0.6 if (b.root == 0 and a.root == 5) else 2.0
        else:
            cost += 1.0
    elif a.func == "T":
        cost += 0.3
        if a.name in ("iii",):
            cost += 0.0 if b.root in (9, 5) else 1.5
    else:
        cost += 0.8
    if b.func == "X":
        cost += 0.5
    if up == 5:
        cost -= 0.2
    elif up in (10, 11) and a.func != "T":
        cost += 0.5
    return cost


def _cadence_pair(prev: ChordDef, cad: ChordDef, final: bool, minor: bool, modal: bool = False) -> float | None:
    """Cost of prev -> cad as a cadence (None: not a cadence); ``modal``: a church or pentatonic
    mode's closes on its own chords too."""
    mode = "minor" if minor else "major"
    tonics = dict(LOCAL_TONICS[mode])
    if final:
        tonics = {"I": 0.0, "i": 0.5} if not minor else {"V/iv": 0.0, "i": 0.3}  # Picardy third
    is_tonic = cad.name in tonics
    major_third = (prev.pcs[1] - prev.pcs[0]) % 12 == 4
    if is_tonic:
        if (prev.root - cad.root) % 12 == 7 and major_third and prev.func in ("D", "A"):
            return tonics[cad.name]  # authentic (in the key or a related one)
        if prev.diminished and (cad.root - prev.root) % 12 == 1 and prev.func in ("D", "A"):
            return tonics[cad.name] + (5.0 if final else 1.5)  # (a last cadence vii°-I reads weak)
        if (prev.root - cad.root) % 12 == 5 and cad.root == 0 and prev.func == "PD" and not prev.seventh:
            return tonics[cad.name] + 1.5  # plagal
        if modal and cad.root == 0 and not prev.seventh and prev.root in (1, 5, 7, 10):
            return tonics[cad.name] + MODAL_CLOSE  # bII-i, IV-I, v-i, bVII-I
    if not final and cad.name in ("vi", "VI") and prev.name in ("V", "V7"):
        return 2.5  # deceptive
    half = HALF_CLOSES[mode]
    if not final and cad.name in half and prev.root != cad.root:
        return half[cad.name]  # half cadence
    if final and not is_tonic:  # a melody that cannot end on the tonic: a close in a related key
        c = _cadence_pair(prev, cad, False, minor, modal)
        return None if c is None else c + 10.0
    return None


def harmonize_melody(melody: list[Note], key: Key, meter: Meter,
                     layout: list[tuple[float, float, float]] | None = None,
                     ends: list[float] | None = None, passing: bool = True) -> FourPart:
    """Alto, tenor and bass under ``melody`` (kept as it is); see the module doc."""
    t0 = time.perf_counter()
    notes = sorted((n for n in melody), key=lambda n: n.onset)
    if not notes:
        raise ValueError("the melody has no notes")
    end = max(n.end for n in notes)
    layout = list(layout) if layout else _layout(meter, end)
    ends = phrase_ends(notes, meter, layout, key) if ends is None else sorted(set(ends) | {notes[-1].onset})
    slots = make_slots(notes, meter, layout, ends)
    minor = key.is_minor_like
    vocab = vocabulary(key)
    modal = key.mode not in ("major", "minor")
    tonic = key.tonic_pc
    ranges, _ = _ranges(notes)
    voicer = Voicer(tonic, ranges)
    sung = [i for i, s in enumerate(slots) if not s.rest]
    scale = set(key.scale_semitones())  # the natural scale (natural minor), a mode's own

    # states per slot: (chord index, voicing, unary cost)
    states: list[list[tuple[int, tuple[int, int, int, int], float]]] = []
    for k, i in enumerate(sung):
        s = slots[i]
        nxt = slots[sung[k + 1]] if k + 1 < len(sung) else None
        before_cad = nxt is not None and nxt.phrase_end
        row = []
        for relax in (False, True):
            for ci, c in enumerate(vocab):
                sp = (s.sop - tonic) % 12
                fit = 0.0 if sp in c.pcs else 40.0 if s.phrase_end else 12.0
                if sp not in c.pcs and any((q - sp) % 12 in (1, 11) and ((q in scale) != (sp in scale))
                                           for q in c.pcs):
                    fit += 20.0  # a chromatic neighbour of the melody note (A against A#): a false relation
                cost = c.cost + fit
                if s.final:
                    ok = c.name in (("V/iv", "i") if minor else ("I",))
                    if not ok and not (fit == 0 and len(c.pcs) == 3 and not c.diminished) and not relax:
                        continue  # the tonic, or (a melody ending off the tonic triad) a closing triad
                    cost = fit + (0.0 if ok else 12.0 if not relax else 40.0)
                    if not ok and (c.pcs[1] - c.pcs[0]) % 12 == 3:
                        cost += MINOR_CLOSE  # a melody ending off the tonic closes on a major triad
                    if c.figure.endswith("sus4"):
                        cost += SUSPENDED_CLOSE
                elif s.phrase_end:
                    mode = "minor" if minor else "major"
                    ok = c.name in LOCAL_TONICS[mode] or c.name in HALF_CLOSES[mode] or c.name in ("vi", "VI")
                    if not ok:
                        if not relax:
                            continue
                        cost += 40.0
                elif c.name == "V/iv" and minor:
                    cost += 0.5
                if k == 0:
                    cost += -1.0 if c.root == 0 and c.func == "T" else 0.5 if c.func == "D" else 1.5
                if s.struck:  # soprano notes struck inside the beat: chord tones are a plus
                    cost -= 0.2 * sum(1 for n in s.struck if (n.pitch - tonic) % 12 in c.pcs)
                floor = None if relax else min([s.sop] + [n.pitch for n in s.struck])
                for v, vc in voicer.voicings(c, s.sop, s.final, s.phrase_end or (before_cad and c.func in ("D", "A")),
                                             floor):
                    row.append((ci, v, cost + vc))
            if row:
                break
        if not row:  # a melody no voicing fits (far outside the ranges): widen and go on
            wide = Voicer(tonic, {k2: (lo - 7, hi + 7) for k2, (lo, hi) in ranges.items()})
            for ci, c in enumerate(vocab):
                for v, vc in wide.voicings(c, s.sop, False, False):
                    row.append((ci, v, c.cost + vc + (0.0 if (s.sop - tonic) % 12 in c.pcs else 12.0)))
        if len(row) > MAX_STATES:  # keep the cheapest voicings of each chord (speed)
            by_chord: dict[int, list] = {}
            for st in sorted(row, key=lambda x: x[2]):
                by_chord.setdefault(st[0], []).append(st)
            per = max(8, MAX_STATES // max(1, len(by_chord)))
            row = [st for group in by_chord.values() for st in group[:per]]
        states.append(row)

    n_ch = len(vocab)
    grammar = np.zeros((n_ch, n_ch))
    for a in range(n_ch):
        for b in range(n_ch):
            grammar[a, b] = 0.0 if a == b else _transition(vocab[a], vocab[b])
    cad_cost = {}
    for a in range(n_ch):
        for b in range(n_ch):
            for final in (False, True):
                c = _cadence_pair(vocab[a], vocab[b], final, minor, modal)
                cad_cost[(a, b, final)] = 30.0 if c is None else c
    in_key_degrees = scale | ({9, 11} if key.mode == "minor" else set())  # (minor's raised sixth and seventh too)
    in_key = np.array([(p - tonic) % 12 in in_key_degrees for p in range(12)])
    roots = np.array([(c.root + tonic) % 12 for c in vocab])
    dominants = np.array([c.func in ("D", "A") and not c.diminished and (c.pcs[1] - c.pcs[0]) % 12 == 4 for c in vocab])
    lts = np.array([(-1 if c.leading is None else (c.leading + tonic) % 12) for c in vocab])
    sevs = np.array([(-1 if not c.seventh else (c.pcs[3] + tonic) % 12) for c in vocab])
    # a seventh chord with its fifth in the bass (4/3): the bass must pass through it by step
    four_three = [np.array([vocab[ci].seventh and (v[3] - tonic - vocab[ci].pcs[2]) % 12 == 0 for ci, v, _ in row])
                  for row in states]

    def decode(states):
        """The cheapest path through the states (Viterbi): the state index per sung slot, its cost."""
        best = np.array([u for _, _, u in states[0]]) if states else np.zeros(0)
        # the chord and bass two beats back along each state's best path (an approximate second-order
        # term: a chord or bass that swings back at once, I-V-I-V or F#-E#-F#, is a see-saw)
        back2_chord = np.full(len(best), -1)
        back2_bass = np.full(len(best), -1.0)
        backs = []
        for k in range(1, len(states)):
            prev_slot, cur_slot = slots[sung[k - 1]], slots[sung[k]]
            P, C = states[k - 1], states[k]
            pc_idx = np.array([x[0] for x in P])
            cc_idx = np.array([x[0] for x in C])
            pv = np.array([x[1] for x in P], dtype=float)  # (n, 4): S A T B
            cv = np.array([x[1] for x in C], dtype=float)
            pv[:, 0] = prev_slot.sop_end if prev_slot.sop_end is not None else pv[:, 0]
            cu = np.array([x[2] for x in C])
            # the last chord's approach is priced by the cadence alone (a Picardy tonic is a tonic there)
            T = grammar[pc_idx][:, cc_idx].copy() if not cur_slot.final else np.zeros((len(P), len(C)))
            same = pc_idx[:, None] == cc_idx[None, :]
            if cur_slot.held:
                T += np.where(same, -0.5, 0.3)
            else:
                T += np.where(same, 2.0 if cur_slot.downbeat else 1.0, 0.0)
            if cur_slot.phrase_end:
                cc = np.array([[cad_cost[(a, b, cur_slot.final)] for b in cc_idx] for a in pc_idx])
                T += cc
                # the dominant of a cadence stands on its root (V6-I is a weak close; Bach's last
                # cadence is V-I in root position)
                T += (FINAL_DOMINANT_INVERTED if cur_slot.final else CADENCE_DOMINANT_INVERTED) * \
                    (dominants[pc_idx] & (pv[:, 3] % 12 != roots[pc_idx]))[:, None]
            if prev_slot.phrase_end:
                T += np.where(same, 1.0, 0.0)  # a new phrase moves on
            d = cv[None, :, :] - pv[:, None, :]  # (n, m, 4) motion
            ad = np.abs(d)
            # motion of the lower voices: inner voices move by step rather than stand still or leap
            T += INNER_MOTION[np.minimum(ad[..., 1:3], 24).astype(int)].sum(-1)
            T += BASS_MOTION[np.minimum(ad[..., 3], 24).astype(int)]
            T += 3.0 * (ad[..., 3] == 6)
            T += PASSING_BASS * ((four_three[k - 1][:, None] | four_three[k][None, :]) & (ad[..., 3] > 2))
            if cur_slot.held:  # under a held melody note the chord and its voices may simply hold
                T -= np.where(same[..., None], INNER_MOTION[0] * (ad[..., 1:] == 0), 0.0).sum(-1)
            if True:  # also across a breath: the chords on both sides are compared
                sg = np.sign(d)
                for i, j in itertools.combinations(range(4), 2):
                    before = np.abs(pv[:, None, i] - pv[:, None, j]) % 12
                    after = np.abs(cv[None, :, i] - cv[None, :, j]) % 12
                    par = (sg[..., i] == sg[..., j]) & (sg[..., i] != 0) & (
                        ((before == 7) & (after == 7)) | ((before == 0) & (after == 0)))
                    T += HARD * par
                    # contrary fifths/octaves (antiparallels) are avoided too
                    anti = (sg[..., i] == -sg[..., j]) & (sg[..., i] != 0) & (
                        ((before == 7) & (after == 7)) | ((before == 0) & (after == 0)))
                    T += 4.0 * anti
                # hidden octaves/fifths in the outer voices under a leaping soprano
                after_sb = np.abs(cv[None, :, 0] - cv[None, :, 3]) % 12
                hidden = (sg[..., 0] == sg[..., 3]) & (sg[..., 0] != 0) & (ad[..., 0] > 2) & ((after_sb == 0) | (after_sb == 7))
                T += 3.0 * hidden
                # overlaps: a voice moving past where its neighbour was
                for v in range(1, 4):
                    T += 2.0 * (cv[None, :, v] >= pv[:, None, v - 1])
                    if v < 3:
                        T += 2.0 * (cv[None, :, v] <= pv[:, None, v + 1])
                # leading tones rise, sevenths fall (when the chord changes)
                plt = lts[pc_idx][:, None]
                psev = sevs[pc_idx][:, None]
                change = ~same
                for v in (1, 2, 3):
                    had_lt = (pv[:, None, v] % 12 == plt) & (plt >= 0)
                    # (at the last cadence an inner voice's leading tone may fall a third to the
                    # fifth, as Bach's often does, so that the final chord is complete: without
                    # it a final V-I under 2-1 in the soprano could not be complete, and vii°-I
                    # came instead; at every cadence it made the bass leap: steps 67% -> 60%)
                    falls = (d[..., v] == -4) | (d[..., v] == -3) if cur_slot.final and v < 3 else False
                    T += np.where(had_lt & change & (d[..., v] != 1), np.where(falls, FALLING_LEADING_TONE, 25.0), 0.0)
                    had_sev = (pv[:, None, v] % 12 == psev) & (psev >= 0)
                    T += 25.0 * (had_sev & change & ~((d[..., v] == -1) | (d[..., v] == -2)))
                T += np.where(same & (ad[..., 1:].sum(-1) == 0), -0.3, 0.0)
                # a seventh in the (given) soprano that does not fall by step: rather no seventh chord
                if prev_slot.sop_end is not None and cur_slot.sop is not None:
                    ds = cur_slot.sop - prev_slot.sop_end
                    if ds not in (-1, -2):
                        T += 8.0 * ((prev_slot.sop_end % 12 == sevs[pc_idx])[:, None] & change)
                # no diminished fourth into or out of a chromatic note (an applied chord's leading
            # tone): F down to C#, C# up to F (a leap into it of any other size is Bach's too:
            # pricing them all cost a third of the applied dominants)
            for v in (1, 2, 3):
                T += DIMINISHED_FOURTH * ((~in_key[cv[None, :, v].astype(int) % 12] & (d[..., v] == -4))
                                          | (~in_key[pv[:, None, v].astype(int) % 12] & (d[..., v] == 4)))
            # no augmented second (the minor's sixth to its raised seventh) in a lower voice
                if minor:
                    lo6, lt7 = (tonic + 8) % 12, (tonic + 11) % 12
                    for v in (1, 2, 3):
                        a_pc, b_pc = pv[:, None, v] % 12, cv[None, :, v] % 12
                        aug = (ad[..., v] == 3) & (((a_pc == lo6) & (b_pc == lt7)) | ((a_pc == lt7) & (b_pc == lo6)))
                        T += 8.0 * aug
            if not prev_slot.phrase_end and not cur_slot.phrase_end:
                swing = ~same & (back2_chord[:, None] == cc_idx[None, :])
                T += SEE_SAW * swing
                T += SEE_SAW * ((back2_bass[:, None] == cv[None, :, 3]) & (ad[..., 3] > 0))
            tot = best[:, None] + T
            arg = tot.argmin(0)
            best = tot[arg, np.arange(len(C))] + cu
            backs.append(arg)
            back2_chord, back2_bass = pc_idx[arg], pv[arg, 3]
        path = [int(best.argmin())] if len(states) else []
        total = float(best.min()) if len(states) else 0.0
        for k in range(len(states) - 1, 0, -1):
            path.append(int(backs[k - 1][path[-1]]))
        path.reverse()
        return path, total

    path, total = decode(states)
    # a repeated stretch of melody is harmonized afresh where it can be (Bach: in the written-out
    # repeats of 30 held-out chorales the lower voices repeat on about a third of the beats)
    repeats = _repeats(slots, sung)
    if repeats:
        first_pass = [states[k][j] for k, j in enumerate(path)]
        for k, src in repeats.items():
            ci0, v0, _ = first_pass[src]
            states[k] = [(ci, v, u + REPEAT_SAME * (ci == ci0 and v[3] == v0[3]) + REPEAT_VOICING * (v == v0))
                         for ci, v, u in states[k]]
        path, total = decode(states)

    chosen = [states[k][j] for k, j in enumerate(path)]
    voices: list[list[Note]] = [[], [], []]
    romans: list[tuple[float, str]] = []
    prev_ci = None
    for k, (ci, v, _) in enumerate(chosen):
        s = slots[sung[k]]
        if ci != prev_ci or (k and abs(slots[sung[k - 1]].end - s.start) > EPS):
            romans.append((s.start, "I" if s.final and vocab[ci].name == "V/iv" else vocab[ci].figure))
        after_fermata = k > 0 and slots[sung[k - 1]].phrase_end  # a new phrase: every voice sings afresh
        for idx, p in enumerate(v[1:]):
            line = voices[idx]
            if line and ci == prev_ci and line[-1].pitch == p and abs(line[-1].end - s.start) < EPS \
                    and not after_fermata:
                line[-1].duration = s.end - line[-1].onset
            else:
                line.append(Note(p, s.start, s.end - s.start))
        prev_ci = ci
    alto, tenor, bass = voices
    if passing:
        starts = [slots[i].start for i in sung]
        ends_at = [s.start for s in slots if s.phrase_end]
        before_ends = [slots[sung[k - 1]].start for k in range(1, len(sung))
                       if slots[sung[k]].phrase_end and slots[sung[k - 1]].start not in ends_at]
        # (no suspension from a fermata chord into the next phrase: each phrase starts afresh)
        after_ends = {slots[sung[k]].start for k in range(1, len(sung)) if slots[sung[k - 1]].phrase_end}
        held = suspensions(notes, [alto, tenor, bass], [t for t in starts[1:] if t not in ends_at and t not in after_ends],
                           before_ends, key, meter)
        passing_notes(notes, [alto, tenor, bass], key, ends_at, meter, held)
    for line in (alto, tenor, bass):
        for n in line:
            n.onset, n.duration = round(n.onset, 6), round(n.duration, 6)
    return FourPart(alto, tenor, bass, romans, [s.start for s in slots if s.phrase_end],
                    time.perf_counter() - t0, total)


def _repeats(slots: list[Slot], sung: list[int]) -> dict[int, int]:
    """Sung slots (indices into ``sung``) whose melody repeats an earlier stretch of at least
    ``REPEAT_MIN_SLOTS`` slots, note for note at the same place in the bar -> the slot they repeat."""
    def sig(s: Slot):
        return (s.sop, s.sop_end, s.held, s.downbeat, s.phrase_end, round(s.end - s.start, 4),
                tuple((n.pitch, round(n.onset - s.start, 4), round(n.duration, 4)) for n in s.struck))
    sigs = [sig(slots[i]) for i in sung]
    n = len(sigs)
    run = [[0] * (n + 1) for _ in range(n + 1)]  # run[a][b]: slots matching from a and from b on
    for a in range(n - 1, -1, -1):
        for b in range(n - 1, a, -1):
            run[a][b] = run[a + 1][b + 1] + 1 if sigs[a] == sigs[b] else 0
    out: dict[int, int] = {}
    k = 0
    while k < n:
        src, length = max(((a, min(run[a][k], k - a)) for a in range(k)), key=lambda x: x[1], default=(0, 0))
        if length >= REPEAT_MIN_SLOTS:
            out.update({k + i: src + i for i in range(length)})
            k += length
        else:
            k += 1
    return out


# ----------------------------------------------------------------------------- scores

def lower_voices(score, melody: list[Note], key: Key, layout=None, program: int | None = None):
    """The three ``Part``s (alto, tenor, bass) under ``melody`` and the ``FourPart`` result, for
    a Score's meter and bars."""

    fp = harmonize_melody(melody, key, score.meter, layout)
    prog = program if program is not None else 0
    parts = [Part(line, name, prog) for line, name in ((fp.alto, "Alto"), (fp.tenor, "Tenor"), (fp.bass, "Bass"))]
    return parts, fp


def analysis_meta(fp: FourPart) -> dict:
    """What goes into music.json: the Roman numerals (onset, figure) and the phrase ends."""
    return {"method": "symphony.fourpart", "roman_numerals": [[round(o, 6), f] for o, f in fp.chords],
            "phrase_ends": [round(x, 6) for x in fp.phrase_ends], "seconds": round(fp.seconds, 4)}
