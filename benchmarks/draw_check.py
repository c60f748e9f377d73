"""Quick control check for drawn attributes (issue 17, items 4-5): parts of benchmarks/controls.py
at small n (modes 24, chords 16, forms 14, emotion quadrants 32), plus key (music21), meter and
bars of the written file against the drawn ones for 8 plain `--style S` requests per style.

    python benchmarks/draw_check.py OUT.json    # on whatever `symphony` is on PYTHONPATH
"""
import json, random, sys, tempfile, time
from pathlib import Path
from benchmarks import controls as C
from symphony.tasks.generate import generate_request, key_matches
from symphony.tasks.requests import resolve
from symphony.music.score import analyze_key
from symphony.music.theory import parse_key
from symphony.understanding.emotion import estimate_emotion, quadrant

out = {}
t0 = time.time()
with tempfile.TemporaryDirectory() as t:
    tmp = Path(t)
    out["modes"] = {k: v for k, v in C.bench_modes(None, 24, random.Random(0), tmp).items()
                    if k in ("n", "key_accuracy", "notes_in_mode_scale", "modal_accuracy")}
    out["chords"] = C.bench_chords(None, 16, random.Random(0), tmp)
    out["form"] = {k: v for k, v in C.bench_form(None, 14, random.Random(0), tmp).items() if k != "per_form"}
    signs = {"happy/excited": (1, 1), "angry/tense": (-1, 1), "sad/depressed": (-1, -1), "calm/content": (1, -1)}
    rng, hits, n, i = random.Random(0), 0, 0, 0
    for q, (sv, sa) in signs.items():
        for j in range(8):
            v, a = sv * rng.uniform(0.3, 1.0), sa * rng.uniform(0.3, 1.0)
            style = C.STYLES[j % 4]
            s, _ = C._gen(None, style=style, valence=round(v, 2), arousal=round(a, 2), bars=8, seed=400 + i)
            i += 1
            ev, ea = estimate_emotion(C._write_read(s, tmp, f"emo{i}"), style=style)
            hits += quadrant(ev, ea) == q
            n += 1
    out["emotion_quadrant_hit"] = {"n": n, "hit": hits / n}
    plain = {"n": 0, "key": 0, "meter": 0, "bars": 0}
    for style in C.STYLES:
        for seed in range(8):
            s, req = C._gen(None, style=style, seed=seed)
            back = C._write_read(s, tmp, f"p{style}{seed}")
            plain["n"] += 1
            plain["key"] += key_matches(parse_key(req.key), analyze_key(back))
            plain["meter"] += str(back.meter) == req.meter
            plain["bars"] += back.full_bars == req.bars
    out["plain_requests"] = {k: (v / plain["n"] if k != "n" else v) for k, v in plain.items()}
out["seconds"] = round(time.time() - t0)
print(json.dumps(out, indent=1))
Path(sys.argv[1]).write_text(json.dumps(out, indent=1))
