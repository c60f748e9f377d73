"""What every task shares: reading the user's input file, recording an edit's provenance, and
the music.json record of a result."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from symphony.errors import RequestError
from symphony.formats.files import read_score
from symphony.formats.markings import fermatas_in_every_voice, keep_barlines
from symphony.music.pickup import complete_last_bar
from symphony.music.score import Score

MAX_INPUT_BARS = 512


def fingerprint(path: str | os.PathLike | bytes) -> str:
    data = path if isinstance(path, (bytes, bytearray)) else Path(path).read_bytes()
    return "sha256:" + hashlib.sha256(data).hexdigest()


def load_input(path: str | os.PathLike | bytes, filename: str | None = None) -> Score:
    """Read the user's file (MIDI, MusicXML, ABC, Humdrum), by path or as bytes with its
    ``filename``; clear errors for bad files."""
    name = Path(filename or ("upload" if isinstance(path, (bytes, bytearray)) else path)).name
    score = read_score(path, filename=name)
    if not score.all_notes():
        raise RequestError(f"{name} has no notes")
    if score.bars > MAX_INPUT_BARS:
        raise RequestError(f"{name} has {score.bars} bars; at most {MAX_INPUT_BARS} can be edited")
    score.fingerprint, score.source = fingerprint(path), name
    return score


def record_edit(score: Score, op: str, params: dict, source: Score, seed: int, seconds: float) -> None:
    keep_identity(score, source)
    if op == "harmonize":  # the new alto, tenor and bass hold the chords under the melody's fermatas
        score.parts = fermatas_in_every_voice(score)
    score.provenance = {
        "operation": op, "parameters": params, "seed": seed,
        "input": {"file": source.source, "fingerprint": source.fingerprint},
        "model_seconds": round(seconds, 4)}


def keep_identity(score: Score, source: Score) -> None:
    """An edit keeps what the user's file says the piece and its parts are: the title, the
    composer, each part's name, program and instrument (matched by position; parts an edit adds
    keep their own), and its pickup, bar numbers and barlines while the edit keeps its bars."""
    keep_bars(score, source)
    score.title = score.title or source.title
    score.composer = score.composer or source.composer
    score.dynamic = score.dynamic or source.dynamic
    for new, old in zip(score.parts, source.parts):
        if new.name in ("", old.name) or new.name.startswith("Part "):
            new.name = old.name or new.name
            new.instrument = new.instrument or old.instrument
            new.clef = new.clef or old.clef
            if not new.program:
                new.program = old.program


def keep_bars(score: Score, source: Score) -> None:
    """The source's pickup, short last bar, printed bar numbers, repeat signs, double barlines and
    endings, on an edit of the same meter
    whose first bar still leaves the pickup's rest empty (a continuation keeps counting on, and
    its new last bar completes the pickup where the final notes keep at least a beat)."""
    same_start = (score.bar_meters or [])[:len(source.bar_meters or [])] == (source.bar_meters or [])
    if str(score.meter) != str(source.meter) or not same_start:
        return
    cut = score.bar_quarters - source.pickup
    if source.pickup and all(n.onset >= cut - 1e-6 for n in score.all_notes()):
        score.pickup = source.pickup
        # the last bar completes the pickup as in the source (a piece that grew, a continuation,
        # in its new last bar), where the final notes keep at least a beat
        score.pickup_completed = ((source.pickup_completed or score.bars != source.bars)
                                  and complete_last_bar(score, source.pickup))
    score.bar_numbers = score.bar_numbers or source.bar_numbers
    keep_barlines(score, source)


def describe(score: Score) -> dict:
    """The music.json record of a generated score."""
    return {"prompt": score.meta.get("request", {}).get("prompt", ""),
            "attributes": {"style": score.style, "key": str(score.key), "meter": str(score.meter),
                           "tempo_bpm": score.bpm, "bars": score.full_bars, "voices": len(score.parts),
                           "seed": score.meta.get("request", {}).get("seed"),
                           **{k: v for k, v in score.meta.get("request", {}).items()
                              if k in ("blend", "chords", "accompany", "form", "low", "high", "density",
                                       "valence", "arousal", "program") and v not in (None, False, 0.0)}},
            "form": score.meta.get("form"),
            **({"image": score.meta["request"]["image"]} if score.meta.get("request", {}).get("image") else {}),
            **({"harmony": score.meta["harmony"]} if score.meta.get("harmony") else {}),
            "chords": [[o, c] for o, c in score.chords],
            **({"pickup": {"quarters": score.pickup, "last_bar_completes_it": score.pickup_completed}}
               if score.pickup else {}),
            "bar_numbers": score.printed_numbers(),
            "explanation": score.explanation,
            "notes": score.n_notes,
            # (key_analysis: music21's key of the piece as written; for a Chinese pentatonic mode also
            # mode_analysis, music.modes', and pentatonic_check, the key check generation applied)
            "generation": {k: score.meta.get(k) for k in ("tokens", "model_seconds", "attempts", "key_analysis",
                                                          "mode_analysis", "pentatonic_check", "model")
                           if k in score.meta or k not in ("mode_analysis", "pentatonic_check")}}
