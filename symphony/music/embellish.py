"""Embellishing a four-part chord-per-beat setting the way Bach's chorales move (issue 18): the
harmony (``music.fourpart``) puts one chord on each beat; here the lower voices get their
suspensions and eighth-note passing motion.

**Suspensions.** Where the alto or tenor steps down as the chord changes, it may hold its note
over the beat and step down on the half beat, or on the next beat where the note it steps to
lasts two beats over one bass note (Bach resolves about two in three of his suspensions on the
half beat, the rest on the next beat): a 4-3, 7-6 or 9-8 (the held note a fourth,
seventh or ninth over the bass, prepared as a tone of the chord before). Not where the note of
resolution already sounds in another voice above the bass, where the held note is doubled, on
the first or last chord, or where any pair of voices would move in parallel fifths or octaves or
cross. The beat before each phrase end (the cadence's dominant) is tried first; elsewhere
suspensions keep ``SUSPENSION_GAP`` bars apart, about as often as Bach writes them.

**Passing notes.** A bass, tenor or alto note at least a beat long that moves a third to the next
note gets the scale step between on the last part of the beat (the half beat; the last third of
a compound beat), not across an augmented second and not under a cadence chord, where it makes
no unison with another voice, no parallel fifth or octave with any voice and no crossing, not in a
suspension's beat (two voices may
pass together, in thirds or sixths). A lower voice that repeats its note across a beat may get a
neighbour note instead, at most one a bar, in bars with at most one passing note. Bach writes about
three such eighths a bar among the three lower voices.
"""
from __future__ import annotations

import itertools

from symphony.music.score import Note
from symphony.music.theory import Key, Meter

EPS = 1e-6
SUSPENSION_GAP = 3.0  # bars between two suspensions away from the cadences
DISSONANT_OVER_BASS = {1, 2, 5, 10, 11}  # ninths, fourths and sevenths (semitones mod 12)


def sounding(line: list[Note], t: float) -> int | None:
    for n in line:
        if n.onset <= t + EPS < n.end:
            return n.pitch
    return None


def crossing(row: list[int | None]) -> bool:
    return any(row[i] is not None and row[i + 1] is not None and row[i + 1] >= row[i] for i in range(3))


def parallels(a: list[int | None], b: list[int | None]) -> bool:
    """Parallel fifths or octaves between any pair of voices from row ``a`` to row ``b``."""
    for i, j in itertools.combinations(range(4), 2):
        if None in (a[i], a[j], b[i], b[j]):
            continue
        mi, mj = b[i] - a[i], b[j] - a[j]
        if mi == 0 or mj == 0 or (mi > 0) != (mj > 0):
            continue
        x, y = abs(a[i] - a[j]) % 12, abs(b[i] - b[j]) % 12
        if x == y and x in (0, 7):
            return True
    return False


def _clean(voices: list[list[Note]], times: list[float], start: float, end: float) -> bool:
    """No parallels or crossings between the rows sounding at ``times`` and around them."""
    ts = sorted({start - 1e-3, *times} | {n.onset for x in voices for n in x if start < n.onset < end} | {end})
    rows = [[sounding(x, t) for x in voices] for t in ts]
    return not any(parallels(r1, r2) for r1, r2 in itertools.pairwise(rows)) and not any(crossing(r) for r in rows)


def _split_point(start: float, meter: Meter) -> float:
    """Where a held beat resolves or passes on: its half (the last third of a compound beat)."""
    beat = meter.beat_quarters
    return start + (2 * beat / 3 if meter.is_compound else beat / 2)


def suspensions(soprano: list[Note], lower: list[list[Note]], beats: list[float], cadence_beats: list[float],
                key: Key, meter: Meter) -> list[float]:
    """Suspend alto and tenor notes over chord changes (module doc); ``beats`` are the chord
    onsets that may take one, ``cadence_beats`` those before a phrase end. Returns the beats
    that got one."""
    voices = [soprano] + lower
    scale = {(key.tonic_pc + d) % 12 for d in key.scale_semitones()}
    done: list[float] = []
    gap = SUSPENSION_GAP * float(meter.bar_quarters)
    for pool, spaced in ((cadence_beats, False), (beats, True)):
        for t in pool:
            if spaced and any(abs(t - d) < gap - EPS for d in done) or any(abs(t - d) < EPS for d in done):
                continue
            for v in (0, 1):  # alto, tenor
                if _suspend(voices, v + 1, t, meter, scale):
                    done.append(t)
                    break
    return sorted(done)


