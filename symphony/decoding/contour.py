"""Melodic shape in the sampler (issue 17): leaps that recover, no circling on two pitches, a
contrasting phrase sung higher and one high point. ``sampler.GrammarState`` asks these functions
about the top voice of a one-voice piece with ``Constraints.shape`` on (a piece with a phrase plan,
``music.phrase``); each returns None (or its input) where it has nothing to say.

* **Leaps recover** (a prior): after a leap wider than a fourth the melody turns back or holds:
  a note that goes on in the leap's direction loses ``LEAP_PENALTY`` (``STEP_ON_PENALTY`` for a
  step on). In real tunes (German and Chinese sources of the corpus, 300 tunes each) such a leap
  is followed by a step back in 33-40%, a leap back in 21-30%, the same pitch in 18-39%, a step on
  in 6-14% and a leap on in 1-2%.
* **No circling** (a prior, then a mask): once the notes of the last ``RUN_SOFT_BARS`` bars use
  only two pitches, those two lose ``RUN_PENALTY``; after ``RUN_HARD_BARS`` bars a third pitch
  must come (where the cadence rules leave one), so no run on two pitches lasts four bars.
* **No hovering, no looping cell** (priors; issue 17's blind readers: "hovers on G-A-B with the
  same A A A B / G. A cells over and over", "alternating E and F# for seven bars", "spins the
  G-A-E-D-E-D cell", "repeats d-e-f#-e-f# almost mechanically"): once the notes of the last
  ``Constraints.hover_bars`` bars (the style's, ``phrase.HOVER_BARS``, from its real tunes) use only
  three pitches, those three lose ``HOVER_PENALTY``; a note that would sound a 3-note pitch cell
  (not all one pitch) again within ``CELL_BARS`` bars of an earlier sounding that started at another
  place in the bar loses ``Constraints.loop_penalty`` (the style's, ``phrase.LOOP_PENALTY``) for each such sounding (a third time twice as much). A
  cell returning at its place in the bar (a bar restated, the motif real tunes bring back) is left
  alone, and neither rule leans in a bar the plan copies or varies, nor in a bar echoing another at
  another pitch (``decoding.sequence``).
* **Variety** (a prior): until the tune has sounded ``Constraints.variety`` distinct pitches (the
  style's real mean), a pitch it has not sounded yet, within a fifth of the last, gains ``NEW_PITCH``.
* **Lines that sing** (masks, ``singable``): no leap wider than an octave; none wider than a
  major sixth but an octave or into a phrase's first note (after its cadence); after a leap wider than a fifth
  the melody turns back; no see-saw between two pitches longer than
  ``SEE_SAW_NOTES`` notes (G B G B G B), and no more than ``SAME_PITCH_NOTES`` notes in a row on one
  pitch (a fourth loses ``SAME_PITCH_PENALTY``); a bar's last beat stays within an octave of a
  repeated bar that follows it (the copy itself is left as its source is). Readers of the blind panel heard "jumps suddenly from c up to high b", "an odd ninth leap"
  and "see-saws aimlessly (G B B A | A B B A)" as the tells of a machine.
* **Register and high point** (priors): in the contrasting phrases (``Constraints.lift_bars``)
  higher notes gain up to ``LIFT`` over the mean of the tune so far; in the planned peak bar
  (``Constraints.peak_bar``) a note above everything before gains ``PEAK_BONUS``, and in the other
  bars after the first a note above everything before loses ``PEAK_GUARD``, so the tune's highest
  note falls where it is planned.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from symphony.decoding import cadence
from symphony.model.tokens import N_OCTAVES, PITCHES_PER_OCTAVE

LEAP = 5  # semitones: a leap wider than a fourth asks the melody to turn back or hold
STEP = 3  # semitones: a step (a pentatonic scale's steps include minor thirds)
LEAP_PENALTY, STEP_ON_PENALTY = 3.0, 0.3
RUN_SOFT_BARS, RUN_PENALTY = 2.0, 2.0
RUN_HARD_BARS = 3.0
LIFT, LIFT_SPAN = 1.5, 7.0  # logit bonus at LIFT_SPAN semitones above the tune's mean so far
PEAK_BONUS, PEAK_GUARD = 2.0, 3.0
# Home: real tunes lie above their final (time below it: celtic 15%, chinese 11%, german 9% of 400
# tunes of each style's train split; their final lies a fourth, a unison and a second above their
# lowest note, medians), ours ended high and sagged below it (39%, 36%, 20%; final a minor seventh
# above the lowest note in celtic): "its line sags", "sits awkwardly low", blind panel seeds 67, 71.
# In the last HOME_BARS bars notes more than HOME_REACH semitones above the home final lose
# HOME_PULL for every HOME_SPAN semitones further (at most HOME_CAP times), growing bar by bar, so a
# line high above home is drawn down to it; the final an octave up loses HOME_PULL too. In those bars
# a leap wider than a fourth loses HOME_PULL as well (growing the same way): pulled by pitch alone,
# lines dropped to the final by a leap ("an unidiomatic drop to low B and C", "leaps a ninth from d
# down to D", "the cadence jumps down a seventh": 7 pairs of the seed-73 and -79 panels).
# The home final may lie up to HOME_BELOW semitones under the lowest note so far (a D major tune that
# has gone down to E comes home to the D below).
HOME_BARS, HOME_PULL, HOME_REACH, HOME_SPAN, HOME_CAP, HOME_BELOW = 3, 2.0, 4, 5.0, 2.0, 4
# A song's close (Constraints.fall_to_final): in the bar holding its final and the bar before, the
# note FALL_NOTES notes or fewer before the final, k notes before it, gains fall_to_final on the pitch
# k degrees above the home final, so the line comes down by step ("e d c B A | G", which readers
# praised in real tunes; ours "ends on a weak A-G figure", "a weak E2 D close").
FALL_NOTES = 3
NEW_PITCH, NEW_PITCH_REACH = 1.0, 7  # bonus for a pitch the tune has not sounded yet, within a fifth
TONIC = frozenset({0})  # a closing piece with no finals drawn comes home to its tonic
MELODY_MEMORY = 64  # top-voice notes kept for the run rule
OCTAVE, SIXTH, FIFTH = 12, 9, 7  # semitones: the widest leap; the widest inside a phrase; a leap that turns back
# Real tunes (60 of the test split per style, benchmarks/melody_craft.md): a see-saw of more than 6
# notes in 2-10% of tunes; more than 3 notes on one pitch in 27-32% (a habit), so 4 may come.
# An octave leap (the same note an octave away) is a folk tune's habit; sevenths and ninths are not.
SEE_SAW_NOTES, SAME_PITCH_NOTES = 6, 4
# after 3 notes on one pitch a 4th loses SAME_PITCH_PENALTY: at 0.5, once German songs replayed
# their bar rhythms (bar_rhythm.AGAIN_LIFT), 12 of 24 had a run of 4+ (real 32%; readers: "strings
# of repeated A's and B's"); at 1.0, 8 of 24 (celtic 3, chinese 8; real 27% both)
SAME_PITCH_SOFT, SAME_PITCH_PENALTY = 3, 1.0
# Hovering and looping (benchmarks/melody_craft.py rows "run on 3 pitches or fewer" and "3-note
# pitch cells back within 2 bars at another place in the bar"): real tunes 150 per style, ours 60.
HOVER_PITCHES, HOVER_PENALTY = 3, 1.5
CELL_NOTES, CELL_BARS = 3, 2  # (the penalty: Constraints.loop_penalty, the style's)


def active(st) -> bool:
    c = st.cons
    return c.shape and st.voice == 0 and c.voices == 1


@lru_cache(maxsize=256)
def pitch_midis(tok, token_key) -> np.ndarray:
    """MIDI pitch of every pitch token, in token order."""
    return np.array([tok.pitch_of(tok.pitch0 + i, token_key) for i in range(N_OCTAVES * PITCHES_PER_OCTAVE)])


def pitch_run(st, k: int) -> tuple[frozenset[int], int]:
    """(its pitches, its length in ticks up to the cursor) of the longest stretch of the latest
    top-voice notes on at most `k` pitches."""
    pitches: set[int] = set()
    start = None
    for onset, _, midi in reversed(st.melody):
        if midi not in pitches and len(pitches) == k:
            break
        pitches.add(midi)
        start = onset
    if start is None:
        return frozenset(), 0
    return frozenset(pitches), st.abs_tick(st.cursor) - start


def _planned(st) -> bool:
    """Whether the bar at the cursor is one the plan copies or varies, or echoes another bar at
    another pitch: its repetition is the form's, not a loop."""
    c = st.cons
    if st.copying:
        return True
    bar = st.bars_done - st.pickup
    if bar in (c.copy_from or {}) or bar in (c.vary_from or {}):
        return True
    return st.echo is not None and st.echo[0] == bar and st.echo[1] is not None


