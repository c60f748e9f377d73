"""Version history that musicians read: the difference between two versions of a piece, bar by
bar, in a musician's words and as data, and a one-line account of what each version did
("regenerated bars 5-8 (infill)", "moved 3 notes in bar 2", "restored version 3").

Notes are matched by their stable ids (``document``): a note in both versions with other pitch,
time or length is *changed*; a note only in the older one is *removed*, only in the newer one
*added*. A note sits in the bar of its onset; bars are named by their printed numbers (a pickup
is bar 0) and also given by index (0-based, as the roll counts them). Pitches are spelled as the
piece shows them (F#5, Bb3); positions count the time signature's unit (beat 2.5 in 4/4 is the
"and" of two; in 6/8 the eighths are counted 1-6).
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from symphony.formats.notation import spell_part
from symphony.music.analysis import bar_starts
from symphony.music.score import Note
from symphony.server import accounts, document
from symphony.server.document import EPS_DIGITS, Content
from symphony.server.store import Store

WATCHED_ATTRIBUTES = ("title", "key", "meter", "tempo", "bars", "style")
NOTE_VALUES = {4.0: "whole", 3.0: "dotted half", 2.0: "half", 1.5: "dotted quarter", 1.0: "quarter",
               0.75: "dotted eighth", 0.5: "eighth", 0.375: "dotted 16th", 0.25: "16th", 0.125: "32nd",
               round(4 / 3, EPS_DIGITS): "half-note triplet", round(2 / 3, EPS_DIGITS): "quarter-note triplet",
               round(1 / 3, EPS_DIGITS): "eighth-note triplet", round(1 / 6, EPS_DIGITS): "16th-note triplet",
               6.0: "dotted whole", 8.0: "double whole"}


# ----------------------------------------------------------------------------- words for notes

def note_value(quarters: float) -> str:
    """A length in quarter notes as a note value: 1.5 -> 'dotted quarter'; others in quarters."""
    name = NOTE_VALUES.get(round(float(quarters), EPS_DIGITS))
    return name or f"{float(quarters):g} quarters"


def pitch_name(spelling: str) -> str:
    """music21's spelling as plain text a musician writes: 'B-4' -> 'Bb4', 'F##5' -> 'F##5'."""
    return spelling.replace("-", "b")


@dataclass
class Placed:
    """A note of one version, where the piece puts it."""
    id: str
    part: int  # 1 = the top part
    note: Note
    spelling: str  # "F#5"
    bar: int  # stored bar index, 0-based
    number: str  # the bar's printed number
    beat: float  # position in the bar, counting the time signature's unit from 1

    def words(self, beat: bool = False) -> str:
        text = f"{self.spelling} {note_value(self.note.duration)}"
        return f"{text} on beat {self.beat:g}" if beat else text

    def data(self) -> dict:
        return {"id": self.id, "part": self.part, "pitch": self.note.pitch, "spelling": self.spelling,
                "onset": self.note.onset, "duration": self.note.duration, "value": note_value(self.note.duration),
                "velocity": self.note.velocity, "beat": self.beat}


def placed_notes(content: Content, parts: set[int] | None = None) -> dict[str, Placed]:
    """Every note of a version (of ``parts``, from 1; None: all) by id, with its spelling as the
    piece shows it, its bar and beat."""
    score = content.score
    starts = bar_starts(score)
    unit = 4 / score.meter.denominator
    numbers = score.printed_numbers()
    out = {}
    for i, (part, ids) in enumerate(zip(score.parts, content.ids)):
        if parts is not None and i + 1 not in parts:
            continue
        names = spell_part(part.notes, score.key) if part.notes else []
        for n, nid, name in zip(part.notes, ids, names):
            bar = max(0, bisect.bisect_right(starts, n.onset + 10 ** -EPS_DIGITS) - 1)
            start = starts[bar] if bar < len(starts) else bar * score.bar_quarters
            beat = round(1 + (n.onset - start) / unit, 3)
            number = numbers[bar] if bar < len(numbers) else str(bar + 1)
            out[nid] = Placed(nid, i + 1, n, pitch_name(name), bar, number, beat)
    return out


# ----------------------------------------------------------------------------- the diff

