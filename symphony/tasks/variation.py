"""Variation and restyling of a user's tune, with the one sequence model (DESIGN principle 3).

Both re-write the melody left to right under the usual grammar (meter, bars, key) and hold what
they keep through *anchors* (``sampling.Anchor``): at given positions of given bars a note
starts with given pitches, a given length or a given direction from the previous anchored note,
or a rest does. Free notes before an anchor end by its position, so every anchor is met. The
model composes everything that is not given.

**vary** (``vary``). The melody is laid on the regular bars of its meter (onsets unchanged) and
cut into *units*: half bars in bars of an even number of beats (2/4, 4/4, 2/2, 6/8, 12/8, 6/4),
whole bars otherwise. A note belongs to the unit its onset lies in. With a seeded random order
of the units, in which the last unit of every 4-bar phrase and of the piece (the cadences) comes
after all the others, units are taken until they hold at least ``amount`` of the notes; those
notes are re-sampled, every other note is given exactly (pitch, onset, length; rests too).
``amount`` 0 returns the input unchanged, 1 re-samples every note. ``keep``:

* ``rhythm``: the onset and length of every note (and every rest) are given; the model chooses
  the pitches of the re-sampled notes (a note tied over a barline keeps one pitch).
* ``contour``: every note of the original still starts where it started, and moves from the
  note before it (the previous note of the original, at its own onset) the same way: up, down
  or the same pitch (its Parsons code). How long it lasts is the model's choice, and in the
  time it leaves the model may add notes of its own (divisions), so the rhythm changes. Steps
  *into* a kept note hold too: the re-sampled notes before it are held to the original's side
  of it, with room for the moves still to come (``_contour_aims``); only a kept note followed
  closely by an unreachable one could break this (measured: 100% of steps kept).
* none: the re-sampled units are composed afresh, rhythm and pitch.

The key, meter, length (the input's bars) and, when the last unit is re-sampled, a tonic
ending hold. The other parts of a piece of several parts stay as they are (the model reads only
the line it varies). Pitches the model chooses lie in the key's scale and within two semitones of
the line's range (widened to at least 14 semitones; a contour step may leave it by a few). The
model reads what comes before a re-sampled unit, not the kept notes after it (sampling is left to
right): it arrives on them because the anchors bound its notes, not because it planned for them.

*Distance* (``note_distance``): 1 - Dice overlap of the two melodies' (onset, pitch) pairs on
the token grid (1/24 quarter): 2 * |A & B| / (|A| + |B|) notes in common. 0 = the same notes,
1 = no note at the same time with the same pitch. ``benchmarks/variation.py`` measures that it
rises with the amount for every ``keep``.

**restyle** (``restyle``). The tune's *skeleton*: in every bar, the note sounding on the
downbeat and, in bars of 2 or 4 beats at least 3 quarters long (4/4, 2/2, 6/8, 12/8), the note
on the mid-bar strong beat. Each is moved to the new key's tonic (the nearest way) and then to
the nearest tone of the new mode's scale (ties: the lower), and is given at the same strong
beat of the same bar number in the new meter (bar i stays bar i; a mid-bar note has no place
in a meter without a mid-bar beat and is dropped). An upbeat keeps its length before the first
bar line. Everything between the skeleton notes is composed by the model under the new style's
header, in the new key's scale (the modal emphasis of ``generate`` for modes other than major and
minor) and the style's usual melody range (stretched to the skeleton), ending on the tonic; a
chorale gets its alto, tenor and bass too. Default mode: the original's, or for ``chinese`` the
pentatonic gong (major-like originals) or yu (minor-like); default meter: the original's (a
chorale: 4/4 unless the tune is in 4/4 or 3/4); tempo: the style's usual one.

Measured in ``benchmarks/variation.md``.
"""
from __future__ import annotations

import bisect
import math
import statistics
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np

