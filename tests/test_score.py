"""Reading and writing real music files, corrupt ones included."""
import pytest

from symphony.errors import ScoreReadError
from symphony.formats.midi import read_midi, write_midi
from symphony.formats.files import read_score
from symphony.formats.musicxml import write_musicxml
from symphony.model.tokens import TICKS_PER_QUARTER as Q

from .conftest import DATA


def _grid(part):
    return sorted((round(n.onset * Q), n.pitch, round(n.duration * Q)) for n in part.notes)


def test_read_abc_first_tune():
    s = read_score(DATA / "han_sample.abc", style="chinese")
    assert s.meter.numerator == 2 and s.meter.denominator == 4
    assert len(s.parts) == 1 and s.n_notes > 20
    assert s.style == "chinese"


def test_read_chorale_has_four_voices():
    s = read_score(DATA / "bwv66.6.mxl")
    assert len(s.parts) == 4
    assert str(s.key) == "F# minor"  # music21's analysis of this chorale
    # Soprano above bass on average.
    mean = [sum(n.pitch for n in p.notes) / len(p.notes) for p in s.parts]
    assert mean[0] > mean[1] > mean[2] > mean[3]


@pytest.mark.parametrize("name", ["bwv66.6.mxl", "AcaciaReel.abc", "german_sample.abc"])
def test_midi_round_trip(tmp_path, name):
    s = read_score(DATA / name)
    write_midi(s, tmp_path / "x.mid")
    back = read_midi(tmp_path / "x.mid")
    assert len(back.parts) == len(s.parts)
    for a, b in zip(s.parts, back.parts):
        assert _grid(a) == _grid(b)
    assert str(back.meter) == str(s.meter)
    assert back.bpm == pytest.approx(s.bpm, abs=0.01)


def test_musicxml_round_trip(tmp_path):
    s = read_score(DATA / "bwv66.6.mxl")
    write_musicxml(s, tmp_path / "x.musicxml")
    back = read_score(tmp_path / "x.musicxml")
    assert [len(p.notes) for p in back.parts] == [len(p.notes) for p in s.parts]
    for a, b in zip(s.parts, back.parts):
        assert _grid(a) == _grid(b)
    assert back.key == s.key and back.bars == s.bars


@pytest.mark.parametrize("name", ["corrupt.mid", "corrupt.musicxml", "not_music.abc", "missing.mid"])
def test_corrupt_files_raise_clear_errors(name):
    with pytest.raises(ScoreReadError) as e:
        read_score(DATA / name)
    assert "\n" not in str(e.value)


def test_unsupported_suffix(tmp_path):
    f = tmp_path / "song.docx"
    f.write_text("x")
    with pytest.raises(ScoreReadError, match="unsupported file type"):
        read_score(f)
