"""Pickups (anacruses) and bar numbers as the user's score has them (issue 16, item 2): read from
real MusicXML, ABC and MIDI files, kept through JSON and MusicXML round trips, written as a short
bar 0 and a short last bar, counted by ``--bars`` as the user counts, and given to generated
pieces that open with an upbeat."""
import json
import re

import pytest

from symphony.errors import RequestError
from symphony.formats.files import read_score, score_bytes
from symphony.formats.midi import write_midi
from symphony.formats.musicxml import write_musicxml
from symphony.music.analysis import bar_starts
from symphony.music.score import Score
from symphony.tasks import api
from symphony.tasks.common import load_input
from symphony.tasks.infill import infill, user_bar_range

from .conftest import DATA
from .test_pipeline import run_cli


def _tune(tmp_path, number: int, source: str = "oneills_sample.abc"):
    """Tune X:number of a multi-tune ABC file, as a file of its own."""
    text = (DATA / source).read_text()
    tunes = re.split(r"\n(?=X:)", text)
    body = next(t for t in tunes if re.match(rf"X:\s*{number}\b", t.strip()))
    path = tmp_path / f"tune{number}.abc"
    path.write_text(body.strip() + "\n")
    return path


def _notes(score: Score):
    """Every note as written: pitch, onset, duration, spelling and fermata."""
    return [[(n.pitch, round(n.onset, 4), round(n.duration, 4), n.spelling, n.fermata) for n in p.notes]
            for p in score.parts]


def _measures(xml: bytes) -> list[str]:
    return re.findall(r"<measure [^>]*>", xml.decode())


@pytest.mark.parametrize("name,pickup,numbers", [
    ("bwv66.6.mxl", 1.0, ["0", "1", "2"]),            # a one-beat upbeat in 4/4
    ("german_sample.abc", 0.5, ["0", "1", "2"]),       # an eighth in 3/4
    ("bwv101.7.mxl", 1.0, ["0", "1", "2", "3", "4", "4a", "5"]),  # bar 4 split by a repeat
    ("han_sample.abc", 0.0, ["1", "2", "3"]),          # no pickup: bars from 1
])
def test_real_files_keep_their_pickup_and_bar_numbers(tmp_path, name, pickup, numbers):
    """Read, written to MusicXML and JSON and read back: the same pickup, short last bar, printed
    bar numbers and notes (spellings and fermatas included)."""
    src = read_score(DATA / name)
    assert src.pickup == pickup and src.pickup_completed == bool(pickup)
    assert src.printed_numbers()[:len(numbers)] == numbers
    back = Score.from_dict(json.loads(score_bytes(src, "json")))
    assert (back.pickup, back.pickup_completed, back.printed_numbers()) == \
        (src.pickup, src.pickup_completed, src.printed_numbers())
    assert _notes(back) == _notes(src)
    write_musicxml(src, tmp_path / "x.musicxml")
    again = read_score(tmp_path / "x.musicxml")
    assert (again.pickup, again.pickup_completed) == (src.pickup, src.pickup_completed)
    assert [[x[:3] + x[4:] for x in p] for p in _notes(again)] == [[x[:3] + x[4:] for x in p] for p in _notes(src)]
    first = _measures((tmp_path / "x.musicxml").read_bytes())[0]
    assert ('implicit="yes" number="0"' in first) == bool(pickup)


def test_the_written_pickup_bar_is_short_and_the_last_bar_completes_it(tmp_path):
    """bwv66.6: bar 0 holds one beat (no bar of rests before it), bar 9 three beats; music21
    reads them as padded bars, as it reads Bach's own file."""
    from music21 import converter, stream
    src = read_score(DATA / "bwv66.6.mxl")
    write_musicxml(src, tmp_path / "x.musicxml")
    soprano = converter.parse(tmp_path / "x.musicxml").parts[0]
    measures = list(soprano.getElementsByClass(stream.Measure))
    assert [m.number for m in measures] == list(range(10))
    assert (float(measures[0].duration.quarterLength), measures[0].paddingLeft) == (1.0, 3.0)
    assert not measures[0].getElementsByClass("Rest")
    assert float(measures[-1].duration.quarterLength) == 3.0
    assert all(float(m.duration.quarterLength) == 4.0 for m in measures[1:-1])