from symphony.decoding.sampler import (
    DEFAULT_RANGES,
    MODE_EXTRA_SEMITONES,
    Anchor,
    Constraints,
    Hooks,
)
from symphony.errors import RequestError, SymphonyError
from symphony.model.tokens import TICKS_PER_QUARTER as TPQ
from symphony.model.tokens import conditioning_key
from symphony.music.analysis import bar_starts
from symphony.music.pickup import mark_pickup
from symphony.music.score import Note, Part, Score
from symphony.music.styles import STYLE_GUIDANCE, get_style
from symphony.music.theory import (
    MODE_ALIASES,
    MODES,
    PENTATONIC,
    Key,
    Meter,
    parse_key,
    parse_meter,
)
from symphony.tasks.common import record_edit
from symphony.tasks.edit import bar_layout, detect_style
from symphony.tasks.engine import Engine
from symphony.tasks.generate import MODAL_EMPHASIS, hold_last_notes, short_notes, style_guidance
from symphony.tasks.requests import VOICES
from symphony.understanding.emotion import STYLE_REFERENCES

KEEPS = ("rhythm", "contour")
PHRASE_BARS = 4  # cadences: the last unit of every 4-bar phrase (after an upbeat bar) and of the piece
OVERLAP = 0.125  # quarters two successive notes of a line may overlap (legato MIDI); more is a chord
MIN_SPAN = 14  # semitones: the narrowest range the model's pitches may use
CHORALE_METERS = ("4/4", "3/4")  # Bach's; a tune in another meter becomes a chorale in 4/4


# ----------------------------------------------------------------------------- shared

def melodic_line(score: Score, part: int, op: str) -> list[Note]:
    """The notes of one part in time order; RequestError when it is not a single line."""
    if not isinstance(part, int) or not 0 <= part < len(score.parts):
        raise RequestError(f"part {part + 1 if isinstance(part, int) else part} does not exist "
                           f"(the piece has {len(score.parts)} part{'s' if len(score.parts) != 1 else ''})")
    notes = sorted(score.parts[part].notes, key=lambda n: (n.onset, -n.pitch))
    if not notes:
        raise RequestError(f"part {part + 1} has no notes")
    starts = [b[0] for b in bar_layout(score)]
    for a, b in zip(notes, notes[1:]):
        if b.onset < a.onset + 1e-6 or b.onset < a.end - OVERLAP - 1e-6:
            bar = max(bisect.bisect_right(starts, b.onset + 1e-6), 1)
            raise RequestError(f"part {part + 1} has chords or overlapping notes (in bar {bar}); "
                               f"{op} needs a single melodic line")
    return notes


def _grid(notes: list[Note]) -> list[tuple[int, int, int]]:
    """(onset tick, end tick, pitch) of a line; an end is cut at the next onset (legato overlaps)."""
    out = []
    for i, n in enumerate(notes):
        on, end = round(n.onset * TPQ), round(n.end * TPQ)
        if i + 1 < len(notes):
            end = min(end, round(notes[i + 1].onset * TPQ))
        out.append((on, end, n.pitch))
    return out


def _split(on: int, end: int, bar_ticks: int) -> list[tuple[int, int, int]]:
    """[on, end) in ticks cut at the barlines: (bar from 1, tick in the bar, length)."""
    out = []
    while on < end:
        bar, tick = divmod(on, bar_ticks)
        length = min(end - on, bar_ticks - tick)
        out.append((bar + 1, tick, length))
        on += length
    return out


def _melody_range(pitches: list[int], margin: int = 2) -> tuple[int, int]:
    lo, hi = min(pitches) - margin, max(pitches) + margin
    while hi - lo < MIN_SPAN:
        lo, hi = lo - 1, hi + 1
    return max(lo, 12), min(hi, 115)


def _scale(key: Key) -> set[int]:
    """Semitones over the tonic the sampler allows in this key (minor: raised 6th and 7th too)."""
    return set(key.scale_semitones()) | set(MODE_EXTRA_SEMITONES.get(key.mode, ()))


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


