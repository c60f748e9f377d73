"""Editing a user's score with the same model: continue, harmonize (four voices or chords and
bass) and plain transformations (transpose, change key or mode, change tempo).

All of them prompt and constrain the one sequence model (DESIGN principle 3):

* **continue** encodes the piece as the prompt and samples the requested number of new bars
  under the usual grammar (meter, key, cadence); the input's notes are kept exactly.
* **harmonize --as satb** is functional four-part harmony from ``symphony.fourpart`` (issue 18):
  a chord per beat and its voicing chosen by one dynamic programme, cadences at the melody's
  fermatas (or guessed phrase ends), voice leading rules by construction; the melody is kept
  exactly, on the bars as written. With ``SATB_METHOD = "model"`` it is the sampler as before:
  it writes the chorale token sequence bar by bar with the soprano *given*:
  after each ``BAR`` the melody's tokens are taken as they are, and the model (trained on Bach's
  chorales, voice after voice inside each bar) composes alto, tenor and bass for that bar having
  read the soprano of this bar and everything before it. Lower voices keep to their ranges and
  the key's scale (with the raised 6th/7th in minor); the bass ends on the tonic.
  The melody is laid on the regular bars of its meter (its onsets unchanged), since the sampler
  fills whole bars of one meter; the lower voices enter with the melody (after an upbeat).
* **harmonize --as chords** chooses a chord per half bar (or bar) from the key's diatonic triads
  and dominant sevenths, by how well the chord covers the melody notes sounding there (weighted
  by length, notes struck on a beat three times) and by a small preference for common
  progressions; the bars are those of the piece as written (irregular and mixed-meter bars
  included). It writes the chord symbols and a bass-and-chords accompaniment part.

The result records the operation, its parameters, the seed and the input's fingerprint in
``score.provenance`` (written to music.json), so an edit history can be replayed.
"""
from __future__ import annotations

import bisect
import math
import time

import numpy as np

from symphony.decoding.sampler import Constraints, Hooks
from symphony.errors import RequestError
from symphony.model.tokens import TICKS_PER_QUARTER, conditioning_key
from symphony.music.fourpart import analysis_meta, lower_voices
from symphony.music.harmony import Chord, ChordSpan, accompaniment, parse_chord
from symphony.music.score import Note, Part, Score, analyze_key
from symphony.music.styles import get_style
from symphony.music.theory import HEPTATONIC, SHARP_NAMES, Key, Meter, parse_key
from symphony.tasks.common import MAX_INPUT_BARS, record_edit
from symphony.tasks.engine import Engine


def detect_style(score: Score, engine=None, styles: list[str] | None = None) -> str:
    """The style under which the model finds the piece likeliest (lowest NLL of its tokens)."""
    import torch
    engine = Engine.of(engine)
    model, tok = engine.model, engine.tokenizer
    styles = styles or list(tok.config.styles)
    best, best_nll = styles[0], float("inf")
    for st in styles:
        seq = tok.encode(score, style=st)[: model.cfg.block_size + 1]
        x = torch.tensor([seq[:-1]])
        with torch.no_grad():
            logits, _ = model(x)
        logp = torch.log_softmax(logits[0].float(), -1)
        y = torch.tensor(seq[1:])
        nll = -logp[torch.arange(len(y)), y][tok.HEADER_LEN - 1:].sum().item()
        if nll < best_nll:
            best, best_nll = st, nll
    return best


# ----------------------------------------------------------------------------- continue

