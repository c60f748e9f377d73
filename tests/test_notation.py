"""Notation a musician can read (issue 16): spellings and fermatas survive a round trip, generated
notes are spelled from the key, accidentals appear exactly where required, and rests and notes
show the beats of the meter. Everything is checked on the written MusicXML."""
import xml.etree.ElementTree as ET
from fractions import Fraction as F

import pytest

from benchmarks.notation import analyse_musicxml
from symphony.formats.files import read_score
from symphony.formats.musicxml import write_musicxml
from symphony.formats.notation import spell, split_points
from symphony.music.score import Note, Part, Score
from symphony.music.theory import parse_key, parse_meter

from .conftest import DATA


def _written(path):
    """(step, alter, octave, accidental shown, fermata) of every written note head."""
    out = []
    for n in ET.parse(str(path)).getroot().iter("note"):
        p = n.find("pitch")
        if p is None:
            continue
        out.append((p.findtext("step"), round(float(p.findtext("alter") or 0)), int(p.findtext("octave")),
                    n.findtext("accidental"), n.find("notations/fermata") is not None))
    return out


def _clean(path):
    c = analyse_musicxml(path)
    assert (c["needless"], c["missing"], c["misspelled"], c["hiding"]) == (0, 0, 0, 0), c["examples"]
    return c


def test_bach_round_trip_keeps_spellings_and_fermatas(tmp_path):
    s = read_score(DATA / "bwv66.6.mxl")
    names = [n.spelling for p in s.parts for n in p.notes]
    assert {"E#4", "E#3"} & set(names) and any(x.startswith("A#") for x in names)
    assert sum(n.fermata for n in s.all_notes()) == 6  # the six phrase ends of the soprano
    assert all(n.fermata for n in s.parts[0].notes if n.fermata) and sum(n.fermata for n in s.parts[0].notes) == 6
    write_musicxml(s, tmp_path / "x.musicxml")
    _clean(tmp_path / "x.musicxml")
    assert sum(w[4] for w in _written(tmp_path / "x.musicxml")) == 6
    back = read_score(tmp_path / "x.musicxml")
    assert [n.spelling for p in back.parts for n in p.notes] == names
    assert [n.fermata for n in back.all_notes()] == [n.fermata for n in s.all_notes()]


@pytest.mark.parametrize("name", ["oneills_sample.abc", "german_sample.abc", "AcaciaReel.abc"])
def test_abc_round_trip_keeps_spellings(tmp_path, name):
    s = read_score(DATA / name)
    write_musicxml(s, tmp_path / "x.musicxml")
    _clean(tmp_path / "x.musicxml")
    back = read_score(tmp_path / "x.musicxml")
    assert [(n.pitch, n.spelling) for n in back.all_notes()] == [(n.pitch, n.spelling) for n in s.all_notes()]
    assert back.key_signature["sharps"] == s.key_signature["sharps"]


def test_key_signature_is_the_files_until_the_key_changes(tmp_path):
    from music21 import corpus

    from symphony.formats.musicxml import from_music21
    s = from_music21(corpus.parse("ryansMammoth/AcrobatsHornpipe"))  # two flats; analysed as D minor
    assert s.key_signature["sharps"] == -2 and str(s.key) != "Bb major"
    write_musicxml(s, tmp_path / "a.musicxml")
    assert ET.parse(str(tmp_path / "a.musicxml")).getroot().findtext(".//key/fifths") == "-2"
    s.key = parse_key("G major")  # an edit that changes the key writes the new key's signature
    write_musicxml(s, tmp_path / "b.musicxml")
    assert ET.parse(str(tmp_path / "b.musicxml")).getroot().findtext(".//key/fifths") == "1"


