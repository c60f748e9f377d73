"""Infilling benchmark (issue 4), on held-out pieces (the test split), measured on the edited
scores against the real ones (never on the request):

(a) notes outside the infilled bars unchanged (share, all parts);
(b) the melodic intervals across the two seams (last note before the hole -> first new note,
    last new note -> first note after it) against the real intervals at the same seams, as an
    overlapping area of the two histograms (target >= 0.8); the same for a left-to-right
    baseline that continues the prefix for as many bars without seeing what follows (its right
    seam shows what reading the suffix is worth);
(c) likelihood of the real middle bars: NLL per note of the true notes of the hole given both
    sides (the fill-in-the-middle sequence) and given only the bars before (left to right);
(d) model time of a 4-bar infill (target <= 0.5 s).

    python -m benchmarks.infill [--n 25] [--bars 4] [--checkpoint PATH]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

STYLES = ("chinese", "german", "celtic", "chorale")
CLIP = 12  # intervals beyond an octave are pooled


def _pieces(styles, n: int, hole: int):
    """n test pieces per style with at least hole + 4 regular bars around a hole in the middle."""
    from symphony.training.corpus import builtin_sources, iter_split, load_corpus
    from symphony.music.score import Score
    from symphony.model.tokens import TICKS_PER_QUARTER, Tokenizer
    tok = Tokenizer()
    recs = load_corpus([s for s in builtin_sources() if s.style in styles])
    out = []
    for style in styles:
        got = 0
        for r in iter_split(recs, "test", [style]):
            s = Score.from_dict(r["score"])
            layout = tok.bar_layout(s)
            if len(layout) < hole + 4:
                continue
            first = max(2, len(layout) // 2 - hole // 2 + 1)
            regular = round(float(s.meter.bar_quarters) * TICKS_PER_QUARTER)
            if any(layout[i][1] != regular for i in range(first - 1, first - 1 + hole)):
                continue
            out.append((s, first, first + hole - 1))
            got += 1
            if got == n:
                break
    return out


def _seams(score, lo_q: float, hi_q: float) -> tuple[int | None, int | None]:
    """(interval into the hole, interval out of it) of the top part, in semitones."""
    notes = sorted(score.parts[0].notes, key=lambda x: (x.onset, -x.pitch))
    before = [x for x in notes if x.onset < lo_q - 1e-6]
    inside = [x for x in notes if lo_q - 1e-6 <= x.onset < hi_q - 1e-6]
    after = [x for x in notes if x.onset >= hi_q - 1e-6]
    left = inside[0].pitch - before[-1].pitch if before and inside else None
    right = after[0].pitch - inside[-1].pitch if after and inside else None
    return left, right


def _intervals(score) -> list[int]:
    """Every melodic interval of the top part (the real distribution the seams are held to)."""
    notes = sorted(score.parts[0].notes, key=lambda x: (x.onset, -x.pitch))
    return [b.pitch - a.pitch for a, b in zip(notes, notes[1:]) if b.onset > a.onset + 1e-6]


def _hist(values) -> np.ndarray:
    h = np.zeros(2 * CLIP + 1)
    for v in values:
        if v is not None:
            h[int(np.clip(v, -CLIP, CLIP)) + CLIP] += 1
    return h


def _grid(notes):
    return sorted((round(x.onset * 480), x.pitch, round(x.end * 480)) for x in notes)


def _left_to_right(score, first: int, last: int, seed: int, checkpoint):
    """The baseline: continue the bars before the hole for as many bars, then put the rest back."""
    from symphony.tasks.edit import continue_piece
    from symphony.music.score import Part, Score
    from symphony.model.tokens import Tokenizer
    layout = Tokenizer().bar_layout(score)
    lo_q, hi_q = layout[first - 1][0] / 24, (layout[last - 1][0] + layout[last - 1][1]) / 24
    head = Score([Part([x for x in p.notes if x.onset < lo_q - 1e-6]) for p in score.parts], score.key,
                 score.meter, score.bpm, first - 1, style=score.style,
                 bar_meters=score.bar_meters[: first - 1] if score.bar_meters else None)
    t0 = time.perf_counter()
    cont = continue_piece(head, last - first + 1, score.style, seed, checkpoint)
    secs = time.perf_counter() - t0
    parts = [Part([x for x in pc.notes if x.onset < hi_q - 1e-6] + [x for x in p.notes if x.onset >= hi_q - 1e-6])
             for p, pc in zip(score.parts, cont.parts)]
    return Score(parts, score.key, score.meter, score.bpm, score.bars, style=score.style), secs


def _middle_nll(model, tok, score, first: int, last: int) -> tuple[float, float, int]:
    """NLL (nats) of the true hole's tokens given both sides, and given the bars before only."""
    import torch
    from symphony.decoding.fim import bar_bounds, encode_for_hole, fim_parts
    start, n = first - 1, last - first + 1
    seq = encode_for_hole(tok, score, start, n, score.style)
    bounds = bar_bounds(tok, seq)
    room = model.cfg.block_size + 1 - tok.HEADER_LEN - 3
    middle_len = bounds[start + n] - bounds[start]
    if middle_len > room // 2:
        return float("nan"), float("nan"), 0
    left = room - middle_len
    fp = fim_parts(tok, seq, start, n, left - min(int(left * 0.6), bounds[-1] - bounds[start + n]), int(left * 0.6), bounds)

    def nll(context: list[int], middle: list[int]) -> float:
        full = context + middle
        x = torch.tensor([full[:-1]])
        with torch.no_grad():
            logits, _ = model(x)
        logp = torch.log_softmax(logits[0].float(), -1)
        idx = torch.arange(len(context) - 1, len(full) - 1)
        return float(-logp[idx, torch.tensor(middle)].sum())

    fim_ctx = fp.sequence(tok, with_middle=False)
    l2r_ctx = fp.header + seq[max(tok.HEADER_LEN, bounds[start] - (model.cfg.block_size - middle_len - 9)):bounds[start]]
    if l2r_ctx[tok.HEADER_LEN:tok.HEADER_LEN + 1] != [tok.bar]:  # start the prefix at a barline
        body = l2r_ctx[tok.HEADER_LEN:]
        l2r_ctx = fp.header + body[body.index(tok.bar):] if tok.bar in body else fp.header
    notes = sum(1 for t in fp.middle if tok.is_dur(t))
    return nll(fim_ctx, fp.middle), nll(l2r_ctx, fp.middle), notes


