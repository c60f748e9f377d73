"""A functional chord plan for a melody (issue 18, item 2): the chords, bass and symbols that
``edit harmonize --as chords|accompaniment``, ``--melody-harmony chords`` and ``generate
--accompany`` (without ``--chords``) write.

**Harmonic rhythm.** The chord may change on any beat of the bars as written (dotted quarters
in compound meters), but a change costs by where it falls: nothing on a bar line, a little on
the half bar of a four-beat (or long two-beat) bar, more on other beats. So the plan has one or
two chords a bar, and moves faster only where the melody asks for it or at a cadence: the beats
before a phrase end change at the half-bar price.

**Chords.** The key's diatonic triads (harmonic minor's V in minor) with V7, the dominant of the
dominant (V/V, V7/V) and, in minor, the subtonic VII. Modal keys (dorian, mixolydian, ...) and
the Chinese pentatonic modes take the triads of their own heptatonic scale (dorian's IV,
mixolydian's bVII, no leading tone), since a harmonic-minor V would contradict their scale.

**Fit.** The melody note sounding at each beat (struck there or held into it) must be a chord
tone; a note no cheap chord holds is allowed as a *documented* non-chord tone
(``ChordPlan.non_chord_tones``: passing, neighbour, appoggiatura, suspension or free) at a heavy
price, more when it rubs a semitone against the chord. On a weak beat (not the bar line, not the
half bar of a four-beat bar) a note that passes or turns by step is cheaper, so a scale in
quarter notes does not get a chord per note. Off-beat notes cost a little when they are not
chord tones, by length.

**Grammar** (costs, lower is better): tonic -> anything; predominant (ii, IV) -> dominant or
back to the tonic (plagal); dominant -> tonic, rarely the deceptive vi; V/V -> V; V7 -> I.

**Phrase ends** are the melody's fermatas, else the longest note on a beat in every fourth bar
(counted from the first full bar) and the last note. There the chord is a cadence: the last one
authentic (V(7) -> I, root position; plagal IV -> I and modal bVII/v -> I at a price), inner ones
half cadences (-> V) after the first phrase of a pair and authentic after the second, as in a
period. The chord of a phrase-end note held over several beats is held with it.

**Bass.** A second, small dynamic programme picks root position or first inversion for every
chord so that the bass moves by step where it can (I V6 I, I6 IV V); cadence chords, the chord
before an authentic cadence, the first and the last chord stay in root position, and the
leading tone in the bass rises to the tonic. Inverted chords are written as slash chords (G/B).

**Voicing** (``voice``): right-hand chords in close position from middle C up, kept under the
melody and moving as little as possible; the left hand plays the bass between E2 and G3. The
two hands form one part that the MusicXML export puts on a grand staff.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from symphony.music.harmony import Chord, ChordSpan
from symphony.music.score import Note
from symphony.music.theory import HEPTATONIC, Key, Meter, spell_on

EPS = 1e-6
MIN_BAR = 1.0  # quarters: a shorter bar inside a tune (an upbeat between repeats) gets no chord of its own
PHRASE_BARS = 4  # bars of a phrase in a melody without fermatas

# costs (lower is better)
CHANGE_ON_BEAT = 1.5  # a chord change on a beat that is neither the bar line nor the half bar
CHANGE_HALF_BAR = 0.6  # a change on the half bar of a four-beat (or long two-beat) bar
CHANGE_NEAR_CADENCE = 0.4  # any beat in the approach to a phrase end
HOLD_OVER_BARLINE = {"T": 0.3, "PD": 0.6, "D": 0.9, "A": 1.2}  # the same chord over a bar line
HOLD_SEVENTH = 0.5  # ... a seventh chord, more
HOLD_INTO_PHRASE = 1.5  # the same chord from a cadence into the next phrase
ALTERNATION = 0.35  # back to the chord before last (I V I V ... on and on)
HOLD_CADENCE_NOTE_BREAK = 6.0  # a change under a held phrase-end note
STRONG_NCT = 4.0  # a beat's melody note that is not a chord tone
HELD_NCT = 3.0  # ... held into the beat from before
SEMITONE_CLASH = 1.5  # ... a semitone from a chord tone (C against C#), more
WEAK_BEAT_PASSING = 1.2  # a passing or neighbour note on a weak beat (2 and 4 of 4/4, 2 and 3 of 3/4)
WEAK_NCT = 0.4  # an off-beat note that is not a chord tone, per beat of its length
NO_CADENCE = 6.0
PLAGAL, PLAGAL_FINAL = 1.5, 2.5  # IV -> I closes inside, and at the end (authentic: 0)
FIRST_NOT_TONIC = 2.5

INVERSION = 0.35  # a first-inversion chord (against root position)
BASS_MOTION = {0: 0.6, 1: 0.0, 2: 0.0, 3: 0.3, 4: 0.3, 5: 0.2, 6: 1.5}  # by pitch-class distance
BASS_DOUBLES_MELODY = 1.0  # an inverted chord whose bass doubles the melody (an exposed third)
LEADING_TONE_BASS_UNRESOLVED = 3.0

SUSTAINED_STYLES = ("chorale", "renaissance")  # accompanied by held chords, not a dance pattern
BASS_RANGE = (40, 55)  # E2-G3
RH_LOW, RH_HIGH = 60, 76  # the right hand's chords: from middle C to E5


@dataclass(frozen=True)
class Degree:
    """A chord of the plan's vocabulary, relative to the tonic."""
    numeral: str  # Roman numeral as music21 reads it: I, ii, V7, V/V, bVII, viio
    root_step: int  # the root's scale step over the tonic (0-6): spells the chord's letters
    pcs: tuple[int, ...]  # semitones over the tonic: root, third, fifth[, seventh]
    func: str  # T (tonic), PD (predominant), D (dominant), A (applied dominant)
    cost: float
    target: int | None = None  # the root (semitones over the tonic) an applied chord goes to

    @property
    def root(self) -> int:
        return self.pcs[0]

    @property
    def seventh(self) -> bool:
        return len(self.pcs) == 4

    @property
    def quality(self) -> str:
        third, fifth = (self.pcs[1] - self.root) % 12, (self.pcs[2] - self.root) % 12
        base = {(4, 7): "", (3, 7): "m", (3, 6): "dim", (4, 8): "aug"}[(third, fifth)]
        if not self.seventh:
            return base
        sev = (self.pcs[3] - self.root) % 12
        return {("", 10): "7", ("", 11): "maj7", ("m", 10): "m7", ("dim", 10): "m7b5",
                ("dim", 9): "dim7"}.get((base, sev), base + "7")


