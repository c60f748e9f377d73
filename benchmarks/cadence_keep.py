"""Planned cadences kept (issue 17, tell 2): of the phrase ends a one-voice tune's plan asks for
(``music.phrase.plan_phrases``; Irish strains), how many the written tune closes as planned.

For every planned inner phrase end (bars of the plan, a bar later in storage after a pickup bar):

* ``kept``: the planned cadence note sounds where the sampler puts it: a note of the planned
  pitches starts on the bar's last strong beat (a phrase mark) or on a strong beat and is held to
  the barline (a held end);
* ``strain``: of the bars that close a strain before its repeat sign (bar 8 of a tune printed
  |: A :|: B :|), those whose note on the last strong beat is the tonic, reached by step or from
  the dominant, and whose notes after it stay within a third of the tonic and below the note a
  fifth over it (no run up into the repeat) -- a fiddler's "the A part comes home";
* ``low_dominant``: strain ends (as above) or answers whose last note is the dominant below the tonic;
* final bars: the final tonic approached by a leap wider than a third, or a final on the third.

    python -m benchmarks.cadence_keep [--seeds 30] [--styles celtic,german,chinese] [--out FILE]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

METERS = {"celtic": ("2/2", "6/8", "4/4"), "german": ("4/4", "3/4", "2/4"), "chinese": ("4/4", "2/4")}
KEYS = {"celtic": ("E minor", "D major", "G major", "A dorian"), "german": ("F major", "G major", "D minor"),
        "chinese": ("D major", "A minor", "G zhi")}
EPS = 1e-6


def _strong(meter) -> list[float]:
    bq = float(meter.bar_quarters)
    beats = round(bq / meter.beat_quarters)
    return [0.0, bq / 2] if beats % 2 == 0 and beats >= 2 else [0.0]


def check(score) -> dict:
    """Counts for one generated score with a phrase plan in its meta."""
    key, meter = score.key, score.meter
    bq = float(meter.bar_quarters)
    shift = 1 if score.pickup else 0
    notes = sorted(score.parts[0].notes, key=lambda n: n.onset)
    tonic = key.tonic_pc
    rel = lambda n: (n.pitch - tonic) % 12  # noqa: E731
    phrases = score.meta.get("phrases") or []
    strains = [b for _, b in score.meta.get("strains") or []]
    out = {"ends": 0, "kept": 0, "strain_ends": 0, "strain_ok": 0, "low_dominant": 0, "run_up": 0,
           "tonic_ends": 0, "tonic_ok": 0, "final_leap": 0, "final_third": 0, "bad": []}
    strong = _strong(meter)
    for ph in phrases[:-1]:
        b = ph["bars"][1]
        lo, hi = (b - 1 + shift) * bq, (b + shift) * bq
        inside = [n for n in notes if lo - EPS <= n.onset < hi - EPS]
        pcs = set(ph["cadence"])
        out["ends"] += 1
        if ph["held"]:
            ok = any(rel(n) in pcs and any(abs(n.onset - lo - s) < EPS for s in strong) and n.end >= hi - EPS
                     for n in inside)
        else:
            ok = any(rel(n) in pcs and abs(n.onset - lo - strong[-1]) < EPS for n in inside)
        out["kept"] += ok
        if not ok:
            out["bad"].append(b)
        if pcs == {0}:
            out["tonic_ends"] += 1
            good = _home(notes, inside, lo, strong, tonic)
            out["tonic_ok"] += good
            if b in strains:
                out["strain_ends"] += 1
                out["strain_ok"] += good
            last = inside[-1] if inside else None
            if last is not None and rel(last) == 7 and last.pitch < _tonic_near(inside, tonic):
                out["low_dominant"] += 1
            at = [n for n in inside if n.onset >= lo + strong[-1] - EPS]
            if at and max(n.pitch for n in at) - _tonic_near(inside, tonic) > 4:
                out["run_up"] += 1
    if notes:
        fin = notes[-1]
        before = [n for n in notes if n.onset < fin.onset - EPS]
        out["final_third"] += rel(fin) in (3, 4)
        out["final_leap"] += bool(before) and abs(before[-1].pitch - fin.pitch) > 4
    return out


def _tonic_near(inside, tonic: int) -> int:
    """MIDI of the tonic at the cadence's strong beat: the one nearest the bar's notes' mean."""
    mean = sum(n.pitch for n in inside) / max(1, len(inside)) if inside else 60
    return min((m for m in range(24, 108) if m % 12 == tonic), key=lambda m: abs(m - mean))


def _home(notes, inside, lo: float, strong: list[float], tonic: int) -> bool:
    """The bar comes home: the tonic on its last strong beat (a note starting there, or held over
    it from an earlier strong beat), reached by step or from the dominant, and what follows it in
    the bar stays within a major third of that tonic (no run up or down into the repeat)."""
    at = [n for n in inside if n.onset <= lo + strong[-1] + EPS and n.end > lo + strong[-1] + EPS]
    if not at or (at[0].pitch - tonic) % 12 != 0:
        return False
    t = at[0]
    prev = [n for n in notes if n.onset < t.onset - EPS]
    if prev:
        d = t.pitch - prev[-1].pitch
        if not (abs(d) <= 2 or d in (5, -7)):
            return False
    after = [n for n in inside if n.onset > t.onset + EPS]
    return all(abs(n.pitch - t.pitch) <= 4 for n in after)


def run(styles, seeds: int, bars: int | None) -> dict:
    from symphony.tasks.api import generate
    res = {}
    for style in styles:
        for meter in METERS[style]:
            tot: dict = {}
            t0 = time.time()
            for s in range(seeds):
                key = KEYS[style][s % len(KEYS[style])]
                kw = {"bars": bars} if bars else {}
                sc = generate(style=style, key=key, meter=meter, seed=s, **kw)
                c = check(sc)
                for k, v in c.items():
                    if k == "bad":
                        if v:
                            tot.setdefault("bad", []).append([s, key, v])
                    else:
                        tot[k] = tot.get(k, 0) + v
            tot["seconds"] = round(time.time() - t0, 1)
            res[f"{style} {meter}"] = tot
            print(f"{style} {meter}: kept {tot['kept']}/{tot['ends']}, tonic ends home {tot['tonic_ok']}/"
                  f"{tot['tonic_ends']}, strain ends home {tot['strain_ok']}/{tot['strain_ends']}, low dominant "
                  f"{tot['low_dominant']}, run up {tot['run_up']}, final leap {tot['final_leap']}, final on 3rd "
                  f"{tot['final_third']}  ({tot['seconds']}s)", flush=True)
    return res


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--styles", default="celtic,german,chinese")
    ap.add_argument("--bars", type=int, default=16, help="0: the style's drawn length")
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    res = run(a.styles.split(","), a.seeds, a.bars or None)
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=1))
    print(json.dumps({k: {x: y for x, y in v.items() if x != "bad"} for k, v in res.items()}), file=sys.stderr)


if __name__ == "__main__":
    main()
