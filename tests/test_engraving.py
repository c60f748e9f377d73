"""Engraving, markings and audio level on real files, through real verovio, cairosvg, pypdf and
FluidSynth (issue 16, items 2, 4 and 5)."""
import math
import re
import xml.etree.ElementTree as ET
from copy import deepcopy

import numpy as np
from pypdf import PdfReader
from typer.testing import CliRunner

from symphony.cli import app
from symphony.formats.audio import (
    integrated_loudness,
    k_weighting,
    measure_wav,
    true_peak_db,
)
from symphony.formats.engrave import outline_music_text, svg_pages
from symphony.formats.files import read_score
from symphony.formats.markings import dynamic_for, fermatas_in_every_voice, repeats
from symphony.formats.musicxml import write_musicxml
from symphony.formats.render import write_outputs
from symphony.music.score import Note, Part, Score
from symphony.music.theory import Key, parse_meter
from symphony.tasks.generate import phrase_end_fermatas

from .conftest import DATA


def _long_satb(times: int = 4) -> Score:
    """Bach's bwv66.6 (SATB) played `times` times in a row: a chorale of several A4 pages."""
    s = read_score(DATA / "bwv66.6.mxl")
    span = s.bars * s.bar_quarters
    for p in s.parts:
        p.notes = [Note(n.pitch, n.onset + k * span, n.duration, n.velocity, n.spelling, n.fermata)
                   for k in range(times) for n in p.notes]
    s.bars *= times
    s.bar_meters = None
    return s


def _xml(path):
    return ET.parse(path).getroot()


def _written_notes(root) -> int:
    return sum(1 for n in root.iter("note") if n.find("rest") is None)


def test_every_page_is_engraved(tmp_path):
    s = _long_satb(5)  # three A4 pages or more (bar 0 is a one-beat pickup bar, not a whole bar)
    written = write_outputs([(s, {})], tmp_path / "out", audio=False)
    out = tmp_path / "out"
    assert {p.name for p in written} >= {"music.svg", "music.pdf", "music.musicxml"}
    root = _xml(out / "music.musicxml")
    notes = _written_notes(root)
    bars = len(root.find("part").findall("measure"))
    assert bars == s.bars >= 36
    # the tall SVG holds every bar and every note
    svg = (out / "music.svg").read_text()
    assert svg.count('class="note"') == notes
    assert svg.count('class="measure"') == bars
    # the A4 pages together too, and the PDF has one page per A4 page, all of A4 size
    pages = svg_pages(out / "music.musicxml")
    assert len(pages) >= 3
    assert sum(p.count('class="note"') for p in pages) == notes
    pdf = PdfReader(out / "music.pdf")
    assert len(pdf.pages) == len(pages)
    for page in pdf.pages:
        assert abs(float(page.mediabox.width) - 595.3) < 1 and abs(float(page.mediabox.height) - 841.9) < 1
    assert (out / "music.pdf").read_bytes().startswith(b"%PDF-")


def test_music_font_text_is_drawn_as_outlines():
    """The tempo mark's note is a character of verovio's web font: cairo cannot draw it."""
    s = read_score(DATA / "AcaciaReel.abc")
    svg = svg_pages_of(s)[0]
    assert "<tspan font-family=\"Leipzig\"" in svg
    out = outline_music_text(svg)
    assert "<tspan font-family=\"Leipzig\"" not in out and "<path transform" in out


def svg_pages_of(score, tmp=None):
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as d:
        write_musicxml(score, Path(d) / "x.musicxml")
        return svg_pages(Path(d) / "x.musicxml")


def _satb_with_accompaniment() -> Score:
    s = read_score(DATA / "bwv66.6.mxl")
    for p in s.parts:
        p.program = 19  # church organ, as generated chorales sound
    chords = [Note(p, b * s.bar_quarters, s.bar_quarters) for b in range(s.bars) for p in (48, 55, 64, 67)]
    s.parts.append(Part(chords, "Accompaniment", 0))
    return s