def _d(numeral, step, pcs, func, cost, target=None) -> Degree:
    return Degree(numeral, step, tuple(p % 12 for p in pcs), func, cost, target)


MAJOR = (
    _d("I", 0, (0, 4, 7), "T", 0.0), _d("ii", 1, (2, 5, 9), "PD", 0.5), _d("iii", 2, (4, 7, 11), "T", 1.5),
    _d("IV", 3, (5, 9, 0), "PD", 0.2), _d("V", 4, (7, 11, 2), "D", 0.1), _d("vi", 5, (9, 0, 4), "T", 0.5),
    _d("V7", 4, (7, 11, 2, 5), "D", 0.5), _d("V/V", 1, (2, 6, 9), "A", 1.2, 7),
    _d("V7/V", 1, (2, 6, 9, 0), "A", 1.6, 7),
)
MINOR = (
    _d("i", 0, (0, 3, 7), "T", 0.0), _d("iio", 1, (2, 5, 8), "PD", 1.2), _d("III", 2, (3, 7, 10), "T", 0.8),
    _d("iv", 3, (5, 8, 0), "PD", 0.3), _d("V", 4, (7, 11, 2), "D", 0.1), _d("V7", 4, (7, 11, 2, 5), "D", 0.5),
    _d("VI", 5, (8, 0, 3), "T", 0.6), _d("VII", 6, (10, 2, 5), "A", 0.9, 3), _d("v", 4, (7, 10, 2), "D", 1.8),
    _d("V/V", 1, (2, 6, 9), "A", 1.6, 7),
)
# a modal key's chords by the scale step of their root: function and price
_MODAL_STEPS = ((0, "T", 0.0), (1, "PD", 0.6), (2, "T", 1.2), (3, "PD", 0.3), (4, "D", 0.3),
                (5, "T", 0.6), (6, "D", 0.4))
