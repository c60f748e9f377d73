"""Mixed meters and the user's own barlines (issue 16): a Han song's 3/4 or 3/2 bar among 2/4
bars, and the repeat signs, double barlines and 1st/2nd endings of Irish tunes, read from real
files of music21's corpus, written back to MusicXML and MIDI, and kept through every edit."""
import re
from pathlib import Path

import pytest

from symphony.formats.files import read_score, score_bytes
from symphony.music.analysis import bar_starts
from symphony.tasks import api
from symphony.tasks.common import load_input


def _corpus_tune(tmp_path, work: str, number: int | None = None) -> Path:
    """Tune X:number of a multi-tune ABC file of music21's corpus (the whole file without
    ``number``), as a file of its own."""
    from music21 import corpus
    text = Path(corpus.getWork(work)).read_text(encoding="utf-8", errors="replace")
    if number is not None:
        text = next(t for t in re.split(r"\n(?=X:)", text) if re.match(rf"X:\s*{number}\b", t.strip()))
    path = tmp_path / f"{work.replace('/', '_')}_{number}.abc"
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def _notes(score):
    return [[(n.pitch, round(n.onset, 4), round(n.duration, 4)) for n in p.notes] for p in score.parts]


# han1 #19: 2/4 with a 3/2 bar (bar 10) and a 5/4 bar (bar 15); #24: a 3/4 bar as bar 3;
# #48: a one-beat pickup in 3/4, a 6/4 bar and a short irregular bar
HAN = [(19, [(0.0, "2/4"), (18.0, "3/2"), (24.0, "2/4"), (32.0, "5/4"), (37.0, "2/4")]),
       (24, [(0.0, "2/4"), (4.0, "3/4"), (7.0, "2/4")]),
       (48, None)]


@pytest.mark.parametrize("number,changes", HAN)
@pytest.mark.parametrize("fmt", ["musicxml", "mid"])
def test_meter_changes_round_trip(tmp_path, number, changes, fmt):
    """The written file sets a time signature at every change and reads back with the same
    meters, bars and notes (MusicXML: <time> in those measures; MIDI: time_signature events)."""
    src = load_input(_corpus_tune(tmp_path, "essenFolksong/han1", number))
    assert len(src.meter_changes()) > 1
    if changes:
        assert src.meter_changes() == changes
    data = score_bytes(src, fmt)
    path = tmp_path / f"x.{'musicxml' if fmt == 'musicxml' else 'mid'}"
    path.write_bytes(data)
    back = read_score(path)
    # MIDI has no incomplete bars: #48's short bar comes back in the meter of its length
    assert back.meter_changes(by_length=fmt == "mid") == src.meter_changes(by_length=fmt == "mid")
    assert bar_starts(back) == bar_starts(src) and back.pickup == src.pickup
    assert _notes(back) == _notes(src)
    if fmt == "musicxml":  # a time signature at each change, none at an incomplete bar
        assert len(re.findall(rb"<time>", data)) == len(src.meter_changes())
        assert back.bar_meters == src.bar_meters


def test_an_incomplete_first_ending_is_written_short_without_a_new_meter(tmp_path):
    """Ryan's 'Fire Him Out' reel: the B part's 1st ending is a bar of 2/4 cut short by the
    upbeat the repeat goes back to; it is written as that short bar, with no time signature."""
    from music21 import converter, stream
    src = load_input(_corpus_tune(tmp_path, "ryansMammoth/FireHimOutReel"))
    data = score_bytes(src, "musicxml")
    assert len(re.findall(rb"<time>", data)) == 1
    (tmp_path / "x.musicxml").write_bytes(data)
    measures = list(converter.parse(tmp_path / "x.musicxml").parts[0].getElementsByClass(stream.Measure))
    assert [float(m.duration.quarterLength) for m in measures[15:18]] == [2.0, 2.0, 1.5]


def test_a_3_2_bar_is_written_as_one_bar_of_six_beats(tmp_path):
    """han1 #19's bar 10 is one 3/2 measure (not three 2/4 bars), its notes beamed in it."""
    from music21 import converter, stream
    src = load_input(_corpus_tune(tmp_path, "essenFolksong/han1", 19))
    (tmp_path / "x.musicxml").write_bytes(score_bytes(src, "musicxml"))
    measures = list(converter.parse(tmp_path / "x.musicxml").parts[0].getElementsByClass(stream.Measure))
    assert [float(m.duration.quarterLength) for m in measures[8:11]] == [2.0, 6.0, 2.0]
    assert measures[9].timeSignature.ratioString == "3/2" and measures[10].timeSignature.ratioString == "2/4"


def edits(infill_bars: str) -> dict:
    """Every edit that keeps the piece's bars, as a request on a score (infill of ``infill_bars``)."""
    return {
        "infill": lambda s: api.InfillRequest(s, infill_bars, candidates=1, seed=1),
        "continue": lambda s: api.ContinueRequest(s, 2, seed=1),
        "vary": lambda s: api.VaryRequest(s, 0.6, seed=1),
        "transform": lambda s: api.TransformRequest(s, transpose=2),
        "harmonize": lambda s: api.HarmonizeRequest(s, seed=1),
    }


EDITS = edits("2-4")  # across the 3/4 bar


