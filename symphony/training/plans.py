"""The repetition plans of real tunes (which bars repeat which earlier bar), built from the
corpus and shipped next to the model (``music.form.borrowed_repeats`` reads them).
``python -m symphony.training.plans`` rebuilds them."""
from __future__ import annotations

import json

from symphony.music.analysis import bar_repeats, bar_starts, melody
from symphony.music.form import REPEAT_PLANS
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


def main(argv=None) -> None:
    """python -m symphony.form: rebuild the shipped repetition plans from the corpus."""
    plans = build_repeat_plans(load_corpus(builtin_sources()))
    REPEAT_PLANS.write_text(json.dumps(plans, ensure_ascii=False, separators=(",", ":")))
    for style, ps in plans.items():
        share = sum(len(p[2]) for p in ps) / max(1, sum(p[0] for p in ps))
        print(f"{style}: {len(ps)} plans, {share:.0%} of bars repeat an earlier bar")


if __name__ == "__main__":
    main()