def test_oneills_tune_with_a_pickup_and_a_split_bar(tmp_path):
    """O'Neill's 'Fare You Well' (2/4, an eighth-note upbeat, the B part's upbeat splitting bar
    8): bar 0, then 1-8, 8a, 9-..., and the MIDI the piece is written to reads back the same
    pickup."""
    path = _tune(tmp_path, 2)
    src = load_input(path)
    assert src.pickup == 0.5 and src.pickup_completed
    assert src.printed_numbers()[:11] == ["0", "1", "2", "3", "4", "5", "6", "7", "8", "8a", "9"]
    write_midi(src, tmp_path / "x.mid")
    midi = read_score(tmp_path / "x.mid")
    assert midi.pickup == 0.5 and midi.pickup_completed


@pytest.mark.parametrize("name,tune,split,lengths", [
    ("bwv101.7.mxl", None, ["4", "4a", "8", "8a"], [3.0, 1.0, 3.0, 1.0]),  # Bach's own numbers, line breaks
    ("oneills_sample.abc", 2, ["8", "8a"], [1.5, 0.5]),  # counted: the repeat before the B part's upbeat
])
def test_split_bars_are_written_as_the_two_bars_they_are(tmp_path, name, tune, split, lengths):
    """A bar the user's score splits in two (Bach's bar 4 at a line break, 4 and 4a; the A part of
    an O'Neill's tune ending a beat early before the B part's upbeat) is written as those two short
    bars with their numbers, not as one bar of the meter: every printed number comes back, at the
    same place, and so do the notes."""
    from music21 import converter, stream
    src = read_score(_tune(tmp_path, tune, name) if tune else DATA / name)
    write_musicxml(src, tmp_path / "x.musicxml")
    measures = list(converter.parse(tmp_path / "x.musicxml").parts[0].getElementsByClass(stream.Measure))
    numbers = [f"{m.number}{m.numberSuffix or ''}" for m in measures]
    assert numbers == src.printed_numbers()
    assert [float(measures[numbers.index(b)].duration.quarterLength) for b in split] == lengths
    again = read_score(tmp_path / "x.musicxml")
    assert again.printed_numbers() == src.printed_numbers() and again.bar_meters == src.bar_meters
    assert [[x[:3] for x in p] for p in _notes(again)] == [[x[:3] for x in p] for p in _notes(src)]


def test_bar_ranges_are_the_users_bar_numbers():
    bwv = read_score(DATA / "bwv101.7.mxl")
    assert user_bar_range(bwv, "1-2") == (2, 3)  # bar 0 is the pickup, stored first
    assert user_bar_range(bwv, "4") == (5, 6)  # 4 and 4a
    assert user_bar_range(bwv, "0-1") == (1, 2)
    with pytest.raises(RequestError, match="outside the piece"):
        user_bar_range(bwv, "12-13")
    han = read_score(DATA / "han_sample.abc")
    assert user_bar_range(han, "5-8") == (5, 8)
    with pytest.raises(RequestError, match="1 <= first"):
        user_bar_range(han, "0-2")


def test_infill_5_8_edits_the_users_bars_5_to_8_only(tiny_checkpoint, tmp_path):
    """On an O'Neill's jig with an eighth-note pickup ('The Fun at Donnybrook', 6/8), `--bars 5-8`
    regenerates the bars the user's score prints as 5 to 8 (not 4 to 7): every note outside
    them, with its spelling, stays exactly, and so do the pickup and the bar numbers."""
    path, _ = tiny_checkpoint
    src = load_input(_tune(tmp_path, 5))
    out = infill(src, "5-8", seed=3, engine=path, candidates=1)
    starts = bar_starts(src)
    a, z = starts[src.bar_index(5) - 1], starts[src.bar_index(8, last=True)]
    assert (a, z) == (15.0, 27.0)  # after the pickup bar, user's bar 5 is the sixth stored bar
    outside = lambda s: [x for x in _notes(s)[0] if not a - 1e-6 <= x[1] < z - 1e-6]  # noqa: E731
    inside = lambda s: [x for x in _notes(s)[0] if a - 1e-6 <= x[1] < z - 1e-6]  # noqa: E731
    assert outside(out) == outside(src)
    assert inside(out) and inside(out) != inside(src)
    assert (out.pickup, out.pickup_completed, out.printed_numbers()) == \
        (src.pickup, src.pickup_completed, src.printed_numbers())
    assert out.provenance["parameters"]["bars"] == "5-8"


