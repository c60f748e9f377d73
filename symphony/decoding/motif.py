"""Motif consistency in the sampler (issue 17): a tune's rhythm and inflections stay its own, and a
return can be varied rather than literal. ``sampler.GrammarState`` asks these functions about the
top voice of a one-voice piece with a phrase plan (``Constraints.shape``); each returns its input
(or None) where it has nothing to say.

* **Rhythms that recur** (a mask, then a prior): after the opening phrase
  (``Constraints.motif_bars``) a note's *figure* (its onset within the beat and its length) is one
  the tune has already played: no lone dotted figure, syncopation or sixteenth pair that never
  comes back. Readers of the blind panel named such stray rhythms in 10 of 18 pairs; real tunes
  hold 1.1-1.6 notes of a figure heard once per 16 bars, ours held 2.1-2.9. A note held to the
  barline (a cadence's) is free. In the opening phrase, after its first bar, a figure heard only
  once gains ``ONCE``, so what the opening introduces comes back, and a new one loses ``NEW``; a bar with a parallel bar in an earlier phrase
  (``Constraints.parallel``) leans towards its rhythm: the length the parallel bar has at the
  same tick gains ``RHYME``.
* **Varied returns** (``Constraints.vary_from``): the sampler copies the first half of the source
  bar (``head_tokens``); in the second half a note may not take the pitch the source bar has at
  the same tick, and no rest comes (the model, kept from its copy, would fall silent), so the bar
  starts alike and ends otherwise (real tunes bring their opening back
  literally in 10-23% of tunes, ours did in all).
* **One inflection per degree** (a mask): a minor key's 6th and 7th come natural or raised
  (``theory.MODE_EXTRA_SEMITONES``); once one of them has sounded, the other inflection of that
  degree waits ``INFLECTION_BARS`` bars (no E natural then E flat in neighbouring bars).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from symphony.model.tokens import TICKS_PER_QUARTER
from symphony.music.theory import HEPTATONIC, MODE_EXTRA_SEMITONES

RHYME = 1.5  # logit bonus for the note length the parallel bar has at the same tick
ONCE = 1.0  # logit bonus for a length that plays a figure the tune has played only once
NEW = 1.5  # logit penalty for a new figure in the opening phrase after its first bar
INFLECTION_BARS = 4  # bars a degree keeps the inflection it last sounded in
SHORT_TICKS = TICKS_PER_QUARTER // 2  # an eighth: notes shorter than it are a jig's ornaments, not its run
SHORT_SHARE_AFTER = 8  # notes played before the share counts


def active(st) -> bool:
    c = st.cons
    return c.shape and st.voice == 0 and c.voices == 1 and not c.anchors


def figure(st, cursor: int, ticks: int) -> tuple[int, int]:
    """The rhythmic figure of a note of `ticks` ticks starting at `cursor`: (onset in its beat, length)."""
    return cursor % st.beat_ticks, ticks


def _plan_bar(st) -> int:
    """The current bar counted as the phrase plan counts (after a pickup, a bar later)."""
    return st.bars_done - st.pickup


def filter_lengths(st, ids: np.ndarray | None, wider: np.ndarray | None = None) -> np.ndarray | None:
    """The duration tokens among `ids` whose figure the tune has played (or that reach the barline),
    after the opening phrase; where none is, those among `wider` (the lengths before the short-note
    limit: a sixteenth closing a heard pair rather than a syncopated quarter heard nowhere); `ids`
    itself in the opening phrase or when that would leave none."""
    if ids is None or not active(st) or _plan_bar(st) <= st.cons.motif_bars or not st.figures:
        return ids
    tok = st.tok
    for among in (ids, wider if wider is not None else ids[:0]):
        keep = among[[st.cursor + tok.dur_of(int(t)) == st.bar_ticks
                      or figure(st, st.cursor, tok.dur_of(int(t))) in st.figures for t in among]]
        if len(keep):
            return keep
    return ids


def plays_heard(st, cursor: int, lengths: list[int]) -> bool:
    """Some of `lengths` at `cursor` keeps to the tune's figures (``filter_lengths`` would keep it)."""
    if not active(st) or _plan_bar(st) <= st.cons.motif_bars or not st.figures:
        return True
    return any(cursor + d == st.bar_ticks or figure(st, cursor, d) in st.figures for d in lengths)