# ----------------------------------------------------------------------------- measures

def note_distance(a: list[Note], b: list[Note]) -> float:
    """1 - Dice overlap of the (onset on the 1/24-quarter grid, pitch) pairs of two melodies."""
    A = Counter((round(n.onset * TPQ), n.pitch) for n in a)
    B = Counter((round(n.onset * TPQ), n.pitch) for n in b)
    total = sum(A.values()) + sum(B.values())
    return 1.0 - 2.0 * sum((A & B).values()) / total if total else 0.0


def contour_kept(original: list[Note], variation: list[Note]) -> float:
    """Share of the original's melodic steps (note i-1 -> note i) that the variation takes the
    same way (up, down, same) between its notes at the same two onsets (a missing one: not kept)."""
    at = {round(n.onset * TPQ): n.pitch for n in variation}
    steps = list(zip(original, original[1:]))
    if not steps:
        return 1.0
    kept = 0
    for x, y in steps:
        px, py = at.get(round(x.onset * TPQ)), at.get(round(y.onset * TPQ))
        kept += px is not None and py is not None and _sign(py - px) == _sign(y.pitch - x.pitch)
    return kept / len(steps)


def rhythm_kept(original: list[Note], variation: list[Note]) -> float:
    """Share of the original's notes that the variation has with the same onset and length."""
    have = Counter((round(n.onset * TPQ), round(n.duration * TPQ)) for n in variation)
    want = Counter((round(n.onset * TPQ), round(n.duration * TPQ)) for n in original)
    return sum((have & want).values()) / max(sum(want.values()), 1)


# ----------------------------------------------------------------------------- vary

def check_vary(amount, keep) -> tuple[float, str | None]:
    """Validated (amount, keep); keep None / 'none' means neither rhythm nor contour is kept."""
    try:
        a = float(amount)
    except (TypeError, ValueError):
        raise RequestError(f"--amount must be a number between 0 and 1, got {amount!r}") from None
    if not 0.0 <= a <= 1.0:  # NaN fails too
        raise RequestError(f"--amount must be between 0 (the original) and 1 (everything new), got {amount}")
    k = None if keep is None else str(keep).strip().lower()
    if k in (None, "", "none"):
        return a, None
    if k not in KEEPS:
        raise RequestError(f"unknown --keep {keep!r}; choose rhythm or contour (or leave it out)")
    return a, k


@dataclass
class VariationPlan:
    bar_ticks: int
    unit_ticks: int
    bars: int  # bars of the regular grid the line is sampled on
    resampled: set[int]  # indices of the re-sampled notes
    units: list[int]  # the re-sampled units, in the order they were taken
    anchors: dict[tuple[int, int], Anchor]
    kept_ticks: set[int]  # absolute onset ticks of the pieces of kept notes (given exactly)
    end_on_tonic: bool


def unit_ticks(meter: Meter) -> int:
    """Half a bar in bars of an even number of beats, else a whole bar (ticks)."""
    bar = round(float(meter.bar_quarters) * TPQ)
    beats = round(float(meter.bar_quarters) / meter.beat_quarters)
    return bar // 2 if beats % 2 == 0 and bar % 2 == 0 else bar


