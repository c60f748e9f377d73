"""Emotion control: a word (English or Chinese) or a (valence, arousal) pair -> musical properties
a listener hears, and the inverse: an estimate of (valence, arousal) read from the notes of a score.

Emotions are points in the plane of Russell's circumplex model of affect (Russell, J. A. (1980).
"A circumplex model of affect". Journal of Personality and Social Psychology 39(6), 1161-1178):
*valence* (unpleasant -1 ... pleasant +1) across, *arousal* (deactivated -1 ... activated +1) up.
The lexicon places each word by hand following the angular order of Russell's figure (excited and
happy upper right, tense and angry upper left, sad and gloomy lower left, calm and serene lower
right); Chinese words take the position of their English equivalent.

The mapping to music (``musical_mapping``) is monotone in each coordinate and documented in
docs/emotion.md:

=================  ==========================================================================
property           rule
=================  ==========================================================================
mode               major if valence >= 0, minor if valence < 0; the key's tonic is kept
tempo              bpm = style default x 2 ** (0.5 x arousal), rounded, clamped to 40-220
register           melody range shifted by round(4 x valence + 4 x arousal) semitones (|.| <= 7)
density            density = arousal; notes per beat x 2 ** (0.5 x density)
velocity           80 + 30 x arousal (arousal >= 0) or 80 + 20 x arousal (< 0): 60 ... 110
articulation       legato (arousal < -1/3), normal, detached (arousal > 1/3); advisory
=================  ==========================================================================

Tempo and density both scale by 2 ** (0.5 x arousal), so notes per second scale by 2 ** arousal.
``estimate_emotion`` inverts this from the notes alone (never from ``score.meta``):
arousal from notes per second of the top part and its mean velocity, valence from the mode found
by music21's key analysis (weighted by how clearly it beats the opposite mode) and the register of
the top part.

>>> parse_emotion("Sad")
Emotion(valence=-0.7, arousal=-0.4, word='sad')
>>> parse_emotion("欢快").word, quadrant(*parse_emotion("欢快").point)
('欢快', 'happy/excited')
>>> parse_emotion(" 0.5, -0.25 ")
Emotion(valence=0.5, arousal=-0.25, word=None)
>>> m = musical_mapping(-0.7, -0.4, 72)
>>> m["mode"], m["bpm"], m["register_shift"], m["velocity"]
('minor', 63.0, -4, 72)
"""
from __future__ import annotations

import difflib
import math
import re
import unicodedata
from dataclasses import dataclass

from symphony.errors import RequestError
from symphony.music.score import analyze_key, quantize
from symphony.music.theory import Key

# ----------------------------------------------------------------------------- lexicon

# English word -> (valence, arousal), hand-placed after Russell (1980).
LEXICON_EN: dict[str, tuple[float, float]] = {
    # pleasant, activated: happy/excited
    "happy": (0.8, 0.5), "joyful": (0.85, 0.6), "cheerful": (0.75, 0.55), "glad": (0.7, 0.35),
    "delighted": (0.85, 0.55), "excited": (0.7, 0.85), "energetic": (0.5, 0.85),
    "lively": (0.6, 0.7), "playful": (0.65, 0.6), "festive": (0.8, 0.7),
    "triumphant": (0.75, 0.75), "heroic": (0.6, 0.7), "majestic": (0.5, 0.4),
    "uplifting": (0.75, 0.5), "bright": (0.65, 0.45), "hopeful": (0.55, 0.2),
    "loving": (0.7, 0.1), "romantic": (0.65, 0.1), "passionate": (0.55, 0.8),
    # pleasant, deactivated: calm/content
    "tender": (0.6, -0.35), "warm": (0.6, -0.15), "content": (0.6, -0.4), "calm": (0.45, -0.65),
    "peaceful": (0.6, -0.6), "serene": (0.6, -0.7), "relaxed": (0.55, -0.6),
    "gentle": (0.45, -0.5), "dreamy": (0.3, -0.55), "pastoral": (0.5, -0.45),
    "lyrical": (0.35, -0.35), "sleepy": (0.1, -0.9),
    # unpleasant, deactivated: sad/depressed
    "sad": (-0.7, -0.4), "melancholy": (-0.55, -0.45), "melancholic": (-0.55, -0.45),
    "sorrowful": (-0.75, -0.45), "mournful": (-0.8, -0.45), "gloomy": (-0.6, -0.5),
    "sombre": (-0.45, -0.5), "somber": (-0.45, -0.5), "lonely": (-0.6, -0.55),
    "depressed": (-0.85, -0.7), "tired": (-0.3, -0.8), "bored": (-0.4, -0.75),
    "wistful": (-0.3, -0.4), "nostalgic": (-0.2, -0.35), "homesick": (-0.4, -0.4),
    "bittersweet": (-0.1, -0.2), "solemn": (-0.15, -0.3),
    # unpleasant, activated: angry/tense
    "tense": (-0.5, 0.7), "anxious": (-0.65, 0.7), "nervous": (-0.55, 0.65),
    "fearful": (-0.75, 0.75), "scared": (-0.75, 0.75), "angry": (-0.8, 0.8),
    "furious": (-0.9, 0.9), "fierce": (-0.5, 0.85), "agitated": (-0.6, 0.8),
    "stormy": (-0.55, 0.85), "dramatic": (-0.3, 0.7), "mysterious": (-0.25, 0.15),
    "tragic": (-0.8, 0.3),
}

