"""Regenerate the German pieces of folk panels 73, 79, 83 (as blind_panel.build asks for them)
and print their breath tells; with --png DIR engrave them."""
import sys, json
from pathlib import Path
from benchmarks.melody_craft import _corpus, breath_places
from symphony.music.attributes import sounding_bars
from symphony.tasks.api import Options, run
from symphony.tasks.engine import Engine
from symphony.decoding.bar_rhythm import tune_rhythms
from symphony.music.analysis import melody, bar_starts
png = sys.argv[1] if len(sys.argv) > 1 else None
recs = {r["id"]: r for r in _corpus()}
engine = Engine.load(None)
tot = {}
for seed in (73, 79, 83):
    key = json.load(open(f"/work/panel/folk{seed}/key.json"))
    for name, v in key.items():
        if v["style"] != "german":
            continue
        i = int(name.split("-")[1]) - 1
        rec = recs.get(v["real_id"])
        bars = sounding_bars({"score": rec["score"], "meter": v["meter"]}) if rec else v["bars"]
        s = run(Options(style="german", key=v["key"], meter=v["meter"], bars=bars, seed=seed * 1000 + i), engine).score
        notes = melody(s); starts = bar_starts(s)
        m = breath_places(s, notes, starts)
        for k, x in m.items(): tot[k] = tot.get(k, 0) + (x if k != "triple_bars" else x >= 3)
        rh, kinds = tune_rhythms(s)
        ph = [(p["bars"], p["held"]) for p in s.meta.get("phrases", [])]
        print(seed, name, v["key"], v["meter"], bars, "pickup", bool(s.pickup), m, ph)
        print("   ", " | ".join(" ".join(str(x) for x in r) for r in rh))
        if png:
            from benchmarks.blind_panel import engrave_png
            Path(png).mkdir(parents=True, exist_ok=True)
            engrave_png(s, Path(png) / f"{seed}-{name}.png")
print("TOTAL", tot)
