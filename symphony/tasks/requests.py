"""Request resolution, once for every entry point: the user's options, the prompt's words, a
mood (an emotion option > mood words > a picture, ``mood_axes``) and the style's defaults become
one validated ``Request`` and an explanation of where each attribute came from. Options win over
the text, the text over the mood, the mood over the defaults."""
from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass

from symphony.decoding import bar_rhythm
from symphony.decoding.sampler import DEFAULT_RANGES
from symphony.errors import RequestError
from symphony.music import attributes as real
from symphony.music.form import default_bars, parse_form, plan_form
from symphony.music.harmony import layout, parse_progression
from symphony.music.styles import GENRES, get_style
from symphony.music.theory import parse_key, parse_meter, pitch_class
from symphony.tasks.limits import MAX_BARS, MAX_GUIDANCE
from symphony.understanding import emotion as emo
from symphony.understanding.emotion import (
    REFERENCE_PITCH,
    STYLE_REFERENCES,
    emotional_key,
)
from symphony.understanding.image import analyze
from symphony.understanding.prompt import SONG_GENRES, parse_prompt, summary_line

DEFAULT_STYLE = "celtic"


# With no style named and a calm or sad mood in the text: measured on 12 such prompts, the
# read-back arousal was below 0 for 1 celtic, 10 german and 12 chinese pieces; german is the
# plainer choice (chinese also brings its pentatonic modes).
CALM_DEFAULT_STYLE = "german"
# A calm or sad mood's meter, when none is given, leans to the style's slower tune types: a sad
# Irish reel in running eighths still read back as tense or happy (the controls benchmark's celtic
# emotion quadrants 70%; density hardly thins a reel: 7.0 -> 6.2 notes a bar at density 0 -> -1).
# At arousal -1 this leaves a celtic 2/2 reel 8% of the draws (real share 27%), 3/4 airs 30% (8%).
CALM_METER_PULL = 1.0


DEFAULT_KEYS = {"chinese": "G gong", "german": "F major", "celtic": "D major", "chorale": "G major",
                "renaissance": "F major"}


VOICES = {"chorale": 4, "renaissance": 4}




def _default_key(style: str) -> str:
    """The usual key of a style (a user's style: the commonest key of its training pieces)."""
    return DEFAULT_KEYS.get(style) or get_style(style).default_key or "C major"


def _draw_seed(seed: int | None, *given) -> int:
    """The seed the open attributes are drawn with: the request's, else one from what was asked
    (the same words and options draw the same key, meter and length)."""
    if seed is not None:
        return int(seed)
    return int(hashlib.sha1("|".join(map(str, given)).encode()).hexdigest()[:8], 16)


@dataclass
class Request:
    style: str  # the style (the heaviest one of a blend)
    key: str
    meter: str
    tempo: float
    bars: int
    seed: int
    voices: int
    prompt: str = ""
    blend: dict[str, float] | None = None  # style fusion: style -> weight (sums to 1)
    rhythm_style: str | None = None  # the blend's style whose meter and note lengths the piece takes
    key_style: str | None = None  # ... and the one whose key and scale it takes (None: its style's)
    chords: str | None = None  # chord progression as written, e.g. "G C D G"
    accompany: bool = False  # add an accompaniment part playing the chords (planned when none are given)
    form: str | None = None  # phrase form, e.g. "AABB"
    low: int | None = None  # melody range (MIDI numbers)
    high: int | None = None
    density: float = 0.0  # -1 sparse .. 1 dense
    center: float | None = None  # melody register centre (MIDI), from the emotion
    valence: float | None = None
    arousal: float | None = None
    velocity: int = 80
    end_on_tonic: bool = True
    image: dict | None = None  # --image: the picture's features and mood (symphony.image)
    guidance: float | None = None  # style guidance weight (style_guidance); 0 = off; None = the style's
    program: int | None = None  # General MIDI program of the melody parts (None: the style's)
    repeats: bool = True  # without a form: repeat bars as a real tune of the style does (form.borrowed_repeats)


