"""A generated chorale soprano made to read like a chorale tune (issue 18's blind panel): the
model's line keeps its rhythm and most of its notes; what readers took for a machine goes.

* **Chromatic wobbles**: a note outside the key's scale (a mode's own notes, a pentatonic mode's
  five; in minor, its natural form plus the raised sixth and seventh) moves to the nearer scale
  step; in minor the raised seventh stays only where the line rises to the tonic, the raised
  sixth only where it rises to the raised seventh.
* **Neighbour loops**: four notes that swing between two pitches (G A G A) become a turn: the
  fourth note steps on past the first (G A G F#), or, where that would leap to what follows, the
  third steps on past the second (G A B A).
* **Breaths**: a rest inside the line ends a phrase: the note before takes a fermata and holds
  through it, as Bach's voices do.
* **Syncopations**: a note of two beats or more starting on a weak beat is split on the beat; a
  note struck off the beat and held over the next one is cut at that beat.
* **The final**: the last note is the tonic, on the strong beat of the last bar (its downbeat, or
  the third beat of 4/4 where that leaves a half note), held until the bar line, or until the
  pickup's worth before it when the piece opens with a pickup (so the last bar completes the
  first, as in Bach's chorales). The note before steps into it (the second degree, or the
  scale's step below: the leading tone in major and minor).

>>> from symphony.music.score import Note
>>> from symphony.music.theory import parse_key, parse_meter
>>> line = [Note(p, float(i), 1.0) for i, p in enumerate([67, 69, 67, 69, 71, 70, 72, 74])]
>>> out = chorale_soprano(line, parse_key("G major"), parse_meter("4/4"), bars=2)
>>> [n.pitch for n in out], [(n.onset, n.duration) for n in out][-1]
([67, 69, 67, 66, 71, 69, 67], (6.0, 2.0))
"""
from __future__ import annotations

from dataclasses import replace

from symphony.music.score import Note
from symphony.music.theory import Key, Meter

EPS = 1e-6
MAX_JOIN = 4  # semitones: the widest move a loop's repair may leave to the next note
SOPRANO_FINAL = (60, 79)  # where a chorale's final may lie (C4-G5) ...
HIGH_FINAL = 74  # ... by preference not above D5


def _scale(key: Key) -> set[int]:
    """The key's pitch classes: a mode's own notes (a pentatonic mode's five)."""
    return {(key.tonic_pc + d) % 12 for d in key.scale_semitones()}


def _nearest_in(pitch: int, scale: set[int], towards: int | None) -> int:
    """The scale step nearest ``pitch`` (ties broken toward ``towards``)."""
    down, up = pitch - 1, pitch + 1
    while down % 12 not in scale:
        down -= 1
    while up % 12 not in scale:
        up += 1
    if pitch - down != up - pitch:
        return down if pitch - down < up - pitch else up
    return up if towards is not None and towards > pitch else down


def _diatonic(notes: list[Note], key: Key) -> None:
    scale = _scale(key)
    t = key.tonic_pc
    raised6, raised7 = (t + 9) % 12, (t + 11) % 12
    for i, n in enumerate(notes):
        nxt = notes[i + 1].pitch if i + 1 < len(notes) else None
        if n.pitch % 12 in scale:
            continue
        if key.mode == "minor" and n.pitch % 12 == raised7 and nxt is not None and nxt - n.pitch == 1:
            continue  # the leading tone rising to the tonic
        if key.mode == "minor" and n.pitch % 12 == raised6 and nxt is not None and nxt - n.pitch == 2 \
                and nxt % 12 == raised7:
            continue  # melodic minor's sixth rising to the leading tone
        n.pitch = _nearest_in(n.pitch, scale, nxt)


def _step(pitch: int, direction: int, scale: set[int]) -> int:
    p = pitch + direction
    while p % 12 not in scale:
        p += direction
    return p


def _looping(pitches: list[int], lo: int, hi: int) -> bool:
    """Four notes swinging between two pitches start somewhere in ``lo``..``hi``."""
    return any(a == c and b == d and a != b for a, b, c, d in
               zip(*(pitches[max(0, lo) + k:hi + 4] for k in range(4))))


def _untangle(notes: list[Note], key: Key, keep_last: int = 2) -> None:
    """Turn each loop (module doc); the last ``keep_last`` notes (the final and its approach) stay."""
    scale = _scale(key)
    ps = [n.pitch for n in notes]
    for i in range(len(ps) - 3):
        a, b, c, d = ps[i:i + 4]
        if not (a == c and b == d and a != b):
            continue
        options = [(i + 3, _step(a, 1 if a > b else -1, scale)), (i + 2, _step(b, 1 if b > a else -1, scale))]
        options = [(j, p) for j, p in options if j < len(ps) - keep_last]
        if not options:
            continue
        for j, p in options + [options[0]]:
            trial = ps[:j] + [p] + ps[j + 1:]
            joins_ok = all(abs(trial[k + 1] - trial[k]) <= MAX_JOIN for k in (j - 1, j) if 0 <= k < len(trial) - 1)
            if joins_ok and not _looping(trial, j - 3, j):
                break
        ps[j] = p
    for n, p in zip(notes, ps):
        n.pitch = p


