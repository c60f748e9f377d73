"""Variation and restyling (issue 4) on held-out folk melodies (test split), measured on the
edited scores (restyled pieces through the written MIDI file, as ``symphony eval`` does):

(a) vary: mean distance from the original (``variation.note_distance``: 1 - Dice overlap of the
    (onset, pitch) pairs) at amounts 0, 0.25, 0.5, 0.75, 1 for each --keep (none, rhythm,
    contour), whether it rises monotonically (the means, and per melody), the share of notes
    re-sampled, rhythm and contour kept, and model time per 16 bars;
(b) restyle: every melody into every other style the model knows (chinese, german, celtic,
    chorale): skeleton notes kept, skeleton pitches that needed no change, the style classifier's
    judgement of the written file (trained on real music, train split, as in ``symphony eval``):
    target style hit rate, share still heard as the original's style, the classifier's accuracy
    on the original melodies through the same path, and model time per 16 bars.

    .venv/bin/python -m benchmarks.variation              # ~20 melodies: writes variation.md/.json
    .venv/bin/python -m benchmarks.variation --n 3        # a quick look
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

FOLK = ("chinese", "german", "celtic")
STYLES = ("chinese", "german", "celtic", "chorale")
AMOUNTS = (0.0, 0.25, 0.5, 0.75, 1.0)
KEEPS = (None, "rhythm", "contour")


def held_out_melodies(records, n_per_style: int, seed: int = 0) -> list:
    """Single-line held-out tunes of 8-40 bars, a seeded sample of each folk style."""
    from symphony.training.corpus import iter_split
    from symphony.errors import RequestError
    from symphony.music.score import Score
    from symphony.tasks.variation import melodic_line
    rng = random.Random(seed)
    out = []
    for style in FOLK:
        pool = [r for r in iter_split(records, "test", [style]) if r["voices"] == 1 and 8 <= r["bars"] <= 40]
        rng.shuffle(pool)
        got = 0
        for r in pool:
            s = Score.from_dict(r["score"])
            s.style = style
            try:
                melodic_line(s, 0, "vary")
            except RequestError:
                continue
            s.source = r["id"]
            out.append(s)
            got += 1
            if got >= n_per_style:
                break
    return out


def _mean(xs):
    xs = [x for x in xs if x is not None]
    return statistics.mean(xs) if xs else None


# ----------------------------------------------------------------------------- (a) vary

def bench_vary(melodies, checkpoint=None, seed=0, log=None) -> dict:
    from symphony.tasks.variation import contour_kept, note_distance, rhythm_kept, vary
    say = log or (lambda m: None)
    if melodies:  # warm-up: builds the fast decoder
        vary(melodies[0], 0.5, None, seed=seed, engine=checkpoint, style=melodies[0].style)
    out = {}
    for keep in KEEPS:
        rows = defaultdict(list)
        per_piece = []
        t0 = time.perf_counter()
        for i, s in enumerate(melodies):
            src = s.parts[0].notes
            curve = []
            for a in AMOUNTS:
                v = vary(s, a, keep, seed=seed + i, engine=checkpoint, style=s.style)
                notes = v.parts[0].notes
                e = v.provenance
                d = note_distance(src, notes)
                curve.append(d)
                rows[a].append({"distance": d, "resampled": e["measures"]["resampled_notes"],
                                "rhythm_kept": rhythm_kept(src, notes), "contour_kept": contour_kept(src, notes),
                                "model_s_per_16_bars": e["model_seconds"] * 16 / max(s.bars, 1) if a > 0 else None})
            per_piece.append(curve)
        means = [_mean(r["distance"] for r in rows[a]) for a in AMOUNTS]
        label = keep or "none"
        out[label] = {
            "amounts": list(AMOUNTS),
            "mean_distance": means,
            "sd_distance": [statistics.pstdev([r["distance"] for r in rows[a]]) for a in AMOUNTS],
            "mean_resampled_share": [_mean(r["resampled"] for r in rows[a]) for a in AMOUNTS],
            "mean_rhythm_kept": [_mean(r["rhythm_kept"] for r in rows[a]) for a in AMOUNTS],
            "mean_contour_kept": [_mean(r["contour_kept"] for r in rows[a]) for a in AMOUNTS],
            "monotone_means": all(b > a for a, b in zip(means, means[1:])),
            "monotone_per_melody": sum(all(b >= a for a, b in zip(c, c[1:])) for c in per_piece) / max(len(per_piece), 1),
            "median_model_s_per_16_bars": statistics.median(
                [r["model_s_per_16_bars"] for a in AMOUNTS[1:] for r in rows[a]]) if melodies else None,
            "seconds": round(time.perf_counter() - t0, 1)}
        say(f"vary keep={label}: distances {[round(m, 3) for m in means]} ({out[label]['seconds']} s)")
    return out


# ----------------------------------------------------------------------------- (b) restyle

def train_style_classifier(records, max_train=1500, seed=0):
    from symphony.evaluation.classify import train_style_classifier as train
    return train(records, STYLES, max_train, seed)


def _through_midi(score, tmp: Path, name: str):
    """The written file read back: its melody features, with music21's key analysis."""
    from symphony.music.analysis import piece_features
    from symphony.formats.midi import read_midi, write_midi
    path = tmp / f"{name}.mid"
    write_midi(score, path)
    return piece_features(read_midi(path))


