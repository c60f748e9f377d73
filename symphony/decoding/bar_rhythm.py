"""A dance's own bar rhythms, learned from the corpus and planned per tune (issue 17).

Real folk tunes are made of a few **bar rhythms** (the onsets and lengths of one bar, rests
included): a jig's "♩♪ ♩♪" and "♪♪♪ ♪♪♪", a reel's four pairs of eighths, a song's dotted figure,
each brought back bar after bar, and a phrase's last bar in longer notes ("♩♪ ♩." in a jig, a half
note in a song). Sampled note by note, ours either drove one figure through every bar or wandered.

* ``build`` counts, on the training split, each style's bar rhythms per meter (the meter stands in
  for the dance: celtic 6/8 jigs, 9/8 slip jigs, 2/4 polkas, 4/4 and 2/2 reels and hornpipes),
  separately for a phrase's inner bars, its cadence bar (every fourth bar) and the final bar, and
  how a tune reuses them: the share of bars after the first phrase whose rhythm is the bar's at
  the same place a phrase earlier (``parallel``), and of the other bars one the tune has already
  played (``reuse``). Stored small next to the checkpoint (``bar_rhythms.json``); rebuilt by
  ``python -m symphony.training.rhythm``.
* ``plan`` draws, before sampling, the rhythm of every bar of a one-voice tune with a phrase plan:
  the opening phrase's bars from the table (the tune's own figures), later bars mostly reusing
  them as the real tunes do (bars the plan copies take their source's rhythm; bars parallel to an
  earlier phrase's take it at the real rate), cadence bars and the final from their own
  distributions, each fitting what the cadence rules ask of that bar. The density control
  chooses among the style's rhythms (denser or sparser), never outside them.
* In the sampler (``Constraints.bar_plan``), a planned bar's notes take their planned lengths
  and its rests their places: the model chooses the pitches. Where a bar cannot keep its plan (a
  cadence note that no pitch in range reaches, a copied bar that fell back), the bar goes on as
  the other rules allow (``lengths`` and ``rests`` answer None).

A rhythm is a tuple of ticks (``TICKS_PER_QUARTER`` a quarter): a note's length, a rest's as a
negative number; a note tied over from the bar before starts the bar as ``TIE`` plus its length.
"""
from __future__ import annotations

import json
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from symphony.model.tokens import TICKS_PER_QUARTER
from symphony.settings import PACKAGE_ROOT

BAR_RHYTHMS = PACKAGE_ROOT / "checkpoints" / "default" / "bar_rhythms.json"
TIE = 10_000  # a note held over the barline from the bar before: TIE + its ticks in this bar
KINDS = ("inner", "cadence", "final")
PHRASE = 4  # real tunes' cadence bars: every fourth (after a pickup, counted from the first full bar)
KEEP_SHARE = 0.9  # the table keeps a position's commonest rhythms up to this share of its bars ...
KEEP_MIN = 2  # ... each played in at least this many bars
MIN_TUNES = 30  # fewer real tunes of a style in a meter: no plan (the sampler's rules alone)
BAR_DENSITY = 0.35  # log-weight per note more (or fewer) than the position's mean, times the density


Rhythm = tuple[int, ...]


def bar_rhythms(notes, starts: list[float]) -> list[Rhythm]:
    """The rhythm of every bar (``starts``: bar starts in quarters and the end of the last) of a
    one-line melody `notes` (onset order, not overlapping)."""
    out: list[Rhythm] = []
    i = 0
    q = TICKS_PER_QUARTER
    for lo, hi in zip(starts, starts[1:]):
        segs: list[int] = []
        cursor = round(lo * q)
        end = round(hi * q)
        while i < len(notes) and notes[i].onset * q < end - 0.5:
            n = notes[i]
            on, off = round(n.onset * q), min(end, round((n.onset + n.duration) * q))
            if on > cursor:
                segs.append(-(on - cursor))
            elif on < cursor and off > cursor and not segs:  # held over from the bar before
                segs.append(TIE + off - cursor)
                cursor = off
                if off >= end:
                    break
                i += 1
                continue
            if off > max(on, cursor):
                segs.append(off - max(on, cursor))
                cursor = off
            if off >= end and round((n.onset + n.duration) * q) > end:
                break  # it goes on into the next bar
            i += 1
        if cursor < end:
            segs.append(-(end - cursor))
        out.append(tuple(segs))
    return out