def loop_counts(st) -> dict[int, int]:
    """{pitch: earlier soundings of the cell (the last CELL_NOTES - 1 notes, then that pitch) that
    started within CELL_BARS bars of this one, at another place in the bar, not overlapping it}."""
    mel, k = st.melody, CELL_NOTES
    if len(mel) < 2 * k - 1:
        return {}
    head = tuple(m for _, _, m in mel[-(k - 1):])
    start = mel[-(k - 1)][0]
    bt = st.bar_ticks
    out: dict[int, int] = {}
    for j in range(len(mel) - 2 * k + 1, -1, -1):  # soundings ending before this cell's first note
        if start - mel[j][0] > CELL_BARS * bt:
            break
        if tuple(m for _, _, m in mel[j:j + k - 1]) != head or mel[j][0] % bt == start % bt:
            continue
        x = mel[j + k - 1][2]
        if len(set(head) | {x}) > 1:
            out[x] = out.get(x, 0) + 1
    return out


def prior(st) -> np.ndarray | None:
    """A bias over the vocabulary for the top voice's next pitch (added to its logits through
    ``sampler._reweight_pitches``), or None."""
    if not active(st) or not st.melody:
        return None
    c, tok = st.cons, st.tok
    midis = pitch_midis(tok, c.tkey)
    bias = np.zeros(len(midis), dtype=np.float32)
    last, prev = st.top_midi, st.prev_midi
    if prev >= 0 and abs(last - prev) > LEAP:
        on = (midis - last) * (1 if last > prev else -1)  # > 0: on in the leap's direction
        bias[on > STEP] -= LEAP_PENALTY
        bias[(on > 0) & (on <= STEP)] -= STEP_ON_PENALTY
    run, ticks = pitch_run(st, 2)
    if run and ticks >= RUN_SOFT_BARS * st.bar_ticks:
        bias[np.isin(midis, list(run))] -= RUN_PENALTY
    planned = (c.hover_bars or c.loop_penalty) and _planned(st)
    if c.hover_bars and not planned:
        run, ticks = pitch_run(st, HOVER_PITCHES)
        if len(run) == HOVER_PITCHES and ticks >= c.hover_bars * st.bar_ticks:
            bias[np.isin(midis, list(run))] -= HOVER_PENALTY
    if c.loop_penalty and not planned and home(st) is None:  # (the close may rhyme with a cadence)
        for x, n in loop_counts(st).items():
            bias[midis == x] -= c.loop_penalty * n
    if len(st.melody) >= SAME_PITCH_SOFT and all(m == last for _, _, m in st.melody[-SAME_PITCH_SOFT:]):
        bias[midis == last] -= SAME_PITCH_PENALTY  # (a fourth note on one pitch: a habit, not every tune's)
    if len(st.heard) < c.variety:
        fresh = ~np.isin(midis, list(st.heard)) & (np.abs(midis - last) <= NEW_PITCH_REACH)
        bias[fresh] += NEW_PITCH
    bar = st.bars_done
    if bar in c.lift_bars and st.pitch_count:
        mean = st.pitch_sum / st.pitch_count
        bias += LIFT * np.clip((midis - mean) / LIFT_SPAN, -1.0, 1.0)
    if c.peak_bar is not None:
        if bar == c.peak_bar:
            bias[midis > st.high_before_bar] += PEAK_BONUS
        elif bar > 1:  # the first bar sets the ambitus; later ones keep under it until the peak
            bias[midis > st.top_high] -= PEAK_GUARD
    goal = home(st)
    if goal is not None:
        end = _home_bar(st)
        ramp = (bar - (end - HOME_BARS)) / HOME_BARS  # 1/3, 2/3, 1 over the last three bars
        bias -= HOME_PULL * ramp * np.clip((midis - goal - HOME_REACH) / HOME_SPAN, 0.0, HOME_CAP)
        bias[np.abs(midis - last) > LEAP] -= HOME_PULL * ramp  # ... coming down by step, not by a leap
        k = _to_final(st) if c.fall_to_final and bar >= end - 1 else None
        aim = _degrees_above(c.key, goal, k) if k is not None and k > 0 else -1
        if 0 <= aim <= last + STEP:  # the close falls to the final by step: the k-th note before it
            bias[midis == aim] += c.fall_to_final  # k degrees above it, not reached by a leap up
        if bar == end:  # the final itself: its pitch class an octave above home loses too
            finals = cadence.final_pcs(c) or TONIC
            bias[np.isin((midis - c.key.tonic_pc) % 12, list(finals)) & (midis > goal + HOME_REACH)] -= HOME_PULL
    if not bias.any():
        return None
    out = np.zeros(tok.vocab_size, dtype=np.float32)
    out[tok.pitch0: tok.pitch0 + len(midis)] = bias
    return out