# Chinese word -> its English equivalent in LEXICON_EN (the position is the equivalent's).
LEXICON_ZH: dict[str, str] = {
    "快乐": "happy", "开心": "happy", "高兴": "glad", "愉快": "joyful", "欢乐": "joyful",
    "欢快": "cheerful", "喜悦": "delighted", "喜庆": "festive", "兴奋": "excited",
    "激动": "excited", "热烈": "passionate", "热情": "passionate", "活泼": "lively",
    "俏皮": "playful", "凯旋": "triumphant", "胜利": "triumphant", "豪迈": "heroic",
    "英雄": "heroic", "雄壮": "majestic", "激昂": "energetic", "明亮": "bright",
    "充满希望": "hopeful", "希望": "hopeful", "深情": "loving", "浪漫": "romantic",
    "温柔": "tender", "温暖": "warm", "满足": "content", "平静": "calm", "安静": "calm",
    "安详": "peaceful", "宁静": "serene", "恬静": "serene", "放松": "relaxed",
    "舒缓": "relaxed", "悠闲": "relaxed", "轻柔": "gentle", "梦幻": "dreamy",
    "田园": "pastoral", "抒情": "lyrical", "困倦": "sleepy",
    "悲伤": "sad", "伤心": "sad", "伤感": "melancholy", "忧伤": "melancholy", "忧郁": "melancholy",
    "悲哀": "sorrowful", "哀伤": "sorrowful", "忧愁": "sorrowful", "哀怨": "mournful",
    "阴沉": "gloomy", "沉重": "sombre", "孤独": "lonely", "寂寞": "lonely", "凄凉": "lonely",
    "沮丧": "depressed", "疲惫": "tired", "惆怅": "wistful", "怀旧": "nostalgic",
    "思乡": "homesick", "庄严": "solemn", "肃穆": "solemn",
    "紧张": "tense", "焦虑": "anxious", "不安": "nervous", "恐惧": "fearful", "害怕": "scared",
    "愤怒": "angry", "暴怒": "furious", "激烈": "fierce", "狂暴": "stormy",
    "戏剧性": "dramatic", "神秘": "mysterious", "悲壮": "tragic",
}


def _lexicon() -> dict[str, tuple[float, float]]:
    out = dict(LEXICON_EN)
    out.update({zh: LEXICON_EN[en] for zh, en in LEXICON_ZH.items()})
    return out


LEXICON: dict[str, tuple[float, float]] = _lexicon()  # every word, both languages
QUADRANTS = ("happy/excited", "angry/tense", "sad/depressed", "calm/content")


class EmotionError(RequestError):
    """An unknown emotion word or a valence/arousal outside [-1, 1]."""


@dataclass(frozen=True)
class Emotion:
    valence: float  # -1 unpleasant ... +1 pleasant
    arousal: float  # -1 deactivated ... +1 activated
    word: str | None = None  # the lexicon word, None when given as numbers

    @property
    def point(self) -> tuple[float, float]:
        return (self.valence, self.arousal)

    @property
    def gloss(self) -> str | None:
        """The English equivalent of a Chinese word (the word itself otherwise)."""
        return LEXICON_ZH.get(self.word, self.word) if self.word else None

    @property
    def quadrant(self) -> str:
        return quadrant(self.valence, self.arousal)