def test_key_changes_reach_the_midi_file_and_come_back(tmp_path):
    """A bridge into B's key: the MIDI file carries B's key signature where B starts (issue 21)."""
    import mido

    from symphony.formats.midi import read_midi, write_midi
    from symphony.music.score import Note, Part, Score
    from symphony.music.theory import parse_meter
    notes = [Note(p, i * 1.0, 1.0, 80) for i, p in enumerate([67, 71, 74, 67, 64, 67, 71, 76])]
    s = Score([Part(notes)], parse_key("G major"), parse_meter("4/4"), 100, 2,
              meta={"key_changes": [[4.0, "E minor"]]}, chords=[(0.0, "G"), (4.0, "Em")])
    write_midi(s, tmp_path / "k.mid")
    tick, keys = 0, []
    for msg in mido.MidiFile(str(tmp_path / "k.mid")).tracks[0]:
        tick += msg.time
        if msg.type == "key_signature":
            keys.append((tick, msg.key))
    assert keys == [(0, "G"), (4 * 480, "Em")]
    back = read_midi(tmp_path / "k.mid")
    assert back.meta["key_changes"] == [[4.0, "E minor"]] and back.chords == [(0.0, "G"), (4.0, "Em")]


def test_rare_spellings_survive(tmp_path):
    """E#, B#, Cb, double sharps and double flats, as a user's file writes them."""
    from music21 import expressions, key, meter, note, stream
    names = ["E#4", "B#4", "C-5", "F##4", "B--4", "E#4", "G4", "A4"]
    p = stream.Part()
    p.append(key.Key("c#"))
    p.append(meter.TimeSignature("4/4"))
    for nm in names:
        p.append(note.Note(nm, quarterLength=1.0))
    p.notes.last().expressions.append(expressions.Fermata())
    src = stream.Score([p])
    src.write("musicxml", fp=str(tmp_path / "in.musicxml"))
    s = read_score(tmp_path / "in.musicxml")
    assert [n.spelling for n in s.all_notes()] == names
    assert [n.fermata for n in s.all_notes()] == [False] * 7 + [True]
    write_musicxml(s, tmp_path / "out.musicxml")
    written = _written(tmp_path / "out.musicxml")
    assert [(st, al) for st, al, *_ in written] == [("E", 1), ("B", 1), ("C", -1), ("F", 2), ("B", -2),
                                                    ("E", 1), ("G", 0), ("A", 0)]
    # The key is read back from the notes; whatever it is, signs appear exactly where required.
    c = analyse_musicxml(tmp_path / "out.musicxml")
    assert (c["needless"], c["missing"]) == (0, 0), c["examples"]
    assert written[-1][4]
    back = read_score(tmp_path / "out.musicxml")
    assert [n.spelling for n in back.all_notes()] == names


def test_key_spelling_rules():
    f_minor, g_major, c_major = parse_key("F minor"), parse_key("G major"), parse_key("C major")
    assert spell(64, f_minor) == "E4"  # the leading tone, not F-flat
    assert spell(68, f_minor) == "A-4"  # the minor third, not G#
    assert spell(62, f_minor) == "D4"  # the raised sixth on the sixth letter
    assert spell(66, g_major) == "F#4" and spell(60, g_major) == "C4"
    assert spell(70, c_major) == "B-4" and spell(66, c_major) == "F#4"
    assert spell(68, c_major, nxt=69) == "G#4" and spell(68, c_major, nxt=67) == "A-4"
    assert spell(63, parse_key("E minor")) == "D#4"  # leading tone of E minor
    assert spell(65, parse_key("F# minor")) == "E#4"
    assert spell(71, parse_key("Gb major")) == "C-5"
    assert spell(67, parse_key("G zhi")) == "G4" and spell(65, parse_key("G zhi")) == "F4"
    assert spell(65, parse_key("D yu")) == "F4" and spell(70, parse_key("D yu")) == "B-4"  # D minor letters
    assert spell(70, parse_key("F gong")) == "B-4"


def test_stale_spelling_is_replaced_after_a_transposition(tmp_path):
    notes = [Note(62, 0, 1, spelling="D4"), Note(74, 1, 1, spelling="D4"), Note(62, 2, 2, spelling="C##4")]
    notes[0].pitch = 63  # transposed after reading: the old name no longer fits
    s = Score([Part(notes)], parse_key("Bb major"), parse_meter("4/4"), 100, 1)
    write_musicxml(s, tmp_path / "t.musicxml")
    assert [(st, al, o) for st, al, o, *_ in _written(tmp_path / "t.musicxml")] == [("E", -1, 4), ("D", 0, 5),
                                                                                   ("C", 2, 4)]


