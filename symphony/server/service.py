"""What the studio does, without HTTP: compose, read uploads, edit, save manual note changes,
restore versions, export. Routes call these and turn their errors into status codes
(``SymphonyError`` -> 400, ``NotFound`` -> 404, ...); nothing here knows about requests.

A task runs on a worker thread of the ``JobPool``; it reads the piece, runs on the engine and
saves the result as one Doc transaction and one database transaction at the very end, so a task
that fails or is cancelled leaves the saved piece as it was."""
from __future__ import annotations

import base64
import binascii
import dataclasses
import shutil
import json
import tempfile
import threading
from pathlib import Path

from symphony.errors import Cancelled, RequestError, ScoreReadError
from symphony.formats.notation import spell_part
from symphony.music.score import Note, Part, Score
from symphony.music.text import clean_text
from symphony.server import document, history
from symphony.server.config import ServerSettings
from symphony.server.document import Content
from symphony.server.jobs import Job, JobPool
from symphony.server.store import Store, Stored, iso
from symphony.tasks import api
from symphony.tasks.engine import Engine
from symphony.tasks.limits import FILL_CANDIDATES

EXPORT_TYPES = {"mid": "audio/midi", "musicxml": "application/vnd.recordare.musicxml+xml", "wav": "audio/wav",
                "svg": "image/svg+xml", "pdf": "application/pdf"}
UPLOAD_SUFFIXES = (".mid", ".midi", ".musicxml", ".xml", ".mxl", ".abc")
EDIT_OPS = ("infill", "continue", "harmonize", "vary", "restyle", "transform")
MAX_TITLE = 120


