"""User text on its way into files: titles, prompts and metadata lose terminal escape sequences
and control characters (which XML 1.0 forbids and a terminal obeys), keep every printable
character of any script, and have their whitespace collapsed to single spaces."""
from __future__ import annotations

import re
import unicodedata

# ANSI/VT escape sequences (CSI ... final byte, OSC ... BEL/ST, two-character escapes).
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]")


def clean_text(text: str) -> str:
    """``text`` without escape sequences, control, format-less surrogate or non-character code
    points, whitespace runs collapsed: safe in XML, MIDI meta events, JSON and a terminal."""
    if not text:
        return ""
    text = _ESCAPES.sub(" ", str(text))
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch.isspace() or cat in ("Cc", "Cs", "Co") or 0xFDD0 <= ord(ch) <= 0xFDEF or (ord(ch) & 0xFFFE) == 0xFFFE:
            out.append(" ")  # tabs, newlines, controls, surrogates, private use, non-characters
        else:
            out.append(ch)
    return " ".join("".join(out).split())
