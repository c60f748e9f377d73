"""Issue 4's editing benchmarks, measured on held-out music (the test split) and on the edited
scores themselves (never on the request):

(a) SATB harmonization of held-out Bach soprano lines: parallel fifths/octaves per 100
    voice-pair transitions, voice crossings per 100 slices and range violations of the
    generated alto, tenor and bass next to Bach's own for the same chorales
    (``symphony.evaluation.voiceleading``), and model time per 16 bars (target <= 3 s);
(b) held-out likelihood of alto, tenor and bass given the soprano: NLL of the A/T/B note tokens
    of real test chorales (each bar's soprano comes before its lower voices in the tokens) per
    A/T/B note, under the model and under Kneser-Ney n-grams trained on the chorale train split;
(c) chord harmonization of held-out folk melodies (chinese, german, celtic): share of melody
    notes on a beat that are tones of the chosen chord (target >= 85%);
(d) continue: model time to add 8 bars to held-out folk tunes and chorales.

    python -m benchmarks.run --only editing                 # n = 30 per part
    python -c "from benchmarks.editing import bench_editing; print(bench_editing(n=3))"
"""
from __future__ import annotations

import statistics
import time

FOLK = ("chinese", "german", "celtic")


def _records(styles):
    from symphony.training.corpus import builtin_sources, load_corpus
    return load_corpus([s for s in builtin_sources() if s.style in styles])


def _soprano_only(score):
    from symphony.music.score import Part, Score
    return Score([Part(list(score.parts[0].notes), "Soprano")], score.key, score.meter, score.bpm,
                 score.bars, score.title, score.style, dict(score.meta or {}), bar_meters=score.bar_meters)


# ----------------------------------------------------------------------------- (a) SATB

def bench_satb(tests, checkpoint=None, seed=0) -> dict:
    from symphony.tasks.edit import harmonize
    from symphony.evaluation.voiceleading import analyze, combine
    if tests:  # warm-up: the first call builds the fast decoder
        harmonize(_soprano_only(tests[0]), "satb", seed=seed, engine=checkpoint)
    gen, real, per16, rows = [], [], [], []
    for i, s in enumerate(tests):
        h = harmonize(_soprano_only(s), "satb", seed=seed + i, engine=checkpoint)
        g, r = analyze(h), analyze(s)
        gen.append(g)
        real.append(r)
        secs = h.provenance["model_seconds"]
        per16.append(secs * 16 / h.bars)
        rows.append({"title": s.title, "bars": h.bars, "model_s": secs,
                     "generated_parallels_per_100": round(g["parallels_per_100"], 2),
                     "bach_parallels_per_100": round(r["parallels_per_100"], 2),
                     "generated_crossings_per_100_slices": round(g["crossings_per_100_slices"], 2),
                     "bach_crossings_per_100_slices": round(r["crossings_per_100_slices"], 2)})
    keys = ("pieces", "slices", "transitions", "notes", "parallel_fifths", "parallel_octaves", "parallels",
            "crossings", "range_violations", "range_violations_per_voice", "parallel_fifths_per_100",
            "parallel_octaves_per_100", "parallels_per_100", "crossings_per_100_slices",
            "range_violations_per_100_notes")
    G, R = combine(gen), combine(real)
    return {"n": len(tests), "generated": {k: G[k] for k in keys}, "bach": {k: R[k] for k in keys},
            "model_s_per_16_bars": {"median": statistics.median(per16) if per16 else None,
                                    "max": max(per16) if per16 else None, "target": 3.0},
            "rows": rows}


# ----------------------------------------------------------------------------- (b) likelihood

def lower_voice_mask(tok, seq) -> tuple[list[bool], int]:
    """For every token: does it belong to a note of voices 1-3 (Pos, pitch or duration inside a
    Voice_1..Voice_3 block)? And how many such notes (duration tokens) there are."""
    mask, voice, notes = [], 0, 0
    for t in seq:
        if t == tok.bar or t == tok.eos:
            voice = 0
            mask.append(False)
        elif tok.voice0 <= t < tok.voice0 + 8:
            voice = t - tok.voice0
            mask.append(False)
        else:
            inside = voice >= 1 and (tok.is_pos(t) or tok.is_pitch(t) or tok.is_dur(t))
            mask.append(inside)
            notes += inside and tok.is_dur(t)
    return mask, notes


