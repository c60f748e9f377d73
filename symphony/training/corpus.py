"""The corpus: music21's folk-song and chorale collections (and users' own folders) turned into
Score objects with per-piece metadata, de-duplicated, split deterministically and cached.

Parsing the whole corpus takes 15-20 minutes on 2 cores, so every source file is parsed once and
cached as gzipped JSON under the cache folder (``$SYMPHONY_CACHE`` or ``.cache/`` in the
repository). A second run only reads the cache.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from symphony.errors import ScoreReadError, SymphonyError
from symphony.formats.midi import MIDI_SUFFIXES, read_midi
from symphony.formats.musicxml import MUSIC21_SUFFIXES, from_music21
from symphony.music.score import Score
from symphony.music.styles import STYLES, get_style
from symphony.music.theory import parse_key
from symphony.settings import cache_root

CACHE_VERSION = 2
SPLITS = ("train", "valid", "test")
SPLIT_PERCENT = {"train": 90, "valid": 5, "test": 5}
BUILTIN_STYLES = ("chinese", "german", "celtic", "chorale")  # what `symphony train` trains on by default
ESSEN_GERMAN = ("altdeu", "ballad", "boehme", "erk", "fink", "kinder", "zuccal", "dva", "lot", "lux")
RYAN_GENRES = ("reel", "jig", "hornpipe", "strathspey", "waltz", "march", "polka", "schottische",
               "clog", "fling", "quickstep")


def cache_dir() -> Path:
    return cache_root() / f"corpus-v{CACHE_VERSION}"


@dataclass(frozen=True)
class Source:
    """One file of the corpus and the style its pieces carry."""
    path: str
    name: str  # collection name, e.g. "essen/han1", "ryans", "bach"
    style: str
    genre: str = ""


def _corpus_root() -> Path:
    import music21
    return Path(music21.__file__).parent / "corpus"


def builtin_sources(collections: Iterable[str] | None = None) -> list[Source]:
    """The music21 corpus files we train on, with their style labels."""
    root = _corpus_root()
    want = set(collections) if collections else {"essen", "oneills", "ryans", "bach", "palestrina"}
    out: list[Source] = []
    if "essen" in want:
        for f in sorted((root / "essenFolksong").glob("*.abc")):
            stem = f.stem
            if stem.startswith("han"):
                style = "chinese"
            elif stem.startswith("irl"):
                style = "celtic"
            elif stem.startswith(ESSEN_GERMAN):
                style = "german"
            else:
                continue  # test files, variants and Haydn arrangements
            out.append(Source(str(f), f"essen/{stem}", style))
    if "oneills" in want:
        out += [Source(str(f), "oneills", "celtic") for f in sorted((root / "oneills1850").glob("*.abc"))]
    if "ryans" in want:
        for f in sorted((root / "ryansMammoth").glob("*.abc")):
            genre = next((g for g in RYAN_GENRES if g in f.stem.lower()), "")
            out.append(Source(str(f), "ryans", "celtic", genre))
    if "bach" in want:
        for f in sorted((root / "bach").glob("bwv*.mxl")):
            out.append(Source(str(f), "bach", "chorale"))  # kept if it has four voices
    if "palestrina" in want:
        out += [Source(str(f), "palestrina", "renaissance") for f in sorted((root / "palestrina").glob("*.krn"))]
    return out


def cache_file(src: Source) -> Path:
    digest = hashlib.sha1(f"{src.path}|{src.style}|{src.genre}".encode()).hexdigest()[:16]
    return cache_dir() / f"{Path(src.path).stem}-{digest}.json.gz"


def parse_source(src: Source, cached: bool = True) -> list[dict]:
    """Parse one source file into piece records (cached; ``cached`` False: read afresh by today's
    reader and leave the cache alone, for a cache built before the reader kept something)."""
    if not cached:
        return _parse_uncached(src)
    cf = cache_file(src)
    if cf.exists():
        with gzip.open(cf, "rt", encoding="utf-8") as fh:
            return json.load(fh)
    records = _parse_uncached(src)
    cf.parent.mkdir(parents=True, exist_ok=True)
    tmp = cf.with_suffix(".tmp")
    with gzip.open(tmp, "wt", encoding="utf-8") as fh:
        json.dump(records, fh)
    tmp.replace(cf)
    return records


def _parse_uncached(src: Source) -> list[dict]:
    path = Path(src.path)
    default_bpm = get_style(src.style).default_bpm if src.style in STYLES else 96
    if path.suffix.lower() in MIDI_SUFFIXES:
        try:
            scores = [read_midi(path)]
        except ScoreReadError as e:
            return [{"error": str(e), "source": src.name, "path": src.path}]
        items = [(s, "") for s in scores]
    else:
        from music21 import converter
        try:
            parsed = converter.parse(str(path))
        except Exception as e:  # music21 raises many error types on bad files
            return [{"error": f"{type(e).__name__}: {e}"[:300], "source": src.name, "path": src.path}]
        tunes = list(parsed.scores) if hasattr(parsed, "scores") and not hasattr(parsed, "parts") else [parsed]
        items = []
        for i, tune in enumerate(tunes):
            try:
                items.append((from_music21(tune, style=src.style, default_bpm=default_bpm), i))
            except Exception as e:
                items.append((f"{type(e).__name__}: {e}"[:300], i))
    records = []
    for score, idx in items:
        pid = f"{src.name}:{path.name}:{idx}"
        if isinstance(score, str):
            records.append({"error": score, "id": pid, "source": src.name, "path": src.path})
            continue
        score.style = src.style
        if src.style == "chorale" and len(score.parts) != 4:
            records.append({"error": f"{len(score.parts)} parts, not a four-part chorale", "id": pid,
                            "source": src.name, "path": src.path})
            continue
        records.append(_record(score, pid, src))
    return records


def _record(score: Score, pid: str, src: Source) -> dict:
    pitches = [n.pitch for n in score.all_notes()]
    return {
        "id": pid, "source": src.name, "path": src.path, "style": src.style, "genre": src.genre,
        "title": score.title, "key": str(score.key), "meter": str(score.meter), "bpm": score.bpm,
        "bars": score.bars, "range": [min(pitches), max(pitches)], "voices": len(score.parts),
        "notes": score.n_notes, "score": score.to_dict(),
    }


def content_hash(rec: dict) -> str:
    """Key-relative fingerprint of all parts: transposed or re-titled copies collide, while two
    harmonisations of one chorale melody stay distinct."""
    tonic = parse_key(rec["key"]).tonic_pc
    sig = "|".join(";".join(f"{(p - tonic) % 12},{round(o * 24)},{round(d * 24)}" for p, o, d in part["notes"])
                   for part in rec["score"]["parts"])
    return hashlib.sha1(sig.encode()).hexdigest()


def split_of(rec_id: str) -> str:
    h = int(hashlib.sha1(rec_id.encode()).hexdigest()[:8], 16) % 100
    if h < SPLIT_PERCENT["train"]:
        return "train"
    return "valid" if h < SPLIT_PERCENT["train"] + SPLIT_PERCENT["valid"] else "test"


def load_corpus(sources: list[Source] | None = None, workers: int = 1,
                progress: bool = False, user: bool = True, log=None) -> list[dict]:
    """All piece records of the given sources (and, with ``user``, of the folders added with
    ``symphony data add``), de-duplicated, with a 'split' field. ``progress``: a progress bar
    (a terminal); ``log``: a line per stage of a first, uncached parse (anywhere else)."""
    sources = builtin_sources() if sources is None else sources
    if user:
        sources = sources + [s for s in user_sources() if s not in sources]
    records_per_source = _map(parse_source, sources, workers, progress, log)
    seen: set[str] = set()
    out = []
    for recs in records_per_source:
        for rec in recs:
            if "error" in rec or (rec["style"] == "chorale" and rec["voices"] != 4):
                continue
            h = content_hash(rec)
            if h in seen:
                continue
            seen.add(h)
            rec["split"] = split_of(rec["id"])
            out.append(rec)
    return out


def _map(fn, items: list, workers: int, progress: bool, log=None) -> list:
    from rich.progress import track
    todo = sum(not cache_file(x).exists() for x in items)
    if log is not None and todo and not progress:  # not a terminal: a line every tenth of the files
        log(f"parsing corpus: {todo} of {len(items)} files are not cached yet (the first run takes "
            f"up to 20 minutes on 2 cores; later runs read {cache_dir()})")
        step = max(1, len(items) // 10)
        counter = {"n": 0}

        def tick(results):
            for r in results:
                counter["n"] += 1
                if counter["n"] % step == 0 or counter["n"] == len(items):
                    log(f"parsing corpus: {counter['n']}/{len(items)} files")
                yield r
    else:
        def tick(results):
            return results
    if workers > 1 and len(items) > 1:
        import multiprocessing as mp
        # Biggest files first so the two workers finish together.
        order = sorted(range(len(items)), key=lambda i: -Path(items[i].path).stat().st_size)
        with mp.get_context("fork").Pool(workers) as pool:
            it = pool.imap(fn, [items[i] for i in order])
            results = list(track(it, total=len(items), description="parsing corpus")) if progress else list(tick(it))
        out = [None] * len(items)
        for i, r in zip(order, results):
            out[i] = r
        return out
    if progress:
        return [fn(x) for x in track(items, description="parsing corpus")]
    return list(tick(fn(x) for x in items))


def iter_split(records: list[dict], split: str, styles: Iterable[str] | None = None) -> Iterator[dict]:
    want = set(styles) if styles else None
    for r in records:
        if r["split"] == split and (want is None or r["style"] in want):
            yield r


def stats(records: list[dict]) -> dict[str, dict[str, int]]:
    table: dict[str, Counter] = {}
    for r in records:
        c = table.setdefault(r["style"], Counter())
        c["pieces"] += 1
        c[r["split"]] += 1
        c["notes"] += r["notes"]
        c["bars"] += r["bars"]
    return {k: dict(v) for k, v in sorted(table.items())}


# ----------------------------------------------------------------------------- user corpora

def _user_registry() -> Path:
    return cache_dir() / "user_sources.json"


def user_sources() -> list[Source]:
    reg = _user_registry()
    if not reg.exists():
        return []
    return [Source(**d) for d in json.loads(reg.read_text())]


def add_user_folder(folder: str | os.PathLike, style: str) -> tuple[int, int]:
    """Register every MIDI / MusicXML / ABC file under FOLDER with a style label.

    Returns (pieces read, files that could not be read). The style name may be new: users'
    styles become conditioning labels when a model is trained on them."""
    root = Path(folder)
    if not root.is_dir():
        raise SymphonyError(f"no such folder: {os.fspath(folder)!r}")
    if not re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", style):
        raise SymphonyError(f"style name {style!r} must be lower-case letters, digits, - or _")
    files = sorted(f for f in root.rglob("*") if f.suffix.lower() in MIDI_SUFFIXES | MUSIC21_SUFFIXES)
    if not files:
        raise SymphonyError(f"no MIDI, MusicXML or ABC files in {os.fspath(folder)!r}")
    new = [Source(str(f.resolve()), f"user/{style}", style) for f in files if f.is_file()]
    ok = bad = 0
    readable = []
    first_error = ""
    for src in new:
        recs = parse_source(src)
        good = sum("error" not in r for r in recs)
        ok += good
        bad += len(recs) - good
        if good:
            readable.append(src)
        else:
            first_error = first_error or next((r["error"] for r in recs if "error" in r), "no pieces")
    if not ok:  # nothing is recorded: training on the folder would silently train on nothing
        raise SymphonyError(f"none of the {len(new)} files in {os.fspath(folder)!r} could be read "
                            f"({Path(new[0].path).name if new else 'no files'}: {first_error[:150]}); nothing was added")
    new = readable
    existing = {s.path: s for s in user_sources()}
    existing.update({s.path: s for s in new})
    reg = _user_registry()
    reg.parent.mkdir(parents=True, exist_ok=True)
    tmp = reg.with_suffix(".tmp")
    tmp.write_text(json.dumps([s.__dict__ for s in existing.values()], indent=1))
    tmp.replace(reg)
    return ok, bad
