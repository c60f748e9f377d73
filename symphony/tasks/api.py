"""One task API: a typed request in, a typed result out, on an Engine.

Every way of using Symphony goes through here: the ``symphony`` CLI, the Python API
(``symphony.generate``, ``symphony.run``) and the coming HTTP server. A request names what to do
(``Options`` composes a new piece; the edit requests change a user's score); ``run`` resolves it
(options > prompt text > melody > mood > picture > style defaults, ``tasks.requests``), runs it
on the engine and returns a ``TaskResult``: the score, the attributes it was made with, the
explanation of what was understood and the provenance of an edit.

``TaskHooks`` watch and steer a task while it runs: ``progress(done, total)``, ``on_event`` for
the notes of every finished bar as they are sampled (``{"type": "note", ...}``; a
``{"type": "restart"}`` when the key check draws the piece again), and ``cancel`` (a
threading.Event) to stop between two tokens (``errors.Cancelled``).

>>> result = run(Options("a lively Irish jig in D major", bars=8, seed=1))      # doctest: +SKIP
>>> result.score.key, result.attributes["meter"]                                # doctest: +SKIP
(Key(tonic='D', mode='major'), '6/8')
>>> run(InfillRequest(result.score, bars="5-8", seed=2)).provenance["operation"]  # doctest: +SKIP
'infill'
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from symphony.decoding.sampler import Hooks
from symphony.errors import RequestError
from symphony.music.numerals import annotate as annotate_numerals
from symphony.music.score import Score
from symphony.tasks import edit, infill, melody, variation
from symphony.tasks.common import describe
from symphony.tasks.engine import Engine
from symphony.tasks.generate import generate_request, pickup_bar
from symphony.tasks.limits import MAX_COUNT
from symphony.tasks.requests import require_request, resolve
from symphony.understanding.prompt import check_prompt


@dataclass
class Options:
    """Everything a user can ask of a new piece, spelled once: the CLI's flags, the Python API's
    keywords and the HTTP API's fields are these names (``range`` is ``--range``)."""
    prompt: str = ""
    style: str | None = None
    key: str | None = None
    meter: str | None = None
    tempo: float | None = None
    bars: int | None = None
    seed: int | None = None
    chords: str | None = None
    accompany: bool = False
    form: str | None = None
    range: str | None = None
    density: float | None = None
    emotion: str | None = None
    valence: float | None = None
    arousal: float | None = None
    image: str | os.PathLike | None = None
    melody: str | os.PathLike | None = None
    melody_use: str = "continue"
    melody_harmony: str | None = None
    guidance: float | None = None
    repeats: bool = True
    end_on_tonic: bool = True
    count: int = 1
    temperature: float = 1.0
    top_p: float = 0.95
    numerals: bool = False  # Roman numerals under the bass (chorales, --accompany)

    def describing(self) -> dict:
        """The options that describe the music (an empty request names none of them)."""
        return {k: getattr(self, k) for k in ("style", "key", "meter", "tempo", "bars", "chords", "form", "range",
                                              "density", "emotion", "valence", "arousal", "image")}


@dataclass
class ContinueRequest:
    score: Score
    bars: int = 8
    style: str | None = None
    seed: int = 0


@dataclass
class InfillRequest:
    score: Score
    bars: str | tuple[int, int]  # the user's bar numbers, "5-8"
    part: int | None = None  # 0-based; None: all parts
    style: str | None = None
    seed: int = 0
    candidates: int = infill.CANDIDATES


@dataclass
class BridgeRequest:
    first: Score
    second: Score
    bars: int = 4
    style: str | None = None
    seed: int = 0
    candidates: int = infill.CANDIDATES


@dataclass
class HarmonizeRequest:
    score: Score
    as_: str = "satb"  # satb, chords, accompaniment
    style: str | None = None
    part: int = 0
    seed: int = 0
    numerals: bool = False  # print the Roman numerals under the bass (they are always in the meta)


@dataclass
class VaryRequest:
    score: Score
    amount: float = 0.5
    keep: str | None = None  # rhythm, contour
    part: int = 0
    seed: int = 0


@dataclass
class RestyleRequest:
    score: Score
    style: str
    meter: str | None = None
    mode: str | None = None
    part: int = 0
    seed: int = 0


@dataclass
class TransformRequest:
    score: Score
    transpose: int = 0
    key: str | None = None
    tempo: float | None = None


EditRequest = (ContinueRequest | InfillRequest | BridgeRequest | HarmonizeRequest | VaryRequest
               | RestyleRequest | TransformRequest)