def bench_restyle(melodies, clf, checkpoint=None, seed=0, log=None) -> dict:
    from symphony.music.analysis import feature_matrix
    from symphony.tasks.variation import restyle
    say = log or (lambda m: None)
    rows = []
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        orig_feats = [_through_midi(s, tmp, f"orig{i}") for i, s in enumerate(melodies)]
        orig_pred = clf.predict(feature_matrix(orig_feats))
        if melodies:
            restyle(melodies[0], "german" if melodies[0].style != "german" else "celtic", seed=seed,
                    engine=checkpoint)  # warm-up
        for i, s in enumerate(melodies):
            for target in STYLES:
                if target == s.style:
                    continue
                r = restyle(s, target, seed=seed + i, engine=checkpoint)
                e = r.provenance
                f = _through_midi(r, tmp, f"r{i}-{target}")
                proba = clf.predict_proba(feature_matrix([f]))[0]
                pred = clf.classes[int(proba.argmax())]
                rows.append({"source": s.source, "from": s.style, "to": target, "key": str(r.key),
                             "bars": r.bars, "skeleton_notes": e["skeleton"]["notes"],
                             "skeleton_kept": e["skeleton"]["kept"], "placed": e["skeleton"]["placed"],
                             "pitch_unchanged": e["skeleton"]["pitch_unchanged"], "predicted": pred,
                             "p_target": float(proba[clf.classes.index(target)]),
                             "model_s_per_16_bars": e["model_seconds"] * 16 / max(r.bars, 1)})
            say(f"restyle {i + 1}/{len(melodies)} ({s.style})")
    out = {"pieces": len(rows), "classifier": clf.kind,
           "original_accuracy": sum(p == s.style for p, s in zip(orig_pred, melodies)) / max(len(melodies), 1)}

    def summary(sel):
        notes = sum(r["skeleton_notes"] for r in sel)
        return {"pieces": len(sel),
                "skeleton_kept": sum(r["skeleton_kept"] * r["skeleton_notes"] for r in sel) / max(notes, 1),
                "skeleton_pitch_unchanged": sum(r["pitch_unchanged"] * r["skeleton_notes"] for r in sel) / max(notes, 1),
                "target_hit_rate": sum(r["predicted"] == r["to"] for r in sel) / max(len(sel), 1),
                "source_style_rate": sum(r["predicted"] == r["from"] for r in sel) / max(len(sel), 1),
                "mean_p_target": _mean(r["p_target"] for r in sel),
                "median_model_s_per_16_bars": statistics.median([r["model_s_per_16_bars"] for r in sel]) if sel else None}

    out["all"] = summary(rows)
    out["by_target"] = {t: summary([r for r in rows if r["to"] == t]) for t in STYLES}
    out["by_pair"] = {f"{a}->{b}": summary([r for r in rows if r["from"] == a and r["to"] == b])
                      for a in FOLK for b in STYLES if a != b}
    out["rows"] = rows
    return out


# ----------------------------------------------------------------------------- report

def _pct(x):
    return "–" if x is None else f"{100 * x:.0f}%"


