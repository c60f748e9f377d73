"""Phrase form: ``AABB``, ``ABA``, ``AABA``, ``ABAC``, with ``'`` for a varied repeat (``AA'BA``).

A form divides the piece into equal sections, one per letter. The sampler is given a plan:

* **repeats** — a section whose letter appeared before is copied bar by bar from its first
  statement (the model reads the copied tokens, so what follows is composed in their light);
  a primed letter (``A'``) copies only the first half of the section and composes the rest anew,
  a varied repeat with the same opening and a new continuation. A copied bar that would break
  a constraint where it lands (a different chord, the final cadence) is composed anew from the
  first token that would break it.
* **cadences** — every section ends on a longer note of the tonic triad in the melody (degree
  1, 3 or 5 of the mode, so a half cadence on the dominant is possible), and the last section on
  the tonic itself (unless the request says otherwise).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from symphony.errors import RequestError
from symphony.music.theory import HEPTATONIC, Key
from symphony.settings import PACKAGE_ROOT

MAX_SECTIONS = 16
EPS = 1e-6


@dataclass
class Section:
    label: str  # "A", "B", ...
    varied: bool  # written with a prime: A'
    first_bar: int  # 1-based
    n_bars: int

    @property
    def bars(self) -> range:
        return range(self.first_bar, self.first_bar + self.n_bars)


@dataclass
class FormPlan:
    form: str
    sections: list[Section]
    copy_from: dict[int, int] = field(default_factory=dict)  # bar -> earlier bar it repeats
    cadence_bars: dict[int, frozenset[int]] = field(default_factory=dict)  # bar -> semitones over the tonic


def parse_form(text: str) -> list[tuple[str, bool]]:
    t = (text or "").strip().upper().replace("’", "'").replace(" ", "").replace("-", "")
    if not re.fullmatch(r"([A-Z]'?)+", t):
        raise RequestError(f"cannot read form {text!r}; write section letters such as AABB, ABA, AABA "
                           f"or AA'BA (' = varied repeat)")
    items = [(m.group(1), bool(m.group(2))) for m in re.finditer(r"([A-Z])('?)", t)]
    if len(items) > MAX_SECTIONS:
        raise RequestError(f"a form has at most {MAX_SECTIONS} sections, got {len(items)}")
    return items


def default_bars(form: str, per_section: int = 4) -> int:
    return per_section * len(parse_form(form))


def tonic_triad(key: Key) -> frozenset[int]:
    """Semitones over the tonic of degrees 1, 3 and 5 that belong to the key's scale."""
    ref = HEPTATONIC[key.reference_mode]
    scale = set(key.scale_semitones())
    return frozenset(s for s in (ref[0], ref[2], ref[4]) if s in scale) | {0}


def plan_form(text: str, bars: int, key: Key, end_on_tonic: bool = True) -> FormPlan:
    items = parse_form(text)
    n = len(items)
    if bars % n:
        near = [b for b in (bars - bars % n, bars - bars % n + n) if b > 0]
        raise RequestError(f"{bars} bars cannot be split into the {n} equal sections of form {text!r}; "
                           f"use {' or '.join(map(str, near))} bars")
    size = bars // n
    plan = FormPlan("".join(label + ("'" if v else "") for label, v in items), [])
    first_of: dict[str, Section] = {}
    triad = tonic_triad(key)
    # A section that comes back as the last one ends on the tonic already at its first
    # statement, so the closing repeat can be an exact copy.
    final_label = items[-1][0] if end_on_tonic and not items[-1][1] else None
    for i, (label, varied) in enumerate(items):
        sec = Section(label, varied, 1 + i * size, size)
        plan.sections.append(sec)
        src = first_of.get(label)
        if src is None:
            first_of[label] = sec
        else:
            copy = (size + 1) // 2 if varied else size
            for j in range(copy):
                plan.copy_from[sec.first_bar + j] = src.first_bar + j
        last = sec.first_bar + size - 1
        tonic_end = end_on_tonic and (i == n - 1 or label == final_label)
        plan.cadence_bars[last] = frozenset({0}) if tonic_end else triad
    return plan


def after_upbeat(plan: FormPlan) -> FormPlan:
    """The plan of a piece that opens with an upbeat: every bar a bar later, after the pickup
    bar (whose upbeat then leads into each section: music.pickup.upbeat_before_sections). The
    sections keep their letters and lengths; the piece has one bar more, the pickup bar, and its
    last bar is short by the upbeat."""
    return FormPlan(plan.form, [replace(s, first_bar=s.first_bar + 1) for s in plan.sections],
                    {b + 1: a + 1 for b, a in plan.copy_from.items()},
                    {b + 1: pcs for b, pcs in plan.cadence_bars.items()})