def plan_variation(score: Score, notes: list[Note], amount: float, keep: str | None, seed: int,
                   key: Key | None = None) -> VariationPlan:
    """Which notes are re-sampled, and the anchors that give everything else."""
    key = key or score.key
    bar_ticks = round(float(score.meter.bar_quarters) * TPQ)
    u_ticks = unit_ticks(score.meter)
    grid = _grid(notes)
    layout_end = max((s + l) for s, l, _ in bar_layout(score))
    piece_end = max(round(layout_end * TPQ), max(e for _, e, _ in grid))
    bars = max(1, math.ceil(piece_end / bar_ticks))
    n_units = bars * (bar_ticks // u_ticks)
    per_bar = bar_ticks // u_ticks
    owner = [min(on // u_ticks, n_units - 1) for on, _, _ in grid]
    counts = Counter(owner)
    upbeat = 1 if grid[0][0] > 0 and grid[0][0] < bar_ticks else 0
    cadence_bars = {b for b in range(1, bars + 1) if b == bars or (b > upbeat and (b - upbeat) % PHRASE_BARS == 0)}
    cadences = [b * per_bar - 1 for b in sorted(cadence_bars)]
    rng = np.random.default_rng(seed)
    others = [u for u in range(n_units) if u not in set(cadences)]  # phrase ends come last
    order = [others[i] for i in rng.permutation(len(others))] + [cadences[i] for i in rng.permutation(len(cadences))]
    chosen: list[int] = []
    got, need = 0, amount * len(grid)
    for u in order:
        if amount < 1.0 and got >= need - 1e-9:
            break
        chosen.append(u)
        got += counts.get(u, 0)
    cset = set(chosen)
    resampled = {i for i, u in enumerate(owner) if u in cset}

    lo, hi = _melody_range([p for _, _, p in grid])
    tonic = key.tonic_pc
    tonics = frozenset(m for m in range(lo, hi + 1) if (m - tonic) % 12 == 0)
    anchors: dict[tuple[int, int], Anchor] = {}
    kept_ticks: set[int] = set()
    heads = [i for i, (on, end, _) in enumerate(grid) if end > on]  # notes with a length on the grid
    last = heads[-1] if heads else -1
    aims = _contour_aims(grid, heads, resampled, key, lo, hi) if keep == "contour" else {}
    for j, i in enumerate(heads):
        on, end, p = grid[i]
        pieces = _split(on, end, bar_ticks)
        if i not in resampled:
            for b, t, d in pieces:
                anchors[(b, t)] = Anchor(pitches=frozenset({p}), duration=d)
                kept_ticks.add((b - 1) * bar_ticks + t)
        elif keep == "rhythm":
            b, t, d = pieces[0]
            anchors[(b, t)] = Anchor(pitches=tonics if i == last else None, duration=d)
            for b, t, d in pieces[1:]:  # a tie over the barline: the same pitch
                anchors[(b, t)] = Anchor(duration=d, step=0)
        elif keep == "contour":
            b, t, _ = pieces[0]
            step = _sign(p - grid[heads[j - 1]][2]) if j > 0 else None
            anchors[(b, t)] = Anchor(pitches=tonics if i == last else aims.get(i), step=step)
    # rests: all of them with the rhythm kept; those starting in kept units otherwise; the
    # silence before the first note (an upbeat) and after the last one always
    gaps = [(0, grid[0][0], True)]
    gaps += [(grid[i][1], grid[i + 1][0], False) for i in range(len(grid) - 1)]
    gaps.append((max(e for _, e, _ in grid), piece_end, True))
    for g0, g1, edge in gaps:
        if g1 <= g0:
            continue
        if edge or keep == "rhythm" or min(g0 // u_ticks, n_units - 1) not in cset:
            for b, t, d in _split(g0, g1, bar_ticks):
                anchors.setdefault((b, t), Anchor(rest=t + d))
    end_on_tonic = keep is None and (owner[-1] in cset)
    return VariationPlan(bar_ticks, u_ticks, bars, resampled, chosen, anchors, kept_ticks, end_on_tonic)


def _contour_aims(grid, heads, resampled, key: Key, lo: int, hi: int) -> dict[int, frozenset[int]]:
    """Pitches for the re-sampled notes before a kept note, so that the steps up to it can go
    the original's way: walking back from the kept note k, each note must lie on the original's
    side of k with room for the moves still to come (r scale steps away), for as long as the
    original keeps approaching k (or repeats); a note moving away from k needs nothing."""
    scale = _scale(key)
    ext = [m for m in range(lo - 4, hi + 5) if (m - key.tonic_pc) % 12 in scale]
    out: dict[int, frozenset[int]] = {}
    for jk in range(1, len(heads)):
        if heads[jk] in resampled or heads[jk - 1] not in resampled:
            continue
        k = grid[heads[jk]][2]
        above = [m for m in ext if m > k]
        below = [m for m in reversed(ext) if m < k]
        side, r = 0, 0
        for j in range(jk - 1, -1, -1):
            i = heads[j]
            if i not in resampled:
                break
            d = _sign(grid[heads[j + 1]][2] - grid[i][2])  # the original's step from note j to j + 1
            if side == 0:
                side, r = -d, abs(d)
            elif d == -side:
                r += 1
            elif d == side:
                break
            out[i] = frozenset({k}) if side == 0 else frozenset((above if side > 0 else below)[r - 1:])
    return out


_STYLE_OF: dict[tuple, str] = {}  # the likeliest style of a line (a variation sweep asks often)


def _likeliest_style(line: Score, engine) -> str:
    sig = (Engine.of(engine).checkpoint, str(line.key), str(line.meter), line.bars,
           tuple((n.onset, n.pitch, n.duration) for n in line.parts[0].notes))
    if sig not in _STYLE_OF:
        _STYLE_OF[sig] = detect_style(line, engine)
    return _STYLE_OF[sig]


def vary(score: Score, amount: float, keep: str | None = None, part: int = 0, seed: int = 0,
         engine=None, style: str | None = None, hooks: Hooks | None = None) -> Score:
    """A variation of one part of the score whose distance from it follows ``amount`` (0..1)."""
    amount, keep = check_vary(amount, keep)
    notes = melodic_line(score, part, "vary")
    line = Part(list(notes), score.parts[part].name, score.parts[part].program)
    params = {"amount": amount, "keep": keep or "none", "part": part + 1}
    if amount == 0.0:  # the original, unchanged
        parts = [Part([Note(n.pitch, n.onset, n.duration, n.velocity, n.spelling, n.fermata) for n in p.notes],
                      p.name, p.program) for p in score.parts]
        result = Score(parts, score.key, score.meter, score.bpm, score.bars, score.title, score.style, {},
                       list(score.chords), bar_meters=score.bar_meters, key_signature=score.key_signature)
        record_edit(result, "vary", params, score, seed, 0.0)
        result.provenance["measures"] = {"distance": 0.0, "resampled_notes": 0.0}
        return result
    engine = Engine.of(engine)
    tok = engine.tokenizer
    key = score.key
    if style:
        style = get_style(style).name
    elif score.style and f"Style_{score.style}" in tok.ids:
        style = score.style
    else:
        style = _likeliest_style(Score([line], key, score.meter, score.bpm, score.bars, bar_meters=score.bar_meters), engine)
    plan = plan_variation(score, notes, amount, keep, seed, key)
    lo, hi = _melody_range([n.pitch for n in notes])
    cond = conditioning_key(key)
    header = tok.header(style, cond, score.meter, score.bpm, plan.bars, 1)
    cons = Constraints(key=key, meter=score.meter, bars=plan.bars, voices=1, ranges=[(lo, hi)],
                       end_on_tonic=plan.end_on_tonic, token_key=cond,
                       center=float(statistics.median(n.pitch for n in notes)), anchors=plan.anchors,
                       **short_notes(style, score.meter))  # a jig varied still runs in eighths
    t0 = time.perf_counter()
    seq = engine.sample(header, cons, seed=seed, hooks=hooks)
    secs = time.perf_counter() - t0
    decoded = sorted(tok.decode(seq).parts[0].notes, key=lambda n: n.onset)
    # the model writes whole bars of the meter: with bars of other meters among them (a 3/4 bar
    # in a 2/4 song) its last bar may reach past the piece's end, which stays where it was
    end = bar_starts(score)[-1]
    decoded = [Note(n.pitch, n.onset, round(min(n.end, end) - n.onset, 6), n.velocity)
               for n in decoded if n.onset < end - 1e-6]
    vel = int(statistics.median(n.velocity for n in notes))
    grid = _grid(notes)
    out = [Note(n.pitch, n.onset, n.duration, n.velocity, n.spelling, n.fermata)  # kept notes as written
           for i, n in enumerate(notes) if i not in plan.resampled]
    if keep == "rhythm":  # the original's onsets and lengths exactly, the model's pitches
        by_tick = {round(n.onset * TPQ): n.pitch for n in decoded}
        for i in sorted(plan.resampled):
            n = notes[i]
            out.append(Note(by_tick.get(grid[i][0], n.pitch), n.onset, n.duration, n.velocity))
    else:
        out += [Note(n.pitch, n.onset, n.duration, vel) for n in decoded
                if round(n.onset * TPQ) not in plan.kept_ticks]
    out.sort(key=lambda n: (n.onset, n.pitch))
    parts = [Part(out, p.name, p.program) if i == part else Part(list(p.notes), p.name, p.program)
             for i, p in enumerate(score.parts)]
    result = Score(parts, key, score.meter, score.bpm, score.bars, score.title, style, {}, list(score.chords),
                   bar_meters=score.bar_meters)
    record_edit(result, "vary", {**params, "style": style}, score, seed, secs)
    result.provenance["measures"] = {
        "distance": round(note_distance(notes, out), 4),
        "resampled_notes": round(len(plan.resampled) / len(notes), 4),
        "rhythm_kept": round(rhythm_kept(notes, out), 4),
        "contour_kept": round(contour_kept(notes, out), 4)}
    return result


# ----------------------------------------------------------------------------- restyle

def target_key(source: Key, style: str, mode: str | None = None) -> Key:
    """The key of a restyled tune: --mode as a mode name (on the original's tonic) or a whole key
    ('A yu'); without it the original's mode, and for chinese the pentatonic gong or yu."""
    if mode is not None and str(mode).strip():
        m = str(mode).strip().lower()
        m = MODE_ALIASES.get(m, m)
        if m in MODES:
            return Key(source.tonic, m)
        try:
            return parse_key(str(mode))
        except SymphonyError:
            raise RequestError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)} "
                               "or a key such as 'A yu'") from None
    if style == "chinese":
        return Key(source.tonic, "yu" if source.is_minor_like else "gong")
    if source.mode in PENTATONIC:
        return Key(source.tonic, "minor" if source.is_minor_like else "major")
    return source


def tonic_shift(source: Key, target: Key) -> int:
    """Semitones from the source's tonic to the target's, the nearer way (-5..6)."""
    shift = (target.tonic_pc - source.tonic_pc) % 12
    return shift - 12 if shift > 6 else shift


def map_pitch(pitch: int, source: Key, target: Key) -> int:
    """Move a pitch to the target's tonic (the nearer way) and to the nearest tone of its scale
    (ties: the lower)."""
    p = pitch + tonic_shift(source, target)
    scale = _scale(target)
    for d in (0, -1, 1, -2, 2, -3, 3):
        if (p + d - target.tonic_pc) % 12 in scale:
            return p + d
    return p


def _strong(length_q: float, beat_q: float) -> list[float]:
    """Strong beats of a bar in quarters: the downbeat, and mid-bar in bars of 2 or 4 beats at
    least 3 quarters long (4/4, 2/2, 6/8, 12/8), as for the chord windows of harmonize."""
    beats = max(1, round(length_q / beat_q))
    return [0.0, length_q / 2] if beats in (2, 4) and length_q >= 3 - 1e-6 else [0.0]


@dataclass
class SkeletonNote:
    bar: int  # 1-based, the same in the original and the restyled tune
    strong: int  # 0 downbeat, 1 mid-bar
    source: int  # the original's pitch
    pitch: int  # in the new key's scale
    tick: int | None  # where it is given in the new bar (None: the new meter has no such beat)


def skeleton(score: Score, notes: list[Note], key: Key, meter: Meter) -> list[SkeletonNote]:
    """The notes sounding on the strong beats of every bar, mapped to the new key and meter."""
    bar_ticks = round(float(meter.bar_quarters) * TPQ)
    target = [round(q * TPQ) for q in _strong(float(meter.bar_quarters), meter.beat_quarters)]
    onsets = [n.onset for n in notes]
    out = []
    for b, (start, length, beat) in enumerate(bar_layout(score)):
        for k, q in enumerate(_strong(length, beat)):
            i = bisect.bisect_right(onsets, start + q + 1e-6) - 1
            if i < 0 or notes[i].end <= start + q + 1e-6:
                continue  # a rest
            tick = target[k] if k < len(target) and target[k] < bar_ticks else None
            out.append(SkeletonNote(b + 1, k, notes[i].pitch, map_pitch(notes[i].pitch, score.key, key), tick))
    return out


def skeleton_kept(skel: list[SkeletonNote], restyled: list[Note], meter: Meter) -> float:
    """Share of the skeleton notes found in the restyled melody: a note starting on their beat
    of their bar with their (mapped) pitch; those the new meter has no place for count as lost."""
    bar_ticks = round(float(meter.bar_quarters) * TPQ)
    have = {(round(n.onset * TPQ), n.pitch) for n in restyled}
    kept = sum(s.tick is not None and ((s.bar - 1) * bar_ticks + s.tick, s.pitch) in have for s in skel)
    return kept / len(skel) if skel else 1.0


def check_restyle(style: str, meter: str | None, mode: str | None, tok=None):
    """Validated (style name, Meter or None); RequestError for an unknown style, meter or mode."""
    try:
        st = get_style(style)
        m = parse_meter(meter) if meter is not None and str(meter).strip() else None
    except SymphonyError as e:
        raise RequestError(str(e)) from None
    if tok is not None and f"Style_{st.name}" not in tok.ids:
        raise RequestError(f"the model was not trained on style {st.name!r} (it knows {', '.join(tok.config.styles)})")
    target_key(Key("C", "major"), st.name, mode)  # validates the mode
    return st, m


def written_meter_changes(score: Score) -> list[str]:
    """Where the score's meter changes, as a musician reads it ("3/2 at bar 10"); empty: one meter."""
    changes = score.meter_changes()[1:]
    if not changes:
        return []
    starts = [round(float(s), 6) for s, _ in score.bar_meters or []]
    numbers = score.printed_numbers()
    return [f"{m} at bar {numbers[starts.index(round(t, 6))] if round(t, 6) in starts else '?'}"
            for t, m in changes]


def restyle(score: Score, style: str, meter: str | None = None, mode: str | None = None, part: int = 0,
            seed: int = 0, engine=None, hooks: Hooks | None = None) -> Score:
    """The tune's skeleton recomposed in another tradition (see the module's description)."""
    st, new_meter = check_restyle(style, meter, mode)
    engine = Engine.of(engine)
    tok = engine.tokenizer
    check_restyle(style, meter, mode, tok)
    notes = melodic_line(score, part, "restyle")
    m = new_meter or (score.meter if st.name != "chorale" or str(score.meter) in CHORALE_METERS
                      else parse_meter(st.default_meter))
    key = target_key(score.key, st.name, mode)
    whole = score.joined()  # a bar split in two (4 and 4a) is one bar of the new tune
    layout = bar_layout(whole)
    bars = len(layout)
    bar_ticks = round(float(m.bar_quarters) * TPQ)
    skel = skeleton(whole, notes, key, m)
    anchors = {(s.bar, s.tick): Anchor(pitches=frozenset({s.pitch})) for s in skel if s.tick is not None}
    first = notes[0].onset - layout[0][0]
    if first > 1e-6:  # an upbeat: the same length before the first full bar
        upbeat = layout[0][1] - first
        rest = bar_ticks - round(upbeat * TPQ) if upbeat > 1e-6 else bar_ticks
        rest = min([rest] + [t for (b, t) in anchors if b == 1])
        if rest > 0:
            anchors[(1, 0)] = Anchor(rest=rest)
    voices = VOICES.get(st.name, 1)
    cond = conditioning_key(key)
    # the new style's own melody range and register (as generate has them), stretched to the skeleton
    lo, hi = DEFAULT_RANGES[voices][0] if voices in DEFAULT_RANGES else (36, 96)
    if skel:
        lo, hi = min(lo, min(s.pitch for s in skel) - 2), max(hi, max(s.pitch for s in skel) + 2)
    ranges = [(lo, hi)] + DEFAULT_RANGES.get(voices, [(36, 96)] * voices)[1:]
    bpm = float(st.default_bpm)
    header = tok.header(st.name, cond, m, bpm, bars, voices)
    center = STYLE_REFERENCES[st.name][0] if voices >= 4 and st.name in STYLE_REFERENCES else None
    cons = Constraints(key=key, meter=m, bars=bars, voices=voices, ranges=ranges, token_key=cond,
                       center=center, anchors=anchors,  # a chorale soprano keeps to its register
                       modal_emphasis=0.0 if key.mode in ("major", "minor") else MODAL_EMPHASIS)
    # leaning towards what sets the new style apart (style_guidance) at the usual weight for every
    # style: a restyled tune keeps its source's skeleton and needs the push. With generate's
    # per-style settings (Chinese unguided, the styles' melodic-motion priors) the restyle
    # benchmark's hit rates fell: to chinese 100% -> 93%, to chorale 38% -> 29% (NOTES.md).
    blend = style_guidance(tok, header, st.name, STYLE_GUIDANCE, lambda s: tok.header(s, cond, m, bpm, bars, voices))
    t0 = time.perf_counter()
    seq = engine.sample(header, cons, seed=seed, blend=blend, plain_durations=True, hooks=hooks)
    secs = time.perf_counter() - t0
    new = tok.decode(seq)
    names = ["Soprano", "Alto", "Tenor", "Bass"] if voices == 4 else ["Melody"]
    parts = [Part([Note(n.pitch, n.onset, n.duration, 80) for n in p.notes],
                  names[i] if i < len(names) else f"Voice {i + 1}", st.program) for i, p in enumerate(new.parts)]
    title = f"{score.title or score.source or 'Tune'} ({st.name})"
    if whole is not score and str(m) == str(score.meter):  # in the same meter, the user's bars as they were
        result = Score(parts, key, m, bpm, score.bars, title, st.name, {}, [], bar_meters=score.bar_meters)
    else:
        result = Score(parts, key, m, bpm, bars, title, st.name, {}, [])
    hold_last_notes(result)
    mark_pickup(result)  # the upbeat kept by the first bar's rest is the new tune's pickup too
    record_edit(result, "restyle", {"style": st.name, "meter": str(m), "key": str(key), "part": part + 1},
            score, seed, secs)
    changes = written_meter_changes(score)
    if changes and new_meter is None:  # the sampler writes bars of one length: say what was not kept
        result.provenance["meters_not_kept"] = changes
        result.provenance["note"] = (f"restyle composes in one meter ({m}); the tune's meter changes "
                                     f"({', '.join(changes)}) are not kept: --meter chooses the meter")
    result.provenance["skeleton"] = {
        "notes": len(skel), "placed": sum(s.tick is not None for s in skel),
        "kept": round(skeleton_kept(skel, result.parts[0].notes, m), 4),
        "pitch_unchanged": round(sum(s.pitch == s.source + tonic_shift(score.key, key) for s in skel)
                                 / max(len(skel), 1), 4)}
    return result
