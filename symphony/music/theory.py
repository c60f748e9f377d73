"""Music theory helpers: pitch names, keys and modes (church modes and the Chinese pentatonic
modes), meters and tempo conventions.

>>> parse_key("D major")
Key(tonic='D', mode='major')
>>> parse_key("G zhi").scale_semitones()
(0, 2, 5, 7, 9)
>>> parse_key("Bb minor").tonic_pc
10
>>> parse_meter("6/8").beat_quarters
1.5
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from fractions import Fraction

from symphony.errors import TheoryError

PITCH_CLASS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
SHARP_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
LETTERS = "CDEFGAB"

# Seven-note reference scales (semitones above the tonic). Every mode is described by one of
# them so that scale degrees 1..7 mean the same thing across modes.
HEPTATONIC = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
}
# Chinese pentatonic modes 宫 商 角 徵 羽: the five rotations of the gong scale (1 2 3 5 6).
# Each lies inside the heptatonic mode named here, which provides its degree numbering.
PENTATONIC = {
    "gong": ((0, 2, 4, 7, 9), "major"),
    "shang": ((0, 2, 5, 7, 10), "dorian"),
    "jue": ((0, 3, 5, 8, 10), "phrygian"),
    "zhi": ((0, 2, 5, 7, 9), "mixolydian"),
    "yu": ((0, 3, 5, 7, 10), "minor"),
}
MODE_ALIASES = {
    "ionian": "major", "aeolian": "minor", "maj": "major", "min": "minor", "m": "minor",
    "dor": "dorian", "mix": "mixolydian", "phr": "phrygian", "lyd": "lydian", "loc": "locrian",
    "宫": "gong", "商": "shang", "角": "jue", "徵": "zhi", "羽": "yu", "chi": "zhi",
    "kung": "gong", "shang4": "shang", "chueh": "jue",
}
MODES = tuple(HEPTATONIC) + tuple(PENTATONIC)
# The note that tells a church mode from the major or minor scale with the same third (semitones
# above the final): dorian's major sixth, phrygian's minor second, lydian's raised fourth,
# mixolydian's minor seventh, locrian's diminished fifth. Without it a dorian tune is a minor one.
# Chromatic notes a mode also uses: a minor key's raised 6th and 7th (melodic and harmonic minor).
MODE_EXTRA_SEMITONES = {"minor": (9, 11)}
CHARACTERISTIC = {"dorian": 9, "phrygian": 1, "lydian": 6, "mixolydian": 10, "locrian": 6}


def spell_on(tonic: str, step: int, pc: int, flat: str = "b") -> str:
    """Pitch class `pc` written on the letter `step` letters above the letter of `tonic` (a note
    name), with as many sharps or `flat` signs ("-" for music21) as that letter needs: the one
    speller of chord letters, numerals, pentatonic scales and Chinese mode names.

    >>> spell_on("Bb", 2, 2), spell_on("F#", 4, 1), spell_on("C", 6, 10, "-"), spell_on("Db", 1, 3)
    ('D', 'C#', 'B-', 'Eb')
    """
    letter = LETTERS[(LETTERS.index(tonic[0].upper()) + step) % 7]
    alter = (pc - PITCH_CLASS[letter] + 6) % 12 - 6
    return letter + ("#" * alter if alter > 0 else flat * -alter)


def pitch_class(name: str) -> int:
    """Pitch class of a note name such as 'C', 'F#', 'Bb', 'E-' (music21 flat)."""
    m = re.fullmatch(r"([A-Ga-g])([#b\-♯♭]*)", name.strip())
    if not m:
        raise TheoryError(f"unknown note name {name!r}; use a letter A-G with # or b")
    pc = PITCH_CLASS[m.group(1).upper()]
    for ch in m.group(2):
        pc += 1 if ch in "#♯" else -1
    return pc % 12


@dataclass(frozen=True)
class Key:
    tonic: str  # spelled name, e.g. "Bb", "F#"
    mode: str  # one of MODES

    @property
    def tonic_pc(self) -> int:
        return pitch_class(self.tonic)

    @property
    def reference_mode(self) -> str:
        """The heptatonic mode that numbers this key's scale degrees."""
        return PENTATONIC[self.mode][1] if self.mode in PENTATONIC else self.mode

    @property
    def is_minor_like(self) -> bool:
        return HEPTATONIC[self.reference_mode][2] == 3

    def scale_semitones(self) -> tuple[int, ...]:
        """Semitones above the tonic of the notes of this mode's scale."""
        if self.mode in PENTATONIC:
            return PENTATONIC[self.mode][0]
        return HEPTATONIC[self.mode]

    def degree_semitones(self) -> tuple[int, ...]:
        return HEPTATONIC[self.reference_mode]

    def __str__(self) -> str:
        return f"{self.tonic} {self.mode}"