def token_nlls(model, tok, seq) -> list[float]:
    """-ln p of every token seq[i] (i >= HEADER_LEN) under the model; pieces longer than the
    context are scored in strides of half a context, each after the header and up to half a
    context of preceding music from a barline (as ``train.nll_per_note`` does)."""
    import torch
    H, block = tok.HEADER_LEN, model.cfg.block_size
    step = (block - H) // 2
    header, body = seq[:H], seq[H:]
    bars = [i for i, t in enumerate(body) if t == tok.bar]
    out = [0.0] * len(seq)
    model.eval()
    with torch.no_grad():
        for start in range(0, len(body), step):
            ctx = next((b for b in bars if b >= start - step), start) if start else 0
            ctx = min(ctx, start)
            chunk = header + body[ctx:start + step]
            logits = model(torch.tensor([chunk[:-1]]))[0]
            logp = torch.log_softmax(logits[0].float(), dim=-1)
            y = torch.tensor(chunk[1:])
            nll = -logp[torch.arange(len(y)), y]
            first = H - 1 + (start - ctx)  # index in y of body[start]
            for k in range(first, len(y)):
                out[H + ctx + (k - (H - 1))] = float(nll[k])
    return out


def bench_lower_voice_likelihood(train, tests, checkpoint=None, orders=(4, 5)) -> dict:
    from benchmarks.ngram import KneserNey
    from symphony.tasks.engine import Engine
    engine = Engine.load(checkpoint)
    model, tok, _ = engine.model, engine.tokenizer, engine.meta
    seqs = [tok.encode(s) for s in tests]
    masks = [lower_voice_mask(tok, q) for q in seqs]
    notes = sum(n for _, n in masks)
    model_nll = 0.0
    for q, (m, _) in zip(seqs, masks):
        nll = token_nlls(model, tok, q)
        model_nll += sum(x for x, keep in zip(nll, m) if keep)
    out = {"pieces": len(tests), "atb_notes": notes,
           "atb_tokens": sum(sum(m) for m, _ in masks),
           "model_nll_per_atb_note": model_nll / max(notes, 1)}
    train_seqs = [tok.encode(s) for s in train]
    for order in orders:
        ng = KneserNey(order=order, vocab_size=tok.vocab_size).fit(train_seqs)
        total = 0.0
        import math
        for q, (m, _) in zip(seqs, masks):
            for i in range(tok.HEADER_LEN, len(q)):
                if m[i]:
                    total -= math.log(ng.prob(tuple(q[max(0, i - order + 1):i]), q[i]))
        out[f"ngram{order}_nll_per_atb_note"] = total / max(notes, 1)
        out[f"ratio_vs_ngram{order}"] = out["model_nll_per_atb_note"] / max(out[f"ngram{order}_nll_per_atb_note"], 1e-9)
        del ng
    out["train_pieces"] = len(train)
    return out


# ----------------------------------------------------------------------------- (c) chords