def _clefs(part_el) -> list[tuple[str, str, str | None]]:
    """(staff number, sign, octave change) of the first clefs of a MusicXML part."""
    attrs = part_el.find("measure").find("attributes")
    return [(c.get("number", "1"), c.findtext("sign"), c.findtext("clef-octave-change"))
            for c in attrs.findall("clef")]


def test_satb_clefs_and_grand_staff(tmp_path):
    write_musicxml(_satb_with_accompaniment(), tmp_path / "c.musicxml")
    root = _xml(tmp_path / "c.musicxml")
    names = [sp.findtext("part-name") for sp in root.iter("score-part")]
    abbreviations = [sp.findtext("part-abbreviation") for sp in root.iter("score-part")]
    assert names == ["Soprano", "Alto", "Tenor", "Bass", "Accompaniment"]
    assert abbreviations == ["S.", "A.", "T.", "B.", "Acc."]
    parts = root.findall("part")
    assert _clefs(parts[0]) == [("1", "G", None)] and _clefs(parts[1]) == [("1", "G", None)]
    assert _clefs(parts[2]) in ([("1", "G", "-1")], [("1", "F", None)])  # octave treble or bass
    assert _clefs(parts[3]) == [("1", "F", None)]
    # the accompaniment: one part on two staves, treble above bass, split at middle C
    acc = parts[4]
    assert acc.find("measure").find("attributes").findtext("staves") == "2"
    assert _clefs(acc) == [("1", "G", None), ("2", "F", None)]
    octaves = {(n.findtext("staff"), int(n.find("pitch").findtext("octave")))
               for n in acc.iter("note") if n.find("pitch") is not None}
    assert all(o >= 4 for st, o in octaves if st == "1") and all(o <= 3 for st, o in octaves if st == "2")
    # verovio engraves it: a braced grand staff, the labels on later systems
    svg = svg_pages(tmp_path / "c.musicxml", tall=True)[0]
    assert re.search(r'class="grpSym">\s*<path d="M[\d,]+ C', svg)  # the brace of the grand staff
    assert "P Org" not in svg and "Pno" not in svg
    assert svg.count(">T.<") >= 1 and svg.count(">Acc.<") >= 1