def _to_final(st) -> int | None:
    """How many notes of the planned bar rhythm (``decoding.bar_rhythm``) the note at the cursor
    lies before the final (1: it approaches it; 0: it is the final), counted in the last bar and in
    the bar before it when the final starts on the last bar's downbeat; None elsewhere (no plan)."""
    from symphony.decoding import bar_rhythm
    r = bar_rhythm._rhythm(st)
    if r is None or st.copying:
        return None
    ahead = sum(1 for t, x in bar_rhythm._onsets(r) if x > 0 and t >= st.cursor)
    if st.bars_done == st.cons.bars:
        return ahead - 1
    if cadence._pre_final(st) is not None:
        return ahead
    return None


def _degrees_above(key, midi: int, k: int) -> int:
    """MIDI pitch `k` degrees of the key's scale above `midi` (a note of it)."""
    for _ in range(min(k, FALL_NOTES)):
        midi += cadence._step_above(key, (midi - key.tonic_pc) % 12)
    return midi if k <= FALL_NOTES else -1


def _home_bar(st) -> int:
    """The bar whose notes end the piece: the last, or the earlier bar a plan copies into it (an
    Irish tune's second strain ending as its first did: bar 16 repeats bar 8); counted as
    ``bars_done`` counts (a phrase plan's bars after a pickup a bar later, as the sampler copies)."""
    c = st.cons
    shift = cadence.plan_shift(st)
    bar, seen = c.bars - shift, set()
    while c.copy_from and bar in c.copy_from and bar not in seen:
        seen.add(bar)
        bar = c.copy_from[bar]
    return bar + shift


