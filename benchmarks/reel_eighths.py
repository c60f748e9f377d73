"""Reel eighths (issue 17: "quarter notes that break a reel's drive"): does a celtic dance play its
main figure (``bar_rhythm.MAIN_MIN``) as often as the real tunes do?

Per tune: the share of its inner bars in running eighths (every note an eighth, a triplet eighth or
a sixteenth, no rest: a reel; a jig's eighths and sixteenths; a hornpipe's bars holding a dotted
pair), the share of its full bars playing the main figure itself (eight eighths, six eighths, four
dotted pairs) and how many tunes play it in over 0/25/40/50/60/75% of them; pooled, the five
commonest inner bar rhythms and ``bar_rhythm.habits`` (a bar replaying a played rhythm, the bar a
phrase earlier). Real: the training split (reels: even-feel celtic 2/2 tunes; hornpipes: dotted;
jigs: 6/8). Ours: N requests from seed 100 (six keys): ``--style celtic --meter 2/2`` (the
even-feel ones kept), the prompt "Irish reel", ``--meter 6/8``, the prompt "Irish hornpipe".

    python -m benchmarks.reel_eighths real
    python -m benchmarks.reel_eighths reel22 irishreel jig hornpipe --n 48
"""
from __future__ import annotations

import argparse
import json
from collections import Counter

KEYS = ("D major", "G major", "A minor", "E minor", "A major", "D mixolydian")
MAIN = {"reel": (12,) * 8, "jig": (12,) * 6, "hornpipe": (18, 6) * 4}
REQUESTS = {"reel22": ({"style": "celtic", "meter": "2/2"}, "reel"),
            "irishreel": ({"prompt": "Irish reel", "style": "celtic"}, "reel"),
            "jig": ({"style": "celtic", "meter": "6/8"}, "jig"),
            "hornpipe": ({"prompt": "Irish hornpipe", "style": "celtic"}, "hornpipe")}
REAL = (("reel", "2/2", "even"), ("hornpipe", "2/2", "dotted"), ("jig", "6/8", None))


def running(r, kind: str) -> bool:
    from symphony.decoding.bar_rhythm import is_dotted
    if kind == "hornpipe":
        return is_dotted(r)
    return all(x in ((6, 12) if kind == "jig" else (6, 8, 12)) for x in r)


def stats(scores, kind: str) -> dict:
    from symphony.decoding.bar_rhythm import habits, tune_feel, tune_rhythms
    per, mains, top, hab = [], [], Counter(), [0, 0, 0, 0]
    for s in scores:
        got = tune_rhythms(s)
        if not got:
            continue
        rh, kinds = got
        if kind == "reel" and tune_feel(rh, kinds) != "even":
            continue
        inner = [r for r, k in zip(rh, kinds) if k == "inner"]
        full = [r for r, k in zip(rh, kinds) if k is not None]
        if not inner or len(full) < 4:
            continue
        per.append(sum(running(r, kind) for r in inner) / len(inner))
        mains.append(sum(r == MAIN[kind] for r in full) / len(full))
        top.update(inner)
        for i, x in enumerate(habits(rh, kinds)):
            hab[i] += x
    n, bars = len(per), sum(top.values())
    return {"tunes": n, "running inner bars": round(sum(per) / n, 3),
            "main figure (full bars)": round(sum(mains) / n, 3),
            "tunes with it in over 0/25/40/50/60/75%": [round(sum(x > t for x in mains) / n, 2)
                                                        for t in (0, .25, .4, .5, .6, .75)],
            "top5": [(list(r), round(c / bars, 3)) for r, c in top.most_common(5)],
            "again": round(hab[1] / max(1, hab[0]), 3), "parallel": round(hab[3] / max(1, hab[2]), 3)}


def real(meter: str, feel: str | None) -> list:
    from benchmarks.melody_craft import _corpus
    from symphony.decoding.bar_rhythm import tune_feel, tune_rhythms
    from symphony.music.score import Score
    from symphony.training.corpus import iter_split
    out = []
    for r in iter_split(_corpus(), "train", ["celtic"]):
        s = Score.from_dict(r["score"])
        if str(s.meter) == meter and (not feel or (got := tune_rhythms(s)) and tune_feel(*got) == feel):
            out.append(s)
    return out


def ours(which: str, n: int) -> list:
    from symphony.tasks.api import generate
    kw, _ = REQUESTS[which]
    out = []
    for seed in range(100, 100 + n):
        a = {**kw, "key": KEYS[seed % len(KEYS)], "seed": seed}
        prompt = a.pop("prompt", None)
        out.append(generate(prompt, **a) if prompt else generate(**a))
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("which", nargs="+", help="real, or any of " + ", ".join(REQUESTS))
    ap.add_argument("--n", type=int, default=48)
    a = ap.parse_args(argv)
    for w in a.which:
        if w == "real":
            for kind, meter, feel in REAL:
                print(f"real {kind}", json.dumps(stats(real(meter, feel), kind)))
        else:
            print(f"ours {w}", json.dumps(stats(ours(w, a.n), REQUESTS[w][1])))


if __name__ == "__main__":
    main()
