"""The repetition plans of real tunes (which bars repeat which earlier bar), built from the
corpus and shipped next to the model (``music.form.borrowed_repeats`` reads them).
``python -m symphony.training.plans`` rebuilds them."""
from __future__ import annotations

import json

from symphony.music.analysis import GRID, bar_contents, bar_repeats, bar_starts, melody
from symphony.music.form import REPEAT_PLANS
from symphony.music.phrase import PHRASE_FORMS
from symphony.music.score import Score
from symphony.music.styles import STYLES
from symphony.training.corpus import builtin_sources, load_corpus

PLANS_PER_STYLE = 600


def repeat_plan_of(score) -> dict[int, int]:
    """{bar: earlier bar it repeats} of a score's melody (bars of its meter, from 1)."""
    return bar_repeats(melody(score), bar_starts(score))[0]


def build_repeat_plans(records: list[dict], per_style: int = PLANS_PER_STYLE, seed: int = 0) -> dict:
    """{style: [[bars, title, [[bar, earlier bar], ...]], ...]} from records of the train split
    (pieces in one meter without an upbeat, so their bars are the generated pieces' bars)."""
    import random
    by_style: dict[str, list] = {}
    for r in records:
        if r["split"] != "train" or r["style"] not in STYLES:
            continue
        s = Score.from_dict(r["score"])
        if s.bar_meters or s.bars < 2:
            continue
        plan = repeat_plan_of(s)
        by_style.setdefault(r["style"], []).append([s.bars, s.title or r["id"], sorted(plan.items())])
    rng = random.Random(seed)
    out = {}
    for style, plans in sorted(by_style.items()):
        rng.shuffle(plans)
        out[style] = plans[:per_style]
    return out


FORMS_PER_STYLE = 2000


def phrase_form_of(score) -> tuple[int, int, list[list[int]], list[list[int]]]:
    """(full bars, 1 if the tune opens with a pickup, [[bar, earlier bar it repeats note for note],
    ...], [[phrase's first bar, an earlier phrase's first bar whose first half it restates, the
    bar then changing], ...]) of a score's melody, bars counted as a musician does (from 1, after
    a pickup bar, leaving out a strain's pickup printed as a bar of its own); phrases of 4 bars from
    bar 1. A bar repeats the first earlier bar it equals."""
    starts = bar_starts(score)
    lengths = _bar_lengths(starts)
    shift = 1 if score.pickup or (len(lengths) > 1 and lengths[0] < max(lengths)) else 0
    bars = bar_contents(melody(score), starts)
    top = max(lengths)  # a strain's pickup printed as a bar of its own after the short bar closing
    # the strain before (O'Neill's: ... | 3.5 | 0.5 | ...) is the lead-in of the strain's first bar
    full = [c for i, c in enumerate(bars) if i >= shift and not (i and lengths[i] < top and lengths[i - 1] < top)]
    half = round(float(score.bar_quarters) * GRID / 2)
    first: dict[tuple, int] = {}
    copies, varies = [], []
    for b, c in enumerate(full, start=1):
        sig = tuple(c)
        if c and sig in first:
            copies.append([b, first[sig]])
        elif c:
            first[sig] = b
    copied = {b for b, _ in copies}
    for b in range(5, len(full) + 1, 4):  # a phrase's first bar, not a copy, opening as an earlier one did
        head = tuple(x for x in full[b - 1] if x[0] < half)
        src = next((a for a in range(1, b, 4) if head and tuple(x for x in full[a - 1] if x[0] < half) == head), None)
        if b not in copied and src is not None:
            varies.append([b, src])
    return len(full), shift, copies, varies


SHORT_BARS = 2  # a tune printed with repeats has up to two bars shorter than its meter's (the
# pickup, a strain's last bar completing it): most of O'Neill's and Ryan's tunes (1,514 of 2,674
# Irish tunes of the train split); one with more changes meter or is irregular


def _bar_lengths(starts: list[float]) -> list[float]:
    return [round(b - a, 3) for a, b in zip(starts, starts[1:])]


def _short_bars(score) -> int:
    lengths = _bar_lengths(bar_starts(score))
    return sum(x < max(lengths) for x in lengths)


def build_phrase_forms(records: list[dict], per_style: int = FORMS_PER_STYLE, seed: int = 0) -> dict:
    """{style: [[full bars, pickup, copies, varies], ...]} (``phrase_form_of``) of the one-voice
    folk tunes of the train split in one meter (``SHORT_BARS`` short bars at most) of 8 bars or more
    (``music.phrase`` draws its plans' returns from them)."""
    import random
    by_style: dict[str, list] = {}
    for r in records:
        if r["split"] != "train" or r["style"] not in ("celtic", "chinese", "german"):
            continue
        s = Score.from_dict(r["score"])
        if s.bar_meters and _short_bars(s) > SHORT_BARS:
            continue
        form = phrase_form_of(s)
        if form[0] >= 8:
            by_style.setdefault(r["style"], []).append(list(form))
    rng = random.Random(seed)
    out = {}
    for style, forms in sorted(by_style.items()):
        rng.shuffle(forms)
        out[style] = sorted(forms[:per_style], key=lambda f: f[0])
    return out


def main(argv=None) -> None:
    """python -m symphony.form: rebuild the shipped repetition plans from the corpus."""
    records = load_corpus(builtin_sources())
    plans = build_repeat_plans(records)
    REPEAT_PLANS.write_text(json.dumps(plans, ensure_ascii=False, separators=(",", ":")))
    forms = build_phrase_forms(records)
    PHRASE_FORMS.write_text(json.dumps(forms, separators=(",", ":")))
    for style, fs in forms.items():
        print(f"{style}: {len(fs)} phrase forms")
    for style, ps in plans.items():
        share = sum(len(p[2]) for p in ps) / max(1, sum(p[0] for p in ps))
        print(f"{style}: {len(ps)} plans, {share:.0%} of bars repeat an earlier bar")


if __name__ == "__main__":
    main()