@pytest.mark.parametrize("op", list(EDITS))
def test_every_edit_keeps_the_meter_changes(tiny_checkpoint, tmp_path, op):
    """han1 #24 (2/4, bar 3 in 3/4): every edit keeps each bar's meter and length, inside the
    edited range too (infill of bars 2-4 regenerates the 3/4 bar as three beats), and the
    MusicXML written reads back with the same meters."""
    from symphony.tasks.engine import Engine
    path, _ = tiny_checkpoint
    src = load_input(_corpus_tune(tmp_path, "essenFolksong/han1", 24))
    out = api.run(EDITS[op](src), Engine.load(path)).score
    assert out.meter_changes() == src.meter_changes()
    assert bar_starts(out)[:len(bar_starts(src))] == bar_starts(src)
    end = bar_starts(out)[-1]
    assert max(n.end for n in out.all_notes()) <= end + 1e-6
    if op == "infill":
        outside = [[n for n in p if not 2.0 <= n[1] < 9.0] for p in _notes(out)]
        assert outside == [[n for n in p if not 2.0 <= n[1] < 9.0] for p in _notes(src)]
        three_four = [n for n in out.parts[0].notes if 4.0 <= n.onset < 7.0]
        assert three_four and all(n.end <= 7.0 + 1e-6 for n in three_four)
    (tmp_path / "x.musicxml").write_bytes(score_bytes(out, "musicxml"))
    assert read_score(tmp_path / "x.musicxml").meter_changes() == out.meter_changes()


# ----------------------------------------------------------------------------- barlines

@pytest.mark.parametrize("work,number,barlines,endings", [
    # O'Neill's 15: the A part repeated (:|), a double bar at the end
    ("oneills1850/0001-0050", 15, [[8, "right", "repeat-end"], [25, "right", "double"]], None),
    # O'Neill's 1: double bars between the parts and at the end
    ("oneills1850/0001-0050", 1, [[11, "right", "double"], [12, "left", "double"], [25, "right", "double"]], None),
    # Ryan's "Fire Him Out" reel: |: A :| with 1st and 2nd endings, twice
    ("ryansMammoth/FireHimOutReel", None, [[7, "right", "repeat-end"], [8, "right", "final"],
                                           [9, "left", "repeat-start"], [17, "right", "repeat-end"],
                                           [18, "right", "final"]],
     [[7, 7, "1"], [8, 8, "2"], [17, 17, "1"], [18, 18, "2"]]),
])
def test_repeats_double_bars_and_endings_round_trip(tmp_path, work, number, barlines, endings):
    src = load_input(_corpus_tune(tmp_path, work, number))
    assert (src.barlines, src.endings) == (barlines, endings)
    data = score_bytes(src, "musicxml")
    (tmp_path / "x.musicxml").write_bytes(data)
    back = read_score(tmp_path / "x.musicxml")
    assert (back.barlines, back.endings) == (barlines, endings)
    assert back.printed_numbers() == src.printed_numbers() and _notes(back) == _notes(src)
    repeats = sum(kind.startswith("repeat") for _, _, kind in barlines)
    assert len(re.findall(rb"<repeat ", data)) == repeats
    assert len(re.findall(rb'<ending [^>]*type="start"', data)) == len(endings or [])
    assert _json_keeps(src)


def _json_keeps(score) -> bool:
    from symphony.music.score import Score
    again = Score.from_dict(score.to_dict())
    return (again.barlines, again.endings) == (score.barlines, score.endings)


BAR_EDITS = edits("3-4")


@pytest.mark.parametrize("op", list(BAR_EDITS))
def test_every_edit_keeps_the_users_repeats_and_endings(tiny_checkpoint, tmp_path, op):
    """The reel's repeat signs and endings survive every edit that keeps its bars, into the
    MusicXML written; a continuation drops only the final barline where bars now follow."""
    from symphony.tasks.engine import Engine
    path, _ = tiny_checkpoint
    src = load_input(_corpus_tune(tmp_path, "ryansMammoth/FireHimOutReel"))
    out = api.run(BAR_EDITS[op](src), Engine.load(path)).score
    expected = [b for b in src.barlines if not (op == "continue" and b == [18, "right", "final"])]
    assert out.barlines == expected and out.endings == src.endings
    (tmp_path / "x.musicxml").write_bytes(score_bytes(out, "musicxml"))
    back = read_score(tmp_path / "x.musicxml")
    assert back.endings == src.endings
    assert [b for b in back.barlines if b[2].startswith("repeat")] == [b for b in expected if b[2].startswith("repeat")]


def test_restyle_says_which_meter_changes_it_does_not_keep(tiny_checkpoint, tmp_path):
    """Restyle composes in one meter (the sampler's bars are one length): a Han song's 3/2 and
    5/4 bars are named in music.json's provenance and in one line on stderr, not silently lost;
    with --meter given there is nothing to report."""
    from symphony.tasks.engine import Engine
    path, _ = tiny_checkpoint
    src = load_input(_corpus_tune(tmp_path, "essenFolksong/han1", 19))
    engine = Engine.load(path)
    out = api.run(api.RestyleRequest(src, "celtic", None, None, 0, 1), engine).score
    assert out.provenance["meters_not_kept"] == ["3/2 at bar 10", "2/4 at bar 11", "5/4 at bar 15", "2/4 at bar 16"]
    assert "--meter" in out.provenance["note"]
    chosen = api.run(api.RestyleRequest(src, "celtic", "6/8", None, 0, 1), engine).score
    assert "note" not in chosen.provenance
