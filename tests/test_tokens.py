"""Score <-> tokens: exact round trips on real files, and every token sequence decodes."""
import random

import pytest

from symphony.music.score import Note, Part, Score
from symphony.formats.midi import write_midi
from symphony.music.theory import parse_key, parse_meter
from symphony.model.tokens import Tokenizer, exact_round_trip


@pytest.fixture(scope="module")
def tok():
    return Tokenizer()


def test_sample_corpus_round_trips_exactly(tok, sample_scores):
    mono = [s for s in sample_scores if len(s.parts) == 1]
    poly = [s for s in sample_scores if len(s.parts) > 1]
    assert len(mono) > 50 and len(poly) == 4
    ok_mono = sum(exact_round_trip(tok, s) for s in mono)
    assert ok_mono / len(mono) >= 0.99
    assert all(exact_round_trip(tok, s) for s in poly)


def test_mixed_meter_song_round_trips(tok, sample_scores):
    mixed = [s for s in sample_scores if s.bar_meters]
    assert mixed, "the Han sample contains mixed-meter songs"
    assert all(exact_round_trip(tok, s) for s in mixed)


def test_pitch_is_key_relative(tok):
    d_major, a_minor = parse_key("D major"), parse_key("A minor")
    # The tonic of each key is degree 1; the same melody in two keys has the same tokens.
    assert tok.names[tok.pitch_token(62, d_major)].startswith("P_1_")
    assert tok.names[tok.pitch_token(69, a_minor)].startswith("P_1_")
    assert tok.names[tok.pitch_token(68, a_minor)] == "P_7#_4"  # raised leading note
    for midi in range(30, 100):
        for key in (d_major, a_minor, parse_key("G zhi")):
            assert tok.pitch_of(tok.pitch_token(midi, key), key) == midi


def test_header_and_grammar(tok):
    s = Score([Part([Note(60, 0, 1), Note(64, 1, 1), Note(67, 3, 1)])], parse_key("C major"),
              parse_meter("4/4"), 100, 1, style="german")
    names = [tok.names[t] for t in tok.encode(s)]
    assert names[:8] == ["BOS", "Style_german", "Tonic_0", "Mode_major", "Meter_4/4", "Tempo_5",
                         "Len_0", "Voices_1"]
    # a rest before the last note is written as a position
    assert names[8:] == ["BAR", "P_1_5", "Dur_24", "P_3_5", "Dur_24", "Pos_72", "P_5_5", "Dur_24", "EOS"]


def test_random_sequences_decode_to_valid_scores(tok, tmp_path):
    rng = random.Random(0)
    for i in range(300):
        seq = [rng.randrange(tok.vocab_size) for _ in range(rng.randint(0, 400))]
        s = tok.decode(seq)
        assert s.bars >= 1 and s.parts
        for n in s.all_notes():
            assert 0 <= n.pitch <= 127 and n.duration > 0 and n.onset >= 0
        if i % 50 == 0:
            write_midi(s, tmp_path / f"r{i}.mid")


def test_palestrina_breve_bars_round_trip(tok):
    """Palestrina's 4/2 bars are stored as pairs of 2/2 bars, losslessly."""
    from symphony.formats.files import read_score

    from .conftest import DATA
    s = read_score(DATA / "palestrina_Agnus_03.krn")
    assert str(s.meter) == "2/2" and len(s.parts) == 4 and s.bars % 2 == 0
    assert exact_round_trip(tok, s)
