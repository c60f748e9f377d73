"""How often real jigs and polkas strike their final twice (issue 17, branch stutter), by the length of
the note before the final and by the upbeat, over the training split of the corpus cache:
`python -m benchmarks.jig_end_shares` gives the shares generate.JIG_TWICE (by upbeat) and
STRIKE_SIXTEENTHS (the note before a final struck twice) are drawn at (rows with 8 tunes or more)."""
from collections import Counter

from benchmarks.melody_craft import _corpus
from symphony.music.analysis import melody
from symphony.music.score import Score
from symphony.training.corpus import iter_split

METERS = ("2/4", "6/8")


def main() -> None:
    struck, tunes = Counter(), Counter()
    for r in iter_split(_corpus(), "train", ["celtic"]):
        s = Score.from_dict(r["score"])
        meter = str(s.meter)
        notes = melody(s)
        if meter not in METERS or len(notes) < 3:
            continue
        twice = notes[-2].pitch == notes[-1].pitch
        before, up = round(notes[-2].duration, 3), s.pickup or 0.0
        for key in ((meter, "any", "any"), (meter, "any", up), (meter, before, "any"), (meter, before, up)):
            tunes[key] += 1
            struck[key] += twice
    print("meter | note before the final (quarters) | upbeat (quarters) | tunes | struck twice")
    for key in sorted(tunes, key=lambda k: (k[0], str(k[1]), str(k[2]))):
        if tunes[key] >= 8:
            print(f"{key[0]} | {key[1]} | {key[2]} | {tunes[key]} | {struck[key]} ({struck[key] / tunes[key]:.0%})")


if __name__ == "__main__":
    main()