def home(st) -> int | None:
    """The final's pitch a closing tune comes home to in the ``HOME_BARS`` bars that end it (None
    elsewhere; the bars a plan copies into its end are those): the lowest pitch of the final's pitch
    class at most ``HOME_BELOW`` semitones under the tune's lowest note so far, so the tune lies
    above its final as real ones do."""
    c = st.cons
    if not c.closes or not st.heard:
        return None
    end = _home_bar(st)
    if not end - HOME_BARS < st.bars_done <= end:
        return None
    low = min(st.heard) - HOME_BELOW
    return min(low + (pc + c.key.tonic_pc - low) % 12 for pc in cadence.final_pcs(c) or TONIC)


def phrase_start(st) -> bool:
    """The next note opens a phrase: the first of the bar after a phrase end, or one after the
    cadence note of a phrase end that is not held (``Constraints.phrase_marks``)."""
    c, bar = st.cons, st.bars_done - st.pickup
    ends = set(c.phrase_bars or ()) | set(c.phrase_marks or ())
    if bar - 1 in ends and not st.placed:
        return True
    return bar in (c.phrase_marks or {}) and st.cursor > (c.mark_ticks or {}).get(bar, max(c.final_onsets or (0,)))


def _copy_ahead(st) -> int | None:
    """MIDI pitch of the first note of the next bar when the plan repeats an earlier bar there
    (``Constraints.copy_from``, bars of the plan: after a pickup, a bar later), else None."""
    nxt = st.bars_done - st.pickup + 1
    src = (st.cons.copy_from or {}).get(nxt)
    if src is None or st.bars_done >= st.cons.bars:
        return None
    start = (src + st.pickup - 1) * st.bar_ticks
    firsts = [t for t in st.notes_at if start <= t < start + st.bar_ticks]
    return st.notes_at[min(firsts)][0] if firsts else None


