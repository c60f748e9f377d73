"""contour.py's priors against circling a small cell (issue 17's blind readers: "hovers on G-A-B
with the same A A A B / G. A cells over and over", "repeats d-e-f#-e-f# almost mechanically")."""
from __future__ import annotations

from symphony.decoding import contour
from symphony.decoding.sampler import Constraints, GrammarState
from symphony.music.theory import Key, Meter


def _state(notes, **kw):
    """A one-voice 4/4 piece in D major with a shape plan, the notes [(midi, quarters), ...] played
    from bar 1 on (a barline every four quarters)."""
    from symphony.tasks.engine import Engine
    tok = Engine.load().tokenizer
    key = Key("D", "major")
    cons = Constraints(key=key, meter=Meter(4, 4), bars=16, shape=True, **kw)
    st = GrammarState(tok, cons)
    st.step(tok.bar)
    beat = 0
    for m, q in notes:
        if beat and beat % 4 == 0:
            st.step(tok.bar)
        st.step(tok.pitch_token(m, key))
        st.step(tok.dur_token(24 * q))
        beat += q
    return st, tok, key


def _bias(st, tok, key, m):
    out = contour.prior(st)
    return 0.0 if out is None else float(out[tok.pitch_token(m, key)])


def test_three_pitches_hovered_on_for_the_styles_bars_lose_to_a_fourth():
    hover = [(m, 1) for m in (66, 67, 69, 67) * 3]  # F# G A G for three bars: "hovers on G-A-B"
    st, tok, key = _state(hover, hover_bars=2.5)
    assert contour.pitch_run(st, 3)[0] == {66, 67, 69}
    for m in (66, 67, 69):
        assert _bias(st, tok, key, m) <= _bias(st, tok, key, 71) - contour.HOVER_PENALTY + 1e-6
    st, tok, key = _state(hover[:8], hover_bars=2.5)  # two bars: not yet
    assert _bias(st, tok, key, 67) == _bias(st, tok, key, 71)
    st, tok, key = _state(hover)  # no hover_bars (no phrase plan's style): nothing said
    assert _bias(st, tok, key, 67) == _bias(st, tok, key, 71)


def test_a_cell_looping_at_another_place_in_the_bar_loses_but_a_bar_aligned_return_does_not():
    # d e f# | d e (f#?): the cell d-e-f# again a beat later in the bar each time
    shifted = [(62, 1), (64, 1), (66, 1), (62, 1), (64, 1)]
    st, tok, key = _state(shifted, loop_penalty=0.5)
    assert contour.loop_counts(st) == {66: 1}
    assert _bias(st, tok, key, 66) <= _bias(st, tok, key, 67) - 0.5 + 1e-6
    st, tok, key = _state(shifted)  # no loop_penalty (no phrase plan's style): nothing said
    assert _bias(st, tok, key, 66) == _bias(st, tok, key, 67)
    # a third time is twice as unwelcome
    st, tok, key = _state(shifted + [(66, 1), (62, 1), (64, 1)], loop_penalty=0.5)
    assert contour.loop_counts(st) == {66: 2}
    # d e f# a | d e (f#?): the bar restated at its place is what real tunes do
    st, tok, key = _state([(62, 1), (64, 1), (66, 1), (69, 1), (62, 1), (64, 1)], loop_penalty=0.5)
    assert contour.loop_counts(st) == {}
    assert _bias(st, tok, key, 66) == _bias(st, tok, key, 67)
    # a bar the plan copies or varies is the form's repetition, not a loop
    st, tok, key = _state(shifted, loop_penalty=0.5, vary_from={2: 1})
    assert _bias(st, tok, key, 66) == _bias(st, tok, key, 67)
