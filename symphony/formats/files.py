"""Any score file in, by path or as bytes (an upload): MIDI through mido, MusicXML (also
compressed .mxl), ABC and Humdrum through music21; and a score out as the bytes of a MIDI,
MusicXML or JSON file, so a server can answer without temporary folders."""
from __future__ import annotations

import io
import json
import os
from pathlib import Path

from symphony.errors import ScoreReadError
from symphony.formats.midi import MIDI_SUFFIXES, read_midi, write_midi
from symphony.formats.musicxml import MUSIC21_SUFFIXES, from_music21, to_music21
from symphony.music.score import Score

MAX_FILE_BYTES = 20 * 1024 * 1024


MUSIC21_FORMATS = {".xml": "musicxml", ".musicxml": "musicxml", ".mxl": "musicxml", ".abc": "abc",
                   ".krn": "humdrum"}
OUTPUT_FORMATS = ("mid", "musicxml", "json")


def read_score(path: str | os.PathLike | bytes, style: str | None = None, *, filename: str | None = None) -> Score:
    """Read a MIDI, MusicXML, ABC or Humdrum file (the first tune of a multi-tune ABC file).
    ``path`` may be the file's bytes, with ``filename`` saying what kind of file it is."""
    if isinstance(path, (bytes, bytearray)):
        return read_score_bytes(bytes(path), filename or "upload", style)
    p = Path(path)
    if not p.is_file():
        raise ScoreReadError(not_a_file(path))
    if p.stat().st_size > MAX_FILE_BYTES:
        raise ScoreReadError(f"{p.name} is larger than {MAX_FILE_BYTES // 2**20} MB")
    suffix = p.suffix.lower()
    if suffix in MIDI_SUFFIXES:
        score = read_midi(p)
        score.style = style
        return score
    if suffix not in MUSIC21_SUFFIXES:
        raise ScoreReadError(f"unsupported file type {suffix!r} for {p.name} "
                             f"(use .mid, .musicxml, .mxl, .abc or .krn)")
    from music21 import converter
    try:
        parsed = converter.parse(str(p))
    except Exception as e:  # music21 raises a wide range of errors on corrupt input
        raise ScoreReadError(f"cannot read {p.name}: {type(e).__name__}: {e}".split("\n")[0]) from e
    return _from_parsed(parsed, p.name, style)


def _numbered(name: str) -> bool:
    """Does a file of this name print its own bar numbers (MusicXML does; ABC and Humdrum do not)?"""
    return Path(name).suffix.lower() in (".xml", ".musicxml", ".mxl")


def not_a_file(path: str | os.PathLike, kind: str = "music file",
               suffixes: str = ".mid, .musicxml, .mxl, .abc or .krn") -> str:
    """Why ``path`` cannot be read as a file: missing, a folder, a symbolic link loop, a link
    to nothing, something else (a device, a pipe)."""
    import errno
    p, shown = Path(path), repr(os.fspath(path))
    an = "an" if kind[:1] in "aeiou" else "a"
    try:
        st = p.stat()
    except OSError as e:
        if e.errno == errno.ELOOP:
            return f"{shown} is a symbolic link loop, not {an} {kind}"
        if p.is_symlink():
            return f"{shown} is a symbolic link to {os.readlink(p)!r}, which does not exist"
        if e.errno == errno.EACCES:
            return f"cannot read {shown}: permission denied"
        if e.errno == errno.ENOTDIR:
            return f"no such {kind}: {shown} (a part of the path is not a folder)"
        return f"no such {kind}: {shown}"
    import stat
    if stat.S_ISDIR(st.st_mode):
        return f"{shown} is a folder, not {an} {kind} (name a {suffixes} file in it)"
    return f"{shown} is not a regular file"


def read_score_bytes(data: bytes, filename: str, style: str | None = None) -> Score:
    """A score from the bytes of a file called ``filename`` (its suffix says the format)."""
    name = Path(filename).name or "upload"
    if len(data) > MAX_FILE_BYTES:
        raise ScoreReadError(f"{name} is larger than {MAX_FILE_BYTES // 2**20} MB")
    suffix = Path(name).suffix.lower()
    if suffix in MIDI_SUFFIXES:
        score = read_midi(io.BytesIO(data), name=name)
        score.style = style
        return score
    if suffix not in MUSIC21_FORMATS:
        raise ScoreReadError(f"unsupported file type {suffix!r} for {name} "
                             f"(use .mid, .musicxml, .mxl, .abc or .krn)")
    from music21 import converter
    try:
        text = _mxl_document(data) if suffix == ".mxl" else data.decode("utf-8")
        parsed = converter.parseData(text, format=MUSIC21_FORMATS[suffix])
    except Exception as e:  # music21 raises a wide range of errors on corrupt input
        raise ScoreReadError(f"cannot read {name}: {type(e).__name__}: {e}".split("\n")[0]) from e
    return _from_parsed(parsed, name, style)


def _mxl_document(data: bytes) -> str:
    """The MusicXML document inside a compressed .mxl (a zip with META-INF/container.xml)."""
    import re
    import zipfile
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
        root = None
        if "META-INF/container.xml" in names:
            m = re.search(r'full-path="([^"]+)"', z.read("META-INF/container.xml").decode("utf-8", "replace"))
            root = m.group(1) if m else None
        if root not in names:
            root = next(n for n in names if n.endswith((".xml", ".musicxml")) and not n.startswith("META-INF"))
        return z.read(root).decode("utf-8")


def _from_parsed(parsed, name: str, style: str | None) -> Score:
    """The first tune of a parsed music21 stream as a Score (clear errors name the file)."""
    if hasattr(parsed, "scores") and not hasattr(parsed, "parts"):
        scores = list(parsed.scores)
        if not scores:
            raise ScoreReadError(f"{name} contains no tunes")
        parsed = scores[0]
    try:
        return from_music21(parsed, style=style, numbered=_numbered(name))
    except ScoreReadError:
        raise
    except Exception as e:
        raise ScoreReadError(f"cannot interpret {name}: {type(e).__name__}: {e}") from e


def write_json(data: dict, path: str | os.PathLike) -> None:
    Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def score_bytes(score: Score, fmt: str, record: dict | None = None) -> bytes:
    """The score as the bytes of a ``mid``, ``musicxml`` or ``json`` file (``record``: the JSON)."""
    if fmt == "mid":
        buf = io.BytesIO()
        write_midi(score, buf)
        return buf.getvalue()
    if fmt == "musicxml":
        from music21.musicxml.m21ToXml import GeneralObjectExporter
        return GeneralObjectExporter(to_music21(score)).parse()
    if fmt == "json":
        return (json.dumps(record if record is not None else score.to_dict(), indent=2, ensure_ascii=False)
                + "\n").encode("utf-8")
    raise ValueError(f"unknown format {fmt!r}; choose {', '.join(OUTPUT_FORMATS)}")
