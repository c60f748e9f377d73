"""``symphony eval``: generate pieces per style, write them to MIDI, read the files back and
measure them against real music (DESIGN.md, "Measures").

Real pieces come from the corpus: the style classifier trains on the *train* split, the
realism comparison (overlapping areas, real-versus-generated discriminator) and the classifier's
own held-out accuracy use the *test* split, at most ``max_real`` pieces per style. Generated
pieces are analysed only through the file that was written — never the request.
"""
from __future__ import annotations

import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from symphony.errors import RequestError, StyleError
from symphony.evaluation.classify import (
    StyleClassifier,
    confusion,
    discriminate,
    hit_rates,
)
from symphony.evaluation.controls import CONTROLS, ControlCheck, check_controls
from symphony.evaluation.metrics import distributions, normalise, overlaps
from symphony.evaluation.report import write_report
from symphony.formats.midi import read_midi, write_midi
from symphony.formats.render import check_out_dir, prepare_out_dir
from symphony.music.analysis import feature_matrix, piece_features
from symphony.music.score import Score
from symphony.music.styles import get_style
from symphony.music.theory import SUPPORTED_METERS, parse_key, parse_meter
from symphony.tasks.engine import Engine
from symphony.tasks.generate import generate_request
from symphony.tasks.requests import VOICES, Request
from symphony.training.corpus import (
    builtin_sources,
    cache_file,
    iter_split,
    load_corpus,
)

DEFAULT_STYLES = ("chinese", "german", "celtic", "chorale")
TONICS = ("C", "G", "D", "A", "E", "F", "Bb", "Eb", "B", "F#", "Ab", "C#")
REQUEST_MODES = ("corpus", "uniform")


def sample_requests(style: str, n: int, rng: random.Random, real: list[dict] | None = None,
                    mode: str = "corpus", seed0: int = 0) -> list:
    """n random valid requests for a style.

    ``corpus``: key, meter, tempo and length are those of a random real (train) piece of the
    style, so generated and real pieces are compared like with like (length clipped to 4-32 bars; a meter
    the generator does not support falls back to the style's default). ``uniform``: a random
    tonic, major or minor, any supported meter and 4-32 bars, as in ``benchmarks/run.py``."""
    st = get_style(style)
    out = []
    for i in range(n):
        if mode == "corpus" and real:
            r = rng.choice(real)
            try:
                key = str(parse_key(r["key"]))
            except Exception:
                key = f"{rng.choice(TONICS)} major"
            meter = r["meter"] if r["meter"] in SUPPORTED_METERS else st.default_meter
            bars = max(4, min(32, int(r["bars"])))
            bpm = float(r["score"]["bpm"]) if r.get("score", {}).get("bpm") else float(st.default_bpm)
        else:
            key = f"{rng.choice(TONICS)} {rng.choice(['major', 'minor'])}"
            meter = rng.choice(SUPPORTED_METERS)
            bars = rng.randint(4, 32)
            bpm = float(rng.randint(50, 180))
        parse_meter(meter)
        out.append(Request(st.name, key, meter, bpm, bars, seed0 + i, VOICES.get(st.name, 1)))
    return out


def _cap(items: list, k: int, rng: random.Random) -> list:
    return items if len(items) <= k else rng.sample(items, k)


def _progress(items, total: int, description: str, enabled: bool):
    if not enabled:
        return items
    from rich.progress import track
    return track(items, total=total, description=description, transient=True)


