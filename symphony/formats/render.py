"""Rendering: audio through a General MIDI SoundFont synth (FluidSynth), normalised in loudness
(formats.audio), sheet music through verovio (formats.engrave: every page, SVG and PDF), and the
output files of every task written atomically, as one complete set, into an output folder that
one command holds at a time (``locked_out_dir``)."""
from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from symphony.errors import RequestError, SymphonyError
from symphony.formats.audio import normalize_wav
from symphony.formats.engrave import EngraveError, write_pdf, write_svg
from symphony.formats.files import write_json
from symphony.formats.midi import write_midi
from symphony.formats.musicxml import write_musicxml
from symphony.music.score import Score
from symphony.music.text import clean_text
from symphony.settings import SOUNDFONT_CANDIDATES, soundfont_override

SAMPLE_RATE = 44100
# The files of a result set (write_outputs): music.* for one piece, music-001.* ... for several.
RESULT_FILE = re.compile(r"music(?:-\d{3,})?\.(?:mid|musicxml|wav|svg|pdf|json)")


class RenderError(SymphonyError):
    """The synth or the engraver is missing or failed."""


def find_soundfont() -> str:
    env = soundfont_override()
    for cand in ([env] if env else []) + list(SOUNDFONT_CANDIDATES):
        if cand and Path(cand).is_file():
            return cand
    raise RenderError("no General MIDI SoundFont found; run 'make setup' (installs fluid-soundfont-gm) "
                      "or set SYMPHONY_SOUNDFONT")


def render_audio(midi_path: str | os.PathLike, wav_path: str | os.PathLike,
                 soundfont: str | None = None, sample_rate: int = SAMPLE_RATE) -> None:
    """Synthesise a MIDI file to a 16-bit stereo WAV with FluidSynth."""
    exe = shutil.which("fluidsynth")
    if exe is None:
        raise RenderError("FluidSynth is not installed; run 'make setup'")
    sf = soundfont or find_soundfont()
    cmd = [exe, "-ni", "-q", "-g", "0.7", "-r", str(sample_rate), "-F", str(wav_path), "-T", "wav",
           sf, str(midi_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0 or not Path(wav_path).is_file() or Path(wav_path).stat().st_size < 100:
        raise RenderError(f"FluidSynth failed: {(proc.stderr or proc.stdout).strip()[:200]}")


def render_svg(musicxml_path: str | os.PathLike, svg_path: str | os.PathLike) -> int:
    """Engrave a MusicXML file with verovio: the whole score as one tall SVG page (very long
    pieces go on in stem.p2.svg ...); returns the number of SVG files written."""
    try:
        return len(write_svg(musicxml_path, svg_path))
    except EngraveError as e:
        raise RenderError(str(e)) from e


def render_pdf(musicxml_path: str | os.PathLike, pdf_path: str | os.PathLike) -> int:
    """Every A4 page of a MusicXML file in one PDF; returns the page count."""
    try:
        return write_pdf(musicxml_path, pdf_path)
    except EngraveError as e:
        raise RenderError(str(e)) from e


def check_out_dir(out_dir: str | os.PathLike) -> None:
    """Fail early, without creating anything, if out_dir cannot be created or written."""
    p = Path(out_dir).absolute()
    while not p.exists():
        p = p.parent
    if not p.is_dir() or not os.access(p, os.W_OK):
        raise RequestError(f"cannot write the output folder {os.fspath(out_dir)!r}: "
                           f"{p} is {'not a folder' if not p.is_dir() else 'not writable'}")


def prepare_out_dir(out_dir: str | os.PathLike) -> Path:
    check_out_dir(out_dir)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RequestError(f"cannot create output folder {os.fspath(out_dir)!r}: {e.strerror}") from e
    if not os.access(out, os.W_OK):
        raise RequestError(f"output folder {os.fspath(out_dir)!r} is not writable")
    return out


@contextmanager
def locked_out_dir(out_dir: str | os.PathLike) -> Iterator[Path]:
    """Hold the output folder for the whole of one command (an exclusive ``flock`` on the
    folder itself, so no lock file is left in it): a second command writing into the same
    folder at the same time fails at once with RequestError instead of mixing or replacing the
    first one's result set. A folder created here is removed again if the command fails."""
    import fcntl
    check_out_dir(out_dir)
    created = not Path(out_dir).exists()
    out = prepare_out_dir(out_dir)
    fd = os.open(out, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise RequestError(f"another symphony command is writing into {os.fspath(out_dir)!r}; "
                           f"wait for it to finish or choose another folder") from None
    ok = False
    try:
        yield out
        ok = True
    finally:
        if not ok and created:
            shutil.rmtree(out, ignore_errors=True)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def write_outputs(items: list[tuple[Score, dict]], out_dir: str | os.PathLike, audio: bool = True,
                  svg: bool = True) -> list[Path]:
    """Write music.{mid,musicxml,wav,svg,pdf,json} (music-001.* ... when several) into out_dir.

    Everything is rendered in a temporary folder next to out_dir first and moved into place only
    when all files exist, so a failure leaves no half-written output behind."""
    out = prepare_out_dir(out_dir)
    # User text (a prompt, an input file's title) loses control characters on its way into the
    # MusicXML, MIDI and SVG: XML 1.0 forbids them and Symphony must read its files back.
    items = [(dataclasses.replace(score, title=clean_text(score.title)), info) for score, info in items]
    stems = ["music"] if len(items) == 1 else [f"music-{i + 1:03d}" for i in range(len(items))]
    written: list[Path] = []
    with tempfile.TemporaryDirectory(dir=out, prefix=".symphony-") as tmp:
        tmpd = Path(tmp)
        for stem, (score, info) in zip(stems, items):
            write_midi(score, tmpd / f"{stem}.mid")
            write_musicxml(score, tmpd / f"{stem}.musicxml")
            if audio:
                render_audio(tmpd / f"{stem}.mid", tmpd / f"{stem}.wav")
                normalize_wav(tmpd / f"{stem}.wav")
            if svg:
                for engrave, suffix in ((render_svg, ".svg"), (render_pdf, ".pdf")):
                    try:
                        engrave(tmpd / f"{stem}.musicxml", tmpd / f"{stem}{suffix}")
                    except Exception:  # engraving is a convenience; the MusicXML is the score
                        pass
            write_json(info, tmpd / f"{stem}.json")
        for f in sorted(tmpd.iterdir()):
            dest = out / f.name
            os.replace(f, dest)
            written.append(dest)
    # The set is complete and alone: files of an earlier result set (its music.wav when this one
    # has no audio, its music-003.* when this one has fewer pieces) go.
    keep = {f.name for f in written}
    for f in out.iterdir():
        if RESULT_FILE.fullmatch(f.name) and f.name not in keep and f.is_file():
            f.unlink(missing_ok=True)
    return written
