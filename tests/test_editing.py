"""Editing a user's score (issue 4): `symphony edit continue / harmonize / transform` on real
files, checked on what the written files say (the MIDI read back, music.json), with the tiny
model trained on real tunes; plus the pieces of the API the CLI relies on."""
import hashlib
import json

import mido
import pytest

from symphony.decoding.sampler import DEFAULT_RANGES
from symphony.formats.files import read_score
from symphony.formats.midi import read_midi
from symphony.music.harmony import ChordSpan, chord_tone_rate, parse_chord
from symphony.music.score import Part, Score
from symphony.music.theory import parse_key, quarter_bpm_to_bpm
from symphony.tasks.common import load_input
from symphony.music.chordplan import plan_chords
from symphony.tasks.edit import bar_layout, harmonize

from .conftest import DATA
from .test_pipeline import run_cli

TPQ = 480  # MIDI ticks per quarter of the written files


def _grid(notes):
    """Notes as MIDI ticks (onset, pitch, end): what a written MIDI file can hold exactly."""
    return sorted((round(n.onset * TPQ), n.pitch, round(n.end * TPQ)) for n in notes)


def _edit(tmp_path, command, infile, *args, checkpoint=None, name="out"):
    out = tmp_path / name
    extra = ["--checkpoint", str(checkpoint)] if checkpoint else []
    r = run_cli("edit", command, str(infile), *args, *extra, "--no-audio", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert {"music.mid", "music.musicxml", "music.json"} <= {p.name for p in out.iterdir()}
    info = json.loads((out / "music.json").read_text())
    return info, read_midi(out / "music.mid"), out


def _check_record(info, infile, operation, parameters, seed):
    """music.json records the operation, its parameters, the seed and the input's fingerprint."""
    edit = info["edit"]
    assert edit["operation"] == operation
    assert {k: edit["parameters"].get(k) for k in parameters} == parameters
    assert edit["seed"] == seed
    assert edit["input"]["file"] == infile.name
    assert edit["input"]["fingerprint"] == "sha256:" + hashlib.sha256(infile.read_bytes()).hexdigest()
    assert edit["model_seconds"] >= 0


# ----------------------------------------------------------------------------- continue

@pytest.mark.parametrize("name,bars", [("han_sample.abc", 4), ("bwv66.6.mxl", 3)])
def test_continue_keeps_every_note_and_adds_the_bars(tiny_checkpoint, tmp_path, name, bars):
    path, _ = tiny_checkpoint
    infile = DATA / name
    src = read_score(infile)
    info, back, _ = _edit(tmp_path, "continue", infile, "--bars", str(bars), "--seed", "3", checkpoint=path)
    _check_record(info, infile, "continue", {"bars": bars}, 3)
    assert info["attributes"]["bars"] == src.full_bars + bars  # (bars as counted from bar 1)
    assert back.bars == src.bars + bars  # the last written note ends with the last bar
    assert len(back.parts) == len(src.parts)
    bq = src.bar_quarters
    end = src.bars * bq
    for p_in, p_out in zip(src.parts, back.parts):
        old = [n for n in p_out.notes if n.onset < end - 1e-6]
        new = [n for n in p_out.notes if n.onset >= end - 1e-6]
        assert _grid(old) == _grid(p_in.notes)  # the input, exactly
        for b in range(src.bars, src.bars + bars):  # every new bar has music in every part
            assert any(b * bq <= n.onset < (b + 1) * bq for n in new), (b, p_in.name)
        assert max(n.end for n in new) == pytest.approx(end + bars * bq)


# ----------------------------------------------------------------------------- harmonize

@pytest.mark.parametrize("name", ["german_sample.abc", "bwv66.6.mxl"])
def test_harmonize_satb_keeps_the_melody(tiny_checkpoint, tmp_path, name):
    path, _ = tiny_checkpoint
    infile = DATA / name
    src = read_score(infile)
    info, back, _ = _edit(tmp_path, "harmonize", infile, "--as", "satb", "--seed", "2", checkpoint=path)
    _check_record(info, infile, "harmonize", {"as": "satb", "style": "chorale"}, 2)
    assert len(back.parts) == 4 and info["attributes"]["voices"] == 4
    assert _grid(back.parts[0].notes) == _grid(src.parts[0].notes)  # the soprano, exactly
    key = parse_key(info["attributes"]["key"])
    first = min(n.onset for n in src.parts[0].notes)
    for v in (1, 2, 3):
        lo, hi = DEFAULT_RANGES[4][v]
        notes = back.parts[v].notes
        assert notes and all(lo <= n.pitch <= hi for n in notes), v
        assert min(n.onset for n in notes) >= first - 1e-6  # the voices enter with the melody
    last_bass = max(back.parts[3].notes, key=lambda n: n.onset)
    assert last_bass.pitch % 12 == key.tonic_pc


def _written_spans(back: Score):
    """Chord spans from the chord symbols written into the MIDI file (markers)."""
    end = back.bars * back.bar_quarters
    onsets = [o for o, _ in back.chords] + [end]
    return [ChordSpan(parse_chord(fig, back.key), o, nxt - o)
            for (o, fig), nxt in zip(back.chords, onsets[1:])]


@pytest.mark.parametrize("name", ["german_sample.abc", "han_sample.abc"])
def test_harmonize_chords_fit_the_melody(tmp_path, name):
    from music21 import converter, harmony
    infile = DATA / name
    src = read_score(infile)
    info, back, out = _edit(tmp_path, "harmonize", infile, "--as", "chords", "--seed", "4")
    _check_record(info, infile, "harmonize", {"as": "chords"}, 4)
    assert _grid(back.parts[0].notes) == _grid(src.parts[0].notes)
    assert len(back.chords) >= 4 and [list(c) for c in back.chords] == info["chords"]
    spans = _written_spans(back)
    hit, total = chord_tone_rate(back.parts[0].notes, spans, back.meter)
    assert total >= 15 and hit / total >= 0.85, (hit, total)
    # the piano (chords and bass) plays tones of the chord sounding there, the bass its written bass
    assert len(back.parts) == 2
    for n in back.parts[1].notes:
        ch = next(s.chord for s in spans if s.onset - 1e-6 <= n.onset < s.end - 1e-6)
        assert ch.contains(n.pitch)
        if n.pitch < 60:
            assert n.pitch % 12 == ch.bass_pc
    written = converter.parse(out / "music.musicxml").recurse().getElementsByClass(harmony.ChordSymbol)
    assert len(written) == len(back.chords)


def test_satb_follows_irregular_bars(tiny_checkpoint):
    """BWV 269 has 2 + 1 beat bars around its repeat: the lower voices stay in step with the
    soprano on the bars as written (symphony.fourpart harmonizes beat by beat of those bars)."""
    path, _ = tiny_checkpoint
    src = read_score(DATA / "bwv269.mxl")
    assert src.bar_meters  # the file really has irregular bars
    sop = Score([src.parts[0]], src.key, src.meter, src.bpm, src.bars, bar_meters=src.bar_meters)
    out = harmonize(sop, "satb", seed=1, engine=path)
    end = max(n.end for n in src.parts[0].notes)
    assert out.bars == src.bars and out.bar_meters == src.bar_meters
    beats = {round(a + k * b, 6) for a, length, b in bar_layout(src) for k in range(round(length / b))}
    for v in (1, 2, 3):
        assert max(n.end for n in out.parts[v].notes) == pytest.approx(end)
        assert all(round(n.onset, 6) in beats or round(n.onset - 0.5, 6) in beats for n in out.parts[v].notes)
    assert out.parts[0].notes == sorted(src.parts[0].notes, key=lambda n: (n.onset, -n.pitch))


def test_chords_change_on_the_real_bars():
    """Irregular bars (O'Neill's tune with pickup bars inside): chords start on beats of the
    bars as written (or with the melody's first note), not of a regular grid, and most of them
    on bar lines."""
    s = load_input(DATA / "oneills_sample.abc")
    layout = bar_layout(s)
    assert len(layout) == s.bars and any(abs(l - s.bar_quarters) > 1e-6 for _, l, _ in layout)
    spans = plan_chords(s.parts[0].notes, s.key, s.meter, layout).spans()
    beats = {round(a + j * b, 6) for a, l, b in layout for j in range(round(l / b))}
    first = min(n.onset for n in s.parts[0].notes)
    assert all(round(sp.onset, 6) in beats | {round(first, 6)} for sp in spans)
    bar_lines = {round(a, 6) for a, _, _ in layout}
    assert sum(round(sp.onset, 6) in bar_lines for sp in spans) >= 0.7 * len(spans)
    end = layout[-1][0] + layout[-1][1]
    assert spans[-1].end == pytest.approx(end)
    assert all(a.end == pytest.approx(b.onset) for a, b in zip(spans, spans[1:]))


def test_accompaniment_and_melody_part(tmp_path):
    """--as accompaniment plays the chords in the style's pattern; --part picks the melody."""
    s = load_input(DATA / "bwv66.6.mxl")
    acc = harmonize(s, "accompaniment", style="german", part=2)  # the tenor as the melody
    assert acc.parts[0].notes == sorted(s.parts[2].notes, key=lambda n: (n.onset, -n.pitch))
    assert acc.chords and acc.provenance["parameters"] == {"as": "accompaniment", "style": "german"}
    assert len(acc.parts) == 2 and acc.parts[1].name == "Piano"
    piano = acc.parts[1].notes
    assert any(n.pitch < 60 for n in piano) and any(n.pitch >= 60 for n in piano)  # both hands
    # a dance pattern: the left hand alone on the first beat of a bar, the right hand after it
    # (both together only where a chord lasts a single beat)
    bar_starts = {round(a, 6) for a, _, _ in bar_layout(s)}
    bass_onsets = {round(n.onset, 6) for n in piano if n.pitch < 60}
    chord_onsets = {round(n.onset, 6) for n in piano if n.pitch >= 60}
    assert len(bass_onsets & bar_starts) >= 0.8 * len(bar_starts)
    assert len(chord_onsets & bar_starts) <= 0.4 * len(bar_starts)
    assert len(chord_onsets - bar_starts) >= len(bar_starts)


# ----------------------------------------------------------------------------- transform

def test_transform_transpose(tmp_path):
    infile = DATA / "german_sample.abc"
    src = read_score(infile)
    info, back, _ = _edit(tmp_path, "transform", infile, "--transpose", "3")
    _check_record(info, infile, "transform", {"transpose": 3}, 0)
    assert _grid(back.parts[0].notes) == [(a, p + 3, b) for a, p, b in _grid(src.parts[0].notes)]
    assert parse_key(info["attributes"]["key"]).tonic_pc == (src.key.tonic_pc + 3) % 12
    assert back.key.tonic_pc == (src.key.tonic_pc + 3) % 12 and back.key.mode == src.key.mode  # analysed


def test_transform_key_moves_to_the_key(tmp_path):
    infile = DATA / "german_sample.abc"
    src = read_score(infile)
    assert str(src.key) == "G major"
    info, back, _ = _edit(tmp_path, "transform", infile, "--key", "D major", name="d")
    _check_record(info, infile, "transform", {"key": "D major"}, 0)
    # the nearest way from G to D: down a fourth, every note
    assert _grid(back.parts[0].notes) == [(a, p - 5, b) for a, p, b in _grid(src.parts[0].notes)]
    assert str(back.key) == "D major" and info["attributes"]["key"] == "D major"  # music21 hears D major


def test_transform_mode_keeps_scale_degrees(tmp_path):
    infile = DATA / "german_sample.abc"
    src = read_score(infile)
    info, back, _ = _edit(tmp_path, "transform", infile, "--key", "G minor", name="gm")
    assert info["attributes"]["key"] == "G minor"
    g = parse_key("G minor")
    major = {0, 2, 4, 5, 7, 9, 11}
    expected = []
    for a, p, b in _grid(src.parts[0].notes):  # the 3rd, 6th and 7th come down a semitone
        expected.append((a, p - 1 if (p - 7) % 12 in (4, 9, 11) else p, b))
    assert _grid(back.parts[0].notes) == expected
    # notes of G major land in G minor (the tune's chromatic C sharp stays what it was)
    diatonic = [q for (_, p, _), (_, q, _) in zip(_grid(src.parts[0].notes), expected) if (p - 7) % 12 in major]
    assert len(diatonic) > 50 and {(q - 7) % 12 for q in diatonic} <= set(g.scale_semitones())


def test_transform_tempo(tmp_path):
    infile = DATA / "german_sample.abc"
    src = read_score(infile)
    info, back, out = _edit(tmp_path, "transform", infile, "--tempo", "90", name="t")
    _check_record(info, infile, "transform", {"tempo": 90.0}, 0)
    tempo = next(m.tempo for m in mido.MidiFile(out / "music.mid").tracks[0] if m.type == "set_tempo")
    assert quarter_bpm_to_bpm(mido.tempo2bpm(tempo), back.meter) == pytest.approx(90, abs=0.01)
    assert info["attributes"]["tempo_bpm"] == 90
    assert _grid(back.parts[0].notes) == _grid(src.parts[0].notes)


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("command,name,args", [
    ("continue", "corrupt.mid", []),
    ("harmonize", "corrupt.musicxml", []),
    ("transform", "corrupt.mid", ["--tempo", "90"]),
    ("transform", "corrupt.musicxml", ["--transpose", "2"]),
    ("continue", "missing.mid", []),
    ("harmonize", "not_music.abc", []),
    ("harmonize", "german_sample.abc", ["--part", "5"]),
    ("harmonize", "AcaciaReel.abc", []),  # double stops: not a single melodic line
    ("harmonize", "german_sample.abc", ["--as", "jazz"]),
    ("continue", "german_sample.abc", ["--bars", "0"]),
    ("transform", "german_sample.abc", []),  # nothing to do
    ("transform", "german_sample.abc", ["--key", "H major"]),
])
def test_bad_input_exits_2_and_writes_nothing(tiny_checkpoint, tmp_path, command, name, args):
    path, _ = tiny_checkpoint
    ckpt = ["--checkpoint", str(path)] if command != "transform" else []
    out = tmp_path / "o"
    r = run_cli("edit", command, str(DATA / name), *args, *ckpt, "--no-audio", "-o", str(out))
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert lines[0].startswith("symphony: error:") and len(lines[0]) > len("symphony: error: ") + 10
    assert not out.exists()


def test_melody_with_chords_is_refused_in_python():
    from symphony.errors import RequestError
    s = load_input(DATA / "AcaciaReel.abc")
    with pytest.raises(RequestError, match="single melodic line"):
        harmonize(s, "chords")
    with pytest.raises(RequestError, match="part 3 does not exist"):
        harmonize(Score([Part(list(s.parts[0].notes))], s.key, s.meter, s.bpm, s.bars), "chords", part=2)