def continue_piece(score: Score, bars: int, style: str | None = None, seed: int = 0,
                   engine=None, hooks: Hooks | None = None) -> Score:
    if not isinstance(bars, int) or bars < 1 or score.bars + bars > MAX_INPUT_BARS:
        raise RequestError(f"--bars must be between 1 and {MAX_INPUT_BARS - score.bars} for this piece")
    if len(score.parts) > 4:
        raise RequestError(f"the piece has {len(score.parts)} parts; continue works on up to 4")
    engine = Engine.of(engine)
    tok = engine.tokenizer
    style = get_style(style).name if style else detect_style(score, engine)
    key = score.key
    src = Score([Part(list(p.notes)) for p in score.parts], conditioning_key(key), score.meter, score.bpm,
                score.bars, style=style, bar_meters=score.bar_meters)
    layout = tok.bar_layout(src)  # the bars as the tokens see them (mixed meters included)
    total = len(layout) + bars
    end = (layout[-1][0] + layout[-1][1]) / TICKS_PER_QUARTER
    seq = tok.encode(src, style=style)[:-1]  # without EOS
    seq[: tok.HEADER_LEN] = tok.header(style, conditioning_key(key), score.meter, score.bpm, total, len(score.parts))
    cons = Constraints(key=key, meter=score.meter, bars=total, voices=len(score.parts),
                       token_key=conditioning_key(key), chromatic=False)
    t0 = time.perf_counter()
    out = engine.sample(seq, cons, seed=seed, hooks=hooks)
    new = tok.decode(out)
    parts = []
    for i, p in enumerate(score.parts):
        added = [n for n in (new.parts[i].notes if i < len(new.parts) else []) if n.onset >= end - 1e-6]
        parts.append(Part(list(p.notes) + added, p.name or f"Part {i + 1}", p.program))
    result = Score(parts, key, score.meter, score.bpm, new.bars, score.title, style, {}, list(score.chords),
                   bar_meters=new.bar_meters)
    record_edit(result, "continue", {"bars": bars, "style": style}, score, seed, time.perf_counter() - t0)
    return result


# ----------------------------------------------------------------------------- harmonize

def melody_line(score: Score, part: int = 0) -> Part:
    if not 0 <= part < len(score.parts):
        raise RequestError(f"part {part + 1} does not exist (the piece has {len(score.parts)})")
    notes = sorted(score.parts[part].notes, key=lambda n: (n.onset, -n.pitch))
    for a, b in zip(notes, notes[1:]):
        if b.onset < a.end - 1e-6:
            bar = sum(1 for start, _, _ in bar_layout(score) if start <= b.onset + 1e-6)
            raise RequestError(f"part {part + 1} has chords or overlapping notes (in bar {max(bar, 1)}); "
                               "harmonize needs a single melodic line")
    return Part(notes, score.parts[part].name or "Melody", score.parts[part].program)


def harmonize(score: Score, as_: str = "satb", style: str | None = None, part: int = 0, seed: int = 0,
              engine=None, hooks: Hooks | None = None) -> Score:
    as_ = as_.lower()
    if as_ not in ("satb", "chords", "accompaniment"):
        raise RequestError(f"unknown harmonization {as_!r}; choose satb, chords or accompaniment")
    melody = melody_line(score, part)
    key = score.key if score.key else analyze_key(Score([melody], Key("C", "major"), score.meter, score.bpm, score.bars))
    if as_ == "satb":
        return _satb(score, melody, key, style, seed, engine, hooks)
    return _chords(score, melody, key, style, seed, with_pattern=as_ == "accompaniment")


SATB_METHOD = "fourpart"  # "fourpart": music.fourpart (functional harmony); "model": the sampler