def quadrant(valence: float, arousal: float) -> str:
    """The quadrant of the circumplex: happy/excited, angry/tense, sad/depressed, calm/content."""
    if valence >= 0:
        return "happy/excited" if arousal >= 0 else "calm/content"
    return "angry/tense" if arousal >= 0 else "sad/depressed"


_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)"
_PAIR_RE = re.compile(rf"\(?\s*({_NUMBER})\s*(?:,|;|\s)\s*({_NUMBER})\s*\)?")


def _normalise(text: str) -> str:
    # NFKC turns full-width digits, commas and spaces (common in Chinese input) into ASCII ones.
    return " ".join(unicodedata.normalize("NFKC", text).strip().lower().split())


def check_point(valence: float, arousal: float) -> Emotion:
    """Validate a (valence, arousal) pair: both finite numbers in [-1, 1]."""
    out = []
    for name, x in (("valence", valence), ("arousal", arousal)):
        try:
            v = float(x)
        except (TypeError, ValueError):
            raise EmotionError(f"{name} must be a number in [-1, 1], got {x!r}") from None
        if not math.isfinite(v) or not -1.0 <= v <= 1.0:
            raise EmotionError(f"{name} {x} is outside [-1, 1]")
        out.append(v)
    return Emotion(out[0], out[1], None)


def parse_emotion(text: str) -> Emotion:
    """A word of the lexicon (English or Chinese; case and spaces ignored, a trailing 的/地
    dropped) or two numbers "V,A" in [-1, 1] -> Emotion. Raises EmotionError otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise EmotionError("empty emotion; give a word such as happy, sad, calm, tense, 快乐, 悲伤 "
                           "or two numbers 'valence,arousal' in [-1, 1]")
    key = _normalise(text)
    m = _PAIR_RE.fullmatch(key)
    if m:
        return check_point(float(m.group(1)), float(m.group(2)))
    for cand in (key, key.rstrip("的地") if not key.isascii() else key):
        if cand in LEXICON:
            v, a = LEXICON[cand]
            return Emotion(v, a, cand)
    cutoff = 0.6 if key.isascii() else 0.5
    guess = difflib.get_close_matches(key, list(LEXICON), n=1, cutoff=cutoff)
    hint = f"; did you mean '{guess[0]}'?" if guess else ""
    raise EmotionError(f"unknown emotion {text.strip()!r}{hint} (use a word such as happy, sad, "
                       f"calm, tense, 快乐, 悲伤 - see docs/emotion.md - or 'valence,arousal' "
                       f"numbers in [-1, 1])")


def resolve_emotion(emotion: str | None = None, valence: float | None = None,
                    arousal: float | None = None) -> Emotion | None:
    """The CLI's ``--emotion WORD | --valence V --arousal A``: None when none is given."""
    if emotion is not None and (valence is not None or arousal is not None):
        raise EmotionError("give either --emotion or --valence/--arousal, not both")
    if emotion is not None:
        return parse_emotion(emotion)
    if valence is None and arousal is None:
        return None
    if valence is None or arousal is None:
        raise EmotionError("--valence and --arousal go together; give both (each in [-1, 1])")
    return check_point(valence, arousal)


# ----------------------------------------------------------------------------- mapping

MIN_BPM, MAX_BPM = 40, 220
MAX_REGISTER_SHIFT = 7
REGISTER_PER_AROUSAL = 4  # semitones of register per unit of arousal (4 per unit of valence)
NEUTRAL_VELOCITY = 80  # symphony.score.Note's default: an unshaped score reads as arousal 0


def tempo_factor(arousal: float) -> float:
    return 2.0 ** (0.5 * arousal)


def register_shift(valence: float, arousal: float) -> int:
    s = round(4 * valence + REGISTER_PER_AROUSAL * arousal)
    return max(-MAX_REGISTER_SHIFT, min(MAX_REGISTER_SHIFT, s))


def velocity_for(arousal: float) -> int:
    return round(NEUTRAL_VELOCITY + (30 if arousal >= 0 else 20) * arousal)


def arousal_from_velocity(velocity: float) -> float:
    d = velocity - NEUTRAL_VELOCITY
    return _clamp(d / (30 if d >= 0 else 20))


def articulation_for(arousal: float) -> str:
    return "legato" if arousal < -1 / 3 else "detached" if arousal > 1 / 3 else "normal"