def test_title_composer_and_parts_survive_edit_transform(tmp_path):
    from music21 import converter, instrument, metadata
    s = converter.parse(str(DATA / "AcaciaReel.abc"))
    s.metadata = metadata.Metadata()
    s.metadata.title = "The Acacia Reel"
    s.metadata.composer = "Trad., arr. M. Byrne"
    part = s.parts[0]
    part.partName = "Fiddle"
    for old in list(part.recurse().getElementsByClass(instrument.Instrument)):
        old.activeSite.remove(old)
    part.insert(0, instrument.Violin())
    src = tmp_path / "reel.musicxml"
    s.write("musicxml", fp=str(src))
    r = CliRunner().invoke(app, ["edit", "transform", str(src), "--transpose", "2", "-o", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    root = _xml(tmp_path / "out" / "music.musicxml")
    assert root.findtext("work/work-title") == "The Acacia Reel"
    creators = {c.get("type"): c.text for c in root.iter("creator")}
    assert creators == {"composer": "Trad., arr. M. Byrne"}
    sp = root.find("part-list/score-part")
    assert sp.findtext("part-name") == "Fiddle"
    assert sp.findtext("score-instrument/instrument-name") == "Violin"
    assert sp.findtext("midi-instrument/midi-program") == "41"  # General MIDI violin, 1-based
    svg = svg_pages(tmp_path / "out" / "music.musicxml", tall=True)[0]
    assert "The Acacia Reel" in svg and "Trad., arr. M. Byrne" in svg and "Music21" not in svg


def test_a_users_clef_and_instrument_survive_an_edit(tmp_path):
    from music21 import clef, converter, instrument

    from symphony.tasks.api import TransformRequest, run
    from symphony.tasks.common import load_input
    s = converter.parse(str(DATA / "AcaciaReel.abc"))
    part = s.parts[0]
    part.partName = "Viola"
    for old in list(part.recurse().getElementsByClass((instrument.Instrument, clef.Clef))):
        old.activeSite.remove(old)
    part.insert(0, instrument.Viola())
    part.getElementsByClass("Measure").first().insert(0, clef.AltoClef())
    part.transpose(-12, inPlace=True)
    s.write("musicxml", fp=str(tmp_path / "viola.musicxml"))
    result = run(TransformRequest(load_input(tmp_path / "viola.musicxml"), key="E minor"))
    write_musicxml(result.score, tmp_path / "out.musicxml")
    root = _xml(tmp_path / "out.musicxml")
    assert _clefs(root.find("part")) == [("1", "C", None)]
    assert root.findtext("part-list/score-part/part-name") == "Viola"
    assert root.findtext("part-list/score-part/score-instrument/instrument-name") == "Viola"


def test_generated_piece_has_no_music21_composer(tmp_path):
    s = read_score(DATA / "AcaciaReel.abc")
    s.title, s.style = "", "celtic"
    write_musicxml(s, tmp_path / "x.musicxml")
    text = (tmp_path / "x.musicxml").read_text()
    assert "Music21" not in text and "Symphony" not in _xml(tmp_path / "x.musicxml").findtext("work/work-title")


def _tune(bars: int, meter: str = "4/4", seed: int = 0) -> list[list[Note]]:
    """bars of a one-line tune, as lists of notes per bar (quarter notes and a half note)."""
    rng = np.random.default_rng(seed)
    q = parse_meter(meter).bar_quarters
    return [[Note(int(rng.integers(62, 76)), 0.0, float(q) / 2), Note(int(rng.integers(62, 76)), float(q) / 2,
                                                                      float(q) / 2)] for _ in range(bars)]


def _aabb(last_b_differs: bool) -> Score:
    a, b = _tune(4, seed=1), _tune(4, seed=2)
    b2 = deepcopy(b)
    if last_b_differs:
        b2[-1] = [Note(62, 0.0, 4.0)]  # the final cadence
    bars = a + deepcopy(a) + b + b2
    notes = [Note(n.pitch, i * 4 + n.onset, n.duration) for i, bar in enumerate(bars) for n in bar]
    s = Score([Part(notes, "Melody", 40)], Key("D", "major"), parse_meter("4/4"), 112, 16, "Reel", "celtic")
    s.meta["form"] = {"form": "AABB", "sections": [{"label": "A", "bars": [1, 4]}, {"label": "A", "bars": [5, 8]},
                                                   {"label": "B", "bars": [9, 12]}, {"label": "B", "bars": [13, 16]}]}
    return s


def test_aabb_is_written_with_repeat_signs(tmp_path):
    s = _aabb(last_b_differs=False)
    write_musicxml(s, tmp_path / "x.musicxml")
    root = _xml(tmp_path / "x.musicxml")
    measures = root.find("part").findall("measure")
    assert len(measures) == 8  # |: A :|: B :|
    repeats_at = [(m.get("number"), r.get("direction")) for m in measures for r in m.iter("repeat")]
    assert repeats_at == [("1", "forward"), ("4", "backward"), ("5", "forward"), ("8", "backward")]
    assert not list(root.iter("ending"))
    svg = svg_pages(tmp_path / "x.musicxml", tall=True)[0]
    assert 'class="barLine"' in svg and svg.count('class="measure"') == 8


def test_aabb_with_a_different_cadence_gets_first_and_second_endings(tmp_path):
    s = _aabb(last_b_differs=True)
    assert [(r.first, r.last, r.ending_bars) for r in repeats(s)] == [(1, 4, 0), (9, 12, 1)]
    write_musicxml(s, tmp_path / "x.musicxml")
    root = _xml(tmp_path / "x.musicxml")
    measures = root.find("part").findall("measure")
    assert len(measures) == 9  # A, B with its 1st ending, the 2nd ending
    endings = [(m.get("number"), e.get("number"), e.get("type")) for m in measures for e in m.iter("ending")]
    assert [e[:2] for e in endings if e[2] == "start"] == [("8", "1"), ("9", "2")]


def test_no_repeats_without_a_plan_or_when_the_copy_differs():
    s = _aabb(last_b_differs=False)
    s.parts[0].notes[9].pitch += 1  # bar 5, no longer bar 1
    assert [(r.first, r.last) for r in repeats(s)] == [(9, 12)]
    s.meta = {}
    assert repeats(s) == []


def test_tempo_dynamic_and_fermata_marks(tmp_path):
    notes = [Note(n.pitch, i * 3 + n.onset, n.duration) for i, bar in enumerate(_tune(4, "6/8")) for n in bar]
    s = Score([Part(notes, "Melody", 73)], Key("G", "major"), parse_meter("6/8"), 116, 4, "Jig", "celtic")
    s.dynamic = dynamic_for(62)
    s.parts[0].notes[-1].fermata = True
    write_musicxml(s, tmp_path / "x.musicxml")
    root = _xml(tmp_path / "x.musicxml")
    first = root.find("part").find("measure")
    metronome = first.find(".//metronome")
    assert str(s.meter) == "6/8"
    assert metronome.findtext("beat-unit") == "quarter" and metronome.find("beat-unit-dot") is not None
    assert int(metronome.findtext("per-minute")) == round(s.bpm)
    assert first.find(".//dynamics/p") is not None
    assert len(list(root.iter("fermata"))) == 1
    assert [dynamic_for(v) for v in (60, 70, 80, 95, 110)] == ["p", "mp", "mf", "f", "ff"]


def test_harmonized_voices_hold_with_the_melody():
    """A Bach melody's fermatas, and alto, tenor and bass written without any: every voice holds
    the chord under the fermata (a harmonize result); a user's file is left as it is."""
    from symphony.tasks.common import record_edit
    s = read_score(DATA / "bwv66.6.mxl")
    for p in s.parts[1:]:
        for n in p.notes:
            n.fermata = False
    starts = {n.onset for n in s.parts[0].notes if n.fermata}
    assert len(starts) >= 4
    held = fermatas_in_every_voice(s)
    for p in held[1:]:
        assert {o for o in starts if any(n.fermata and n.onset <= o < n.end for n in p.notes)} == starts
        assert all(any(n.onset <= o < n.end for o in starts) for n in p.notes if n.fermata)
    assert not any(n.fermata for p in s.parts[1:] for n in p.notes)  # copies: the score is unchanged
    source = deepcopy(s)
    record_edit(s, "transform", {}, source, 0, 0.0)
    assert not any(n.fermata for p in s.parts[1:] for n in p.notes)
    record_edit(s, "harmonize", {}, source, 0, 0.0)
    assert all(any(n.fermata for n in p.notes) for p in s.parts)


def test_chorale_phrase_ends_get_fermatas():
    s = read_score(DATA / "bwv66.6.mxl")
    for p in s.parts:
        for n in p.notes:
            n.fermata = False
    phrase_end_fermatas(s, [2])
    q = s.bar_quarters
    for p in s.parts:
        held = [n for n in p.notes if n.fermata]
        assert {math.floor(n.onset / q + 1e-6) + 1 for n in held} <= {2, s.bars}
        assert max(n.onset for n in p.notes) in {n.onset for n in held}  # the final note


def test_loudness_meter_matches_bs1770():
    # the standard's 48 kHz K-weighting coefficients
    (b1, a1), (b2, a2) = k_weighting(48000)
    assert np.allclose(b1, [1.53512485958697, -2.69169618940638, 1.19839281085285], atol=1e-8)
    assert np.allclose(a1, [1.0, -1.69065929318241, 0.73248077421585], atol=1e-8)
    assert np.allclose(b2, [1.0, -2.0, 1.0]) and np.allclose(a2, [1.0, -1.99004745483398, 0.99007225036621], atol=1e-8)
    # a 0 dBFS 997 Hz sine in one channel reads -3.01 LUFS (BS.1770-4), a 10 dB quieter one -13.01
    t = np.arange(48000 * 5) / 48000
    sine = np.sin(2 * np.pi * 997 * t)
    stereo = np.stack([sine, np.zeros_like(sine)], axis=1)
    assert abs(integrated_loudness(stereo, 48000) + 3.01) < 0.02
    assert abs(integrated_loudness(stereo * 10 ** -0.5, 48000) + 13.01) < 0.02
    assert integrated_loudness(np.zeros((48000, 2)), 48000) == -math.inf
    assert abs(true_peak_db(stereo * 0.5) - 20 * math.log10(0.5)) < 0.1


def test_wav_is_normalised(tmp_path):
    out = tmp_path / "out"
    for name, score in (("reel", read_score(DATA / "AcaciaReel.abc")), ("chorale", _long_satb(1))):
        write_outputs([(score, {})], out / name, svg=False)
        loudness, peak = measure_wav(out / name / "music.wav")
        assert peak <= -1.0 + 0.05, (name, peak)
        assert abs(loudness - (-16.0)) <= 1.0, (name, loudness)


def test_svg_of_a_generated_chorale_keeps_its_last_bar(tmp_path):
    """The issue's case: a 16-bar SATB piece lost its last bar (only page 1 was written)."""
    s = _long_satb(2)
    s.bars = 16
    for p in s.parts:
        p.notes = [n for n in p.notes if n.onset < 16 * s.bar_quarters]
    write_outputs([(s, {})], tmp_path, audio=False)
    svg = (tmp_path / "music.svg").read_text()
    assert svg.count('class="measure"') == 16
    assert len(re.findall(r"<svg\b", svg)) >= 1


def test_generated_jig_in_aabb_has_repeats_tempo_and_dynamic(tmp_path):
    """The shipped model: a lively AABB jig is written |: A :|: B :| with its mood's dynamic and a
    dotted-quarter tempo mark."""
    import symphony
    s = symphony.generate("a lively Irish jig in D major", form="AABB", bars=16, seed=1)
    assert s.dynamic in ("f", "ff")
    plan = repeats(s)
    assert plan and plan[0].first == (2 if s.pickup else 1)  # after a pickup bar, the A part is the second bar
    write_musicxml(s, tmp_path / "jig.musicxml")
    root = _xml(tmp_path / "jig.musicxml")
    assert {r.get("direction") for r in root.iter("repeat")} == {"forward", "backward"}
    assert len(root.find("part").findall("measure")) < 16
    assert root.find(".//metronome/beat-unit-dot") is not None
    assert root.find(".//dynamics") is not None


def test_engraving_works_in_any_thread(tmp_path):
    """The server engraves in worker threads after the main thread has used verovio: a toolkit
    made in another thread must still find verovio's fonts (it once could not read any file)."""
    import threading
    path = tmp_path / "bwv66.musicxml"
    write_musicxml(read_score(DATA / "bwv66.6.mxl"), path)
    in_main = svg_pages(path, tall=True)
    found: list = []
    worker = threading.Thread(target=lambda: found.append(svg_pages(path, tall=True)))
    worker.start()
    worker.join()
    assert found and len(found[0]) == len(in_main) == 1
    assert found[0][0].count('class="note"') == in_main[0].count('class="note"') > 30


def test_scores_engraved_at_once_in_several_threads(tmp_path):
    """The server engraves in worker threads: verovio once failed to read every file outside the
    thread that imported it (its fonts were looked for where its wheel was built)."""
    from concurrent.futures import ThreadPoolExecutor
    score = read_score(DATA / "AcaciaReel.abc")
    paths = []
    for i in range(4):
        paths.append(tmp_path / f"tune{i}.musicxml")
        write_musicxml(score, paths[-1])
    with ThreadPoolExecutor(4) as pool:
        pages = list(pool.map(lambda p: svg_pages(p, tall=True), paths))
    notes = [p[0].count('class="note"') for p in pages]  # (verovio's element ids differ each time)
    assert len(notes) == 4 and notes[0] > 100 and len(set(notes)) == 1, notes