def test_infill_cli_keeps_fermatas_and_numbers_outside_the_range(tiny_checkpoint, tmp_path):
    """bwv66.6 --bars 2-3: the user's bars 2 and 3; the fermatas of bars 4-9 and the pickup bar
    are written back, and the MusicXML still starts with bar 0."""
    path, _ = tiny_checkpoint
    out = tmp_path / "o"
    r = run_cli("edit", "infill", str(DATA / "bwv66.6.mxl"), "--bars", "2-3", "--seed", "1",
                "--candidates", "1", "--checkpoint", str(path), "--no-audio", "-o", str(out))
    assert r.returncode == 0, r.stderr
    src, back = read_score(DATA / "bwv66.6.mxl"), read_score(out / "music.musicxml")
    a, z = 8.0, 16.0  # user's bars 2-3 after the one-beat pickup padded to a bar
    keep = lambda s: [[x[:3] + x[4:] for x in p if not a <= x[1] < z] for p in _notes(s)]  # noqa: E731
    assert keep(back) == keep(src)
    assert back.pickup == 1.0 and back.pickup_completed
    info = json.loads((out / "music.json").read_text())
    assert info["bar_numbers"][:3] == ["0", "1", "2"] and info["pickup"]["quarters"] == 1.0


def _cut_and_end(score: Score) -> tuple[float, float]:
    """Where the written pickup starts and where the written last bar ends, in stored quarters."""
    return score.bar_quarters - score.pickup, bar_starts(score)[-1] - (score.pickup if score.pickup_completed else 0)


@pytest.mark.parametrize("source,bars", [
    ("oneill5", "0-1"),     # an eighth-note upbeat to a 6/8 jig, one voice
    ("bwv66.6.mxl", "0"),   # a one-beat upbeat in four voices
    ("bwv66.6.mxl", "9"),   # the last bar, three beats completing it
])
def test_infill_of_the_pickup_or_last_bar_keeps_their_length(tiny_checkpoint, tmp_path, source, bars):
    """Infilling the pickup bar writes a new upbeat of the same length (no note before it; the
    lower voices enter with it), and infilling the last bar keeps it short by as much: the
    MusicXML still opens with the short bar 0."""
    path, _ = tiny_checkpoint
    src = load_input(_tune(tmp_path, 5) if source == "oneill5" else DATA / source)
    out = infill(src, bars, seed=2, engine=path, candidates=1)
    cut, end = _cut_and_end(src)
    assert (out.pickup, out.pickup_completed, out.printed_numbers()) == \
        (src.pickup, src.pickup_completed, src.printed_numbers())
    assert min(n.onset for n in out.all_notes()) >= cut - 1e-6
    assert max(n.end for n in out.all_notes()) <= end + 1e-6
    a, z = bar_starts(src)[src.bar_index(int(bars.split("-")[0])) - 1], bar_starts(src)[src.bar_index(int(bars.split("-")[-1]), last=True)]
    edited = lambda s: [x for p in _notes(s) for x in p if a - 1e-6 <= x[1] < z - 1e-6]  # noqa: E731
    assert edited(out) and edited(out) != edited(src)
    assert [x for p in _notes(out) for x in p if x not in edited(out)] == \
        [x for p in _notes(src) for x in p if x not in edited(src)]
    write_musicxml(out, tmp_path / "x.musicxml")
    assert 'implicit="yes" number="0"' in _measures((tmp_path / "x.musicxml").read_bytes())[0]
    assert read_score(tmp_path / "x.musicxml").pickup == src.pickup


@pytest.mark.parametrize("source,bar,halves", [
    ("bwv101.7.mxl", "4", ["4", "4a"]),   # Bach's own numbers: bar 4 broken at a line
    ("oneill2", "8", ["8", "8a"]),         # the A part's last bar, before the B part's upbeat
])
def test_infill_of_a_split_bar_regenerates_the_one_musical_bar(tiny_checkpoint, tmp_path, source, bar, halves):
    """`--bars 4` on a bar printed as 4 and 4a regenerates that one bar of the meter (the model
    sees it whole) and writes it back as the two halves with their numbers."""
    from music21 import converter, stream
    path, _ = tiny_checkpoint
    src = load_input(_tune(tmp_path, 2) if source == "oneill2" else DATA / source)
    out = infill(src, bar, seed=1, engine=path, candidates=1)
    starts = bar_starts(src)
    a, z = starts[src.bar_index(int(bar)) - 1], starts[src.bar_index(int(bar), last=True)]
    assert z - a == src.bar_quarters  # the two halves make one bar
    outside = lambda s: [[x for x in p if not a - 1e-6 <= x[1] < z - 1e-6] for p in _notes(s)]  # noqa: E731
    assert outside(out) == outside(src)
    assert any(a - 1e-6 <= n.onset < z - 1e-6 for n in out.all_notes())
    assert (out.bar_meters, out.printed_numbers(), out.pickup) == (src.bar_meters, src.printed_numbers(), src.pickup)
    for old, new in zip(src.parts, out.parts):  # a phrase end in the bar stays marked where a new note starts
        marked = {n.onset for n in old.notes if n.fermata and a <= n.onset < z}
        assert {n.onset for n in new.notes if n.fermata and a <= n.onset < z} == \
            marked & {n.onset for n in new.notes}
    write_musicxml(out, tmp_path / "x.musicxml")
    measures = converter.parse(tmp_path / "x.musicxml").parts[0].getElementsByClass(stream.Measure)
    assert [f"{m.number}{m.numberSuffix or ''}" for m in measures] == src.printed_numbers()
    assert all(h in src.printed_numbers() for h in halves)