def repeats_present(score, plan: FormPlan, part: int = 0) -> tuple[int, int]:
    """(repeated bars found identical, repeated bars planned) in a written score's melody — the
    form-control measure. Only bars planned as copies count; the last bar of a repeat that had to
    be recomposed for the final cadence counts as a miss."""
    bar_q = float(score.meter.bar_quarters)
    notes = score.parts[part].notes if score.parts else []
    # after a pickup bar the plan's bars come a bar later, and the piece's last bar, short by the
    # upbeat, repeats its model up to where the upbeat would begin
    shift = 1 if score.pickup else 0
    final = max(plan.cadence_bars, default=0) if score.pickup_completed else None

    def content(b: int, upto: float = 0.0) -> list[tuple[float, int, float]]:
        lo, hi = (b - 1 + shift) * bar_q, (b + shift) * bar_q - upto
        return sorted((round(n.onset - lo, 4), n.pitch, round(min(n.end, hi) - n.onset, 4))
                      for n in notes if lo - 1e-6 <= n.onset < hi - 1e-6)

    same = sum(content(dst, upto) == content(src, upto) for dst, src in plan.copy_from.items()
               for upto in [score.pickup if dst == final else 0.0])
    return same, len(plan.copy_from)


def restate_repeats(notes: list, plan: FormPlan, bar_q: float, upbeat: float = 0.0) -> list:
    """``notes`` (one line, bar b from (b - 1) * ``bar_q``) with every bar the plan copies holding
    its source's notes again, after a shaping that changed one and not the other (a chorale
    soprano's: music.chorale_line). The last section's copies give their notes back to their
    sources first, since its close was shaped for the end (plan_form has the first statement of a
    closing section end on the tonic too). The last bar, short by ``upbeat``, and its source
    trade only what comes before the upbeat."""
    final = max(plan.cadence_bars, default=0)
    last = plan.sections[-1].bars if plan.sections else range(0)

    def move(out: list, src: int, dst: int) -> list:
        upto = bar_q - (upbeat if final in (src, dst) else 0.0)
        a, b = (src - 1) * bar_q, (dst - 1) * bar_q
        kept = [n for n in out if not b - EPS <= n.onset < b + upto - EPS]
        moved = [replace(n, onset=round(n.onset - a + b, 6), duration=round(min(n.duration, a + upto - n.onset), 6)
                         if dst == final else n.duration) for n in out if a - EPS <= n.onset < a + upto - EPS]
        return sorted(kept + moved, key=lambda n: n.onset)

    out = list(notes)
    for dst, src in sorted(plan.copy_from.items()):
        if dst in last:
            out = move(out, dst, src)
    for dst, src in sorted(plan.copy_from.items()):
        out = move(out, src, dst)
    for n, nxt in zip(out, out[1:]):  # a note held over into a restated bar stops where it starts
        n.duration = round(min(n.duration, nxt.onset - n.onset), 6)
    return out


# ----------------------------------------------------------------------------- borrowed repeats
# Folk tunes repeat bars: in the test split a fifth to a quarter of a Chinese, German or Irish
# tune's bars repeat an earlier bar note for note, and a chorale's a tenth. The model, sampling
# token by token, almost never does (under 3% of bars): an exact repeat needs every token of a bar
# to come out the same. So a piece composed without a requested form borrows the repetition plan
# of a real tune of its style (which bars repeat which earlier bar; no notes are borrowed), from
# the training split, and the sampler copies those bars as it does for a form's repeats.

REPEAT_PLANS = PACKAGE_ROOT / "checkpoints" / "default" / "repeat_plans.json"


@lru_cache(maxsize=1)
def _repeat_plans() -> dict:
    return json.loads(REPEAT_PLANS.read_text()) if REPEAT_PLANS.exists() else {}


def borrowed_repeats(style: str, bars: int, seed: int) -> tuple[dict[int, int], str] | None:
    """A repetition plan for `bars` bars of `style`: that of a real tune of the same length, else
    of a longer one cut to `bars` (its repeats that lie within them). None when there is none."""
    import random
    plans = _repeat_plans().get(style) or []
    fits = [p for p in plans if p[0] == bars] or [p for p in plans if bars < p[0] <= 2 * bars]
    if not fits:
        return None
    n, title, pairs = random.Random(seed).choice(fits)
    return {int(b): int(a) for b, a in pairs if b <= bars}, title

