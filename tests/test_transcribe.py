"""Melodies from audio (issue 5, item 3): a real melody rendered through the real FluidSynth +
General MIDI SoundFont path, transcribed with pYIN, scored with mir_eval; bad audio files; the
``generate --melody`` command end to end with the shipped model."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from symphony.errors import RequestError
from symphony.music.score import Note, Part, Score
from symphony.formats.midi import read_midi, write_midi
from symphony.music.theory import Key, parse_meter

mir_eval = pytest.importorskip("mir_eval")

BPM = 100.0
# A G major tune in 3/4 (pitch, quarters): a repeated note, a dotted rhythm, the leading note.
TUNE = [(67, 1), (67, 1), (69, 1), (71, 1), (74, 2), (72, 1), (71, 1), (69, 1), (71, 3),
        (74, 1), (71, 0.5), (72, 0.5), (74, 1), (76, 1), (74, 1), (72, 1), (71, 1.5), (69, 0.5),
        (66, 1), (67, 3)]


def _tune() -> Score:
    notes, t = [], 0.0
    for p, d in TUNE:
        notes.append(Note(p, t, d))
        t += d
    return Score([Part(notes, "Melody", 73)], Key("G", "major"), parse_meter("3/4"), BPM, int(t // 3))


def _reference(score: Score, warp=None) -> tuple[np.ndarray, np.ndarray]:
    spq = 60.0 / score.quarter_bpm
    iv = np.array([[n.onset * spq, n.end * spq] for n in score.parts[0].notes])
    if warp is not None:
        iv = warp(iv)
    hz = np.array([440.0 * 2 ** ((n.pitch - 69) / 12) for n in score.parts[0].notes])
    return iv, hz


def _f1(ref, notes) -> float:
    iv = np.array([[max(a, 0.0), max(b, a + 1e-3)] for a, b, _ in notes])
    hz = np.array([440.0 * 2 ** ((p - 69) / 12) for _, _, p in notes])
    return mir_eval.transcription.precision_recall_f1_overlap(
        ref[0], ref[1], iv, hz, onset_tolerance=0.05, pitch_tolerance=50.0, offset_ratio=None)[2]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The tune played on a flute by FluidSynth (mono 44.1 kHz WAV)."""
    from symphony.formats.render import render_audio
    d = tmp_path_factory.mktemp("melody")
    score = _tune()
    write_midi(score, d / "tune.mid")
    render_audio(d / "tune.mid", d / "stereo.wav")
    y, sr = sf.read(d / "stereo.wav", dtype="float32")
    sf.write(d / "tune.wav", y.mean(axis=1), sr)
    return d / "tune.wav", score


@pytest.fixture(scope="module")
def transcribed(rendered):
    from symphony.understanding.audio import transcribe
    return transcribe(rendered[0])


def test_rendered_melody_is_transcribed(rendered, transcribed):
    path, score = rendered
    tr = transcribed
    assert _f1(_reference(score), tr.score_times()) >= 0.8  # the quantised score
    assert _f1(_reference(score), [(e.onset, e.offset, e.pitch) for e in tr.events]) >= 0.8  # as heard
    assert (tr.key.tonic, tr.key.mode) == ("G", "major")
    assert abs(tr.tuning_cents) < 10
    s = tr.score
    assert len(s.parts) == 1 and s.bars >= 6 and str(s.key) == "G major"
    assert s.meta["transcription"]["notes"] == len(s.parts[0].notes)
    assert "notes" in tr.summary() and "bpm" in tr.summary()
    # the score is on a grid the tokens can hold (1/24 quarter) and monophonic
    notes = s.parts[0].notes
    assert all(abs(n.onset * 24 - round(n.onset * 24)) < 1e-6 for n in notes)
    assert all(a.end <= b.onset + 1e-9 for a, b in zip(notes, notes[1:]))


