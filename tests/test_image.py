"""Pictures → mood (`--image`): real images made with Pillow/numpy, read from real files."""
from __future__ import annotations

import doctest
import json
import os
import struct
import subprocess
import sys
import time
import zlib

import numpy as np
import pytest
from PIL import Image

import symphony.understanding.image as image_mod
from symphony.errors import RequestError
from symphony.tasks.requests import resolve
from symphony.understanding.image import ImageError, analyze


# ----------------------------------------------------------------------------- pictures

def _rgb(a) -> Image.Image:
    return Image.fromarray(np.clip(np.asarray(a), 0, 255).astype(np.uint8), "RGB")


def field(h, w, colour, noise=0.0, seed=0, gradient=0.0):
    """A colour field, optionally with a vertical brightness gradient and per-pixel noise."""
    rng = np.random.default_rng(seed)
    a = np.zeros((h, w, 3)) + np.asarray(colour, float)
    a += np.linspace(-gradient / 2, gradient / 2, h)[:, None, None]
    if noise:
        a += rng.normal(0, noise, (h, w, 3))
    return _rgb(a)


def sunny_busy(h=300, w=400):  # bright, warm, saturated, busy
    return field(h, w, (250, 175, 40), noise=55)


def dark_calm(h=300, w=400):  # dark, cool, grey, smooth
    return field(h, w, (38, 42, 55), gradient=20)


