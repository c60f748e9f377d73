"""Audio through the real FluidSynth + General MIDI SoundFont; engraving through verovio."""
import numpy as np
import pytest
import soundfile as sf

from symphony.formats.render import find_soundfont, render_audio, render_svg, write_outputs
from symphony.formats.files import read_score
from symphony.formats.midi import write_midi
from symphony.formats.musicxml import write_musicxml

from .conftest import DATA


def test_soundfont_is_installed():
    assert find_soundfont().endswith((".sf2", ".sf3"))


def test_chorale_renders_to_audio(tmp_path):
    s = read_score(DATA / "bwv66.6.mxl")
    for p in s.parts:
        p.program = 19  # church organ
    write_midi(s, tmp_path / "c.mid")
    render_audio(tmp_path / "c.mid", tmp_path / "c.wav")
    audio, rate = sf.read(tmp_path / "c.wav")
    expected = s.bars * s.bar_quarters * 60 / s.quarter_bpm
    assert rate == 44100 and audio.ndim == 2
    assert expected - 0.5 <= len(audio) / rate <= expected + 4  # plus the release and reverb tail
    # sound during the music, and the organ is louder than the tail of silence after the release
    rms = np.sqrt((audio[: int(expected * rate)] ** 2).mean())
    assert rms > 0.01


def test_engraving(tmp_path):
    s = read_score(DATA / "bwv66.6.mxl")
    write_musicxml(s, tmp_path / "c.musicxml")
    pages = render_svg(tmp_path / "c.musicxml", tmp_path / "c.svg")
    svg = (tmp_path / "c.svg").read_text()
    assert pages >= 1 and svg.startswith("<svg") or "<svg" in svg[:500]
    assert svg.count("class=\"note\"") >= 30  # notes were engraved


def test_failed_render_leaves_nothing(tmp_path, monkeypatch):
    """If any file fails, the output folder gets none of them."""
    s = read_score(DATA / "AcaciaReel.abc")
    monkeypatch.setenv("SYMPHONY_SOUNDFONT", str(tmp_path / "missing.sf2"))
    monkeypatch.setattr("symphony.formats.render.SOUNDFONT_CANDIDATES", ())
    from symphony.errors import SymphonyError
    with pytest.raises(SymphonyError, match="SoundFont"):
        write_outputs([(s, {"x": 1})], tmp_path / "out")
    assert not any((tmp_path / "out").iterdir())