EDITS = {
    "infill": lambda s, e: api.InfillRequest(s, "2-3", candidates=1, seed=1),
    "continue": lambda s, e: api.ContinueRequest(s, 2, seed=1),
    "vary": lambda s, e: api.VaryRequest(s, 0.6, seed=1),
    "restyle": lambda s, e: api.RestyleRequest(s, "german", seed=1),
    "transform": lambda s, e: api.TransformRequest(s, transpose=2),
    "harmonize": lambda s, e: api.HarmonizeRequest(s, seed=1),
}


@pytest.mark.parametrize("op", list(EDITS))
@pytest.mark.parametrize("source", ["oneill2", "bwv101.7.mxl"])
def test_every_edit_keeps_the_pickup_bar_numbers_and_names(tiny_checkpoint, tmp_path, op, source):
    """Every edit of an O'Neill's tune (an eighth-note upbeat, bar 8 split before the B part) and
    of a Bach chorale (a one-beat upbeat, bars 4/4a and 8/8a split at line breaks, a composer)
    keeps the pickup, the user's bar numbers (a continuation counts on from them), the title,
    the composer and the part names; the MusicXML written opens with the short bar 0 and prints
    the same numbers. A restyle is a new tune after the old one: "<title> (german)", one melody."""
    from symphony.tasks.engine import Engine
    path, _ = tiny_checkpoint
    src = load_input(_tune(tmp_path, 2) if source == "oneill2" else DATA / source)
    out = api.run(EDITS[op](src, path), Engine.load(path)).score
    assert out.pickup == src.pickup
    assert out.printed_numbers()[:len(src.printed_numbers())] == src.printed_numbers()
    assert out.composer == src.composer
    if op == "restyle":
        assert out.title == f"{src.title} (german)" and [p.name for p in out.parts] == ["Melody"]
    else:
        assert out.title == src.title
        names = [p.name for p in src.parts]
        assert [p.name for p in out.parts][:len(names)] == (names if len(names) > 1 or op != "harmonize"
                                                           else ["Soprano"])
    cut, _ = _cut_and_end(src)
    assert min(n.onset for n in out.all_notes()) >= cut - 1e-6
    write_musicxml(out, tmp_path / "x.musicxml")
    back = read_score(tmp_path / "x.musicxml")
    assert (back.pickup, back.printed_numbers()) == (out.pickup, out.printed_numbers())


def test_generated_upbeat_pieces_engrave_with_a_short_first_bar(tmp_path):
    """German songs mostly start with an upbeat (70% of the Essen German tunes); the shipped
    model writes them, and they are written as a short bar 0 with a last bar completing it."""
    import symphony
    from symphony.formats.render import render_svg
    with_pickup = 0
    for seed in range(4):
        s = symphony.generate(style="german", bars=8, seed=seed)
        if not s.pickup:
            assert min(n.onset for n in s.all_notes()) == 0.0
            continue
        with_pickup += 1
        assert any(line.startswith("upbeat:") for line in s.explanation)
        write_musicxml(s, tmp_path / "g.musicxml")
        measures = _measures((tmp_path / "g.musicxml").read_bytes())
        assert 'implicit="yes" number="0"' in measures[0] and len(measures) == s.bars
        bar = s.bar_quarters
        if s.pickup_completed:  # the final note ends there, or a rest after it does (REST_AFTER_FINAL)
            end, written = max(n.end for n in s.all_notes()), s.bars * bar - s.pickup
            rested = any(line.startswith("ending:") for line in s.explanation)
            assert end == pytest.approx(written) or (rested and written - 1.0 - 1e-6 <= end < written), (end, written)
        assert render_svg(tmp_path / "g.musicxml", tmp_path / "g.svg") >= 1
    assert with_pickup >= 1