_MAJOR_SCALE = HEPTATONIC["major"]


def vocabulary(key: Key) -> tuple[Degree, ...]:
    """The chords a plan in ``key`` may use (see the module doc)."""
    if key.mode == "major":
        return MAJOR
    if key.mode == "minor":
        return MINOR
    return _modal_vocabulary(key.reference_mode)


@lru_cache(maxsize=16)
def _modal_vocabulary(mode: str) -> tuple[Degree, ...]:
    scale = HEPTATONIC[mode]
    out = []
    for step, func, cost in _MODAL_STEPS:
        pcs = tuple(scale[(step + k) % 7] for k in (0, 2, 4))
        third, fifth = (pcs[1] - pcs[0]) % 12, (pcs[2] - pcs[0]) % 12
        if fifth != 7:
            continue  # diminished triads are no chords of a modal folk tune
        roman = ("I", "II", "III", "IV", "V", "VI", "VII")[step]
        roman = roman if third == 4 else roman.lower()
        accidental = {-1: "b", 1: "#"}.get(pcs[0] - _MAJOR_SCALE[step], "")
        out.append(_d(accidental + roman, step, pcs, func, cost))
    return tuple(out)


# ----------------------------------------------------------------------------- the plan

@dataclass
class PlannedChord:
    degree: Degree
    onset: float
    duration: float
    bass_pc: int  # absolute pitch class of the bass (root, or the third of a first inversion)
    chord: Chord  # the letter-name chord (figure with a slash when inverted)

    @property
    def end(self) -> float:
        return self.onset + self.duration

    @property
    def inverted(self) -> bool:
        return self.bass_pc != self.chord.root_pc


@dataclass
class ChordPlan:
    chords: list[PlannedChord]
    phrase_ends: list[float]
    cadences: list[tuple[float, str]]  # (onset of the cadence chord, authentic / half / plagal / ...)
    non_chord_tones: list[tuple[float, int, str]] = field(default_factory=list)  # (onset, pitch, kind)
    seconds: float = 0.0

    def spans(self) -> list[ChordSpan]:
        return [ChordSpan(c.chord, c.onset, c.duration) for c in self.chords]


@dataclass
class _Slot:
    start: float
    end: float
    change_cost: float  # the price of a new chord here (harmonic rhythm)
    note: Note | None  # melody note sounding at the start
    held: bool  # ... struck before the slot
    weak: list[Note]  # notes struck inside the slot after its start
    phrase_end: int = -1  # index of the phrase that ends here (-1: none)
    final: bool = False
    cadence_hold: bool = False  # a phrase-end note held from the slot before
    phrase_start: bool = False  # the first bar line after a cadence
    passing: bool = False  # a weak beat whose note passes or turns by step (may be a non-chord tone)


def plan_chords(melody: list[Note], key: Key, meter: Meter,
                layout: list[tuple[float, float, float]] | None = None,
                ends: list[float] | None = None) -> ChordPlan:
    """The chord plan of ``melody`` (see the module doc). ``layout``: the bars as (start,
    length, beat) in quarters (irregular bars included); ``ends``: phrase-end onsets (default:
    the fermatas, else ``phrase_ends``)."""
    t0 = time.perf_counter()
    notes = sorted(melody, key=lambda n: n.onset)
    if not notes:
        raise ValueError("the melody has no notes")
    end = max(n.end for n in notes)
    layout = layout or _regular_layout(meter, end)
    ends = sorted(ends) if ends is not None else phrase_ends(notes, layout, key)
    slots = _slots(notes, layout, ends, end)
    vocab = vocabulary(key)
    path = _best_path(slots, vocab, key)
    plan = _merge(slots, path, vocab, key, notes)
    plan.chords[-1].duration = max(end, layout[-1][0] + layout[-1][1]) - plan.chords[-1].onset  # to the bar line
    _choose_bass(plan, key, notes)
    plan.phrase_ends = [round(e, 6) for e in ends]
    plan.seconds = time.perf_counter() - t0
    return plan


def _regular_layout(meter: Meter, end: float) -> list[tuple[float, float, float]]:
    bq = float(meter.bar_quarters)
    return [(i * bq, bq, meter.beat_quarters) for i in range(max(1, int(np.ceil(end / bq - EPS))))]


