"""Scores in and out as bytes (an upload, a download) give what the same files give by path."""
from __future__ import annotations

import pytest

from symphony.errors import ScoreReadError
from symphony.formats.files import read_score, score_bytes
from symphony.tasks.common import load_input

from .conftest import DATA


def _notes(score):
    return [[(n.pitch, round(n.onset, 4), round(n.duration, 4)) for n in p.notes] for p in score.parts]


@pytest.mark.parametrize("name", ["bwv66.6.mxl", "oneills_sample.abc", "german_sample.abc", "palestrina_Agnus_03.krn"])
def test_bytes_read_like_the_file(name):
    path = DATA / name
    by_path, by_bytes = read_score(path), read_score(path.read_bytes(), filename=name)
    assert _notes(by_bytes) == _notes(by_path)
    assert (by_bytes.key, by_bytes.meter, by_bytes.bars) == (by_path.key, by_path.meter, by_path.bars)


def test_midi_and_musicxml_bytes_round_trip():
    score = read_score(DATA / "bwv66.6.mxl")
    for fmt, name in (("mid", "x.mid"), ("musicxml", "x.musicxml")):
        back = read_score(score_bytes(score, fmt), filename=name)
        assert [[n.pitch for n in p.notes] for p in back.parts] == [[n.pitch for n in p.notes] for p in score.parts]
    assert score_bytes(score, "json").startswith(b"{")
    with pytest.raises(ValueError):
        score_bytes(score, "pdf")


@pytest.mark.parametrize("data,name", [(b"MThd\x00\x00", "broken.mid"), (b"<score-partwise><oops", "bad.musicxml"),
                                       (b"\x00\x01", "x.doc"), ((DATA / "corrupt.mid").read_bytes(), "corrupt.mid")])
def test_bad_bytes_are_a_clear_error(data, name):
    with pytest.raises(ScoreReadError, match=name.split(".")[-1] if name.endswith("doc") else name):
        read_score(data, filename=name)


def test_an_upload_is_an_edit_input_with_its_fingerprint():
    data = (DATA / "oneills_sample.abc").read_bytes()
    a = load_input(data, "tune.abc")
    b = load_input(DATA / "oneills_sample.abc")
    assert a.source == "tune.abc" and a.fingerprint == b.fingerprint
    assert _notes(a) == _notes(b)