def _satb(score: Score, melody: Part, key: Key, style: str, seed: int, engine, hooks: Hooks | None) -> Score:
    if SATB_METHOD == "fourpart":
        return _satb_fourpart(score, melody, key, style or "chorale", seed)  # Bach's rules, any model
    engine = Engine.of(engine)
    tok = engine.tokenizer
    # Bach's chorales, or the model's own first style when it was trained without them (a user's)
    style = get_style(style).name if style else "chorale" if "Style_chorale" in tok.ids else tok.config.styles[0]
    ck = conditioning_key(key)
    # The sampler fills bars of the header's meter, so the melody is laid on that regular grid
    # (its onsets unchanged). Irregular bars (a chorale's 3 + 1 beat bars around a repeat,
    # the mixed meters of folk songs) would otherwise put the lower voices out of step with
    # the melody after the first odd bar.
    bq = float(score.meter.bar_quarters)
    end = max([n.end for n in melody.notes] + [b[0] + b[1] for b in bar_layout(score)[-1:]])
    bars = max(1, math.ceil(end / bq - 1e-6))
    lone = Score([Part(list(melody.notes)), Part(), Part(), Part()], ck, score.meter, score.bpm, bars,
                 style=style)
    enc = tok.encode(lone, style=style)
    header = tok.header(style, ck, score.meter, score.bpm, bars, 4)
    given: dict[int, list[int]] = {}
    bar = 0
    for t in enc[tok.HEADER_LEN:-1]:
        if t == tok.bar:
            bar += 1
            given[bar] = []
        elif not tok.names[t].startswith("BarMeter_"):
            given[bar].append(t)
    for b in range(1, bars + 1):
        block = given.setdefault(b, [])
        if not block or block[0] != tok.voice0:
            block.insert(0, tok.voice0)
    cons = Constraints(key=key, meter=score.meter, bars=bars, voices=4, token_key=ck, given=given)
    t0 = time.perf_counter()
    seq = engine.sample(header, cons, seed=seed, hooks=hooks)
    secs = time.perf_counter() - t0
    new = tok.decode(seq)
    st = get_style(style)
    names = ["Soprano", "Alto", "Tenor", "Bass"]
    parts = [Part(list(melody.notes), melody.name if melody.name not in ("", "Melody") else "Soprano", melody.program or st.program)]
    first = min(n.onset for n in melody.notes)
    for v in range(1, 4):
        notes = new.parts[v].notes if v < len(new.parts) else []
        parts.append(Part(_enter_with(notes, first), names[v], st.program))
    result = Score(parts, key, score.meter, score.bpm, bars, score.title, style, {}, list(score.chords))
    record_edit(result, "harmonize", {"as": "satb", "style": style}, score, seed, secs)
    return result


def _satb_fourpart(score: Score, melody: Part, key: Key, style: str, seed: int) -> Score:
    """Alto, tenor and bass from ``symphony.fourpart`` under the melody as written (every note,
    and the piece's own bars); the Roman numerals and phrase ends go into the meta."""
    st = get_style(style)
    lower, fp = lower_voices(score, melody.notes, key, bar_layout(score), st.program)
    parts = [Part(list(melody.notes), melody.name if melody.name not in ("", "Melody") else "Soprano",
                  melody.program or st.program)] + lower
    end = max(n.end for n in melody.notes)
    bars = max(score.bars, math.ceil(end / float(score.meter.bar_quarters) - 1e-6)) \
        if not score.bar_meters else score.bars
    result = Score(parts, key, score.meter, score.bpm, bars, score.title, st.name, {"harmony": analysis_meta(fp)},
                   list(score.chords), bar_meters=score.bar_meters)
    record_edit(result, "harmonize", {"as": "satb", "style": st.name, "method": "fourpart"}, score, seed, fp.seconds)
    return result


def _enter_with(notes: list[Note], first: float) -> list[Note]:
    """The lower voices enter with the melody: the sampler fills whole bars, so under a
    melody that starts with an upbeat it writes notes before it; those are dropped (a note
    sounding into the melody's first onset starts there)."""
    out = []
    for n in notes:
        if n.end <= first + 1e-6:
            continue
        if n.onset < first - 1e-6:
            n = Note(n.pitch, first, n.end - first, n.velocity)
        out.append(n)
    return out


def diatonic_chords(key: Key) -> list[Chord]:
    """Triads on the degrees of the key (harmonic minor's V and vii° in minor) and V7."""
    if key.is_minor_like:
        figs = ["i", "iio", "III", "iv", "V", "VI", "viio", "V7"]
    else:
        figs = ["I", "ii", "iii", "IV", "V", "vi", "V7"]
    k = Key(key.tonic, "minor" if key.is_minor_like else "major")
    return [parse_chord(f, k) for f in figs]


# how natural a move from one chord root (semitones over the tonic) to the next is
_MOVES = {(7, 0): 1.0, (5, 7): 0.6, (5, 0): 0.5, (2, 7): 0.8, (0, 5): 0.5, (0, 7): 0.5, (9, 2): 0.5,
          (9, 5): 0.5, (0, 9): 0.3, (8, 7): 0.6, (3, 8): 0.4, (10, 3): 0.5}


