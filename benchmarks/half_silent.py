"""Pieces with an inner bar half or more silent, per meter (issue 17; song_breath.md).

`python -m benchmarks.half_silent --real` : the real share per meter of a style's tunes of the
training split (the rows behind ``bar_rhythm.HALF_TAILS``);
`python -m benchmarks.half_silent --meter 4/4 --n 120` : ours, melody_craft's requests (seeds
1000..) with the meter given, and the rhythms of the half-silent bars.
"""
from __future__ import annotations

import argparse
from collections import Counter

from benchmarks.melody_craft import _bar_starts, _corpus, piece_measures, requests


def real(style: str, split: str = "train") -> None:
    from symphony.music.score import Score
    from symphony.training.corpus import iter_split
    by: dict[str, list[int]] = {}
    for rec in iter_split(_corpus(), split, [style]):
        s = Score.from_dict(rec["score"])
        m = piece_measures(s)
        if not m:
            continue
        d = by.setdefault(str(s.meter), [0, 0, 0, 0])
        d[0] += 1
        d[1] += m["half_silent_bars"] > 0
        d[2] += m["half_silent_bars"]
        d[3] += m["inner_bars"]
    for k, (n, hs, hb, ib) in sorted(by.items(), key=lambda x: -x[1][0]):
        print(f"{style} {split} {k:5s} tunes {n:5d}  half-silent pieces {hs / n:6.1%}  "
              f"half-silent inner bars {hb / max(1, ib):6.2%}")


def ours(style: str, meter: str, n: int) -> None:
    from symphony.decoding.bar_rhythm import bar_rhythms
    from symphony.music.analysis import melody
    from symphony.tasks.api import generate
    pieces = half = bars = inner = 0
    rhythms: Counter = Counter()
    for _, kw in requests(style, n):
        prompt = kw.pop("prompt", "")
        s = generate(prompt, meter=meter, **kw)
        m = piece_measures(s)
        starts = _bar_starts(s)
        rs = bar_rhythms(melody(s), starts)
        for b in range(1, len(starts) - 2):
            if 2 * sum(-x for x in rs[b] if x < 0) >= sum(abs(x) for x in rs[b]):
                rhythms[tuple(rs[b])] += 1
        pieces += 1
        half += m["half_silent_bars"] > 0
        bars += m["half_silent_bars"]
        inner += m["inner_bars"]
    print(f"{style} {meter}: {pieces} pieces, half-silent pieces {half / max(1, pieces):.1%} ({half}), "
          f"bars {bars}/{inner} = {bars / max(1, inner):.2%}")
    for r, c in rhythms.most_common():
        print(f"   {c} {r}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--style", default="german")
    ap.add_argument("--real", action="store_true", help="the real tunes of the training split, per meter")
    ap.add_argument("--meter", default="4/4")
    ap.add_argument("--n", type=int, default=120)
    a = ap.parse_args(argv)
    if a.real:
        real(a.style)
    else:
        ours(a.style, a.meter, a.n)


if __name__ == "__main__":
    main()