def parse_style_blend(text: str) -> dict[str, float]:
    """'chinese:0.6,celtic:0.4' -> {'chinese': 0.6, 'celtic': 0.4} (weights normalised);
    'celtic' -> {'celtic': 1.0}."""
    out: dict[str, float] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        name, _, w = item.partition(":")
        style = get_style(name).name
        try:
            weight = float(w) if w.strip() else 1.0
        except ValueError:
            raise RequestError(f"style weight {w!r} in {text!r} is not a number") from None
        if not 0 <= weight <= 100:
            raise RequestError(f"style weight {weight} in {text!r} must be between 0 and 100")
        out[style] = out.get(style, 0.0) + weight
    total = sum(out.values())
    if not out or total <= 0:
        raise RequestError(f"no style with a positive weight in {text!r}")
    return {k: v / total for k, v in out.items() if v > 0}


def parse_range(text: str) -> tuple[int, int]:
    """'C4-G5' or '60-79' -> (60, 79): the melody's lowest and highest note."""
    import re
    parts = re.split(r"\s*(?:-|–|to|\.\.)\s*(?=[A-Ga-g0-9])", text.strip(), maxsplit=1)
    if len(parts) != 2:
        raise RequestError(f"cannot read range {text!r}; write it like 'C4-G5' or '60-79'")
    out = []
    for p in parts:
        m = re.fullmatch(r"([A-Ga-g])([#b]?)(-?\d)", p.strip())
        if m:
            out.append(12 * (int(m.group(3)) + 1) + pitch_class(m.group(1) + m.group(2)))
        elif p.strip().isdigit():
            out.append(int(p))
        else:
            raise RequestError(f"cannot read note {p!r} in range {text!r}; write it like 'C4' or '60'")
    lo, hi = out
    if not (21 <= lo <= 108 and 21 <= hi <= 108):
        raise RequestError(f"range {text!r} must lie within the piano (A0-C8, MIDI 21-108)")
    if hi - lo < 7:
        raise RequestError(f"range {text!r} is too narrow: give the melody at least a fifth (7 semitones)")
    return lo, hi


def blend_roles(blend: dict[str, float], seed: int, genre: str | None = None) -> tuple[str, str]:
    """(the style whose key and scale a blended piece takes, the style whose meter and note lengths
    it takes). Each style leads each trait as often as its weight, and the two draws are made
    opposite (one uniform number u picks the key's style, u + 1/2 the rhythm's), so a blend's
    pieces mostly take the two traits from different styles: of chinese 60% + celtic 40%, 40%
    have a Chinese scale in a Celtic rhythm, 40% the other way round and 20% are Chinese in both,
    never Celtic in both. A dance named in the text ("meets an Irish jig") gives the rhythm."""
    u = random.Random(f"blend|{seed}").random()

    def at(x: float) -> str:
        acc = 0.0
        for s, w in blend.items():
            acc += w
            if x < acc:
                return s
        return list(blend)[-1]
    rhythm = at((u + 0.5) % 1.0)
    if genre in GENRES and genre not in SONG_GENRES and GENRES[genre][0] in blend:
        rhythm = GENRES[genre][0]
    return at(u), rhythm


def require_request(prompt: str | None, **options) -> None:
    """A blank prompt with no option that describes the music (style, key, meter, tempo, bars,
    chords, form, range, density, emotion, valence/arousal, picture) is a request for nothing:
    RequestError, not a piece made of defaults (issue 5: an empty prompt with nothing else is
    bad input). The seed and switches such as --accompany do not describe music on their own."""
    if (prompt or "").strip() or any(v is not None for v in options.values()):
        return
    raise RequestError("nothing to compose from: describe the music (e.g. 'a lively Irish jig in D major') "
                       "or give an option such as --style, --key, --emotion, --image or --melody")


