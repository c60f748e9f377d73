"""Ablation of the music-theory components (issue 3, item 3): each one removed in turn.

    python -m benchmarks.ablation --minutes 8 --out benchmarks/ablation.json

Variants (all trained from scratch with the same seed, model size and data):

| variant            | key-relative pitch | chord loss | Pos before every note |
|--------------------|--------------------|------------|-----------------------|
| full               | yes                | yes        | yes                   |
| no_relative_pitch  | no (absolute)      | yes        | yes                   |
| no_chord_loss      | yes                | no         | yes                   |
| no_explicit_pos    | yes                | yes        | no (the default)      |
| baseline           | yes                | no         | no  (the shipped scheme) |

Equal training *notes*, not equal tokens: ``--minutes`` is the training time of ``full`` (the
variant with the most tokens per note); its number of steps is set from a short throughput
measurement (or given with ``--iters``), and every other variant trains for as many steps as it
takes to see the same number of notes (fewer steps without the extra Pos tokens). Each variant
runs a full cosine schedule, so none is cut off mid-schedule.

Measures, per style (chinese, german, celtic, chorale):
- held-out likelihood: nats per note on the test split (``symphony.train.nll_per_note``: all
  body tokens, Pos tokens included, divided by the number of notes, so the schemes compare);
- realism of generated 16-bar pieces (keys, meters and tempi of test pieces; the constrained
  sampler, no key-check resampling): overlapping areas (1 = identical) of the melody's pitch
  classes over the tonic, intervals, durations and the other ``symphony.evaluation`` features,
  of onset positions within the beat, and of the estimated chord classes
  (``symphony.harmony.label_chords``), against held-out real pieces; plus the cross-validated
  accuracy of a classifier telling real from generated (50% = indistinguishable).

Checkpoints go to ``runs/ablation/<variant>/``; the JSON (``--out``) is rewritten after every
variant, and ``--reuse`` skips training a variant whose checkpoint is already there.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

STYLES = ["chinese", "german", "celtic", "chorale"]
VARIANTS = {  # name: (relative_pitch, chord loss, pos_every_note, what is removed)
    "full": (True, True, True, "nothing"),
    "no_relative_pitch": (False, True, True, "key-relative pitch (absolute pitch instead)"),
    "no_chord_loss": (True, False, True, "auxiliary chord-prediction loss"),
    "no_explicit_pos": (True, True, False, "Pos before every note (only after rests / chords)"),
    "baseline": (True, False, False, "chord loss and explicit positions (the shipped scheme)"),
}
BEAT_GRID = 12  # onset positions within the beat, in twelfths of a quarter note


# ----------------------------------------------------------------------------- data

def load_data(pieces: int, test_pieces: int, real_pieces: int, seed: int, log) -> dict:
    from symphony.training.corpus import builtin_sources, load_corpus
    from symphony.music.score import Score
    t = time.perf_counter()
    sources = [s for s in builtin_sources() if s.style in STYLES]
    records = load_corpus(sources, workers=2, progress=sys.stderr.isatty())
    rng = random.Random(seed)
    by = defaultdict(lambda: defaultdict(list))
    for r in records:
        if r["style"] in STYLES:
            by[r["split"]][r["style"]].append(r)

    def cap(recs, k):
        return list(recs) if not k or len(recs) <= k else rng.sample(list(recs), k)

    train = [Score.from_dict(r["score"]) for s in STYLES for r in cap(by["train"][s], pieces)]
    valid = [Score.from_dict(r["score"]) for s in STYLES for r in cap(by["valid"][s], 15)]
    test = {s: [Score.from_dict(r["score"]) for r in by["test"][s][:test_pieces]] for s in STYLES}
    real = {s: [Score.from_dict(r["score"]) for r in by["test"][s][:real_pieces]] for s in STYLES}
    log(f"corpus: {len(train)} training pieces, test {', '.join(f'{s} {len(v)}' for s, v in test.items())} "
        f"({time.perf_counter() - t:.0f} s)")
    return {"train": train, "valid": valid, "test": test, "real": real}


def tokens_per_note(scores, pos_every_note: bool) -> float:
    from symphony.model.tokens import Tokenizer, TokenizerConfig
    tok = Tokenizer(TokenizerConfig(pos_every_note=pos_every_note))
    tokens = sum(len(tok.encode(s)) for s in scores)
    return tokens / max(1, sum(s.n_notes for s in scores))


def measure_throughput(train, args, log) -> tuple[float, float]:
    """Training tokens per second of the ablation model on this machine (a few real steps)."""
    import torch

    from symphony.model.transformer import ModelConfig, MusicTransformer
    from symphony.model.tokens import Tokenizer, TokenizerConfig
    from symphony.training.loop import IGNORE, TokenDataset
    tok = Tokenizer(TokenizerConfig(pos_every_note=True))
    sub = random.Random(args.seed).sample(train, min(len(train), 600))
    data = TokenDataset(sub, tok, args.block, seed=args.seed)
    torch.manual_seed(args.seed)
    model = MusicTransformer(ModelConfig(vocab_size=tok.vocab_size, block_size=args.block, n_layer=args.n_layer,
                                         n_head=args.n_head, n_embd=args.n_embd, dropout=0.0))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    tokens, elapsed = 0, 0.0
    for step in range(args.calib_steps + 2):
        x, y = data.batch(args.batch)
        t = time.perf_counter()
        _, loss = model(x, y, ignore_index=IGNORE)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step >= 2:  # the first steps warm up the allocator
            elapsed += time.perf_counter() - t
            tokens += int((y != IGNORE).sum())
    tps = tokens / max(elapsed, 1e-9)
    log(f"throughput: {tps:.0f} training tokens/s ({tokens / args.calib_steps:.0f} tokens a step)")
    return tps, tokens / args.calib_steps


# ----------------------------------------------------------------------------- measures

def _melody(score):
    top = {}
    for n in score.parts[0].notes if score.parts else []:
        k = round(n.onset * 24)
        if k not in top or n.pitch > top[k].pitch:
            top[k] = n
    return [top[k] for k in sorted(top)]


def extra_histograms(score) -> dict[str, np.ndarray]:
    """Histograms the evaluation package does not have: onset positions of melody notes within
    the beat, and the chord classes of label_chords (duration-weighted, in beats)."""
    from symphony.music.harmony import N_CHORD_CLASSES, chord_class, label_chords
    beat = score.meter.beat_quarters
    pos = np.zeros(round(1.5 * BEAT_GRID))
    for n in _melody(score):
        pos[min(round((n.onset % beat) * BEAT_GRID), len(pos) - 1)] += 1
    chords = np.zeros(N_CHORD_CLASSES)
    for span in label_chords(score):
        chords[chord_class(span.chord, score.key)] += span.duration / beat
    out = {"beat_positions": pos, "chords": chords}
    if not _has_evaluation():  # the two histograms DESIGN.md names first, computed here
        tonic = score.key.tonic_pc
        mel = _melody(score)
        pcs, ints = np.zeros(12), np.zeros(25)
        for n in mel:
            pcs[(n.pitch - tonic) % 12] += 1
        for a, b in zip(mel, mel[1:]):
            ints[max(-12, min(12, b.pitch - a.pitch)) + 12] += 1
        out.update(pitch_classes=pcs, intervals=ints)
    return out


def _has_evaluation() -> bool:
    try:
        from symphony.music import analysis
        from symphony.evaluation import metrics
        return True
    except ImportError:
        return False


def _oa(p, q) -> float | None:
    p, q = np.asarray(p, float), np.asarray(q, float)
    if p.sum() <= 0 or q.sum() <= 0:
        return None
    return float(np.minimum(p / p.sum(), q / q.sum()).sum())


class RealStats:
    """Feature sets of the held-out real pieces of each style (computed once)."""

    def __init__(self, real: dict):
        self.feats, self.hists = {}, {}
        for style, scores in real.items():
            self.feats[style] = [_features(s) for s in scores] if _has_evaluation() else []
            hs = [extra_histograms(s) for s in scores]
            self.hists[style] = {k: np.sum([h[k] for h in hs], axis=0) for k in hs[0]} if hs else {}


def _features(score):
    from symphony.music.analysis import piece_features
    return piece_features(score)


def realism(real: RealStats, style: str, generated: list) -> dict:
    out: dict = {}
    if _has_evaluation():
        from symphony.evaluation.classify import discriminate
        from symphony.music.analysis import feature_matrix
        from symphony.evaluation.metrics import overlaps
        gen_feats = [_features(s) for s in generated]
        out.update({k: v for k, v in overlaps(real.feats[style], gen_feats).items() if k != "mean"})
        try:
            d = discriminate(feature_matrix(real.feats[style]), feature_matrix(gen_feats), seed=0)
            out["real_vs_generated_accuracy"] = d["accuracy"]
        except Exception as e:  # scikit-learn missing or too few pieces
            out["real_vs_generated_accuracy"] = None
            out["discriminator_error"] = f"{type(e).__name__}: {e}"[:200]
    hs = [extra_histograms(s) for s in generated]
    for k, ref in real.hists[style].items():
        out[k] = _oa(ref, np.sum([h[k] for h in hs], axis=0)) if hs else None
    oas = [v for k, v in out.items() if v is not None and k not in ("real_vs_generated_accuracy", "discriminator_error")]
    out["mean_overlap"] = float(np.mean(oas)) if oas else None
    return out


def generate_pieces(model, tok, templates: list, style: str, n: int, bars: int, seed: int) -> list:
    """n pieces of `bars` bars in the keys, meters and tempi of real test pieces of the style."""
    from symphony.decoding.sampler import Constraints, sample
    from symphony.model.decoder import DecoderPool
    from symphony.music.theory import Key
    out = []
    pool = DecoderPool(model)
    voices = 4 if style == "chorale" else 1
    for i in range(n):
        ref = templates[i % len(templates)]
        key, meter = ref.key, ref.meter
        cond = Key(key.tonic, "minor" if key.is_minor_like else "major")  # as generation.py does
        header = tok.header(style, cond, meter, ref.bpm, bars, voices)
        seq = sample(pool, tok, header, Constraints(key=key, meter=meter, bars=bars, voices=voices),
                     seed=seed + 1000 * i)
        score = tok.decode(seq)
        score.key, score.style = key, style
        out.append(score)
    return out


# ----------------------------------------------------------------------------- one variant

def run_variant(name: str, iters: int, minutes: float, data: dict, real: RealStats, args, log) -> dict:
    from symphony.training.loop import TrainConfig, nll_per_note, train
    from symphony.model.checkpoint import load_checkpoint
    rel, chords, pos, removed = VARIANTS[name]
    out_dir = Path(args.runs) / name
    cfg = TrainConfig(out_dir=str(out_dir), max_iters=iters, batch_size=args.batch, block_size=args.block,
                      n_layer=args.n_layer, n_head=args.n_head, n_embd=args.n_embd, dropout=0.0, lr=args.lr,
                      min_lr=args.lr / 10, warmup_iters=max(1, min(100, iters // 10)),
                      eval_interval=max(1, iters // 2), eval_pieces=len(data["valid"]), seed=args.seed,
                      max_minutes=round(4 * minutes + 2, 1),  # a safety stop only: the steps decide
                      chord_loss_weight=args.chord_weight if chords else 0.0, pos_every_note=pos,
                      relative_pitch=rel)
    ckpt = out_dir / "model.safetensors"
    t0 = time.perf_counter()
    history = None
    if args.reuse and ckpt.exists():
        _, _, meta = load_checkpoint(ckpt)
        if meta.get("train", {}).get("max_iters") == iters:
            history = meta.get("history", [])
            log(f"[{name}] reusing {ckpt}")
    if history is None:
        log(f"[{name}] training {iters} steps (removed: {removed})")
        history = train(cfg, data["train"], data["valid"], progress=sys.stderr.isatty(),
                        log=lambda m: log(f"[{name}] {m}"))
    train_s = time.perf_counter() - t0
    model, tok, meta = load_checkpoint(ckpt)
    t1 = time.perf_counter()
    nll = {s: nll_per_note(model, tok, data["test"][s]) for s in STYLES}
    nll_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    real_feats = {}
    for i, s in enumerate(STYLES):
        gen = generate_pieces(model, tok, data["real"][s] or data["test"][s], s, args.gen, args.bars,
                              args.seed + 17 * i)
        real_feats[s] = realism(real, s, gen)
        real_feats[s]["generated"] = len(gen)
        real_feats[s]["notes_per_piece"] = float(np.mean([g.n_notes for g in gen])) if gen else 0.0
    gen_s = time.perf_counter() - t2
    last = history[-1] if history else {}
    if last.get("iter", iters) < iters:
        log(f"[{name}] WARNING: stopped by the time limit after {last.get('iter')} of {iters} steps")
    res = {"removed": removed, "relative_pitch": rel, "chord_loss_weight": cfg.chord_loss_weight,
           "pos_every_note": pos, "planned_iters": iters, "iters": last.get("iter", iters), "notes_seen": last.get("notes_seen"),
           "train_loss": last.get("train_loss"), "chord_loss": last.get("chord_loss"),
           "valid_nll_per_note": last.get("nll_per_note"), "train_seconds": round(train_s, 1),
           "eval_seconds": round(nll_s, 1), "generation_seconds": round(gen_s, 1),
           "params": model.n_params(), "nll": nll, "realism": real_feats,
           "mean_nll_per_note": float(np.mean([nll[s]["nll_per_note"] for s in STYLES])),
           "history": history}
    log(f"[{name}] nats/note " + ", ".join(f"{s} {nll[s]['nll_per_note']:.3f}" for s in STYLES)
        + f"; train {train_s:.0f} s, likelihood {nll_s:.0f} s, generation {gen_s:.0f} s")
    return res


# ----------------------------------------------------------------------------- report

def _f(v, fmt="{:.3f}"):
    return "–" if v is None else fmt.format(v)


def markdown(results: dict) -> str:
    V = results["variants"]
    full = V.get("full")
    L = ["### Held-out likelihood (nats per note, test split; lower is better)", "",
         "| variant | removed | " + " | ".join(STYLES) + " | mean | Δ mean vs full |",
         "|---|---|" + "---|" * (len(STYLES) + 2)]
    for name, r in V.items():
        d = r["mean_nll_per_note"] - full["mean_nll_per_note"] if full else None
        L.append(f"| {name} | {r['removed']} | " + " | ".join(_f(r["nll"][s]["nll_per_note"]) for s in STYLES)
                 + f" | {_f(r['mean_nll_per_note'])} | {_f(d, '{:+.3f}')} |")
    keys = [k for k in ("pitch_classes", "intervals", "durations", "notes_per_beat", "range", "ends_on_tonic",
                        "bar_repetition", "beat_positions", "chords", "mean_overlap", "real_vs_generated_accuracy")
            if any(k in r["realism"][s] for r in V.values() for s in STYLES)]
    L += ["", f"### Realism of generated {results['config'].get('bars', 16)}-bar pieces (overlapping area with held-out pieces, mean of the "
          "styles; 1 = identical; the last column: real-vs-generated classifier accuracy, 50% = "
          "indistinguishable)", "",
          "| variant | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
    for name, r in V.items():
        cells = []
        for k in keys:
            vals = [r["realism"][s].get(k) for s in STYLES if r["realism"][s].get(k) is not None]
            cells.append(_f(float(np.mean(vals)) if vals else None,
                            "{:.1%}" if k == "real_vs_generated_accuracy" else "{:.3f}"))
        L.append(f"| {name} | " + " | ".join(cells) + " |")
    L += ["", "### Training", "", "| variant | steps | notes seen | train loss | chord loss | minutes |",
          "|---|---|---|---|---|---|"]
    for name, r in V.items():
        L.append(f"| {name} | {r['iters']} | {r['notes_seen']} | {_f(r['train_loss'])} | {_f(r['chord_loss'])} | "
                 f"{r['train_seconds'] / 60:.1f} |")
    return "\n".join(L) + "\n"


# ----------------------------------------------------------------------------- main

def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=8.0,
                    help="training minutes of the full variant (others: the same number of notes)")
    ap.add_argument("--iters", type=int, default=0, help="training steps of the full variant (overrides --minutes)")
    ap.add_argument("--out", default="benchmarks/ablation.json")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset of " + ", ".join(VARIANTS))
    ap.add_argument("--runs", default="runs/ablation", help="checkpoint folder (one subfolder per variant)")
    ap.add_argument("--reuse", action="store_true", help="reuse a variant's checkpoint trained with the same steps")
    ap.add_argument("--pieces", type=int, default=0, help="training pieces per style (0: the whole train split)")
    ap.add_argument("--test-pieces", type=int, default=100, help="held-out pieces per style for the likelihood")
    ap.add_argument("--real-pieces", type=int, default=150, help="held-out pieces per style for realism")
    ap.add_argument("--gen", type=int, default=20, help="generated pieces per style")
    ap.add_argument("--bars", type=int, default=16)
    ap.add_argument("--n-layer", type=int, default=3)
    ap.add_argument("--n-head", type=int, default=4)
    ap.add_argument("--n-embd", type=int, default=192)
    ap.add_argument("--block", type=int, default=384)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--chord-weight", type=float, default=0.5)
    ap.add_argument("--calib-steps", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1337)
    args = ap.parse_args(argv)
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    bad = [v for v in names if v not in VARIANTS]
    if bad:
        ap.error(f"unknown variant {bad[0]!r}; choose from {', '.join(VARIANTS)}")
    if not args.iters and args.minutes <= 0:
        ap.error("give --minutes > 0 or --iters")

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    t_start = time.perf_counter()
    data = load_data(args.pieces, args.test_pieces, args.real_pieces, args.seed, log)
    sample = random.Random(args.seed).sample(data["train"], min(3000, len(data["train"])))
    ratio = {p: tokens_per_note(sample, p) for p in (True, False)}
    log(f"tokens per note: {ratio[True]:.3f} with Pos before every note, {ratio[False]:.3f} without")
    tps, tokens_per_step = measure_throughput(data["train"], args, log)
    full_iters = args.iters or max(10, round(args.minutes * 60 * tps / tokens_per_step))
    notes_budget = full_iters * tokens_per_step / ratio[True]
    iters = {n: max(2, round(notes_budget * ratio[VARIANTS[n][2]] / tokens_per_step)) for n in names}
    minutes = {n: it * tokens_per_step / tps / 60 for n, it in iters.items()}
    log(f"steps: {iters}; about {sum(minutes.values()):.1f} training minutes in all, plus evaluation")
    real = RealStats(data["real"])

    out_path = Path(args.out)
    results = {"config": {k: v for k, v in vars(args).items()}, "variants": {},
               "tokens_per_note": {"pos_every_note": ratio[True], "default": ratio[False]},
               "throughput_tokens_per_s": tps, "tokens_per_step": tokens_per_step,
               "notes_budget": notes_budget}
    for name in names:
        results["variants"][name] = run_variant(name, iters[name], minutes[name], data, real, args, log)
        results["_meta"] = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                            "command": "python -m benchmarks.ablation " + " ".join(sys.argv[1:] if argv is None else argv),
                            "seconds": round(time.perf_counter() - t_start, 1)}
        try:
            from benchmarks.run import machine
            results["_meta"]["machine"] = machine()
        except Exception:
            pass
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(results, indent=1, default=_json_default) + "\n")
    md = markdown(results)
    print(md)
    out_path.with_suffix(".md").write_text(md)
    log(f"wrote {out_path} and {out_path.with_suffix('.md')} ({(time.perf_counter() - t_start) / 60:.1f} min)")


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


if __name__ == "__main__":
    main()
