"""Prompt parsing: explicit musical terms in English text -> attributes, with an explanation of
what was understood. (Free text, Chinese, images and audio come later; see the roadmap.)

>>> u = parse_prompt("a lively Irish jig in D major, 16 bars")
>>> u.attributes["style"], u.attributes["key"], u.attributes["meter"], u.attributes["bars"]
('celtic', 'D major', '6/8', 16)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .styles import ALIASES, GENRES, STYLES
from .theory import MODE_ALIASES, MODES, SUPPORTED_METERS

_MODE_WORDS = sorted(set(MODES) | {k for k in MODE_ALIASES if k.isascii() and len(k) > 1}, key=len, reverse=True)
KEY_RE = re.compile(r"\b([A-Ga-g])(#|b|♯|♭|-sharp|-flat| sharp| flat)?[\s-]*(" + "|".join(_MODE_WORDS) + r")\b",
                    re.IGNORECASE)
TONIC_ONLY_RE = re.compile(r"\bin ([A-G])(#|b|♯|♭| flat| sharp)?(?![\w#♯♭])")
METER_RE = re.compile(r"(?<!\d)(\d{1,2})\s*/\s*(\d{1,2})(?!\d)")
TEMPO_RE = re.compile(r"\b(\d{2,3})\s*(?:bpm|beats per minute|beats/min)\b", re.IGNORECASE)
BARS_RE = re.compile(r"\b(\d{1,3})\s*(?:bars?|measures?)\b", re.IGNORECASE)
TEMPO_WORDS = {  # multiplicative tempo changes from plain tempo words
    "very slow": 0.65, "slow": 0.8, "gentle": 0.9, "calm": 0.85, "relaxed": 0.9,
    "lively": 1.15, "fast": 1.2, "quick": 1.2, "brisk": 1.15, "energetic": 1.15, "very fast": 1.35,
}


@dataclass
class Understood:
    attributes: dict = field(default_factory=dict)
    explanation: list[str] = field(default_factory=list)
    tempo_factor: float = 1.0


def parse_prompt(text: str) -> Understood:
    u = Understood()
    if not text or not text.strip():
        return u
    low = text.lower()
    _parse_genre_and_style(low, u)
    _parse_key(text, u)
    m = METER_RE.search(text)
    if m:
        meter = f"{int(m.group(1))}/{int(m.group(2))}"
        if meter in SUPPORTED_METERS:
            u.attributes["meter"] = meter
            u.explanation.append(f"'{m.group(0)}' → meter {meter}")
        else:
            u.explanation.append(f"'{m.group(0)}' is not a supported meter; ignored")
    m = TEMPO_RE.search(text)
    if m:
        u.attributes["tempo"] = float(m.group(1))
        u.explanation.append(f"'{m.group(0)}' → {m.group(1)} bpm")
    m = BARS_RE.search(text)
    if m:
        u.attributes["bars"] = int(m.group(1))
        u.explanation.append(f"'{m.group(0)}' → {m.group(1)} bars")
    for word in sorted(TEMPO_WORDS, key=len, reverse=True):
        if re.search(rf"\b{word}\b", low):
            u.tempo_factor = TEMPO_WORDS[word]
            u.explanation.append(f"'{word}' → tempo × {TEMPO_WORDS[word]}")
            break
    return u


def _parse_genre_and_style(low: str, u: Understood) -> None:
    for genre in sorted(GENRES, key=len, reverse=True):
        if re.search(rf"\b{genre}s?\b", low):
            style, meter, bpm = GENRES[genre]
            u.attributes.update({"genre": genre, "style": style, "meter": meter, "genre_bpm": bpm})
            u.explanation.append(f"'{genre}' → {style}, {meter}, about {bpm} bpm")
            break
    words = {**{s: s for s in STYLES}, **ALIASES}
    for word in sorted(words, key=len, reverse=True):
        if re.search(rf"\b{re.escape(word)}\b", low):
            style = words[word]
            if u.attributes.get("style") != style:
                u.attributes["style"] = style
                u.explanation.append(f"'{word}' → style {style}")
            break


def _parse_key(text: str, u: Understood) -> None:
    m = KEY_RE.search(text)
    if m:
        acc = (m.group(2) or "").strip().lstrip("-")
        acc = {"sharp": "#", "flat": "b", "♯": "#", "♭": "b"}.get(acc, acc)
        mode = m.group(3).lower()
        mode = MODE_ALIASES.get(mode, mode)
        key = f"{m.group(1).upper()}{acc} {mode}"
        u.attributes["key"] = key
        u.explanation.append(f"'{m.group(0).strip()}' → key {key}")
        return
    m = TONIC_ONLY_RE.search(text)
    if m:
        acc = (m.group(2) or "").strip()
        acc = {"♯": "#", "♭": "b", "flat": "b", "sharp": "#"}.get(acc, acc)
        mode = "major"
        if "pentatonic" in text.lower():
            mode = "gong"
        key = f"{m.group(1)}{acc} {mode}"
        u.attributes["key"] = key
        u.explanation.append(f"'{m.group(0)}' → key {key}" + (" (pentatonic → gong mode)" if mode == "gong" else ""))
