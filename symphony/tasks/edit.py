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
* **harmonize --as chords** (and ``--as accompaniment``) is a functional chord plan from
  ``symphony.music.chordplan``: one or two chords a bar, faster at cadences, every melody note
  on a beat a chord tone (or a documented non-chord tone), cadences at phrase ends, a bass with
  inversions where it moves by step; the bars are those of the piece as written. It writes the
  chord symbols (slash chords for inversions) and a piano part on a grand staff: close-position
  chords in the right hand, the bass in the left (held, or in a dance pattern).

Every harmonization also records a Roman-numeral analysis of the notes it wrote
(``symphony.music.numerals``) in ``meta["harmony"]["numerals"]``; ``numerals=True`` prints it
under the bass staff.

The result records the operation, its parameters, the seed and the input's fingerprint in
``score.provenance`` (written to music.json), so an edit history can be replayed.
"""
from __future__ import annotations

import math
import time
from dataclasses import replace

from symphony.decoding.sampler import Constraints, Hooks
from symphony.errors import RequestError
from symphony.model.tokens import TICKS_PER_QUARTER, conditioning_key
from symphony.music.fourpart import analysis_meta, lower_voices
from symphony.music.chordplan import SUSTAINED_STYLES, plan_chords, plan_meta, voice
from symphony.music.numerals import annotate
from symphony.music.score import Note, Part, Score, analyze_key
from symphony.music.styles import get_style
from symphony.music.theory import HEPTATONIC, SHARP_NAMES, Key, Meter, parse_key
from symphony.tasks.common import MAX_INPUT_BARS, record_edit
from symphony.tasks.engine import Engine
from symphony.tasks.generate import edit_craft, pentatonic_melody


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
    whole = score.joined()  # a bar split in two (4 and 4a) is one bar to the model
    src = Score([Part(list(p.notes)) for p in score.parts], conditioning_key(key), score.meter, score.bpm,
                whole.bars, style=style, bar_meters=whole.bar_meters)
    layout = tok.bar_layout(src)  # the bars as the tokens see them (mixed meters included)
    total = len(layout) + bars
    end = (layout[-1][0] + layout[-1][1]) / TICKS_PER_QUARTER
    seq = tok.encode(src, style=style)[:-1]  # without EOS
    seq[: tok.HEADER_LEN] = tok.header(style, conditioning_key(key), score.meter, score.bpm, total, len(score.parts))
    notes_key = pentatonic_melody(key, style, len(score.parts), [n.pitch for p in score.parts for n in p.notes])
    cons = Constraints(key=notes_key, meter=score.meter, bars=total, voices=len(score.parts),
                       token_key=conditioning_key(key), chromatic=False)
    if len(score.parts) == 1:  # the new bars keep the style's rhythm and end their phrases, and the piece, on cadences
        pk = 1 if score.pickup else 0
        cons = replace(cons, **edit_craft(style, notes_key, score.meter, total - pk, range(len(layout) + 1 - pk, total - pk + 1),
                                          pk, seed))
    t0 = time.perf_counter()
    out = engine.sample(seq, cons, seed=seed, hooks=hooks)
    new = tok.decode(out)
    parts = []
    for i, p in enumerate(score.parts):
        added = [n for n in (new.parts[i].notes if i < len(new.parts) else []) if n.onset >= end - 1e-6]
        parts.append(Part(list(p.notes) + added, p.name, p.program))  # unnamed: named on export
    bar_meters, added_bars = new.bar_meters, new.bars - len(layout)
    if whole is not score:  # the user's bars as they are, split ones included, then the new ones
        q = float(score.meter.bar_quarters)
        bar_meters = [list(b) for b in score.bar_meters] + (
            new.bar_meters[len(layout):] if new.bar_meters else
            [[round(end + k * q, 6), str(score.meter)] for k in range(added_bars)])
    result = Score(parts, key, score.meter, score.bpm, score.bars + added_bars, score.title, style, {},
                   list(score.chords), bar_meters=bar_meters)
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
              engine=None, hooks: Hooks | None = None, numerals: bool = False) -> Score:
    """The melody of ``part`` harmonized (see the module doc). The Roman numerals of what was
    written always go into the meta (music.json); ``numerals`` also prints them under the bass."""
    as_ = as_.lower()
    if as_ not in ("satb", "chords", "accompaniment"):
        raise RequestError(f"unknown harmonization {as_!r}; choose satb, chords or accompaniment")
    melody = melody_line(score, part)
    key = score.key if score.key else analyze_key(Score([melody], Key("C", "major"), score.meter, score.bpm, score.bars))
    if as_ == "satb":
        result = _satb(score, melody, key, style, seed, engine, hooks)
    else:
        result = _chords(score, melody, key, style, seed, with_pattern=as_ == "accompaniment")
    annotate(result, numerals)  # (the sampler's four parts, SATB_METHOD "model", have no chords to read)
    return result


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


def _chords(score: Score, melody: Part, key: Key, style: str | None, seed: int, with_pattern: bool) -> Score:
    """The melody with a chord plan (``symphony.music.chordplan``): its symbols, and the chords
    and bass on a grand staff (sustained, or in the style's dance pattern for accompaniment)."""
    layout = bar_layout(score)
    plan = plan_chords(melody.notes, key, score.meter, layout)
    st_name = get_style(style).name if style else (score.style or "german")
    pattern = with_pattern and st_name not in SUSTAINED_STYLES
    parts = [Part(list(melody.notes), melody.name or "Melody", melody.program),
             Part(voice(plan, melody.notes, layout, pattern), "Piano", 0)]
    result = Score(parts, key, score.meter, score.bpm, score.bars, score.title, score.style, {},
                   [(c.onset, c.chord.figure) for c in plan.chords], bar_meters=score.bar_meters)
    result.meta["harmony"] = plan_meta(plan)
    record_edit(result, "harmonize", {"as": "accompaniment" if with_pattern else "chords", "style": st_name},
                score, seed, plan.seconds)
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
                   bar_meters=score.bar_meters, key_signature=score.key_signature)  # written while the key stays the file's
    record_edit(result, "transform", params, score, 0, 0.0)
    return result