def _generated(tmp_path, **kw):
    from symphony.tasks.api import generate
    s = generate(**kw)
    write_musicxml(s, tmp_path / "g.musicxml")
    return s, tmp_path / "g.musicxml"


def test_generated_g_major_has_no_needless_naturals(tmp_path):
    s, path = _generated(tmp_path, style="celtic", key="G major", meter="6/8", bars=8, seed=3)
    assert str(s.key) == "G major"
    written = _written(path)
    assert written and not any(acc == "natural" for _, _, _, acc, _ in written)
    diatonic = {("F", 1), ("G", 0), ("A", 0), ("B", 0), ("C", 0), ("D", 0), ("E", 0)}
    assert not [w for w in written if (w[0], w[1]) in diatonic and w[3]]
    _clean(path)


def test_generated_f_minor_spells_e_natural_and_a_flat(tmp_path):
    s, path = _generated(tmp_path, style="german", key="F minor", emotion="sad", seed=1)  # (a drawn key otherwise)
    assert str(s.key) == "F minor"
    written = {(st, al) for st, al, *_ in _written(path)}
    assert ("A", -1) in written and ("G", 1) not in written and ("F", -1) not in written
    pcs = {n.pitch % 12 for n in s.all_notes()}
    if 4 in pcs:  # a leading tone was generated
        assert ("E", 0) in written
    _clean(path)


def test_rests_and_notes_split_by_the_beat():
    # 6/8: a rest of two quarters from the downbeat becomes dotted quarter + eighth rests
    assert split_points(F(0), F(2), 6, 8, True) == [F(3, 2)]
    # 4/4: a rest from beat 2 to the end shows beat 3
    assert split_points(F(1), F(3), 4, 4, True) == [F(2)]
    assert split_points(F(0), F(4), 4, 4, True) == []  # whole-bar rest
    assert split_points(F(0), F(2), 4, 4, True) == []  # half rest on beat 1
    # 4/4: an off-beat note across the middle of the bar is tied at beat 3
    assert split_points(F(3, 2), F(1), 4, 4, False) == [F(2)]
    assert split_points(F(1), F(2), 4, 4, False) == []  # quarter-half-quarter syncopation stays
    # 6/8: a quarter on the third eighth is tied at the second beat; across the bar line too
    assert split_points(F(1), F(1), 6, 8, False) == [F(3, 2)]
    assert split_points(F(5, 2), F(1), 6, 8, False) == [F(3)]


def test_written_file_shows_the_beat(tmp_path):
    notes = [Note(67, 1.5, 1.0), Note(69, 3.0, 1.0), Note(71, 4.0 + 1.0, 1.0)]
    s = Score([Part(notes)], parse_key("G major"), parse_meter("4/4"), 100, 2)
    write_musicxml(s, tmp_path / "b.musicxml")
    _clean(tmp_path / "b.musicxml")
    notes = [Note(67, 1.0, 1.0), Note(69, 3.0 + 1.0, 0.5)]
    s = Score([Part(notes)], parse_key("G major"), parse_meter("6/8"), 100, 2)
    write_musicxml(s, tmp_path / "c.musicxml")
    _clean(tmp_path / "c.musicxml")
    root = ET.parse(str(tmp_path / "c.musicxml")).getroot()
    assert [t.get("type") for t in root.iter("tie")] == ["start", "stop"]


def test_transform_keeps_spellings_fermatas_and_signature(tmp_path):
    from symphony.tasks.edit import transform
    s = read_score(DATA / "bwv66.6.mxl")
    t = transform(s, tempo=80)
    assert [(n.pitch, n.spelling, n.fermata) for n in t.all_notes()] == \
        [(n.pitch, n.spelling, n.fermata) for n in s.all_notes()]
    write_musicxml(t, tmp_path / "t.musicxml")
    _clean(tmp_path / "t.musicxml")
    assert sum(w[4] for w in _written(tmp_path / "t.musicxml")) == 6
    up = transform(s, transpose=1)  # G minor: every note spelled again from the new key
    write_musicxml(up, tmp_path / "u.musicxml")
    _clean(tmp_path / "u.musicxml")
    assert str(up.key) == "G minor" and ("F", 1) in {(st, al) for st, al, *_ in _written(tmp_path / "u.musicxml")}