def rhythm_prior(st) -> np.ndarray | None:
    """A bias on the duration tokens towards the figures heard once and the parallel bar's length
    at this tick, or None."""
    if not active(st):
        return None
    tok, bias = st.tok, None
    if 1 < _plan_bar(st) <= st.cons.motif_bars and st.figures:
        at = st.cursor % st.beat_ticks
        heard = {d: n for (a, d), n in st.figures.items() if a == at}
        bias = np.full(tok.vocab_size, -NEW, dtype=np.float32)
        for d, n in heard.items():
            bias[tok.dur_token(d)] = ONCE if n == 1 else 0.0
        bias[tok.dur_token(st.bar_ticks - st.cursor)] = max(0.0, bias[tok.dur_token(st.bar_ticks - st.cursor)])
    src = (st.cons.parallel or {}).get(_plan_bar(st))
    note = None if src is None else st.notes_at.get((src + st.pickup - 1) * st.bar_ticks + st.cursor)
    if note is not None:
        bias = np.zeros(tok.vocab_size, dtype=np.float32) if bias is None else bias
        bias[tok.dur_token(note[1])] += RHYME
    return bias


def limit_short_run(st, ids: np.ndarray | None) -> np.ndarray | None:
    """The duration tokens among `ids` that are an eighth or longer, where a tune has had its share
    of shorter notes: after ``Constraints.max_short_run`` of them in a row, once they are more
    than ``Constraints.short_share`` of the top voice's notes, or in the piece's last
    ``Constraints.plain_end_bars`` bars. A jig runs in eighths: in 93 held-out compound-meter tunes
    of O'Neill's and Ryan's, 6% of the notes are shorter than an eighth (a cut or a roll) and no
    run of them is longer than 3, while a generated "lively" jig could run in sixteenths for bars.
    A German song hardly has them (``tasks.generate.SHORT_NOTES``). `ids` itself otherwise, or when
    that would leave none."""
    if ids is None or short_ok(st):
        return ids
    keep = ids[[plain_fit(st, st.cursor, st.tok.dur_of(int(t))) for t in ids]]
    return keep if len(keep) else ids


@lru_cache(maxsize=4096)
def fits(vocab: frozenset[int] | None, ticks: int) -> bool:
    """`ticks` can be filled by notes of the vocabulary's lengths (any length without one)."""
    if ticks <= 0 or vocab is None:
        return ticks == 0 or vocab is None
    return any(d <= ticks and fits(vocab, ticks - d) for d in vocab)


def plain_fit(st, cursor: int, ticks: int, end: int | None = None) -> bool:
    """A note of `ticks` at `cursor` is an eighth or longer and the rest of the bar (up to `end`)
    can be filled by the style's lengths of an eighth or longer."""
    vocab = st.cons.rhythm
    long = frozenset(d for d in vocab if d >= SHORT_TICKS) if vocab else None
    rest = (st.bar_ticks if end is None else end) - cursor - ticks
    return ticks >= SHORT_TICKS and (rest == 0 or (rest > 0 and (long is None or fits(long, rest))))


def short_ok(st, share_only: bool = False) -> bool:
    """May the top voice's note at the cursor be shorter than an eighth (``limit_short_run``)?
    With `share_only`: is it barred by nothing but the tune's share of them being spent?"""
    c = st.cons
    limit = c.max_short_run
    if not limit or st.voice != 0 or st.copying:  # a repeated bar keeps its rhythm
        return not share_only
    in_run = st.short_run >= limit and st.abs_tick(st.cursor) == st.short_end
    over_share = st.notes_played >= SHORT_SHARE_AFTER and st.short_played > c.short_share * st.notes_played
    at_end = c.closes and st.bars_done > c.bars - c.plain_end_bars
    if share_only:
        return over_share and not (in_run or at_end)
    return not (in_run or over_share or at_end)