def _normalise_tonic(raw: str) -> str:
    raw = raw.strip().replace("♯", "#").replace("♭", "b")
    letter, acc = raw[0].upper(), raw[1:].lower().replace(" ", "")
    acc = acc.replace("-sharp", "#").replace("-flat", "b").replace("sharp", "#").replace("flat", "b")
    return letter + acc.replace("-", "b")  # music21 writes flats as '-' 


def parse_key(text: str) -> Key:
    """Parse 'D major', 'Bb minor', 'F# dorian', 'G zhi', 'Am', 'c minor'."""
    original = text
    t = text.strip()
    m = re.fullmatch(r"([A-Ga-g])(-?sharp|-?flat| sharp| flat|#|b|♯|♭|-)?\s*(.*)", t, flags=re.IGNORECASE)
    if not m:
        raise TheoryError(_unknown_key_message(original))
    tonic = _normalise_tonic(m.group(1) + (m.group(2) or ""))
    mode_raw = (m.group(3) or "major").strip().lower() or "major"
    if mode_raw in ("", "major key"):
        mode_raw = "major"
    mode = MODE_ALIASES.get(mode_raw, mode_raw)
    if mode not in MODES:
        raise TheoryError(_unknown_key_message(original))
    pitch_class(tonic)  # validates
    return Key(tonic, mode)


def _unknown_key_message(text: str) -> str:
    candidates = [f"{t} {m}" for t in ("C", "D", "E", "F", "G", "A", "B") for m in MODES]
    guess = difflib.get_close_matches(text.strip(), candidates, n=1, cutoff=0.5)
    hint = f"; did you mean '{guess[0]}'?" if guess else ""
    return (f"unknown key {text!r}{hint} (write a tonic A-G with optional # or b and a mode: "
            f"{', '.join(MODES)})")


@dataclass(frozen=True)
class Meter:
    numerator: int
    denominator: int

    @property
    def bar_quarters(self) -> Fraction:
        return Fraction(4 * self.numerator, self.denominator)

    @property
    def is_compound(self) -> bool:
        return self.denominator == 8 and self.numerator % 3 == 0 and self.numerator > 3

    @property
    def beat_quarters(self) -> float:
        """Length of the beat musicians count, in quarter notes (tempo is given per beat)."""
        if self.is_compound:
            return 1.5
        return 4 / self.denominator

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"


SUPPORTED_METERS = ("2/4", "3/4", "4/4", "2/2", "3/2", "6/8", "9/8", "12/8", "3/8", "6/4", "5/4")


def parse_meter(text: str) -> Meter:
    t = str(text).strip().replace(" ", "")
    if t.upper() == "C":
        t = "4/4"
    if t in ("C|", "c|"):
        t = "2/2"
    if t not in SUPPORTED_METERS:
        raise TheoryError(f"unsupported meter {text!r}; choose one of {', '.join(SUPPORTED_METERS)}")
    n, d = t.split("/")
    return Meter(int(n), int(d))


# Meters a single bar may carry inside a mixed-meter piece (folk songs insert 1/4 or 5/8 bars).
BAR_METERS = tuple(f"{n}/{d}" for d in (2, 4, 8, 16) for n in range(1, 17) if 4 * n / d <= 8)


def meter_for_quarters(quarters: Fraction | float) -> str:
    """The plainest meter whose bar lasts `quarters` quarter notes (for irregular bars)."""
    q = Fraction(quarters).limit_denominator(16)
    for d in (4, 8, 16, 2):
        n = q * d / 4
        if n.denominator == 1 and f"{n.numerator}/{d}" in BAR_METERS:
            return f"{n.numerator}/{d}"
    raise TheoryError(f"no meter has bars of {float(quarters)} quarter notes")


def bar_meter_quarters(text: str) -> Fraction:
    if text not in BAR_METERS and text not in SUPPORTED_METERS:
        raise TheoryError(f"unsupported bar meter {text!r}")
    n, d = text.split("/")
    return Fraction(4 * int(n), int(d))


def bpm_to_quarter_bpm(bpm: float, meter: Meter) -> float:
    """Musician's tempo (beats of the meter per minute) -> quarter notes per minute (MIDI)."""
    return bpm * meter.beat_quarters


def quarter_bpm_to_bpm(qbpm: float, meter: Meter) -> float:
    return qbpm / meter.beat_quarters