def angry(h=300, w=400):  # dark saturated red with hard black stripes
    a = np.asarray(field(h, w, (150, 20, 10), noise=30), float)
    a[:, (np.arange(w) // 3) % 2 == 0] *= 0.25
    return _rgb(a)


def serene(h=300, w=400):  # light, pale blue, smooth
    return field(h, w, (185, 205, 230), gradient=30)


def save(im: Image.Image, path, **kw):
    im.save(path, **kw)
    return path


# ----------------------------------------------------------------------------- features

def test_module_doctests():
    assert doctest.testmod(image_mod).failed == 0


def test_features_move_the_right_way():
    f = lambda im: analyze(im).features  # noqa: E731
    assert f(field(64, 64, (200, 200, 200)))["brightness"] > f(field(64, 64, (50, 50, 50)))["brightness"] + 0.5
    grey, red = f(field(64, 64, (128, 128, 128))), f(field(64, 64, (220, 30, 30)))
    assert grey["saturation"] < 0.01 and red["saturation"] > 0.7
    orange, blue = f(field(64, 64, (240, 140, 30))), f(field(64, 64, (30, 90, 230)))
    assert orange["warmth"] > 0.8 and blue["warmth"] < -0.7 and abs(grey["warmth"]) < 0.01
    stripes = np.zeros((64, 64, 3))
    stripes[:32] = 255
    assert f(_rgb(stripes))["contrast"] > 0.45 and f(field(64, 64, (128, 128, 128)))["contrast"] < 0.01
    assert f(field(128, 128, (128, 128, 128), noise=50))["busyness"] > 0.8
    assert f(field(128, 128, (128, 128, 128), gradient=100))["busyness"] == 0.0  # smooth ramp: no edges


@pytest.mark.parametrize("make, quadrant", [(sunny_busy, "happy/excited"), (angry, "angry/tense"),
                                            (dark_calm, "sad/depressed"), (serene, "calm/content")])
def test_pictures_land_in_their_quadrant(make, quadrant):
    m = analyze(make())
    assert m.quadrant == quadrant, m.explanation
    assert -1 <= m.valence <= 1 and -1 <= m.arousal <= 1
    assert all(-1 <= z <= 1 for z in m.centred.values())


def test_bright_busy_beats_dark_calm_on_every_musical_property():
    hi, lo = analyze(sunny_busy()), analyze(dark_calm())
    assert hi.valence > 0.5 and hi.arousal > 0.5 and lo.valence < -0.5 and lo.arousal < -0.5
    assert hi.register_shift > 0 > lo.register_shift and hi.density > 0 > lo.density
    line = hi.explanation[0]
    assert line.startswith("picture: ") and "bright" in line and "warm" in line and "busy" in line
    assert "valence +" in line and "arousal +" in line


@pytest.mark.parametrize("fmt, ext", [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp")])
def test_formats_read_alike(tmp_path, fmt, ext):
    im = sunny_busy()
    ref = analyze(im).features
    path = save(im, tmp_path / f"pic.{ext}", format=fmt, **({"quality": 90} if fmt != "PNG" else {}))
    m = analyze(path)
    assert m.format == fmt and (m.width, m.height) == (400, 300) and m.file == f"pic.{ext}"
    for k in ("brightness", "saturation", "warmth", "contrast"):
        assert m.features[k] == pytest.approx(ref[k], abs=0.05), k
    assert m.quadrant == "happy/excited"


def test_other_pixel_modes(tmp_path):
    grey = save(Image.new("L", (50, 40), 200), tmp_path / "grey.png")
    assert analyze(grey).features["brightness"] == pytest.approx(200 / 255, abs=0.01)
    deep = save(Image.fromarray(np.full((40, 50), 50000, np.uint16)), tmp_path / "deep.png")  # 16-bit
    assert analyze(deep).features["brightness"] == pytest.approx(50000 / 65535, abs=0.01)
    rgba = Image.new("RGBA", (50, 40), (0, 0, 0, 0))  # fully transparent: seen on white
    assert analyze(save(rgba, tmp_path / "clear.png")).features["brightness"] > 0.99
    pal = sunny_busy().convert("P")
    assert analyze(save(pal, tmp_path / "pal.png")).quadrant == "happy/excited"
    tiny = save(Image.new("RGB", (1, 1), (255, 0, 0)), tmp_path / "tiny.webp", format="WEBP", lossless=True)
    assert analyze(tiny).features["busyness"] == 0.0


def test_large_picture_is_fast(tmp_path):
    h, w = 4000, 6000
    y = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    x = np.linspace(0, 1, w, dtype=np.float32)[None, :]
    a = np.stack([60 + 180 * x + 0 * y, 90 + 80 * y + 0 * x, 200 - 120 * x + 0 * y], -1)
    big = Image.fromarray(a.astype(np.uint8), "RGB")
    for fmt, ext in (("JPEG", "jpg"), ("PNG", "png")):
        path = save(big, tmp_path / f"big.{ext}", format=fmt, **({"compress_level": 1} if fmt == "PNG" else {}))
        t0 = time.perf_counter()
        m = analyze(path)
        took = time.perf_counter() - t0
        assert (m.width, m.height) == (w, h) and took < 4.0, (fmt, took)
        assert m.features["busyness"] < 0.01  # a smooth gradient at any size
    assert analyze(tmp_path / "big.jpg").features["brightness"] == pytest.approx(
        analyze(tmp_path / "big.png").features["brightness"], abs=0.02)


# ----------------------------------------------------------------------------- bad input

def _png_header(w, h) -> bytes:
    """A valid PNG signature and header announcing w x h pixels (the data is not there)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b""))


def _bad_files(tmp_path) -> dict:
    good = save(sunny_busy(), tmp_path / "good.jpg", format="JPEG")
    data = good.read_bytes()
    files = {
        "empty": tmp_path / "empty.png",
        "text": tmp_path / "notes.png",
        "truncated": tmp_path / "cut.jpg",
        "corrupt": tmp_path / "corrupt.png",
        "gif": tmp_path / "anim.gif",
        "megapixels": tmp_path / "huge.png",
        "bomb": tmp_path / "bomb.png",
        "too_big": tmp_path / "big.webp",
    }
    files["empty"].write_bytes(b"")
    files["text"].write_text("this is not a picture\n")
    files["truncated"].write_bytes(data[: len(data) // 3])
    files["corrupt"].write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(64))
    Image.new("RGB", (8, 8), "red").save(files["gif"])
    files["megapixels"].write_bytes(_png_header(12000, 9000))  # 108 MP: over our limit
    files["bomb"].write_bytes(_png_header(30000, 30000))  # 900 MP: Pillow's bomb guard too
    with open(files["too_big"], "wb") as f:  # sparse: 51 MB on disk
        f.truncate(51 * 2**20)
    return files


def test_bad_files_raise_one_clear_line(tmp_path):
    files = _bad_files(tmp_path)
    expect = {"empty": "empty", "text": "not a picture", "truncated": "truncated", "corrupt": "corrupt",
              "gif": "GIF format", "megapixels": "megapixels", "bomb": "megapixels", "too_big": "MB"}
    for name, path in files.items():
        with pytest.raises(ImageError) as e:
            analyze(path)
        msg = str(e.value)
        assert isinstance(e.value, RequestError) and "\n" not in msg and path.name in msg, name
        assert expect[name] in msg, (name, msg)
    for path in (tmp_path / "missing.png", tmp_path):
        with pytest.raises(ImageError, match="does not exist|not a file"):
            analyze(path)
    with pytest.raises(RequestError):
        resolve(image=files["truncated"])


# ----------------------------------------------------------------------------- precedence

def test_picture_sets_the_mood_unless_one_is_given(tmp_path):
    pic = save(sunny_busy(), tmp_path / "sun.png")
    req, why = resolve(style="german", image=pic)
    assert req.image["used"] and req.valence == req.image["valence"] > 0.5
    assert req.key.endswith(" major") and req.tempo > 100  # a drawn german tonic, major for a bright picture; > 96 bpm
    assert any(line.startswith("picture: sun.png") for line in why)
    dark = save(dark_calm(), tmp_path / "night.png")
    req2, _ = resolve(style="german", image=dark)
    assert req2.key == req.key.replace("major", "minor") and req2.tempo < 100 and req2.low < req.low and req2.density < req.density
    # explicit emotion wins; the picture is still read and recorded as not used
    req3, why3 = resolve(style="german", emotion="sad", image=pic)
    assert (req3.valence, req3.arousal) == (-0.7, -0.4) and req3.image["used"] is False
    assert any("not used" in line for line in why3)
    req4, _ = resolve(style="german", valence=0.2, arousal=-0.9, image=pic)
    assert (req4.valence, req4.arousal) == (0.2, -0.9)
    # an explicit tempo or key still wins over the picture's mood
    req5, _ = resolve(style="german", tempo=66, key="A dorian", image=pic)
    assert req5.tempo == 66 and req5.key == "A dorian"


def test_prompt_mood_words_win_over_the_picture(tmp_path):
    pic = save(sunny_busy(), tmp_path / "sun.png")
    text_only, _ = resolve("a sad slow lament", style="german")
    req, why = resolve("a sad slow lament", style="german", image=pic)
    if text_only.valence is not None:  # the prompt understood a mood: it wins
        assert (req.valence, req.arousal) == (text_only.valence, text_only.arousal) and req.image["used"] is False
        assert any(line.startswith("picture: sun.png") and "not used: the text's mood words win" in line
                   for line in why)
        assert req.valence < 0 < req.image["valence"]
    else:  # the prompt carries no mood: the picture's is used
        assert req.image["used"] and req.valence == req.image["valence"]


def test_words_for_one_axis_leave_the_other_to_the_picture(tmp_path):
    """'slow' speaks of arousal only: the valence comes from the picture, axis by axis."""
    sun = save(sunny_busy(), tmp_path / "sun.png")
    night = save(dark_calm(), tmp_path / "night.png")
    words_only, _ = resolve("a slow tune", style="german")
    assert words_only.valence == 0.0 and words_only.arousal < 0  # no valence in the words
    bright, why = resolve("a slow tune", style="german", image=sun)
    dark, _ = resolve("a slow tune", style="german", image=night)
    assert bright.arousal == dark.arousal == words_only.arousal  # the words' arousal wins
    assert bright.valence == bright.image["valence"] > 0.5 and dark.valence == dark.image["valence"] < 0
    assert bright.image["used"] and bright.image["axes_used"] == ["valence"]
    # the picture's valence picks the mode of the one tonic drawn for these words
    assert bright.key.split()[1] == "major" and dark.key.split()[1] == "minor"
    assert bright.key.split()[0] == dark.key.split()[0]
    assert any(line.startswith("picture: valence") for line in why)
    assert any(line.startswith("picture: sun.png") and "valence used" in line for line in why)


# ----------------------------------------------------------------------------- end to end

def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "symphony.cli", *args], capture_output=True, text=True,
                          timeout=300)


def test_python_api_accepts_an_image(tmp_path):
    import symphony
    pic = save(serene(), tmp_path / "lake.webp", format="WEBP")
    s = symphony.generate(style="celtic", bars=4, seed=1, image=pic)
    assert s.full_bars == 4 and s.meta["request"]["image"]["quadrant"] == "calm/content"
    assert any(line.startswith("picture: lake.webp") for line in s.explanation)


def test_cli_picture_moves_tempo_and_mode(tmp_path):
    from symphony.understanding.emotion import estimate_emotion
    from symphony.music.score import analyze_key
    from symphony.formats.midi import read_midi
    out = {}
    for name, im in (("bright", sunny_busy()), ("dark", dark_calm())):
        pic = save(im, tmp_path / f"{name}.jpg", format="JPEG", quality=92)
        d = tmp_path / f"out-{name}"
        r = run_cli("generate", "--style", "celtic", "--bars", "8", "--seed", "3", "--image", str(pic),
                    "--no-audio", "-o", str(d))
        assert r.returncode == 0, r.stderr
        assert f"heard: picture: {name}.jpg" in r.stderr
        info = json.loads((d / "music.json").read_text())
        assert any(line.startswith(f"picture: {name}.jpg") for line in info["explanation"])
        assert info["image"]["format"] == "JPEG" and info["image"]["used"] is True
        assert set(info["image"]["features"]) == {"brightness", "saturation", "warmth", "contrast", "busyness"}
        back = read_midi(d / "music.mid")  # measured on the written file
        out[name] = (back.bpm, analyze_key(back).mode, estimate_emotion(back, style="celtic"), info)
    (bpm_hi, mode_hi, (v_hi, a_hi), info_hi), (bpm_lo, mode_lo, (v_lo, a_lo), info_lo) = out["bright"], out["dark"]
    assert bpm_hi > 112 > bpm_lo  # celtic's default tempo is 112
    assert mode_hi == "major" and mode_lo == "minor"
    key_hi, key_lo = info_hi["attributes"]["key"].split(), info_lo["attributes"]["key"].split()
    assert key_hi[0] == key_lo[0] and (key_hi[1], key_lo[1]) == ("major", "minor")  # one drawn tonic
    assert a_hi > a_lo and v_hi > v_lo


@pytest.mark.parametrize("kind", ["corrupt", "text", "truncated"])
def test_cli_bad_picture_exits_2_and_writes_nothing(tmp_path, kind):
    path = _bad_files(tmp_path)[kind]
    out = tmp_path / "out"
    r = run_cli("generate", "--style", "celtic", "--image", str(path), "--no-audio", "-o", str(out))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("symphony: error: ") and path.name in lines[0], r.stderr
    assert not out.exists()
