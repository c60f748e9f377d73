"""Constrained decoding: small masks over the model's next-token choices, and the sampling loop.

The grammar mask is what makes requests hold *by construction*: bars are exactly the meter's
length (no note crosses a barline, and a bar closes only when full or after a rest), the piece
has exactly the requested number of bars, every pitch lies in the requested mode's scale and
range, voices appear in order, and the last note of the outer voices is the tonic.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .inference import NumpyDecoder
from .model import MusicTransformer
from .theory import Key, Meter
from .tokens import MAX_BAR_TICKS, N_OCTAVES, TICKS_PER_QUARTER, Tokenizer

DEFAULT_RANGES = {  # (lowest, highest) MIDI pitch per voice count, top voice first
    1: [(57, 88)],
    2: [(57, 84), (40, 67)],
    3: [(57, 81), (48, 72), (40, 64)],
    4: [(60, 81), (53, 74), (48, 69), (40, 62)],
}


@dataclass
class Constraints:
    key: Key
    meter: Meter
    bars: int
    voices: int = 1
    ranges: list[tuple[int, int]] | None = None  # per voice; None: DEFAULT_RANGES
    end_on_tonic: bool = True
    chromatic: bool = False  # allow notes outside the mode's scale

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
    pitch_is_tonic: bool = False
    bar_ticks: int = field(init=False)
    beat_ticks: int = field(init=False)

    def __post_init__(self):
        self.bar_ticks = round(float(self.cons.meter.bar_quarters) * TICKS_PER_QUARTER)
        self.beat_ticks = round(self.cons.meter.beat_quarters * TICKS_PER_QUARTER)
        if self.bar_ticks > MAX_BAR_TICKS:
            raise ValueError(f"bars of {self.cons.meter} are longer than the tokens support")

    # ---------------------------------------------------------------- choices
    def allowed(self) -> np.ndarray:
        t, c = self.tok, self.cons
        if self.finished:
            return _ids((t.eos,))
        if self.bars_done == 0:
            return _ids((t.bar,))
        if self.pending == "pitch":
            end = self.bar_ticks
            if self._cadence_voice() and self.bars_done == c.bars and not self.pitch_is_tonic:
                end = self.bar_ticks - self.beat_ticks  # leave the last beat to the tonic
            return _dur_ids(t.dur1, min(end - self.cursor, MAX_BAR_TICKS))
        if self.pending == "pos":
            return self._pitches()
        choices: list[np.ndarray] = []
        last_bar = self.bars_done == c.bars
        if self.cursor < self.bar_ticks:
            choices.append(self._pitches())
            if self.cursor + 1 < self.bar_ticks:
                choices.append(_range_ids(t.pos0 + self.cursor + 1, t.pos0 + self.bar_ticks))
        # A voice closes its bar only when the bar is full. Rests at bar ends are rare in the
        # corpus (1-5% of bars) and the model, which sees positions only through durations,
        # tends to close bars too early; rests inside a bar remain possible through Pos tokens.
        full = self.cursor >= self.bar_ticks
        if full:
            if c.voices > 1 and self.voice < c.voices - 1:
                choices.append(_ids((t.voice0 + self.voice + 1,)))
            elif not last_bar:
                choices.append(_ids((t.bar,)))
            else:
                choices.append(_ids((t.eos,)))
        return np.concatenate(choices) if len(choices) > 1 else choices[0]

    def _pitches(self) -> np.ndarray:
        c = self.cons
        lo, hi = c.voice_range(self.voice)
        tonic_only = (self._cadence_voice() and self.bars_done == c.bars
                      and self.cursor >= self.bar_ticks - self.beat_ticks)
        return _pitch_ids(self.tok, c.key, lo, hi, c.chromatic, tonic_only)

    def _cadence_voice(self) -> bool:
        """The outer voices end on the tonic when the request asks for it."""
        return self.cons.end_on_tonic and self.voice in (0, self.cons.voices - 1)

    # ---------------------------------------------------------------- transitions
    def step(self, token: int) -> None:
        t = self.tok
        if token == t.eos:
            self.finished = True
        elif token == t.bar:
            self.bars_done += 1
            self.voice, self.cursor, self.pending = 0, 0, ""
        elif t.voice0 <= token < t.voice0 + 8:
            self.voice, self.cursor, self.pending = token - t.voice0, 0, ""
        elif t.is_pos(token):
            self.cursor, self.pending = token - t.pos0, "pos"
        elif t.is_pitch(token):
            self.pending = "pitch"
            self.pitch_is_tonic = t.is_tonic_pitch(token)
        elif t.is_dur(token):
            self.cursor += t.dur_of(token)
            self.pending = ""


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
MODE_EXTRA_SEMITONES = {"minor": (9, 11)}


@lru_cache(maxsize=1024)
def _pitch_ids(tok: Tokenizer, key: Key, lo: int, hi: int, chromatic: bool, tonic_only: bool) -> np.ndarray:
    scale = set(key.scale_semitones()) | set(MODE_EXTRA_SEMITONES.get(key.mode, ()))
    out = []
    for midi in range(lo, hi + 1):
        rel = (midi - key.tonic_pc) % 12
        if tonic_only and rel != 0:
            continue
        if not chromatic and rel not in scale:
            continue
        if (midi - key.tonic_pc) // 12 >= N_OCTAVES or midi < key.tonic_pc:
            continue
        out.append(tok.pitch_token(midi, key))
    if not out:  # range holds no tonic: fall back to the whole scale in range
        return _pitch_ids(tok, key, lo, hi, chromatic, False)
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


def decoder_for(model: MusicTransformer) -> NumpyDecoder:
    """The fast NumPy decoder of a model (built once per model object)."""
    dec = getattr(model, "_numpy_decoder", None)
    if dec is None:
        dec = NumpyDecoder(model)
        model._numpy_decoder = dec
    return dec


def sample(model: MusicTransformer, tok: Tokenizer, prompt: list[int], cons: Constraints,
           seed: int = 0, temperature: float = 1.0, top_p: float = 0.95,
           max_tokens: int = 200_000) -> list[int]:
    """Continue `prompt` (a header, possibly with a body) under the constraints until EOS."""
    rng = np.random.default_rng(seed)
    state = GrammarState(tok, cons)
    for t in prompt[tok.HEADER_LEN:]:
        state.step(t)
    seq = list(prompt)
    header = seq[: tok.HEADER_LEN]
    dec = decoder_for(model)
    block = model.cfg.block_size
    logits = _prime(dec, seq, header, block, tok.bar)
    while len(seq) < max_tokens:
        t = choose(logits, state.allowed(), temperature, top_p, rng)
        seq.append(t)
        state.step(t)
        if t == tok.eos:
            break
        if dec.length >= block:
            logits = _prime(dec, seq, header, block, tok.bar)
        else:
            logits = dec.forward([t])
    return seq


def _prime(dec: NumpyDecoder, seq: list[int], header: list[int], block: int, bar: int) -> np.ndarray:
    """Refill the cache with the sequence or, once it is too long, with the header and the
    recent half of the sequence starting at a barline (the model's training windows look so)."""
    if len(seq) > block:
        tail = seq[-(block // 2 - len(header)):]
        if bar in tail[:-1]:
            tail = tail[tail.index(bar):]
        seq = header + tail
    dec.reset()
    return dec.forward(seq)
