"""Composing with a user's melody (``symphony generate --melody FILE``): the recording is
transcribed (``understanding.audio``), then continued, harmonized or developed as the theme of a
phrase form. Precedence of what the piece is made with: options > the prompt's explicit terms >
a mood (an emotion option > mood words > a picture) > the melody's own key, meter and tempo."""
from __future__ import annotations

import os
import time
from pathlib import Path

from symphony.decoding.sampler import Constraints, Hooks
from symphony.errors import RequestError, StyleError
from symphony.model.tokens import conditioning_key
from symphony.music.form import parse_form, plan_form
from symphony.music.score import Note, Part, Score
from symphony.music.styles import STYLES, get_style
from symphony.music.theory import SHARP_NAMES, parse_key, parse_meter
from symphony.tasks.common import record_edit
from symphony.tasks.edit import continue_piece, detect_style, harmonize, transform
from symphony.tasks.engine import Engine
from symphony.tasks.requests import mood_axes, parse_style_blend
from symphony.understanding.audio import transcribe
from symphony.understanding.emotion import emotional_key, tempo_factor
from symphony.understanding.image import analyze
from symphony.understanding.prompt import parse_prompt

MELODY_USES = ("continue", "harmonize", "develop")


HARMONIES = ("satb", "chords", "accompaniment")


CONTINUE_BARS = 8  # bars added after the melody when --bars is not given


DEFAULT_FORM = "ABA"


MELODY_RANGE = (57, 88)  # the melody range of the model's sampler (DEFAULT_RANGES[1])


SOPRANO_RANGE = (60, 81)


def fit_register(score: Score, lo: int, hi: int) -> int:
    """Move the melody by whole octaves so that as many notes as possible lie in [lo, hi]
    (a man humming an octave below a flute); returns the shift in semitones."""
    pitches = [n.pitch for n in score.all_notes()]
    best = min(range(-3, 4), key=lambda k: (sum(not lo <= p + 12 * k <= hi for p in pitches), abs(k)))
    if best:
        for n in score.all_notes():
            n.pitch += 12 * best
    return 12 * best


def _fingerprint_bytes(path) -> str:
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def _pitch_name(midi: int) -> str:
    return f"{SHARP_NAMES[midi % 12]}{midi // 12 - 1}"