@dataclass
class BarChange:
    index: int  # stored bar, 0-based
    number: str  # as printed
    added: list[Placed] = field(default_factory=list)
    removed: list[Placed] = field(default_factory=list)
    changed: list[tuple[Placed, Placed]] = field(default_factory=list)  # (before, after), listed in after's bar
    moved_out: list[tuple[Placed, Placed]] = field(default_factory=list)  # changed notes that left this bar
    voices: list[str] | None = None  # the parts' names when the piece has several

    def text(self) -> str:
        """'bar 5: F#5 quarter -> G5 eighth; added E5 eighth'; with several parts, part by part:
        'bar 5: Soprano: F#5 quarter -> G5 eighth; Alto: removed B4 quarter'."""
        if not self.voices:
            return f"bar {self.number}: " + "; ".join(self._items(None))
        parts = sorted({p.part for p in self.added + self.removed} | {b.part for _, b in self.changed}
                       | {a.part for a, _ in self.moved_out})
        names = [self.voices[i - 1] if i <= len(self.voices) and self.voices[i - 1] else f"part {i}" for i in parts]
        return f"bar {self.number}: " + "; ".join(f"{name}: {', '.join(self._items(i))}"
                                                  for i, name in zip(parts, names))

    def _items(self, part: int | None) -> list[str]:
        """What happened to the notes of one part (None: all) in this bar."""
        def mine(p: Placed) -> bool:
            return part is None or p.part == part
        added, removed = [p for p in self.added if mine(p)], [p for p in self.removed if mine(p)]
        items = [_change_words(a, b) for a, b in self.changed if mine(b)]
        items += [f"{a.words()} moved to bar {b.number}" for a, b in self.moved_out if mine(a)]
        items += [f"added {', '.join(p.words() for p in added)}"] if added else []
        return items + ([f"removed {', '.join(p.words() for p in removed)}"] if removed else [])

    def data(self) -> dict:
        return {"bar": self.number, "index": self.index, "text": self.text(),
                "added": [p.data() for p in self.added], "removed": [p.data() for p in self.removed],
                "changed": [{"before": a.data(), "after": b.data()} for a, b in self.changed],
                "moved_out": [{"before": a.data(), "after": b.data()} for a, b in self.moved_out]}


def _change_words(a: Placed, b: Placed) -> str:
    """'F#5 quarter -> G5 eighth' (the beats too when the note moved in time; the part's
    loudness when only that changed)."""
    moved = round(a.note.onset, EPS_DIGITS) != round(b.note.onset, EPS_DIGITS)
    before, after = a.words(moved), b.words(moved)
    if a.bar != b.bar:
        before += f" in bar {a.number}"
    if before == after:
        return f"{after}: velocity {a.note.velocity} -> {b.note.velocity}"
    return f"{before} -> {after}"


@dataclass
class Diff:
    """What turns version ``old`` into version ``new``."""
    attributes: list[dict]  # [{name, from, to}]
    bars: list[BarChange]  # in bar order, only bars with a change
    parts: list[dict]  # [{part, name, change: added | removed | renamed | instrument}]

    @property
    def empty(self) -> bool:
        return not (self.attributes or self.bars or self.parts)

    def counts(self) -> dict[str, int]:
        return {"added": sum(len(b.added) for b in self.bars), "removed": sum(len(b.removed) for b in self.bars),
                "changed": sum(len(b.changed) for b in self.bars)}

    def lines(self) -> list[str]:
        out = [_attribute_words(a, ": ") for a in self.attributes]
        out += [f"part {p['part']} ({p['name']}) {p['change']}" for p in self.parts]
        return out + [b.text() for b in self.bars]

    def summary(self) -> str:
        """One sentence: 'bars 5-8 changed: 12 notes added, 10 removed; key D major -> E major'."""
        if self.empty:
            return "no change"
        bits = []
        if self.bars:
            counts = [f"{v} {k}" for k, v in self.counts().items() if v]
            if counts:
                counts[0] = counts[0].replace(" ", " note " if counts[0].startswith("1 ") else " notes ", 1)
            notes = f": {', '.join(counts)}" if counts else ""
            bits.append(f"{bar_list([b.number for b in self.bars])} changed{notes}")
        bits += [_attribute_words(a) for a in self.attributes]
        bits += [f"part {p['part']} ({p['name']}) {p['change']}" for p in self.parts]
        return "; ".join(bits)

    def data(self) -> dict:
        return {"summary": self.summary(), "lines": self.lines(), "attributes": self.attributes,
                "parts": self.parts, "bars": [b.data() for b in self.bars], "counts": self.counts()}


