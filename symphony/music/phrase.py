"""Phrase plans for one-voice pieces composed without a form (issue 17).

A folk tune is built of phrases, and a piece asked for without ``--form`` gets a plan of them:

* the piece is cut into phrases of ``PHRASE_BARS`` bars (``LONG_PHRASE_BARS`` in pieces of
  ``LONG_PIECE_BARS`` bars or more), as equal as the length allows;
* the **opening** phrase ends on a half cadence, the 2nd or 5th degree of the mode
  (``half_cadence``), which asks for an answer: a note arriving on the bar's last strong beat,
  held to the barline at some phrase ends (``PhrasePlan.held``, at the style's rate);
* the **answer** (the second phrase, while the first half lasts) starts with the opening's first
  bar and closes on the tonic: the same question, a different ending;
* the phrases of the second half but the last **contrast** and end on a half cadence;
* the tune has one high point (``PhrasePlan.peak_bar``), placed where real tunes of the style
  place theirs (Chinese songs early, German and Irish tunes often in the second half); a
  contrasting phrase that holds it sits higher (``PhrasePlan.lift``);
* the last phrase **returns** to the opening's first bars and ends with the composed final
  cadence (``decoding.cadence``).

The sampler keeps the plan by construction: phrase ends are cadence bars
(``Constraints.phrase_bars`` held, ``Constraints.phrase_marks`` the others), the answer and the return are copied bars
(``Constraints.copy_from``) and register and high point are priors on the melody's pitches
(``decoding.contour``).

>>> from symphony.music.theory import Key
>>> p = plan_phrases(16, Key("D", "major"))
>>> [(ph.role, ph.first_bar, ph.last_bar) for ph in p.phrases]
[('opening', 1, 4), ('answer', 5, 8), ('contrast', 9, 12), ('return', 13, 16)]
>>> sorted(p.copy_from.items()), sorted(p.cadences[4]), sorted(p.cadences[8])
([(5, 1), (13, 1), (14, 2)], [2, 7], [0])
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from symphony.music.theory import HEPTATONIC, Key

PHRASE_BARS = 4
LONG_PHRASE_BARS = 8  # phrases of long pieces (Irish tunes are 8-bar strains of 4+4)
LONG_PIECE_BARS = 32
MIN_BARS = 8  # a shorter piece is one phrase: its only cadence is the final one
TONIC = frozenset({0})
# Share of inner phrase ends held on a long note to the barline (the others arrive on their cadence
# note at the bar's last strong beat and move on). benchmarks.melody_craft measures how often a
# real tune's every fourth bar closes on a long note: celtic 7%, chinese 39%, german 58% (60 tunes
# of the test split each, benchmarks/melody_craft.md); the model adds long notes of its own at the
# other phrase ends (celtic 13%, chinese 37%, german 27% with 0.1, 0.3 and 0.25 here).
PHRASE_HOLD = {"celtic": 0.05, "chinese": 0.3, "german": 0.5}
DEFAULT_HOLD = 0.3
# Where a tune first reaches its highest note, by quarter of the piece, in real tunes of the corpus
# (first 400 tunes of each source): Chinese songs start high (han1/han2: 77%, 13%, 6%, 4%); German
# songs climb later (erk, altdeu, boehme: 37%, 24%, 26%, 13%). The plan draws its peak's quarter so.
PEAK_QUARTERS = {"chinese": (0.77, 0.13, 0.06, 0.04), "german": (0.37, 0.24, 0.26, 0.13),
                 "celtic": (0.37, 0.24, 0.26, 0.13)}
DEFAULT_PEAK = (0.37, 0.24, 0.26, 0.13)
# Distinct pitches the sampler helps a tune reach (it favours unheard pitches until then). Real tunes
# have celtic 10.9, chinese 7.2, german 7.7 (60 of the test split, benchmarks/melody_craft.md); the
# model reaches German and Irish variety on its own once it stops circling (contour.py), so there
# the help stops earlier (targets at the real means gave celtic 11.9 and german 8.5 a piece).
PITCH_VARIETY = {"celtic": 9, "chinese": 7, "german": 7}
DEFAULT_VARIETY = 7


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
    held: frozenset[int] = frozenset()  # the phrase ends held on a long note to the barline
    lift: frozenset[int] = frozenset()  # bars sung higher than the tune so far (a contrasting
    # phrase that holds the peak)
    peak_bar: int | None = None  # the bar that reaches the tune's highest note
    variety: int = DEFAULT_VARIETY  # distinct pitches to reach (the style's real mean)

    def describe(self) -> str:
        """'bars 1-4 opening (half cadence), 5-8 answer (tonic), ...' for music.json's explanation."""
        def end(ph: Phrase) -> str:
            if ph.role == "return" or ph is self.phrases[-1]:
                return "final cadence"
            held = ", held" if ph.last_bar in self.held else ""
            return ("tonic" if ph.cadence == TONIC else "half cadence") + held
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


def plan_phrases(bars: int, key: Key, style: str = "", seed: int = 0) -> PhrasePlan | None:
    """The phrase plan of a one-voice piece of `bars` bars of `style` in `key`; None when it is too
    short. The seed draws which phrase ends are held and where the high point falls."""
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
    plan = PhrasePlan(phrases, variety=PITCH_VARIETY.get(style, DEFAULT_VARIETY))
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
    rng = random.Random(f"phrases|{style}|{seed}")
    plan.held = frozenset(b for b in plan.cadences if rng.random() < PHRASE_HOLD.get(style, DEFAULT_HOLD))
    plan.peak_bar = _peak_bar(bars, plan.copy_from, rng.choices(range(4), PEAK_QUARTERS.get(style, DEFAULT_PEAK))[0])
    plan.lift = frozenset(b for ph in phrases if ph.role == "contrast" and ph.first_bar <= plan.peak_bar <= ph.last_bar
                          for b in range(ph.first_bar, ph.last_bar + 1))
    return plan


def _peak_bar(bars: int, copy_from: dict[int, int], quarter: int) -> int:
    """A bar two thirds into the given quarter of the piece that is not a copy of an earlier one."""
    size = bars / 4
    bar = 1 + int(quarter * size + (2 * size) // 3)
    while bar in copy_from and bar < bars - 1:
        bar += 1
    return min(bar, bars - 1)
