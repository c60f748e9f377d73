"""`make bench`: the spine's numbers, written to benchmarks/RESULTS.md and results.json.

    python -m benchmarks.run                 # everything (about 20 minutes on 2 cores, cached corpus)
    python -m benchmarks.run --only speed    # one section: corpus, likelihood, control, controls, fusion, editing, speed
    python -m benchmarks.run --only prompts  # not in the default set: text prompts (benchmarks/prompts.md), ~10 min

Every figure is measured on output files or held-out data, never on the request itself.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
STYLES = ["chinese", "german", "celtic", "chorale"]


# ----------------------------------------------------------------------------- corpus

def bench_corpus(records) -> dict:
    from symphony.training.corpus import stats
    from symphony.music.score import Score
    from symphony.model.tokens import Tokenizer, exact_round_trip
    tok = Tokenizer()
    rt = defaultdict(lambda: [0, 0])
    for r in records:
        kind = f"{r['style']}/{'mono' if r['voices'] == 1 else 'poly'}"
        rt[kind][1] += 1
        rt[kind][0] += exact_round_trip(tok, Score.from_dict(r["score"]))
    mono = [sum(v[0] for k, v in rt.items() if k.endswith("mono")), sum(v[1] for k, v in rt.items() if k.endswith("mono"))]
    poly = [sum(v[0] for k, v in rt.items() if k.endswith("poly")), sum(v[1] for k, v in rt.items() if k.endswith("poly"))]
    return {"stats": stats(records), "round_trip": {k: {"exact": a, "pieces": n, "share": a / n} for k, (a, n) in sorted(rt.items())},
            "round_trip_mono": mono[0] / max(mono[1], 1), "round_trip_poly": poly[0] / max(poly[1], 1),
            "mono_pieces": mono[1], "poly_pieces": poly[1]}


# ----------------------------------------------------------------------------- likelihood

def bench_likelihood(records, checkpoint=None, max_test=150, orders=(4, 5, 6)) -> dict:
    from benchmarks.ngram import KneserNey
    from symphony.tasks.engine import Engine
    from symphony.music.score import Score
    from symphony.training.loop import nll_per_note
    engine = Engine.load(checkpoint)
    model, tok, meta = engine.model, engine.tokenizer, engine.meta
    train = [tok.encode(Score.from_dict(r["score"])) for r in records if r["split"] == "train" and r["style"] in STYLES]
    tests = {style: [Score.from_dict(r["score"]) for r in records if r["split"] == "test" and r["style"] == style][:max_test]
             for style in STYLES}
    out = {style: {"pieces": len(t), **{k: v for k, v in nll_per_note(model, tok, t).items()}} for style, t in tests.items()}
    for order in orders:
        ngram = KneserNey(order=order, vocab_size=tok.vocab_size).fit(train)
        for style, test in tests.items():
            total = sum(ngram.nll(tok.encode(s), tok.HEADER_LEN)[0] for s in test)
            out[style][f"ngram{order}_nll_per_note"] = total / max(out[style]["notes"], 1)
        del ngram
    for style, v in out.items():
        v["model_nll_per_note"] = v.pop("nll_per_note")
        v["model_nll_per_token"] = v.pop("nll_per_token")
        for order in orders:
            v[f"ratio_vs_ngram{order}"] = v["model_nll_per_note"] / v[f"ngram{order}_nll_per_note"]
    return out


# ----------------------------------------------------------------------------- control

def analyse_files(midi_path: Path, xml_path: Path) -> dict:
    """Read back what the files say: music21's key analysis, meter, bars, MIDI tempo."""
    import mido
    from music21 import converter, meter as m21meter, stream
    from symphony.music.theory import parse_meter, quarter_bpm_to_bpm
    s = converter.parse(str(xml_path))
    k = s.analyze("key")
    ts = s.recurse().getElementsByClass(m21meter.TimeSignature).first()
    bars = sum(m.number >= 1 for m in s.parts[0].getElementsByClass(stream.Measure))  # a pickup bar 0 is not a bar
    mid = mido.MidiFile(str(midi_path))
    tempo = next(m.tempo for m in mid.tracks[0] if m.type == "set_tempo")
    meter = ts.ratioString
    bpm = quarter_bpm_to_bpm(mido.tempo2bpm(tempo), parse_meter(meter))
    return {"tonic": k.tonic.name.replace("-", "b"), "mode": k.mode, "meter": meter, "bars": bars, "bpm": bpm}


def bench_control(n=100, checkpoint=None, seed=0) -> dict:
    from symphony.tasks.requests import Request
    from symphony.tasks.common import describe
    from symphony.tasks.generate import generate_request
    from symphony.formats.render import write_outputs
    from symphony.music.theory import SUPPORTED_METERS, parse_key, pitch_class
    rng = random.Random(seed)
    tonics = ["C", "G", "D", "A", "E", "F", "Bb", "Eb", "B", "F#", "Ab", "C#"]
    hits = defaultdict(int)
    first_try = 0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n):
            style = rng.choice(STYLES)
            key = f"{rng.choice(tonics)} {rng.choice(['major', 'minor'])}"
            meter = rng.choice(SUPPORTED_METERS)
            bars = rng.randint(4, 32)
            bpm = rng.randint(50, 180)
            req = Request(style, key, meter, float(bpm), bars, 1000 + i, 4 if style == "chorale" else 1)
            score = generate_request(req, checkpoint)
            out = Path(tmp) / f"g{i}"
            write_outputs([(score, describe(score))], out, audio=False, svg=False)
            a = analyse_files(out / "music.mid", out / "music.musicxml")
            k = parse_key(key)
            ok = {"key": pitch_class(a["tonic"]) == k.tonic_pc and a["mode"] == k.mode,
                  "meter": a["meter"] == meter, "bars": a["bars"] == bars,
                  "tempo": abs(a["bpm"] - bpm) < 0.01}
            for name, v in ok.items():
                hits[name] += v
            first_try += score.meta["attempts"] == 1 and ok["key"]
            rows.append({"style": style, "key": key, "meter": meter, "bars": bars, "bpm": bpm,
                         "found": a, "attempts": score.meta["attempts"], **ok})
    return {"n": n, **{f"{k}_accuracy": v / n for k, v in hits.items()},
            "key_accuracy_first_sample": first_try / n, "rows": rows}


