"""Sequences (symphony/decoding/sequence.py, issue 17): with the shipped model, bars restate an
earlier bar's rhythm and scale-step intervals at another pitch, as real tunes do, where without the
echo prior they hardly did."""
from __future__ import annotations

import pytest

from benchmarks.melody_craft import piece_measures
from symphony.decoding import sequence
from symphony.decoding.rhythm import RHYTHM_VOCAB
from symphony.music.theory import Key
from symphony.tasks.api import generate

pytestmark = pytest.mark.skipif(not RHYTHM_VOCAB.exists(), reason="no rhythm table next to the checkpoint")

SEEDS = range(1000, 1008)  # (the benchmark's first requests, plain)


def _sequences(style: str) -> tuple[int, int, int]:
    """(bars in sequences, pieces with one, bars repeating an earlier bar) over SEEDS."""
    rows = [piece_measures(generate(style=style, seed=s)) for s in SEEDS]
    return (sum(r["seq_bars"] for r in rows), sum(r["seq_bars"] > 0 for r in rows),
            sum(r["repeated_bars"] for r in rows))


def test_degrees_count_scale_steps():
    g = Key("G", "major")
    assert [sequence._degree(g, m) - sequence._degree(g, 67) for m in (67, 69, 71, 72, 74, 79)] == [0, 1, 2, 3, 4, 7]
    assert sequence._degree(g, 68) == sequence._degree(g, 67)  # an altered note keeps its letter's step


@pytest.mark.parametrize("style", ["celtic", "german"])
def test_bars_restate_earlier_bars_at_another_pitch(style, monkeypatch):
    monkeypatch.setattr(sequence, "ECHO_RATE", 1.0)  # every eligible bar echoes one
    bars, pieces, repeats = _sequences(style)
    monkeypatch.setattr(sequence, "ECHO", 0.0)
    bars_off, _, repeats_off = _sequences(style)
    assert pieces >= 2 and bars > 2 * bars_off, (bars, pieces, bars_off)
    assert repeats <= 1.2 * repeats_off + 2  # sequences, not many more literal copies (german: 31 against 27)


def test_some_tunes_hold_a_sequence_at_the_tuned_rate():
    bars, pieces, _ = _sequences("celtic")
    assert pieces >= 2, (bars, pieces)