def compose_from_melody(melody: str | os.PathLike, use: str = "continue", prompt: str = "", *,
                        style: str | None = None, key: str | None = None, meter: str | None = None,
                        tempo: float | None = None, bars: int | None = None, seed: int | None = None,
                        form: str | None = None, harmony: str | None = None, emotion: str | None = None,
                        valence: float | None = None, arousal: float | None = None, image=None,
                        count: int = 1, end_on_tonic: bool = True, engine=None,
                        hooks: Hooks | None = None) -> list[Score]:
    """``symphony generate --melody FILE``: transcribe the recording, then continue it,
    harmonize it or develop it as a theme (``use``). Returns ``count`` scores (seeds seed,
    seed + 1, ...), each with ``explanation`` saying where every attribute came from.

    Precedence: explicit options (key, meter, tempo, style, bars, form) > the text prompt's
    explicit terms > a mood (an emotion option > mood words in the text > a picture), which
    turns the melody's mode major or minor and scales its tempo > what the melody itself has
    (its key, meter and tempo as transcribed) > defaults."""
    use = (use or "continue").lower()
    if use not in MELODY_USES:
        raise RequestError(f"unknown --melody-use {use!r}; choose {', '.join(MELODY_USES)}")
    if harmony is not None and harmony.lower() not in HARMONIES:
        raise RequestError(f"unknown --melody-harmony {harmony!r}; choose {', '.join(HARMONIES)}")
    if harmony is not None and use != "harmonize":
        raise RequestError("--melody-harmony goes with --melody-use harmonize")
    if form is not None and use != "develop":
        raise RequestError("--form goes with --melody-use develop (the melody is then the first section)")
    if bars is not None and (not isinstance(bars, int) or not 1 <= bars <= 512):
        raise RequestError(f"--bars must be between 1 and 512, got {bars}")
    if not 1 <= count <= 100:
        raise RequestError(f"-n must be between 1 and 100, got {count}")
    if key is not None:
        parse_key(key)  # a bad key fails before the audio is read
    if meter is not None:
        parse_meter(meter)
    if tempo is not None and not 20 <= float(tempo) <= 300:
        raise RequestError(f"tempo {tempo} bpm is outside 20-300")
    why: list[str] = []
    u = parse_prompt(prompt) if prompt and prompt.strip() else None
    text = u.attributes if u else {}
    if u:
        why += [f"text: {line}" if not line.startswith(("text:", "option:", "default:")) else line
                for line in u.explanation]
    mood = _melody_mood(emotion, valence, arousal, text, image, why)

    meter_req, meter_src = (meter, "option") if meter else (text.get("meter"), "text") if text.get("meter") else (None, None)
    tempo_req, tempo_src = (float(tempo), "option") if tempo is not None else \
        (float(text["tempo"]), "text") if text.get("tempo") else (None, None)
    tr = transcribe(melody, meter=meter_req, tempo=tempo_req)
    name = Path(melody).name
    heard_key = tr.score.meta.get("detected_key", str(tr.key))
    heard_meter = str(tr.meter) if meter_req is None else None
    why.insert(0, f"melody: {name} → {len(tr.score.parts[0].notes)} notes, {tr.tempo:g} bpm, {tr.meter}, "
               f"{tr.key}, {tr.score.bars} bars"
               + (f" (tuning {tr.tuning_cents:+.0f} cents)" if abs(tr.tuning_cents) >= 5 else ""))
    if meter_req:
        why.append(f"{meter_src}: meter {meter_req} (the melody was fitted to its bars)")
    else:
        why.append(f"melody: meter {heard_meter}")
    score = tr.score
    score.meta = {}
    # key: option > text (a key, or a mode on the melody's tonic) > mood (mode colour) > melody
    target, key_src = None, None
    if key:
        target, key_src = parse_key(key), "option"
    elif text.get("key"):
        target, key_src = parse_key(text["key"]), "text"
    elif text.get("mode"):
        target, key_src = parse_key(f"{tr.key.tonic} {text['mode']}"), "text"
    elif mood is not None:
        target, key_src = emotional_key(tr.key, mood["valence"]), mood["source"]
    if target is not None and (target.tonic_pc, target.mode) != (tr.key.tonic_pc, tr.key.mode):
        moved = transform(score, key=str(target))
        score.parts, score.key = moved.parts, moved.key
        why.append(f"{key_src}: key {target} (the melody, heard in {heard_key}, moved there with its "
                   "scale degrees kept)")
    elif target is not None:
        score.key = target
        why.append(f"{key_src}: key {target} (the melody's own"
                   + (", its mode fits the mood)" if mood is not None and key_src == mood["source"] else ")"))
    else:
        why.append(f"melody: key {score.key}")
    # tempo: option > text > mood (scales the melody's) > melody
    if tempo_req is not None:
        bpm = tempo_req
        why.append(f"{tempo_src}: tempo {bpm:g} bpm")
    elif mood is not None:
        bpm = float(round(tr.tempo * tempo_factor(mood["arousal"])))
        why.append(f"{mood['source']}: tempo {bpm:g} bpm = the melody's {tr.tempo:g} × "
                   f"{tempo_factor(mood['arousal']):.2f} (arousal {mood['arousal']:+.2f})")
    else:
        bpm = tr.tempo
        why.append(f"melody: tempo {bpm:g} bpm")
    if not 20 <= bpm <= 300:
        raise RequestError(f"the melody's tempo {bpm:g} bpm is outside 20-300; give --tempo")
    score.bpm = float(bpm)
    # style: option > text > the style the model finds likeliest for the melody
    st_name, st_src = None, None
    if style:
        weights = parse_style_blend(style)
        st_name, st_src = max(weights, key=weights.get), "option"
        if len(weights) > 1:
            why.append(f"option: style blends are not used with --melody; the heaviest, {st_name}, is")
    elif text.get("style"):
        st_name, st_src = text["style"], "text"
    if use == "harmonize":
        as_ = (harmony or ("satb" if st_name == "chorale" else "chords")).lower()
    else:
        as_ = None
    if st_name and as_ not in ("chords", "accompaniment"):  # the model must know the style
        tok = Engine.of(engine).tokenizer
        if f"Style_{st_name}" not in tok.ids:
            raise StyleError(f"the model was not trained on style {st_name!r} "
                             f"(it knows {', '.join(tok.config.styles)})")
    lo, hi = SOPRANO_RANGE if as_ == "satb" else MELODY_RANGE
    shift = fit_register(score, lo, hi)
    if shift:
        pitches = [n.pitch for n in score.all_notes()]
        why.append(f"melody: moved {abs(shift) // 12} octave{'s' if abs(shift) > 12 else ''} "
                   f"{'up' if shift > 0 else 'down'} into the melody range ({_pitch_name(min(pitches))}-"
                   f"{_pitch_name(max(pitches))})")
    if seed is None:
        import hashlib
        seed = int(hashlib.sha1(f"{_fingerprint_bytes(melody)}|{use}|{prompt}".encode()).hexdigest()[:8], 16)
    fp = _fingerprint_bytes(melody)
    score.meta, score.source, score.fingerprint = {}, name, fp
    if bars is None and text.get("bars"):
        bars = int(text["bars"])
        why.append(f"text: {bars} bars")
    if form is None and use == "develop" and text.get("form"):
        form = text["form"]
        why.append(f"text: form {form}")
    program = text.get("program")
    out = []
    for i in range(count):
        s_i = seed + i
        melody_copy = Score([Part([Note(n.pitch, n.onset, n.duration, n.velocity) for n in p.notes], p.name, p.program)
                             for p in score.parts], score.key, score.meter, score.bpm, score.bars, score.title,
                            st_name, dict(score.meta), source=score.source, fingerprint=score.fingerprint)
        lines = list(why)
        if use == "continue":
            total = bars if bars is not None else score.bars + CONTINUE_BARS
            if total <= score.bars:
                raise RequestError(f"the melody already fills {score.bars} bars; ask for more with --bars "
                                   f"(e.g. --bars {score.bars + CONTINUE_BARS})")
            result = continue_piece(melody_copy, total - score.bars, st_name, s_i, engine, hooks=hooks)
            lines.append(f"use: continue: the melody's {score.bars} bars, then {total - score.bars} new bars "
                         f"({total} in all{'' if bars is not None else ', default +' + str(CONTINUE_BARS)})")
        elif use == "harmonize":
            result = harmonize(melody_copy, as_, st_name, 0, s_i, engine, hooks=hooks)
            lines.append(f"use: harmonize as {as_}"
                         + ("" if harmony else f" (default{' for chorales' if as_ == 'satb' else ''}; "
                                                "--melody-harmony satb|chords|accompaniment)"))
            if bars is not None and bars != score.bars:
                lines.append(f"--bars {bars} not used: a harmonization keeps the melody's {score.bars} bars")
        else:
            result = develop_theme(melody_copy, form or DEFAULT_FORM, bars, st_name, s_i, engine, end_on_tonic,
                                       hooks=hooks)
            f = result.meta["form"]
            lines.append(f"use: develop: the melody is section {f['sections'][0]['label']} of "
                         f"{f['form']}{'' if form else ' (default form)'}, {f['section_bars']} bars a section; "
                         + "; ".join(f['notes']))
        if st_src:
            lines.append(f"{st_src}: style {result.style}")
        elif use != "harmonize" and result.style:
            lines.append(f"melody: style {result.style} (the style the model finds likeliest for the melody)")
        if program is not None:  # an instrument named in the text
            result.parts[0].program = program
            lines.append(f"text: instrument {text.get('instrument', program)} for the melody")
        elif result.style in STYLES and not (use == "harmonize" and as_ == "satb"):
            result.parts[0].program = STYLES[result.style].program
        result.title = f"{use.title()} of the melody in {name}"
        result.explanation = lines
        result.meta = {**(result.meta or {}),
                       "request": {"prompt": prompt or "", "seed": s_i, "melody": name, "melody_use": use,
                                   **({"harmony": as_} if as_ else {}),
                                   **({"form": result.meta.get("form", {}).get("form")} if use == "develop" else {})},
                       "melody": {**tr.to_dict(), "file": name, "fingerprint": fp,
                                  "key_heard": heard_key, "register_shift": shift,
                                  "melody_notes": len(score.parts[0].notes)}}
        out.append(result)
    return out