def bench_chords(records, n=30) -> dict:
    from symphony.training.corpus import iter_split
    from symphony.tasks.edit import harmonize
    from symphony.errors import RequestError
    from symphony.tasks.edit import bar_layout
    from symphony.music.harmony import ChordSpan, chord_tone_rate, parse_chord
    from symphony.music.score import Score
    per_style = {}
    H = T = 0
    for style in FOLK:
        hit = total = pieces = skipped = chords = bars = 0
        secs = []
        for r in iter_split(records, "test", [style]):
            if pieces >= n:
                break
            if r["voices"] != 1:
                skipped += 1
                continue
            s = Score.from_dict(r["score"])
            t0 = time.perf_counter()
            try:
                h = harmonize(s, "chords")
            except RequestError:  # double stops: not a single melodic line
                skipped += 1
                continue
            secs.append(time.perf_counter() - t0)
            end = max(n_.end for n_ in h.parts[0].notes) + 1e9
            onsets = [o for o, _ in h.chords] + [end]
            spans = [ChordSpan(parse_chord(f, h.key), o, nxt - o) for (o, f), nxt in zip(h.chords, onsets[1:])]
            a, b = chord_tone_rate(h.parts[0].notes, spans, h.meter, bar_layout(h))
            hit, total, pieces = hit + a, total + b, pieces + 1
            chords, bars = chords + len(h.chords), bars + h.bars
        per_style[style] = {"pieces": pieces, "skipped_not_monophonic": skipped, "beat_notes": total,
                            "chord_tone_rate": hit / max(total, 1), "chords_per_bar": chords / max(bars, 1),
                            "median_seconds": statistics.median(secs) if secs else None}
        H, T = H + hit, T + total
    return {"n_per_style": n, "per_style": per_style, "beat_notes": T, "chord_tone_rate": H / max(T, 1),
            "target": 0.85}


# ----------------------------------------------------------------------------- (d) continue

def bench_continue(pieces, checkpoint=None, bars=8, seed=0) -> dict:
    from symphony.tasks.edit import continue_piece
    if pieces:
        continue_piece(pieces[0], 1, pieces[0].style, seed, checkpoint)  # warm-up
    rows = []
    for i, s in enumerate(pieces):
        c = continue_piece(s, bars, s.style, seed + i, checkpoint)
        added = c.n_notes - s.n_notes
        rows.append({"style": s.style, "voices": len(s.parts), "input_bars": s.bars,
                     "model_s": c.provenance["model_seconds"], "notes_added": added})
    out = {"n": len(rows), "bars_added": bars}
    for label, sel in (("melody", [r for r in rows if r["voices"] == 1]),
                       ("chorale", [r for r in rows if r["voices"] > 1])):
        if sel:
            t = [r["model_s"] for r in sel]
            out[label] = {"pieces": len(sel), "median_model_s": statistics.median(t), "max_model_s": max(t),
                          "notes_per_s": sum(r["notes_added"] for r in sel) / max(sum(t), 1e-9)}
    return out


# ----------------------------------------------------------------------------- all

def bench_editing(checkpoint=None, n=30, orders=(4, 5), log=None) -> dict:
    from symphony.training.corpus import iter_split
    from symphony.music.score import Score
    say = log or (lambda m: None)
    t0 = time.perf_counter()
    recs = _records(("chorale",) + FOLK)
    chorales = [Score.from_dict(r["score"]) for r in iter_split(recs, "test", ["chorale"])]
    train = [Score.from_dict(r["score"]) for r in iter_split(recs, "train", ["chorale"])]
    say(f"corpus: {len(chorales)} test chorales, {len(train)} train ({time.perf_counter() - t0:.0f} s)")
    out = {}
    t = time.perf_counter()
    out["satb"] = bench_satb(chorales[:n], checkpoint)
    say(f"satb: {time.perf_counter() - t:.0f} s")
    t = time.perf_counter()
    out["atb_likelihood"] = bench_lower_voice_likelihood(train, chorales[:n], checkpoint, orders)
    say(f"likelihood: {time.perf_counter() - t:.0f} s")
    t = time.perf_counter()
    out["chords"] = bench_chords(recs, n)
    say(f"chords: {time.perf_counter() - t:.0f} s")
    t = time.perf_counter()
    folk = []
    for style in FOLK:  # a few held-out tunes per style, and chorales
        folk += [Score.from_dict(r["score"]) for r in iter_split(recs, "test", [style])
                 if r["voices"] == 1][: max(1, n // 3)]
    out["continue"] = bench_continue(folk + chorales[: max(1, n // 3)], checkpoint)
    say(f"continue: {time.perf_counter() - t:.0f} s")
    return out
