"""What real tunes of each style are like: how often each key, meter and length occurs, counted
from the training split of the corpus. A request that leaves an attribute open draws it from
these counts (``tasks.requests.resolve``), so twenty ``--style chinese`` pieces are not twenty
G gong 2/4 16-bar pieces.

The table is small and ships next to the model (``checkpoints/default/attributes.json``);
``symphony data attributes`` (or ``python -m symphony.training.attributes``) rebuilds it from
the corpus cache with :func:`build`. It holds counts, not shares, so an explanation can say how
many tunes a draw stands on.

Keys of Chinese tunes are named the way Chinese mode theory names them: the key signature gives
the gong (1=G: the G gong scale; a minor signature's gong is its relative major) and the final
names the mode (宫 商 角 徵 羽), so a 1=G tune ending on E is in E yu. A tune whose final is not
one of the five pentatonic degrees keeps its major or minor key.

>>> _chinese_key("G major", 64)   # 1=G, ending on E
'E yu'
>>> _chinese_key("A minor", 67)   # gong C, ending on G
'G zhi'
>>> _chinese_key("Bb major", 65)  # gong Bb, ending on F
'F zhi'
"""
from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from symphony.errors import TheoryError
from symphony.music.theory import SHARP_NAMES, parse_key, parse_meter, spell_on
from symphony.settings import PACKAGE_ROOT

ATTRIBUTE_TABLE = PACKAGE_ROOT / "checkpoints" / "default" / "attributes.json"
# A plain request's length: real lengths inside this range (shorter fragments and long medleys out).
PLAIN_BARS = (8, 32)
# Lengths are drawn from the tunes in the drawn meter when at least this many tunes are in it
# (a 3/8 Chinese tune counts its bars in short bars); otherwise from all tunes of the style.
MIN_TUNES_PER_METER = 30
# The corpus has no tempo marks (every tune carries its style's usual tempo), so a tempo is drawn
# uniformly within this share around the usual one (a dance's, when the text names one).
TEMPO_SPREAD = 0.1
SHOWN = 4  # commonest values named in an explanation

# semitones above the gong -> mode whose final that degree is
_PENTATONIC_FINALS = {0: "gong", 2: "shang", 4: "jue", 7: "zhi", 9: "yu"}
_LETTER_STEPS = {0: 0, 2: 1, 4: 2, 7: 4, 9: 5}  # the same degrees as letter steps above the gong


def _chinese_key(key: str, final_pitch: int) -> str:
    """The pentatonic mode of a Chinese tune: gong from the key signature, mode from the final."""
    k = parse_key(key)
    gong_pc = k.tonic_pc if not k.is_minor_like else (k.tonic_pc + 3) % 12
    degree = (final_pitch - gong_pc) % 12
    if degree not in _PENTATONIC_FINALS or k.mode not in ("major", "minor"):
        return str(k)
    # the gong's letter is the major tonic's, or a minor tonic's third letter up
    name = spell_on(k.tonic, _LETTER_STEPS[degree] + (2 if k.is_minor_like else 0), final_pitch % 12)
    if len(name) > 2:  # a double accidental: name it by its common spelling
        name = SHARP_NAMES[final_pitch % 12]
    return f"{name} {_PENTATONIC_FINALS[degree]}"


def tune_attributes(rec: dict) -> dict | None:
    """key, meter and length in full bars (an upbeat is not a bar) of a corpus record; None for
    a record in a key or meter Symphony cannot write."""
    parts = rec["score"]["parts"]
    notes = [n for p in parts for n in p["notes"]]
    top = parts[0]["notes"] if parts and parts[0]["notes"] else notes
    if not notes:
        return None
    try:
        meter = str(parse_meter(rec["meter"]))
        key = str(parse_key(rec["key"]))
        if rec["style"] == "chinese":
            key = _chinese_key(key, max(top, key=lambda n: n[1])[0])
    except TheoryError:
        return None
    return {"key": key, "meter": meter, "bars": sounding_bars(rec)}


def sounding_bars(rec: dict) -> int:
    """A record's length as a musician counts it: the music from the first downbeat to the last
    note's end, in bars of its meter. An upbeat is not a bar (the score stores it as a first bar
    opening with a rest), and neither are the short bars around a repeat: O'Neill's jigs are
    stored as 18 bars (upbeat, 8 bars, the second strain's upbeat, 8 bars) and are 16 bars long."""
    sc = rec["score"]
    notes = [n for p in sc["parts"] for n in p["notes"]]
    first, end = min(n[1] for n in notes), max(n[1] + n[2] for n in notes)
    q = float(parse_meter(rec["meter"]).bar_quarters)
    if not sc.get("bar_meters"):
        downbeat = 0.0 if first < 1e-6 else q
        return max(1, round((end - downbeat) / q))
    # mixed meters (a Chinese song's 3/4 bar among 2/4 ones): count the bars of at least half
    # a bar of the main meter between the first downbeat and the end
    starts = [float(at) for at, _ in sc["bar_meters"]] + [max(end, float(sc["bar_meters"][-1][0]) + q)]
    bars = [(a, b) for a, b in zip(starts, starts[1:]) if a >= first - 1e-6 and a < end - 1e-6]
    return max(1, sum(b - a >= q / 2 - 1e-6 for a, b in bars))


