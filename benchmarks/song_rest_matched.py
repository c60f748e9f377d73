"""German tunes matched to 60 real ones (key, meter, length: as the blind panel pairs them), seeds
3000+i: breath_places summed, and the same rows of the real tunes."""
import sys
from benchmarks.melody_craft import real_scores, breath_places, _bar_starts, summarise, piece_measures
from symphony.tasks.api import generate
from symphony.music.analysis import melody
from symphony.decoding.rhythm import vocabulary
real = real_scores("german", 60)
rows, real_rows = [], []
for i, r in enumerate(real):
    bars = max(4, min(64, len(_bar_starts(r)) - 1))
    s = generate(style="german", key=str(r.key), meter=str(r.meter), bars=bars, seed=3000 + i)
    rows.append(piece_measures(s, vocabulary("german", str(s.meter))))
    real_rows.append(piece_measures(r, vocabulary("german", str(r.meter))))
a, b = summarise(real_rows), summarise(rows)
for k in ("mid_rest_bars", "mid_rest_pieces", "breath_again", "breath_again_pieces", "short_before_rest", "hiccups",
          "hiccup_pieces", "triple_bars", "rests_per_16", "rest_led", "long_before_rest", "inner_rest_pieces",
          "close_long", "phrase_long", "rhythm_again", "same_run", "over_sixth", "wide_leaps", "static_bars"):
    print(f"{k}: real {a[k]:.3f} ours {b[k]:.3f}")