def test_aabb_with_an_upbeat_is_written_as_a_fiddler_reads_it(tmp_path):
    """A reel in AABB that opens with an upbeat (the shipped model, seed 1): every section is
    approached by the upbeat, so the written file is |: 0 | 1 | 2 :|: 2a | 3 | 4 :| with bars 2
    and 4 short by the upbeat and 2a holding the B part's upbeat, and played with its repeats
    (music21's expandRepeats) it is the written-out tune, note for note."""
    import symphony
    from music21 import converter, stream
    from symphony.music.form import plan_form, repeats_present
    s = symphony.generate(style="celtic", form="AABB", bars=8, seed=1)
    assert s.pickup and s.pickup_completed and s.bars == 9  # the pickup bar, then the form's 8 bars
    assert repeats_present(s, plan_form("AABB", 8, s.key)) == (4, 4)
    write_musicxml(s, tmp_path / "x.musicxml")
    part = converter.parse(tmp_path / "x.musicxml").parts[0]
    measures = list(part.getElementsByClass(stream.Measure))
    assert [f"{m.number}{m.numberSuffix or ''}" for m in measures] == ["0", "1", "2", "2a", "3", "4"]
    bar, up = s.bar_quarters, s.pickup
    assert [float(m.duration.quarterLength) for m in measures] == [up, bar, bar - up, up, bar, bar - up]
    starts = [m.number for m in measures if m.leftBarline is not None and getattr(m.leftBarline, "direction", "") == "start"]
    ends = [m.number for m in measures if m.rightBarline is not None and getattr(m.rightBarline, "direction", "") == "end"]
    assert (starts, ends) == ([0, 2], [2, 4])
    played = part.expandRepeats().stripTies().flatten().notes
    cut = bar - up
    assert [(round(float(n.offset), 4), n.pitch.midi) for n in played] == \
        [(round(n.onset - cut, 4), n.pitch) for n in s.parts[0].notes]


def test_infill_refuses_an_irregular_bar_in_one_line(tiny_checkpoint, tmp_path):
    """Bar 17 of the first O'Neill's sample tune lasts a sixteenth (the ABC miscounts it): less
    than a beat, nothing to regenerate, so `edit infill` says so in one line and exits 2, writing
    nothing; bar 12, split as 12 and 12a before the B part, is one bar of 2/4 and is infilled."""
    path, _ = tiny_checkpoint
    out = tmp_path / "o"
    r = run_cli("edit", "infill", str(DATA / "oneills_sample.abc"), "--bars", "16-17", "--candidates", "1",
                "--checkpoint", str(path), "--no-audio", "-o", str(out))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0 and "bar 17 lasts less than a beat of 2/4" in r.stderr
    assert not out.exists() or not any(out.iterdir())
    r = run_cli("edit", "infill", str(DATA / "oneills_sample.abc"), "--bars", "12", "--candidates", "1",
                "--checkpoint", str(path), "--no-audio", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert json.loads((out / "music.json").read_text())["bar_numbers"][11:14] == ["12", "12a", "13"]


def test_a_chorale_form_with_an_upbeat_ends_its_phrases_before_the_upbeat(tmp_path):
    """A chorale in AABB that opens with an upbeat (the shipped model, seed 4): as in Bach's
    chorales with an upbeat, each section's phrase ends with a fermata on the soprano's last note
    before the upbeat into the next section (beat 3 of 4/4 here), and alto, tenor and bass take
    that upbeat with the soprano: no voice holds its fermata note into it."""
    import symphony
    s = symphony.generate(style="chorale", form="AABB", bars=8, seed=4, key="G major")
    assert s.pickup == 1.0 and [p.name for p in s.parts] == ["Soprano", "Alto", "Tenor", "Bass"]
    bar = s.bar_quarters
    for e in (3, 5, 7):  # the stored last bars of the first three sections (bar 0 is the pickup)
        upbeat = e * bar - s.pickup
        for p in s.parts:
            before = max((n for n in p.notes if n.onset < upbeat), key=lambda n: n.onset)
            assert before.end == pytest.approx(upbeat), (p.name, e)
            assert any(n.onset == pytest.approx(upbeat) for n in p.notes), (p.name, e)
        assert max((n for n in s.parts[0].notes if n.onset < upbeat), key=lambda n: n.onset).fermata