# ----------------------------------------------------------------------------- speed

def bench_speed(checkpoint=None, repeats=20) -> dict:
    from symphony.tasks.requests import Request
    from symphony.tasks.generate import generate_request
    from symphony.tasks.engine import Engine
    t0 = time.perf_counter()
    Engine.load(checkpoint)
    load_s = time.perf_counter() - t0
    out = {"model_load_s": load_s}
    cases = {"melody_16_bars": ("celtic", "D major", "6/8", 1), "melody_16_bars_4_4": ("german", "F major", "4/4", 1),
             "chorale_16_bars_satb": ("chorale", "G major", "4/4", 4)}
    for name, (style, key, meter, voices) in cases.items():
        times, notes, tokens = [], [], []
        for i in range(repeats):
            req = Request(style, key, meter, 100.0, 16, 500 + i, voices)
            s = generate_request(req, checkpoint)
            # model time of the sample that was kept, per attempt
            times.append(s.meta["model_seconds"] / s.meta["attempts"])
            notes.append(s.n_notes)
            tokens.append(s.meta["tokens"])
        out[name] = {"median_model_s": statistics.median(times), "max_model_s": max(times),
                     "notes_per_s": sum(notes) / sum(times), "tokens_per_s": sum(tokens) / sum(times),
                     "median_notes": statistics.median(notes)}
    cold = []
    for i in range(3):
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            r = subprocess.run([sys.executable, "-m", "symphony.cli", "generate", "a lively Irish jig in D major",
                                "--seed", str(i), "-o", tmp], capture_output=True, text=True)
            cold.append(time.perf_counter() - t)
            assert r.returncode == 0, r.stderr
            assert {"music.mid", "music.musicxml", "music.wav", "music.json"} <= {p.name for p in Path(tmp).iterdir()}
    out["cli_cold_start_s"] = {"median": statistics.median(cold), "all": cold}
    return out


# ----------------------------------------------------------------------------- report

def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=["corpus", "likelihood", "control", "controls", "fusion", "editing", "speed",
                                       "prompts"], action="append")
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--control-n", type=int, default=100)
    ap.add_argument("--editing-n", type=int, default=30, help="pieces per part of the editing benchmark")
    ap.add_argument("--controls-parts", default="", help="re-run some parts of 'controls': modes,chords,form,emotion,density_range")
    args = ap.parse_args()
    sections = args.only or ["corpus", "likelihood", "control", "controls", "fusion", "editing", "speed"]
    results_path = HERE / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    records = None
    if {"corpus", "likelihood"} & set(sections):
        from symphony.training.corpus import builtin_sources, load_corpus
        sources = builtin_sources() if "corpus" in sections else [
            s for s in builtin_sources() if s.style in STYLES]  # the likelihood needs only these
        records = load_corpus(sources, workers=2, progress=sys.stderr.isatty())
    for sec in sections:
        t = time.perf_counter()
        print(f"== {sec}", file=sys.stderr)
        if sec == "corpus":
            res = bench_corpus(records)
        elif sec == "likelihood":
            res = bench_likelihood(records, args.checkpoint)
        elif sec == "control":
            res = bench_control(args.control_n, args.checkpoint)
        elif sec == "controls":
            from benchmarks.controls import PARTS, bench_controls
            parts = [p for p in args.controls_parts.split(",") if p] or list(PARTS)
            res = bench_controls(args.checkpoint, parts=parts)
            if args.controls_parts:  # keep the other parts' numbers (and their own dates)
                old = json.loads(results_path.read_text()).get("controls", {}) if results_path.exists() else {}
                res = {**{k: v for k, v in old.items() if k != "_meta"}, **res}
        elif sec == "fusion":
            from benchmarks.controls import bench_fusion
            res = bench_fusion(args.checkpoint)
        elif sec == "prompts":  # issue 5: labelled text prompts; details in benchmarks/prompts.md
            from benchmarks.prompts import run as bench_prompts
            res = bench_prompts(log=lambda m: print(m, file=sys.stderr))
        elif sec == "editing":
            from benchmarks.editing import bench_editing
            res = bench_editing(args.checkpoint, n=args.editing_n, log=lambda m: print(m, file=sys.stderr))
        else:
            res = bench_speed(args.checkpoint)
        res["_meta"] = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
                        "command": "python -m benchmarks.run --only " + sec + (
                            f" --controls-parts {args.controls_parts}" if sec == "controls" and args.controls_parts else "") + (
                            f" --editing-n {args.editing_n}" if sec == "editing" and args.editing_n != 30 else ""), "seconds": round(time.perf_counter() - t, 1)}
        # re-read before writing: several sections may run in parallel processes
        results = json.loads(results_path.read_text()) if results_path.exists() else {}
        results[sec] = res
        results_path.write_text(json.dumps(results, indent=1) + "\n")
    from benchmarks.report import write_results_md
    write_results_md(results, HERE / "RESULTS.md")
    print(f"wrote {HERE / 'RESULTS.md'}", file=sys.stderr)


if __name__ == "__main__":
    main()
