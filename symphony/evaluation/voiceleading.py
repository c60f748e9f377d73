"""Voice leading of a four-part score (DESIGN.md, "Measures": Harmony): parallel fifths and
octaves per 100 voice-pair transitions, voice crossings and voice-range violations.

Definitions (the same for generated harmonizations and for Bach):

* **Slices.** A vertical slice is taken at every onset where any voice starts a note; it holds
  the sounding pitch of each voice there (``None`` where the voice rests). A voice holding
  several notes at once sounds its most recently struck one (the higher on a tie).
* **Transitions.** For each pair of voices and each pair of consecutive slices where both
  voices sound in both slices: one transition.
* **Parallel fifths / octaves.** A transition where both voices move in the same direction and
  the interval between them, modulo 12, is 7 in both slices (fifths, twelfths...) or 0 in both
  slices (octaves and unisons). A voice that holds or repeats its pitch does not move.
* **Crossings.** At a slice, a lower voice sounding above a higher one (each pair counted).
* **Range violations.** Notes outside the voice's range; for four voices the documented SATB
  ranges the sampler also uses (``sampling.DEFAULT_RANGES[4]``): S C4-A5 (60-81), A F3-D5
  (53-74), T C3-A4 (48-69), B E2-D4 (40-62).

Voices are the score's parts in order, the highest first (S, A, T, B = parts 0..3).
"""
from __future__ import annotations

from symphony.decoding.sampler import DEFAULT_RANGES
from symphony.music.score import Score

EPS = 1e-6
VOICE_NAMES = {4: ("soprano", "alto", "tenor", "bass")}


def voice_ranges(voices: int) -> list[tuple[int, int]]:
    """The documented range (lowest, highest MIDI pitch) of each voice, highest voice first."""
    ranges = DEFAULT_RANGES.get(voices)
    if ranges is None:
        raise ValueError(f"no documented ranges for {voices} voices")
    return list(ranges)


def slices(score: Score, voices: int | None = None) -> list[tuple[float, list[int | None]]]:
    """(onset, sounding pitch of each voice or None) at every onset where any voice starts a note."""
    parts = score.parts[: voices or len(score.parts)]
    notes = [sorted(p.notes, key=lambda n: (n.onset, n.pitch)) for p in parts]
    onsets = sorted({round(n.onset, 6) for ns in notes for n in ns})
    out = []
    nxt = [0] * len(notes)  # per voice: the first note not yet started
    active: list[list] = [[] for _ in notes]  # per voice: started notes that may still sound
    for t in onsets:
        row: list[int | None] = []
        for v, ns in enumerate(notes):
            while nxt[v] < len(ns) and ns[nxt[v]].onset <= t + EPS:
                active[v].append(ns[nxt[v]])
                nxt[v] += 1
            active[v] = [n for n in active[v] if n.onset + n.duration > t + EPS]
            if active[v]:
                latest = max(n.onset for n in active[v])
                row.append(max(n.pitch for n in active[v] if n.onset > latest - EPS))
            else:
                row.append(None)
        out.append((t, row))
    return out


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


def analyze(score: Score, ranges: list[tuple[int, int]] | None = None, voices: int = 4,
            keep_events: bool = False) -> dict:
    """Counts and rates of parallel fifths/octaves, crossings and range violations.

    Rates: parallels per 100 voice-pair transitions, crossings per 100 slices, range violations
    per 100 notes. With ``keep_events`` the onsets and voice pairs of each parallel and crossing
    are listed too."""
    if len(score.parts) < voices:
        raise ValueError(f"the score has {len(score.parts)} parts; voice leading needs {voices}")
    ranges = ranges or voice_ranges(voices)
    rows = slices(score, voices)
    transitions = fifths = octaves = crossings = 0
    events: dict[str, list] = {"parallel_fifths": [], "parallel_octaves": [], "crossings": []}
    for (t0, a), (t1, b) in zip(rows, rows[1:]):
        for i in range(voices):
            for j in range(i + 1, voices):
                if None in (a[i], a[j], b[i], b[j]):
                    continue
                transitions += 1
                mi, mj = b[i] - a[i], b[j] - a[j]
                if mi == 0 or mj == 0 or _sign(mi) != _sign(mj):
                    continue
                before, after = abs(a[i] - a[j]) % 12, abs(b[i] - b[j]) % 12
                if before == after == 7:
                    fifths += 1
                    events["parallel_fifths"].append((t1, i, j))
                elif before == after == 0:
                    octaves += 1
                    events["parallel_octaves"].append((t1, i, j))
    for t, row in rows:
        for i in range(voices):
            for j in range(i + 1, voices):
                if row[i] is not None and row[j] is not None and row[j] > row[i]:
                    crossings += 1
                    events["crossings"].append((t, i, j))
    notes = out_of_range = 0
    per_voice = []
    for v in range(voices):
        lo, hi = ranges[v]
        bad = sum(1 for n in score.parts[v].notes if not lo <= n.pitch <= hi)
        per_voice.append(bad)
        notes += len(score.parts[v].notes)
        out_of_range += bad
    res = {"slices": len(rows), "transitions": transitions, "notes": notes,
           "parallel_fifths": fifths, "parallel_octaves": octaves, "parallels": fifths + octaves,
           "crossings": crossings, "range_violations": out_of_range,
           "range_violations_per_voice": per_voice}
    res.update(rates(res))
    if keep_events:
        res["events"] = events
    return res


def rates(c: dict) -> dict:
    """Rates from counts: per 100 transitions, per 100 slices, per 100 notes."""
    tr, sl, no = max(c["transitions"], 1), max(c["slices"], 1), max(c["notes"], 1)
    return {"parallel_fifths_per_100": 100 * c["parallel_fifths"] / tr,
            "parallel_octaves_per_100": 100 * c["parallel_octaves"] / tr,
            "parallels_per_100": 100 * c["parallels"] / tr,
            "crossings_per_100_slices": 100 * c["crossings"] / sl,
            "range_violations_per_100_notes": 100 * c["range_violations"] / no}


COUNTS = ("slices", "transitions", "notes", "parallel_fifths", "parallel_octaves", "parallels",
          "crossings", "range_violations")


def combine(results: list[dict]) -> dict:
    """Pool the counts of several pieces and recompute the rates (pieces weigh by their size)."""
    total = {k: sum(r[k] for r in results) for k in COUNTS}
    voices = max((len(r["range_violations_per_voice"]) for r in results), default=0)
    total["range_violations_per_voice"] = [sum(r["range_violations_per_voice"][v] for r in results
                                               if v < len(r["range_violations_per_voice"]))
                                           for v in range(voices)]
    total["pieces"] = len(results)
    total.update(rates(total))
    return total