Request = Options | EditRequest


@dataclass
class TaskHooks:
    progress: Callable[[int, int], None] | None = None  # (done, total): pieces of -n, else bars
    on_event: Callable[[dict], None] | None = None  # streamed notes, bar by bar
    cancel: threading.Event | None = None


@dataclass
class TaskResult:
    """What a task made: the score, its attributes, what was understood and, for an edit, the
    operation that made it from which input (``provenance``). ``record`` is music.json."""
    score: Score
    attributes: dict
    explanation: list[str]
    provenance: dict | None = None
    record: dict = field(default_factory=dict)


def result_of(score: Score, melody_input: bool = False) -> TaskResult:
    record = describe(score)
    if score.provenance:
        record["edit"] = score.provenance
    if melody_input:
        record["melody"] = score.meta.get("melody")
    return TaskResult(score, record["attributes"], list(record["explanation"]), score.provenance, record)


def run(request: Request, engine: Engine | str | Path | None = None,
        hooks: TaskHooks | None = None) -> TaskResult:
    """Run one task on ``engine`` (an Engine, a checkpoint path, or None for the shipped model)."""
    if isinstance(request, Options):
        results = run_many(replace(request, count=1), engine, hooks)
        return results[0]
    hooks = hooks or TaskHooks()
    r = request
    if not isinstance(r, TransformRequest):
        engine = Engine.of(engine)  # loaded first: its checkpoint's own styles resolve by name
    total = (r.score.bars + r.bars if isinstance(r, ContinueRequest)
             else r.score.bars if isinstance(r, (HarmonizeRequest, VaryRequest, RestyleRequest)) else 0)
    sh = Hooks(cancel=hooks.cancel, on_bar=_bar_progress(hooks, total))
    if isinstance(r, ContinueRequest):
        score = edit.continue_piece(r.score, r.bars, r.style, r.seed, engine, hooks=sh)
    elif isinstance(r, InfillRequest):
        score = infill.infill(r.score, r.bars, r.part, r.style, r.seed, engine, candidates=r.candidates, hooks=sh)
    elif isinstance(r, BridgeRequest):
        score = infill.bridge(r.first, r.second, r.bars, r.style, r.seed, engine, candidates=r.candidates, hooks=sh)
    elif isinstance(r, HarmonizeRequest):
        score = edit.harmonize(r.score, r.as_, r.style, r.part, r.seed, engine, hooks=sh, numerals=r.numerals)
    elif isinstance(r, VaryRequest):
        amount, keep = variation.check_vary(r.amount, r.keep)
        score = variation.vary(r.score, amount, keep, r.part, r.seed, engine, hooks=sh)
    elif isinstance(r, RestyleRequest):
        variation.check_restyle(r.style, r.meter, r.mode)
        score = variation.restyle(r.score, r.style, r.meter, r.mode, r.part, r.seed, engine, hooks=sh)
    elif isinstance(r, TransformRequest):
        score = edit.transform(r.score, r.transpose, r.key, r.tempo)
    else:
        raise RequestError(f"unknown request {type(request).__name__}")
    return result_of(score)


