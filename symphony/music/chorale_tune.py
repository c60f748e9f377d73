"""A chorale tune composed phrase by phrase (issue 18's blind panel: the model's sopranos circled
one three- or four-note cell and readers found every generated chorale by it).

What Bach's chorale melodies do (30 held-out chorales, ``benchmarks/fourpart.py``'s *soprano
shape* columns): phrases of eight beats (111 of 182) ending in a fermata on the third beat of 4/4
(117 of 182) or on the downbeat of 3/4; each phrase an arch of mostly steps over about an octave
for the whole tune; the fermatas on varied degrees (the tonic, the fifth, the third, the second
over a half cadence); about one note in five an eighth, mostly passing between the notes of a
third; the first two phrases (the *Stollen*) often sung twice before the rest (the *Abgesang*).

So the tune is built in that shape:

* **Phrases**: two bars of 4/4 (three of 3/4), the fermata on the bar's last strong beat that
  leaves a beat before the next phrase's pickup; a pickup opens each phrase when the piece opens
  with one. Left-over bars lengthen the last phrases.
* **Form**: with six phrases or more, every other tune (drawn) repeats its first two (AAB, the
  bar form).
* **Cadence degrees**: drawn per phrase from a plan (the Stollen closes on the fifth or third and
  then on the tonic or fifth; the Abgesang on the third, fifth, second, sixth; never the same
  degree twice in a row); the last phrase closes on the tonic, stepped into.
* **Notes**: a dynamic programme per phrase over the scale steps of the tune's range (a window of
  an octave and a sixth around the tonic, placed so that its middle lies near Bach's median
  soprano), the state being the last two notes: steps are free, thirds cheap, fourths and fifths
  dearer, sevenths, tritones and anything past an octave barred; a leap is followed by a step
  back; a note that comes straight back (A-B-A) pays, so the line does not circle; each phrase
  follows an arch whose peak is drawn (the piece's high point in its second half); the leading
  tone goes to the tonic. The model's soprano, where given, pulls weakly toward its notes and a
  seeded noise varies the rest.
* **Eighths**: a quarter that moves a third to the next note gets the passing step between on
  its second half, about once a phrase (Bach: 21% of his soprano notes are shorter than a beat).
* **Minor**: the natural scale, with the seventh raised where it rises to the tonic (and the
  sixth where it rises to that raised seventh).

Meters other than simple duple or triple quarters (6/8, 2/2 ...) are left to
``chorale_line.chorale_soprano``; ``compose_tune`` returns None for them.
"""
from __future__ import annotations

import math
import random

from symphony.music.score import Note
from symphony.music.theory import Key, Meter