def resolve(prompt: str = "", style: str | None = None, key: str | None = None,
            meter: str | None = None, tempo: float | None = None, bars: int | None = None,
            seed: int | None = None, *, chords: str | None = None, accompany: bool = False,
            form: str | None = None, range: str | None = None, density: float | None = None,
            emotion: str | None = None, valence: float | None = None, arousal: float | None = None,
            end_on_tonic: bool = True, image=None, guidance: float | None = None,
            repeats: bool = True, styles: list[str] | None = None) -> tuple[Request, list[str]]:
    """Combine the prompt's attributes with explicit ones and style defaults (validated).
    ``styles``: the styles of the model in use; the default style is one of them."""
    if guidance is not None and not 0.0 <= float(guidance) <= MAX_GUIDANCE:
        raise RequestError(f"--guidance must be between 0 (off) and {MAX_GUIDANCE:g}, got {guidance}")
    u = parse_prompt(prompt or "")
    a, why = u.attributes, list(u.explanation)
    drawn = _draw_seed(seed, prompt, style, key, meter, tempo, bars, chords, form, emotion, valence, arousal)
    # Where each attribute came from (option / text / default), for the summary line.
    src: dict[str, str] = {}
    blend = None
    if style is not None:
        weights = parse_style_blend(style)
        style = max(weights, key=weights.get)
        src["style"] = "option"
        if len(weights) > 1:
            blend = weights
            why.append("option: --style blend " + " + ".join(f"{s} {w:.0%}" for s, w in weights.items()))
        else:
            why.append(f"option: --style {style}")
        if a.get("style") and (a.get("blend") or {a["style"]: 1.0}).keys() != weights.keys():
            why.append(f"option: --style wins over the style in the text ({a['style']})")
    else:
        style = a.get("style")
        blend = a.get("blend")  # a fusion said in words: "Chinese folk song meets Irish jig"
        src["style"] = "text"
        if blend:
            why.append(f"text: blend → instrument of {style} (named first of the heaviest)")
        if style is None:
            style = DEFAULT_STYLE
            src["style"] = "default"
            calm = emotion is None and valence is None and arousal is None and (a.get("arousal") or 0.0) < 0
            if styles and (DEFAULT_STYLE not in styles or (calm and CALM_DEFAULT_STYLE not in styles)):
                style = styles[0]  # a model trained on other styles (a user's own)
                why.append(f"default: no style given → {style} (the model's first style)")
            elif calm:
                style = CALM_DEFAULT_STYLE
                why.append(f"default: no style given → {style} (the text's mood is calm or sad; busy celtic "
                           f"fiddle tunes are heard as lively: benchmarks/prompts.md)")
            else:
                why.append(f"default: no style given → {style}")
    st = get_style(style)  # a built-in style or one the loaded checkpoint describes
    style = st.name
    key_style = rhythm_style = style
    if blend:
        key_style, rhythm_style = blend_roles(blend, drawn, a.get("genre"))
        why.append(f"blend: key and scale of {key_style}, meter and note lengths of {rhythm_style}, every "
                   f"pitch drawn from both styles' predictions by weight (each style leads each trait as "
                   f"often as its weight), instrument of {style}")
    n_why = len(why)
    mood = _resolve_emotion(emotion, valence, arousal, st, why)
    if mood is not None:
        src["mood"] = "option"
        why[n_why] = "option: " + why[n_why]
        if u.mood_words:
            why.append("text: mood words (" + ", ".join(f"'{w}'" for w in u.mood_words)
                       + ") not used: the emotion given as an option wins")
    pic = None
    if image is not None:  # read and measured whatever wins (a bad file is an error)
        pic = analyze(image)
    axes = mood_axes(emotion, valence, arousal, a, pic)
    borrowed = axes.borrowed if axes is not None else {}
    if mood is None and axes is not None and axes.source == "text":
        mood = _text_mood(a, st, why, borrowed)
        src["mood"] = "text"
    picture = None
    if pic is not None:
        # Precedence: explicit --emotion/--valence/--arousal > mood words in the prompt > picture,
        # per axis (valence, arousal). Keep this block after every other source of `mood`.
        picture, pic_mood = _resolve_image(pic, st, why, use=mood is None, winner=src.get("mood"),
                                           borrowed=tuple(borrowed))
        if mood is None:
            mood = pic_mood
            src["mood"] = "picture"
    k = _resolve_key(key, a, key_style, mood, drawn, src, why)
    m = _resolve_meter(meter, a, get_style(rhythm_style), drawn, src, why, mood["arousal"] if mood else None)
    src["tempo"] = "option" if tempo is not None else "text" if a.get("tempo") else "default"
    if tempo is not None and a.get("tempo") and float(tempo) != a["tempo"]:
        why.append(f"option: --tempo {tempo:g} wins over the text's {a['tempo']:g} bpm")
    if tempo is None:
        base_bpm = a.get("genre_bpm", st.default_bpm)
        if blend and "genre_bpm" not in a:
            base_bpm = sum(w * get_style(s).default_bpm for s, w in blend.items())
        usual = base_bpm
        if real.style_counts(style) and mood is None:  # real tunes' style, no mood to set the pace
            base_bpm = real.draw_tempo(base_bpm, drawn)
        # the text's speed words are inside a mood read from the text; else they scale the tempo
        speed = 1.0 if src.get("mood") == "text" else u.tempo_factor
        tempo = a.get("tempo") or round(base_bpm * speed * (mood["tempo_factor"] if mood else 1.0))
        if not a.get("tempo"):
            _tempo_line(why, tempo, base_bpm, a.get("genre"), "the blend (by weight)" if blend else style,
                        speed, mood, src, usual)
    if not 20 <= float(tempo) <= 300:
        raise RequestError(f"tempo {tempo} bpm is outside 20-300")
    if form is None and a.get("form"):
        form, src["form"] = _text_form(a["form"], bars if bars is not None else a.get("bars"), why)
    if bars is None:
        src["bars"] = "text" if "bars" in a else "default"
        bars = a.get("bars")
        if bars is None and form:
            bars = default_bars(form)
            why.append(f"default: {bars} bars (4 per section of {form})")
        elif bars is None:
            d = real.draw_bars(rhythm_style, str(m), drawn)
            bars = d.value if d else 16
            why.append(f"default: no length given → {d.why}" if d else "default: 16 bars")
    else:
        src["bars"] = "option"
        if a.get("bars") and a["bars"] != bars:
            why.append(f"option: --bars {bars} wins over the text's {a['bars']} bars")
    if not isinstance(bars, int) or bars <= 0 or bars > MAX_BARS:
        raise RequestError(f"--bars must be between 1 and {MAX_BARS}, got {bars}")
    voices = VOICES.get(style, st.voices or 1)
    if chords:
        layout(parse_progression(chords, k), m, 1)  # validates: readable chords that fit a bar
    if form:
        plan_form(form, bars, k)  # validates
    lo = hi = center = None
    if range:
        lo, hi = parse_range(range)
    elif mood is not None:  # shift 0 still pulls to the style's usual register
        lo, hi = (x + mood["register_shift"] for x in DEFAULT_RANGES[voices][0])
        center = STYLE_REFERENCES.get(style, (REFERENCE_PITCH, 0))[0] + mood["register_shift"]
    if density is None:
        density = mood["density"] if mood else 0.0
        if "density" in a:  # density words in the prompt ("sparse", "密集") beat the mood's
            density = a["density"]
            src["density"] = "text"
    else:
        src["density"] = "option"
    if not -1.0 <= float(density) <= 1.0:
        raise RequestError(f"--density must be between -1 (sparse) and 1 (dense), got {density}")
    if seed is None:
        seed = int(hashlib.sha1(f"{prompt}|{style}|{k}|{m}|{tempo}|{bars}|{chords}|{form}".encode()).hexdigest()[:8], 16)
    req = Request(style, str(k), str(m), float(tempo), int(bars), int(seed), voices, prompt or "",
                  blend=blend, rhythm_style=rhythm_style if blend else None,
                  key_style=key_style if blend else None, chords=chords, accompany=bool(accompany), form=form,
                  low=lo, high=hi, density=float(density), center=center,
                  valence=mood["valence"] if mood else None, arousal=mood["arousal"] if mood else None,
                  velocity=mood["velocity"] if mood else 80, end_on_tonic=end_on_tonic,
                  program=a.get("program"), repeats=bool(repeats),
                  guidance=None if guidance is None else float(guidance))
    if picture is not None:
        req.image = picture
        src.setdefault("mood", "picture")
    why.append(summary_line(req, src))
    return req, why


