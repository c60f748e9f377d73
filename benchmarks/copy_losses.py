"""Where the phrase plan's repeated bars are lost between the plan and the notes (issue 17).

For each request, the plan's copies (music.phrase.plan_phrases: copy_from), those generate.uncopy
keeps, and the output bars (analysis.bar_contents) that equal their source note for note. A lost
copy is counted by cause: ``notcopyable`` (cadence.copyable refused the source), ``final_bar`` (the
final's rules composed it), ``cadence_bar`` (a phrase end copying one: its cadence rules ended the
copy), ``last_note_only_before_cadence`` (all but the last note, which leads into a phrase end or
the final), ``abandoned_inner`` (another constraint ended the copy) and ``other``.

    python -m benchmarks.copy_losses --n 24 [--long]   # --long: bars 20, 24, 28, 32 in turn
"""
from __future__ import annotations

import argparse
import collections

from symphony.decoding import sampler
from symphony.music import phrase
from symphony.music.analysis import bar_contents, bar_starts, melody
from symphony.tasks import generate as gen
from symphony.tasks.engine import Engine


def run(styles=("celtic", "chinese", "german"), n: int = 24, long: bool = False) -> dict:
    from benchmarks.melody_craft import requests
    from symphony.tasks.api import generate
    rec: dict = {}
    plan_phrases, uncopy, sample = gen.plan_phrases, gen.uncopy, Engine.sample

    def planned(bars, key, style="", seed=0):
        p = plan_phrases(bars, key, style, seed)
        rec.update(plan=dict(p.copy_from) if p else {}, cad=dict(p.cadences) if p else {})
        rec["final"] = rec["plan"]
        return p

    def uncopied(phrases, plan):
        out = uncopy(phrases, plan)
        rec["final"] = dict(out.copy_from)
        return out

    def sampled(self, *a, **k):
        sampler.COPY_LOG = []  # (the last attempt's)
        return sample(self, *a, **k)

    gen.plan_phrases, gen.uncopy, Engine.sample = planned, uncopied, sampled
    out = {}
    try:
        for style in styles:
            c = collections.Counter()
            for i, (_, kw) in enumerate(requests(style, n)):
                rec.clear()
                kw = dict(kw)
                if long:
                    kw = {"style": style, "seed": i, "bars": (20, 24, 28, 32)[i % 4]}
                score = generate(kw.pop("prompt", ""), **kw)
                notes, starts = melody(score), bar_starts(score)
                cont = bar_contents(notes, starts)
                pk = 1 if notes[0].onset > starts[0] + 1e-6 else 0
                log = sampler.COPY_LOG or []
                abandoned = {x[1] for x in log if x[0] == "abandoned"}
                refused = {x[1] for x in log if x[0] == "notcopyable"}
                seen: set = set()
                for bar in cont:
                    if bar:
                        c["filled"] += 1
                        c["out_repeats"] += tuple(bar) in seen
                        seen.add(tuple(bar))
                c["planned"] += len(rec.get("plan", {}))
                c["uncopied"] += len(rec.get("plan", {})) - len(rec.get("final", {}))
                last = len(cont) - pk
                for b, a in rec.get("final", {}).items():
                    src, got = cont[a + pk - 1], cont[b + pk - 1] if b + pk - 1 < len(cont) else []
                    if got and got == src:
                        c["realized"] += 1
                        continue
                    if b + pk in refused:
                        why = "notcopyable"
                    elif b == last:
                        why = "final_bar"
                    elif b in rec["cad"]:
                        why = "cadence_bar"
                    elif len(src) == len(got) and src[:-1] == got[:-1]:
                        why = "last_note_only" + ("_before_cadence" if b + 1 in rec["cad"] or b + 1 == last else "")
                    elif b + pk in abandoned:
                        why = "abandoned_inner"
                    else:
                        why = "other"
                    c["lost_" + why] += 1
            out[style] = dict(sorted(c.items()))
    finally:
        gen.plan_phrases, gen.uncopy, Engine.sample = plan_phrases, uncopy, sample
        sampler.COPY_LOG = None
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=24)
    ap.add_argument("--long", action="store_true")
    args = ap.parse_args(argv)
    for style, c in run(n=args.n, long=args.long).items():
        print(style, "long" if args.long else "melody_craft requests",
              f"planned {c.get('planned', 0)} realized {c.get('realized', 0)} of {c['filled']} bars;",
              {k: v for k, v in c.items() if k not in ("planned", "realized", "filled")})


if __name__ == "__main__":
    main()
