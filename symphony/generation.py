"""The generate task: a prompt and explicit attributes in, a new Score out.

Explicit arguments always win over what the prompt says; what was understood and what was
defaulted is recorded in ``score.meta["explanation"]``.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import RequestError, StyleError
from .prompt import parse_prompt
from .sampling import Constraints, sample
from .score import Score, analyze_key
from .styles import STYLES, get_style
from .theory import Key, parse_key, parse_meter
from .train import DEFAULT_CHECKPOINT, load_checkpoint

MAX_BARS = 512
DEFAULT_STYLE = "celtic"
DEFAULT_KEYS = {"chinese": "G gong", "german": "F major", "celtic": "D major", "chorale": "G major",
                "renaissance": "F major"}
VOICES = {"chorale": 4, "renaissance": 4}
KEY_ATTEMPTS = 4  # samples tried until music21's key analysis of the output agrees

_MODELS: dict[str, tuple] = {}


def get_model(checkpoint: str | Path | None = None):
    """Load (once per process) and return (model, tokenizer, meta)."""
    path = str(checkpoint or DEFAULT_CHECKPOINT)
    if path not in _MODELS:
        _MODELS[path] = load_checkpoint(path)
    return _MODELS[path]


@dataclass
class Request:
    style: str
    key: str
    meter: str
    tempo: float
    bars: int
    seed: int
    voices: int
    prompt: str = ""


def resolve(prompt: str = "", style: str | None = None, key: str | None = None,
            meter: str | None = None, tempo: float | None = None, bars: int | None = None,
            seed: int | None = None) -> tuple[Request, list[str]]:
    """Combine the prompt's attributes with explicit ones and style defaults (validated)."""
    u = parse_prompt(prompt or "")
    a, why = u.attributes, list(u.explanation)
    if style is not None:
        style = get_style(style).name
    else:
        style = a.get("style")
        if style is None:
            style = DEFAULT_STYLE
            why.append(f"no style given → {style} (default)")
    st = STYLES[style]
    key_txt = key or a.get("key")
    if key_txt is None:
        key_txt = DEFAULT_KEYS.get(style, "C major")
        why.append(f"no key given → {key_txt} (usual for {style})")
    k = parse_key(key_txt)
    meter_txt = meter or a.get("meter") or st.default_meter
    m = parse_meter(meter_txt)
    if tempo is None:
        tempo = a.get("tempo") or round(a.get("genre_bpm", st.default_bpm) * u.tempo_factor)
    if not 20 <= float(tempo) <= 300:
        raise RequestError(f"tempo {tempo} bpm is outside 20-300")
    if bars is None:
        bars = a.get("bars", 16)
    if not isinstance(bars, int) or bars <= 0 or bars > MAX_BARS:
        raise RequestError(f"--bars must be between 1 and {MAX_BARS}, got {bars}")
    if seed is None:
        seed = int(hashlib.sha1(f"{prompt}|{style}|{k}|{m}|{tempo}|{bars}".encode()).hexdigest()[:8], 16)
    req = Request(style, str(k), str(m), float(tempo), int(bars), int(seed), VOICES.get(style, 1), prompt or "")
    return req, why


def key_matches(requested: Key, found: Key) -> bool:
    """music21's analysis knows major and minor: modes count by their third (dorian ~ minor)."""
    return requested.tonic_pc == found.tonic_pc and (found.mode == "minor") == requested.is_minor_like


def generate_request(req: Request, checkpoint: str | Path | None = None, temperature: float = 1.0,
                     top_p: float = 0.95, explanation: list[str] | None = None) -> Score:
    model, tok, meta = get_model(checkpoint)
    if f"Style_{req.style}" not in tok.ids:
        raise StyleError(f"the model was not trained on style {req.style!r} "
                         f"(it knows {', '.join(tok.config.styles)})")
    key, meter = parse_key(req.key), parse_meter(req.meter)
    # The model was trained on major/minor labels; other modes are conditioned on the nearest
    # of the two and held to their own scale by the pitch mask.
    cond_key = Key(key.tonic, "minor" if key.is_minor_like else "major")
    header = tok.header(req.style, cond_key, meter, req.tempo, req.bars, req.voices)
    cons = Constraints(key=key, meter=meter, bars=req.bars, voices=req.voices)
    best, model_s = None, 0.0
    for attempt in range(KEY_ATTEMPTS):
        t0 = time.perf_counter()
        seq = sample(model, tok, header, cons, seed=req.seed + 7919 * attempt, temperature=temperature,
                     top_p=top_p)
        model_s += time.perf_counter() - t0
        score = tok.decode(seq)
        found = analyze_key(score)
        best = (score, seq, attempt + 1, found)
        if key_matches(key, found):
            break
    score, seq, attempts, found = best
    score.key, score.meter, score.bpm, score.style = key, meter, req.tempo, req.style
    st = get_style(req.style)
    names = ["Soprano", "Alto", "Tenor", "Bass"] if req.voices == 4 else ["Melody"]
    for i, p in enumerate(score.parts):
        p.program = st.program
        p.name = names[i] if i < len(names) else f"Voice {i + 1}"
    _hold_last_notes(score)
    score.title = req.prompt or f"{req.style.title()} piece in {key}"
    score.meta = {"request": asdict(req), "tokens": len(seq), "model_seconds": round(model_s, 4),
                  "attempts": attempts, "key_analysis": str(found),
                  "model": {"checkpoint": str(checkpoint or DEFAULT_CHECKPOINT),
                            "tokens_version": meta.get("tokens_version")},
                  "explanation": list(explanation or [])}
    return score


def _hold_last_notes(score: Score) -> None:
    """Let the final note of each part ring to the end of the last bar."""
    end = score.bars * score.bar_quarters
    for p in score.parts:
        if p.notes:
            last = max(p.notes, key=lambda n: n.onset)
            if last.end < end:
                last.duration = end - last.onset


def generate(prompt: str = "", *, style: str | None = None, key: str | None = None,
             meter: str | None = None, tempo: float | None = None, bars: int | None = None,
             seed: int | None = None, checkpoint: str | Path | None = None,
             temperature: float = 1.0, top_p: float = 0.95) -> Score:
    """Compose a new piece. Returns the Score; ``score.meta`` holds the request and explanation.

    >>> score = generate("a lively Irish jig in D major", bars=8, seed=1)  # doctest: +SKIP
    """
    req, why = resolve(prompt, style, key, meter, tempo, bars, seed)
    return generate_request(req, checkpoint, temperature, top_p, explanation=why)


def describe(score: Score) -> dict:
    """The music.json record of a generated score."""
    return {"prompt": score.meta.get("request", {}).get("prompt", ""),
            "attributes": {"style": score.style, "key": str(score.key), "meter": str(score.meter),
                           "tempo_bpm": score.bpm, "bars": score.bars, "voices": len(score.parts),
                           "seed": score.meta.get("request", {}).get("seed")},
            "explanation": score.meta.get("explanation", []),
            "notes": score.n_notes,
            "generation": {k: score.meta.get(k) for k in ("tokens", "model_seconds", "attempts", "key_analysis", "model")}}