def phrase_ends(notes: list[Note], layout: list[tuple[float, float, float]], key: Key | None = None) -> list[float]:
    """Onsets of the notes that end phrases: the fermatas, else one note in every
    ``PHRASE_BARS``-th full bar after the pickup, the best of the notes struck on its beats by
    length (in beats), the downbeat (+1) and a degree of the tonic or dominant triad (+1); always
    the last note."""
    marked = [n.onset for n in notes if n.fermata]
    last = notes[-1].onset
    if marked:
        return sorted(set(marked) | {last})
    full = max((b[1] for b in layout), default=0.0)
    bars = [b for b in layout if b[1] >= full - EPS and b[0] >= notes[0].onset - EPS]
    stable = set()
    if key is not None:
        third = 3 if key.is_minor_like else 4
        stable = {(key.tonic_pc + x) % 12 for x in (0, third, 7, 11 if key.mode in ("major", "minor") else 10, 2)}
    out = []
    for start, length, beat in bars[PHRASE_BARS - 1::PHRASE_BARS]:
        on_beat = [n for n in notes if start - EPS <= n.onset < start + length - EPS
                   and abs(((n.onset - start) / beat + EPS) % 1) < 2 * EPS]
        if on_beat and last - on_beat[0].onset > length - EPS:
            score = {id(n): n.duration / beat + (abs(n.onset - start) < EPS) + (n.pitch % 12 in stable)
                     for n in on_beat}
            out.append(max(on_beat, key=lambda n: (score[id(n)], -n.onset)).onset)
    return sorted(set(out) | {last})


def _slots(notes: list[Note], layout, ends: list[float], end: float) -> list[_Slot]:
    """One slot per beat of the bars as written, with the melody note sounding at its start,
    the notes struck inside it, and the phrase ends and cadence approaches marked."""
    first = notes[0].onset
    end_list = sorted({round(e, 6) for e in ends})
    final_onset = round(notes[-1].onset, 6)
    slots: list[_Slot] = []
    arrived: set[float] = set()
    for t, e, cost in _beat_grid(layout, first, end):
        cur = next((n for n in notes if n.onset <= t + EPS < n.end), None)
        weak = [n for n in notes if t + EPS < n.onset < e - EPS]
        held = cur is not None and cur.onset < t - EPS
        sl = _Slot(t, e, cost, cur, held, weak)
        sl.passing = cost == CHANGE_ON_BEAT and cur is not None and not held \
            and non_chord_tone_kind(notes, cur, held) in ("passing", "neighbour")
        if cur is not None and round(cur.onset, 6) in end_list:
            if held and round(cur.onset, 6) in arrived:
                sl.cadence_hold = True
            else:  # (a phrase-end note struck off the beat arrives on the next beat)
                sl.phrase_end = end_list.index(round(cur.onset, 6))
                sl.final = round(cur.onset, 6) == final_onset
                arrived.add(round(cur.onset, 6))
        slots.append(sl)
    if slots and not any(s.final for s in slots):
        slots[-1].phrase_end, slots[-1].final = len(end_list) - 1, True
    _mark_approaches(slots, max(b[1] for b in layout))
    return slots


def _beat_grid(layout, first: float, end: float) -> list[tuple[float, float, float]]:
    """(start, end, price of a chord change) of every beat from the melody's first note to its
    end; a pickup bar inside the tune shorter than a beat (or a quarter note) belongs to the
    beat before it."""
    grid: list[tuple[float, float, float]] = []
    bars = list(layout)
    while bars[-1][0] + bars[-1][1] < end - EPS:  # a melody running past the layout
        s, length, beat = bars[-1]
        bars.append((s + length, length, beat))
    for start, length, beat in bars:
        if (length < beat - EPS or length < MIN_BAR - EPS) and grid:
            grid[-1] = (grid[-1][0], start + length, grid[-1][2])
            continue
        n_beats = max(1, round(length / beat))
        half = n_beats // 2 if n_beats == 4 or (n_beats == 2 and length >= 3 - EPS) else None
        for k in range(n_beats):
            t = start + k * beat
            cost = 0.0 if k == 0 else CHANGE_HALF_BAR if k == half else CHANGE_ON_BEAT
            grid.append((t, min(start + length, t + beat), cost))
    # the beat holding a pickup starts with it
    return [(max(t, first), e, c) for t, e, c in grid if e > first + EPS and t < end - EPS]