_MODE_SWAP = {  # tonic kept; to the nearest mode of the other colour (pentatonic stays pentatonic)
    "major": "minor", "lydian": "minor", "mixolydian": "minor",
    "minor": "major", "dorian": "major", "phrygian": "major", "locrian": "major",
    "gong": "yu", "zhi": "yu", "shang": "gong", "jue": "gong", "yu": "gong",
}


def emotional_key(key: Key, valence: float) -> Key:
    """The key with the tonic kept and a major-like mode for valence >= 0, a minor-like one
    below (G gong with valence < 0 -> G yu; D dorian with valence >= 0 -> D major)."""
    if key.is_minor_like == (valence < 0):
        return key
    return Key(key.tonic, _MODE_SWAP[key.mode])


def musical_mapping(valence: float, arousal: float, style_default_bpm: float,
                    word: str | None = None) -> dict:
    """The musical properties for a point of the circumplex (see the module docstring).

    Returns mode ("major"/"minor"), bpm, tempo_factor, register_shift (semitones), density
    (= arousal), notes_per_beat_factor, velocity (60-110), articulation, and explanation: a
    list of human-readable lines, the first a one-line summary."""
    e = check_point(valence, arousal)
    v, a = e.valence, e.arousal
    mode = "major" if v >= 0 else "minor"
    factor = tempo_factor(a)
    bpm = float(max(MIN_BPM, min(MAX_BPM, round(style_default_bpm * factor))))
    shift = register_shift(v, a)
    npb = 2.0 ** (0.5 * a)
    vel = velocity_for(a)
    art = articulation_for(a)
    said = ""
    if word:
        gloss = LEXICON_ZH.get(word)
        said = f"'{word}'" + (f" ({gloss})" if gloss else "") + " → "
    register = ("higher register" if shift > 0 else "lower register" if shift < 0 else "middle register")
    dens = "denser notes" if a > 0.05 else "sparser notes" if a < -0.05 else "usual note density"
    summary = (f"{said}valence {v:+.2f}, arousal {a:+.2f} ({quadrant(v, a)}) → {mode} mode, "
               f"{bpm:g} bpm, {register}, {dens}")
    explanation = [
        summary,
        f"mode: {mode} (valence {'≥' if v >= 0 else '<'} 0), the key's tonic kept",
        f"tempo: {style_default_bpm:g} bpm × 2^(0.5 × {a:+.2f}) = {bpm:g} bpm",
        f"register: melody range shifted {shift:+d} semitones (round(4 × {v:+.2f} + {REGISTER_PER_AROUSAL} × {a:+.2f}))",
        f"density: {a:+.2f} → about {npb:.2f} × the usual notes per beat",
        f"dynamics: velocity {vel}, {art} articulation",
    ]
    return {"valence": v, "arousal": a, "quadrant": quadrant(v, a), "mode": mode, "bpm": bpm,
            "tempo_factor": factor, "register_shift": shift, "density": a,
            "notes_per_beat_factor": npb, "velocity": vel, "articulation": art,
            "explanation": explanation}


# ----------------------------------------------------------------------------- estimation

REFERENCE_PITCH = 72.0  # C5: mean melody pitch of an emotionally neutral tune (style-neutral)
REFERENCE_NPS = 2.0  # notes per second of the melody at arousal 0 (style-neutral)
# Per style, the median melody pitch and notes per second of real pieces (train split, at most
# 600 per style, at the corpus tempo): a calm reel is still busier than a lively chorale, so
# arousal and register are judged against the style's own norm when the style is known.
# Measured 2026-11-22 from the cached corpus (see benchmarks/NOTES.md, "Emotion references").
STYLE_REFERENCES = {"chinese": (70.2, 2.10), "german": (69.0, 1.45), "celtic": (70.9, 3.12),
                    "chorale": (70.4, 1.17)}
CLARITY_SCALE = 0.2  # correlation margin over the opposite mode that counts as fully clear
MODE_WEIGHT, REGISTER_WEIGHT = 0.7, 0.3  # valence = 0.7 mode cue + 0.3 register cue
TEMPO_WEIGHT, VELOCITY_WEIGHT = 0.6, 0.4  # arousal = 0.6 notes/second cue + 0.4 velocity cue


def _clamp(x: float, lo: float = -1.0, hi: float = 1.0) -> float:
    return max(lo, min(hi, x))


def top_part(score):
    """The part with the highest mean pitch (the melody)."""
    parts = [p for p in score.parts if p.notes]
    if not parts:
        raise EmotionError("cannot estimate the emotion of a score without notes")
    return max(parts, key=lambda p: sum(n.pitch for n in p.notes) / len(p.notes))


