"""Fill-in-the-middle sequences, built one way for training and for inference:

    header  prefix bars  Hole_<n>  suffix bars  Fill  middle bars (n of them)  EOS

(the task that uses them is ``tasks.infill``)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from symphony.model.tokens import MAX_HOLE_BARS, Tokenizer
from symphony.music.score import Score


@dataclass
class FimParts:
    header: list[int]
    prefix: list[int]  # whole bars before the hole (BAR ... ), possibly cut at the front
    suffix: list[int]  # whole bars after the hole, possibly cut at the end
    middle: list[int]  # the hole's bars (training target; empty at inference)
    hole_bars: int

    def sequence(self, tok: Tokenizer, with_middle: bool = True) -> list[int]:
        seq = self.header + self.prefix + [tok.hole_token(self.hole_bars)] + self.suffix + [tok.fill]
        return seq + self.middle + [tok.eos] if with_middle else seq


def bar_bounds(tok: Tokenizer, seq: list[int] | np.ndarray) -> list[int]:
    """Index of every BAR token of an encoded piece, then the index of its end (EOS)."""
    seq = list(seq)
    end = seq.index(tok.eos) if tok.eos in seq else len(seq)
    return [i for i in range(tok.HEADER_LEN, end) if seq[i] == tok.bar] + [end]


def fim_parts(tok: Tokenizer, seq: list[int], start: int, bars: int, prefix_budget: int,
              suffix_budget: int, bounds: list[int] | None = None) -> FimParts:
    """Cut an encoded piece (encoded with pos_bars={start, start + bars}) around the hole of
    `bars` bars from bar index `start` (0-based); the prefix keeps at most `prefix_budget`
    tokens of whole bars next to the hole, the suffix at most `suffix_budget`."""
    seq = list(seq)
    bounds = bounds or bar_bounds(tok, seq)
    a, b = bounds[start], bounds[start + bars]
    p = start
    while p > 0 and a - bounds[p - 1] <= prefix_budget:
        p -= 1
    s = start + bars
    n_bars = len(bounds) - 1
    while s < n_bars and bounds[s + 1] - b <= suffix_budget:
        s += 1
    return FimParts(seq[: tok.HEADER_LEN], seq[bounds[p]:a], seq[b:bounds[s]], seq[a:b], bars)


def choose_hole(n_bars: int, rng: np.random.Generator) -> tuple[int, int] | None:
    """(first bar, number of bars) of a random hole: mostly 1-8 bars, sometimes up to 16."""
    if n_bars < 2:
        return None
    longest = min(MAX_HOLE_BARS, n_bars - 1)
    n = int(rng.integers(1, min(8, longest) + 1)) if rng.random() < 0.85 else int(rng.integers(1, longest + 1))
    return int(rng.integers(0, n_bars - n + 1)), n


def encode_for_hole(tok: Tokenizer, score: Score, start: int, bars: int, style: str | None = None) -> list[int]:
    return tok.encode(score, style=style, pos_bars=frozenset({start, start + bars}))


def fim_training_sequence(tok: Tokenizer, score: Score, block: int, rng: np.random.Generator) -> np.ndarray | None:
    """A random fill-in-the-middle training sequence (at most block + 1 tokens) of a piece."""
    n_bars = len(tok.bar_layout(score))
    hole = choose_hole(n_bars, rng)
    if hole is None:
        return None
    start, bars = hole
    seq = encode_for_hole(tok, score, start, bars)
    bounds = bar_bounds(tok, seq)
    room = block + 1 - tok.HEADER_LEN - 3
    while bars > 1 and bounds[start + bars] - bounds[start] > room // 2:
        bars -= 1  # keep the middle within half the context
    if bounds[start + bars] - bounds[start] > room // 2:
        return None
    if bars != hole[1]:
        seq = encode_for_hole(tok, score, start, bars)
        bounds = bar_bounds(tok, seq)
    left = room - (bounds[start + bars] - bounds[start])
    share = float(rng.uniform(0.2, 0.8))  # how the context is split between the two sides
    suffix_budget = int(left * (1 - share)) if rng.random() > 0.1 else 0
    prefix_budget = left - min(suffix_budget, bounds[-1] - bounds[start + bars])
    parts = fim_parts(tok, seq, start, bars, prefix_budget, suffix_budget, bounds)
    out = parts.sequence(tok)
    assert len(out) <= block + 1, (len(out), block)
    return np.asarray(out, dtype=np.int64)