def run_eval(out_dir: str | os.PathLike, n: int = 20, styles: Iterable[str] = DEFAULT_STYLES,
             checkpoint: str | os.PathLike | None = None, max_real: int = 200, seed: int = 0,
             sources: list | None = None, real_split: str = "test", train_split: str = "train",
             max_train: int = 1500, classifier: str = "auto", requests: str = "corpus",
             controls: dict[str, ControlCheck] | None = None, progress: bool | None = None,
             log: Callable[[str], None] | None = None, guidance: float | None = None) -> dict:
    """Run the evaluation and write ``report.md``, ``report.json``, PNG plots and the generated
    MIDI files (``pieces/``) into out_dir. Returns the results dict written to report.json.

    ``sources`` (a list of :class:`symphony.data.Source`) replaces the built-in corpus (tests pass
    small sample files); ``real_split`` / ``train_split`` pick the corpus splits; ``guidance``
    replaces each style's own style guidance (``Style.guidance``)."""

    log = log or (lambda msg: print(msg, file=sys.stderr))
    progress = sys.stderr.isatty() if progress is None else progress
    t_start = time.perf_counter()
    # ---- validate everything before any slow work
    if n < 1:
        raise RequestError(f"-n must be at least 1, got {n}")
    if max_real < 1:
        raise RequestError(f"--max-real must be at least 1, got {max_real}")
    if requests not in REQUEST_MODES:
        raise RequestError(f"unknown request mode {requests!r}; choose {' or '.join(REQUEST_MODES)}")
    check_out_dir(out_dir)
    tok = Engine.load(checkpoint).tokenizer  # first: a style of the user's own model is known by name
    style_list = list(dict.fromkeys(get_style(s).name for s in styles))
    if not style_list:
        raise StyleError("no styles to evaluate")
    unknown = [s for s in style_list if f"Style_{s}" not in tok.ids]
    if unknown:
        raise StyleError(f"the model was not trained on style {unknown[0]!r} "
                         f"(it knows {', '.join(tok.config.styles)})")
    rng = random.Random(seed)

    # ---- real music: the classifier knows every style the model knows that the corpus has
    model_styles = [s for s in tok.config.styles]
    if sources is None:
        sources = [s for s in builtin_sources() if s.style in set(model_styles) | set(style_list)]
    log(f"loading the corpus ({len(sources)} source files)")
    cached = all(cache_file(s).exists() for s in sources)  # parsing is slow: use both cores then
    records = load_corpus(sources, workers=1 if cached else 2, progress=progress and not cached, log=log)
    train_recs: dict[str, list[dict]] = defaultdict(list)
    real_recs: dict[str, list[dict]] = defaultdict(list)
    for r in iter_split(records, train_split):
        train_recs[r["style"]].append(r)
    for r in iter_split(records, real_split):
        real_recs[r["style"]].append(r)
    clf_styles = sorted(s for s in set(model_styles) | set(style_list) if train_recs.get(s))

    def feats_of(recs: list[dict]) -> list:
        return [piece_features(Score.from_dict(r["score"])) for r in recs]

    train_feats = {s: feats_of(_cap(train_recs[s], max_train, rng)) for s in clf_styles}
    real_feats = {s: feats_of(_cap(real_recs.get(s, []), max_real, rng))
                  for s in sorted(set(clf_styles) | set(style_list))}

    # ---- generate, write, read back, analyse the file
    gen_feats: dict[str, list] = defaultdict(list)
    rows: list[dict] = []
    tmp_root = Path(tempfile.mkdtemp(prefix="symphony-eval-"))
    try:
        pieces_dir = tmp_root / "pieces"
        pieces_dir.mkdir()
        jobs = []
        for si, style in enumerate(style_list):
            reqs = sample_requests(style, n, rng, train_recs.get(style), requests,
                                   seed0=seed * 100_000 + si * 1000)
            for req in reqs:
                req.guidance = req.guidance if guidance is None else float(guidance)
            jobs += [(style, i, req) for i, req in enumerate(reqs)]
        log(f"generating {len(jobs)} pieces ({n} per style: {', '.join(style_list)})")
        for style, i, req in _progress(jobs, len(jobs), "generating", progress):
            row: dict = {"style": style, "index": i + 1, "request": dict(req.__dict__)}
            t0 = time.perf_counter()
            try:
                score = generate_request(req, checkpoint)
            except (RequestError, StyleError, ValueError) as e:
                row["error"] = f"{type(e).__name__}: {e}"
                rows.append(row)
                continue
            wall = time.perf_counter() - t0
            name = f"{style}-{i + 1:03d}.mid"
            write_midi(score, pieces_dir / name)
            back = read_midi(pieces_dir / name)
            back.style = style
            f = piece_features(back)
            gen_feats[style].append(f)
            row.update({
                "file": f"pieces/{name}", "seconds": round(wall, 4),
                "model_seconds": score.meta.get("model_seconds"), "attempts": score.meta.get("attempts"),
                "tokens": score.meta.get("tokens"), "notes": score.n_notes, "melody_notes": f.n_notes,
                "read_back": {"key": str(back.key), "meter": str(back.meter), "bpm": back.bpm,
                              "bars": back.bars, "voices": len(back.parts)},
                "controls": check_controls(req, back, score.meta, controls),
                "features": f.to_dict()})
            rows.append(row)

        # ---- realism: overlapping areas per style
        realism = {}
        dists = {}
        for style in style_list:
            realism[style] = {"real_pieces": len(real_feats.get(style, [])),
                              "generated_pieces": len(gen_feats[style]),
                              "overlap": overlaps(real_feats.get(style, []), gen_feats[style])}
            dists[style] = {
                "real": {k: normalise(v).tolist() for k, v in distributions(real_feats.get(style, [])).items()},
                "generated": {k: normalise(v).tolist() for k, v in distributions(gen_feats[style]).items()}}

        # ---- style classifier: train split -> held-out real accuracy, generated hit rate
        style_res: dict = {"styles": clf_styles}
        if len(clf_styles) >= 2:
            Xtr = np.vstack([feature_matrix(train_feats[s]) for s in clf_styles])
            ytr = [s for s in clf_styles for _ in train_feats[s]]
            clf = StyleClassifier(classifier, seed).fit(Xtr, ytr)
            test_styles = [s for s in clf_styles if real_feats.get(s)]
            Xte = np.vstack([feature_matrix(real_feats[s]) for s in test_styles]) if test_styles else np.zeros((0, Xtr.shape[1]))
            yte = [s for s in test_styles for _ in real_feats[s]]
            pte = clf.predict(Xte)
            gen_styles = [s for s in style_list if gen_feats[s]]
            Xg = np.vstack([feature_matrix(gen_feats[s]) for s in gen_styles]) if gen_styles else np.zeros((0, Xtr.shape[1]))
            yg = [s for s in gen_styles for _ in gen_feats[s]]
            pg = clf.predict(Xg)
            proba = clf.predict_proba(Xg)
            labels = clf.classes
            style_res.update({
                "classifier": clf.kind, "train_pieces": {s: len(train_feats[s]) for s in clf_styles},
                "real_test_pieces": {s: len(real_feats[s]) for s in test_styles},
                "real_test_accuracy": clf.accuracy(Xte, yte),
                "real_test_accuracy_per_style": hit_rates(yte, pte) if yte else {},
                "real_confusion": confusion(yte, pte, labels),
                "hit_rate": hit_rates(yg, pg) if yg else {},
                "hit_rate_overall": float(np.mean([a == b for a, b in zip(yg, pg)])) if yg else None,
                "generated_confusion": confusion(yg, pg, labels),
                "mean_probability_of_requested_style": {
                    s: float(np.mean([p[labels.index(s)] for p, t in zip(proba, yg) if t == s]))
                    for s in gen_styles if s in labels},
                "labels": labels})
            it = iter(zip(pg, proba))
            for row in rows:
                if "error" not in row:
                    p, pr = next(it)
                    row["predicted_style"] = p
                    row["style_probabilities"] = {c: round(float(x), 4) for c, x in zip(labels, pr)}
        else:
            style_res["skipped"] = "the style classifier needs real training pieces of at least two styles"

        # ---- real versus generated
        disc = {}
        for style in style_list:
            disc[style] = discriminate(feature_matrix(real_feats.get(style, [])),
                                       feature_matrix(gen_feats[style]), seed=seed)
        all_real = [f for s in style_list for f in real_feats.get(s, [])]
        all_gen = [f for s in style_list for f in gen_feats[s]]
        disc["all"] = discriminate(feature_matrix(all_real), feature_matrix(all_gen), seed=seed)

        # ---- control accuracy per attribute, from the read-back files
        ok_rows = [r for r in rows if "error" not in r]
        names = list((controls if controls is not None else CONTROLS))
        control = {}
        for style in style_list + ["all"]:
            sel = [r for r in ok_rows if style == "all" or r["style"] == style]
            control[style] = {}
            for name in names:
                vals = [r["controls"][name] for r in sel if r["controls"].get(name) is not None]
                control[style][name] = {"accuracy": sum(vals) / len(vals) if vals else None, "n": len(vals)}

        # ---- speed
        speed = {}
        for style in style_list + ["all"]:
            sel = [r for r in ok_rows if style == "all" or r["style"] == style]
            if not sel:
                continue
            model_s = sum(r["model_seconds"] or 0 for r in sel)
            speed[style] = {
                "pieces": len(sel), "median_seconds_per_piece": statistics.median(r["seconds"] for r in sel),
                "median_seconds_per_bar": statistics.median(r["seconds"] / r["request"]["bars"] for r in sel),
                "median_model_seconds_per_attempt": statistics.median(
                    (r["model_seconds"] or 0) / max(r["attempts"] or 1, 1) for r in sel),
                "mean_attempts": statistics.mean(r["attempts"] or 1 for r in sel),
                "notes_per_model_second": sum(r["notes"] for r in sel) / model_s if model_s else None,
                "tokens_per_model_second": sum(r["tokens"] or 0 for r in sel) / model_s if model_s else None}

        results = {
            "meta": {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                     "checkpoint": str(checkpoint) if checkpoint else "default", "n_per_style": n,
                     "styles": style_list, "max_real": max_real, "seed": seed, "requests": requests,
                     "guidance": guidance if guidance is not None else
                     "each style's own (" + ", ".join(f"{s} {get_style(s).guidance:g}" for s in style_list) + ")",
                     "real_split": real_split, "train_split": train_split,
                     "corpus_sources": len(sources), "seconds": None},
            "realism": realism, "style_classifier": style_res, "discriminator": disc,
            "control": control, "speed": speed, "failures": [r for r in rows if "error" in r],
            "distributions": dists, "pieces": rows}
        results["meta"]["seconds"] = round(time.perf_counter() - t_start, 1)
        write_report(results, tmp_root)
        _move_into(tmp_root, prepare_out_dir(out_dir))
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    return results


def _move_into(src: Path, dst: Path) -> None:
    """Move every file of src into dst (same relative paths), replacing older files."""
    for f in sorted(src.rglob("*")):
        if f.is_file():
            target = dst / f.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(f), str(target))
