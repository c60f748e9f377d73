"""Note-length calibration of a style: the soprano (top part) of generated pieces against the
real held-out pieces of the style, for several density settings. It is how the chorale's
`density_offset` (symphony/styles.py) was chosen: the setting whose notes per beat and share of
eighth notes are nearest to Bach's.

    python -m benchmarks.calibration [--style chorale] [--n 8] [--densities -0.5,-0.4,-0.3,0]

Densities here are the sampler's (the style's offset is *not* added: the offsets are what this
measures); generation otherwise goes through the normal request path (symphony.generation).
"""
from __future__ import annotations

import argparse
import json

import numpy as np


def soprano_stats(scores) -> dict:
    from symphony.music.analysis import piece_features
    npb, short, long_ = [], [], []
    for s in scores:
        d = [n.duration for n in s.parts[0].notes]
        if not d:
            continue
        npb.append(piece_features(s).notes_per_beat)
        short.append(np.mean([x <= 0.5 for x in d]))
        long_.append(np.mean([x >= 2 for x in d]))
    return {"pieces": len(npb), "notes_per_beat": round(float(np.mean(npb)), 3),
            "eighth_or_shorter": round(float(np.mean(short)), 3), "half_or_longer": round(float(np.mean(long_)), 3)}


def main(argv=None) -> None:
    from dataclasses import replace

    from symphony.training.corpus import builtin_sources, iter_split, load_corpus
    from symphony.tasks.generate import generate_request
    from symphony.tasks.requests import resolve
    from symphony.music.score import Score
    from symphony.music.styles import STYLES
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--style", default="chorale")
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--bars", type=int, default=12)
    ap.add_argument("--densities", default="-0.5,-0.4,-0.3,0")
    args = ap.parse_args(argv)
    recs = load_corpus([s for s in builtin_sources() if s.style == args.style])
    real = [Score.from_dict(r["score"]) for r in iter_split(recs, "test", [args.style])]
    out = {"style": args.style, "real": soprano_stats(real), "generated": {}}
    print("real", out["real"], flush=True)
    offset = STYLES[args.style].density_offset
    keys = ["F major", "G major", "A minor", "D major"]
    for dens in (float(x) for x in args.densities.split(",")):
        scores = []
        for i in range(args.n):
            req, _ = resolve("", args.style, keys[i % 4], None, None, args.bars, 100 + i)
            # the request's density is relative to the style's offset: cancel it to set `dens`
            req = replace(req, density=dens - offset)
            scores.append(generate_request(req))
        out["generated"][str(dens)] = soprano_stats(scores)
        print(dens, out["generated"][str(dens)], flush=True)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
