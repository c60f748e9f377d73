"""A piece as a shared document: one pycrdt ``Doc`` (the Yjs CRDT the studio and, next, several
people edit together), converted to and from the engine's ``Score``.

Layout of the Doc (Yjs numbers are floats; readers round MIDI numbers back to ints):

| root | type | holds |
|---|---|---|
| ``attributes`` | Map | the piece's attributes with the CLI's names: style, key, meter, tempo, bars, seed, ... |
| ``piece`` | Map | title, composer, explanation (list of lines), chords, bar_meters, key_signature, dynamic, provenance, meta (the engine's diagnostics, form, key changes), source, fingerprint, pickup, pickup_completed, bar_numbers, barlines, endings |
| ``parts`` | Array of Map | name, program, instrument, clef, notes: Array of Map {id, pitch, spelling, onset, duration, velocity, fermata} |

Every note has a stable id. A task result is applied as *one* transaction of changes relative to
the content the task started from (``apply``): notes it kept keep their ids, notes it dropped
are deleted by id, new notes are inserted, so a change someone else made meanwhile elsewhere
in the piece survives.
"""
from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass, field

from pycrdt import Array, Doc, Map

from symphony.music.score import Note, Part, Score
from symphony.music.theory import parse_key, parse_meter

PIECE_FIELDS = ("title", "composer", "explanation", "chords", "bar_meters", "key_signature", "dynamic",
                "provenance", "meta", "source", "fingerprint", "pickup", "pickup_completed", "bar_numbers",
                "barlines", "endings")
NOTE_FIELDS = ("pitch", "spelling", "onset", "duration", "velocity", "fermata")
INT_ATTRIBUTES = ("bars", "seed", "voices", "program")  # Yjs keeps every number as a float
EPS_DIGITS = 6  # onsets and durations compared to a millionth of a quarter


def new_id() -> str:
    return uuid.uuid4().hex[:12]


def plain(value):
    """A JSON-safe copy (tuples to lists, numpy numbers to floats, anything else to text)."""
    return json.loads(json.dumps(value, default=lambda o: o.item() if hasattr(o, "item") else str(o)))


@dataclass
class Content:
    """What a Doc holds, as Python values: the score, the id of every note and the attributes."""
    score: Score
    ids: list[list[str]]  # ids[i][j]: the id of score.parts[i].notes[j]
    attributes: dict = field(default_factory=dict)


def attributes_of(score: Score, record_attributes: dict | None = None) -> dict:
    """The attributes with the CLI's names (music.json says tempo_bpm; the API says tempo).
    ``bars`` counts as a musician and music.json do, from bar 1: a pickup bar 0 is not a bar (the
    piece's ``pickup`` says whether the stored grid has one more)."""
    attrs = {k: v for k, v in (record_attributes or {}).items() if k != "tempo_bpm"}
    attrs.update({"style": score.style, "key": str(score.key), "meter": str(score.meter),
                  "tempo": float(score.bpm), "bars": int(score.full_bars), "voices": len(score.parts)})
    return plain(attrs)


def content_of(score: Score, record_attributes: dict | None = None, ids: list[list[str]] | None = None) -> Content:
    if ids is None:
        ids = [[new_id() for _ in p.notes] for p in score.parts]
    return Content(score, ids, attributes_of(score, record_attributes))


# ----------------------------------------------------------------------------- Doc -> Python

def new_doc(update: bytes | None = None) -> Doc:
    doc = Doc()
    if update:
        doc.apply_update(update)
    return doc


def _roots(doc: Doc) -> tuple[Map, Map, Array]:
    return doc.get("attributes", type=Map), doc.get("piece", type=Map), doc.get("parts", type=Array)


def _note_of(m: dict) -> Note:
    return Note(int(round(m["pitch"])), float(m["onset"]), float(m["duration"]), int(round(m.get("velocity", 80))),
                m.get("spelling") or None, bool(m.get("fermata", False)))


def read(doc: Doc) -> Content:
    """The Doc's content as a Score (notes in onset order) with the notes' ids."""
    attrs_m, piece_m, parts_a = _roots(doc)
    attrs, info, parts_py = attrs_m.to_py() or {}, piece_m.to_py() or {}, parts_a.to_py() or []
    attrs = {k: int(v) if k in INT_ATTRIBUTES and isinstance(v, float) and v.is_integer() else v
             for k, v in attrs.items()}
    parts, ids = [], []
    for p in parts_py:
        notes = sorted(p.get("notes") or [], key=lambda m: (m["onset"], -m["pitch"]))
        parts.append(Part([_note_of(m) for m in notes], p.get("name", ""), int(round(p.get("program", 0))),
                          p.get("instrument", ""), p.get("clef", "")))
        ids.append([m["id"] for m in notes])
    pickup = float(info.get("pickup") or 0.0)
    stored_bars = int(round(attrs["bars"])) + (1 if pickup > 0 else 0)  # the pickup bar 0, then bars 1..
    score = Score(parts, parse_key(attrs["key"]), parse_meter(attrs["meter"]), float(attrs["tempo"]),
                  stored_bars, info.get("title") or "", attrs.get("style"), dict(info.get("meta") or {}),
                  [(float(o), str(c)) for o, c in info.get("chords") or []], info.get("bar_meters") or None,
                  list(info.get("explanation") or []), info.get("provenance"), info.get("source"),
                  info.get("fingerprint"), info.get("key_signature"), info.get("composer"), info.get("dynamic"),
                  pickup, bool(info.get("pickup_completed")), info.get("bar_numbers") or None,
                  # Yjs keeps every number as a float: bar indexes back to ints
                  [[int(round(b)), str(s), str(k)] for b, s, k in info.get("barlines") or []] or None,
                  [[int(round(a)), int(round(z)), str(n)] for a, z, n in info.get("endings") or []] or None)
    return Content(score, ids, attrs)