def _suspend(voices: list[list[Note]], v: int, t: float, meter: Meter, scale: set[int]) -> bool:
    line = voices[v]
    i = next((j for j, n in enumerate(line) if abs(n.onset - t) < EPS), None)
    if not i:
        return False
    a, b = line[i - 1], line[i]
    beat = meter.beat_quarters
    # a note of resolution held two beats or more takes the whole beat's suspension (resolving
    # on the next beat), as a third of Bach's do; a shorter one resolves on the half beat
    whole = b.end >= t + 2 * beat - EPS and sounding(voices[3], t + beat) == sounding(voices[3], t)
    half = t + beat if whole else _split_point(t, meter)
    bass = sounding(voices[3], t)
    if abs(a.end - t) > EPS or a.pitch - b.pitch not in (1, 2) or b.end < t + meter.beat_quarters - EPS \
            or a.duration < meter.beat_quarters - EPS or bass is None:
        return False
    if (a.pitch - bass) % 12 not in DISSONANT_OVER_BASS:
        return False
    if a.pitch - b.pitch == 1 and a.pitch % 12 not in scale and b.pitch % 12 in scale:
        return False  # a raised note falling back to its natural (B natural to B flat): no resolution
    others = [sounding(x, t) for u, x in enumerate(voices) if u not in (v, 3)]
    if any(o is not None and o % 12 in (b.pitch % 12, a.pitch % 12) for o in others):
        return False  # the resolution sounding above the bass already, or the suspension doubled
    old = (a.duration, b.onset, b.duration)
    a.duration, b.onset, b.duration = half - a.onset, half, b.end - half
    if _clean(voices, [t, half], t, b.end):
        return True
    a.duration, b.onset, b.duration = old
    return False


def passing_notes(soprano: list[Note], lower: list[list[Note]], key: Key, cadences: list[float],
                  meter: Meter, suspended: list[float] = ()) -> int:
    """Fill thirds in the bass, tenor and alto with a passing note (module doc), not in the beats
    that hold a suspension (``suspended``). Returns how many notes were added."""
    scale = {(key.tonic_pc + d) % 12 for d in key.scale_semitones()}
    voices = [soprano] + lower
    beat = meter.beat_quarters
    busy: set[float] = set()  # beats where a lower voice already moves in eighths
    for v in (2, 1, 0):  # bass, tenor, alto
        line = lower[v]
        i = 0
        while i < len(line) - 1:
            a, b = line[i], line[i + 1]
            i += 1
            if abs(a.end - b.onset) > EPS or a.duration < beat - EPS or abs(b.pitch - a.pitch) not in (3, 4) \
                    or any(a.onset - EPS <= c < a.end - EPS for c in cadences):
                continue
            step = 1 if b.pitch > a.pitch else -1
            mids = [p for p in range(a.pitch + step, b.pitch, step) if p % 12 in scale]
            if len(mids) != 1 or a.pitch % 12 not in scale and b.pitch % 12 not in scale \
                    or abs(b.pitch - a.pitch) == 3 and (a.pitch % 12 not in scale or b.pitch % 12 not in scale):
                continue
            m, half = mids[0], _split_point(a.end - beat, meter)
            if any(t - EPS <= half < t + beat - EPS for t in suspended):
                continue  # the suspension's beat stays plain: its resolution is heard
            if any(sounding(x, half) == m for u, x in enumerate(voices) if u != v + 1):
                continue  # a unison
            old = a.duration
            a.duration = half - a.onset
            line.insert(i, Note(m, half, b.onset - half))
            if _clean(voices, [half, b.onset], half, b.onset + EPS):
                busy.add(round(half, 6))
                i += 1
            else:
                line.pop(i)
                a.duration = old
    return len(busy) + _neighbours(voices, scale, cadences + list(suspended), meter, busy)


def _neighbours(voices: list[list[Note]], scale: set[int], cadences: list[float], meter: Meter,
                busy: set[float]) -> int:
    """A lower voice that repeats its note across a beat gets the scale step below (the one above
    in the bass) on the half beat, at most one a bar and not in a bar that already moves in
    eighths twice."""
    beat, bar = meter.beat_quarters, float(meter.bar_quarters)
    per_bar = [int(t // bar) for t in busy]
    bars_moving = {b for b in per_bar if per_bar.count(b) > 1}  # bars with two passing eighths or more
    added = 0
    for v in (2, 3, 1):  # tenor, bass, alto (index in ``voices``)
        line = voices[v]
        i = 0
        while i < len(line) - 1:
            a, b = line[i], line[i + 1]
            i += 1
            if a.pitch != b.pitch or abs(a.end - b.onset) > EPS or a.duration < beat - EPS \
                    or int(a.onset // bar) in bars_moving or any(a.onset - EPS <= c < a.end - EPS for c in cadences):
                continue
            step = 1 if v == 3 else -1
            m = next((p for p in (a.pitch + step, a.pitch + 2 * step) if p % 12 in scale), None)
            half = _split_point(a.end - beat, meter)
            if m is None or any(sounding(x, half) in (m, None) for u, x in enumerate(voices) if u != v):
                continue
            old = a.duration
            a.duration = half - a.onset
            line.insert(i, Note(m, half, b.onset - half))
            if _clean(voices, [half, b.onset], half, b.onset + EPS):
                bars_moving.add(int(a.onset // bar))
                added += 1
                i += 1
            else:
                line.pop(i)
                a.duration = old
    return added