def diff(old: Content, new: Content) -> Diff:
    """The changes from ``old`` to ``new``: attributes, parts, and bar by bar the notes."""
    return Diff(_attribute_changes(old, new), _bar_changes(old, new), _part_changes(old, new))


def _attribute_changes(old: Content, new: Content) -> list[dict]:
    def value(c: Content, name: str):
        v = c.score.title if name == "title" else c.attributes.get(name)
        return float(v) if name == "tempo" and v is not None else v
    out = []
    for name in WATCHED_ATTRIBUTES:
        a, b = value(old, name), value(new, name)
        if a != b:
            out.append({"name": name, "from": _g(a), "to": _g(b)})
    return out


def _attribute_words(a: dict, colon: str = " ") -> str:
    """'key D major -> E major'; titles in quotes: 'title "Reel" -> "Reel for Ana"'."""
    def shown(v):
        return "none" if v is None else f'"{v}"' if a["name"] == "title" else str(v)
    return f"{a['name']}{colon}{shown(a['from'])} -> {shown(a['to'])}"


def _g(v):
    return int(v) if isinstance(v, float) and v.is_integer() else v


def _part_changes(old: Content, new: Content) -> list[dict]:
    a, b = old.score.parts, new.score.parts
    out = []
    for i in range(max(len(a), len(b))):
        if i >= len(a):
            out.append({"part": i + 1, "name": b[i].name, "change": "added"})
        elif i >= len(b):
            out.append({"part": i + 1, "name": a[i].name, "change": "removed"})
        elif a[i].name != b[i].name:
            out.append({"part": i + 1, "name": b[i].name, "change": f"renamed from {a[i].name!r}"})
        elif a[i].program != b[i].program:
            out.append({"part": i + 1, "name": b[i].name, "change": f"instrument {a[i].program} -> {b[i].program}"})
    return out


def _bar_changes(old: Content, new: Content) -> list[BarChange]:
    notes_a, notes_b = _notes_by_id(old), _notes_by_id(new)
    touched = sorted(i for i in notes_a.keys() | notes_b.keys()
                     if i not in notes_a or i not in notes_b or _differs(notes_a[i], notes_b[i]))
    # spelling a part takes a while: only the parts with a change are placed
    before = placed_notes(old, {notes_a[i][0] for i in touched if i in notes_a})
    after = placed_notes(new, {notes_b[i][0] for i in touched if i in notes_b})
    names = [p.name for p in new.score.parts] + [p.name for p in old.score.parts[len(new.score.parts):]]
    voices = names if len(names) > 1 else None
    bars: dict[int, BarChange] = {}

    def bar(p: Placed) -> BarChange:
        return bars.setdefault(p.bar, BarChange(p.bar, p.number, voices=voices))
    for nid in touched:
        a, b = before.get(nid), after.get(nid)
        if b is None:
            bar(a).removed.append(a)
        elif a is None:
            bar(b).added.append(b)
        else:
            bar(b).changed.append((a, b))
            if a.bar != b.bar:
                bar(a).moved_out.append((a, b))
    for change in bars.values():
        for notes in (change.added, change.removed):
            notes.sort(key=lambda p: (p.note.onset, -p.note.pitch, p.part))
        change.changed.sort(key=lambda ab: (ab[1].note.onset, -ab[1].note.pitch, ab[1].part))
    return [bars[i] for i in sorted(bars)]


def _notes_by_id(content: Content) -> dict[str, tuple[int, Note]]:
    return {nid: (i + 1, n) for i, (part, ids) in enumerate(zip(content.score.parts, content.ids))
            for n, nid in zip(part.notes, ids)}


def _differs(a: tuple[int, Note], b: tuple[int, Note]) -> bool:
    """Another part, pitch, loudness, time or length, or another written spelling (a note saved
    without one is spelt from the key, as before)."""
    (part_a, x), (part_b, y) = a, b
    respelt = x.spelling is not None and y.spelling is not None and x.spelling != y.spelling
    return (part_a != part_b or x.pitch != y.pitch or respelt or x.velocity != y.velocity
            or round(x.onset, EPS_DIGITS) != round(y.onset, EPS_DIGITS)
            or round(x.duration, EPS_DIGITS) != round(y.duration, EPS_DIGITS))