def _mark_approaches(slots: list[_Slot], bar_length: float) -> None:
    """Changes are cheaper in the bar before a phrase end (the cadence moves faster), and the
    first bar line after it starts a new phrase."""
    for i, s in enumerate(slots):
        if s.phrase_end >= 0:
            for p in slots[max(0, i - 4):i]:
                if p.start >= s.start - bar_length - EPS and p.change_cost > CHANGE_NEAR_CADENCE:
                    p.change_cost = CHANGE_NEAR_CADENCE
    after = False
    for s in slots:
        if s.phrase_end >= 0:
            after = True
        elif after and s.change_cost == 0.0 and not s.cadence_hold:
            s.phrase_start, after = True, False


def _fit(slot: _Slot, vocab, key: Key) -> np.ndarray:
    """Cost of each chord against the melody of one slot."""
    tonic = key.tonic_pc
    out = np.zeros(len(vocab))
    for j, d in enumerate(vocab):
        pcs = {(p + tonic) % 12 for p in d.pcs}
        if slot.note is not None and slot.note.pitch % 12 not in pcs:
            if slot.passing:
                out[j] += WEAK_BEAT_PASSING
            else:
                out[j] += HELD_NCT if slot.held else STRONG_NCT
                if any((slot.note.pitch - pc) % 12 in (1, 11) for pc in pcs):
                    out[j] += SEMITONE_CLASH
        beat = max(slot.end - slot.start, EPS)
        out[j] += sum(WEAK_NCT * min(n.duration, slot.end - n.onset) / beat
                      for n in slot.weak if n.pitch % 12 not in pcs)
    return out


def _transition(a: Degree, b: Degree) -> float:
    """Grammar cost of chord a followed by a different chord b (module doc)."""
    up = (b.root - a.root) % 12
    if a.func == "A":
        cost = 0.0 if b.root == a.target else 0.6 if (a.numeral == "VII" and b.root == 0) else 4.0
    elif a.func == "D":
        if b.root == 0:
            cost = -0.3
        elif b.func == "D":  # V -> V7 (the seventh added)
            cost = 0.0 if b.root == a.root and b.seventh and not a.seventh else 2.0
        elif b.numeral in ("vi", "VI"):
            cost = 2.0  # deceptive: rarely
        else:
            cost = 3.0  # a retrogression
    elif a.func == "PD":
        cost = (-0.2 if b.func in ("D", "A") else 0.2 if (b.func == "PD" and up in (8, 9)) else
                0.4 if (b.root == 0 and a.root == 5) else 1.2)
    else:  # tonic function
        cost = 0.2 if a.root == 0 else 0.5
    if a.seventh and a.func == "D" and b.root != 0 and b.numeral not in ("vi", "VI"):
        cost += 3.0  # a dominant seventh resolves
    return cost + b.cost


def _cadence(a: Degree | None, b: Degree, final: bool, phrase: int, modal: bool) -> tuple[float, str]:
    """Cost and kind of ``a -> b`` as the cadence of a phrase end (``a`` None: b held)."""
    tonic = b.root == 0 and b.func == "T"
    if a is None:  # the cadence chord arrived before the phrase-end note
        if not final and b.func == "D" and b.root == 7 and not b.seventh:
            return 0.6, "half"
        return NO_CADENCE, "none"
    if tonic:
        authentic_pref = 0.0 if (final or phrase % 2 == 1) else 0.4
        if a.func == "D" and a.root == 7 and (a.pcs[1] - a.root) % 12 == 4:
            return authentic_pref, "authentic"
        if a.func == "D":  # v -> i, bVII -> I
            return authentic_pref + (0.3 if modal else 1.5), "modal"
        if a.root == 5 and a.func == "PD":
            return authentic_pref + (PLAGAL_FINAL if final else PLAGAL), "plagal"
        if a.numeral == "VII":
            return authentic_pref + 0.8, "modal"
    if final:
        return NO_CADENCE * 3, "none"
    if b.func == "D" and b.root == 7 and not b.seventh:
        return (0.0 if phrase % 2 == 0 else 0.6), "half"
    if b.numeral in ("vi", "VI") and a.func == "D" and a.root == 7:
        return 2.5, "deceptive"
    if b.numeral == "III" and a.numeral == "VII":
        return 0.8, "authentic"  # in the relative major
    return NO_CADENCE, "none"


