"""Where real celtic tunes of one meter end (issue 17, branch reelend): the upbeat, the final's onset in its
last bar, its length, the rest after it (the upbeat's complement included), struck twice, by feel and by
upbeat, over the training split of the corpus cache. `python -m benchmarks.reel_end_shares 2/2` gives the
shares generate.REEL_FINALS and REEL_TWICE are drawn at; `4/4` why celtic 4/4 is left out."""
import sys
from collections import Counter
from symphony.music.score import Score
from symphony.music.analysis import bar_starts, melody
from symphony.training.corpus import iter_split
from symphony.decoding import bar_rhythm
from benchmarks.melody_craft import _corpus

def main() -> None:
    meter_want = sys.argv[1] if len(sys.argv) > 1 else "2/2"
    recs = _corpus()
    rows = []
    for r in iter_split(recs, "train", ["celtic"]):
        s = Score.from_dict(r["score"])
        if str(s.meter) != meter_want:
            continue
        notes = melody(s)
        if len(notes) < 3: continue
        starts = bar_starts(s)
        got = bar_rhythm.tune_rhythms(s)
        feel = bar_rhythm.tune_feel(*got) if got else "?"
        last = notes[-1]
        # last bar start
        lb = max(x for x in starts if x <= last.onset + 1e-6)
        rel = round(last.onset - lb, 3)
        first = notes[0].onset - starts[0]
        bq = float(s.meter.bar_quarters)
        up = round(bq - first, 3) if first > 1e-6 else 0.0
        if s.pickup: up = s.pickup
        end = starts[-1]
        lastbar_len = round(end - lb, 3)
        rest_after = round(end - last.end, 3)
        twice = notes[-2].pitch == last.pitch
        step = abs(notes[-2].pitch - last.pitch) <= 2
        pen = notes[-2]
        twice_step = twice and len(notes) > 2 and 0 < abs(notes[-3].pitch - pen.pitch) <= 2
        rows.append(dict(up=up, rel=rel, dur=round(last.duration, 3), lastbar=lastbar_len, rest=rest_after,
                         twice=twice, twice_step=twice_step, step=step and not twice, feel=feel, pendur=round(pen.duration,3),
                         pen_rel=round(pen.onset - lb, 3), thrice=twice and notes[-3].pitch == last.pitch))
    n = len(rows)
    print(meter_want, "tunes", n)
    def tab(key, sub=None, title=""):
        rs = [r for r in rows if sub is None or sub(r)]
        c = Counter(key(r) for r in rs)
        print(f"--{title} (n={len(rs)})")
        for k, v in c.most_common(14):
            print(f"   {k}: {v} {v/len(rs):.0%}")
    tab(lambda r: r["feel"], title="feel")
    tab(lambda r: r["up"], title="upbeat")
    tab(lambda r: r["rel"], title="final onset")
    tab(lambda r: r["dur"], title="final dur")
    tab(lambda r: r["twice"], title="twice")
    tab(lambda r: (r["twice"], r["thrice"]), title="twice, thrice")
    tab(lambda r: r["twice_step"], sub=lambda r: r["twice"], title="twice: first strike by step")
    for f in ("even", "dotted"):
        tab(lambda r: (r["up"], r["rel"], r["dur"], r["rest"]), sub=lambda r: r["feel"] == f, title=f"{f}: up, onset, dur, rest")
        tab(lambda r: r["twice"], sub=lambda r: r["feel"] == f, title=f"{f}: twice")
    for u in sorted(set(r["up"] for r in rows)):
        tab(lambda r: (r["rel"], r["dur"], r["rest"]), sub=lambda r: r["up"] == u, title=f"up {u}: onset, dur, rest")
        tab(lambda r: r["twice"], sub=lambda r: r["up"] == u, title=f"up {u}: twice")
        tab(lambda r: (r["pen_rel"], r["pendur"]), sub=lambda r: r["up"] == u and r["twice"], title=f"up {u}: first strike onset,dur")


if __name__ == "__main__":
    main()
