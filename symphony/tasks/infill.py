"""Infilling: regenerate bars in the middle of a piece so that they join both neighbours.

The model is *trained* to fill holes (fill-in-the-middle, as in code models and the
Anticipatory Music Transformer's use of future context), not asked to continue left to right.
A training or inference sequence reorders the piece around the hole:

    header  prefix bars  Hole_<n>  suffix bars  Fill  middle bars (n of them)  EOS

``Hole_n`` says how many bars are missing; after ``Fill`` the model writes exactly those bars,
having read the music on both sides. The prefix and suffix are whole bars cut to fit the
context (the bars nearest the hole are kept). The first note of every voice in the middle's
first bar and in the suffix's first bar carries an explicit ``Pos`` (``Tokenizer.encode``'s
``pos_bars``), so those bars read the same whatever comes before them.

`fim_sequence` builds the sequence for training (``TrainConfig.infill_rate``) and for inference
alike, so the two cannot drift apart. `infill` regenerates bars of a user's score (all parts, or
one part with the others given bar by bar) and `bridge` joins two pieces by infilling the bars
between them.
"""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from symphony.decoding.fim import bar_bounds, encode_for_hole, fim_parts
from symphony.decoding.sampler import Anchor, Constraints, Hooks
from symphony.errors import RequestError
from symphony.model.tokens import (
    MAX_BAR_TICKS,
    MAX_HOLE_BARS,
    TICKS_PER_QUARTER,
    Tokenizer,
    TokenizerConfig,
    conditioning_key,
)
from symphony.music.analysis import bar_starts
from symphony.music.pickup import fit_to_pickup
from symphony.music.score import Note, Part, Score
from symphony.music.styles import get_style
from symphony.music.theory import Meter
from symphony.tasks.common import MAX_INPUT_BARS, record_edit
from symphony.tasks.edit import detect_style
from symphony.tasks.engine import Engine
from symphony.tasks.generate import edit_craft, pentatonic_melody
from symphony.tasks.limits import FILL_CANDIDATES, MAX_FILL_CANDIDATES

PREFIX_SHARE = 0.4  # of the context left after the middle's expected length, at inference
SUFFIX_SHARE = 0.6
CANDIDATES, MAX_CANDIDATES = FILL_CANDIDATES, MAX_FILL_CANDIDATES  # fills drawn per hole (fill_bars)
SCORE_BARS_BEFORE = 4  # bars of context before the hole when the seams are scored


# ----------------------------------------------------------------------------- inference

def parse_bar_range(text: str | tuple[int, int], n_bars: int, lowest: int = 1) -> tuple[int, int]:
    """'5-8' or '5' (inclusive) -> (first, last), checked against bar numbers lowest..n_bars."""
    if isinstance(text, tuple):
        lo, hi = text
    else:
        parts = str(text).replace("–", "-").split("-")
        try:
            lo, hi = (int(parts[0]), int(parts[-1])) if len(parts) <= 2 else (0, -1)
        except ValueError:
            raise RequestError(f"cannot read the bar range {text!r}; write it like '5-8' or '5'") from None
    if not lowest <= lo <= hi:
        raise RequestError(f"bar range {text!r} must be first-last with {lowest} <= first <= last")
    if hi > n_bars:
        raise RequestError(f"bar range {lo}-{hi} lies outside the piece, which has {n_bars} bars")
    if hi - lo + 1 > MAX_HOLE_BARS:
        raise RequestError(f"at most {MAX_HOLE_BARS} bars can be infilled at once ({lo}-{hi} is {hi - lo + 1})")
    return lo, hi


def user_bar_range(score: Score, text: str | tuple[int, int]) -> tuple[int, int]:
    """The stored bars (1-based, inclusive) of a range in the user's printed bar numbers: with a
    pickup bar 0, '5-8' is the fifth to eighth full bars, as the user's score numbers them (and
    a bar printed as 8 and 8a, split by a repeat, is both)."""
    printed = score.printed_numbers()
    numbers = [int(d) for d in ("".join(c for c in label if c.isdigit()) for label in printed) if d]
    lo, hi = parse_bar_range(text, max(numbers), min(numbers))
    first, last = score.bar_index(lo), score.bar_index(hi, last=True)
    if first is None or last is None:
        raise RequestError(f"bar {lo if first is None else hi} is not a bar of the piece (its bars are "
                           f"numbered {printed[0]} to {printed[-1]})")
    if last - first + 1 > MAX_HOLE_BARS:
        raise RequestError(f"at most {MAX_HOLE_BARS} bars can be infilled at once ({lo}-{hi} is {last - first + 1})")
    return first, last