class Studio:
    """The server's state: settings, the store, the job pool and the engine (loaded once)."""

    def __init__(self, settings: ServerSettings):
        self.settings = settings
        self.store = Store(settings.database_url)
        self.jobs = JobPool(settings.workers, settings.queue_size, settings.jobs_per_client)
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        with self._engine_lock:
            if self._engine is None:
                self._engine = Engine.load(self.settings.checkpoint)
            return self._engine

    def close(self) -> None:
        self.jobs.shutdown()
        self.store.close()

    # ------------------------------------------------------------------ pieces as JSON
    def piece(self, piece_id: str) -> dict:
        hit = self.store.cached((piece_id, *self.store.revision(piece_id)))
        return hit if hit is not None else self.piece_of(self.store.get(piece_id))

    def piece_json(self, piece_id: str) -> bytes:
        """The piece as JSON bytes, encoded once per revision (the studio reads pieces often)."""
        key = (piece_id, *self.store.revision(piece_id), "json")
        raw = self.store.cached(key)
        if raw is None:
            raw = json.dumps(self.piece(piece_id), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            self.store.remember(key, raw)
        return raw

    def piece_of(self, stored: Stored, cache: bool = True) -> dict:
        """The API's piece: {id, title, attributes, explanation, bars, version, parts: [...]}."""
        hit = self.store.cached((stored.id, *stored.revision)) if cache else None
        if hit is not None:
            return hit
        c = document.read(stored.doc)
        parts = []
        for p, ids in zip(c.score.parts, c.ids):
            names = spell_part(p.notes, c.score.key) if p.notes else []
            parts.append({"name": p.name, "program": p.program, "notes": [
                {"id": i, "pitch": n.pitch, "spelling": s, "onset": n.onset, "duration": n.duration,
                 "velocity": n.velocity} for n, i, s in zip(p.notes, ids, names)]})
        out = {"id": stored.id, "title": stored.title, "attributes": c.attributes,
               "explanation": list(c.score.explanation), "bars": c.score.bars, "pickup": c.score.pickup,
               "bar_numbers": c.score.printed_numbers(), "version": stored.version,
               "created": iso(stored.created), "updated": iso(stored.updated), "parts": parts}
        if cache:
            self.store.remember((stored.id, *stored.revision), out)
        return out

    # ------------------------------------------------------------------ jobs
    # ``author``: the user id of who asks (the new piece's owner), None in single-user mode
    def compose(self, options: api.Options, job: Job, author: str | None = None) -> dict:
        """Runs on a worker: a new piece, saved as version 1 (nothing saved if it fails)."""
        hooks = api.TaskHooks(on_event=job.emit, cancel=job.cancel)
        result = api.run(options, self.engine, hooks)
        title = result.score.title = _title(result.score.title or options.prompt) or "Untitled"
        content = document.content_of(result.score, result.attributes)
        stored = self.store.create(content, title, "generate", author, history.describe_new("generate", content))
        return self.piece_of(stored)

    def media_files(self, media: dict[str, str | None]) -> MediaFiles:
        return decode_media(media, self.settings.max_upload_bytes)

    def check_options(self, options: api.Options) -> None:
        if options.bars is not None and not 1 <= options.bars <= self.settings.max_bars:
            raise RequestError(f"bars must be between 1 and {self.settings.max_bars} on this server, "
                               f"got {options.bars}")

    def edit(self, piece_id: str, body: dict, job: Job, author: str | None = None) -> dict:
        """Runs on a worker: an edit of the saved piece, saved as its next version."""
        base = document.read(self.store.get(piece_id).doc)
        request = edit_request(body, base.score, self.settings.max_bars)
        def progress(done: int, of: int) -> None:
            job.emit({"type": "progress", "done": int(done), "total": int(of)})
        result = api.run(request, self.engine, api.TaskHooks(progress=progress, cancel=job.cancel))
        if job.cancel.is_set():
            raise Cancelled("cancelled")
        moved = _moved_ids(base, result.score) if body["op"] == "transform" else None
        ids = moved or document.match_ids(base, result.score)
        target = Content(result.score, ids,
                         document.attributes_of(result.score, {**_kept_attributes(base), **result.attributes}))
        return self.piece_of(self.store.change(piece_id, lambda doc: document.apply(doc, base, target), body["op"],
                                               author, lambda a, b: history.describe_edit(body, history.diff(a, b))))

    # ------------------------------------------------------------------ quick changes
    def upload(self, data: bytes, filename: str, author: str | None = None) -> dict:
        name = Path(filename or "upload").name
        suffix = Path(name).suffix.lower()
        if suffix not in UPLOAD_SUFFIXES:
            raise UnsupportedFile(f"{name!r} is not a MIDI, MusicXML or ABC file "
                                  f"(use {', '.join(UPLOAD_SUFFIXES)})")
        from symphony.tasks.common import load_input
        score = load_input(data, name)
        if score.bars > self.settings.max_bars:
            raise RequestError(f"{name} has {score.bars} bars; this server takes at most {self.settings.max_bars}")
        title = score.title = _title(score.title or Path(name).stem) or "Untitled"
        content = document.content_of(score, api.result_of(score).attributes)
        summary = history.describe_new("upload", content, name)
        return self.piece_of(self.store.create(content, title, "upload", author, summary))

    def replace_notes(self, piece_id: str, parts: list[dict], title: str | None = None,
                      author: str | None = None) -> dict:
        """The studio's manual edits: the whole parts list as the user left it, saved as the
        next version (notes keep their ids; a note without an id is new)."""
        def edit(doc):
            base = document.read(doc)
            target = notes_content(base, parts, self.settings.max_bars)
            if title:
                target.score.title = _title(title)
            document.apply(doc, base, target)
            return target.score.title or None
        return self.piece_of(self.store.change(piece_id, edit, "notes", author, history.describe_change))

    def at_version(self, piece_id: str, version: int) -> dict:
        """The piece as it was at ``version`` (read-only; ``restore`` makes it current)."""
        current = self.store.get(piece_id)
        doc = self.store.snapshot(piece_id, version)
        title = document.read(doc).score.title or current.title
        return self.piece_of(Stored(piece_id, title, version, current.created, current.updated, doc), cache=False)

    def restore(self, piece_id: str, version: int, author: str | None = None) -> dict:
        """Make ``version`` current again as a new version (later ones stay in the history). Its
        notes come back with their ids, so the diff against it is empty."""
        old = document.read(self.store.snapshot(piece_id, version))
        what = history.restored(self.store.version_info(piece_id, version))

        def edit(doc):
            document.apply(doc, document.read(doc), old)
            return old.score.title or None
        return self.piece_of(self.store.change(piece_id, edit, "restore", author, lambda a, b: what))

    def export(self, piece_id: str, fmt: str, version: int | None = None) -> tuple[bytes, str, str]:
        """The piece (at ``version``; None: the current one) as a file: (bytes, media type, file name)."""
        stored = self.store.get(piece_id)
        doc = stored.doc if version is None or version == stored.version else self.store.snapshot(piece_id, version)
        score = document.read(doc).score
        return export_bytes(score, fmt), EXPORT_TYPES[fmt], f"{_file_stem(stored.title)}.{fmt}"


MEDIA = ("image", "melody")  # ComposeBody's files, sent as base64 or data: URLs
FILE_NAMES = {"image": "picture", "melody": "melody"}  # as the explanation names them


class MediaFiles:
    """The picture and melody of a compose request, decoded into a private folder for the job
    (as --image and --melody files) and removed when it ends."""

    def __init__(self, folder: Path | None, paths: dict[str, str]):
        self.folder, self.paths = folder, paths

    def around(self, work):
        def run(job):
            try:
                return work(job)
            finally:
                self.remove()
        return run

    def remove(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def decode_media(media: dict[str, str | None], limit: int) -> MediaFiles:
    """base64 (or data: URL) fields -> files in a new folder; a clear RequestError for text that is
    not base64 or a file over the upload limit."""
    decoded = {}
    for name, text in media.items():
        if not text:
            continue
        data = text.split(",", 1)[1] if text.startswith("data:") and "," in text else text
        if len(data) * 3 // 4 > limit:
            raise RequestError(f"{name} is larger than this server's upload limit of {limit / 2**20:g} MB")
        try:
            decoded[name] = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise RequestError(f"{name} must be a file as base64 or a data: URL") from None
        if not decoded[name]:
            raise RequestError(f"{name} is empty")
    if not decoded:
        return MediaFiles(None, {})
    folder = Path(tempfile.mkdtemp(prefix="symphony-media-"))
    paths = {}
    for name, data in decoded.items():
        path = folder / (FILE_NAMES[name] + _suffix(data))  # the audio reader goes by the suffix
        path.write_bytes(data)
        paths[name] = str(path)
    return MediaFiles(folder, paths)


def _suffix(data: bytes) -> str:
    """A file name suffix from a file's first bytes ('' when unknown: pictures are read by their
    content, audio needs one of its suffixes)."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return ".png"
    if data[:3] == b"\xff\xd8\xff":
        return ".jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return ".wav"
    if data[:4] == b"fLaC":
        return ".flac"
    if data[:4] == b"OggS":
        return ".ogg"
    if data[:3] == b"ID3" or data[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return ".mp3"
    return ""


class UnsupportedFile(ScoreReadError):
    """An upload of a kind of file the studio does not read."""


def _title(text: str | None) -> str:
    return " ".join(clean_text(text or "").split())[:MAX_TITLE]


def _file_stem(title: str) -> str:
    stem = "".join(c if c.isalnum() or c in "-_ " else "_" for c in title).strip().replace(" ", "-")
    return stem[:60] or "music"


def _moved_ids(base: Content, score: Score) -> list[list[str]] | None:
    """A transposition's ids: the same notes, moved (each part's notes in the same order at the
    same times), keep their ids, so the history reads "A4 -> B4", not a new piece; None when the
    notes do not pair up so."""
    if len(score.parts) != len(base.score.parts):
        return None
    for old, new in zip(base.score.parts, score.parts):
        if [(n.onset, n.duration) for n in old.notes] != [(n.onset, n.duration) for n in new.notes]:
            return None
    return [list(ids) for ids in base.ids]


def _kept_attributes(base: Content) -> dict:
    """Attributes of the piece an edit keeps unless it changes them (the prompt, the seed)."""
    return {k: v for k, v in base.attributes.items() if k in ("prompt",)}


def edit_request(body: dict, score: Score, max_bars: int) -> api.EditRequest:
    """The task request of an edit body (op + the op's CLI options; part numbers from 1)."""
    op, seed = body["op"], body.get("seed") or 0
    part = body.get("part")
    if part is not None and not 1 <= part <= len(score.parts):
        raise RequestError(f"part must be between 1 and {len(score.parts)}, got {part}")
    bars = body.get("bars")
    if bars is not None and op not in ("infill", "continue"):
        raise RequestError(f"bars applies to infill and continue, not to {op}")
    if op == "infill":
        if bars is None:
            raise RequestError("infill needs bars, e.g. \"5-8\"")
        return api.InfillRequest(score, str(bars), None if part is None else part - 1, body.get("style"), seed,
                                 body.get("candidates") or FILL_CANDIDATES)
    if op == "continue":
        more = int(bars) if bars is not None and str(bars).isdigit() else 8 if bars is None else None
        if more is None:
            raise RequestError(f"continue takes bars as a number of bars to add, got {bars!r}")
        if score.bars + more > max_bars:
            raise RequestError(f"the piece would have {score.bars + more} bars; this server takes at most {max_bars}")
        return api.ContinueRequest(score, more, body.get("style"), seed)
    if op == "harmonize":
        return api.HarmonizeRequest(score, body.get("as") or "satb", body.get("style"), (part or 1) - 1, seed,
                                    bool(body.get("numerals")))
    if op == "vary":
        return api.VaryRequest(score, 0.5 if body.get("amount") is None else body["amount"], body.get("keep"),
                               (part or 1) - 1, seed)
    if op == "restyle":
        if not body.get("style"):
            raise RequestError("restyle needs a style, e.g. \"chinese\"")
        return api.RestyleRequest(score, body["style"], body.get("meter"), body.get("mode"), (part or 1) - 1, seed)
    if op == "transform":
        return api.TransformRequest(score, body.get("transpose") or 0, body.get("key"), body.get("tempo"))
    raise RequestError(f"unknown op {op!r}; choose {', '.join(EDIT_OPS)}")


def notes_content(base: Content, parts: list[dict], max_bars: int) -> Content:
    """The content after a manual edit: base's attributes with the parts the studio sent."""
    if not parts:
        raise RequestError("a piece needs at least one part")
    known = {i for ids in base.ids for i in ids}
    new_parts, ids = [], []
    for i, p in enumerate(parts):
        old = base.score.parts[i] if i < len(base.score.parts) else Part()
        notes, pids = [], []
        for n in p.get("notes", []):
            nid = n.get("id")
            notes.append(Note(int(n["pitch"]), float(n["onset"]), float(n["duration"]), int(n.get("velocity", 80)),
                              n.get("spelling"), bool(n.get("fermata", False))))
            pids.append(nid if nid in known and nid not in pids else document.new_id())
        new_parts.append(dataclasses.replace(old, notes=notes, name=p.get("name", old.name),
                                             program=int(p.get("program", old.program))))
        ids.append(pids)
    score = dataclasses.replace(base.score, parts=new_parts)
    score.bars = max(base.score.bars, document.bars_needed(score))
    if score.bars > max_bars:
        raise RequestError(f"the notes reach bar {score.bars}; this server takes at most {max_bars} bars")
    return Content(score, ids, {**base.attributes, "bars": score.full_bars, "voices": len(new_parts)})


def export_bytes(score: Score, fmt: str) -> bytes:
    from symphony.formats.midi import write_midi
    from symphony.formats.musicxml import write_musicxml
    from symphony.formats.render import render_audio, render_pdf, render_svg
    if fmt not in EXPORT_TYPES:
        raise RequestError(f"unknown export format {fmt!r}; choose {', '.join(EXPORT_TYPES)}")
    score = dataclasses.replace(score, title=clean_text(score.title))
    with tempfile.TemporaryDirectory(prefix="symphony-export-") as tmp:
        d = Path(tmp)
        write_midi(score, d / "music.mid")
        if fmt == "wav":
            from symphony.formats.audio import normalize_wav
            render_audio(d / "music.mid", d / "music.wav")
            normalize_wav(d / "music.wav")
        elif fmt != "mid":
            write_musicxml(score, d / "music.musicxml")
            if fmt == "svg":
                render_svg(d / "music.musicxml", d / "music.svg")  # one tall page (very long: page 1)
            elif fmt == "pdf":
                render_pdf(d / "music.musicxml", d / "music.pdf")
        return (d / f"music.{fmt}").read_bytes()
