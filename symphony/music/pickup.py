"""The anacrusis (pickup, upbeat): a tune that starts before its first downbeat.

A Score stores the pickup bar as a whole bar whose first ``bar_quarters - pickup`` quarters are
empty (so bar k always starts at k bars), and says in ``Score.pickup`` how much of it is written.
A generated piece whose first bar opens with a rest in every part, as the model learned from the
padded pickups of the corpus, is such an upbeat; like a real tune, its last bar then completes
the first: the final notes end ``pickup`` quarters before the bar line.

>>> from symphony.music.score import Note, Part, Score
>>> from symphony.music.theory import parse_key, parse_meter
>>> s = Score([Part([Note(67, 3.0, 1.0), Note(72, 4.0, 4.0), Note(72, 8.0, 4.0)])],
...           parse_key("C major"), parse_meter("4/4"), 96.0, 3)
>>> mark_pickup(s), s.pickup, s.pickup_completed, s.parts[0].notes[-1].duration
(True, 1.0, True, 3.0)
"""
from __future__ import annotations

from dataclasses import replace

from symphony.music.analysis import bar_starts
from symphony.music.score import Score

EPS = 1e-6


def upbeat_length(score: Score) -> float:
    """Quarters of the upbeat a piece opens with: the first bar after its leading rest, when
    that rest is there in every part and the first bar is a whole bar of the meter; else 0."""
    notes = score.all_notes()
    bar = score.bar_quarters
    if not notes or score.bars < 2 or (score.bar_meters and float(score.bar_meters[1][0]) != bar):
        return 0.0
    first = min(n.onset for n in notes)
    return round(bar - first, 6) if EPS < first < bar - EPS else 0.0


def complete_last_bar(score: Score, pickup: float, shortest: float | None = None) -> bool:
    """End the final notes ``pickup`` quarters before the last bar line, so that the last bar
    and the pickup make one bar, as in a published tune. Only when every note of the last bar
    starts before that point and the final notes keep at least ``shortest`` quarters (default a
    beat; a final that would be cut shorter, or a note starting later, leaves the last bar
    whole). Returns whether the last bar was shortened."""
    end = bar_starts(score)[-1]
    cut = end - pickup
    last_bar = [n for n in score.all_notes() if n.end > end - score.bar_quarters + EPS]
    if not last_bar or any(n.onset > cut - EPS for n in last_bar):
        return False
    shortest = float(score.meter.beat_quarters) if shortest is None else shortest
    if any(n.end > cut + EPS and cut - n.onset < shortest - EPS for n in last_bar):
        return False
    for n in last_bar:
        if n.end > cut + EPS:
            n.duration = round(cut - n.onset, 6)
    return True


def mark_pickup(score: Score, shortest: float | None = None) -> bool:
    """Make a generated piece's opening upbeat its pickup (``Score.pickup``) and complete it in
    the last bar (``complete_last_bar``). Returns whether the piece has a pickup."""
    pickup = upbeat_length(score)
    if not pickup:
        return False
    score.pickup = pickup
    score.pickup_completed = complete_last_bar(score, pickup, shortest)
    return True


def fit_to_pickup(score: Score, pickup: float, completed: bool) -> Score:
    """Keep the notes an edit wrote inside the bars of a pickup (returns ``score``, changed in
    place): nothing sounds before the upbeat (a note that starts earlier starts with it, one that
    ends by then is dropped) and, where the last bar completes the pickup, nothing after the last
    bar's shortened end (a note held past it stops there, one starting there or later is
    dropped). Lower voices of an infilled pickup bar enter with the upbeat this way."""
    if not pickup:
        return score
    cut = score.bar_quarters - pickup
    end = bar_starts(score)[-1] - pickup if completed else float("inf")
    for p in score.parts:
        kept = [n for n in p.notes if n.end > cut + EPS and n.onset < end - EPS]
        p.notes = [n if cut - EPS <= n.onset and n.end <= end + EPS else
                   replace(n, onset=max(n.onset, cut), duration=round(min(n.end, end) - max(n.onset, cut), 6))
                   for n in kept]
    return score


def upbeat_before_sections(score: Score, section_ends: list[int]) -> float:
    """A piece in sections (a form) that opens with an upbeat has every section approached by
    that upbeat, as a tune written ``|: A :|: B :|`` with a pickup is played: the end of each
    section's last bar (``section_ends``, 1-based, the piece's last bar excluded), as long as the
    upbeat, becomes the upbeat's notes (notes held into it stop there), and the last bar's notes
    stop where the upbeat would begin. The top part's opening sets the upbeat; lower parts enter
    with it. Returns the upbeat's length (0: none, nothing changed)."""
    top = score.parts[0].notes if score.parts else []
    first = min((n.onset for n in top), default=0.0)
    bar = score.bar_quarters
    pickup = round(bar - first, 6) if EPS < first < bar - EPS and score.bars >= 2 else 0.0
    if not pickup:
        return 0.0
    fit_to_pickup(score, pickup, completed=False)
    cut = bar - pickup
    last = (score.bars - 1) * bar + cut
    for p in score.parts:
        upbeat = [n for n in p.notes if cut - EPS <= n.onset < bar - EPS]
        notes = [n for n in p.notes if n.onset < last - EPS]
        for e in section_ends:
            a, z = (e - 1) * bar + cut, e * bar
            notes = [n for n in notes if not a - EPS <= n.onset < z - EPS]
            notes += [replace(n, onset=round(n.onset + (e - 1) * bar, 6), duration=min(n.duration, bar - n.onset))
                      for n in upbeat]
        for a in [(e - 1) * bar + cut for e in section_ends] + [last]:
            notes = [replace(n, duration=round(a - n.onset, 6)) if n.onset < a - EPS < n.end - 2 * EPS else n
                     for n in notes]
        p.notes = sorted(notes, key=lambda n: (n.onset, n.pitch))
    return pickup
