"""Constrained decoding: small masks over the model's next-token choices, and the sampling loop.

The grammar mask is what makes requests hold *by construction*: bars are exactly the meter's
length (no note crosses a barline, and a bar closes only when full or after a rest), the piece
has exactly the requested number of bars, every pitch lies in the requested mode's scale and
range, voices appear in order, and the last note of the outer voices is the tonic.
"""
from __future__ import annotations

import bisect
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from symphony.decoding import cadence as craft
from symphony.decoding import bar_rhythm, contour, motif, sequence
from symphony.errors import Cancelled
from symphony.model.decoder import BatchDecoder, DecoderPool, NumpyDecoder
from symphony.model.tokens import (
    DUR_VALUES,
    MAX_BAR_TICKS,
    N_OCTAVES,
    PITCHES_PER_OCTAVE,
    TICKS_PER_QUARTER,
    Tokenizer,
)
from symphony.music.form import tonic_triad
from symphony.music.harmony import chord_at
from symphony.music.theory import CHARACTERISTIC, MODE_EXTRA_SEMITONES, Key, Meter

DEFAULT_RANGES = {  # (lowest, highest) MIDI pitch per voice count, top voice first
    1: [(57, 88)],
    2: [(57, 84), (40, 67)],
    3: [(57, 81), (48, 72), (40, 64)],
    4: [(60, 81), (53, 74), (48, 69), (40, 62)],
}


@dataclass(frozen=True)
class Anchor:
    """What the top voice does at one position of one bar (``Constraints.anchors``): a note
    starts there, or a rest does. Variation and restyling (symphony/variation.py) give the notes
    they keep, a rhythm, a contour or a tune's skeleton this way; the model chooses the rest."""
    pitches: frozenset[int] | None = None  # allowed MIDI pitches (any, scale or not); None: the mode's scale
    duration: int | None = None  # ticks; None: the model's choice, up to the next anchor
    step: int | None = None  # +1 above, -1 below, 0 the same pitch as the previous anchored note
    rest: int | None = None  # no note: a rest up to this tick of the bar (the bar's length: to its end)


@dataclass
class Constraints:
    key: Key
    meter: Meter
    bars: int
    voices: int = 1
    ranges: list[tuple[int, int]] | None = None  # per voice; None: DEFAULT_RANGES
    end_on_tonic: bool = True
    chromatic: bool = False  # allow notes outside the mode's scale
    chords: list | None = None  # harmony.ChordSpan list: notes starting on a beat are chord tones
    cadence_bars: dict[int, frozenset[int]] | None = None  # bar -> allowed semitones over the tonic
    copy_from: dict[int, int] | None = None  # bar -> earlier bar whose tokens it repeats (form)
    density: float = 0.0  # -1 (long notes) .. 1 (short notes): a bias on the duration choice
    no_crossing: bool = True  # a lower voice never sounds above the voice written above it
    given: dict[int, list[int]] | None = None  # bar -> tokens taken as they are right after its
    # BAR (a voice given by the user: the melody to harmonize); that voice is then closed
    given_voices: dict[tuple[int, int], list[int]] | None = None  # (bar, voice) -> that voice's
    # tokens in that bar, taken as they are once the voice is opened (the parts kept when one
    # part is infilled); the voice is then closed
    pos_bars: frozenset[int] = frozenset()  # bars whose voices start with an explicit Pos (the
    # first bar of an infilled hole: Tokenizer.encode(pos_bars=...) writes them so in training)
    center: float | None = None  # melody register: pitches nearer this MIDI pitch are likelier
    register_band: float = 0.0  # ... but only beyond this many semitones from it (see REGISTER_BAND)
    register_edge: float | None = None  # beyond this many semitones from the centre the pull
    # steepens by REGISTER_EDGE_SLOPE a semitone (an asked-for register, see REGISTER_EDGE)
    modal_emphasis: float = 0.0  # logit bonus for the final, third and fifth on downbeats
    modal_rivals: frozenset[int] = frozenset()  # pitch classes that lose that bonus on downbeats
    # (the tonics a previous attempt was heard in)
    colour: float = 0.0  # logit bonus for the mode's characteristic note (theory.CHARACTERISTIC)
    colour_notes: int = 0  # in the top voice, within the pitch tokens' mass, until it has sounded this often
    step_bias: float = 0.0  # logit bonus for a top-voice note a step (1-2 semitones) from the last one
    repeat_bias: float = 0.0  # ... and for one repeating the last one's pitch (negative: a penalty)
    token_key: Key | None = None  # the key of the header, which numbers the pitch tokens
    # (a mode the model was not trained on is conditioned on its nearest major/minor key)
    anchors: dict[tuple[int, int], Anchor] | None = None  # (bar, tick) -> Anchor for the top
    # voice; free notes before an anchor end by its tick, so it always starts where it is given
    # Melody craft of a one-voice piece (symphony/cadence.py):
    rhythm: frozenset[int] | None = None  # the style's note lengths in ticks (symphony.rhythm)
    final_onsets: tuple[int, ...] | None = None  # ticks of the last bar where a composed final
    # note may start (it lasts to the bar's end, approached by step or from the dominant)
    max_rest: float | None = None  # an inner bar is silent for less than this share of it
    phrase_bars: dict[int, frozenset[int]] | None = None  # phrase ends without a form: bar ->
    # semitones over the tonic of its cadence note (a long note to the barline, as at the final)
    phrase_marks: dict[int, frozenset[int]] | None = None  # phrase ends not held: bar -> semitones
    # over the tonic of the note that starts on its last strong beat
    # Melodic shape of a one-voice piece with a phrase plan (symphony/decoding/contour.py):
    shape: bool = False  # leaps recover by step, no long runs on two pitches
    lift_bars: frozenset[int] = frozenset()  # bars sung higher than the tune so far
    peak_bar: int | None = None  # the bar that reaches the tune's highest note
    variety: int = 0  # distinct pitches a melody is encouraged to reach
    hover_bars: float = 0.0  # bars on three pitches after which they lose contour.HOVER_PENALTY (0: off)
    loop_penalty: float = 0.0  # logit penalty for sounding a 3-note cell again at a shifted place (contour.py)
    fall_to_final: float = 0.0  # logit bonus for the last notes before the final stepping down to it
    # Motif consistency of a one-voice piece with a phrase plan (symphony/decoding/motif.py):
    motif_bars: int = 0  # bars of the opening phrase: later notes reuse its rhythmic figures
    parallel: dict[int, int] | None = None  # bar -> the bar at its place in an earlier phrase (its rhythm leads)
    vary_from: dict[int, int] | None = None  # bar -> the earlier bar whose first half it repeats before changing
    max_short_run: int | None = None  # most notes shorter than an eighth in a row (a jig: 3) ...
    short_share: float = 0.15  # ... the most of the top voice's notes they may be ...
    plain_end_bars: int = 0  # ... and the last bars where none comes (a German song's close)
    leap_to_tonic: bool = True  # the final tonic may be approached from the dominant by a leap
    final_twice: bool = False  # the final is struck twice, as a jig ends ("B A G G2"): the note
    # before it is its own pitch, reached by step (decoding/cadence.py)
    final_shortest: int | None = None  # ticks the final holds to the barline at least (None: a half
    # note in a simple meter, a beat in a compound one); a polka's a quarter, on its second beat
    final_at: dict[int, int] | None = None  # upbeat ticks (0: none) -> the tick of the last bar where
    # the final starts, drawn per piece for the upbeat the tune opens with (a reel's: generate.REEL_FINALS);
    # an upbeat not in it: final_onsets as without
    twice_at: frozenset[int] | None = None  # with final_twice: the upbeats (ticks, 0: none) after which the
    # final is struck twice (a reel's, drawn per upbeat: generate.REEL_TWICE); None: after any
    finals: frozenset[int] | None = None  # without end_on_tonic: semitones over the tonic the final
    # may take (None: any note of the scale)
    closes: bool = True  # the last bar sampled ends the piece (its final cadence); False: an
    # infilled hole with more music after it
    plan_shift: int | None = None  # sampled bars before the phrase plan's bar 1 (an edit's prompt,
    # an infill's cut prefix; may be negative); None: 1 when the first bar opens with a rest, else 0
    breaths: dict[int, int] | None = None  # phrase plan bar -> ticks of rest that open it (a breath
    # between phrases)
    mark_ticks: dict[int, int] | None = None  # phrase plan bar -> the tick its phrase mark's note starts
    # at, where not the last of final_onsets (a phrase end that breathes in its bar: ``BarPlan.tails``)
    upbeat: bool | None = None  # True: the top voice opens after a rest of at least half the first
    # bar (a pickup of at most half a bar); False: on its downbeat; None: as the model writes it
    bar_plan: bar_rhythm.BarPlan | None = None  # the planned rhythm of each bar (one voice, a phrase plan)

    @property
    def tkey(self) -> Key:
        return self.token_key or self.key

    def voice_range(self, v: int) -> tuple[int, int]:
        ranges = self.ranges or DEFAULT_RANGES.get(self.voices) or [(36, 96)] * self.voices
        return ranges[min(v, len(ranges) - 1)]