EPS = 1e-6
HARD = 1e6
BACH_MEDIAN_SOPRANO = 69.5  # A4-Bb4: where the middle of the tune's range lies
# the range: the final at the bottom with the leading tone below (T-1 .. T+12), or in the middle
# (the dominant below, T-5 .. T+9); and how far past its top the high point may reach
WINDOWS = ((-1, 12), (-5, 9))
PEAK_REACH = 1
# the share of tunes (of six phrases or more) in bar form: its Stollen written out makes a quarter
# of a 16-bar tune a repeat (Bach's 30 held-out chorales: 8% of soprano notes, most Stollen being
# printed with repeat signs)
BAR_FORM_RATE = 0.5
PHRASE_BEATS = {4: 2, 3: 3, 2: 4}  # beats per bar -> bars per phrase (about eight beats)
# semitones of a melodic move -> cost (0 = repeat); tritones, sevenths and beyond the octave barred
MOVE = {0: 1.0, 1: 0.0, 2: 0.0, 3: 0.7, 4: 0.8, 5: 1.5, 7: 2.4, 8: 3.5, 9: 3.8, 12: 4.5}
COME_BACK = 0.9  # A-B-A: a note that returns at once (what made the model's sopranos circle)
LEAP_BACK = 1.4  # a leap of a fourth or more not followed by a step the other way
CONTOUR = 0.22  # per semitone away from the phrase's arch
GUIDE = 0.06  # per semitone away from the model's soprano note
NOISE = 0.7
LEADING_TONE = 2.0  # a leading tone that does not rise to the tonic
MINOR_ASCENT = 1.0  # a minor line climbing 6-7-8 (sung with both raised: sparingly)
OPENING = {0: 0.0, 7: 0.3, 3: 0.5, 4: 0.5}  # the first note: the tonic, fifth or third
# phrase contours: (weight, where the peak falls, 0..1): an arch, a line falling from its start,
# a line rising late; never the same twice in a row, the climax phrase not a fall
SHAPES = {"arch": (3, (0.35, 0.6)), "fall": (2, (0.1, 0.2)), "rise": (1.5, (0.65, 0.8))}
OPENING_NOTES, SAME_OPENING = 3, 0.8  # phrases opening on the notes another phrase opened with pay
MIN_SPAN = 4  # semitones from the phrase's start and close up to its peak
CELL_TRIES = 6
PASSING_RATE = 0.45  # of the quarters that move a third (about one eighth pair a phrase)
# cadence degrees (semitones above the tonic) and their weights: Stollen first and second
# phrase, Abgesang phrases
PLAN = {"major": ({7: 5, 4: 3, 2: 2}, {0: 6, 7: 4}, {4: 3, 7: 3, 2: 1.5, 9: 1, 0: 1.2}),
        "minor": ({7: 5, 3: 4}, {0: 5, 3: 5}, {3: 3, 7: 3, 2: 1.5, 0: 1.2, 5: 0.8})}