BEAT_WEIGHT = 3.0  # a melody note struck on a beat counts this many times its length
MISS_PENALTY = 0.6  # a melody note outside the chord counts against it (times its weight)
MOVE_WEIGHT = 0.4  # weight of the root-move preferences against the fit to the melody


def bar_layout(score: Score) -> list[tuple[float, float, float]]:
    """(start, length, beat) in quarters of every bar, following the irregular and mixed-meter
    bars of ``score.bar_meters`` (folk songs, chorales with repeats) when there are any."""
    changes = score.bar_meters
    if not changes:
        bq = float(score.meter.bar_quarters)
        return [(i * bq, bq, score.meter.beat_quarters) for i in range(score.bars)]
    out = []
    for i, (start, m) in enumerate(changes):
        bar = Meter(*(int(x) for x in str(m).split("/")))  # bar meters may be irregular (5/8)
        length = float(changes[i + 1][0]) - float(start) if i + 1 < len(changes) else float(bar.bar_quarters)
        out.append((float(start), length, bar.beat_quarters))
    return out


def choose_chords(melody: Part, key: Key, meter, bars: int, per_bar: int | None = None,
                  layout: list[tuple[float, float, float]] | None = None) -> list[ChordSpan]:
    """Dynamic programming over chord windows (half bars in bars of 2 or 4 beats at least 3
    quarters long: 4/4, 2/2, 6/8, 12/8; whole bars otherwise): fit = duration- and beat-weighted
    share of melody notes that are chord tones; transitions favour common root moves; the first
    and last chord prefer the tonic. ``layout`` gives the bars as (start, length, beat) when
    they are irregular (``bar_layout``); by default every bar has the meter's length."""
    if layout is None:
        bq = float(meter.bar_quarters)
        layout = [(i * bq, bq, meter.beat_quarters) for i in range(bars)]
    starts: list[float] = []
    lengths: list[float] = []
    beats: list[tuple[float, float]] = []  # per window: (bar start, beat length)
    for start, length, beat in layout:
        n_beats = max(1, round(length / beat))
        k = per_bar or (2 if n_beats in (2, 4) and length >= 3 else 1)
        for j in range(k):
            starts.append(start + j * length / k)
            lengths.append(length / k)
            beats.append((start, beat))
    cands = diatonic_chords(key)
    tonic = key.tonic_pc
    W = len(starts)
    fit = np.zeros((W, len(cands)))
    ends = [a + d for a, d in zip(starts, lengths)]
    for n in melody.notes:
        w = max(bisect.bisect_right(starts, n.onset + 1e-6) - 1, 0)
        t = n.onset
        while t < n.end - 1e-6 and w < W:
            seg_end = min(n.end, ends[w])
            weight = seg_end - t
            bar_start, beat = beats[w]
            if weight > 0:
                if abs(t - n.onset) < 1e-6 and abs(((n.onset - bar_start) / beat + 1e-6) % 1) < 2e-6:
                    weight *= BEAT_WEIGHT  # notes struck on a beat matter most
                for j, c in enumerate(cands):
                    fit[w, j] += weight * (1.0 if c.contains(n.pitch) else -MISS_PENALTY)
            t = max(t, seg_end)
            w += 1
    roots = [(c.root_pc - tonic) % 12 for c in cands]
    score = np.full((W, len(cands)), -1e9)
    back = np.zeros((W, len(cands)), dtype=int)
    start_bonus = np.array([0.5 if r == 0 else 0.0 for r in roots])
    score[0] = fit[0] + start_bonus
    for w in range(1, W):
        for j in range(len(cands)):
            trans = np.array([(_MOVES.get((roots[i], roots[j]), 0.0) if i != j else 0.2) for i in range(len(cands))])
            tot = score[w - 1] + MOVE_WEIGHT * trans
            back[w, j] = int(tot.argmax())
            score[w, j] = tot.max() + fit[w, j]
    end_bonus = np.array([1.0 if r == 0 and len(c.pcs) == 3 else 0.0 for r, c in zip(roots, cands)])
    j = int((score[-1] + end_bonus).argmax())
    path = [j]
    for w in range(W - 1, 0, -1):
        j = back[w, j]
        path.append(j)
    path.reverse()
    spans: list[ChordSpan] = []
    for w, j in enumerate(path):  # merge repeated chords
        c = cands[j]
        if spans and spans[-1].chord == c:
            spans[-1] = ChordSpan(c, spans[-1].onset, spans[-1].duration + lengths[w])
        else:
            spans.append(ChordSpan(c, starts[w], lengths[w]))
    return spans