# ----------------------------------------------------------------------------- words for a version

def bar_list(numbers: list[str]) -> str:
    """['2'] -> 'bar 2'; ['2', '3', '4', '7'] -> 'bars 2-4, 7' (runs of consecutive numbers joined)."""
    if not numbers:
        return "no bars"
    runs: list[list[str]] = []
    for n in numbers:
        if runs and n.isdigit() and runs[-1][-1].isdigit() and int(n) == int(runs[-1][-1]) + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    text = ", ".join(r[0] if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)
    return f"bar {text}" if len(numbers) == 1 else f"bars {text}"


def _notes(n: int) -> str:
    return "a note" if n == 1 else f"{n} notes"


def describe_notes(d: Diff) -> str:
    """A manual edit in words: 'moved 3 notes in bar 2 and added a note in bar 4' (the notes of
    a part added or removed whole are told as the part)."""
    whole = {p["part"] for p in d.parts if p["change"] in ("added", "removed")}
    groups: dict[str, list[str]] = {"moved": [], "changed the length of": [], "changed": [], "added": [],
                                    "removed": []}
    for b in d.bars:
        groups["added"] += [b.number for p in b.added if p.part not in whole]
        groups["removed"] += [b.number for p in b.removed if p.part not in whole]
        for x, y in b.changed:
            groups[_change_kind(x.note, y.note)].append(b.number)
    where = {verb: bar_list(list(dict.fromkeys(numbers))) for verb, numbers in groups.items() if numbers}
    if len(set(where.values())) == 1:  # all in the same bars: say them once
        bits = [_and([f"{verb} {_notes(len(groups[verb]))}" for verb in where]) + f" in {next(iter(where.values()))}"]
    else:
        bits = [f"{verb} {_notes(len(groups[verb]))} in {bars}" for verb, bars in where.items()]
    title = next((a for a in d.attributes if a["name"] == "title"), None)
    if title:
        bits.append(f'renamed the piece "{title["to"]}"')
    for change in ("added", "removed"):
        names = [p["name"] or f"part {p['part']}" for p in d.parts if p["change"] == change]
        if names:
            bits.append(f"{change} the {_and(names)} part{'s' if len(names) > 1 else ''}")
    bits += [f"part {p['part']} {p['change']}" for p in d.parts if p["change"] not in ("added", "removed")]
    return _and(bits) if bits else "saved the notes unchanged"


def _change_kind(x: Note, y: Note) -> str:
    if x.pitch != y.pitch or round(x.onset, EPS_DIGITS) != round(y.onset, EPS_DIGITS):
        return "moved"
    if round(x.duration, EPS_DIGITS) != round(y.duration, EPS_DIGITS):
        return "changed the length of"
    return "changed"


