"""The styles Symphony knows: names, aliases, default tempo and the General MIDI instrument used
to play them. Style labels of the corpus come from here too."""
from __future__ import annotations

import difflib
from dataclasses import dataclass

from symphony.errors import StyleError

STYLE_GUIDANCE = 1.0  # the usual style guidance weight (benchmarks/NOTES.md: style hit rate vs weight)


@dataclass(frozen=True)
class Style:
    name: str
    description: str
    default_bpm: int  # beats per minute of the meter's beat, as musicians count
    default_meter: str
    program: int  # General MIDI program (0-based) used for audio
    sources: tuple[str, ...]
    # Sampling calibration added to the requested --density (0 = the style's own note lengths):
    # the model writes chorale sopranos with too many eighth notes (46% of notes vs Bach's 15%,
    # 1.27 notes a beat vs 0.9); -0.4 brings them to Bach's (measured, benchmarks/NOTES.md).
    # Chinese tunes came out at 2.46 notes a beat against 1.76 in the training split; -0.25
    # brings them to 1.88 (20 requests drawn from the training split, benchmarks/NOTES.md).
    density_offset: float = 0.0
    # A tune of this style written with a major or minor key signature ends on whichever degree
    # its mode closes on, not on the key's tonic: a Chinese tune's 1=G (jianpu) names the gong of
    # its pentatonic scale, and 70% of the test split's Chinese tunes do not end on the tonic of
    # music21's key. Without a form the model then chooses the final among the scale's notes; a
    # pentatonic mode (G zhi) or a form still closes on the tonic.
    free_final: bool = False
    # Melodic motion: a logit bonus for top-voice notes a step (1-2 semitones) from the last one,
    # and one for repeating its pitch (negative: a penalty), moving probability between pitches
    # only (sampling._reweight_pitches). Calibrated on the share of steps and repeated notes
    # (benchmarks/NOTES.md): Bach's sopranos step 70% of the time, the model's stepped 59%
    # (between two soprano notes stand the other voices' tokens); style guidance pushed German
    # tunes to repeated notes (32% against the real 21%) and away from steps (44% against 50%).
    # Chinese tunes also step less than real ones (29% vs 37%), but a bonus there narrowed their
    # range and did not make them harder to tell from real ones; they have none.
    step_bias: float = 0.0
    repeat_bias: float = 0.0
    # Style guidance weight (generation.style_guidance) when --guidance is not given. Chinese
    # tunes are told apart from the other styles without it (eval n=30: style hit 93% at 0), and
    # guidance caricatured them: major thirds all but vanished (1.3-1.8% of intervals -> 0.1-0.3%)
    # and minor-key tunes lost their minor third (11% of notes -> 4%; real 16%); a real-vs-generated
    # classifier told them apart 77% of the time at 1, 60% at 0 (benchmarks/NOTES.md). Celtic
    # tunes the same way: guided, they lost descending steps (13% of intervals against the real
    # 19%) for thirds and semitones; unguided (and with free note lengths, sampling.DURATION_TOP_P)
    # a classifier told 120 of them from 120 real tunes 81% of the time instead of 88%.
    guidance: float = STYLE_GUIDANCE
    # A style a user trained a model on (``symphony data add`` + ``symphony train``): its defaults
    # come from the training pieces, stored in the checkpoint (``register_styles``).
    default_key: str = ""  # "" : the tasks' own default for the style
    voices: int = 0  # 0: the tasks' own default for the style
    user: bool = False
    # Share of the style's real tunes that open with an upbeat (a pickup bar), measured on the
    # corpus (music21's corpus via corpus-v2, first bar shorter than the meter): Essen German
    # 76% of 6,776, O'Neill's 75% of 700, Ryan's 81% of 69, Bach chorales 64% of 56, Han Chinese
    # 4% of 1,169. A generated piece opens with one as often; None: as the model writes it.
    pickup_rate: float | None = None