@dataclass
class GrammarState:
    """Where we are in the piece while decoding the body (after the header)."""
    tok: Tokenizer
    cons: Constraints
    bars_done: int = 0
    voice: int = 0
    cursor: int = 0  # ticks from the start of the bar
    pending: str = ""  # "pos" after Pos (a pitch must follow), "pitch" after a pitch (a duration)
    finished: bool = False
    pitch_rel: int = -1  # semitones over the tonic of the pitch awaiting its duration
    pitch_midi: int = -1
    placed: bool = False  # a note of the current voice was written in this bar
    opened: bool = True  # the current voice was named (pieces of several voices name voice 0 too)
    anchor_midi: int = -1  # pitch of the last note written at an anchor (Anchor.step counts from it)
    top_midi: int = -1  # pitch of the top voice's last note (Constraints.step_bias counts from it)
    bar_ticks: int = field(init=False)
    beat_ticks: int = field(init=False)

    def __post_init__(self):
        self.bar_ticks = round(float(self.cons.meter.bar_quarters) * TICKS_PER_QUARTER)
        self.beat_ticks = round(self.cons.meter.beat_quarters * TICKS_PER_QUARTER)
        if self.bar_ticks > MAX_BAR_TICKS:
            raise ValueError(f"bars of {self.cons.meter} are longer than the tokens support")
        self.sounding: dict[int, list[tuple[int, int, int]]] = {}  # voice -> (start, end, midi), absolute ticks
        self.beat_chords: dict[tuple[int, int], frozenset[int]] = {}
        if self.cons.chords:
            tonic = self.cons.key.tonic_pc
            bar_q = float(self.cons.meter.bar_quarters)
            for b in range(1, self.cons.bars + 1):
                for tick in range(0, self.bar_ticks, self.beat_ticks):
                    ch = chord_at(self.cons.chords, (b - 1) * bar_q + tick / TICKS_PER_QUARTER)
                    if ch is not None:
                        self.beat_chords[(b, tick)] = frozenset((pc - tonic) % 12 for pc in ch.pcs)
        self.anchor_ticks: dict[int, list[int]] = {}  # bar -> its anchored ticks, in order
        self.rest = 0  # ticks of rest so far in this bar of the current voice (Constraints.max_rest)
        self.prev_midi = -1  # the top voice's note before its last one (the final's approach)
        self.pickup = self.cons.plan_shift or 0  # 1 when the first bar opens with a rest (Constraints.phrase_bars
        # count from the next), or the edit's Constraints.plan_shift
        self.upbeat_ticks = 0  # the opening rest's complement: the upbeat that leads into each section of a form
        # the top voice's recent notes (start, end, midi; absolute ticks), its highest pitch, the
        # highest before this bar and the sum and count of its pitches (symphony/decoding/contour.py)
        self.melody: list[tuple[int, int, int]] = []
        self.top_high = self.high_before_bar = -1
        self.pitch_sum, self.pitch_count = 0, 0
        self.heard: set[int] = set()  # every pitch the top voice has sounded
        # its notes by onset, rhythmic figures and degrees' inflections (symphony/decoding/motif.py)
        self.notes_at: dict[int, tuple[int, int]] = {}  # absolute tick -> (midi, ticks)
        self.figures: dict[tuple[int, int], int] = {}  # (onset in the beat, ticks) -> notes so far
        self.inflections: dict[int, tuple[int, int]] = {}  # waiting inflection -> (the one sounded, its tick)
        self.short_run, self.short_end = 0, -1  # notes shorter than an eighth in a row, and where they end
        self.notes_played = self.short_played = 0  # the top voice's notes, and those shorter than an eighth
        self.copying = False  # the sampler is repeating a bar the plan brings back
        self.rhythm_off = -1  # the bar that gave its planned rhythm up (Constraints.bar_plan)
        self.pairs = motif.inflection_pairs(self.cons.key)
        self.echo: tuple[int, int | None] | None = None  # (bar, the bar it echoes or None) (decoding/sequence.py)
        for b, tick in sorted(self.cons.anchors or ()):
            self.anchor_ticks.setdefault(b, []).append(tick)

    # ---------------------------------------------------------------- choices
    def allowed(self) -> np.ndarray:
        t, c = self.tok, self.cons
        if self.finished:
            return _ids((t.eos,))
        if self.bars_done == 0:
            return _ids((t.bar,))
        if not self.opened:  # as in the training data: BAR Voice_0 ... Voice_1 ...
            return _ids((t.voice0,))
        if self.pending == "pitch":
            anchor = self._anchor()
            if anchor is not None and anchor.duration is not None:  # a given length
                return _ids((t.dur_token(anchor.duration),))
            # the style's lengths and the final cadence, its share of notes shorter than an eighth
            # (a jig's run of eighths), then among those the tune's own figures
            crafted = craft.note_lengths(self)
            planned = bar_rhythm.lengths(self, crafted, self.bar_ticks)  # the bar's planned rhythm
            if planned is not None:
                return planned
            crafted = motif.filter_lengths(self, motif.limit_short_run(self, crafted),
                                           crafted if motif.short_ok(self, share_only=True) else None)
            if crafted is not None:
                return crafted
            end = self._next_anchor(self.cursor + 1)  # the bar's end, or the next anchor
            cadence = self._cadence()
            if cadence is not None and self.pitch_rel not in cadence:
                end = min(end, self._cadence_end() - self.beat_ticks)  # leave the last beat to the cadence note
            if self._checks_crossing():  # stop before a voice above goes below this note
                here = self.abs_tick(self.cursor)
                for u in range(self.voice):
                    for start, _, midi in self.sounding.get(u, ()):
                        if start > here and midi < self.pitch_midi:
                            end = min(end, start - self.abs_tick(0))
                            break
            return motif.limit_short_run(self, _dur_ids(t.dur1, max(1, min(end - self.cursor, MAX_BAR_TICKS))))
        if self.pending == "pos":
            return self._pitches()
        choices: list[np.ndarray] = []
        last_bar = self.bars_done == c.bars
        anchor = self._anchor()
        if anchor is not None and anchor.rest is not None and anchor.rest < self.bar_ticks:
            return _ids((t.pos0 + anchor.rest,))  # a given rest: the next note starts there
        breath = (c.breaths or {}).get(self.bars_done - self.pickup)
        if breath and self.voice == 0 and self.cursor == 0 and not self.placed and not c.anchors:
            return _ids((t.pos0 + breath,))  # a breath between phrases
        open_bar = self.cursor < self.bar_ticks and (anchor is None or anchor.rest is None)
        pos_end = min(self.bar_ticks, self._next_anchor(self.cursor) + 1)  # no Pos past an anchor
        seam = self.bars_done in (c.pos_bars or ()) and self.cursor == 0 and not self.placed
        opening = open_bar and c.upbeat is not None and self.bars_done == 1 and self.voice == 0 \
            and self.cursor == 0 and not self.placed and pos_end > self.bar_ticks // 2 + 1
        if opening and c.upbeat:  # a pickup: the first note after a rest of half the bar or more
            choices.append(_range_ids(t.pos0 + self.bar_ticks // 2, t.pos0 + pos_end))
        elif opening:
            choices.append(_ids((t.pos0,)) if t.config.pos_every_note or seam else self._pitches())
        elif open_bar and (t.config.pos_every_note or seam):  # a Pos before every note / this one
            choices.append(_range_ids(t.pos0 + self.cursor, t.pos0 + pos_end))
        elif open_bar:
            pitches, rests = self._pitches(), None
            if self.cursor + 1 < pos_end:
                rests = motif.filter_rests(self, craft.filter_rests(self, _range_ids(t.pos0 + self.cursor + 1,
                                                                                     t.pos0 + pos_end)))
            planned = bar_rhythm.choices(self, pitches, rests)  # a note or a rest, as the bar's rhythm has it
            if planned is not None:
                choices.append(planned)
            else:
                choices.append(pitches)
                if rests is not None and len(rests) and not bar_rhythm.planned_rests_only(self, craft.final_bar(self)):
                    choices.append(rests)
        # A voice closes its bar only when the bar is full. Rests at bar ends are rare in the
        # corpus (1-5% of bars) and the model, which sees positions only through durations,
        # tends to close bars too early; rests inside a bar remain possible through Pos tokens.
        full = not open_bar  # full, or a given rest to its end
        if full:
            if c.voices > 1 and self.voice < c.voices - 1:
                choices.append(_ids((t.voice0 + self.voice + 1,)))
            elif not last_bar:
                choices.append(_ids((t.bar,)))
            else:
                choices.append(_ids((t.eos,)))
        return np.concatenate(choices) if len(choices) > 1 else choices[0]

    def abs_tick(self, cursor: int) -> int:
        return (self.bars_done - 1) * self.bar_ticks + cursor

    def _checks_crossing(self) -> bool:
        return self.cons.no_crossing and self.cons.voices > 1 and self.voice > 0

    def _pitches(self) -> np.ndarray:
        c = self.cons
        lo, hi = c.voice_range(self.voice)
        if self._checks_crossing():  # at most the pitch of the voice above, sounding here
            here = self.abs_tick(self.cursor)
            above = [m for u in range(self.voice) for start, end, m in self.sounding.get(u, ()) if start <= here < end]
            if above and min(above) >= lo + 2:
                hi = min(hi, min(above))
        allowed = None  # None: the mode's scale
        cadence = self._cadence()
        if cadence is not None and self._cadence_end() - self.beat_ticks <= self.cursor < self._cadence_end():
            allowed = cadence
        chord = self.beat_chords.get((self.bars_done, self.cursor))
        if chord is not None:  # a note on a beat is a tone of the chord sounding there
            allowed = (chord & allowed) or chord if allowed is not None else chord
        anchor = self._anchor()
        if anchor is not None and (anchor.pitches is not None or anchor.step is not None):
            fits = sorted(anchor.pitches or ())
            if anchor.step is not None and self.anchor_midi >= 0:  # above, below or the same
                p = self.anchor_midi
                lo, hi = (p + 1, max(hi, p + 4)) if anchor.step > 0 else (min(lo, p - 4), p - 1) \
                    if anchor.step < 0 else (p, p)
                allowed = frozenset({(p - c.key.tonic_pc) % 12}) if anchor.step == 0 else allowed
                fits = [m for m in fits if lo <= m <= hi]  # given pitches that move that way
            if fits:
                return np.array(sorted({self.tok.pitch_token(m, c.tkey) for m in fits}), dtype=np.int64)
        ids = _pitch_ids(self.tok, c.key, c.tkey, lo, hi, c.chromatic, allowed)
        if self._checks_crossing():
            bad = self._parallels(lo, hi)
            if bad:
                kept = np.setdiff1d(ids, np.array([self.tok.pitch_token(m, c.tkey) for m in bad]))
                if len(kept):
                    ids = kept
        ids = craft.filter_planned_pitches(self, craft.filter_pitches(self, ids))
        return contour.singable(self, contour.break_runs(self, motif.filter_pitches(self, ids)))

    def _anchor(self) -> Anchor | None:
        """The anchor at the cursor (anchors are for the top voice)."""
        if not self.cons.anchors or self.voice:
            return None
        return self.cons.anchors.get((self.bars_done, self.cursor))

    def _next_anchor(self, frm: int) -> int:
        """The first anchored tick at or after `frm` in this bar of the top voice; else the bar's end."""
        ticks = self.anchor_ticks.get(self.bars_done) if not self.voice else None
        i = bisect.bisect_left(ticks, frm) if ticks else 0
        return ticks[i] if ticks and i < len(ticks) else self.bar_ticks

    def _sounding(self, voice: int, at: int) -> int | None:
        for start, end, m in reversed(self.sounding.get(voice, ())):
            if start <= at < end:
                return m
        return None

    def _parallels(self, lo: int, hi: int) -> set[int]:
        """Pitches for this voice that would move in parallel fifths or octaves (unisons) with
        a voice above that moves at the same moment."""
        here = self.abs_tick(self.cursor)
        prev = self._sounding(self.voice, here - 1)
        if prev is None:
            return set()
        bad = set()
        for u in range(self.voice):
            now_u, prev_u = self._sounding(u, here), self._sounding(u, here - 1)
            if now_u is None or prev_u is None or now_u == prev_u:
                continue
            interval = (prev_u - prev) % 12
            if interval not in (0, 7):
                continue
            up = now_u > prev_u
            for m in range(lo, hi + 1):
                if m != prev and (now_u - m) % 12 == interval and (m > prev) == up:
                    bad.add(m)
        return bad

    def _cadence(self) -> frozenset[int] | None:
        """Semitones over the tonic allowed for the last beat of this bar in this voice, if the
        bar ends a phrase: the melody at every section end of a form, the outer voices (tonic)
        at the end of the piece."""
        c = self.cons
        if craft.final_bar(self):  # the composed final cadence takes the last bar
            return None
        if c.cadence_bars and self.voice == 0 and self.bars_done in c.cadence_bars:
            return c.cadence_bars[self.bars_done]
        if c.end_on_tonic and self.bars_done == c.bars and self.voice in (0, c.voices - 1):
            return _TONIC
        return None

    def _cadence_end(self) -> int:
        """Where the cadence note's beat ends (ticks into the bar): the bar's end, or in a form
        that opens with an upbeat where that upbeat begins, since the rest of a section's last
        bar becomes the upbeat into the next section (music.pickup.upbeat_before_sections)."""
        c = self.cons
        if c.upbeat and c.cadence_bars and self.bars_done in c.cadence_bars \
                and 0 < self.upbeat_ticks <= self.bar_ticks - self.beat_ticks:
            return self.bar_ticks - self.upbeat_ticks
        return self.bar_ticks

    def close_voice(self) -> None:
        """The current voice's bar is complete (its notes were given, not sampled)."""
        self.cursor, self.pending = max(self.cursor, self.bar_ticks), ""

    # ---------------------------------------------------------------- transitions
    def step(self, token: int) -> None:
        t = self.tok
        if token == t.eos:
            self.finished = True
        elif token == t.bar:
            self.bars_done += 1
            self.voice, self.cursor, self.pending = 0, 0, ""
            self.opened = self.cons.voices == 1
            self.placed = False
            self.rest = 0
            self.high_before_bar = self.top_high
            if self.sounding:  # forget notes that ended before the previous bar
                keep = self.abs_tick(0) - self.bar_ticks
                self.sounding = {v: [x for x in ns if x[1] > keep] for v, ns in self.sounding.items()}
        elif t.voice0 <= token < t.voice0 + 8:
            self.voice, self.cursor, self.pending = token - t.voice0, 0, ""
            self.opened = True
            self.placed = False
            self.rest = 0
        elif t.is_pos(token):
            self.rest += max(0, token - t.pos0 - self.cursor)
            if self.bars_done == 1 and self.voice == 0 and not self.placed and token > t.pos0 \
                    and self.cons.plan_shift is None:
                self.pickup = 1
                self.upbeat_ticks = self.bar_ticks - (token - t.pos0)
            self.cursor, self.pending = token - t.pos0, "pos"
        elif t.is_pitch(token):
            self.pending = "pitch"
            self.pitch_midi = t.pitch_of(token, self.cons.tkey)
            self.pitch_rel = (self.pitch_midi - self.cons.key.tonic_pc) % 12
            if self._anchor() is not None:
                self.anchor_midi = self.pitch_midi
            if self.voice == 0:
                self.prev_midi, self.top_midi = self.top_midi, self.pitch_midi
        elif t.is_dur(token):
            self.placed = True
            d = t.dur_of(token)
            if self.cons.voices > 1 and self.pending == "pitch":
                start = self.abs_tick(self.cursor)
                self.sounding.setdefault(self.voice, []).append((start, start + d, self.pitch_midi))
            if self.cons.shape and self.voice == 0 and self.pending == "pitch":
                self._remember(d)
            self.cursor += d
            self.pending = ""


    def _remember(self, d: int) -> None:
        """Keep the top voice's note of `d` ticks just written (Constraints.shape)."""
        start = self.abs_tick(self.cursor)
        self.melody.append((start, start + d, self.pitch_midi))
        del self.melody[:-contour.MELODY_MEMORY]
        self.top_high = max(self.top_high, self.pitch_midi)
        self.heard.add(self.pitch_midi)
        motif.remember(self, self.pitch_midi, start, d)
        self.pitch_sum += self.pitch_midi
        self.pitch_count += 1


@lru_cache(maxsize=4096)
def _ids(ids: tuple[int, ...]) -> np.ndarray:
    return np.array(ids, dtype=np.int64)


@lru_cache(maxsize=4096)
def _range_ids(lo: int, hi: int) -> np.ndarray:
    return np.arange(lo, hi, dtype=np.int64)


@lru_cache(maxsize=512)
def _dur_ids(dur1: int, max_ticks: int) -> np.ndarray:
    return np.arange(dur1, dur1 + max(1, max_ticks), dtype=np.int64)


# Minor keys also use the raised sixth and seventh of melodic and harmonic minor: the leading
# note is what makes a minor tune sound (and analyse) as minor rather than its relative major.


_TONIC = frozenset({0})


@lru_cache(maxsize=4096)
def _pitch_ids(tok: Tokenizer, key: Key, token_key: Key, lo: int, hi: int, chromatic: bool,
               allowed: frozenset[int] | None = None) -> np.ndarray:
    """Pitch tokens (numbered in `token_key`) in [lo, hi] of the key's scale, or of the given
    semitones over the tonic (chord tones, cadence notes), which may lie outside the scale."""
    scale = set(key.scale_semitones()) | set(MODE_EXTRA_SEMITONES.get(key.mode, ()))
    out = []
    for midi in range(lo, hi + 1):
        rel = (midi - key.tonic_pc) % 12
        if allowed is not None:
            if rel not in allowed:
                continue
        elif not chromatic and rel not in scale:
            continue
        if (midi - key.tonic_pc) // 12 >= N_OCTAVES or midi < key.tonic_pc:
            continue
        out.append(tok.pitch_token(midi, token_key))
    if not out:  # the range holds none of them: fall back to the whole scale in range
        if allowed is None:
            raise ValueError(f"no note of {key} lies between MIDI {lo} and {hi}")
        return _pitch_ids(tok, key, token_key, lo, hi, chromatic, None)
    return np.array(sorted(set(out)), dtype=np.int64)


def choose(logits: np.ndarray, ids: np.ndarray, temperature: float, top_p: float,
           rng: np.random.Generator) -> int:
    """Sample one token among the allowed `ids` from 1-D logits with temperature and top-p."""
    if len(ids) == 1:
        return int(ids[0])
    sub = logits[ids].astype(np.float64)
    if temperature <= 0:
        return int(ids[int(sub.argmax())])
    sub = (sub - sub.max()) / temperature
    probs = np.exp(sub)
    probs /= probs.sum()
    if top_p < 1.0:
        order = np.argsort(-probs, kind="stable")
        sorted_p = probs[order]
        keep = np.cumsum(sorted_p) - sorted_p < top_p
        order, sorted_p = order[keep], sorted_p[keep]
        i = order[int(np.searchsorted(np.cumsum(sorted_p), rng.random() * sorted_p.sum(), side="right").clip(0, len(order) - 1))]
    else:
        i = int(np.searchsorted(np.cumsum(probs), rng.random(), side="right").clip(0, len(probs) - 1))
    return int(ids[i])


@lru_cache(maxsize=8)
def _duration_bias(tok: Tokenizer) -> np.ndarray:
    """-log2(duration in quarters) on duration tokens, 0 elsewhere: added to the logits times
    the density, it makes short notes likelier (density > 0) or long ones (density < 0)."""
    bias = np.zeros(tok.vocab_size, dtype=np.float32)
    for i, d in enumerate(DUR_VALUES):
        bias[tok.dur1 + i] = -np.log2(d / TICKS_PER_QUARTER)
    return bias


# Note lengths are drawn from the model's whole distribution (top-p 1), pitches with the caller's
# top-p (0.95 by default). Nucleus truncation keeps a wrong note out of a melody, but on lengths it
# only cut the rare, valid rhythms (triplets, dotted notes, sixteenths) and left tunes rhythmically
# uniform: generated celtic tunes held 62% eighth notes against the real 54% and almost no
# triplets; a real-vs-generated classifier leaned on it (benchmarks/NOTES.md, 2026-12-05).
DURATION_TOP_P = 1.0
DENSITY_SCALE = 1.5  # logit change per halving of a note's length at density 1
REGISTER_SLOPE = 0.1  # logit penalty per semitone between a melody note and the register centre
# A pull that only starts REGISTER_BAND semitones from the centre leaves every pitch class one
# unpenalised note, so it cannot reweight the scale degrees; the full pull can (D major jigs
# pulled upwards were heard as B minor). Generation falls back to it when the key is not heard.
REGISTER_BAND = 6.0
# An asked-for register (the emotion's) also steepens the pull beyond REGISTER_EDGE semitones:
# inside that band every pitch class keeps notes under the gentle slope only, so the key is not
# reweighted, while tunes that would sit far above or below the centre are drawn back. 4 made
# the register follow valence more steeply but squeezed celtic tunes (whose real range is about
# 19 semitones) into German-sounding ones: mood prompts heard in their style 24/36 against 32/36
# at 8 (benchmarks/NOTES.md).
REGISTER_EDGE, REGISTER_EDGE_SLOPE = 8.0, 0.3


def _pitch_bias(tok: Tokenizer, cons: Constraints) -> tuple[np.ndarray | None, np.ndarray | None,
                                                             np.ndarray | None]:
    """(register bias for melody pitches, modal emphasis for downbeat pitches, the mode's colour
    note) over the vocabulary."""
    reg = emph = colour = None
    pitch_ids = np.arange(tok.pitch0, tok.pitch0 + N_OCTAVES * PITCHES_PER_OCTAVE)
    if cons.center is not None:
        reg = np.zeros(tok.vocab_size, dtype=np.float32)
        dist = np.array([abs(tok.pitch_of(int(i), cons.tkey) - cons.center) for i in pitch_ids])
        reg[pitch_ids] = -REGISTER_SLOPE * np.maximum(0.0, dist - cons.register_band)
        if cons.register_edge is not None:
            reg[pitch_ids] -= REGISTER_EDGE_SLOPE * np.maximum(0.0, dist - max(cons.register_edge, cons.register_band))
    if cons.modal_emphasis:
        triad = tonic_triad(cons.key)
        emph = np.zeros(tok.vocab_size, dtype=np.float32)
        for i in pitch_ids:
            pc = tok.pitch_of(int(i), cons.tkey) % 12
            if (pc - cons.key.tonic_pc) % 12 in triad:
                emph[i] = cons.modal_emphasis
            elif pc in cons.modal_rivals:
                emph[i] = -cons.modal_emphasis
    if cons.colour and cons.key.mode in CHARACTERISTIC:
        colour = np.zeros(tok.vocab_size, dtype=np.float32)
        for i in pitch_ids:
            if (tok.pitch_of(int(i), cons.tkey) - cons.key.tonic_pc) % 12 == CHARACTERISTIC[cons.key.mode]:
                colour[i] = cons.colour
    return reg, emph, colour


@lru_cache(maxsize=256)
def _step_bias(tok: Tokenizer, token_key: Key, last: int, step: float, repeat: float = 0.0) -> np.ndarray:
    """`step` on the pitch tokens a semitone or a whole tone from MIDI pitch `last`, `repeat` on
    the token of `last` itself."""
    bias = np.zeros(tok.vocab_size, dtype=np.float32)
    for i in range(tok.pitch0, tok.pitch0 + N_OCTAVES * PITCHES_PER_OCTAVE):
        d = abs(tok.pitch_of(i, token_key) - last)
        bias[i] = step if 1 <= d <= 2 else repeat if d == 0 else 0.0
    return bias


def _reweight_pitches(tok: Tokenizer, logits: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """`logits` with `bias` added to the pitch tokens, shifted so that the pitch tokens keep their
    total probability: a prior on which note comes next, not on whether a note comes (rather than
    a rest, a barline or another voice), so it leaves the rhythm alone."""
    sl = slice(tok.pitch0, tok.pitch0 + N_OCTAVES * PITCHES_PER_OCTAVE)
    lp = logits[sl]
    ok = np.isfinite(lp)
    if not ok.any():
        return logits
    m = lp[ok].max()
    w = np.exp(lp[ok] - m)
    shift = np.log((w * np.exp(bias[sl][ok])).sum() / w.sum())
    out = logits.copy()
    out[sl] = lp + bias[sl] - shift
    return out


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max()
    return x - np.log(np.exp(x).sum())


@dataclass
class Hooks:
    """What a caller can watch and steer while a sample is drawn. ``cancel`` (a threading.Event)
    is checked before every token: once set, sampling stops with ``Cancelled``. ``on_bar`` is
    called with (bars finished, tokens so far) of the first draw each time it finishes a bar
    (and at its end), so a caller can stream the music bar by bar."""
    cancel: threading.Event | None = None
    on_bar: Callable[[int, list[int]], None] | None = None


def sample(decoders: DecoderPool, tok: Tokenizer, prompt: list[int], cons: Constraints,
           seed: int = 0, temperature: float = 1.0, top_p: float = 0.95,
           max_tokens: int = 200_000, blend: list[tuple[list[int], float]] | None = None,
           insert: list[int] | None = None, logp: list[float] | None = None,
           plain_durations: bool = False, hooks: Hooks | None = None) -> list[int]:
    """Continue `prompt` (a header, possibly with a body) under the constraints until EOS.
    ``top_p`` truncates every choice but a note's length (``DURATION_TOP_P``).

    ``blend`` fuses styles: [(header, weight), ...] with the weights summing to 1; the next
    token is drawn from the weighted geometric mean of the distributions the model predicts
    under each header (a product of experts), all reading the same music. ``cons.copy_from``
    repeats earlier bars token by token (phrase form); a copied token the constraints do not
    allow where it lands ends the copy of that bar, and the model composes the rest.

    ``insert`` is read by the model right after the prompt but is not part of the piece (the
    grammar does not see it, the result does not hold it): the ``Hole_n suffix Fill`` of
    infilling (symphony/infill.py), so the bars sampled after the prompt fill the hole.

    ``logp``, if given, receives the model's log-probability (before any constraint) of every
    token appended after the prompt. ``plain_durations`` draws note lengths from the first
    header alone (style guidance: guided rhythm made calm celtic tunes busy).

    ``decoders`` hands this call a KV cache of its own (``DecoderPool.acquire``), so samples
    drawn in several threads at once do not disturb each other; ``hooks`` streams and cancels."""
    return sample_many(decoders, tok, prompt, cons, [seed], temperature, top_p, max_tokens, blend, insert,
                       None if logp is None else [logp], plain_durations, hooks)[0]


def sample_many(decoders: DecoderPool, tok: Tokenizer, prompt: list[int], cons: Constraints,
                seeds: list[int], temperature: float = 1.0, top_p: float = 0.95,
                max_tokens: int = 200_000, blend: list[tuple[list[int], float]] | None = None,
                insert: list[int] | None = None, logps: list[list[float]] | None = None,
                plain_durations: bool = False, hooks: Hooks | None = None) -> list[list[int]]:
    """One sample per seed, as `sample` draws it, all decoded in one batch (the candidates of an
    infill). Decoding runs with one BLAS thread: its matrices are a few rows tall, and
    OpenBLAS's threads cost more than they give there (a batched step ran 3x slower with two
    threads on a busy 2-core machine)."""
    from threadpoolctl import threadpool_limits
    n_rows = len(seeds) * (len(blend) if blend else 1)
    with threadpool_limits(limits=1, user_api="blas"), decoders.acquire(n_rows) as dec:
        return _sample_many(dec, decoders.block_size, tok, prompt, cons, list(seeds), temperature, top_p,
                            max_tokens, blend, insert, logps, plain_durations, hooks or Hooks())


COPY_LOG: list | None = None  # (benchmarks.copy_losses) where planned copies end: set to a list, it collects
# ("abandoned", bar, tick, tokens left, pending) and ("notcopyable", bar, source)


@dataclass
class _Draw:
    """One sample in the making: its grammar state, random stream and tokens so far."""
    state: GrammarState
    rng: np.random.Generator
    seq: list[int]
    logp: list[float] | None
    bar_start: dict[int, int] = field(default_factory=dict)  # bar -> index in seq of its first body token
    forced: list[int] = field(default_factory=list)  # tokens of a repeated bar still to copy
    given: list[int] = field(default_factory=list)  # the user's tokens still to take as they are
    colour_left: int = 0  # characteristic notes of the mode still to encourage (Constraints.colour_notes)
    done: bool = False


def _sample_many(dec, block, tok, prompt, cons, seeds, temperature, top_p, max_tokens, blend, insert, logps,
                 plain_durations, hooks: Hooks) -> list[list[int]]:
    headers = [(prompt[: tok.HEADER_LEN], 1.0)] if not blend else [(list(h), float(w)) for h, w in blend]
    nh, n_prompt = len(headers), len(prompt)
    register, emphasis, colour = _pitch_bias(tok, cons)
    draws = []
    for i, seed in enumerate(seeds):
        state = GrammarState(tok, cons)
        for t in prompt[tok.HEADER_LEN:]:
            state.step(t)
        if insert is not None and state.bars_done:  # the bars before a hole are given whole, as
            state.close_voice()  # long as their meter makes them (a 2/4 bar before a 3/4 hole)
        draws.append(_Draw(state, np.random.default_rng(seed), list(prompt), logps[i] if logps else None,
                           colour_left=cons.colour_notes if colour is not None else 0))
    # one decoder; rows are (draw, header) pairs, draw-major, when there are several
    single = len(draws) * nh == 1

    def rows_of(seq: list[int]) -> list[list[int]]:
        """What (re)fills the cache of one draw, per header."""
        if insert is None:
            return [_prime_tokens(h + seq[tok.HEADER_LEN:], h, block, tok.bar) for h, _ in headers]
        return [_prime_fill_tokens(h, seq[tok.HEADER_LEN:n_prompt], insert, seq[n_prompt:], block, tok.bar)
                for h, _ in headers]

    first = _forward_memo(dec, rows_of(prompt), len(draws))  # every draw starts from the prompt
    logits = [list(first) for _ in draws]
    bias = _duration_bias(tok) * (DENSITY_SCALE * cons.density) if cons.density else None
    while True:
        if hooks.cancel is not None and hooks.cancel.is_set():
            raise Cancelled("cancelled")
        tokens = np.full(len(draws), tok.eos, dtype=np.int64)
        for i, d in enumerate(draws):
            if not d.done:
                tokens[i] = _draw_token(d, logits[i], headers, cons, tok, temperature, top_p, plain_durations,
                                        bias, register, emphasis, colour)
                d.done = tokens[i] == tok.eos or len(d.seq) >= max_tokens
        if hooks.on_bar is not None and (tokens[0] == tok.bar or tokens[0] == tok.eos):
            hooks.on_bar(draws[0].state.bars_done - (tokens[0] == tok.bar), draws[0].seq)
        live = [i for i, d in enumerate(draws) if not d.done]
        if not live:
            break
        if single:
            d = draws[0]
            logits = [list(_forward_memo(dec, rows_of(d.seq), 1)) if dec.length >= block else [dec.step(int(tokens[0]))]]
            continue
        refill = {i: dec.fill(i * nh, rows_of(draws[i].seq)) for i in live if dec.lengths[i * nh] >= block}
        advance = np.repeat([i in live and i not in refill for i in range(len(draws))], nh)
        out = dec.step(np.repeat(tokens, nh), advance)
        for i in live:
            logits[i] = list(refill[i]) if i in refill else list(out[i * nh:(i + 1) * nh])
    return [d.seq for d in draws]


def _draw_token(d: _Draw, logits: list[np.ndarray], headers, cons: Constraints, tok: Tokenizer, temperature: float,
                top_p: float, plain_durations: bool, bias, register, emphasis, colour) -> int:
    """The next token of one draw, appended to it (and the bookkeeping of forms and given parts)."""
    state = d.state
    if len(headers) == 1 or (plain_durations and state.pending == "pitch"):
        mixed = logits[0]  # (style guidance leaves the rhythm to the requested style alone)
    else:
        mixed = sum(w * _log_softmax(lg) for lg, (_, w) in zip(logits, headers))
    if state.pending == "pitch":
        if bias is not None:
            mixed = mixed + bias
        rhyme = motif.rhythm_prior(state)  # the parallel bar's rhythm
        if rhyme is not None:
            mixed = mixed + rhyme
    elif state.voice == 0 and state.pending != "pitch":
        if register is not None:
            mixed = mixed + register
        if emphasis is not None and state.cursor == 0:
            mixed = mixed + emphasis
        prior = colour if d.colour_left > 0 else None
        if (cons.step_bias or cons.repeat_bias) and state.top_midi >= 0:
            motion = _step_bias(tok, cons.tkey, state.top_midi, cons.step_bias, cons.repeat_bias)
            prior = motion if prior is None else prior + motion
        shape = contour.prior(state)  # leaps that recover, no circling, register and high point
        if shape is not None:
            prior = shape if prior is None else prior + shape
        echo = sequence.prior(state)  # an earlier bar's intervals at another pitch
        if echo is not None:
            prior = echo if prior is None else prior + echo
        if prior is not None:
            mixed = _reweight_pitches(tok, mixed, prior)
    if d.given:  # the user's notes are taken as they are
        t = d.given.pop(0)
    else:
        state.copying = bool(d.forced)  # a bar the plan repeats keeps its rhythm (motif.limit_short_run)
        allowed = state.allowed()
        if d.forced and d.forced[0] in allowed:
            t = d.forced.pop(0)
        else:
            if d.forced and COPY_LOG is not None:
                COPY_LOG.append(("abandoned", state.bars_done, state.cursor, len(d.forced), state.pending))
            d.forced = []
            t = choose(mixed, allowed, temperature, DURATION_TOP_P if state.pending == "pitch" else top_p, d.rng)
    if d.logp is not None:
        d.logp.append(float(_log_softmax(logits[0])[t]))
    seq = d.seq
    if d.colour_left and state.voice == 0 and colour[t] > 0:  # the colour note sounded
        d.colour_left -= 1
    seq.append(t)
    state.step(t)
    if t == tok.eos:
        return t
    if t == tok.bar:
        b = state.bars_done
        d.bar_start[b] = len(seq)
        # a phrase plan counts its bars from the first full bar: after a pickup, a bar later
        shift = craft.plan_shift(state)
        src = (cons.copy_from or {}).get(b - shift)
        src = None if src is None else src + shift
        if shift and b == cons.bars and cons.closes and src is not None \
                and src - shift not in {**(cons.phrase_bars or {}), **(cons.phrase_marks or {})}:
            src = None  # (after a pickup the plan's last bars shift onto the final: it is composed,
            # or repeats a tonic close, a refrain, as far as the final's rules allow)
        if src is not None and src in d.bar_start and src + 1 in d.bar_start:
            d.forced = seq[d.bar_start[src]: d.bar_start[src + 1] - 1]
            if src == 1 and state.pickup:
                d.forced = []  # no plan (a form's or a borrowed one) copies the pickup bar into the tune
            elif cons.max_rest is not None and cons.cadence_bars is None \
                    and not craft.copyable(tok, d.forced, state.bar_ticks, src == 1):
                d.forced = []  # a borrowed plan (no form) does not repeat a mostly silent bar or a pickup
                if COPY_LOG is not None:
                    COPY_LOG.append(("notcopyable", b, src))
        vsrc = (cons.vary_from or {}).get(b - state.pickup)
        if vsrc is not None and not d.forced:
            vsrc += state.pickup  # a varied return: the source bar's first half, then the model's own
            if vsrc in d.bar_start and vsrc + 1 in d.bar_start:
                d.forced = motif.head_tokens(tok, seq[d.bar_start[vsrc]: d.bar_start[vsrc + 1] - 1], state.bar_ticks // 2)
        if cons.given and b in cons.given:
            d.given = list(cons.given[b])
    elif cons.given and not d.given and state.bars_done in cons.given and state.voice == 0:
        state.close_voice()
    if cons.given_voices and state.opened and state.cursor == 0 and state.pending == "" \
            and (t == tok.bar or tok.voice0 <= t < tok.voice0 + 8):
        kept = cons.given_voices.get((state.bars_done, state.voice))
        if kept is not None:
            d.given = list(kept)
            if not d.given:
                state.close_voice()
    elif cons.given_voices and not d.given and (state.bars_done, state.voice) in cons.given_voices:
        state.close_voice()
    return t


def _prime_fill_tokens(header: list[int], before: list[int], insert: list[int],
                       after: list[int], block: int, bar: int) -> list[int]:
    """What refills the cache for infilling: header, the bars before the hole, the inserted
    ``Hole_n suffix Fill`` and the bars sampled so far. Once that is too long, whole bars are
    dropped from the front of the prefix, then of the sampled bars, then from the suffix's end."""
    def bars_of(x):
        return [i for i, t in enumerate(x) if t == bar] + [len(x)]
    limit = (3 * block) // 4
    before, after, insert = list(before), list(after), list(insert)
    while len(header) + len(before) + len(insert) + len(after) > limit:
        if len(bars_of(before)) > 2:
            before = before[bars_of(before)[1]:]
        elif before:
            before = []
        elif len(bars_of(after)) > 2:
            after = after[bars_of(after)[1]:]
        else:
            cut = [i for i, t in enumerate(insert[:-1]) if t == bar]
            if len(cut) > 1:  # Hole_n BAR ... BAR ... Fill: drop the suffix's last bar
                insert = insert[:cut[-1]] + insert[-1:]
            else:
                break
    return header + before + insert + after


def _forward_memo(dec: NumpyDecoder, rows: list[list[int]], copies: int) -> np.ndarray:
    """Reset the decoder and fill it with `rows` (one per header), `copies` times over (one block
    of rows per draw); returns the logits after each row, (n, V). A decoder filled the same way
    as last time (the attempts or candidates drawn one after another for one request) restores
    its saved cache instead."""
    key = (tuple(map(tuple, rows)), copies)
    memo = dec.memo
    if memo is not None and memo[0] == key:
        dec.restore(memo[1])
        return memo[2].copy()
    dec.reset()
    if isinstance(dec, BatchDecoder):
        logits = dec.fill(0, rows, copies)
    else:
        logits = dec.forward(rows[0])[None]
    dec.memo = (key, dec.snapshot(), logits.copy())
    return logits


def _prime_tokens(seq: list[int], header: list[int], block: int, bar: int) -> list[int]:
    """What refills the cache: the sequence or, once it is too long, the header and the recent
    half of the sequence starting at a barline (the model's training windows look so)."""
    if len(seq) > block:
        tail = seq[-(block // 2 - len(header)):]
        if bar in tail[:-1]:
            tail = tail[tail.index(bar):]
        seq = header + tail
    return seq