def _strong_beats(meter: Meter, bar_start: float) -> list[float]:
    beat = meter.beat_quarters
    n = round(float(meter.bar_quarters) / beat)
    return [bar_start] + ([bar_start + 2 * beat] if n == 4 else [])


def _final(notes: list[Note], key: Key, meter: Meter, bars: int, pickup: float) -> list[Note]:
    bq, beat = float(meter.bar_quarters), meter.beat_quarters
    cut = bars * bq - pickup
    last_bar = (bars - 1) * bq
    starts = [s for s in _strong_beats(meter, last_bar) if cut - s >= 2 * beat - EPS] or [last_bar]
    at = starts[-1]
    if pickup and cut - last_bar >= beat - EPS:
        at = last_bar  # a last bar short by the pickup: the final on its downbeat
    kept = [replace(n) for n in notes if n.onset < at - EPS]
    if not kept:
        return notes
    prev = kept[-1]
    prev.duration = min(prev.duration, at - prev.onset)
    before = kept[-2].pitch if len(kept) > 1 else prev.pitch
    scale = _scale(key)
    choices = []  # (cost, final, approach): the approach steps into the final from prev's place
    for final in (p for p in range(SOPRANO_FINAL[0], SOPRANO_FINAL[1] + 1) if p % 12 == key.tonic_pc):
        leading = final - 1 if key.mode == "minor" else _step(final, -1, scale)  # (a mode's own step below)
        for approach in (_step(final, 1, scale), leading):
            leap = abs(approach - before)
            cost = (approach != prev.pitch) + 0.3 * leap + (5.0 if leap in (6, 10, 11) or leap > 8 else 0.0) \
                + 0.5 * max(0, final - HIGH_FINAL)
            choices.append((cost, final, approach))
    _, final, prev.pitch = min(choices)
    kept.append(Note(final, at, cut - at, notes[-1].velocity))
    return kept


def _breaths(notes: list[Note], meter: Meter) -> None:
    """A rest inside the line ends a phrase: the note before it takes a fermata and is held
    through the rest (Bach's voices sing on through the fermata to the next phrase). A rest
    within the first bar (after a pickup note) is no phrase end: the note is held through it."""
    bar = float(meter.bar_quarters)
    first_bar_end = bar * (notes[0].onset // bar + 1)
    for a, b in zip(notes, notes[1:]):
        if b.onset - a.end > EPS:
            a.fermata = a.onset >= first_bar_end - EPS
            a.duration = b.onset - a.onset


def _syncopations(notes: list[Note], meter: Meter) -> list[Note]:
    """A note struck off the beat and held across the next one is cut at that beat, where the
    next note then starts (B-C-D in eighth, quarter, eighth becomes B-C-D in eighth, eighth,
    quarter)."""
    beat = meter.beat_quarters
    for a, b in zip(notes, notes[1:]):
        pos = a.onset / beat
        nxt_beat = (int(pos + EPS) + 1) * beat
        if abs(pos - round(pos)) > EPS and a.end > nxt_beat + EPS and abs(b.onset - a.end) < EPS:
            b.duration, b.onset = b.end - nxt_beat, nxt_beat
            a.duration = nxt_beat - a.onset
    return notes


def _on_the_beat(notes: list[Note], key: Key, meter: Meter) -> list[Note]:
    """A note of two beats or more that starts off a strong beat (a half note on the second beat
    of 4/4) is split at the next beat: chorale tunes do not syncopate. The second half steps
    toward the next note where that is a third or more away, else repeats."""
    beat, bar = meter.beat_quarters, float(meter.bar_quarters)
    scale = _scale(key)
    out: list[Note] = []
    notes = _syncopations(notes, meter)
    for i, n in enumerate(notes):
        pos = (n.onset % bar) / beat
        strong = abs(pos - round(pos)) < EPS and round(pos) in (0, 2 if round(bar / beat) == 4 else 0)
        if n.duration < 2 * beat - EPS or strong or abs(pos - round(pos)) > EPS:
            out.append(n)
            continue
        nxt = notes[i + 1].pitch if i + 1 < len(notes) else n.pitch
        second = _step(n.pitch, 1 if nxt > n.pitch else -1, scale) if abs(nxt - n.pitch) >= 3 else n.pitch
        out += [replace(n, duration=beat), replace(n, pitch=second, onset=n.onset + beat, duration=n.duration - beat)]
    return out


def chorale_soprano(notes: list[Note], key: Key, meter: Meter, bars: int, pickup: float = 0.0) -> list[Note]:
    """The soprano ``notes`` (onset-sorted copies) as a chorale tune: see the module doc."""
    line = [replace(n) for n in sorted(notes, key=lambda n: n.onset)]
    if len(line) < 3:
        return line
    _diatonic(line, key)
    _breaths(line, meter)
    line = _on_the_beat(line, key, meter)
    line = _final(line, key, meter, bars, pickup)
    _untangle(line, key)
    return line