def singable(st, ids: np.ndarray) -> np.ndarray:
    """The pitch tokens among `ids` that keep the line singable (see the module's doc); each rule
    gives way where it would leave no pitch. A bar the plan repeats is left as its source is."""
    if not active(st) or not len(ids) or st.copying or st.top_midi < 0:
        return ids
    midis = pitch_midis(st.tok, st.cons.tkey)[ids - st.tok.pitch0]
    last, prev = st.top_midi, st.prev_midi
    move = midis - last
    rules = [(np.abs(move) <= SIXTH) | (np.abs(move) == OCTAVE) | phrase_start(st)]
    if prev >= 0 and abs(last - prev) > FIFTH:  # a wide leap turns back
        rules.append(move * np.sign(last - prev) < 0)
    tail = [m for _, _, m in st.melody[-(SEE_SAW_NOTES + 1):]]
    if len(tail) > SEE_SAW_NOTES and len(set(tail[-SEE_SAW_NOTES:])) == 2 and \
            all(a != b for a, b in zip(tail[-SEE_SAW_NOTES:], tail[-SEE_SAW_NOTES + 1:])):
        rules.append(midis != tail[-2])  # a b a b a b: not a again
    if len(tail) >= SAME_PITCH_NOTES and len(set(tail[-SAME_PITCH_NOTES:])) == 1:
        rules.append(midis != last)
    ahead = _copy_ahead(st)
    if ahead is not None and st.cursor >= st.bar_ticks - st.beat_ticks:  # the bar's last beat leads
        rules.insert(0, np.abs(midis - ahead) <= OCTAVE)  # into the repeated bar after it within an octave
    keep = np.ones(len(ids), dtype=bool)
    for rule in [np.abs(move) <= OCTAVE] + rules:
        if (keep & rule).any():
            keep &= rule
    return ids[keep]


def break_runs(st, ids: np.ndarray) -> np.ndarray:
    """The pitch tokens among `ids` without the two pitches of a run that has lasted
    RUN_HARD_BARS bars; `ids` itself when that would leave none."""
    if not active(st) or not len(ids):
        return ids
    run, ticks = pitch_run(st, 2)
    if not run or ticks < RUN_HARD_BARS * st.bar_ticks:
        return ids
    midis = pitch_midis(st.tok, st.cons.tkey)[ids - st.tok.pitch0]
    keep = ids[~np.isin(midis, list(run))]
    return keep if len(keep) else ids