def head_tokens(tok, bar_tokens: list[int], upto: int) -> list[int]:
    """The tokens of a bar's notes (and rests) that start before tick `upto`."""
    out, cursor, i = [], 0, 0
    while i < len(bar_tokens):
        t = bar_tokens[i]
        if tok.is_pos(t):
            cursor = t - tok.pos0
        if cursor >= upto:
            break
        out.append(t)
        if tok.is_dur(t):
            cursor += tok.dur_of(t)
        i += 1
    return out


def filter_pitches(st, ids: np.ndarray) -> np.ndarray:
    """The pitch tokens among `ids` that keep a varied return varied and a degree's inflection;
    `ids` itself when that would leave none."""
    if not active(st) or not len(ids):
        return ids
    c, tok = st.cons, st.tok
    banned: set[int] = set()
    src = (c.vary_from or {}).get(_plan_bar(st))
    if src is not None and st.cursor >= st.bar_ticks // 2:
        note = st.notes_at.get((src + st.pickup - 1) * st.bar_ticks + st.cursor)
        if note is not None:
            banned.add(note[0] % 12)
    now = st.abs_tick(st.cursor)
    for rel, (other, when) in st.inflections.items():
        if now - when < INFLECTION_BARS * st.bar_ticks:
            banned.add((c.key.tonic_pc + rel) % 12)  # the degree's other inflection waits
    if not banned:
        return ids
    keep = ids[[tok.pitch_of(int(t), c.tkey) % 12 not in banned for t in ids]]
    return keep if len(keep) else ids


def filter_rests(st, ids: np.ndarray) -> np.ndarray:
    """The Pos tokens (rests up to them) among `ids` allowed here: none in a varied bar."""
    if active(st) and _plan_bar(st) in (st.cons.vary_from or {}):
        return ids[:0]
    return ids


def inflection_pairs(key) -> dict[int, int]:
    """{semitones over the tonic: its other inflection} for the key's altered degrees: a minor key's
    raised 6th and 7th (``theory.MODE_EXTRA_SEMITONES``) and the natural ones a semitone below.

    >>> from symphony.music.theory import Key
    >>> inflection_pairs(Key("G", "minor")), inflection_pairs(Key("G", "major"))
    ({9: 8, 8: 9, 11: 10, 10: 11}, {})
    """
    scale = set(HEPTATONIC.get(key.mode, ()))
    pairs = {}
    for raised in MODE_EXTRA_SEMITONES.get(key.mode, ()):
        if raised - 1 in scale:
            pairs[raised], pairs[raised - 1] = raised - 1, raised
    return pairs


def remember(st, midi: int, start: int, ticks: int) -> None:
    """Keep the top voice's note just written: its figure, its onset and the inflection it sounded."""
    st.notes_at[start] = (midi, ticks)
    remember_length(st, start, ticks)
    fig = figure(st, start % st.bar_ticks, ticks)
    st.figures[fig] = st.figures.get(fig, 0) + 1
    other = st.pairs.get((midi - st.cons.key.tonic_pc) % 12)
    if other is not None:
        st.inflections[other] = ((midi - st.cons.key.tonic_pc) % 12, start)  # `other` now waits
        st.inflections.pop((midi - st.cons.key.tonic_pc) % 12, None)


def remember_length(st, start: int, ticks: int) -> None:
    """Count the top voice's note of `ticks` ticks at absolute tick `start` for ``limit_short_run``."""
    short = ticks < SHORT_TICKS
    st.short_run = (st.short_run + 1 if start == st.short_end else 1) if short else 0
    st.short_end = start + ticks
    st.notes_played += 1
    st.short_played += short
