"""End to end: a tiny model trained on real tunes, the Python API and the CLI with real files."""
import json
import os
import subprocess
import sys

import mido
import pytest
import soundfile as sf

import symphony
from symphony.training.loop import TrainConfig, train
from symphony.model.checkpoint import load_checkpoint

from .conftest import DATA


def run_cli(*args, env=None):
    e = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "symphony.cli", *args], capture_output=True,
                          text=True, env=e, timeout=300)


def test_training_learns(tiny_checkpoint):
    path, history = tiny_checkpoint
    assert history[0]["iter"] == 40 and history[-1]["iter"] == 80
    assert history[-1]["nll_per_token"] < 3.0  # uniform over the vocabulary would be ln(761) = 6.6
    model, tok, meta = load_checkpoint(path)
    assert meta["train"]["n_layer"] == 2 and meta["tokens_version"] == tok.config.version


def test_resume_continues(tmp_path, sample_scores):
    cfg = TrainConfig(out_dir=str(tmp_path), max_iters=10, batch_size=4, block_size=128, n_layer=1,
                      n_head=1, n_embd=32, eval_interval=5, eval_pieces=2, warmup_iters=2)
    train(cfg, sample_scores, sample_scores[:2], progress=False, log=lambda *_: None)
    cfg.max_iters = 15
    logs = []
    history = train(cfg, sample_scores, sample_scores[:2], resume=True, progress=False, log=logs.append)
    assert any("resumed from iteration 10" in str(x) for x in logs)
    assert [h["iter"] for h in history] == [5, 10, 15]


def test_python_api(tiny_checkpoint):
    path, _ = tiny_checkpoint
    s = symphony.generate("a lively Irish jig in D major", bars=8, seed=3, checkpoint=path)
    assert s.full_bars == 8 and str(s.meter) == "6/8" and str(s.key) == "D major" and s.style == "celtic"
    assert 116 < s.bpm <= 160  # 'lively' speeds the jig's usual 116 bpm up (through the mood's arousal)
    assert any("jig" in line for line in s.explanation)


def test_cli_writes_all_four_files(tmp_path, tiny_checkpoint):
    path, _ = tiny_checkpoint
    out = tmp_path / "out"
    r = run_cli("generate", "a hornpipe in B flat", "--bars", "6", "--tempo", "90", "--seed", "2",
                "--checkpoint", str(path), "-o", str(out))
    assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in out.iterdir())
    assert {"music.mid", "music.musicxml", "music.wav", "music.json"} <= set(names)
    mid = mido.MidiFile(out / "music.mid")
    metas = [m for m in mid.tracks[0] if m.is_meta]
    tempo = next(m.tempo for m in metas if m.type == "set_tempo")
    ts = next(m for m in metas if m.type == "time_signature")
    assert mido.tempo2bpm(tempo) == pytest.approx(90) and (ts.numerator, ts.denominator) == (4, 4)
    assert mid.length == pytest.approx(6 * 4 * 60 / 90, rel=1e-3)
    info = json.loads((out / "music.json").read_text())
    assert info["attributes"]["key"] == "Bb major" and info["attributes"]["bars"] == 6
    audio, rate = sf.read(out / "music.wav")
    assert rate == 44100 and len(audio) / rate >= 6 * 4 * 60 / 90 - 0.1
    assert abs(audio).max() > 0.01  # not silence: the SoundFont really played
    back = symphony.read_score(out / "music.musicxml")
    assert back.bars == 6 and str(back.meter) == "4/4"


def test_cli_many_pieces(tmp_path, tiny_checkpoint):
    path, _ = tiny_checkpoint
    r = run_cli("generate", "--style", "chinese", "--key", "G zhi", "--bars", "4", "-n", "2",
                "--no-audio", "--checkpoint", str(path), "-o", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert {"music-001.mid", "music-002.json", "music-002.musicxml"} <= {p.name for p in tmp_path.iterdir()}
    a = mido.MidiFile(tmp_path / "music-001.mid")
    b = mido.MidiFile(tmp_path / "music-002.mid")
    notes = lambda m: [x.note for t in m.tracks for x in t if x.type == "note_on" and x.velocity]
    assert notes(a) != notes(b)
    assert all((n - 7) % 12 in (0, 2, 5, 7, 9) for n in notes(a))  # G zhi: G A C D E


@pytest.mark.parametrize("args,message", [
    (["--style", "klingon"], "unknown style"),
    (["--key", "H major"], "unknown key"),
    (["--meter", "7/3"], "unsupported meter"),
    (["--bars", "0"], "--bars"),
    (["--bars", "513"], "--bars"),
])
def test_cli_bad_input(tmp_path, tiny_checkpoint, args, message):
    out = tmp_path / "out"
    r = run_cli("generate", *args, "--checkpoint", str(tiny_checkpoint[0]), "-o", str(out))
    assert r.returncode == 2
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not out.exists() or not any(out.iterdir())


def test_cli_unwritable_output_and_corrupt_checkpoint(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run_cli("generate", "--style", "celtic", "-o", str(blocker / "sub"))
    assert r.returncode == 2 and "output folder" in r.stderr and "not a folder" in r.stderr
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"garbage")
    out = tmp_path / "out"
    r = run_cli("generate", "--style", "celtic", "--checkpoint", str(bad), "-o", str(out))
    assert r.returncode == 2 and "corrupt" in r.stderr
    assert not out.exists()


def test_data_add_and_stats(tmp_path):
    env = {"SYMPHONY_CACHE": str(tmp_path / "cache")}
    r = run_cli("data", "add", str(DATA), "--style", "mytunes", env=env)
    assert r.returncode == 0, r.stderr
    assert "added" in r.stdout and "could not be read" in r.stdout  # the corrupt samples
    r = run_cli("data", "stats", "--user-only", env=env)
    assert r.returncode == 0 and "mytunes" in r.stdout
    r = run_cli("data", "add", str(tmp_path / "nowhere"), "--style", "x", env=env)
    assert r.returncode == 2 and "no such folder" in r.stderr


def test_oversampling_shifts_batches_towards_a_style(sample_scores):
    from symphony.model.tokens import Tokenizer
    from symphony.training.loop import TokenDataset
    tok = Tokenizer()
    plain = TokenDataset(sample_scores, tok, 256, seed=0)
    boosted = TokenDataset(sample_scores, tok, 256, seed=0, oversample={"chorale": 5})
    is_chorale = [s.style == "chorale" for s in sample_scores]
    share = lambda d: sum(w for w, c in zip(d.weights, is_chorale) if c)
    assert share(boosted) > 2 * share(plain)
    assert abs(sum(boosted.weights) - 1) < 1e-9
