"""Phrase plans for one-voice pieces composed without a form (issue 17).

A folk tune is built of phrases, and a piece asked for without ``--form`` gets a plan of them:

* the piece is cut into phrases of ``PHRASE_BARS`` bars (``LONG_PHRASE_BARS`` in pieces of
  ``LONG_PIECE_BARS`` bars or more), as equal as the length allows;
* the **opening** phrase ends on a half cadence: a long note on the 2nd or 5th degree of the mode
  (``half_cadence``), which asks for an answer;
* the **answer** (the second phrase, while the first half lasts) starts with the opening's first
  bar and closes on the tonic: the same question, a different ending;
* the phrases of the second half but the last **contrast**: they sit higher (``PhrasePlan.lift``)
  and hold the tune's high point (``PhrasePlan.peak_bar``), and end on a half cadence;
* the last phrase **returns** to the opening's first bars and ends with the composed final
  cadence (``decoding.cadence``).

The sampler keeps the plan by construction: phrase ends are cadence bars
(``Constraints.phrase_bars``), the answer and the return are copied bars
(``Constraints.copy_from``) and register and high point are priors on the melody's pitches
(``decoding.contour``).

>>> from symphony.music.theory import Key
>>> p = plan_phrases(16, Key("D", "major"))
>>> [(ph.role, ph.first_bar, ph.last_bar) for ph in p.phrases]
[('opening', 1, 4), ('answer', 5, 8), ('contrast', 9, 12), ('return', 13, 16)]
>>> sorted(p.copy_from.items()), sorted(p.cadences[4]), sorted(p.cadences[8]), p.peak_bar
([(5, 1), (13, 1), (14, 2)], [2, 7], [0], 11)
"""
from __future__ import annotations

from dataclasses import dataclass, field

from symphony.music.theory import HEPTATONIC, Key

PHRASE_BARS = 4
LONG_PHRASE_BARS = 8  # phrases of long pieces (Irish tunes are 8-bar strains of 4+4)
LONG_PIECE_BARS = 32
MIN_BARS = 8  # a shorter piece is one phrase: its only cadence is the final one
TONIC = frozenset({0})


@dataclass(frozen=True)
class Phrase:
    role: str  # "opening", "answer", "contrast" or "return"
    first_bar: int  # 1-based
    n_bars: int
    cadence: frozenset[int]  # semitones over the tonic of its last note (the last phrase: the tonic)

    @property
    def last_bar(self) -> int:
        return self.first_bar + self.n_bars - 1


@dataclass
class PhrasePlan:
    phrases: list[Phrase]
    copy_from: dict[int, int] = field(default_factory=dict)  # bar -> the opening's bar it repeats
    cadences: dict[int, frozenset[int]] = field(default_factory=dict)  # inner phrase ends -> cadence notes
    lift: frozenset[int] = frozenset()  # bars sung higher than the opening (the contrasting phrases)
    peak_bar: int | None = None  # the bar that reaches the tune's highest note

    def describe(self) -> str:
        """'bars 1-4 opening (half cadence), 5-8 answer (tonic), ...' for music.json's explanation."""
        def end(ph: Phrase) -> str:
            if ph.role == "return" or ph is self.phrases[-1]:
                return "final cadence"
            return "tonic" if ph.cadence == TONIC else "half cadence"
        parts = [f"{ph.first_bar}-{ph.last_bar} {ph.role} ({end(ph)})" for ph in self.phrases]
        peak = f"; high point in bar {self.peak_bar}" if self.peak_bar else ""
        return "phrases: bars " + ", ".join(parts) + peak


def half_cadence(key: Key) -> frozenset[int]:
    """Semitones over the tonic where a phrase may pause: the mode's 2nd and 5th degrees that lie in
    its scale (a pentatonic mode lacking both: its notes a fourth or fifth from the tonic).

    >>> sorted(half_cadence(Key("G", "zhi"))), sorted(half_cadence(Key("A", "yu"))), sorted(half_cadence(Key("E", "jue")))
    ([2, 7], [7], [5])
    """
    ref = HEPTATONIC[key.reference_mode]
    scale = set(key.scale_semitones())
    out = frozenset(s for s in (ref[1], ref[4]) if s in scale)
    return out or frozenset(s for s in (5, 7) if s in scale) or frozenset(scale - {0})


def _lengths(bars: int) -> list[int]:
    """Phrase lengths covering `bars`, as equal as possible, longer ones first."""
    size = LONG_PHRASE_BARS if bars >= LONG_PIECE_BARS else PHRASE_BARS
    n = max(2, round(bars / size))
    return [bars // n + (i < bars % n) for i in range(n)]


def plan_phrases(bars: int, key: Key) -> PhrasePlan | None:
    """The phrase plan of a one-voice piece of `bars` bars in `key`; None when it is too short."""
    if bars < MIN_BARS:
        return None
    lengths = _lengths(bars)
    n = len(lengths)
    phrases, first = [], 1
    for i, size in enumerate(lengths):
        if i == n - 1:
            role = "return" if n > 2 else "answer"
        elif i == 0:
            role = "opening"
        elif i < n // 2:
            role = "answer" if i % 2 else "opening"
        else:
            role = "contrast"
        cadence = TONIC if role == "answer" or i == n - 1 else half_cadence(key)
        phrases.append(Phrase(role, first, size, cadence))
        first += size
    plan = PhrasePlan(phrases)
    opening = phrases[0]
    for ph in phrases[1:]:
        copied = 0
        if ph.role == "answer":
            copied = 1
        elif ph.role == "return":
            copied = min((ph.n_bars + 1) // 2, opening.n_bars - 1)
        for j in range(copied):
            plan.copy_from[ph.first_bar + j] = opening.first_bar + j
    plan.cadences = {ph.last_bar: ph.cadence for ph in phrases[:-1]}
    contrast = [ph for ph in phrases if ph.role == "contrast"]
    plan.lift = frozenset(b for ph in contrast for b in range(ph.first_bar, ph.last_bar + 1))
    # the high point: two thirds into the first contrasting phrase (else into the last phrase's
    # free bars), where a folk tune's climb usually peaks before it falls to the cadence
    peak_in = contrast[0] if contrast else phrases[-1]
    plan.peak_bar = peak_in.first_bar + min(peak_in.n_bars - 1, (2 * peak_in.n_bars) // 3)
    if plan.peak_bar in plan.copy_from:
        plan.peak_bar = max(plan.copy_from) + 1 if max(plan.copy_from) + 1 < bars else None
    return plan
