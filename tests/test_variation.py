"""`symphony edit vary` and `symphony edit restyle` (issue 4) with the shipped default model on
real tunes: what is kept is checked on the notes (and, through the CLI, on the written files)."""
import hashlib
import json
import os
import statistics
import subprocess
import sys

import pytest

from symphony.tasks.common import load_input
from symphony.errors import RequestError, SymphonyError
from symphony.music.score import Part, Score
from symphony.formats.midi import read_midi, write_midi
from symphony.music.theory import parse_key, parse_meter
from symphony.tasks.variation import contour_kept, melodic_line, note_distance, restyle, skeleton, skeleton_kept, vary

from .conftest import DATA

Q = 24  # the token grid: ticks per quarter


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "symphony.cli", *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=300)


def grid(notes):
    return sorted((round(n.onset * Q), n.pitch, round(n.duration * Q)) for n in notes)


def sign(x):
    return (x > 0) - (x < 0)


@pytest.fixture(scope="module")
def german():
    return load_input(DATA / "german_sample.abc")  # G major, 3/4, an upbeat, a chromatic C sharp


@pytest.fixture(scope="module")
def han():
    return load_input(DATA / "han_sample.abc")  # 2/4, syncopations tied over the barline


@pytest.fixture(scope="module")
def oneills():
    return load_input(DATA / "oneills_sample.abc")  # irregular bars (upbeats inside), triplets


def in_scale(notes, key):
    from symphony.tasks.variation import _scale
    return all((n.pitch - key.tonic_pc) % 12 in _scale(key) for n in notes)


# ----------------------------------------------------------------------------- vary

def test_amount_zero_is_the_original(german):
    v = vary(german, 0.0, seed=5)
    assert grid(v.parts[0].notes) == grid(german.parts[0].notes)
    assert v.parts[0].notes == german.parts[0].notes and v.bars == german.bars and v.key == german.key
    assert v.provenance["measures"]["distance"] == 0.0


@pytest.mark.parametrize("fixture,amount", [("german", 1.0), ("han", 0.5), ("oneills", 1.0)])
def test_keep_rhythm_keeps_every_onset_and_length(request, fixture, amount):
    src = request.getfixturevalue(fixture)
    v = vary(src, amount, "rhythm", seed=2)
    before, after = src.parts[0].notes, v.parts[0].notes
    assert [(n.onset, n.duration) for n in after] == [(n.onset, n.duration) for n in before]  # exactly
    changed = sum(a.pitch != b.pitch for a, b in zip(before, after))
    assert changed >= 0.2 * amount * len(before)  # the model chose new pitches
    new = [a for a, b in zip(after, before) if a.pitch != b.pitch]
    assert in_scale(new, src.key) and v.key == src.key and v.bars == src.bars


@pytest.mark.parametrize("fixture,amount", [("german", 1.0), ("han", 1.0), ("oneills", 0.6)])
def test_keep_contour_keeps_every_step_direction(request, fixture, amount):
    src = request.getfixturevalue(fixture)
    v = vary(src, amount, "contour", seed=3)
    at = {round(n.onset * Q): n.pitch for n in v.parts[0].notes}
    orig = src.parts[0].notes
    assert all(round(n.onset * Q) in at for n in orig)  # every note of the tune still starts there
    for a, b in zip(orig, orig[1:]):  # ... and moves the tune's way from the one before
        assert sign(at[round(b.onset * Q)] - at[round(a.onset * Q)]) == sign(b.pitch - a.pitch), (a, b)
    assert contour_kept(orig, v.parts[0].notes) == 1.0
    assert note_distance(orig, v.parts[0].notes) > 0.3 * amount


def test_distance_rises_with_the_amount(german, han):
    """Same seeds, averaged over three: the variation moves further from the tune as the amount
    grows; the notes of the units that are not re-sampled are the tune's own."""
    for src in (german, han):
        for keep in (None, "rhythm"):
            d = {a: statistics.mean(note_distance(src.parts[0].notes, vary(src, a, keep, seed=s).parts[0].notes)
                                    for s in range(3)) for a in (0.2, 0.8)}
            assert d[0.2] < d[0.8], (src.title, keep, d)
            assert 0.05 < d[0.2] < 0.5 and d[0.8] > 0.45, d
    v = vary(german, 0.3, None, seed=1)
    kept = set(grid(v.parts[0].notes)) & set(grid(german.parts[0].notes))
    assert len(kept) >= 0.6 * len(german.parts[0].notes)


def test_vary_one_part_of_a_chorale_leaves_the_others():
    src = load_input(DATA / "bwv66.6.mxl")
    v = vary(src, 0.7, None, part=1, seed=4)  # the alto
    for i in (0, 2, 3):
        assert v.parts[i].notes == src.parts[i].notes
    assert grid(v.parts[1].notes) != grid(src.parts[1].notes)
    assert v.provenance["parameters"]["part"] == 2


def test_polyphonic_part_is_refused(tmp_path):
    """A piano reduction (soprano and alto in one part) is not a line."""
    src = load_input(DATA / "bwv66.6.mxl")
    both = Score([Part(src.parts[0].notes + src.parts[1].notes)], src.key, src.meter, src.bpm, src.bars)
    write_midi(both, tmp_path / "reduction.mid")
    reduction = load_input(tmp_path / "reduction.mid")
    with pytest.raises(RequestError, match="single melodic line"):
        vary(reduction, 0.5)
    with pytest.raises(RequestError, match="single melodic line"):
        restyle(reduction, "chinese")
    with pytest.raises(RequestError, match="part 2 does not exist"):
        melodic_line(reduction, 1, "vary")