STYLES: dict[str, Style] = {s.name: s for s in (
    Style("chinese", "Han Chinese folk songs (Essen collection, han1/han2)", 72, "2/4", 73,
          ("essen/han",), density_offset=-0.25, free_final=True, guidance=0.0, pickup_rate=0.04),
    Style("german", "German-language folk songs (Essen: altdeu, ballad, boehme, erk, fink, kinder,"
          " zuccal, dva; Lorraine and Luxembourg)", 96, "4/4", 21, ("essen/german",),
          step_bias=0.3, repeat_bias=-0.3, pickup_rate=0.76),
    Style("celtic", "Irish and Scottish fiddle tunes (O'Neill's Music of Ireland, Ryan's Mammoth"
          " Collection, Essen irl): jigs, reels, hornpipes, strathspeys", 112, "6/8", 110,
          ("oneills", "ryans", "essen/irl"), guidance=0.0, pickup_rate=0.75),
    Style("chorale", "Bach four-part chorales", 72, "4/4", 19, ("bach",), density_offset=-0.4,
          step_bias=0.6, pickup_rate=0.64),
    Style("renaissance", "Palestrina masses and motets (vocal polyphony)", 72, "2/2", 52,
          ("palestrina",)),
)}

ALIASES = {
    "chinese folk": "chinese", "chinese folk song": "chinese", "han": "chinese", "china": "chinese",
    "中国": "chinese", "民歌": "chinese",
    "german folk": "german", "german folk song": "german", "volkslied": "german", "germany": "german",
    "irish": "celtic", "scottish": "celtic", "fiddle": "celtic", "jig": "celtic", "reel": "celtic",
    "hornpipe": "celtic", "strathspey": "celtic", "ireland": "celtic",
    "bach": "chorale", "chorales": "chorale", "hymn": "chorale",
    "palestrina": "renaissance", "polyphony": "renaissance",
}

# Dance and song types: prompt words that fix a meter and suggest a style and tempo.
GENRES = {
    "jig": ("celtic", "6/8", 116),
    "slip jig": ("celtic", "9/8", 112),
    "reel": ("celtic", "4/4", 112),
    "hornpipe": ("celtic", "4/4", 88),
    "strathspey": ("celtic", "4/4", 72),
    "polka": ("celtic", "2/4", 120),
    "waltz": ("german", "3/4", 108),
    "march": ("german", "2/4", 112),
    "chorale": ("chorale", "4/4", 72),
    "chinese folk song": ("chinese", "2/4", 72),
    "german folk song": ("german", "4/4", 96),
}


# Styles known from a loaded checkpoint (a user's own style): name -> Style. Filled by the engine
# when it loads a checkpoint whose metadata describes styles STYLES does not know.
_CHECKPOINT_STYLES: dict[str, Style] = {}

USER_STYLE_DEFAULTS = {"meter": "4/4", "bpm": 96, "key": "C major", "program": 0, "voices": 1}


def style_from_defaults(name: str, defaults: dict | None) -> Style:
    """A user's style from the defaults a checkpoint stores for it (measured on its training
    pieces: the commonest meter, key, instrument and voice count, the median tempo)."""
    d = {**USER_STYLE_DEFAULTS, **{k: v for k, v in (defaults or {}).items() if v not in (None, "")}}
    pieces = d.get("pieces")
    desc = d.get("description") or ("your own style" + (f" ({pieces} training pieces)" if pieces else ""))
    return Style(name, desc, int(round(float(d["bpm"]))), str(d["meter"]), int(d["program"]) % 128, (),
                 guidance=0.0, default_key=str(d["key"]), voices=max(1, min(4, int(d["voices"]))), user=True)


def register_styles(defaults: dict[str, dict]) -> None:
    """Make the styles a checkpoint knows (and STYLES does not) usable by name."""
    for name, d in defaults.items():
        if name not in STYLES:
            _CHECKPOINT_STYLES[name] = style_from_defaults(name, d)


def known_styles() -> dict[str, Style]:
    return {**STYLES, **_CHECKPOINT_STYLES}


def get_style(name: str) -> Style:
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    known = known_styles()
    if key in known:
        return known[key]
    guess = difflib.get_close_matches(key, list(known) + list(ALIASES), n=1, cutoff=0.6)
    hint = f"; did you mean '{guess[0]}'?" if guess else ""
    raise StyleError(f"unknown style {name!r}{hint} (known: {', '.join(known)})")


def style_names() -> list[str]:
    return list(known_styles())
