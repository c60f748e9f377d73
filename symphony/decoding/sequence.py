"""Sequences in the sampler (issue 17): a bar that restates an earlier bar's figure at another pitch.

The blind panel's most frequent reason for picking ours as machine-made was a middle that wanders
without a motif (15 of 54 pairs); what readers praised in the real tunes was "bars 9-10 form a
clean descending sequence", "a rising dotted sequence (G.A GA, B.c B, A.B AB, c.d c)", "develops
its opening cell". Ours either copied whole bars (the phrase plan's ``copy_from``) or invented new
material bar after bar. Measured (``benchmarks/melody_craft.py``, 60 real tunes per style, 24 of
ours, before this module): bars restating an earlier bar's rhythm and scale-step intervals at
another pitch, celtic 7% real / 1% ours, chinese 2% / 1%, german 7% / 1%; pieces with one 37% / 4%,
13% / 12%, 18% / 8%.

``prior`` leans the top voice's next pitch towards the *interval* (in steps of the key's scale) that
a source bar took at the same tick, so the bar moves as the source moved, from another pitch: an
echo or a sequence, not a copy. ``sampler.GrammarState`` asks it about a one-voice piece with a
phrase plan (``Constraints.shape``). At a bar's second note ``ECHO_RATE`` of the eligible bars
choose to echo (drawn from the tune itself, so a seed gives one tune); the source is the parallel
bar a phrase earlier (``Constraints.parallel``) where its notes so far fall on the same ticks as
ours, else the latest earlier bar that does (the bar-rhythm plan makes many bars replay an earlier
bar's rhythm: a sequence of the bar before, as in bars 9-10), not one whose first note has our
first note's pitch (that would be a literal repeat) nor one mostly on one pitch (``SAME_SHARE``).
Each later note of the bar whose previous note falls where the source's did gains ``ECHO`` on the
pitch that keeps the source's interval.
No lean in a bar the plan copies (``copy_from``) or varies (``vary_from``), in the opening bar,
in a bar that closes a phrase or the piece (``cadence.final_bar``, ``cadence.phrase_mark``: the
cadence rules choose there) nor in the bars that come home (``contour`` HOME_BARS).
"""
from __future__ import annotations

import bisect
import random

import numpy as np

from symphony.decoding import cadence, contour, motif

# Tuned on the benchmark's requests (24-48 a style): ECHO 3.0 in half the eligible bars left most
# bars' echoes unfinished (sequence bars celtic 3%, german 6%); 5.0 in 40% gave celtic 8% (pieces
# with one 46%), german 10% (38%); in 30%, 6% (35%) and 7% (33%); real 7% (37%), 7% (18%). Chinese
# tunes stay at 1% (real 2%) at any of these: few of their bars replay an earlier bar's onsets.
ECHO = 5.0  # logit bonus for the pitch that keeps the source bar's interval at this tick
ECHO_RATE = 0.35  # share of eligible bars that echo a source bar
# A bar mostly on one pitch (A A A B A A A c) is no figure to restate: echoed, it spread one
# repeated-note cell over a polka at three pitches (bars 15, 19, 27 of celtic seed 1003).
SAME_SHARE = 0.5  # the most of a source bar's intervals that may be unisons


def _degree(key, midi: int) -> int:
    """Steps of the key's scale (its heptatonic reference mode) from the tonic's lowest octave."""
    steps = key.degree_semitones()
    rel = midi - key.tonic_pc
    return (rel // 12) * 7 + bisect.bisect_right(steps, rel % 12) - 1


def _bar_notes(st, plan_bar: int) -> list[tuple[int, int]]:
    """(tick in the bar, midi) of the top voice's notes in a bar of the plan, in order."""
    start = (plan_bar + st.pickup - 1) * st.bar_ticks
    return sorted((t - start, m) for t, (m, _) in st.notes_at.items() if start <= t < start + st.bar_ticks)


def eligible(st) -> bool:
    c = st.cons
    bar = st.bars_done - st.pickup
    if not motif.active(st) or st.copying or bar <= 1 or bar >= c.bars - st.pickup:
        return False
    if bar in (c.copy_from or {}) or bar in (c.vary_from or {}):
        return False
    if cadence.final_bar(st) or cadence.phrase_mark(st) is not None:
        return False
    return contour.home(st) is None


def _source(st, ours: list[tuple[int, int]]) -> int | None:
    """The plan bar this bar echoes: the parallel bar, else the latest earlier bar, whose notes fall
    on our notes' ticks so far and on the cursor, from another first pitch."""
    bar = st.bars_done - st.pickup
    ticks = [t for t, _ in ours] + [st.cursor]

    def fits(b: int) -> bool:
        notes = _bar_notes(st, b)
        same = sum(x == y for (_, x), (_, y) in zip(notes, notes[1:]))
        return len(notes) >= len(ticks) and [t for t, _ in notes[:len(ticks)]] == ticks \
            and notes[0][1] != ours[0][1] and same <= (len(notes) - 1) * SAME_SHARE
    par = (st.cons.parallel or {}).get(bar)
    if par is not None and fits(par):
        return par
    return next((b for b in range(bar - 1, 0, -1) if fits(b)), None)


def prior(st) -> np.ndarray | None:
    """A bias over the vocabulary for the top voice's next pitch, or None (see the module's doc)."""
    if not eligible(st):
        return None
    bar = st.bars_done - st.pickup
    ours = _bar_notes(st, bar)
    if not ours:
        return None
    if st.echo is None or st.echo[0] != bar:  # the bar's second note: does it echo, and what?
        draw = random.Random(bar * 1_000_003 + st.pitch_sum * 7 + st.notes_played).random()
        st.echo = (bar, _source(st, ours) if draw < ECHO_RATE else None)
    src = st.echo[1]
    if src is None:
        return None
    theirs = dict(_bar_notes(st, src))
    order = sorted(theirs)
    i = bisect.bisect_left(order, st.cursor)
    if i == 0 or i >= len(order) or order[i] != st.cursor or order[i - 1] != ours[-1][0]:
        return None  # the source has no note here, or its previous note falls elsewhere than ours
    key, tok = st.cons.key, st.tok
    step = _degree(key, theirs[order[i]]) - _degree(key, theirs[order[i - 1]])
    midis = contour.pitch_midis(tok, st.cons.tkey)
    want = _degree(key, ours[-1][1]) + step
    hit = np.array([_degree(key, int(m)) == want for m in midis])
    if not hit.any():
        return None
    out = np.zeros(tok.vocab_size, dtype=np.float32)
    out[tok.pitch0: tok.pitch0 + len(midis)][hit] = ECHO
    return out