def _best_path(slots: list[_Slot], vocab, key: Key) -> list[int]:
    """The cheapest chord per slot. A state is (chord now, the different chord before it), so
    that going back to the chord before last (I V I V ...) can cost ``ALTERNATION``."""
    n = len(vocab)
    none = n  # "no chord before": the first chord's state
    modal = key.mode not in ("major", "minor")
    trans = np.array([[0.0 if i == j else _transition(a, b) for j, b in enumerate(vocab)]
                      for i, a in enumerate(vocab)])
    hold = np.array([HOLD_OVER_BARLINE[d.func] + HOLD_SEVENTH * d.seventh for d in vocab])
    start = np.array([0.0 if (d.root == 0 and d.func == "T") else 1.0 if d.numeral in ("V", "v") and not modal
                      else FIRST_NOT_TONIC + d.cost for d in vocab])
    total = np.full((n, n + 1), np.inf)  # (chord now, chord before)
    total[:, none] = start + _fit(slots[0], vocab, key)
    back = np.zeros((len(slots), n, n + 1), dtype=int)  # flat index of the previous state
    flat = np.arange(n * (n + 1)).reshape(n, n + 1)
    for k in range(1, len(slots)):
        s = slots[k]
        step = trans + s.change_cost
        np.fill_diagonal(step, (hold + HOLD_INTO_PHRASE * s.phrase_start) if s.change_cost == 0.0 else 0.0)
        if s.cadence_hold:
            step = step + HOLD_CADENCE_NOTE_BREAK * (1 - np.eye(n))
        if s.phrase_end >= 0:
            step = step + np.array([[_cadence(None if i == j else a, b, s.final, s.phrase_end, modal)[0]
                                     for j, b in enumerate(vocab)] for i, a in enumerate(vocab)])
        new = total + np.diag(step)[:, None]  # the chord held
        back[k] = flat
        for j in range(n):  # a change to chord j from state (i, p): the new state is (j, i)
            via = total + ALTERNATION * (np.arange(n + 1) == j)[None, :]
            best_p = via.argmin(1)
            cost = via[np.arange(n), best_p] + step[:, j]
            cost[j] = np.inf
            better = cost < new[j, :n]
            new[j, :n] = np.where(better, cost, new[j, :n])
            back[k, j, :n] = np.where(better, flat[np.arange(n), best_p], back[k, j, :n])
        total = new + _fit(s, vocab, key)[:, None]
    state = int(total.argmin())
    path = []
    for k in range(len(slots) - 1, -1, -1):
        path.append(state // (n + 1))
        state = int(back[k].flat[state])
    return path[::-1]


def _merge(slots: list[_Slot], path: list[int], vocab, key: Key, notes: list[Note]) -> ChordPlan:
    chords: list[PlannedChord] = []
    cadences: list[tuple[float, str]] = []
    nct: list[tuple[float, int, str]] = []
    modal = key.mode not in ("major", "minor")
    for k, (s, j) in enumerate(zip(slots, path)):
        d = vocab[j]
        if chords and chords[-1].degree == d:
            chords[-1].duration = s.end - chords[-1].onset
        else:
            chords.append(PlannedChord(d, s.start, s.end - s.start, 0, Chord("", 0, frozenset(), 0)))
        if s.phrase_end >= 0:
            prev = vocab[path[k - 1]] if k and path[k - 1] != j else None
            cadences.append((round(s.start, 6), _cadence(prev, d, s.final, s.phrase_end, modal)[1]))
        pcs = {(p + key.tonic_pc) % 12 for p in d.pcs}
        if s.note is not None and s.note.pitch % 12 not in pcs and not any(x[0] == s.note.onset for x in nct):
            nct.append((s.note.onset, s.note.pitch, non_chord_tone_kind(notes, s.note, s.held)))
    return ChordPlan(chords, [], cadences, nct)


def non_chord_tone_kind(notes: list[Note], note: Note, held: bool) -> str:
    """What a non-chord melody note on a beat is, by its neighbours: suspension (held or
    repeated, then down by step), passing (steps through), neighbour (steps away and back),
    appoggiatura (leapt to, left by step) or free."""
    i = notes.index(note)
    prev = notes[i - 1].pitch if i else None
    nxt = notes[i + 1].pitch if i + 1 < len(notes) else None
    into = None if prev is None else note.pitch - prev
    out = None if nxt is None else nxt - note.pitch
    step_out = out is not None and 1 <= abs(out) <= 2
    if (held or into == 0) and out is not None and -2 <= out <= -1:
        return "suspension"
    if into is not None and 1 <= abs(into) <= 2 and step_out:
        return "passing" if (into > 0) == (out > 0) else "neighbour"
    if into is not None and abs(into) > 2 and step_out:
        return "appoggiatura"
    return "free"


# ----------------------------------------------------------------------------- bass and symbols

def _choose_bass(plan: ChordPlan, key: Key, notes: list[Note]) -> None:
    """Root position or first inversion for each chord (module doc), then the letter symbols."""
    tonic = key.tonic_pc
    chords = plan.chords
    cad_onsets = {o for o, kind in plan.cadences}
    fixed = set()
    for i, c in enumerate(chords):
        if i in (0, len(chords) - 1) or round(c.onset, 6) in cad_onsets:
            fixed.add(i)
            if i and round(c.onset, 6) in cad_onsets and c.degree.root == 0:
                fixed.add(i - 1)  # the dominant of an authentic cadence
    options = [[0] if i in fixed else [0, 1] for i in range(len(chords))]  # chord-tone index of the bass
    mel = [_melody_at(notes, c.onset) for c in chords]

    def bass_pc(i, inv):
        return (chords[i].degree.pcs[inv] + tonic) % 12

    def own(i, inv):
        d = chords[i].degree
        dim = d.quality in ("dim", "m7b5", "dim7")
        cost = (0.0 if inv else 1.0) if dim else (INVERSION if inv else 0.0)
        if inv and mel[i] is not None and mel[i] % 12 == bass_pc(i, inv):
            cost += BASS_DOUBLES_MELODY
        return cost

    best = [{inv: own(0, inv) for inv in options[0]}]
    back: list[dict[int, int]] = [{}]
    for i in range(1, len(chords)):
        row, bk = {}, {}
        for inv in options[i]:
            pc = bass_pc(i, inv)
            cands = {}
            for pinv, v in best[-1].items():
                ppc = bass_pc(i - 1, pinv)
                dist = min((pc - ppc) % 12, (ppc - pc) % 12)
                cost = v + BASS_MOTION[dist]
                d = chords[i - 1].degree
                if pinv == 1 and d.func in ("D", "A") and d.root in (7, 2) and (pc - ppc) % 12 != 1:
                    cost += LEADING_TONE_BASS_UNRESOLVED  # the leading tone in the bass rises
                cands[pinv] = cost
            p = min(cands, key=cands.get)
            row[inv], bk[inv] = cands[p] + own(i, inv), p
        best.append(row)
        back.append(bk)
    inv = min(best[-1], key=best[-1].get)
    for i in range(len(chords) - 1, -1, -1):
        chords[i].bass_pc = bass_pc(i, inv)
        chords[i].chord = letter_chord(chords[i].degree, key, inv)
        inv = back[i].get(inv, 0)


def _melody_at(notes: list[Note], t: float) -> int | None:
    for n in notes:
        if n.onset <= t + EPS < n.end:
            return n.pitch
    return None


def _spell(key: Key, step: int, pc: int) -> str:
    """The name of pitch class ``pc`` on the letter ``step`` scale steps above the tonic's."""
    return spell_on(key.tonic, step, pc)


@lru_cache(maxsize=1024)
def letter_chord(d: Degree, key: Key, inversion: int = 0) -> Chord:
    """The letter-name chord of a degree in a key: G7, F#m, Bb, G/B (first inversion)."""
    tonic = key.tonic_pc
    names = [_spell(key, d.root_step + 2 * k, (p + tonic) % 12) for k, p in enumerate(d.pcs)]
    figure = names[0] + d.quality + (f"/{names[inversion]}" if inversion else "")
    root = (d.root + tonic) % 12
    return Chord(figure, root, frozenset((p + tonic) % 12 for p in d.pcs), (d.pcs[inversion] + tonic) % 12, figure)


def plan_meta(plan: ChordPlan) -> dict:
    """What goes into music.json: the planned chords (onset, numeral, symbol), the cadences, the
    phrase ends and the melody's non-chord tones on beats."""
    return {"method": "symphony.chordplan",
            "chords": [[round(c.onset, 6), c.degree.numeral + ("6" if c.inverted and not c.degree.seventh else ""),
                        c.chord.figure] for c in plan.chords],
            "cadences": [[o, kind] for o, kind in plan.cadences], "phrase_ends": plan.phrase_ends,
            "non_chord_tones": [[o, p, kind] for o, p, kind in plan.non_chord_tones],
            "seconds": round(plan.seconds, 4)}


# ----------------------------------------------------------------------------- voicing

def voice(plan: ChordPlan, melody: list[Note], layout, pattern: bool = False) -> list[Note]:
    """The accompaniment as one keyboard part: the right hand's chords in close position from
    middle C up, under the melody where it can, moving by the smallest steps (leaving out a
    chord tone a semitone from a non-chord tone in the melody); the left hand's bass in E2-G3. Chords are struck again on every bar line; with ``pattern`` the left hand
    plays alone on the first beat (and the half bar) and the right hand on the other beats, as
    a dance accompaniment does ("oom-pah"), with the bass of a chord that starts there."""
    out: list[Note] = []
    prev_rh: tuple[int, ...] | None = None
    prev_bass = 48
    bar_starts = sorted({round(b[0], 6) for b in layout})
    for c in plan.chords:
        pcs = sorted(c.chord.pcs)
        low_mel = min((n.pitch for n in melody if n.onset < c.end - EPS and n.end > c.onset + EPS), default=84)
        rh = _close_position(pcs, prev_rh, low_mel)
        top = _melody_at(melody, c.onset)
        if top is not None and top % 12 not in c.chord.pcs:  # a non-chord tone: no semitone clash under it
            rh = tuple(p for p in rh if (p - top) % 12 not in (1, 11)) or rh
        bass = min(range(BASS_RANGE[0], BASS_RANGE[1] + 1),
                   key=lambda p: (p % 12 != c.bass_pc, abs(p - prev_bass)))
        cuts = [c.onset] + [b for b in bar_starts if c.onset + EPS < b < c.end - EPS] + [c.end]
        for a, b in zip(cuts, cuts[1:]):
            out += _strike(rh, bass, a, b, layout, pattern)
        prev_rh, prev_bass = rh, bass
    return out


def _close_position(pcs: list[int], prev: tuple[int, ...] | None, melody_low: int) -> tuple[int, ...]:
    """The close-position chord (each note within an octave of the lowest, from middle C up) that
    stays under the melody and moves least from ``prev``."""
    cands = []
    for bottom in range(RH_LOW, RH_LOW + 12):
        if bottom % 12 not in pcs:
            continue
        v = tuple(sorted(bottom + (pc - bottom) % 12 for pc in pcs))
        cands.append(v)
    center = RH_LOW + 5

    def cost(v):
        move = sum(abs(a - b) for a, b in zip(v, prev)) if prev else abs(np.mean(v) - center)
        over = max(0, v[-1] - (melody_low - 1))
        return move + 2.0 * over + 2.0 * max(0, v[-1] - RH_HIGH)
    return min(cands, key=cost)


def _strike(rh, bass, a: float, b: float, layout, pattern: bool) -> list[Note]:
    if not pattern:
        return [Note(bass, a, b - a, 70)] + [Note(p, a, b - a, 62) for p in rh]
    bar = max((x for x in layout if x[0] <= a + EPS), key=lambda x: x[0], default=layout[0])
    beat = bar[2]
    n_beats = max(1, round(bar[1] / beat))
    half = n_beats // 2 if n_beats == 4 else None
    out, t = [], a
    while t < b - EPS:
        d = min(beat, b - t)
        k = round((t - bar[0]) / beat)
        if (k == 0 or k == half) and t + beat < b - EPS:  # a strong beat with more to come: the bass alone
            out.append(Note(bass, t, d, 70))
        else:  # the others: the chord, with its bass where it is new
            out += ([Note(bass, t, d, 70)] if t == a else []) + [Note(p, t, d, 62) for p in rh]
        t += beat
    return out