def run_many(options: Options, engine: Engine | str | Path | None = None,
             hooks: TaskHooks | None = None) -> list[TaskResult]:
    """``options.count`` new pieces (seeds seed, seed + 1, ...), each resolved with its seed."""
    hooks = hooks or TaskHooks()
    o = replace(options, prompt=check_prompt(options.prompt))  # control characters out, length capped
    if not 1 <= o.count <= MAX_COUNT:
        raise RequestError(f"-n must be between 1 and {MAX_COUNT}, got {o.count}")
    sh = Hooks(cancel=hooks.cancel)
    if o.melody is not None:
        for flag, value in (("--chords", o.chords), ("--accompany", o.accompany or None), ("--range", o.range),
                            ("--density", o.density)):
            if value is not None:
                raise RequestError(f"{flag} cannot be combined with --melody (the melody gives the notes; "
                                   "see docs/melody.md)")
        engine = Engine.of(engine)
        scores = melody.compose_from_melody(
            o.melody, o.melody_use, o.prompt, style=o.style, key=o.key, meter=o.meter, tempo=o.tempo, bars=o.bars,
            seed=o.seed, form=o.form, harmony=o.melody_harmony, emotion=o.emotion, valence=o.valence,
            arousal=o.arousal, image=o.image, count=o.count, end_on_tonic=o.end_on_tonic, engine=engine, hooks=sh)
        return [result_of(s, melody_input=True) for s in scores]
    require_request(o.prompt, **o.describing())
    engine = Engine.of(engine)  # loaded first: its styles are the ones a request may name
    def resolved(seed: int | None):
        return resolve(o.prompt, o.style, o.key, o.meter, o.tempo, o.bars, seed, chords=o.chords,
                       accompany=o.accompany, form=o.form, range=o.range, density=o.density, emotion=o.emotion,
                       valence=o.valence, arousal=o.arousal, end_on_tonic=o.end_on_tonic, image=o.image,
                       guidance=o.guidance, repeats=o.repeats, styles=engine.styles)
    req, why = resolved(o.seed)
    if o.numerals and req.voices != 4 and not req.accompany:
        raise RequestError("--numerals needs harmony to read: a chorale (--style chorale) or --accompany")
    out = []
    for i in range(o.count):
        # each piece draws the attributes left open with its own seed (twenty pieces, twenty keys)
        req_i, why = (req, why) if i == 0 else resolved(req.seed + i)
        if o.count == 1:
            # (the bars as sampled: a pickup bar, when the piece opens with one, then those asked for)
            sh = Hooks(cancel=hooks.cancel, on_bar=_note_stream(hooks, req_i.bars, engine.tokenizer, int(pickup_bar(req_i))))
        score = generate_request(req_i, engine, o.temperature, o.top_p, explanation=why, hooks=sh)
        if o.numerals:
            annotate_numerals(score, show=True)
        out.append(result_of(score))
        if hooks.progress and o.count > 1:
            hooks.progress(i + 1, o.count)
    return out


def generate(prompt: str = "", *, checkpoint: str | Path | None = None, engine: Engine | None = None,
             **options) -> Score:
    """Compose a new piece and return its Score (the options are ``Options``' fields).

    >>> score = generate("a lively Irish jig in D major", bars=8, seed=1)  # doctest: +SKIP
    >>> score = generate(style="chinese:0.6,celtic:0.4", chords="G C D G", form="AABB")  # doctest: +SKIP
    >>> score = generate(melody="tune.wav", melody_use="develop", form="ABA")  # doctest: +SKIP
    """
    known = {f.name for f in fields(Options)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(f"generate() got unexpected options: {', '.join(unknown)}")
    return run(Options(prompt, **options), engine or checkpoint).score


def _bar_progress(hooks: TaskHooks, total: int) -> Callable[[int, list[int]], None] | None:
    """Bars sampled so far of an edit (``total`` 0: not known in advance, e.g. an infill)."""
    if hooks.progress is None:
        return None
    return lambda done, _seq: hooks.progress(min(done, total) if total else done, total)


def _note_stream(hooks: TaskHooks, bars: int, tok, pickup_bar: int = 0) -> Callable[[int, list[int]], None] | None:
    """Sampler bar callback -> note events of the bars finished since the last call. ``bars`` counts
    from bar 1, as the request did; ``pickup_bar`` 1: a pickup bar 0 is sampled before them."""
    total_bars = bars + pickup_bar
    if hooks.on_event is None and hooks.progress is None:
        return None
    state = {"sent": 0}

    def on_bar(done: int, seq: list[int]) -> None:
        if done < state["sent"]:  # a new attempt (the key check drew the piece again)
            state["sent"] = 0
            if hooks.on_event:
                hooks.on_event({"type": "restart"})
        if done <= state["sent"]:
            return
        if hooks.on_event:
            partial = tok.decode(list(seq))
            if state["sent"] == 0:  # the grid first: a studio draws the bars before their notes
                hooks.on_event({"type": "attributes", "key": str(partial.key), "meter": str(partial.meter),
                                "tempo": partial.bpm, "bars": bars, "pickup_bar": pickup_bar})
            for event in _bar_notes(partial, state["sent"], done):
                hooks.on_event(event)
        state["sent"] = done
        if hooks.progress:
            hooks.progress(done, total_bars)
    return on_bar


def _bar_notes(partial, first_bar: int, end_bar: int) -> list[dict]:
    """The notes that start in bars first_bar..end_bar-1 (0-based) of a partial score."""
    bq = partial.bar_quarters
    lo, hi = first_bar * bq, end_bar * bq
    return [{"type": "note", "part": i, "pitch": n.pitch, "onset": n.onset, "duration": n.duration}
            for i, p in enumerate(partial.parts) for n in sorted(p.notes, key=lambda n: n.onset)
            if lo - 1e-6 <= n.onset < hi - 1e-6]