def bench_infill(checkpoint=None, n: int = 25, hole: int = 4, styles=STYLES, log=None, candidates: int | None = None) -> dict:
    from symphony.evaluation.metrics import overlap
    from symphony.tasks.engine import Engine
    from symphony.cli import CANDIDATES
    from symphony.tasks.infill import fill_bars
    from symphony.model.tokens import Tokenizer
    candidates = candidates or CANDIDATES
    say = log or (lambda m: None)
    engine = Engine.load(checkpoint)
    model, tok, _ = engine.model, engine.tokenizer, engine.meta
    t0 = time.perf_counter()
    pieces = _pieces(styles, n, hole)
    say(f"{len(pieces)} held-out pieces ({time.perf_counter() - t0:.0f} s)")
    fill_bars(pieces[0][0], pieces[0][1], pieces[0][2], None, pieces[0][0].style, 0, checkpoint)  # warm-up
    rows, per_style = [], {}
    layout_tok = Tokenizer()
    for i, (s, first, last) in enumerate(pieces):
        layout = layout_tok.bar_layout(s)
        lo_q, hi_q = layout[first - 1][0] / 24, (layout[last - 1][0] + layout[last - 1][1]) / 24
        new, secs = fill_bars(s, first, last, None, s.style, i, checkpoint, candidates=candidates)
        base, base_secs = _left_to_right(s, first, last, i, checkpoint)
        outside_same = outside_all = 0
        for p_in, p_out in zip(s.parts, new.parts):
            keep_in = _grid([x for x in p_in.notes if not lo_q - 1e-6 <= x.onset < hi_q - 1e-6])
            keep_out = _grid([x for x in p_out.notes if not lo_q - 1e-6 <= x.onset < hi_q - 1e-6])
            outside_all += len(keep_in)
            outside_same += sum((Counter(keep_in) & Counter(keep_out)).values())
        fim_nll, l2r_nll, notes = _middle_nll(model, tok, s, first, last)
        row = {"style": s.style, "title": s.title, "bars": f"{first}-{last}", "voices": len(s.parts),
               "model_s": round(secs, 4), "baseline_s": round(base_secs, 4),
               "outside_notes": outside_all, "outside_unchanged": outside_same,
               "real_seams": _seams(s, lo_q, hi_q), "infill_seams": _seams(new, lo_q, hi_q),
               "baseline_seams": _seams(base, lo_q, hi_q),
               "real_intervals": _intervals(s),
               "middle_notes": notes, "nll_fim": round(fim_nll, 3), "nll_left_to_right": round(l2r_nll, 3)}
        rows.append(row)
        per_style.setdefault(s.style, []).append(row)
        say(f"{i + 1}/{len(pieces)} {s.style} {row['bars']}: {secs:.2f} s, seams real {row['real_seams']} "
            f"infill {row['infill_seams']} left-to-right {row['baseline_seams']}")

    def summary(rs):
        real_l = _hist(r["real_seams"][0] for r in rs)
        real_r = _hist(r["real_seams"][1] for r in rs)
        both_real = real_l + real_r
        out = {"pieces": len(rs),
               "outside_unchanged_pct": round(100 * sum(r["outside_unchanged"] for r in rs)
                                              / max(1, sum(r["outside_notes"] for r in rs)), 2),
               "seam_overlap": round(overlap(both_real, _hist(r["infill_seams"][0] for r in rs)
                                             + _hist(r["infill_seams"][1] for r in rs)) or 0, 3),
               "seam_overlap_left": round(overlap(real_l, _hist(r["infill_seams"][0] for r in rs)) or 0, 3),
               "seam_overlap_right": round(overlap(real_r, _hist(r["infill_seams"][1] for r in rs)) or 0, 3),
               "baseline_seam_overlap": round(overlap(both_real, _hist(r["baseline_seams"][0] for r in rs)
                                                      + _hist(r["baseline_seams"][1] for r in rs)) or 0, 3),
               "baseline_seam_overlap_right": round(overlap(real_r, _hist(r["baseline_seams"][1] for r in rs)) or 0, 3),
               "mean_abs_right_seam": {k: round(statistics.mean(abs(r[k][1]) for r in rs if r[k][1] is not None), 2)
                                       for k in ("real_seams", "infill_seams", "baseline_seams")},
               "model_s_median": round(statistics.median(r["model_s"] for r in rs), 3)}
        # Against every melodic interval of the same real pieces (hundreds a style, so the
        # reference histogram is not itself a small sample): the "real distribution".
        all_real = _hist(v for r in rs for v in r["real_intervals"])
        for key, name in (("infill_seams", "seams_vs_real_intervals"), ("baseline_seams", "baseline_vs_real_intervals"),
                          ("real_seams", "real_seams_vs_real_intervals")):
            out[name] = round(overlap(all_real, _hist(v for r in rs for v in r[key])) or 0, 3)
        ok = [r for r in rs if r["middle_notes"] and r["nll_fim"] == r["nll_fim"]]
        notes = sum(r["middle_notes"] for r in ok)
        out["nll_per_note_fim"] = round(sum(r["nll_fim"] for r in ok) / max(notes, 1), 3)
        out["nll_per_note_left_to_right"] = round(sum(r["nll_left_to_right"] for r in ok) / max(notes, 1), 3)
        return out

    res = {"hole_bars": hole, "candidates": candidates, "all": summary(rows), "per_style": {k: summary(v) for k, v in per_style.items()},
           "rows": rows}
    return res