def _and(items: list[str]) -> str:
    """['a', 'b', 'c'] -> 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def describe_change(before: Content, after: Content) -> str:
    """A change made by hand (the studio's note edits, live edits) in words."""
    return describe_notes(diff(before, after))


def describe_edit(body: dict, d: Diff) -> str:
    """An engine edit in words, from its request: 'regenerated bars 5-8 (infill)'."""
    op, part = body["op"], body.get("part")
    of_part = f" of part {part}" if part else ""
    if op == "infill":
        return f"regenerated {bar_list(_bar_numbers(str(body.get('bars'))))}{of_part} (infill)"
    if op == "continue":
        added = next((a for a in d.attributes if a["name"] == "bars"), None)
        more = int(added["to"]) - int(added["from"]) if added else body.get("bars") or 8
        return f"continued the piece by {more} bar{'s' if more != 1 else ''}"
    if op == "harmonize":
        how = {"satb": "as a four-part chorale", "chords": "with chord symbols",
               "accompaniment": "with a piano part"}[body.get("as") or "satb"]
        return f"harmonized the melody {how}"
    if op == "vary":
        amount = body.get("amount")
        return f"varied the melody{of_part}" + (f" ({round(100 * amount)}%)" if amount is not None else "")
    if op == "restyle":
        return f"restyled the piece as {body.get('style')}"
    if op == "transform":
        bits = []
        if body.get("transpose"):
            t = int(body["transpose"])
            bits.append(f"transposed it {'up' if t > 0 else 'down'} {abs(t)} semitone{'s' if abs(t) != 1 else ''}")
        if body.get("key"):
            bits.append(f"moved it to {body['key']}")
        if body.get("tempo"):
            bits.append(f"set the tempo to {body['tempo']:g}")
        return " and ".join(bits) or "transformed the piece"
    return op


def _bar_numbers(bars: str) -> list[str]:
    """'5-8' -> ['5', '6', '7', '8']; '4a' -> ['4a']."""
    a, _, b = bars.partition("-")
    if b and a.isdigit() and b.isdigit() and int(a) <= int(b):
        return [str(i) for i in range(int(a), int(b) + 1)]
    return [x for x in (a, b) if x]


def describe_new(op: str, content: Content, source: str | None = None) -> str:
    """Version 1 in words: 'composed 16 bars in D major, 6/8 (celtic)' or 'uploaded bwv66.6.mxl'."""
    a = content.attributes
    if op == "upload":
        return f"uploaded {source or 'a score'} ({a.get('bars')} bars in {a.get('key')}, {a.get('meter')})"
    style = f" ({a['style']})" if a.get("style") else ""
    return f"composed {a.get('bars')} bars in {a.get('key')}, {a.get('meter')}{style}"


def sentence(author: str | None, what: str) -> str:
    """'Ana regenerated bars 5-8 (infill)'; without a name: 'Regenerated bars 5-8 (infill)'."""
    return f"{author} {what}" if author else what[:1].upper() + what[1:]


OP_WORDS = {"generate": "composed the piece", "upload": "uploaded the piece", "notes": "edited the notes",
            "infill": "regenerated bars", "continue": "continued the piece", "harmonize": "harmonized the melody",
            "vary": "varied the melody", "restyle": "restyled the piece", "transform": "transformed the piece",
            "restore": "restored an earlier version", "edit": "edited the piece"}


def what_of(op: str, summary: str | None) -> str:
    """A version's words: its saved summary, or (versions saved before summaries) its op in words."""
    return summary or OP_WORDS.get(op, op)


# ----------------------------------------------------------------------------- over the store

def listed(store: Store, rows: list[dict]) -> list[dict]:
    """Version rows as the API lists them: with the author's display name, ``what`` each did and
    the ``text`` a person reads ("Ana regenerated bars 5-8 (infill)")."""
    authors = {r["author"] for r in rows if r.get("author")}
    names = accounts.names(store, sorted(authors)) if authors else {}
    out = []
    for r in rows:
        who = names.get(r.get("author"), r.get("author"))
        what = what_of(r["op"], r.get("summary"))
        out.append({**r, "author_name": who, "what": what, "text": sentence(who, what)})
    return out


def page(store: Store, piece_id: str, limit: int, before: int | None) -> tuple[list[dict], bool]:
    """A page of the version list (the oldest first) and whether older versions exist."""
    rows, more = store.version_page(piece_id, limit, before)
    return listed(store, rows), more


def between(store: Store, piece_id: str, old: int, new: int) -> dict:
    """The diff of two versions of a piece as the API answers it."""
    a, b = (document.read(store.snapshot(piece_id, v)) for v in (old, new))
    return {"from": old, "to": new, **diff(a, b).data()}


def name_current(store: Store, piece_id: str, name: str, author: str | None = None) -> dict:
    """Name the piece's current state. That is its latest version, unless the piece changed
    since (live edits saved into the piece without a version of their own): then the current
    state is first saved as a new version, op "edit", saying what those edits did."""
    version = store.version_of(piece_id)
    latest = document.read(store.snapshot(piece_id, version))
    since = diff(latest, document.read(store.get(piece_id).doc))
    if not since.empty:
        version = store.change(piece_id, lambda doc: None, "edit", author, lambda *_: describe_notes(since)).version
    return listed(store, [store.name_version(piece_id, version, name)])[0]


def restored(info: dict) -> str:
    """'restored version 3' ('... "First draft"' when it has a name)."""
    return f"restored version {info['version']}" + (f' ("{info["name"]}")' if info.get("name") else "")