@dataclass
class MoodAxes:
    """Where a request's mood comes from: valence and arousal in [-1, 1] and their source."""
    valence: float
    arousal: float
    source: str  # option, text or picture
    borrowed: dict[str, float]  # axes the text leaves unsaid, taken from the picture


def mood_axes(emotion: str | None, valence: float | None, arousal: float | None, text: dict,
              picture=None) -> MoodAxes | None:
    """The one precedence of a mood, shared by every entry point (a new piece, a piece from a
    melody): an emotion option > mood words in the prompt, axis by axis, with the axes the
    words leave unsaid taken from the picture > the picture. None when nothing gives a mood."""
    e = emo.resolve_emotion(emotion, valence, arousal)
    if e is not None:
        return MoodAxes(e.valence, e.arousal, "option", {})
    said = [ax for ax in ("valence", "arousal") if text.get(ax) is not None]
    if said:
        borrowed = {ax: getattr(picture, ax) for ax in ("valence", "arousal") if ax not in said} if picture else {}
        v, ar = (text[ax] if ax in said else borrowed.get(ax, 0.0) for ax in ("valence", "arousal"))
        return MoodAxes(v, ar, "text", borrowed)
    if picture is not None:
        return MoodAxes(picture.valence, picture.arousal, "picture", {})
    return None