def _kinds(n_bars: int, pickup: bool) -> list[str | None]:
    """The position of each bar: None for a pickup bar, then inner / cadence (every PHRASE-th full
    bar) / final (the last)."""
    out: list[str | None] = []
    for b in range(n_bars):
        k = b + (0 if pickup else 1)  # full bars counted from 1
        if pickup and b == 0:
            out.append(None)
        elif b == n_bars - 1:
            out.append("final")
        else:
            out.append("cadence" if k % PHRASE == 0 else "inner")
    return out


def tune_rhythms(score) -> tuple[list[Rhythm], list[str | None]] | None:
    """(rhythm of each bar, its position) of a score's top part; None for pieces of several meters."""
    from symphony.music.analysis import melody
    if score.bar_meters:
        return None
    notes = melody(score)
    if len(notes) < 2:
        return None
    bq = float(score.meter.bar_quarters)
    starts = [i * bq for i in range(score.bars + 1)]
    rhythms = bar_rhythms(notes, starts)
    pickup = notes[0].onset > 1e-6 or bool(score.pickup)
    return rhythms, _kinds(len(rhythms), pickup)


def habits(rhythms: list[Rhythm], kinds: list[str | None]) -> tuple[int, int, int, int]:
    """(bars after the first phrase, of them parallel to the bar a phrase earlier, the others,
    of them a rhythm the tune has played) of one tune."""
    full = [r for r, k in zip(rhythms, kinds) if k is not None]
    late = parallel = others = reused = 0
    for b in range(PHRASE, len(full) - 1):  # (the final has its own table)
        late += 1
        if full[b] == full[b - PHRASE]:
            parallel += 1
        else:
            others += 1
            reused += full[b] in full[:b]
    return late, parallel, others, reused


def build(records: list[dict], split: str = "train") -> dict:
    """{"styles": {style: {meter: {"tunes": n, "inner"|"cadence"|"final": [[rhythm, share], ...],
    "parallel": share, "reuse": share}}}} from the corpus records of `split`."""
    from symphony.music.score import Score
    counts: dict[tuple[str, str, str], Counter] = {}
    tunes: Counter = Counter()
    reuse: dict[tuple[str, str], list[int]] = {}
    for r in records:
        if r.get("split") != split:
            continue
        s = Score.from_dict(r["score"])
        got = tune_rhythms(s)
        if got is None:
            continue
        rhythms, kinds = got
        style, meter = r["style"], str(s.meter)
        tunes[(style, meter)] += 1
        for rh, k in zip(rhythms, kinds):
            if k is not None:
                counts.setdefault((style, meter, k), Counter())[rh] += 1
        h = reuse.setdefault((style, meter), [0, 0, 0, 0])
        for i, x in enumerate(habits(rhythms, kinds)):
            h[i] += x
    out: dict = {"phrase": PHRASE, "keep_share": KEEP_SHARE, "styles": {}}
    for (style, meter), n in sorted(tunes.items()):
        entry: dict = {"tunes": n}
        for k in KINDS:
            c = counts.get((style, meter, k), Counter())
            total = sum(c.values())
            kept, acc = [], 0
            for rh, m in c.most_common():
                if acc >= KEEP_SHARE * total or m < KEEP_MIN:
                    break
                kept.append([list(rh), round(m / total, 5)])
                acc += m
            entry[k] = kept
        late, par, others, reused = reuse[(style, meter)]
        entry["parallel"] = round(par / late, 4) if late else 0.0
        entry["reuse"] = round(reused / others, 4) if others else 0.0
        out["styles"].setdefault(style, {})[meter] = entry
    return out


@lru_cache(maxsize=1)
def _table() -> dict:
    return json.loads(BAR_RHYTHMS.read_text()) if BAR_RHYTHMS.exists() else {}


def entry(style: str, meter) -> dict | None:
    """The table's entry for `style` in `meter`, or None when it has too few real tunes."""
    e = ((_table().get("styles") or {}).get(style) or {}).get(str(meter))
    return e if e and e["tunes"] >= MIN_TUNES else None
