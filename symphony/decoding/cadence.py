"""Melody craft in the sampler's grammar (issue 17): the composed final cadence, the style's
rhythmic vocabulary and breaths that do not empty a bar. ``sampling.GrammarState`` asks these
functions about the top voice of a one-voice piece; each returns None (or its input) where it has
nothing to say, so the grammar's own rules then hold as before.

* **Rhythmic vocabulary** (``Constraints.rhythm``, from symphony.rhythm): a note's length is one of
  the style's (dance's) lengths, wherever the rest of the bar can still be filled with them.
* **Cadences** (``Constraints.final_onsets``): in the last bar the final note (the tonic, or
  with ``end_on_tonic`` off any note of the scale) starts on one of the given strong beats and
  lasts to the bar's end; the note before it approaches it by step (a neighbouring degree of the
  mode's scale) or from the dominant, never repeats it, and no rest comes between them; but a
  jig or a polka drawn to strike its final twice (``Constraints.final_twice``, "B A G G2", "A |
  G3 G2") has the final's own pitch before it, itself approached so (never three strikes). A
  polka's final may start on its second beat (``Constraints.final_shortest``); a reel's starts where
  drawn for the upbeat the tune opened with (``Constraints.final_at``: the half bar, beat 4 or the
  last eighth, held to the barline until the upbeat's complement shortens it). Notes before the
  final keep to the vocabulary and do not cross the last of those beats. A form's section ends
  (``Constraints.cadence_bars``) close the same way on their cadence notes (a note of the tonic
  triad: approached from another pitch within a fifth).
* **Phrase marks** (``Constraints.phrase_marks``, music/phrase.py): a phrase end that is not held
  arrives on its cadence note at the bar's last strong beat (the last of ``final_onsets``): a note
  of those pitches starts exactly there, no note or rest crosses it, and the bar goes on freely;
  but a close on the tonic (an answer, an Irish strain before its repeat sign) is reached by step or
  from the dominant, and the bar's notes after it stay within a major third of it (``HOME_SPAN``).
* **Breaths** (``Constraints.max_rest``): an inner bar (not the first, not the last; the first
  too when a repetition plan copies it) is silent for less than this share of its length; the bar
  after a cadence may breathe for exactly that share (German songs rest half a bar after a phrase).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from symphony.decoding import bar_rhythm, motif
from symphony.model.tokens import TICKS_PER_QUARTER
from symphony.music.theory import MODE_EXTRA_SEMITONES

EPS = 1e-9
MAX_REST = 0.5  # an inner bar is silent for less than half its length (Constraints.max_rest)
TONIC = frozenset({0})
# After a phrase's tonic close (a phrase mark on the tonic), the bar's last notes keep within a
# major third of it: a reel's strain that closed E at the half bar went on F# G A B up into its
# repeat, or down to the B below (the readers' "runs up into the repeat", "stops on the low dominant").
HOME_SPAN = 4
SETTLE = bar_rhythm.SETTLE  # ... and its note lasts at least a quarter
HELD_QUARTERS = 2  # the final (and a form's section end) lasts at least a half note in a simple meter


fits = motif.fits  # (lives beside the rhythm rules that need it too)


def _lengths_up_to(vocab: frozenset[int] | None, most: int) -> list[int]:
    if most <= 0:
        return []
    return [d for d in sorted(vocab) if d <= most] if vocab else list(range(1, most + 1))


def _scale(key) -> list[int]:
    return sorted(set(key.scale_semitones()) | set(MODE_EXTRA_SEMITONES.get(key.mode, ())))


@lru_cache(maxsize=64)
def approach_set(key) -> frozenset[int]:
    """Semitones over the tonic from which a final tonic is approached: the scale's notes within a
    whole tone of it, its neighbouring degrees (a pentatonic mode's are a minor third away), and
    the dominant."""
    sc = [s for s in _scale(key) if s]
    near = {s for s in sc if min(s, 12 - s) <= 2}
    if sc:
        near |= {sc[0], sc[-1]}  # the degree above and the degree below the tonic
    if 7 in sc:
        near.add(7)
    return frozenset(near)


@lru_cache(maxsize=64)
def _step_above(key, degree: int) -> int:
    """Semitones from `degree` (over the tonic) up to the next note of the key's scale."""
    sc = _scale(key)
    return min(((s - degree) % 12 for s in sc if (s - degree) % 12), default=2)


def _active(st) -> bool:
    c = st.cons
    return st.voice == 0 and c.voices == 1 and not c.anchors and not c.given and not c.given_voices


def final_pcs(c) -> frozenset[int] | None:
    """Semitones over the tonic the final note of a closing piece takes (``Constraints``): the tonic
    where asked (``end_on_tonic``), else the finals drawn, else None (any note of the scale)."""
    return frozenset({0}) if c.end_on_tonic else c.finals


def _cadence_pcs(st, bar: int) -> frozenset[int] | None:
    """Semitones over the tonic of the composed cadence note ending `bar` (the final, a form's
    section end: ``Constraints.cadence_bars``, a drawn phrase end: ``Constraints.phrase_bars``);
    None where the bar ends no phrase."""
    c = st.cons
    if not c.final_onsets or not _active(st):
        return None
    pcs = None
    if bar == c.bars and c.closes:
        pcs = final_pcs(c) or frozenset(_scale(c.key))
    elif c.cadence_bars and bar in c.cadence_bars:
        pcs = c.cadence_bars[bar]
    elif c.phrase_bars and bar - st.pickup in c.phrase_bars:  # (after a pickup, a bar later)
        pcs = c.phrase_bars[bar - st.pickup]
    chord = st.beat_chords.get((bar, max(c.final_onsets))) if pcs is not None else None
    if chord is not None and not pcs & chord:  # the user's progression ends elsewhere: on its chord
        pcs = chord
    return pcs


def phrase_mark(st) -> tuple[int, frozenset[int]] | None:
    """(tick, cadence notes) of the phrase mark in the current bar (after a pickup, a bar later), or None."""
    c = st.cons
    if not c.phrase_marks or not c.final_onsets or not _active(st):
        return None
    bar = st.bars_done - st.pickup
    pcs = c.phrase_marks.get(bar)
    return ((c.mark_ticks or {}).get(bar, max(c.final_onsets)), pcs) if pcs else None


def final_bar(st) -> bool:
    """The current bar ends with a composed cadence (the last bar, a section's or a phrase's last)."""
    return _cadence_pcs(st, st.bars_done) is not None


def _pre_final(st) -> frozenset[int] | None:
    """The cadence notes of the next bar when its cadence note starts on its downbeat: this bar's
    last note is the one that approaches it."""
    if not st.cons.final_onsets or _onsets(st, st.bars_done + 1)[-1] != 0:
        return None
    return _cadence_pcs(st, st.bars_done + 1)


def _copied(st) -> bool:
    """A bar the plan repeats before an inner cadence keeps its notes to the barline (the cadence
    follows them as it can); the one before the piece's final does not: the final comes by step."""
    return st.copying and st.bars_done + 1 < st.cons.bars


def _approaches(st, prev: int, final: int, pcs: frozenset[int]) -> bool:
    """MIDI `prev` leads to the cadence note `final`: to the tonic by step or from the dominant; to
    another cadence note (a half cadence, a free final) from another pitch within a fifth. Without
    ``Constraints.leap_to_tonic`` the final comes by step (within a major third to a free final)."""
    c = st.cons
    if prev < 0:
        return True
    d = abs(final - prev)
    # (the final's approach and its bar's, unless a form repeats that bar note for note; a phrase
    # plan's refrain copied into the last bar gives way to the final's step: it leapt to the Irish
    # final in 17% of 24 pieces, real 2%, benchmarks/melody_craft.md)
    leap = (c.leap_to_tonic or st.bars_done < c.bars - 1 or not c.closes or (st.copying and not c.shape)) \
        and not refrain_source(st)
    if pcs == frozenset({7}) and c.closes and st.bars_done >= c.bars - 1 and c.finals == pcs:
        # a final on the 5th comes down to it by step (a pentatonic scale's step above it may be a
        # minor third: C yu's B-flat to G): it settles
        return 0 < prev - final <= max(2, _step_above(c.key, 7))
    if pcs != frozenset({0}):
        return 0 < d <= (7 if leap else 4)
    rel = (prev - c.key.tonic_pc) % 12
    return rel in approach_set(c.key) and (d <= 3 or (leap and rel == 7 and d in (5, 7)))


def plan_shift(st) -> int:
    """Bars sampled before the phrase plan's bar 1: a phrase plan counts its bars from the first
    full bar, so after a pickup a bar later; other plans (forms, borrowed repeats) count from 1."""
    c = st.cons
    return st.pickup if c.phrase_bars is not None or c.phrase_marks is not None else 0


def refrain_source(st) -> bool:
    """Is the current bar the one the final bar repeats (a refrain: the phrase plan's ``copy_from``
    of the last bar, a bar later after a pickup), or the bar before it? Its tonic close is approached as the final is, by
    step, so the copy reaches the final: bars 8 closing "D G" from the dominant cut 9 of 12 Irish
    refrains short at the leap, and the final came by step its own way (the tune's last 4 pitches
    heard before in 29% of 24 pieces, real 75%)."""
    c = st.cons
    if not c.copy_from or not c.closes:
        return False
    shift = plan_shift(st)
    src = c.copy_from.get(c.bars - shift)
    # (or the bar before it, whose last note approaches a close on its downbeat)
    return src is not None and st.bars_done - shift in (src, src - 1)


def _penultimate_ok(st, midi: int, pcs: frozenset[int]) -> bool:
    """A note that may sound right before the cadence note: some cadence note in range is approached from it."""
    lo, hi = st.cons.voice_range(0)
    tonic = st.cons.key.tonic_pc
    return any((m - tonic) % 12 in pcs and _approaches(st, midi, m, pcs)
               for m in range(max(lo, midi - 7), min(hi, midi + 7) + 1))


def _twice(st) -> bool:
    """The piece's final is struck twice (``Constraints.final_twice``: a jig's "B A G G2") and this
    is its last bar."""
    c = st.cons
    return _twice_drawn(st) and c.closes and st.bars_done == c.bars


def _twice_drawn(st) -> bool:
    """The final is to be struck twice (``Constraints.final_twice``), after the upbeat the tune opened
    with (``Constraints.twice_at``: a reel's, drawn per upbeat)."""
    c = st.cons
    return c.final_twice and (c.twice_at is None or st.upbeat_ticks in c.twice_at)


def _first_strike(st, prev: int, midi: int, pcs: frozenset[int]) -> bool:
    """MIDI `midi`, after `prev`, may sound right before the final as its first strike: a final
    note approached as the final would be (by step, never from its own pitch: struck twice at most)."""
    return _twice(st) and (midi - st.cons.key.tonic_pc) % 12 in pcs and _approaches(st, prev, midi, pcs)


def _struck(st, prev: int, before: int, pcs: frozenset[int]) -> bool:
    """The note `prev` (after `before`) ending at the final's onset was the final's first strike."""
    return prev >= 0 and _first_strike(st, before, prev, pcs)


def _before_prev(st) -> int:
    """MIDI of the top voice's note before the one before the note being chosen (-1: not known);
    ``st.melody`` holds the notes written, the one whose length is being chosen not yet."""
    return st.melody[-2][2] if len(st.melody) >= 2 else -1


def _onsets(st, bar_no: int | None = None) -> list[int]:
    """Ticks of a cadence bar (the current one, or bar `bar_no`) where its held cadence note may
    start (``Constraints.final_onsets``). The piece's final lasts at least a half note (a compound
    meter's beat: a jig's dotted quarter), so a 2/4 song ends on its last bar's downbeat, not on a
    short second beat; so does a form's section end, which its final bar may repeat. A reel's final
    starts where ``Constraints.final_at`` drew it for the tune's upbeat (``st.upbeat_ticks``)."""
    c, bar = st.cons, st.bar_ticks
    b = st.bars_done if bar_no is None else bar_no
    if b == c.bars and c.closes and c.final_at and st.upbeat_ticks in c.final_at:
        return [c.final_at[st.upbeat_ticks]]  # (a reel's final: on its half bar, beat 4 or last eighth)
    onsets = sorted(t for t in c.final_onsets if t < bar) or [0]
    if (b == c.bars and c.closes) or b in (c.cadence_bars or ()):
        shortest = st.beat_ticks if c.meter.is_compound else min(bar, HELD_QUARTERS * TICKS_PER_QUARTER)
        if b == c.bars and c.closes and c.final_shortest:  # (a polka's final on its second beat)
            shortest = c.final_shortest
        onsets = [t for t in onsets if bar - t >= shortest] or [0]
    return onsets


def _final_lengths(st, cursor: int, midi: int, prev: int, before: int = -1) -> list[int]:
    """Lengths (ticks) allowed for a note of `midi` at `cursor` of a cadence bar, `prev` sounding
    before it (and `before` before that)."""
    c, bar = st.cons, st.bar_ticks
    pcs = _cadence_pcs(st, st.bars_done)
    onsets = _onsets(st)
    last = onsets[-1]
    # (a final note the note before cannot approach by the rules: a leap rather than a dead end,
    # as filter_pitches lets it)
    is_final = (midi - c.key.tonic_pc) % 12 in pcs and (_approaches(st, prev, midi, pcs) or
                                                        (cursor == last and not _penultimate_ok(st, prev, pcs)))
    if cursor == last and _struck(st, prev, before, pcs):  # struck twice: the same note again
        is_final = midi == prev
    if cursor >= last:
        return [bar - cursor] if cursor == last and is_final else []
    out = [bar - cursor] if cursor in onsets and is_final else []
    for d in _lengths_up_to(c.rhythm, last - cursor):
        rest = last - cursor - d
        if rest == 0:
            if _penultimate_ok(st, midi, pcs) or _first_strike(st, prev, midi, pcs):
                out.append(d)
        elif fits(c.rhythm, rest):
            out.append(d)
    if not motif.short_ok(st):  # no sixteenth flourish where the style has none, if the bar allows
        plain = [d for d in out if d == bar - cursor or motif.plain_fit(st, cursor, d, last)]
        return plain or out
    return out


def note_lengths(st) -> np.ndarray | None:
    """Duration tokens allowed after the pitch just written (``pending == "pitch"``), or None."""
    c = st.cons
    if not _active(st) or not (c.rhythm or final_bar(st) or _pre_final(st) is not None):
        return None
    cur, bar = st.cursor, st.bar_ticks
    if final_bar(st):
        out = _final_lengths(st, cur, st.pitch_midi, st.prev_midi, _before_prev(st))
        last = _onsets(st)[-1]
        if cur < last and last - cur in out and _first_strike(st, st.prev_midi, st.pitch_midi,
                                                              _cadence_pcs(st, st.bars_done)):
            out = [last - cur]  # (the final's first strike, where drawn: it ends where the final starts)
    else:
        end = bar
        cad = st._cadence()  # a section's cadence (forms): other notes leave it the last beat
        if cad is not None and st.pitch_rel not in cad:
            end = bar - st.beat_ticks
        out = [d for d in _lengths_up_to(c.rhythm, end - cur) if fits(c.rhythm, bar - cur - d)]
        mark = phrase_mark(st)
        if mark is not None and cur < mark[0]:  # a note ends by the mark, which a note starts
            out = [d for d in out if cur + d <= mark[0] and fits(c.rhythm, mark[0] - cur - d)]
        elif mark is not None and cur == mark[0] and mark[1] == TONIC and not st.copying:  # a tonic close
            # lands for a quarter at least, in a figure the tune has played or to the barline
            most = bar_rhythm.settle_max(st.beat_ticks) or bar  # (a reel's: under its beat)
            out = [d for d in out if SETTLE <= d <= most and motif.plays_heard(st, cur, [d])] or out
        nxt = _pre_final(st)
        if nxt is not None and not _copied(st) and not _penultimate_ok(st, st.pitch_midi, nxt):
            out = [d for d in out if cur + d < bar]
    if not out:
        return None
    tok = st.tok
    return np.array([tok.dur_token(d) for d in out], dtype=np.int64)


def filter_pitches(st, ids: np.ndarray) -> np.ndarray:
    """The pitch tokens among `ids` that can be followed by an allowed length here."""
    mark = phrase_mark(st)
    if mark is not None and st.cursor == mark[0] and len(ids):  # the phrase mark's note
        tok, key, tonic = st.tok, st.cons.tkey, st.cons.key.tonic_pc
        keep = [int(t) for t in ids if (tok.pitch_of(int(t), key) - tonic) % 12 in mark[1]]
        if mark[1] == TONIC and not st.copying:  # a tonic close comes by step or from the dominant
            near = [t for t in keep if _approaches(st, st.top_midi, tok.pitch_of(t, key), mark[1])]
            keep = near or keep
        return np.array(keep, dtype=np.int64) if keep else ids
    if mark is not None and mark[1] == TONIC and len(ids) and not st.copying:
        ids = _around_tonic_mark(st, ids, mark[0])
    if not (final_bar(st) or _pre_final(st) is not None) or not len(ids):
        return ids
    tok, key, cur = st.tok, st.cons.tkey, st.cursor
    keep, plain = [], []  # (plain: pitches whose way to the cadence needs no note shorter than an
    # eighth where the style has none, and no figure the tune has not played)
    for t in ids:
        m = tok.pitch_of(int(t), key)
        if final_bar(st):
            lengths = _final_lengths(st, cur, m, st.top_midi, st.prev_midi)
            ok = bool(lengths)
            if ok and (motif.short_ok(st) or max(lengths) >= motif.SHORT_TICKS) and motif.plays_heard(st, cur, lengths):
                plain.append(int(t))
        else:
            bar, v = st.bar_ticks, st.cons.rhythm
            reach = _penultimate_ok(st, m, _pre_final(st)) and (v is None or bar - cur in v)
            ok = reach or _copied(st) or any(cur + d < st.bar_ticks and fits(st.cons.rhythm, st.bar_ticks - cur - d)
                              for d in _lengths_up_to(st.cons.rhythm, st.bar_ticks - cur - 1))
            if reach and cur >= bar - st.beat_ticks and not st.copying:  # (in the last beat: the note that approaches
                plain.append(int(t))  # the cadence, not a flourish of a figure the tune has not played)
        if ok:
            keep.append(int(t))
    keep = plain or keep
    if not keep and final_bar(st) and cur == _onsets(st)[-1]:
        # no final note in range approaches the last one: any final note (a leap rather than a dead end)
        pcs, tonic = _cadence_pcs(st, st.bars_done), st.cons.key.tonic_pc
        keep = [int(t) for t in ids if (tok.pitch_of(int(t), key) - tonic) % 12 in pcs]
    return np.array(keep, dtype=np.int64) if keep else ids


def _toward_twice(st, keep: list[int], end: int) -> list[int]:
    """Of the pitch tokens `keep` for a planned note of the last bar ending at tick `end`, those
    that strike the final twice (``Constraints.final_twice``): the note ending where the final
    starts on the final's pitch, reached by step; the one before it a note that reaches it so.
    All of `keep` where none does."""
    tok, key, pcs = st.tok, st.cons.tkey, _cadence_pcs(st, st.bars_done)
    last = _onsets(st)[-1]
    if end == last:
        pick = [t for t in keep if _first_strike(st, st.top_midi, tok.pitch_of(t, key), pcs)]
    elif end < last and bar_rhythm._segment_map(bar_rhythm._rhythm(st, copied=True)).get(end, 0) == last - end:
        pick = [t for t in keep if _penultimate_ok(st, tok.pitch_of(t, key), pcs)]
    else:
        return keep
    return pick or keep


def _around_tonic_mark(st, ids: np.ndarray, mark: int) -> np.ndarray:
    """Around a phrase end that closes on the tonic (an answer, an Irish strain before its repeat
    sign; ``Constraints.phrase_marks``): the note the bar's planned rhythm ends at the mark leads to
    a tonic by step or from the dominant, and the notes after the tonic stay within a major third of
    it, so the strain comes home and does not run up into its repeat or drop to the dominant below
    (``HOME_SPAN``). Each rule gives way where it would leave no pitch."""
    tok, key = st.tok, st.cons.tkey
    midis = [tok.pitch_of(int(t), key) for t in ids]
    if st.cursor > mark:
        home = st.notes_at.get(st.abs_tick(mark))
        if home is None or (home[0] - st.cons.key.tonic_pc) % 12 != 0:
            return ids
        keep = [int(t) for t, m in zip(ids, midis) if abs(m - home[0]) <= HOME_SPAN]
    else:
        r = bar_rhythm._rhythm(st)
        seg = bar_rhythm._segment_map(r).get(st.cursor) if r is not None else None
        if seg is None or seg <= 0 or st.cursor + seg != mark:
            return ids
        keep = [int(t) for t, m in zip(ids, midis) if _penultimate_ok(st, m, TONIC)]
    return np.array(keep, dtype=np.int64) if keep else ids


def filter_rests(st, ids: np.ndarray) -> np.ndarray:
    """The Pos tokens among `ids` (a rest up to that tick) allowed here."""
    c = st.cons
    if not _active(st) or not len(ids):
        return ids
    if final_bar(st):
        return ids[:0]  # a cadence's approach runs without a break
    bar, pos0 = st.bar_ticks, st.tok.pos0
    breath = _cadence_pcs(st, st.bars_done - 1) is not None  # after a cadence: a breath of up to half the bar
    plan = c.bar_plan  # ... and a phrase end breathing in its own bar, as its bar plan has it (``BarPlan.tails``)
    breath = breath or (plan is not None and st.bars_done - st.pickup in plan.tails and bar_rhythm._rhythm(st) is not None)
    mark = phrase_mark(st)
    keep = []
    for t in ids:
        p = int(t) - pos0
        if c.rhythm is not None and not fits(c.rhythm, bar - p):
            continue
        if mark is not None and (st.cursor <= mark[0] < p or  # the mark's note starts on its beat
                                 (p < mark[0] and c.rhythm is not None and not fits(c.rhythm, mark[0] - p))):
            continue
        inner = 1 < st.bars_done < c.bars or st.bars_done in (c.copy_from or {}).values()  # (a copied bar sounds mid-tune)
        rest = st.rest + (p - st.cursor)
        if c.max_rest is not None and inner and rest >= c.max_rest * bar - EPS \
                and not (breath and rest <= c.max_rest * bar + EPS):
            continue
        keep.append(int(t))
    return np.array(keep, dtype=np.int64)


def copyable(tok, bar_tokens: list[int], bar_ticks: int, first_bar: bool) -> bool:
    """A bar that a repetition plan may copy: not empty, not silent for more than a quarter of its
    length (a phrase's opening breath, an eighth in 2/4, is), and not the first bar's rest-padded pickup."""
    cursor, silent, notes = 0, 0, 0
    for t in bar_tokens:
        if tok.is_pos(t):
            p = t - tok.pos0
            silent += max(0, p - cursor)
            if first_bar and cursor == 0 and p > 0:
                return False
            cursor = p
        elif tok.is_dur(t):
            cursor += tok.dur_of(t)
            notes += 1
    silent += max(0, bar_ticks - cursor)
    return notes > 0 and silent <= bar_ticks / 4


def filter_planned_pitches(st, ids: np.ndarray) -> np.ndarray:
    """The pitch tokens among `ids` that let the note length ``decoding.bar_rhythm`` planned follow
    in a cadence bar or as the last note before a cadence note on the next downbeat (this module's
    rules); `ids` itself otherwise or when none would. In a bar copied from an earlier one too: a copied note
    that could not keep its length there changes its pitch, not the bar's rhythm."""
    seg = bar_rhythm._segment(st, copied=True) if len(ids) else None
    if seg is None or seg <= 0:
        return ids
    tok, key = st.tok, st.cons.tkey
    nxt = _pre_final(st) if st.cursor + seg == st.bar_ticks else None
    if final_bar(st):
        keep = [int(t) for t in ids
                if seg in _final_lengths(st, st.cursor, tok.pitch_of(int(t), key), st.top_midi, st.prev_midi)]
        if _twice(st):
            keep = _toward_twice(st, keep, st.cursor + seg)
    elif nxt is not None:
        keep = [int(t) for t in ids if _penultimate_ok(st, tok.pitch_of(int(t), key), nxt)]
    elif st.cursor + seg == st.bar_ticks and _strikes_on_downbeat(st):
        pcs = _cadence_pcs(st, st.cons.bars)  # (a step to the first strike, "A | G3 G2")
        keep = [int(t) for t in ids if _penultimate_ok(st, tok.pitch_of(int(t), key), pcs)]
    else:
        return ids
    return np.array(keep, dtype=np.int64) if keep else ids


def _strikes_on_downbeat(st) -> bool:
    """This bar comes before the last, whose final is struck twice (``Constraints.final_twice``)
    with the first strike on its downbeat lasting until the final ("G3 G2" in a jig): the planned
    last bar opens with one note to the final's onset."""
    c = st.cons
    final = c.bar_plan.final if c.bar_plan is not None else None
    return _twice_drawn(st) and c.closes and st.bars_done == c.bars - 1 and bool(final) \
        and final[0] == _onsets(st, c.bars)[-1] > 0