# ----------------------------------------------------------------------------- restyle

def test_restyle_meter_and_mode(oneills):
    r = restyle(oneills, "german", meter="6/8", mode="dorian", seed=1)
    key = parse_key("G dorian")
    whole = oneills.joined()  # its bar 12, split as 12 and 12a before the B part, is one bar of 6/8
    assert whole.bars == oneills.bars - 1
    assert r.key == key and r.meter == parse_meter("6/8") and r.bars == whole.bars
    notes = r.parts[0].notes
    assert in_scale(notes, key)
    skel = skeleton(whole, melodic_line(oneills, 0, "restyle"), key, r.meter)
    assert len(skel) >= whole.bars  # downbeats, and mid-bar beats where 2/4 has none: dropped
    assert skeleton_kept(skel, notes, r.meter) == 1.0 and r.provenance["skeleton"]["kept"] == 1.0
    bq = float(r.meter.bar_quarters)
    assert max(n.end for n in notes) == pytest.approx(r.bars * bq)


def test_restyle_cli_writes_a_chinese_song(german, tmp_path):
    infile = DATA / "german_sample.abc"
    out = tmp_path / "cn"
    r = run_cli("edit", "restyle", str(infile), "--style", "chinese", "--seed", "2", "--no-audio", "-o", str(out))
    assert r.returncode == 0, r.stderr
    info = json.loads((out / "music.json").read_text())
    edit = info["edit"]
    assert edit["operation"] == "restyle" and edit["seed"] == 2
    assert edit["parameters"] == {"style": "chinese", "meter": "3/4", "key": "G gong", "part": 1}
    assert edit["input"] == {"file": infile.name,
                             "fingerprint": "sha256:" + hashlib.sha256(infile.read_bytes()).hexdigest()}
    assert info["attributes"]["key"] == "G gong" and info["attributes"]["style"] == "chinese"
    back = read_midi(out / "music.mid")
    assert str(back.meter) == "3/4" and back.bars == german.bars
    key = parse_key("G gong")
    assert all((n.pitch - key.tonic_pc) % 12 in (0, 2, 4, 7, 9) for n in back.parts[0].notes)
    skel = skeleton(german, melodic_line(german, 0, "restyle"), key, back.meter)
    assert len(skel) == german.bars - 1  # the upbeat bar has no downbeat note
    assert skeleton_kept(skel, back.parts[0].notes, back.meter) == 1.0  # read from the file
    first = min(n.onset for n in back.parts[0].notes)
    assert first == pytest.approx(min(n.onset for n in german.parts[0].notes))  # the upbeat stays one


def test_vary_cli_records_the_edit(german, tmp_path):
    infile = DATA / "german_sample.abc"
    out = tmp_path / "v"
    r = run_cli("edit", "vary", str(infile), "--amount", "0.6", "--keep", "rhythm", "--seed", "7",
                "--no-audio", "-o", str(out))
    assert r.returncode == 0, r.stderr
    info = json.loads((out / "music.json").read_text())
    edit = info["edit"]
    assert edit["operation"] == "vary" and edit["seed"] == 7
    assert {k: edit["parameters"][k] for k in ("amount", "keep", "part")} == {"amount": 0.6, "keep": "rhythm", "part": 1}
    assert edit["input"]["fingerprint"] == "sha256:" + hashlib.sha256(infile.read_bytes()).hexdigest()
    assert 0.2 < edit["measures"]["distance"] < 0.8
    back = read_midi(out / "music.mid")
    TPQ = 480
    assert [(round(n.onset * TPQ), round(n.end * TPQ)) for n in back.parts[0].notes] == \
        [(round(n.onset * TPQ), round(n.end * TPQ)) for n in german.parts[0].notes]


@pytest.mark.parametrize("command,name,args", [
    ("vary", "german_sample.abc", ["--amount", "1.5"]),
    ("vary", "german_sample.abc", ["--keep", "harmony"]),
    ("vary", "german_sample.abc", ["--part", "2"]),
    ("vary", "corrupt.mid", []),
    ("restyle", "german_sample.abc", ["--style", "jazz"]),
    ("restyle", "german_sample.abc", ["--style", "chinese", "--meter", "7/8"]),
])
def test_bad_input_exits_2_and_writes_nothing(tmp_path, command, name, args):
    out = tmp_path / "o"
    r = run_cli("edit", command, str(DATA / name), *args, "--no-audio", "-o", str(out))
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("symphony: error:") and "Traceback" not in r.stderr
    assert not out.exists()


def test_bad_values_in_python(german):
    for bad in (float("nan"), 2, -0.2, "lots"):
        with pytest.raises(RequestError, match="--amount"):
            vary(german, bad)
    with pytest.raises(RequestError, match="unknown --keep"):
        vary(german, 0.5, "melody")
    with pytest.raises(RequestError, match="unknown style"):
        restyle(german, "jazz")
    with pytest.raises(RequestError, match="unknown mode"):
        restyle(german, "chinese", mode="blues")
    with pytest.raises(RequestError, match="unsupported meter"):
        restyle(german, "chinese", meter="7/8")
    with pytest.raises(RequestError, match="not trained on style 'renaissance'"):
        restyle(german, "palestrina")
    for name in ("missing.abc", "not_music.abc", "corrupt.musicxml"):
        with pytest.raises(SymphonyError):
            load_input(DATA / name)