def _drifted(path, tmp_path, cents_fn):
    """Resample with a time-varying rate 2**(c(t)/1200): pitch drifts by c(t) cents; returns the
    file and a function moving reference times through the same warp."""
    y, sr = sf.read(path, dtype="float32")
    t_out = np.arange(int(len(y) / 1.03)) / sr
    rate = 2 ** (cents_fn(t_out) / 1200)
    tau = np.concatenate([[0.0], np.cumsum(rate[:-1])]) / sr
    keep = tau < (len(y) - 1) / sr
    t_out, tau = t_out[keep], tau[keep]
    out = tmp_path / "drift.wav"
    sf.write(out, np.interp(tau * sr, np.arange(len(y)), y).astype(np.float32), sr)
    return out, lambda iv: np.interp(iv, tau, t_out)


@pytest.mark.parametrize("name,cents_fn", [
    ("drift", lambda t: 30 * np.sin(2 * np.pi * t / 20 + 1.0)),  # slow drift between about -30 and +30
    ("flat", lambda t: -30 + 0 * t),  # a singer 30 cents flat throughout
])
def test_pitch_drift_keeps_the_notes(rendered, tmp_path, name, cents_fn):
    from symphony.understanding.audio import transcribe
    path, score = rendered
    drifted, warp = _drifted(path, tmp_path, cents_fn)
    tr = transcribe(drifted)
    assert _f1(_reference(score, warp), tr.score_times()) >= 0.8
    assert (tr.key.tonic, tr.key.mode) == ("G", "major")
    if name == "flat":
        assert -40 < tr.tuning_cents < -20


def test_silence_and_bad_audio_are_request_errors(tmp_path):
    from symphony.understanding.audio import transcribe
    sf.write(tmp_path / "silence.wav", np.zeros(44100 * 2, dtype=np.float32), 44100)
    with pytest.raises(RequestError, match="silent"):
        transcribe(tmp_path / "silence.wav")
    noise = np.random.default_rng(0).standard_normal(44100 * 2).astype(np.float32) * 0.3
    sf.write(tmp_path / "noise.flac", noise, 44100)
    with pytest.raises(RequestError, match="no pitched sound|no clear melodic line"):
        transcribe(tmp_path / "noise.flac")
    sf.write(tmp_path / "blip.ogg", np.sin(np.arange(8000) * 0.06).astype(np.float32) * 0.3, 44100)
    with pytest.raises(RequestError, match="at least 0.5 s"):
        transcribe(tmp_path / "blip.ogg")
    # longer than 10 minutes: refused from the header, before decoding
    sf.write(tmp_path / "long.wav", np.zeros(8000 * 601, dtype=np.int16), 8000, subtype="PCM_16")
    with pytest.raises(RequestError, match="10:01.*at most 10 minutes"):
        transcribe(tmp_path / "long.wav")
    (tmp_path / "tune.txt").write_text("not audio")
    with pytest.raises(RequestError, match="WAV, FLAC, OGG or MP3"):
        transcribe(tmp_path / "tune.txt")


def test_several_instruments_at_once_are_refused(tmp_path):
    """A four-part chorale on an organ has no single melodic line."""
    from symphony.formats.render import render_audio
    from symphony.formats.files import read_score
    from symphony.understanding.audio import transcribe
    from .conftest import DATA
    s = read_score(DATA / "bwv66.6.mxl")
    for p in s.parts:
        p.program = 19
        p.notes = [n for n in p.notes if n.onset < 12]
    s.bars = 3
    write_midi(s, tmp_path / "c.mid")
    render_audio(tmp_path / "c.mid", tmp_path / "c.wav")
    with pytest.raises(RequestError, match="no clear melodic line"):
        transcribe(tmp_path / "c.wav")


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "symphony.cli", *args], capture_output=True, text=True,
                          timeout=300, env=os.environ.copy())


