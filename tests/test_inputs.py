"""Issue 21, through the real CLI in subprocesses with real files: a user's own style end to end
(data add -> train -> styles / generate / edit in it), and every bad input answered with one
line on stderr, exit status 2, no traceback and nothing left behind."""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import xml.dom.minidom
from pathlib import Path

import pytest

from .conftest import DATA

TINY = ["--max-iters", "20", "--n-layer", "1", "--n-embd", "32", "--n-head", "2", "--block-size", "128",
        "--batch-size", "4", "--eval-interval", "10", "--warmup-iters", "2", "--seed", "1"]


def cli(*args: str, cache: Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "SYMPHONY_CACHE": str(cache), "SYMPHONY_EMBEDDING": "0",
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    return subprocess.run([sys.executable, "-m", "symphony.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300, cwd=cwd)


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.fixture(scope="module")
def user_model(tmp_path_factory):
    """`data add` of two of the sample files as 'mystyle', then a tiny model trained on it alone."""
    root = tmp_path_factory.mktemp("mystyle")
    cache = root / "cache"
    src = root / "src"
    src.mkdir()
    for name in ("han_sample.abc", "german_sample.abc"):
        shutil.copy(DATA / name, src / name)
    added = cli("data", "add", str(src), "--style", "mystyle", cache=cache)
    assert added.returncode == 0, added.stderr
    assert "added" in added.stdout and "'mystyle'" in added.stdout
    trained = cli("train", "--styles", "mystyle", *TINY, "--infill-rate", "0.3", "--out", str(root / "run"),
                  cache=cache)
    assert trained.returncode == 0, trained.stderr
    assert "training on" in trained.stderr and "mystyle" in trained.stderr  # says on what
    ckpt = root / "run" / "model.safetensors"
    assert trained.stdout.strip() == str(ckpt) and ckpt.is_file()
    return root, cache, ckpt


def test_user_style_end_to_end(user_model, tmp_path):
    root, cache, ckpt = user_model
    listed = cli("styles", "--checkpoint", str(ckpt), cache=cache)
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()] == ["mystyle"]
    assert "your own style" in listed.stdout

    out = tmp_path / "new"
    made = cli("generate", "--style", "mystyle", "--bars", "4", "--checkpoint", str(ckpt), "-o", str(out),
               "--no-audio", cache=cache)
    assert made.returncode == 0, made.stderr
    record = json.loads((out / "music.json").read_text())
    assert record["attributes"]["style"] == "mystyle"
    # the defaults of a style the built-in table does not know come from its training pieces
    meta = json.loads(subprocess.run([sys.executable, "-c", (
        "import json,sys; from symphony.model.checkpoint import read_checkpoint_meta;"
        f"print(json.dumps(read_checkpoint_meta({str(ckpt)!r})['style_defaults']))")],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
        check=True).stdout)["mystyle"]
    assert record["attributes"]["meter"] == meta["meter"] and record["attributes"]["tempo_bpm"] == meta["bpm"]

    # no --style: the checkpoint's own style, not celtic
    plain = cli("generate", "a little tune", "--bars", "4", "--checkpoint", str(ckpt), "-o", str(tmp_path / "plain"),
                "--no-audio", cache=cache)
    assert plain.returncode == 0, plain.stderr
    assert json.loads((tmp_path / "plain" / "music.json").read_text())["attributes"]["style"] == "mystyle"

    piece, tune = str(out / "music.musicxml"), str(DATA / "han_sample.abc")  # a single melodic line
    for edit in (["continue", piece, "--bars", "2", "--style", "mystyle"],
                 ["continue", piece, "--bars", "2"],  # the style found likeliest: one the model knows
                 ["infill", piece, "--bars", "2-3", "--style", "mystyle", "--candidates", "1"],
                 ["bridge", piece, piece, "--bars", "2", "--candidates", "1"],
                 ["harmonize", tune, "--style", "mystyle"],  # four voices, the style's instrument
                 ["vary", tune, "--amount", "0.5"],
                 ["restyle", tune, "--style", "mystyle"]):
        dest = tmp_path / ("edit-" + "-".join(a.lstrip("-") for a in edit if a not in (piece, tune)))
        done = cli("edit", *edit, "--checkpoint", str(ckpt), "-o", str(dest), "--no-audio", cache=cache)
        assert done.returncode == 0, (edit, done.stderr)
        assert json.loads((dest / "music.json").read_text())["attributes"]["style"] == "mystyle"

    # a style the checkpoint does not know is refused in one line
    refused = cli("generate", "--style", "celtic", "--checkpoint", str(ckpt), "-o", str(tmp_path / "no"),
                  "--no-audio", cache=cache)
    assert refused.returncode == 2 and "not trained on style 'celtic'" in refused.stderr
    assert not (tmp_path / "no").exists()


def test_train_includes_added_folders_unless_told(user_model, tmp_path):
    """Without --styles the added style is trained on; --no-user-data leaves it out (checked by
    the refusal, before any corpus is parsed)."""
    root, cache, _ = user_model
    r = cli("train", "--styles", "mystyle", "--no-user-data", *TINY, "--out", str(tmp_path / "run"), cache=cache)
    assert r.returncode == 2 and "no pieces of style 'mystyle'" in r.stderr
    assert not (tmp_path / "run").exists()


def _midi_bytes() -> bytes:
    import io

    import mido
    mid = mido.MidiFile()
    track = mido.MidiTrack()
    mid.tracks.append(track)
    for i in range(16):
        track.append(mido.Message("note_on", note=60 + i, velocity=80, time=0))
        track.append(mido.Message("note_off", note=60 + i, velocity=0, time=240))
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


@pytest.fixture()
def workspace(tmp_path):
    w = tmp_path / "w"
    w.mkdir()
    (w / "afile").write_text("not a folder")
    (w / "empty.mid").write_bytes(b"")
    (w / "truncated.mid").write_bytes(_midi_bytes()[:30])
    (w / "adir").mkdir()
    os.symlink(w / "loop-b", w / "loop-a")
    os.symlink(w / "loop-a", w / "loop-b")
    (w / "unreadable").mkdir()
    shutil.copy(DATA / "corrupt.mid", w / "unreadable" / "a.mid")
    (w / "unreadable" / "b.mid").write_bytes(b"")
    return w


# (case, arguments with W for the workspace and CKPT for the user's model, words of the message)
BAD_INPUTS = [
    ("train --batch-size 0", ["train", "--batch-size", "0", "--out", "W/run"], "--batch-size must be at least 1"),
    ("train --n-embd 32 --n-head 3", ["train", "--n-embd", "32", "--n-head", "3", "--out", "W/run"],
     "must be a positive multiple of --n-head"),
    ("train --lr -1", ["train", "--lr", "-1", "--out", "W/run"], "--lr must be a positive number"),
    ("train --out FILE", ["train", "--out", "W/afile"], "is a file, not a folder"),
    ("train --max-iters 0", ["train", "--max-iters", "0", "--out", "W/run"], "--max-iters must be at least 1"),
    ("train --resume, nothing to resume", ["train", "--resume", "--out", "W/run"], "nothing to resume"),
    ("train --styles unknown", ["train", "--styles", "klezmer", "--out", "W/run"], "no pieces of style 'klezmer'"),
    ("generate --bars ten", ["generate", "a jig", "--bars", "ten", "-o", "W/out"], "Invalid value for '--bars'"),
    ("generate --frobnicate", ["generate", "a jig", "--frobnicate", "-o", "W/out"], "No such option"),
    ("generate without -o", ["generate", "a jig"], "Missing option '-o'"),
    ("generate, a 2,001-character prompt", ["generate", "a" * 2001, "-o", "W/out"], "at most 2,000"),
    ("generate, nothing to compose from", ["generate", "-o", "W/out"], "nothing to compose from"),
    ("generate, style unknown to the model", ["generate", "--style", "chorale", "--checkpoint", "CKPT",
                                              "-o", "W/out", "--no-audio"], "not trained on style 'chorale'"),
    ("generate --checkpoint FILE not a model", ["generate", "a jig", "--checkpoint", "W/afile", "-o", "W/out"],
     "corrupt or incompatible"),
    ("styles --checkpoint missing", ["styles", "--checkpoint", "W/none.safetensors"], "no model checkpoint"),
    ("data add, nothing readable", ["data", "add", "W/unreadable", "--style", "broken"], "could be read"),
    ("data add, not a folder", ["data", "add", "W/afile", "--style", "broken"], "no such folder"),
    ("edit, empty MIDI", ["edit", "transform", "W/empty.mid", "--transpose", "2", "-o", "W/out"],
     "empty or cut short"),
    ("edit, truncated MIDI", ["edit", "transform", "W/truncated.mid", "--transpose", "2", "-o", "W/out"],
     "empty or cut short"),
    ("edit, a folder as input", ["edit", "transform", "W/adir", "--transpose", "2", "-o", "W/out"],
     "is a folder, not a music file"),
    ("edit, a symlink loop as input", ["edit", "transform", "W/loop-a", "--transpose", "2", "-o", "W/out"],
     "symbolic link loop"),
    ("edit, missing input", ["edit", "transform", "W/nothing.mid", "--transpose", "2", "-o", "W/out"],
     "no such music file"),
    ("generate --melody FOLDER", ["generate", "--melody", "W/adir", "-o", "W/out"], "is a folder, not an audio file"),
    ("generate --melody LOOP", ["generate", "--melody", "W/loop-a", "-o", "W/out"], "symbolic link loop"),
    ("generate --image LOOP", ["generate", "--image", "W/loop-a", "-o", "W/out"], "symbolic link loop"),
    ("generate --tempo nan", ["generate", "a jig", "--tempo", "nan", "--checkpoint", "CKPT", "-o", "W/out"],
     "outside 20-300"),
    ("train --block-size 10", ["train", "--block-size", "10", "--out", "W/run"], "--block-size must be at least 64"),
    ("train --init-from missing", ["train", "--init-from", "W/none.safetensors", "--out", "W/run"],
     "no such checkpoint file"),
    ("edit continue --bars ten", ["edit", "continue", "W/empty.mid", "--bars", "ten", "-o", "W/out"],
     "Invalid value for '--bars'"),
]


@pytest.mark.parametrize("case,args,words", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_one_line_exit_2_nothing_left(case, args, words, workspace, user_model, tmp_path):
    _, _, ckpt = user_model
    cache = tmp_path / "cache"
    before = tree(workspace)
    argv = [str(ckpt) if a == "CKPT" else a.replace("W/", f"{workspace}/") if a.startswith("W/") else a
            for a in args]
    r = cli(*argv, cache=cache)
    assert r.returncode == 2, (case, r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("symphony: error: "), (case, r.stderr)
    assert "Traceback" not in r.stderr and words in lines[0], (case, lines[0])
    assert not lines[0].rstrip().endswith(":"), lines[0]  # a reason, never an empty one
    assert tree(workspace) == before, (case, tree(workspace) ^ before)
    registry = cache / "corpus-v2" / "user_sources.json"
    assert not registry.exists() or "broken" not in registry.read_text()


def test_control_characters_and_long_prompts_give_valid_files(user_model, tmp_path):
    from symphony.formats.files import read_score
    _, cache, ckpt = user_model
    out = tmp_path / "cc"
    prompt = "a jig\x1b[2J\x07\x01 in D\x7f\u0085 \ud7ff" + " quick" * 300  # 1,800+ characters: accepted
    r = cli("generate", prompt, "--style", "mystyle", "--bars", "4", "--checkpoint", str(ckpt), "-o", str(out),
            cache=cache)
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stderr and "\x07" not in r.stderr  # nothing reaches the terminal either
    for name in ("music.musicxml", "music.svg"):
        xml.dom.minidom.parse(str(out / name))  # well-formed
    assert read_score(out / "music.musicxml").n_notes > 0 and read_score(out / "music.mid").n_notes > 0
    record = json.loads((out / "music.json").read_text())
    assert record["prompt"].startswith("a jig in D") and not any(ord(c) < 32 for c in record["prompt"])


def test_a_prompt_not_understood_at_all_says_so(user_model, tmp_path):
    _, cache, ckpt = user_model
    r = cli("generate", "🎻🎶✨", "--bars", "4", "--checkpoint", str(ckpt), "-o", str(tmp_path / "e"), "--no-audio",
            cache=cache)
    assert r.returncode == 0, r.stderr
    assert "nothing in the prompt was understood" in r.stderr
    assert any("nothing in the prompt was understood" in line
               for line in json.loads((tmp_path / "e" / "music.json").read_text())["explanation"])


def test_result_set_replaces_an_earlier_one_whole(user_model, tmp_path):
    _, cache, ckpt = user_model
    out = tmp_path / "set"
    base = ["generate", "a tune", "--style", "mystyle", "--bars", "2", "--checkpoint", str(ckpt), "-o", str(out)]
    assert cli(*base, "-n", "3", cache=cache).returncode == 0
    assert {p.name for p in out.iterdir()} >= {"music-003.wav", "music-001.mid"}
    (out / "notes.txt").write_text("the user's own file stays")
    r = cli(*base, "--no-audio", cache=cache)
    assert r.returncode == 0, r.stderr
    assert {p.name for p in out.iterdir()} == {"music.mid", "music.musicxml", "music.svg", "music.pdf", "music.json", "notes.txt"}


def test_a_second_writer_into_a_held_folder_fails_clearly(user_model, tmp_path):
    _, cache, ckpt = user_model
    out = tmp_path / "held"
    out.mkdir()
    (out / "music.mid").write_bytes(b"earlier")
    fd = os.open(out, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another symphony command holds the folder
        r = cli("generate", "a tune", "--style", "mystyle", "--bars", "2", "--checkpoint", str(ckpt), "-o", str(out),
                "--no-audio", cache=cache)
    finally:
        os.close(fd)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "another symphony command is writing into" in r.stderr
    assert (out / "music.mid").read_bytes() == b"earlier"  # untouched


def test_bridge_between_keys_writes_b_key_signature_where_b_starts(user_model, tmp_path):
    import re
    _, cache, ckpt = user_model
    for name, key in (("a", "D major"), ("b", "G major")):
        r = cli("edit", "transform", str(DATA / "han_sample.abc"), "--key", key, "-o", str(tmp_path / name),
                "--no-audio", cache=cache)
        assert r.returncode == 0, r.stderr
    out = tmp_path / "ab"
    r = cli("edit", "bridge", str(tmp_path / "a" / "music.musicxml"), str(tmp_path / "b" / "music.musicxml"),
            "--bars", "2", "--candidates", "1", "--style", "mystyle", "--checkpoint", str(ckpt), "-o", str(out),
            "--no-audio", cache=cache)
    assert r.returncode == 0, r.stderr
    xml_text = (out / "music.musicxml").read_text()
    first_part = xml_text.split("</part>")[0]
    changes = re.findall(r'<measure[^>]*number="(\d+)"[^>]*>(?:(?!</measure>).)*?<fifths>(-?\d+)</fifths>',
                         first_part, re.S)
    bars_a = json.loads((tmp_path / "a" / "music.json").read_text())["attributes"]["bars"]
    assert [(int(m), int(f)) for m, f in changes] == [(1, 2), (bars_a + 2 + 1, 1)]