# ----------------------------------------------------------------------------- Python -> Doc

def _piece_fields(score: Score) -> dict:
    return plain({"title": score.title, "composer": score.composer, "explanation": list(score.explanation),
                  "chords": [list(c) for c in score.chords], "bar_meters": score.bar_meters,
                  "key_signature": score.key_signature, "dynamic": score.dynamic, "provenance": score.provenance,
                  "meta": score.meta or {}, "source": score.source, "fingerprint": score.fingerprint,
                  "pickup": score.pickup, "pickup_completed": score.pickup_completed, "bar_numbers": score.bar_numbers,
                  "barlines": score.barlines, "endings": score.endings})


def _note_fields(n: Note) -> dict:
    return {"pitch": int(n.pitch), "spelling": n.spelling, "onset": float(n.onset), "duration": float(n.duration),
            "velocity": int(n.velocity), "fermata": bool(n.fermata)}


def _set_all(m: Map, values: dict) -> None:
    for k in [k for k in m.keys() if k not in values]:
        del m[k]
    for k, v in values.items():
        if k not in m or m[k] != v:
            m[k] = v


def _new_part(p: Part, ids: list[str]) -> Map:
    return Map({"name": p.name, "program": int(p.program), "instrument": p.instrument, "clef": p.clef,
                "notes": Array([Map({"id": i, **_note_fields(n)}) for n, i in zip(p.notes, ids)])})


def write(doc: Doc, content: Content) -> None:
    """Fill an empty Doc (a new piece) in one transaction."""
    attrs_m, piece_m, parts_a = _roots(doc)
    with doc.transaction():
        _set_all(attrs_m, content.attributes)
        _set_all(piece_m, _piece_fields(content.score))
        for p, ids in zip(content.score.parts, content.ids):
            parts_a.append(_new_part(p, ids))


def apply(doc: Doc, base: Content, target: Content) -> None:
    """Change the Doc by what turns ``base`` into ``target``, as one transaction: attributes and
    part fields set, notes of base missing from target deleted (by id), notes of target missing
    from base inserted, notes in both whose fields differ updated. With no other change since
    base was read, the Doc then holds exactly target."""
    attrs_m, piece_m, parts_a = _roots(doc)
    with doc.transaction():
        _set_all(attrs_m, target.attributes)
        _set_all(piece_m, _piece_fields(target.score))
        n_base = len(base.score.parts)
        for i, (p, ids) in enumerate(zip(target.score.parts, target.ids)):
            if i >= n_base or i >= len(parts_a):
                parts_a.append(_new_part(p, ids))
                continue
            part_m = parts_a[i]
            for k, v in (("name", p.name), ("program", int(p.program)), ("instrument", p.instrument),
                         ("clef", p.clef)):
                if part_m.get(k) != v:
                    part_m[k] = v
            _apply_notes(part_m["notes"], dict(zip(base.ids[i], base.score.parts[i].notes)),
                         dict(zip(ids, p.notes)))
        for i in range(min(n_base, len(parts_a)) - 1, len(target.score.parts) - 1, -1):
            del parts_a[i]  # parts the target dropped (from the end, as the target's parts are a prefix)


def _apply_notes(notes_a: Array, before: dict[str, Note], after: dict[str, Note]) -> None:
    index = {m["id"]: j for j, m in enumerate(notes_a)}
    gone = sorted((index[i] for i in before if i not in after and i in index), reverse=True)
    for j in gone:
        del notes_a[j]
    index = {m["id"]: j for j, m in enumerate(notes_a)}
    for i, n in after.items():
        fields = _note_fields(n)
        if i not in index:
            if i not in before:  # new; a note someone else deleted meanwhile stays deleted
                notes_a.append(Map({"id": i, **fields}))
            continue
        if i in before and _note_fields(before[i]) == fields:
            continue  # unchanged by this edit: someone else's change to it stays
        m = notes_a[index[i]]
        for k, v in fields.items():
            if m.get(k) != v:
                m[k] = v


# ----------------------------------------------------------------------------- task results

def _key(n: Note) -> tuple:
    return (int(n.pitch), round(float(n.onset), EPS_DIGITS), round(float(n.duration), EPS_DIGITS))


def match_ids(base: Content, result: Score) -> list[list[str]]:
    """Ids for the notes of a task's result: a note equal in pitch, onset and length to a note of
    the same part of ``base`` keeps that note's id; every other note gets a new one."""
    out = []
    for i, part in enumerate(result.parts):
        free: dict[tuple, list[str]] = {}
        if i < len(base.score.parts):
            for n, nid in zip(base.score.parts[i].notes, base.ids[i]):
                free.setdefault(_key(n), []).append(nid)
        ids = []
        for n in part.notes:
            same = free.get(_key(n))
            ids.append(same.pop(0) if same else new_id())
        out.append(ids)
    return out


def bars_needed(score: Score) -> int:
    """Bars that hold every note (a manual edit may write past the end)."""
    end = max((n.end for n in score.all_notes()), default=0.0)
    return max(1, math.ceil(round(end / score.bar_quarters, EPS_DIGITS)))