def report(res: dict) -> str:
    m = res["_meta"]
    lines = [
        "# Variation and restyling (issue 4)", "",
        f"`{m['command']}` — {m['date']}, {m['seconds']:.0f} s; {res['melodies']} held-out melodies "
        f"(test split, {', '.join(f'{k} {v}' for k, v in res['per_style'].items())}), the shipped model.", "",
        "## vary: distance from the original against the amount", "",
        "Distance = 1 − Dice overlap of the melodies' (onset, pitch) pairs on the 1/24-quarter grid "
        "(0 = the same notes, 1 = none in common). One sample per melody and amount (seed = melody "
        "index), the same seed across amounts, the corpus style as header.", "",
        "| keep | " + " | ".join(f"amount {a:g}" for a in AMOUNTS) + " | monotone (means) | monotone per melody | model s / 16 bars |",
        "|---|" + "---|" * len(AMOUNTS) + "---|---|---|"]
    for keep, v in res["vary"].items():
        lines.append(f"| {keep} | " + " | ".join(f"{d:.3f} ± {sd:.2f}" for d, sd in zip(v["mean_distance"], v["sd_distance"]))
                     + f" | {'yes' if v['monotone_means'] else 'no'} | {_pct(v['monotone_per_melody'])}"
                     f" | {v['median_model_s_per_16_bars']:.2f} |")
    lines += ["", "Share of the notes re-sampled / rhythm kept (onset and length) / contour kept (the step "
              "into every original onset goes the original's way), at the same amounts:", "",
              "| keep | " + " | ".join(f"amount {a:g}" for a in AMOUNTS) + " |", "|---|" + "---|" * len(AMOUNTS)]
    for keep, v in res["vary"].items():
        lines.append(f"| {keep} | " + " | ".join(
            f"{_pct(a)} / {_pct(b)} / {_pct(c)}" for a, b, c in zip(v["mean_resampled_share"], v["mean_rhythm_kept"],
                                                                     v["mean_contour_kept"])) + " |")
    r = res["restyle"]
    lines += ["", "## restyle: every melody into every other style", "",
              f"Skeleton = the notes on the downbeats (and mid-bar strong beats of 4/4, 2/2, 6/8, 12/8) of "
              f"every bar, moved to the nearest tone of the new scale; kept = found in the result on the "
              f"same beat of the same bar with that pitch. Style = the classifier ({r['classifier']}, trained "
              f"on real train-split music) on the written MIDI file read back; on the original melodies "
              f"through the same path it is right {_pct(r['original_accuracy'])} of the time.", "",
              "| target | pieces | skeleton kept | skeleton pitch unchanged | target style hit rate | still the original's style | mean P(target) | model s / 16 bars |",
              "|---|---|---|---|---|---|---|---|"]
    for t, s in list(r["by_target"].items()) + [("all", r["all"])]:
        lines.append(f"| {t} | {s['pieces']} | {_pct(s['skeleton_kept'])} | {_pct(s['skeleton_pitch_unchanged'])} | "
                     f"{_pct(s['target_hit_rate'])} | {_pct(s['source_style_rate'])} | "
                     f"{(s['mean_p_target'] or 0):.2f} | {(s['median_model_s_per_16_bars'] or 0):.2f} |")
    lines += ["", "By pair (from → to): target hit rate / still the original's style:", "",
              "| from \\ to | " + " | ".join(STYLES) + " |", "|---|" + "---|" * len(STYLES)]
    for a in FOLK:
        cells = []
        for b in STYLES:
            s = r["by_pair"].get(f"{a}->{b}")
            cells.append("–" if s is None else f"{_pct(s['target_hit_rate'])} / {_pct(s['source_style_rate'])}")
        lines.append(f"| {a} | " + " | ".join(cells) + " |")
    lines += ["", "For comparison, the style hit rate of pieces *generated* for each style from scratch is in "
              "[eval/report.md](eval/report.md) (same classifier recipe); a restyled tune keeps the "
              "original's strong-beat notes and bars, so it stays nearer its source.", "",
              "Times are model (sampling) seconds on this machine's 2 cores (compare them with "
              "`--only speed` taken in the same conditions); the whole run's wall time is above.", ""]
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=7, help="held-out melodies per folk style (3 styles)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--out", default="benchmarks/variation.json")
    args = ap.parse_args(argv)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    from symphony.training.corpus import builtin_sources, load_corpus
    records = load_corpus([s for s in builtin_sources() if s.style in STYLES])
    melodies = held_out_melodies(records, args.n, args.seed)
    log(f"{len(melodies)} held-out melodies ({time.perf_counter() - t0:.0f} s)")
    res = {"melodies": len(melodies),
           "per_style": {s: sum(m.style == s for m in melodies) for s in FOLK},
           "sources": [m.source for m in melodies]}
    res["vary"] = bench_vary(melodies, args.checkpoint, args.seed, log)
    t = time.perf_counter()
    clf = train_style_classifier(records, seed=args.seed)
    log(f"style classifier ({clf.kind}): {time.perf_counter() - t:.0f} s")
    res["restyle"] = bench_restyle(melodies, clf, args.checkpoint, args.seed, log)
    res["_meta"] = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                    "command": "python -m benchmarks.variation" + (" " + " ".join(sys.argv[1:] if argv is None else argv)
                                                                   if (sys.argv[1:] if argv is None else argv) else ""),
                    "seconds": round(time.perf_counter() - t0, 1)}
    out = Path(args.out)
    out.write_text(json.dumps(res, indent=1) + "\n")
    out.with_suffix(".md").write_text(report(res))
    log(f"wrote {out} and {out.with_suffix('.md')} ({res['_meta']['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
