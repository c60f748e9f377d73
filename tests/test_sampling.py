"""Constrained decoding holds every hard request, even with an untrained (random) model."""
import pytest
import torch

from symphony.decoding.sampler import Constraints, sample
from symphony.music.theory import parse_key, parse_meter
from symphony.model.tokens import TICKS_PER_QUARTER as Q




@pytest.mark.parametrize("key,meter,bars,voices", [
    ("D major", "6/8", 9, 1), ("A dorian", "4/4", 5, 1), ("G zhi", "2/4", 12, 1),
    ("Bb minor", "3/4", 6, 4), ("E yu", "9/8", 40, 1),
])
def test_requests_hold(untrained, key, meter, bars, voices):
    tok, m = untrained
    k, mt = parse_key(key), parse_meter(meter)
    cons = Constraints(key=k, meter=mt, bars=bars, voices=voices)
    seq = sample(m, tok, tok.header("celtic", k, mt, 110, bars, voices), cons, seed=3)
    s = tok.decode(seq)
    assert s.bars == bars and str(s.meter) == meter and len(s.parts) == voices
    bar = float(mt.bar_quarters)
    scale = set(k.scale_semitones()) | ({9, 11} if k.mode == "minor" else set())
    for v, p in enumerate(s.parts):
        lo, hi = cons.voice_range(v)
        for n in p.notes:
            assert (n.pitch - k.tonic_pc) % 12 in scale
            assert lo <= n.pitch <= hi
            # no note crosses a barline
            assert int(n.onset // bar) == int((n.end - 1e-9) // bar)
        # every bar is filled up to its end: the last note ends the piece
        assert max(n.end for n in p.notes) == pytest.approx(bars * bar)
    for v in {0, voices - 1}:
        last = max(s.parts[v].notes, key=lambda n: n.onset)
        assert (last.pitch - k.tonic_pc) % 12 == 0  # outer voices end on the tonic


def test_long_piece_slides_the_context(untrained):
    tok, m = untrained  # block_size 128 tokens; 64 bars need several times that
    k, mt = parse_key("C major"), parse_meter("4/4")
    seq = sample(m, tok, tok.header("german", k, mt, 100, 64, 1), Constraints(k, mt, 64), seed=0)
    assert len(seq) > 3 * 128
    assert tok.decode(seq).bars == 64


def test_same_seed_same_music(untrained):
    tok, m = untrained
    k, mt = parse_key("C major"), parse_meter("4/4")
    h = tok.header("german", k, mt, 100, 4, 1)
    a = sample(m, tok, h, Constraints(k, mt, 4), seed=5)
    b = sample(m, tok, h, Constraints(k, mt, 4), seed=5)
    c = sample(m, tok, h, Constraints(k, mt, 4), seed=6)
    assert a == b and a != c


def test_draws_decoded_side_by_side_equal_the_single_draws(untrained):
    """sample_many decodes several seeds in one batch (infill candidates); each draw is the one
    `sample` makes alone, also when the draws slide their context at different moments and
    when each draw reads the music under several headers (style guidance)."""
    from symphony.decoding.sampler import sample_many
    tok, m = untrained
    k, mt = parse_key("C major"), parse_meter("4/4")
    h = tok.header("german", k, mt, 100, 24, 1)
    cons = Constraints(k, mt, 24)
    many = sample_many(m, tok, h, cons, [0, 1, 2])
    assert [len(x) for x in many] != [len(many[0])] * 3  # the draws end (and slide) at different times
    assert all(len(x) > 128 for x in many)
    assert many == [sample(m, tok, h, cons, seed=s) for s in (0, 1, 2)]
    blend = [(h, 2.0)] + [(tok.header(s, k, mt, 100, 24, 1), -1 / 3) for s in ("chinese", "celtic", "chorale")]
    short = Constraints(k, mt, 6)
    logps = [[], []]
    guided = sample_many(m, tok, h, short, [3, 4], blend=blend, logps=logps)
    one = []
    assert guided == [sample(m, tok, h, short, seed=3, blend=blend, logp=one),
                      sample(m, tok, h, short, seed=4, blend=blend)]
    assert logps[0] == pytest.approx(one, abs=1e-4) and len(logps[1]) == len(guided[1]) - len(h)


def test_batch_decoder_rows_of_different_lengths_match_the_model(untrained):
    import numpy as np
    from symphony.model.decoder import BatchDecoder
    tok, m = untrained
    a, b = list(range(5, 45)), list(range(50, 70))
    m = m.model
    dec = BatchDecoder(m, 2)
    dec.fill(0, [a])
    dec.fill(1, [b])
    got = dec.step(np.array([7, 9]))
    with torch.no_grad():
        want_a = m(torch.tensor([a + [7]]))[0][0, -1].numpy()
        want_b = m(torch.tensor([b + [9]]))[0][0, -1].numpy()
    assert np.abs(got[0] - want_a).max() < 1e-3 and np.abs(got[1] - want_b).max() < 1e-3
    assert list(dec.lengths) == [41, 21]


def test_step_bias_makes_the_top_voice_move_by_step(untrained):
    """Constraints.step_bias (chorale sopranos) favours notes 1-2 semitones from the last one."""
    tok, m = untrained
    k, mt = parse_key("G major"), parse_meter("4/4")

    def steps(bias):
        moves = []
        for seed in range(3):
            seq = sample(m, tok, tok.header("chorale", k, mt, 72, 8, 4), Constraints(k, mt, 8, voices=4, step_bias=bias),
                         seed=seed)
            top = sorted(tok.decode(seq).parts[0].notes, key=lambda n: n.onset)
            moves += [abs(b.pitch - a.pitch) for a, b in zip(top, top[1:])]
        return sum(1 <= x <= 2 for x in moves) / len(moves)

    plain, stepped = steps(0.0), steps(3.0)
    assert stepped > plain + 0.2 and stepped > 0.6, (plain, stepped)


def test_repeat_bias_and_the_pitch_mass_it_keeps(untrained):
    """Constraints.repeat_bias < 0 makes repeated notes rarer; the melodic prior moves probability
    between pitch tokens only (a rest, barline or voice token keeps its chance)."""
    import numpy as np

    from symphony.decoding.sampler import _log_softmax, _reweight_pitches, _step_bias
    tok, m = untrained
    k, mt = parse_key("D major"), parse_meter("4/4")

    def repeats(bias):
        moves = []
        for seed in range(3):
            seq = sample(m, tok, tok.header("german", k, mt, 96, 8, 1), Constraints(k, mt, 8, repeat_bias=bias), seed=seed)
            mel = sorted(tok.decode(seq).parts[0].notes, key=lambda n: n.onset)
            moves += [b.pitch - a.pitch for a, b in zip(mel, mel[1:])]
        return sum(x == 0 for x in moves) / len(moves)

    plain, fewer = repeats(0.0), repeats(-3.0)
    assert fewer < plain - 0.05 and fewer < 0.05, (plain, fewer)
    logits = np.random.default_rng(0).normal(size=tok.vocab_size).astype(np.float32)
    out = _reweight_pitches(tok, logits, _step_bias(tok, k, 62, 2.0, -2.0))
    from symphony.model.tokens import N_OCTAVES, PITCHES_PER_OCTAVE
    ids = np.arange(tok.pitch0, tok.pitch0 + N_OCTAVES * PITCHES_PER_OCTAVE)
    pitch = np.zeros(tok.vocab_size, dtype=bool)
    pitch[ids] = True
    p, q = np.exp(_log_softmax(logits)), np.exp(_log_softmax(out))
    assert abs(p[pitch].sum() - q[pitch].sum()) < 1e-5  # the pitch tokens' total mass is kept
    assert np.allclose(p[~pitch], q[~pitch], atol=1e-6)
    same = [i for i in ids if tok.pitch_of(int(i), k) == 62]
    step = [i for i in ids if tok.pitch_of(int(i), k) in (64, 60)]
    assert all(q[i] < p[i] for i in same) and all(q[i] > p[i] for i in step)