def mode_clarity(score, found: Key) -> float:
    """How clearly music21's key analysis prefers `found` over the best key of the opposite
    mode: (r_found - r_opposite) / CLARITY_SCALE, clamped to [0, 1]."""
    from music21 import note, stream

    s = stream.Stream()
    for n in score.all_notes():
        m = note.Note(n.pitch)
        m.quarterLength = quantize(n.duration)
        s.insert(quantize(n.onset), m)
    k = s.analyze("key")
    same, opposite = None, None
    for cand in [k, *k.alternateInterpretations]:
        r = float(cand.correlationCoefficient)
        minor = cand.mode == "minor"
        if minor == found.is_minor_like:
            if same is None and cand.tonic.pitchClass == found.tonic_pc:
                same = r
        elif opposite is None or r > opposite:
            opposite = r
    if same is None or opposite is None:
        return 0.0
    return _clamp((same - opposite) / CLARITY_SCALE, 0.0, 1.0)


def emotion_cues(score, reference_pitch: float = REFERENCE_PITCH,
                 reference_nps: float = REFERENCE_NPS, style: str | None = None) -> dict:
    """Every cue of the estimate, read from the notes, tempo and meter of `score` only (and,
    when `style` is given, judged against that style's real pieces: STYLE_REFERENCES)."""
    if style in STYLE_REFERENCES:
        reference_pitch, reference_nps = STYLE_REFERENCES[style]

    melody = top_part(score)
    onsets = sorted({n.onset for n in melody.notes})
    span_q = max(n.end for n in melody.notes) - onsets[0]
    quarter_bpm = float(score.bpm) * float(score.meter.beat_quarters)
    if quarter_bpm <= 0 or span_q <= 0:
        raise EmotionError("cannot estimate the emotion of a score without a tempo or duration")
    seconds = span_q * 60.0 / quarter_bpm
    nps = len(onsets) / seconds
    a_tempo = _clamp(math.log2(nps / reference_nps))
    velocity = sum(n.velocity for n in melody.notes) / len(melody.notes)
    a_vel = arousal_from_velocity(velocity)
    arousal = TEMPO_WEIGHT * a_tempo + VELOCITY_WEIGHT * a_vel

    found = analyze_key(score)
    clarity = mode_clarity(score, found)
    v_mode = (-1.0 if found.is_minor_like else 1.0) * (0.5 + 0.5 * clarity)
    mean_pitch = sum(n.pitch for n in melody.notes) / len(melody.notes)
    shift = mean_pitch - reference_pitch
    # the measure keeps its own definition (the inverse of the earlier 4 v + 3 a mapping); it was
    # not changed with the generator (REGISTER_PER_AROUSAL), so it judges the new mapping unchanged
    v_register = _clamp((shift - 3 * arousal) / 4)
    valence = MODE_WEIGHT * v_mode + REGISTER_WEIGHT * v_register
    return {"key": str(found), "mode_clarity": round(clarity, 3), "valence_mode": round(v_mode, 3),
            "mean_pitch": round(mean_pitch, 2), "register_shift": round(shift, 2),
            "valence_register": round(v_register, 3), "notes_per_second": round(nps, 3),
            "arousal_tempo": round(a_tempo, 3), "mean_velocity": round(velocity, 1),
            "arousal_velocity": round(a_vel, 3),
            "valence": round(_clamp(valence), 3), "arousal": round(_clamp(arousal), 3)}


def estimate_emotion(score, reference_pitch: float = REFERENCE_PITCH,
                     reference_nps: float = REFERENCE_NPS, style: str | None = None) -> tuple[float, float]:
    """(valence, arousal) heard in `score`, the inverse of ``musical_mapping`` computed from the
    notes only (use a Score read back from the written file; ``score.meta`` and ``score.key``
    are ignored: the key is re-analysed).

    valence = 0.7 x mode cue + 0.3 x register cue, where the mode cue is +-(0.5 + 0.5 x clarity)
    (sign from music21's key analysis) and the register cue is (mean top-part pitch - 72 - 3 x
    arousal) / 4; arousal = 0.6 x log2(top-part notes per second / 2) + 0.4 x velocity cue
    (the inverse of the velocity rule); each cue is clamped to [-1, 1]."""
    c = emotion_cues(score, reference_pitch, reference_nps, style)
    return c["valence"], c["arousal"]