def write(res: dict, cmd: str, seconds: float, out: Path) -> None:
    import platform
    from datetime import date
    out.with_suffix(".json").write_text(json.dumps(res, indent=1))
    a = res["all"]
    lines = [f"# Infilling ({res['hole_bars']} bars in the middle of held-out pieces, best of "
             f"{res.get('candidates', 4)} candidates)", "",
             f"Machine: {platform.processor() or platform.machine()}, {__import__('os').cpu_count()} cores; "
             f"{date.today()}; `{cmd}` ({seconds:.0f} s).", "",
             "| style | pieces | outside unchanged | seams vs all real intervals: infilled / left-to-right / real seams | seam overlap (both seams) | left seam | right seam | "
             "left-to-right baseline: both / right | NLL/note of the real middle: given both sides / before only | model time (median) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, s in [*res["per_style"].items(), ("all", a)]:
        lines.append(f"| {name} | {s['pieces']} | {s['outside_unchanged_pct']}% | **{s['seams_vs_real_intervals']}** / "
                     f"{s['baseline_vs_real_intervals']} / {s['real_seams_vs_real_intervals']} | {s['seam_overlap']} | "
                     f"{s['seam_overlap_left']} | {s['seam_overlap_right']} | {s['baseline_seam_overlap']} / "
                     f"{s['baseline_seam_overlap_right']} | {s['nll_per_note_fim']} / {s['nll_per_note_left_to_right']} | "
                     f"{s['model_s_median']} s |")
    lines += ["", "Seams vs all real intervals: overlapping area of the histogram of the intervals across "
              "the two seams and the histogram of every melodic interval of the same real pieces (the "
              "real seams themselves score the third figure: a sample of 2 intervals a piece is noisy). "
              "Seam overlap: overlapping area of the histograms of the melodic intervals (top part, "
              f"semitones, clipped at ±{CLIP}) across the two seams, infilled vs the real piece at the same "
              "seams (1 = identical). The left-to-right baseline continues the bars before the hole "
              "without seeing the bars after it (`edit continue`), then the real bars follow.",
              f"Mean |interval| out of the hole (right seam): real {a['mean_abs_right_seam']['real_seams']}, "
              f"infilled {a['mean_abs_right_seam']['infill_seams']}, left-to-right "
              f"{a['mean_abs_right_seam']['baseline_seams']} semitones.", ""]
    out.with_suffix(".md").write_text("\n".join(lines))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=25, help="pieces per style")
    ap.add_argument("--bars", type=int, default=4, help="bars in each hole")
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--candidates", type=int, default=None, help="fills drawn per hole (default: infill's)")
    ap.add_argument("--out", default=str(Path(__file__).parent / "infill"))
    args = ap.parse_args(argv)
    t = time.perf_counter()
    res = bench_infill(args.checkpoint, args.n, args.bars, log=lambda m: print(m, file=sys.stderr),
                       candidates=args.candidates)
    cmd = "python -m benchmarks.infill" + (f" --n {args.n}" if args.n != 25 else "") + \
        (f" --bars {args.bars}" if args.bars != 4 else "") + \
        (f" --candidates {args.candidates}" if args.candidates else "")
    write(res, cmd, time.perf_counter() - t, Path(args.out))
    print(json.dumps(res["all"], indent=1))


if __name__ == "__main__":
    main()