@pytest.mark.parametrize("kind", ["corrupt", "text"])
def test_cli_bad_audio_exits_2_and_writes_nothing(tmp_path, kind):
    bad = tmp_path / "x.wav"
    if kind == "corrupt":  # a RIFF header followed by garbage
        bad.write_bytes(b"RIFF" + bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8)))
    else:  # a text file renamed .wav
        bad.write_text("la la la, this is not a recording\n" * 20)
    out = tmp_path / "out"
    r = run_cli("generate", "--melody", str(bad), "--melody-use", "continue", "--bars", "8", "-o", str(out))
    assert r.returncode == 2
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("symphony: error:") and "x.wav" in err[0]
    assert not out.exists() or not any(out.iterdir())


def test_cli_continue_keeps_the_transcribed_opening(rendered, transcribed, tmp_path):
    path, _ = rendered
    out = tmp_path / "out"
    r = run_cli("generate", "--melody", str(path), "--melody-use", "continue", "--bars", "12", "--seed", "3",
                "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert sorted(f.name for f in out.iterdir() if f.suffix not in (".svg", ".pdf")) == [
        "music.json", "music.mid", "music.musicxml", "music.wav"]
    info = json.loads((out / "music.json").read_text())
    assert info["attributes"]["bars"] == 12 and info["attributes"]["key"] == "G major"
    assert info["melody"]["notes"] == len(transcribed.score.parts[0].notes)
    assert any(line.startswith("melody: ") for line in info["explanation"])
    assert "heard: melody:" in r.stderr
    written = sorted(read_midi(out / "music.mid").parts[0].notes, key=lambda n: n.onset)
    opening = transcribed.score.parts[0].notes
    assert len(written) > len(opening)
    assert [(n.pitch, round(n.onset, 4), round(n.duration, 4)) for n in written[:len(opening)]] == \
           [(n.pitch, round(n.onset, 4), round(n.duration, 4)) for n in opening]


def test_precedence_option_text_melody(rendered, transcribed):
    """--key beats the melody (the tune is moved there, scale degrees kept), the text's meter
    beats the melody's, the melody's tempo is used when nobody gives one; the explanation says
    where each came from."""
    from symphony.tasks.melody import compose_from_melody
    path, _ = rendered
    [s] = compose_from_melody(path, "harmonize", "3/4", key="A minor", harmony="chords", seed=1)
    why = s.explanation
    assert str(s.key) == "A minor" and str(s.meter) == "3/4"
    assert any(x.startswith("option: key A minor") for x in why)
    assert any(x.startswith("text: meter 3/4") for x in why)
    assert any(x.startswith("melody: tempo") for x in why)
    assert s.bpm == transcribed.tempo
    assert len(s.parts) == 2 and s.chords  # melody, piano (chords and bass) + chord symbols
    pcs = {n.pitch % 12 for n in s.parts[0].notes}
    assert pcs <= {9, 11, 0, 2, 4, 5, 7, 8}  # A minor's notes (with the raised seventh)


def test_develop_brings_the_theme_back(transcribed):
    from symphony.tasks.melody import develop_theme
    theme = transcribed.score
    s = develop_theme(theme, "ABA", seed=2)
    m, bq = theme.bars, theme.bar_quarters
    assert s.bars == 3 * m and s.meta["form"]["form"] == "ABA"

    def bar(notes, b):
        return [(n.pitch, round(n.onset - (b - 1) * bq, 4)) for n in notes
                if (b - 1) * bq - 1e-6 <= n.onset < b * bq - 1e-6]

    out = s.parts[0].notes
    for b in range(1, m + 1):  # the opening is the theme, note for note
        assert bar(out, b) == bar(theme.parts[0].notes, b)
    for b in range(1, m):  # and it returns in the last section (its final bar may cadence instead)
        assert bar(out, 2 * m + b) == bar(theme.parts[0].notes, b)
    assert (out[-1].pitch - s.key.tonic_pc) % 12 == 0