def _voice_blocks(tok: Tokenizer, middle: list[int], n_voices: int) -> dict[tuple[int, int], list[int]]:
    """(bar 1.., voice) -> the tokens of that voice in that bar (without its Voice_v token)."""
    out: dict[tuple[int, int], list[int]] = {}
    bar, voice = 0, 0
    for t in middle:
        if t == tok.bar:
            bar, voice = bar + 1, 0
            for v in range(n_voices):
                out[(bar, v)] = []
        elif tok.names[t].startswith("BarMeter_"):
            continue
        elif tok.voice0 <= t < tok.voice0 + 8:
            voice = t - tok.voice0
        else:
            out.setdefault((bar, voice), []).append(t)
    return out


def fill_bars(score: Score, first: int, last: int, part: int | None = None, style: str | None = None,
              seed: int = 0, engine=None, temperature: float = 1.0,
              candidates: int = CANDIDATES, hooks: Hooks | None = None) -> tuple[Score, float]:
    """Regenerate bars first..last (1-based) of `score` (all parts, or only `part`, 0-based, with
    the others kept); every note that starts outside those bars stays as it was. Returns the new
    score and the model time in seconds. Every bar keeps its meter and length: a range across a
    meter change is filled run by run (``_fill_run``).

    `candidates` fills are drawn (decoded side by side in one batch) and one is kept by how well
    it joins both sides: the model, reading left to right, scores the hole's first bar after the
    bars before it and the first bar after the hole after the filled bars; the first bar's score
    is divided by the probability the fill-in-the-middle pass gave it (an importance weight: the
    fill-in-the-middle proposal, corrected towards the left-to-right model's judgement of both
    seams)."""
    engine = Engine.of(engine)
    tok = engine.tokenizer
    if not tok.config.infill:
        raise RequestError("this model was not trained for infilling (its vocabulary has no Hole "
                           "tokens); use the default model or train one with --infill-rate")
    voices = len(score.parts)
    if voices > 8:
        raise RequestError(f"the piece has {voices} parts; infill works on up to 8")
    if part is not None and not 0 <= part < voices:
        raise RequestError(f"part {part + 1} does not exist (the piece has {voices})")
    style = get_style(style).name if style else detect_style(score, engine)
    whole = score.joined()  # a bar split in two (4 and 4a) is one musical bar to the model
    first, last = _joined_range(score, whole, first, last)
    layout = tok.bar_layout(Score(score.parts, score.key, score.meter, score.bpm, whole.bars,
                                  bar_meters=whole.bar_meters))
    # a range across a meter change (a 3/4 bar among 2/4 bars) is filled run by run, each run of
    # bars of one meter in that meter; a later run reads the notes of the earlier ones
    beat = round(score.meter.beat_quarters * TICKS_PER_QUARTER)
    short = [b for b in range(first, last + 1) if layout[b - 1][1] < beat]
    if short:  # an ABC file's miscounted bar of a sixteenth: nothing musical to regenerate
        raise RequestError(f"bar {whole.printed_numbers()[short[0] - 1]} lasts less than a beat of "
                           f"{score.meter} ({layout[short[0] - 1][2]}); it is too short to regenerate")
    runs, secs = [], 0.0
    for b in range(first, last + 1):
        if runs and layout[b - 1][1:] == layout[runs[-1][0] - 1][1:]:
            runs[-1][1] = b
        else:
            runs.append([b, b])
    for a, z in runs:
        score, s = _fill_run(score, whole, layout, a, z, part, style, seed, engine, temperature, candidates, hooks)
        secs += s
    return score, secs