def _text_mood(a: dict, st, why, borrowed: dict[str, float] | None = None) -> dict:
    """Valence and arousal read from the prompt's words -> the same musical mapping as --emotion
    (an axis the text does not speak of comes from `borrowed`, the picture's, or counts as 0)."""
    borrowed = borrowed or {}
    v = a["valence"] if a.get("valence") is not None else borrowed.get("valence", 0.0)
    ar = a["arousal"] if a.get("arousal") is not None else borrowed.get("arousal", 0.0)
    for axis, value in borrowed.items():
        why.append(f"picture: {axis} {value:+.2f} (the text's mood words do not speak of {axis})")
    base = a.get("genre_bpm", st.default_bpm)  # a jig's tempo, not the style's, is what the mood scales
    mapping = emo.musical_mapping(v, ar, base)
    why.append(("text and picture" if borrowed else "text") + ": mood → " + mapping["explanation"][0])
    why.extend(mapping["explanation"][1:])
    return {"valence": v, "arousal": ar, "mode": mapping["mode"],
            "tempo_factor": mapping["bpm"] / base, "register_shift": mapping["register_shift"],
            "density": mapping["density"], "velocity": mapping["velocity"]}


def _tempo_line(why, tempo, base_bpm, genre, style, speed, mood, src, usual=None) -> None:
    said = 'a ' + genre if genre else 'usual for ' + style
    if usual is not None and usual != base_bpm:
        said = (f"drawn within ±{real.TEMPO_SPREAD:.0%} of {usual:g}, {said}; the corpus has no tempo "
                f"marks to count")
    parts = [f"{base_bpm:g} ({said})"]
    if speed != 1.0:
        parts.append(f"× {speed:.2f} (speed words)")
    if mood:
        parts.append(f"× {mood['tempo_factor']:.2f} (arousal {mood['arousal']:+.2f})")
    origin = ("text" if genre or speed != 1.0 or src.get("mood") == "text" else "option" if src.get("mood") == "option"
              else "picture" if mood else "default")
    src["tempo"] = origin
    why.append(f"{origin}: tempo {tempo:g} bpm = " + " ".join(parts))


def _text_form(form: str, bars: int | None, why) -> tuple[str | None, str]:
    """A form said in the prompt, unless the length cannot be split into its sections."""
    n = len(parse_form(form))
    if bars is not None and bars % n:
        why.append(f"text: form {form} not used: {bars} bars do not split into its {n} equal sections")
        return None, "none"
    return form, "text"


def _resolve_emotion(emotion, valence, arousal, st, why) -> dict | None:
    """--emotion WORD or --valence/--arousal -> the musical mapping of symphony.emotion."""
    if emotion is None and valence is None and arousal is None:
        return None
    e = emo.resolve_emotion(emotion, valence, arousal)
    v, ar = e.valence, e.arousal
    mapping = emo.musical_mapping(v, ar, st.default_bpm, word=emotion)
    why.extend(mapping["explanation"])
    return {"valence": v, "arousal": ar, "mode": mapping["mode"],
            "tempo_factor": mapping["bpm"] / st.default_bpm, "register_shift": mapping["register_shift"],
            "density": mapping["density"], "velocity": mapping["velocity"]}