def build(records: list[dict], split: str = "train") -> dict:
    """{"split", "styles": {style: {"tunes", "keys": {key: n}, "meters": {meter: n},
    "bars": {meter: {bars: n}}}}} counted over the corpus records of `split`."""
    table: dict[str, dict] = {}
    for r in records:
        if r.get("split") != split:
            continue
        a = tune_attributes(r)
        if a is None:
            continue
        e = table.setdefault(r["style"], {"tunes": 0, "keys": Counter(), "meters": Counter(), "bars": {}})
        e["tunes"] += 1
        e["keys"][a["key"]] += 1
        e["meters"][a["meter"]] += 1
        e["bars"].setdefault(a["meter"], Counter())[str(a["bars"])] += 1

    def ordered(c: Counter) -> dict:
        return dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))
    return {"split": split, "styles": {s: {"tunes": e["tunes"], "keys": ordered(e["keys"]),
                                           "meters": ordered(e["meters"]),
                                           "bars": {m: ordered(c) for m, c in sorted(e["bars"].items())}}
                                       for s, e in sorted(table.items())}}


@lru_cache(maxsize=1)
def _table() -> dict:
    return json.loads(ATTRIBUTE_TABLE.read_text()) if ATTRIBUTE_TABLE.exists() else {}


def style_counts(style: str) -> dict | None:
    """The counts of one style (None: a style the table does not know, e.g. a user's own)."""
    return (_table().get("styles") or {}).get(style)


@dataclass(frozen=True)
class Draw:
    """One attribute drawn from real tunes, and the sentence that says so."""
    value: str | int
    why: str


def _rng(seed: int, attribute: str) -> random.Random:
    # one stream per attribute: giving --key does not change the meter or length drawn
    return random.Random(f"attributes|{seed}|{attribute}")


def _pick(counts: dict[str, int], rng: random.Random) -> str:
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return rng.choices([k for k, _ in items], weights=[n for _, n in items])[0]


def _shares(counts: dict[str, int], unit: str = "") -> str:
    n = sum(counts.values())
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = [f"{k}{unit} {c / n:.0%}" for k, c in items[:SHOWN]]
    return ", ".join(shown) + (", …" if len(items) > SHOWN else "")


def draw_key(style: str, seed: int, mode: str | None = None) -> Draw | None:
    """A key of `style` as often as real tunes are in it (with `mode`: a tonic among the tunes in
    that mode, else among all tunes, in that mode)."""
    e = style_counts(style)
    if not e or not e["keys"]:
        return None
    counts, where = e["keys"], ""
    if mode is not None:
        same = {k: n for k, n in counts.items() if parse_key(k).mode == mode}
        where = f" in {mode}" if same else ""
        tonics: Counter = Counter()
        for k, n in (same or counts).items():
            tonics[f"{parse_key(k).tonic} {mode}"] += n
        counts = dict(tonics)
    key = _pick(counts, _rng(seed, "key"))
    return Draw(key, f"{key} drawn from {sum(counts.values())} real {style} tunes{where} ({_shares(counts)})")


def draw_meter(style: str, seed: int, weights: dict[str, float] | None = None, weighted: str = "") -> Draw | None:
    """A meter as often as real tunes of `style` are in it; with `weights` (meter -> factor, 1 when
    not named), each meter's count times its factor, `weighted` saying why in the explanation."""
    e = style_counts(style)
    if not e or not e["meters"]:
        return None
    counts = e["meters"]
    if weights:
        counts = {m: n * weights.get(m, 1.0) for m, n in counts.items()}
    meter = _pick(counts, _rng(seed, "meter"))
    how = f", {weighted}" if weights else ""
    return Draw(meter, f"meter {meter} drawn from {e['tunes']} real {style} tunes{how} ({_shares(counts)})")


def draw_bars(style: str, meter: str, seed: int, limits: tuple[int, int] = PLAIN_BARS) -> Draw | None:
    """A length (full bars) of a real tune of `style` in `meter` (of any meter when few tunes are
    in it), among the lengths within `limits`."""
    e = style_counts(style)
    if not e:
        return None
    lo, hi = limits

    def within(c: dict) -> dict:
        return {b: n for b, n in c.items() if lo <= int(b) <= hi}
    counts, where = within(e["bars"].get(meter, {})), f" in {meter}"
    if sum(counts.values()) < MIN_TUNES_PER_METER:
        counts, where = Counter(), ""
        for c in e["bars"].values():
            counts.update(within(c))
        counts = dict(counts)
    if not counts:
        return None
    bars = int(_pick(counts, _rng(seed, "bars")))
    return Draw(bars, f"{bars} bars drawn from the lengths of {sum(counts.values())} real {style} tunes{where} "
                      f"of {lo}-{hi} bars ({_shares(counts, ' bars')})")


def draw_tempo(base_bpm: float, seed: int, spread: float = TEMPO_SPREAD) -> int:
    """A tempo within ±`spread` of `base_bpm` (the corpus has no tempo marks to count)."""
    return round(base_bpm * _rng(seed, "tempo").uniform(1 - spread, 1 + spread))
