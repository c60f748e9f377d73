"""Reel feel: does a celtic tune in 2/2 or 4/4 keep one feel, a reel's even eighths or a
hornpipe's dotted pairs? (Blind panel: "mixes even-eighth reel bars and dotted hornpipe bars",
"no single feel"; symphony.decoding.bar_rhythm ``FEELS``.)

Per tune, the share of its full bars (the pickup bar left out) holding a dotted eighth followed by
a sixteenth (``bar_rhythm.is_dotted``): tunes under 15% are even, over 85% dotted, between them
they mix. Real: the celtic tunes in 2/2 and in 4/4 of the test and valid splits of the corpus
cache. Ours: 24 requests per meter (seeds 100..123, six keys; every third with density 0.8, every
third "sad").

    python -m benchmarks.reel_feel
"""
from __future__ import annotations

import argparse

METERS = ("2/2", "4/4")
KEYS = ("D major", "G major", "A minor", "E minor", "A major", "D mixolydian")
MIXED = (0.15, 0.85)


def dotted_share(score) -> float | None:
    """The share of a score's full bars holding a dotted eighth-sixteenth pair (None: no bars)."""
    from symphony.decoding.bar_rhythm import is_dotted, tune_rhythms
    got = tune_rhythms(score)
    bars = [r for r, k in zip(*got) if k is not None] if got else []
    return sum(map(is_dotted, bars)) / len(bars) if bars else None


def line(name: str, xs: list[float]) -> str:
    n = len(xs)
    even = sum(x < MIXED[0] for x in xs) / n
    mixed = sum(MIXED[0] <= x <= MIXED[1] for x in xs) / n
    dotted = sum(x > MIXED[1] for x in xs) / n
    return f"| {name} | {n} | {even:.0%} | {mixed:.0%} | {dotted:.0%} | {sum(xs) / n:.0%} |"


def real(meter: str) -> list[float]:
    from benchmarks.melody_craft import _corpus
    from symphony.music.score import Score
    from symphony.training.corpus import iter_split
    out = []
    for split in ("test", "valid"):
        for r in iter_split(_corpus(), split, ["celtic"]):
            s = Score.from_dict(r["score"])
            if str(s.meter) == meter and (x := dotted_share(s)) is not None:
                out.append(x)
    return out


def ours(meter: str, n: int) -> list[float]:
    from symphony.tasks.api import generate
    out = []
    for seed in range(100, 100 + n):
        kw = {"style": "celtic", "meter": meter, "key": KEYS[seed % len(KEYS)], "seed": seed}
        if seed % 3 == 1:
            kw["density"] = 0.8
        elif seed % 3 == 2:
            kw["emotion"] = "sad"
        out.append(dotted_share(generate(**kw)))
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=24, help="generated pieces per meter")
    a = ap.parse_args(argv)
    print("| tunes | n | even (<15% dotted bars) | mixing (15-85%) | dotted (>85%) | dotted bars (mean share) |")
    print("|---|---|---|---|---|---|")
    for m in METERS:
        print(line(f"real celtic {m}", real(m)))
    for m in METERS:
        print(line(f"ours celtic {m}", ours(m, a.n)))


if __name__ == "__main__":
    main()