def _chords(score: Score, melody: Part, key: Key, style: str | None, seed: int, with_pattern: bool) -> Score:
    t0 = time.perf_counter()
    spans = choose_chords(melody, key, score.meter, score.bars, layout=bar_layout(score))
    st_name = get_style(style).name if style else (score.style or "german")
    notes = accompaniment(spans, score.meter, st_name if with_pattern else "chorale")
    bass = [Note(p, on, d, 70) for p, on, d in notes if p < 55]
    upper = [Note(p, on, d, 62) for p, on, d in notes if p >= 55]
    parts = [Part(list(melody.notes), melody.name or "Melody", melody.program),
             Part(upper, "Chords", 0), Part(bass, "Bass", 32)]
    result = Score(parts, key, score.meter, score.bpm, score.bars, score.title, score.style, {},
                   [(s.onset, s.chord.figure) for s in spans], bar_meters=score.bar_meters)
    record_edit(result, "harmonize", {"as": "accompaniment" if with_pattern else "chords", "style": st_name},
            score, seed, time.perf_counter() - t0)
    return result


# ----------------------------------------------------------------------------- transformations

def transform(score: Score, transpose: int = 0, key: str | None = None, tempo: float | None = None) -> Score:
    """Transpose by semitones, or move to another key/mode (scale degrees kept: C major -> C
    minor lowers the 3rd, 6th and 7th), and/or set the tempo."""
    parts = [Part([Note(n.pitch, n.onset, n.duration, n.velocity, n.spelling, n.fermata) for n in p.notes],
                  p.name, p.program) for p in score.parts]  # a moved note is spelled again on export
    new_key = score.key
    params: dict = {}
    if key:
        target = parse_key(key)
        src_ref, dst_ref = HEPTATONIC[score.key.reference_mode], HEPTATONIC[target.reference_mode]
        shift = (target.tonic_pc - score.key.tonic_pc) % 12
        if shift > 6:
            shift -= 12
        for p in parts:
            for n in p.notes:
                rel = (n.pitch - score.key.tonic_pc) % 12
                delta = dst_ref[src_ref.index(rel)] - rel if rel in src_ref else 0
                n.pitch = min(127, max(0, n.pitch + shift + delta))
        new_key = target
        params["key"] = str(target)
    if transpose:
        if not -48 <= transpose <= 48:
            raise RequestError("--transpose must be between -48 and 48 semitones")
        for p in parts:
            for n in p.notes:
                n.pitch = min(127, max(0, n.pitch + transpose))
        new_key = Key(SHARP_NAMES[(new_key.tonic_pc + transpose) % 12], new_key.mode)
        params["transpose"] = transpose
    bpm = score.bpm
    if tempo is not None:
        if not 20 <= tempo <= 300:
            raise RequestError(f"tempo {tempo} bpm is outside 20-300")
        bpm = float(tempo)
        params["tempo"] = bpm
    if not params:
        raise RequestError("nothing to do: give --transpose, --key or --tempo")
    chords = list(score.chords) if not (key or transpose) else []  # symbols would no longer fit
    result = Score(parts, new_key, score.meter, bpm, score.bars, score.title, score.style, {}, chords,
                   key_signature=score.key_signature)  # written while the key stays the file's
    record_edit(result, "transform", params, score, 0, 0.0)
    return result