def _resolve_image(pic, st, why, use: bool, winner: str | None = None,
                   borrowed: tuple[str, ...] = ()) -> tuple[dict, dict | None]:
    """The analysed --image (symphony.image.analyze) -> (the picture's record for music.json, its
    mood mapped like --valence/--arousal, or None when `use` is False because an emotion came
    from `winner` ("option"/"text"); `borrowed` names the axes the text took from it)."""
    record = {**pic.to_dict(), "used": bool(use) or bool(borrowed)}
    if borrowed:
        record["axes_used"] = list(borrowed)
    if not use:
        said = "the text's mood words win" if winner == "text" else "the emotion given as an option wins"
        if borrowed:
            said = f"its {' and '.join(borrowed)} used, the text's mood words win on the rest"
            why.append(pic.explanation[0] + f" — {said}")
        else:
            why.append(pic.explanation[0] + f" — not used: {said}")
        return record, None
    why.extend(pic.explanation)
    mapping = emo.musical_mapping(pic.valence, pic.arousal, st.default_bpm)
    why.append("picture: mood → " + mapping["explanation"][0])
    why.extend(mapping["explanation"][1:])
    return record, {"valence": pic.valence, "arousal": pic.arousal, "mode": mapping["mode"],
                    "tempo_factor": mapping["bpm"] / st.default_bpm,
                    "register_shift": mapping["register_shift"], "density": mapping["density"],
                    "velocity": mapping["velocity"]}


def _resolve_key(key: str | None, a: dict, style: str, mood: dict | None, seed: int, src: dict,
                 why: list[str]):
    """--key > the text's key > a key drawn from the style's real tunes (a mode said without a
    tonic: a tonic drawn among them; a mood: the drawn tonic in the mood's mode)."""
    key_txt = key or a.get("key")
    src["key"] = "option" if key else "text"
    if key and a.get("key") and parse_key(key) != parse_key(a["key"]):
        why.append(f"option: --key {key} wins over the text's {a['key']}")
    if key_txt is None and a.get("mode"):
        d = real.draw_key(style, seed, a["mode"])
        key_txt = d.value if d else f"{parse_key(_default_key(style)).tonic} {a['mode']}"
        why.append(f"text: {a['mode']} mode, no tonic said → key {d.why}" if d else
                   f"text: {a['mode']} mode on the usual tonic for {style} → key {key_txt}")
    if key_txt is None:
        src["key"] = "default"
        d = real.draw_key(style, seed)
        key_txt = d.value if d else _default_key(style)
        origin = d.why if d else f"{key_txt} (usual for {style})"
        if mood is not None:  # the emotion chooses the mode colour of the drawn (usual) key
            key_txt = str(emotional_key(parse_key(key_txt), mood["valence"]))
            why.append(f"default: no key given → {key_txt}: the tonic of {origin}, the mode for the emotion")
        else:
            why.append(f"default: no key given → {origin}")
    return parse_key(key_txt)


def _calm_meter_weights(style: str, arousal: float | None) -> dict[str, float] | None:
    """A calm or sad piece (arousal below 0) draws its meter towards the style's slower tune types:
    each meter's real count times exp(CALM_METER_PULL x arousal x notes per beat of its real tunes)."""
    if arousal is None or arousal >= 0:
        return None
    counts = (real.style_counts(style) or {}).get("meters") or {}
    pace = {m: bar_rhythm.notes_per_beat(style, m) for m in counts}
    known = [p for p in pace.values() if p is not None]
    if not known:
        return None
    usual = sum(known) / len(known)  # a meter with too few tunes to say: the style's mean
    return {m: math.exp(CALM_METER_PULL * arousal * (usual if p is None else p)) for m, p in pace.items()}


def _resolve_meter(meter: str | None, a: dict, st, seed: int, src: dict, why: list[str],
                   arousal: float | None = None):
    """--meter > a meter said or a dance's (a jig is in 6/8) > one drawn from the style's real
    tunes (a calm or sad mood's towards its slower tune types: ``_calm_meter_weights``). A song
    type's meter ("a Chinese folk song": 2/4) is only its usual one: drawn too."""
    said = a.get("meter")
    if said and a.get("genre") in SONG_GENRES and a.get("meter_from_genre"):
        said = None
    if meter and said and meter.replace(" ", "") != said:
        why.append(f"option: --meter {meter} wins over the text's {said}")
    src["meter"] = "option" if meter else "text" if said else "default"
    if meter or said:
        return parse_meter(meter or said)
    d = real.draw_meter(st.name, seed, _calm_meter_weights(st.name, arousal),
                        f"towards its slower tune types for the mood's arousal {arousal or 0:+.2f}")
    m = parse_meter(d.value if d else st.default_meter)
    why.append(f"default: no meter given → {d.why}" if d else f"default: meter {m} (usual for {st.name})")
    return m
