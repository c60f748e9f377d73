"""The rhythmic vocabulary of each style (and dance type), learned from the corpus.

A style's vocabulary is the set of note lengths (in ticks, ``tokens.TICKS_PER_QUARTER`` a quarter
note) that make up at least ``VOCAB_MIN_SHARE`` (1%) of the melody notes of its real tunes in the
training split, per meter (a meter stands in for the dance type: celtic 6/8 = jigs, 9/8 = slip
jigs, 4/4 = reels and hornpipes, 2/4 = polkas) and for the style as a whole. The sampler keeps note
lengths inside it (``sampling.Constraints.rhythm``), so the density and mood biases move within
the style's durations: a "lively" jig gets more eighths, not 32nds or 64th-note tuplets.

The table also holds where real tunes place their final note (the tick of the bar it starts on,
and whether it lasts a beat), which the final cadence uses (``sampling.Constraints.final_onsets``).

Stored small, next to the checkpoint: ``python -m symphony.rhythm`` rebuilds it from the corpus.
"""
from __future__ import annotations

import json
from collections import Counter
from functools import lru_cache

from symphony.model.tokens import TICKS_PER_QUARTER
from symphony.music.analysis import melody
from symphony.music.score import Score
from symphony.settings import PACKAGE_ROOT

RHYTHM_VOCAB = PACKAGE_ROOT / "checkpoints" / "default" / "rhythm_vocab.json"
VOCAB_MIN_SHARE = 0.01  # a length used by under 1% of a style's (dance's) real notes is left out
MIN_NOTES_PER_METER = 400  # fewer real notes in a style's meter: the style's whole vocabulary
FINAL_MIN_SHARE = 0.1  # a final-note position (a beat of the bar) used by at least 10% of real tunes


def melody_ticks(score) -> list[tuple[int, int, int]]:
    """(onset tick, duration in ticks, MIDI pitch) of the top part's notes, in order."""
    return [(round(n.onset * TICKS_PER_QUARTER), max(1, round(n.duration * TICKS_PER_QUARTER)), n.pitch)
            for n in melody(score)]


def build(records: list[dict], split: str = "train") -> dict:
    """{"styles": {style: {"all": {ticks: share}, "meters": {meter: {ticks: share}}, "final": {meter:
    {"onsets": {tick: share}, "n": tunes}}}}} from corpus records of `split`."""
    durs: dict[str, Counter] = {}
    by_meter: dict[tuple[str, str], Counter] = {}
    finals: dict[tuple[str, str], Counter] = {}
    for r in records:
        if r.get("split") != split:
            continue
        s = Score.from_dict(r["score"])
        notes = melody_ticks(s)
        if len(notes) < 2:
            continue
        style, meter = r["style"], str(s.meter)
        ds = [d for _, d, _ in notes[:-1]]  # the last note's length is the cadence's, not the rhythm's
        durs.setdefault(style, Counter()).update(ds)
        by_meter.setdefault((style, meter), Counter()).update(ds)
        if not s.bar_meters:
            bar = round(float(s.meter.bar_quarters) * TICKS_PER_QUARTER)
            finals.setdefault((style, meter), Counter())[notes[-1][0] % bar] += 1

    def shares(c: Counter) -> dict[str, float]:
        n = sum(c.values())
        return {str(d): round(k / n, 5) for d, k in sorted(c.items()) if k / n >= 1e-4}

    out: dict = {"min_share": VOCAB_MIN_SHARE, "styles": {}}
    for style, c in sorted(durs.items()):
        entry = {"all": shares(c), "notes": sum(c.values()), "meters": {}, "final": {}}
        for (st, meter), cm in sorted(by_meter.items()):
            if st == style:
                entry["meters"][meter] = {"notes": sum(cm.values()), "shares": shares(cm)}
        for (st, meter), cf in sorted(finals.items()):
            if st == style:
                n = sum(cf.values())
                entry["final"][meter] = {"n": n, "onsets": {str(t): round(k / n, 4) for t, k in sorted(cf.items())}}
        out["styles"][style] = entry
    return out


@lru_cache(maxsize=1)
def _table() -> dict:
    return json.loads(RHYTHM_VOCAB.read_text()) if RHYTHM_VOCAB.exists() else {}


def _shares(style: str, meter: str) -> dict[str, float] | None:
    entry = (_table().get("styles") or {}).get(style)
    if not entry:
        return None
    m = entry["meters"].get(str(meter))
    return m["shares"] if m and m["notes"] >= MIN_NOTES_PER_METER else entry["all"]


def vocabulary(style: str | dict[str, float], meter: str, min_share: float = VOCAB_MIN_SHARE) -> frozenset[int] | None:
    """Note lengths (ticks) of `style` in `meter` (its whole vocabulary when that meter has few real
    notes); None when the style is not in the table. A blend {style: weight} (weights summing to
    1) has the lengths whose weighted share reaches `min_share`."""
    weights = style if isinstance(style, dict) else {style: 1.0}
    mixed: dict[int, float] = {}
    for s, w in weights.items():
        shares = _shares(s, meter)
        if shares is None:
            return None
        for d, x in shares.items():
            mixed[int(d)] = mixed.get(int(d), 0.0) + w * x
    vocab = frozenset(d for d, x in mixed.items() if x >= min_share - 1e-12)
    return vocab or None


def final_onsets(style: str, meter, beat_ticks: int, bar_ticks: int) -> tuple[int, ...]:
    """Ticks of the last bar where a real tune of `style` in `meter` lets its final note start, among
    the strong beats: the downbeat always, the middle of a bar of an even number of beats when at
    least FINAL_MIN_SHARE of real tunes end there (jigs: the second dotted quarter). A style that
    the table has in no such meter: the strong beats (a phrase end's cadence note, ``Constraints.
    phrase_marks``, comes on the last of them).

    The table has no Irish tune in 2/2 (O'Neill's reels close on a short bar, ``Score.bar_meters``,
    which ``build`` leaves out): their finals fell on the downbeat alone, so a reel's phrase ends
    placed their cadence note there and ran on for the whole bar: bar 8 of a reel, before its
    repeat sign, played E D E E D E D (seed 0). In 4/4, the bar of the same length, 63% of the
    style's tunes end on the half bar."""
    strong = {0}
    n_beats = bar_ticks // beat_ticks if beat_ticks else 1
    if n_beats % 2 == 0 and n_beats >= 2:
        strong.add(bar_ticks // 2)
    entry = ((_table().get("styles") or {}).get(style) or {}).get("final", {}).get(str(meter))
    if not entry or entry["n"] < 20:
        return tuple(sorted(strong)) if style in (_table().get("styles") or {}) else (0,)
    keep = [t for t in sorted(strong) if t == 0 or entry["onsets"].get(str(t), 0.0) >= FINAL_MIN_SHARE]
    return tuple(keep)
