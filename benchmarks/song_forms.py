"""Song forms (issue 17, tell 1: "no phrase plan or thematic return"): which whole-tune forms the
real tunes of each folk style have, and which our phrase plans draw.

Each 4-bar phrase of a 16-bar tune (bars counted from bar 1, after a pickup) gets a letter: the
letter of an earlier phrase it repeats note for note (``A``), restates but for its close (``A'``)
or opens as (its first two bars: ``A~``), else a new one; ``+r`` marks a tune whose closing bars
rhyme (bar 15 repeats bar 7: the bars before both halves' tonic close). Real tunes: the forms of
the train split (``music.phrase.PHRASE_FORMS``, built by ``python -m symphony.training.plans``);
ours: ``plan_phrases`` for 400 seeds (the bars the plan repeats; the sampler copies them note for
note). Also: the share of bars repeating an earlier bar, of all lengths.

    python -m benchmarks.song_forms [--seeds 400]
"""
from __future__ import annotations

import argparse
from collections import Counter

FOLK = ("celtic", "chinese", "german")


def form_label(copies: dict[int, int], bars: int = 16) -> str:
    """'A A' B A~ +r' of a tune whose bars repeat earlier bars as `copies` says ({bar: the first
    earlier bar it equals})."""
    def origin(b: int) -> int:
        while b in copies:
            b = copies[b]
        return b
    letters: list[str] = []
    for i in range(bars // 4):
        first, label = 4 * i + 1, None
        for j in range(i):
            src = 4 * j + 1
            same = [origin(first + k) == origin(src + k) for k in range(4)]
            base = letters[j][0]
            if all(same):
                label = base
            elif all(same[:3]):
                label = base + "'"
            elif all(same[:2]) and label is None:
                label = base + "~"
            if label and "~" not in label:
                break
        letters.append(label or "ABCDEFGH"[len({x[0] for x in letters})])
    rhyme = bars >= 16 and origin(bars - 1) == origin(bars // 2 - 1)
    return " ".join(letters) + (" +r" if rhyme else "")


def real_forms(style: str) -> list[list]:
    from symphony.music.phrase import _forms
    return _forms().get(style, [])


def ours(style: str, bars: int, seeds: int) -> list[dict[int, int]]:
    from symphony.music.phrase import plan_phrases
    from symphony.music.theory import Key
    return [plan_phrases(bars, Key("G", "major"), style, s).copy_from for s in range(seeds)]


def summary(maps: list[dict[int, int]], lengths: list[int]) -> dict:
    n = len(maps)
    labels = Counter(form_label(m) for m, b in zip(maps, lengths) if b == 16)
    n16 = sum(labels.values())
    return {"n": n, "n16": n16, "repeated": sum(len(m) for m in maps) / max(1, sum(lengths)),
            "forms": [(k, v / max(1, n16)) for k, v in labels.most_common(8)],
            "rhyme": sum(v for k, v in labels.items() if k.endswith("+r")) / max(1, n16),
            "final_copy": sum(m.get(16) == 8 for m, b in zip(maps, lengths) if b == 16) / max(1, n16)}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=400)
    a = ap.parse_args(argv)
    for style in FOLK:
        forms = real_forms(style)
        real = summary([dict(map(tuple, f[2])) for f in forms], [f[0] for f in forms])
        lens = [f[0] for f in forms]
        ourmaps = [m for b in sorted(set(lens)) for m in ours(style, b, max(1, round(a.seeds * lens.count(b) / len(lens))))]
        ourlens = [b for b in sorted(set(lens)) for _ in range(max(1, round(a.seeds * lens.count(b) / len(lens))))]
        us = summary(ourmaps, ourlens)
        us16 = summary(ours(style, 16, a.seeds), [16] * a.seeds)
        print(f"## {style}: real {real['n']} tunes ({real['n16']} of 16 bars), ours {us['n']} plans at the real lengths")
        print(f"bars repeating an earlier bar: real {real['repeated']:.0%}, ours {us['repeated']:.0%}")
        print(f"16 bars, closing bars rhyme (15 = 7): real {real['rhyme']:.0%}, ours {us16['rhyme']:.0%}; "
              f"bar 16 = bar 8: real {real['final_copy']:.0%}, ours {us16['final_copy']:.0%}")
        print("16-bar forms, real:", ", ".join(f"{k} {v:.0%}" for k, v in real["forms"]))
        print("16-bar forms, ours:", ", ".join(f"{k} {v:.0%}" for k, v in us16["forms"]))
        print()


if __name__ == "__main__":
    main()