def _phrase_bars(beats_per_bar: int, bars: int) -> list[int]:
    size = PHRASE_BEATS[beats_per_bar]
    n = max(1, bars // size)
    lengths = [size] * n
    for i in range(bars - size * n):  # left-over bars lengthen the last phrases
        lengths[-1 - i % n] += 1
    return lengths


def _range(key: Key) -> tuple[int, int, int]:
    """(final, low, high): the tune's tonic and its range (module doc)."""
    best = None
    for final in range(60, 75):
        if final % 12 != key.tonic_pc:
            continue
        for lo, hi in WINDOWS:
            cost = abs((final + (lo + hi) / 2) - BACH_MEDIAN_SOPRANO)
            if best is None or cost < best[0]:
                best = (cost, final, final + lo, final + hi)
    _, final, lo, hi = best
    return final, lo, hi


def _cadence_degrees(n: int, minor: bool, rng: random.Random) -> list[int]:
    first, second, later = PLAN["minor" if minor else "major"]
    out: list[int] = []
    for i in range(n):
        if i == n - 1:
            out.append(0)
            continue
        pool = first if i == 0 else second if i == 1 else later
        pool = {d: w for d, w in pool.items() if not out or d != out[-1]}
        if i == n - 2:
            pool.pop(0, None)  # the tonic is kept for the end
        if not pool:  # (a short tune: its second phrase is its last but one)
            pool = {d: w for d, w in later.items() if d and d != out[-1]}
        out.append(rng.choices(list(pool), list(pool.values()))[0])
    return out


def _slots(meter: Meter, first_bar: float, n_bars: int, pickup: float, last: bool, end: float) -> list[tuple[float, float]]:
    """(onset, duration) of a phrase's notes: quarters from its pickup, the fermata note on the
    last strong beat of its last bar that leaves the next phrase's pickup its room (the final
    note: two beats or more, as Bach's finals after a pickup fall on the downbeat)."""
    beat, bq = meter.beat_quarters, float(meter.bar_quarters)
    last_bar = first_bar + (n_bars - 1) * bq
    phrase_end = end if last else last_bar + bq - pickup
    strong = [last_bar] + ([last_bar + 2 * beat] if round(bq / beat) == 4 else [])
    # (the final holds two beats or more: on the downbeat of a last bar the pickup shortened)
    # (a last bar shortened to one beat by a long pickup, or any 2/4 bar after one: the final
    # takes the downbeat and what is left of the bar)
    at = max((s for s in strong if phrase_end - s >= (2 if last else 1) * beat - EPS), default=last_bar)
    t = first_bar - pickup
    out = []
    while t < at - EPS:
        out.append((t, beat))
        t += beat
    out.append((at, phrase_end - at))
    return out


def _pitches(key: Key, lo: int, hi: int) -> list[int]:
    scale = {(key.tonic_pc + d) % 12 for d in key.degree_semitones()}
    return [p for p in range(lo, hi + PEAK_REACH + 1) if p % 12 in scale]


def _move_cost(a: int, b: int) -> float:
    return MOVE.get(abs(b - a), HARD)


def _phrase(cands: list[int], targets: list[float], first: list[tuple[int, float]], cadence: int,
            lt: int, tonic_pc: int, guide: list[int | None], noise: list[dict[int, float]],
            minor: bool = False) -> list[int]:
    """The cheapest line through ``cands`` (module doc): ``first`` the allowed first notes with
    their costs, ``cadence`` the last note, ``targets`` the arch."""
    m = len(targets)
    idx = {p: i for i, p in enumerate(cands)}

    def unary(k: int, p: int) -> float:
        c = CONTOUR * abs(p - targets[k]) + noise[k].get(p, 0.0)
        if guide[k] is not None:
            c += GUIDE * abs(p - guide[k])
        return c

    # states: (previous, current) -> (cost, back pointer state)
    layers: list[dict[tuple[int, int], tuple[float, tuple[int, int] | None]]] = []
    layer = {(-1, p): (c + unary(0, p), None) for p, c in first if p in idx}
    layers.append(layer)
    for k in range(1, m):
        allowed = [cadence] if k == m - 1 else cands
        nxt: dict[tuple[int, int], tuple[float, tuple[int, int] | None]] = {}
        for (a, b), (cost, _) in layer.items():
            for c in allowed:
                step = _move_cost(b, c)
                if step >= HARD:
                    continue
                x = cost + step + unary(k, c)
                if a >= 0 and c == a and c != b:
                    x += COME_BACK
                if a >= 0 and abs(b - a) >= 5 and not (1 <= abs(c - b) <= 2 and (c - b) * (b - a) < 0):
                    x += LEAP_BACK
                if b % 12 == lt and c % 12 != tonic_pc:
                    x += LEADING_TONE
                if minor and a >= 0 and (a - tonic_pc) % 12 == 8 and b - a == 2 and c - b == 2:
                    x += MINOR_ASCENT
                if k == m - 1 and not 1 <= abs(c - b) <= 2:
                    x += 3.0  # the cadence note is stepped into
                if (b, c) not in nxt or x < nxt[(b, c)][0]:
                    nxt[(b, c)] = (x, (a, b))
        layer = nxt
        layers.append(layer)
    state = min(layer, key=lambda s: layer[s][0])
    line = []
    for k in range(m - 1, -1, -1):
        line.append(state[1])
        state = layers[k][state][1]
    return line[::-1]


def repeated_cells(pitches: list[int]) -> int:
    """Three-note cells (consecutive pitches) that already came earlier in the line."""
    cells = list(zip(pitches, pitches[1:], pitches[2:]))
    return sum(1 for k, c in enumerate(cells) if c in cells[:k])


def _arch(m: int, start: float, peak: float, end: float, peak_at: float) -> list[float]:
    """Target heights: up from ``start`` to ``peak`` at ``peak_at`` (0..1), down to ``end``."""
    top = max(1, min(m - 2, round(peak_at * (m - 1))))
    out = []
    for k in range(m):
        if k <= top:
            out.append(start + (peak - start) * math.sin(math.pi / 2 * k / top))
        else:
            out.append(end + (peak - end) * math.cos(math.pi / 2 * (k - top) / (m - 1 - top)))
    return out


def _minor_inflections(notes: list[Note], key: Key) -> None:
    """The seventh raised where it rises a step to the tonic, and the sixth before it where the
    line climbs 5-6-7-8 by step; a sixth leapt into stays natural and so does the seventh after
    it (no augmented second, no augmented leap into the raised sixth)."""
    t = key.tonic_pc
    b6, b7 = (t + 8) % 12, (t + 10) % 12
    for i, (a, b) in enumerate(zip(notes, notes[1:])):
        if a.pitch % 12 != b7 or b.pitch - a.pitch != 2 or b.pitch % 12 != t:
            continue
        six = notes[i - 1] if i and notes[i - 1].pitch == a.pitch - 2 and notes[i - 1].pitch % 12 == b6 else None
        if six is not None:
            stepped_in = i > 1 and 1 <= six.pitch - notes[i - 2].pitch <= 2
            if not stepped_in:
                continue
            six.pitch += 1
        a.pitch += 1


def _passing(notes: list[Note], key: Key, meter: Meter, rng: random.Random) -> list[Note]:
    """Quarters moving a third get the passing step between on their second half (module doc)."""
    scale = sorted({(key.tonic_pc + d) % 12 for d in key.degree_semitones()})
    out: list[Note] = []
    for i, n in enumerate(notes):
        nxt = notes[i + 1] if i + 1 < len(notes) else None
        gap = nxt.pitch - n.pitch if nxt else 0
        if nxt is None or n.fermata or abs(n.duration - meter.beat_quarters) > EPS or abs(nxt.onset - n.end) > EPS \
                or abs(gap) not in (3, 4) or rng.random() >= PASSING_RATE:
            out.append(n)
            continue
        between = [p for p in range(min(n.pitch, nxt.pitch) + 1, max(n.pitch, nxt.pitch))
                   if p % 12 in scale or (key.is_minor_like and gap > 0 and nxt.pitch % 12 == (key.tonic_pc + 11) % 12
                                          and p % 12 == (key.tonic_pc + 9) % 12)]
        if key.is_minor_like and gap > 0 and nxt.pitch % 12 == (key.tonic_pc + 11) % 12:
            between = [p for p in between if p % 12 != (key.tonic_pc + 8) % 12]  # melodic minor rising
        if len(between) != 1 or out and out[-1].pitch == between[0]:  # (no turn back: D C-D E)
            out.append(n)
            continue
        half = n.duration / 2
        out += [Note(n.pitch, n.onset, half, n.velocity), Note(between[0], n.onset + half, half, n.velocity)]
    return out


def compose_tune(key: Key, meter: Meter, bars: int, pickup: float = 0.0, seed: int = 0,
                 guide: list[Note] | None = None, velocity: int = 80) -> list[Note] | None:
    """A chorale tune of ``bars`` bars (the first holding only the ``pickup`` when there is one;
    the last bar short by it), fermatas on its phrase ends; None for meters it does not shape
    (module doc). ``guide``: the model's soprano, a weak pull."""
    beat, bq = meter.beat_quarters, float(meter.bar_quarters)
    per_bar = round(bq / beat)
    if pickup > EPS:  # a pickup of part of a beat (the model's eighth) is sung as a whole beat
        pickup = max(beat, round(pickup / beat) * beat)
    if meter.is_compound or abs(beat - 1.0) > EPS or per_bar not in PHRASE_BEATS or pickup > bq - beat + EPS:
        return None
    first_bar = 1 if pickup else 0
    usable = bars - first_bar
    if usable < PHRASE_BEATS[per_bar]:
        return None
    rng = random.Random(f"chorale-tune|{key}|{meter}|{bars}|{seed}")
    minor = key.is_minor_like
    final, lo, hi = _range(key)
    cands = _pitches(key, lo, hi)
    tonic_pc = key.tonic_pc
    lt = (tonic_pc + 11) % 12 if not minor else (tonic_pc + 10) % 12  # (minor: the natural seventh, raised later)
    lengths = _phrase_bars(per_bar, usable)
    n = len(lengths)
    degrees = _cadence_degrees(n, minor, rng)
    stollen = n >= 6 and rng.random() < BAR_FORM_RATE
    if stollen:
        degrees[2:4] = degrees[0:2]
    climax = rng.choice(range(max(1, n // 2), n - 1)) if n > 2 else 0
    end_time = bars * bq - pickup
    guide_at = sorted(guide or [], key=lambda x: x.onset)
    notes: list[Note] = []
    bar = first_bar
    prev_end: int | None = None
    shape = ""
    openings: list[set[int]] = [set() for _ in range(OPENING_NOTES)]
    sung_cells: set[tuple[int, ...]] = set()  # four-note cells of the phrases composed so far
    for i, size in enumerate(lengths):
        slots = _slots(meter, bar * bq, size, pickup, i == n - 1, end_time)
        bar += size
        if stollen and i in (2, 3):  # the Stollen sung again
            shift = sum(lengths[:2]) * bq
            span = (slots[0][0] - shift, slots[-1][0] + slots[-1][1] - shift)
            notes += [Note(x.pitch, x.onset + shift, x.duration, velocity, fermata=x.fermata)
                      for x in notes if span[0] - EPS <= x.onset < span[1] - EPS]
            prev_end = notes[-1].pitch
            continue
        deg = degrees[i]
        if i == n - 1:
            cad = final
        else:  # the close lies low in the range, leaving the phrase room to rise
            cad_opts = [p for p in cands if p % 12 == (tonic_pc + deg) % 12 and lo - 1 <= p <= hi - 5] or \
                [p for p in cands if p % 12 == (tonic_pc + deg) % 12 and lo - 1 <= p <= hi]
            cad = min(cad_opts, key=lambda p: abs(p - (lo + (hi - lo) * 0.3)) + rng.random() * 3)
        top = hi + PEAK_REACH if i == climax else hi - rng.choice((1, 2, 3, 4))
        if prev_end is None:
            first = [(p, OPENING[(p - tonic_pc) % 12]) for p in cands
                     if (p - tonic_pc) % 12 in OPENING and p <= final + 7]
            start = final + 2
        else:
            first = [(p, _move_cost(prev_end, p) * 0.7 + (0.0 if (p - tonic_pc) % 12 in (0, 3, 4, 7) else
                                                           1.2 if (p - tonic_pc) % 12 in (10, 11) else 0.6))
                     for p in cands if _move_cost(prev_end, p) < HARD]
            start = prev_end + rng.choice((-2, 0, 2))
        m = len(slots)
        shapes = [x for x in SHAPES if x != shape and (i != climax or x != "fall")]
        shape = rng.choices(shapes, [SHAPES[x][0] for x in shapes])[0]
        peak = min(hi + PEAK_REACH, max(top, max(start, cad) + MIN_SPAN))
        if shape == "fall":
            start = peak - rng.choice((0, 1, 2))
        targets = _arch(m, start, peak, cad, rng.uniform(*SHAPES[shape][1]))
        guide_k = [next((g.pitch for g in guide_at if g.onset <= t + EPS < g.end), None) for t, _ in slots]
        tries = []
        # redrawn while a three-note cell comes back in the phrase, or a four-note cell of an
        # earlier phrase (Bach sings 12% of his four-note cells again outside a repeated phrase)
        for attempt in range(CELL_TRIES):
            noise = [{p: rng.random() * NOISE * (1 + 0.5 * attempt) for p in cands} for _ in range(m)]
            for k, used in enumerate(openings):  # a new phrase opens with a figure of its own
                for p in used:
                    noise[k][p] = noise[k].get(p, 0.0) + SAME_OPENING
            line = _phrase(cands, targets, first, cad, lt, tonic_pc, guide_k, noise, minor)
            used = sum(1 for c in zip(line, line[1:], line[2:], line[3:]) if c in sung_cells)
            tries.append((2 * repeated_cells(line) + used, attempt, line))
            if not tries[-1][0]:
                break
        line = min(tries)[2]
        for k in range(min(OPENING_NOTES, m - 1)):
            openings[k].add(line[k])
        sung_cells.update(zip(line, line[1:], line[2:], line[3:]))
        phrase = [Note(p, t, d, velocity, fermata=k == m - 1) for k, ((t, d), p) in enumerate(zip(slots, line))]
        if minor:
            _minor_inflections(phrase, key)
        notes += _passing(phrase, key, meter, rng)
        prev_end = line[-1]
    return notes