def _melody_mood(emotion, valence, arousal, text: dict, image, why: list[str]) -> dict | None:
    """The mood that shapes the melody's mode and tempo, by the precedence every request uses
    (``requests.mood_axes``). A picture is always read (a bad file is an error) and recorded."""
    pic = analyze(image) if image is not None else None
    axes = mood_axes(emotion, valence, arousal, text, pic)
    if axes is None:
        return None
    if axes.source == "option":
        why.append(f"option: mood valence {axes.valence:+.2f}, arousal {axes.arousal:+.2f}")
    for axis, value in axes.borrowed.items():
        why.append(f"picture: {axis} {value:+.2f} (the text's mood words do not speak of {axis})")
    if pic is not None and axes.source == "picture":
        why.extend(f"picture: {x}" if not x.startswith("picture") else x for x in pic.explanation[:1])
    elif pic is not None and not axes.borrowed:
        why.append(f"picture: {pic.explanation[0]} — not used: the {axes.source}'s mood wins")
    return {"valence": axes.valence, "arousal": axes.arousal, "source": axes.source}


def develop_theme(melody: Score, form: str = DEFAULT_FORM, bars: int | None = None, style: str | None = None,
                  seed: int = 0, engine=None, end_on_tonic: bool = True, hooks: Hooks | None = None) -> Score:
    """The melody as the first section of a phrase form (ABA, AABA, AA'BA ...): later
    statements of its letter repeat it note for note (a primed one, its first half), the other
    sections are composed by the model having read it, every section ends on a cadence note.

    The melody's bars are given to the sampler as they are (``Constraints.given``); returns of
    the theme are given the same tokens; bars the model composed inside the first section are
    repeated with ``Constraints.copy_from``. When the theme's last bar does not end on the
    tonic, the final bar of the piece is composed (the theme returns, then cadences)."""
    items = parse_form(form)
    n = len(items)
    m = melody.bars
    if bars is None:
        size = m
    else:
        if bars % n:
            raise RequestError(f"{bars} bars cannot be split into the {n} equal sections of form {form!r}")
        size = bars // n
        if size < m:
            raise RequestError(f"the melody fills {m} bars but form {form} with {bars} bars has sections of "
                               f"{size}; use at least --bars {m * n}")
    total = size * n
    if total > 512:
        raise RequestError(f"form {form} with sections of {size} bars would need {total} bars (at most 512)")
    engine = Engine.of(engine)
    tok = engine.tokenizer
    style = get_style(style).name if style else detect_style(melody, engine)
    key = melody.key
    ck = conditioning_key(key)
    plan = plan_form(form, total, key, end_on_tonic)
    notes = sorted(melody.parts[0].notes, key=lambda x: x.onset)
    src = Score([Part(notes)], ck, melody.meter, melody.bpm, m, style=style)
    enc = tok.encode(src, style=style, pos_bars=frozenset(range(m)))
    per_bar: list[list[int]] = []
    for t in enc[tok.HEADER_LEN:-1]:
        if t == tok.bar:
            per_bar.append([])
        else:
            per_bar[-1].append(t)
    given = {b + 1: toks for b, toks in enumerate(per_bar) if toks}
    tonic_end = (max(notes, key=lambda x: x.onset).pitch - key.tonic_pc) % 12 == 0
    copy_from, notes_out = {}, []
    for dst, src_bar in sorted(plan.copy_from.items()):
        if src_bar in given:
            if dst == total and end_on_tonic and not tonic_end:
                notes_out.append(f"the final bar cadences on the tonic instead of repeating bar {src_bar}")
                continue
            given[dst] = given[src_bar]
        else:
            copy_from[dst] = src_bar
    pitches = [x.pitch for x in notes]
    lo, hi = min(MELODY_RANGE[0], min(pitches)), max(MELODY_RANGE[1], max(pitches))
    cons = Constraints(key=key, meter=melody.meter, bars=total, voices=1, ranges=[(lo, hi)],
                       end_on_tonic=end_on_tonic, cadence_bars=plan.cadence_bars,
                       copy_from=copy_from or None, given=given, token_key=ck)
    header = tok.header(style, ck, melody.meter, melody.bpm, total, 1)
    t0 = time.perf_counter()
    seq = engine.sample(header, cons, seed=seed, hooks=hooks)
    secs = time.perf_counter() - t0
    new = tok.decode(seq)
    out_notes = new.parts[0].notes if new.parts else []
    returns = sorted(d for d, s in plan.copy_from.items() if s in given and d in given)
    if returns:
        notes_out.insert(0, f"the theme returns in bars {_ranges(returns)}")
    if size > m:
        notes_out.insert(0, f"bars {m + 1}-{size} carry the theme on to its section's end")
    result = Score([Part(out_notes, "Melody", melody.parts[0].program)], key, melody.meter, melody.bpm, total,
                   melody.title, style)
    result.meta = {"form": {"form": plan.form, "section_bars": size, "theme_bars": m, "notes": notes_out,
                            "sections": [{"label": s.label + ("'" if s.varied else ""),
                                          "bars": [s.first_bar, s.first_bar + s.n_bars - 1]} for s in plan.sections]}}
    record_edit(result, "develop", {"form": plan.form, "bars": total, "style": style}, melody, seed, secs)
    return result


def _ranges(bars: list[int]) -> str:
    out, start = [], None
    for i, b in enumerate(bars):
        if start is None:
            start = b
        if i + 1 == len(bars) or bars[i + 1] != b + 1:
            out.append(f"{start}-{b}" if b != start else str(b))
            start = None
    return ", ".join(out)