def _fill_run(score: Score, whole: Score, layout, first: int, last: int, part: int | None, style: str,
              seed: int, engine, temperature: float, candidates: int, hooks: Hooks | None) -> tuple[Score, float]:
    """``fill_bars`` of bars first..last of ``whole`` (``score.joined()``), all of one meter
    (``layout``: ``Tokenizer.bar_layout`` of ``whole``): the model writes them as bars of that
    meter."""
    model, tok = engine.model, engine.tokenizer
    voices = len(score.parts)
    ck = conditioning_key(score.key)
    src = Score([Part(list(p.notes)) for p in score.parts], ck, score.meter, score.bpm, whole.bars,
                style=style, bar_meters=whole.bar_meters)
    n_num, n_den = (int(x) for x in layout[first - 1][2].split("/"))
    meter = score.meter if layout[first - 1][2] == str(score.meter) else Meter(n_num, n_den)
    if round(float(meter.bar_quarters) * TICKS_PER_QUARTER) > MAX_BAR_TICKS:
        raise RequestError(f"bar {whole.printed_numbers()[first - 1]} ({meter}) is longer than the model's bars")
    start, n = first - 1, last - first + 1
    seq = encode_for_hole(tok, src, start, n, style)
    bounds = bar_bounds(tok, seq)
    block = model.cfg.block_size
    room = block + 1 - tok.HEADER_LEN - 3
    per_bar = (bounds[-1] - bounds[0]) / max(1, len(layout))
    middle_est = min(room // 2, int(per_bar * n * 1.25) + 8)
    left = room - middle_est
    suffix_budget = int(left * SUFFIX_SHARE)
    prefix_budget = left - min(suffix_budget, bounds[-1] - bounds[start + n])
    fp = fim_parts(tok, seq, start, n, prefix_budget, suffix_budget, bounds)
    before = fp.prefix.count(tok.bar)
    given = None
    if part is not None and voices > 1:
        blocks = _voice_blocks(tok, fp.middle, voices)
        given = {(before + b, v): toks for (b, v), toks in blocks.items() if v != part}
    notes_key = pentatonic_melody(score.key, style, voices, [x.pitch for p in score.parts for x in p.notes])
    cons = Constraints(key=notes_key, meter=meter, bars=before + n, voices=voices, token_key=ck,
                       end_on_tonic=last == len(layout) and part in (None, 0, voices - 1),
                       given_voices=given, pos_bars=frozenset({before + 1}),
                       anchors=_upbeat_anchor(score, before + 1) if first == 1 else None,
                       closes=last == len(layout))
    if voices == 1:  # the new bars keep the style's rhythm and the piece's phrase plan
        pk = 1 if score.pickup else 0
        cons = replace(cons, **edit_craft(style, notes_key, score.meter, len(layout) - pk,
                                          range(first - pk, last - pk + 1), before - start + pk, seed))
    insert = fp.sequence(tok, with_middle=False)[len(fp.header) + len(fp.prefix):]
    lo_q = layout[start][0] / TICKS_PER_QUARTER
    hi_q = (layout[last - 1][0] + layout[last - 1][1]) / TICKS_PER_QUARTER
    # the new bars decode as bars of their meter (a bar of another meter than the piece's says so)
    marked = [] if meter is score.meter else [tok.ids[f"BarMeter_{meter}"]]
    t0 = time.perf_counter()
    results, first_bar_logq = [], []
    n_draws = max(1, candidates)
    logqs: list[list[float]] = [[] for _ in range(n_draws)]
    outs = engine.sample_many(fp.header + fp.prefix, cons, [seed + 7919 * j for j in range(n_draws)],
                       temperature=temperature, insert=insert, logps=logqs, hooks=hooks)
    for out, logq in zip(outs, logqs):
        middle = out[len(fp.header) + len(fp.prefix):]
        # The new bars are decoded on their own (the grammar starts each bar at its first tick,
        # as the decoder does when nothing is held over the barline).
        decoded = tok.decode(fp.header + [x for t in middle for x in ([t] + marked if t == tok.bar else [t])])
        results.append(fit_to_pickup(_merge(score, decoded, part, lo_q, hi_q, style),
                                     score.pickup, score.pickup_completed))
        bars_at = [i for i, t in enumerate(middle) if t == tok.bar] + [len(middle)]
        first_bar_logq.append(sum(logq[: bars_at[1]]))
    best = 0
    if len(results) > 1:
        fit = _seam_fit(model, tok, [Score(r.parts, ck, r.meter, r.bpm, whole.bars, style=style, bar_meters=src.bar_meters)
                                     for r in results], style, start, n)
        best = int(np.argmax(np.asarray(fit) - np.asarray(first_bar_logq)))
    return results[best], time.perf_counter() - t0


def _joined_range(score: Score, whole: Score, first: int, last: int) -> tuple[int, int]:
    """Bars first..last of ``score`` (1-based, inclusive) as bars of ``score.joined()``."""
    if whole is score:
        return first, last
    starts, joined = bar_starts(score), bar_starts(whole)
    at = {round(x, 4): i for i, x in enumerate(joined)}
    lo, hi = at.get(round(starts[first - 1], 4)), at.get(round(starts[last], 4))
    if lo is None or hi is None:
        printed = score.printed_numbers()
        raise RequestError(f"bars {printed[first - 1]}-{printed[last - 1]} end inside a split bar; "
                           f"give both of its halves")
    return lo + 1, hi


def _upbeat_anchor(score: Score, bar: int) -> dict[tuple[int, int], Anchor] | None:
    """An infilled pickup bar (``bar`` of the decoded sequence) keeps the upbeat's length: the
    top voice rests until the upbeat starts (``Anchor.rest``), so the new upbeat is as long."""
    if not score.pickup:
        return None
    return {(bar, 0): Anchor(rest=round((score.bar_quarters - score.pickup) * TICKS_PER_QUARTER))}


def _seam_fit(model, tok: Tokenizer, candidates: list[Score], style: str, start: int, n: int) -> list[float]:
    """For each candidate (the piece with the hole filled), the model's left-to-right log-probability
    of the hole's first bar and of the first bar after the hole, given the bars before each. The
    tokens the candidates share (the header and the bars before the hole) are run once."""
    seqs, spans = [], []
    for c in candidates:
        seq = tok.encode(c, style=style)
        b = bar_bounds(tok, seq)
        a, m1, z = b[start], b[start + 1], b[min(start + n + 1, len(b) - 1)]
        h = b[start + n]
        p = start
        while p > 0 and start - p < SCORE_BARS_BEFORE and tok.HEADER_LEN + z - b[p - 1] <= model.cfg.block_size:
            p -= 1
        body = seq[: tok.HEADER_LEN] + seq[b[p]:z]
        off = tok.HEADER_LEN - b[p]
        seqs.append(body)
        spans.append([(a + off, m1 + off), (h + off, z + off)])
    shared = min(len(x) for x in seqs)
    for x in seqs[1:]:
        shared = next((j for j in range(shared) if x[j] != seqs[0][j]), shared)
    shared = max(1, min([shared] + [lo for sp in spans for lo, _ in sp]))  # every scored token is in a row
    lps = model.continuation_logprobs(seqs[0][:shared], [x[shared:] for x in seqs])
    return [sum(float(lp[lo - shared:hi - shared].sum()) for lo, hi in sp if hi > lo)
            for lp, sp in zip(lps, spans)]


def _merge(score: Score, new: Score, part: int | None, lo_q: float, hi_q: float, style: str) -> Score:
    """`score` with the notes of `new` (the hole's bars, from its start) in lo_q..hi_q."""
    offset = lo_q
    parts = []
    for v, p in enumerate(score.parts):
        keep = [x for x in p.notes if not lo_q - 1e-6 <= x.onset < hi_q - 1e-6]
        if part is not None and v != part:
            parts.append(Part(list(p.notes), p.name, p.program))
            continue
        held = max([x.end for x in keep if x.onset < lo_q - 1e-6], default=lo_q)
        # a phrase end the user marked in the hole stays marked: a new note starting where a
        # fermata note started gets the fermata
        fermatas = {round(x.onset, 4) for x in p.notes if x.fermata and lo_q - 1e-6 <= x.onset < hi_q - 1e-6}
        added = []
        for x in (new.parts[v].notes if v < len(new.parts) else []):
            on = x.onset + offset
            if not lo_q - 1e-6 <= on < hi_q - 1e-6 or on < held - 1e-6:
                continue  # outside the hole, or under a note held into it from before
            added.append(Note(x.pitch, on, x.duration, x.velocity, fermata=round(on, 4) in fermatas))
        parts.append(Part(sorted(keep + added, key=lambda x: (x.onset, x.pitch)), p.name, p.program))
    result = Score(parts, score.key, score.meter, score.bpm, score.bars, score.title, score.style or style,
                   dict(score.meta or {}), list(score.chords), bar_meters=score.bar_meters,
                   source=score.source, fingerprint=score.fingerprint)
    result.style = style
    return result


def _check_candidates(candidates: int) -> None:
    if not isinstance(candidates, int) or not 1 <= candidates <= MAX_CANDIDATES:
        raise RequestError(f"--candidates must be between 1 and {MAX_CANDIDATES}, got {candidates}")


def infill(score: Score, bars: str | tuple[int, int], part: int | None = None, style: str | None = None,
           seed: int = 0, engine=None, candidates: int = CANDIDATES, hooks: Hooks | None = None) -> Score:
    """`symphony edit infill IN --bars 5-8 [--part P]`: regenerate those bars (inclusive, as the
    user's score numbers them: after a pickup bar 0, bar 1 is the first full bar) of that part
    (0-based here; all parts by default) so that they join both neighbours."""
    _check_candidates(candidates)
    first, last = user_bar_range(score, bars)
    result, secs = fill_bars(score, first, last, part, style, seed, engine, candidates=candidates, hooks=hooks)
    printed = score.printed_numbers()
    record_edit(result, "infill", {"bars": f"{printed[first - 1]}-{printed[last - 1]}", "part": "all" if part is None else part + 1,
                               "style": result.style, "candidates": candidates}, score, seed, secs)
    return result


def bridge(a: Score, b: Score, bars: int, style: str | None = None, seed: int = 0, engine=None,
           candidates: int = CANDIDATES, hooks: Hooks | None = None) -> Score:
    """`symphony edit bridge A B --bars N`: A, then N new bars that lead from A's end into B's
    beginning (infilled with both in view), then B, in A's key, meter and tempo (B's notes keep
    their pitches; its bars are laid in its own meter)."""
    if not isinstance(bars, int) or not 1 <= bars <= MAX_HOLE_BARS:
        raise RequestError(f"--bars must be between 1 and {MAX_HOLE_BARS} for a bridge, got {bars}")
    _check_candidates(candidates)
    if a.bars + bars + b.bars > MAX_INPUT_BARS:
        raise RequestError(f"A, the bridge and B would have {a.bars + bars + b.bars} bars; at most {MAX_INPUT_BARS}")
    layout_tok = Tokenizer(TokenizerConfig())
    la, lb = layout_tok.bar_layout(a), layout_tok.bar_layout(b)
    q = TICKS_PER_QUARTER
    a_end = (la[-1][0] + la[-1][1]) / q
    bar_q = float(a.meter.bar_quarters)
    b_at = a_end + bars * bar_q - lb[0][0] / q
    voices = max(len(a.parts), len(b.parts))
    parts = []
    for v in range(voices):
        pa = a.parts[v] if v < len(a.parts) else Part()
        pb = b.parts[v] if v < len(b.parts) else Part()
        notes = list(pa.notes) + [Note(x.pitch, x.onset + b_at, x.duration, x.velocity) for x in pb.notes]
        parts.append(Part(notes, pa.name or pb.name, pa.program if v < len(a.parts) else pb.program))
    bar_meters = None
    if a.bar_meters or b.bar_meters or str(a.meter) != str(b.meter):
        bar_meters = ([[s / q, m] for s, _, m in la] + [[a_end + i * bar_q, str(a.meter)] for i in range(bars)]
                      + [[s / q + b_at, m] for s, _, m in lb])
    # B's key signature where B starts, if the keys differ (formats.musicxml writes it)
    meta = {"key_changes": [[a_end + bars * bar_q, str(b.key)]]} if str(b.key) != str(a.key) else {}
    joined = Score(parts, a.key, a.meter, a.bpm, len(la) + bars + len(lb), a.title, a.style, meta,
                   bar_meters=bar_meters)
    result, secs = fill_bars(joined, len(la) + 1, len(la) + bars, None, style, seed, engine, candidates=candidates, hooks=hooks)
    result.fingerprint = result.source = None
    record_edit(result, "bridge", {"bars": bars, "bridge_bars": f"{len(la) + 1}-{len(la) + bars}",
                               "style": result.style, "candidates": candidates,
                               "b": {"file": b.source, "fingerprint": b.fingerprint}},
            a, seed, secs)
    return result
