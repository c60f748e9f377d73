"""Which staves a part is written on, and its labels: the clef of a voice (SATB as a choir
reads them: soprano and alto in treble clef, tenor in the octave-treble clef, bass in bass clef),
an accompaniment on a grand staff (treble and bass, split at middle C), and the part's name and
abbreviation on every system."""
from __future__ import annotations

from statistics import median

from symphony.music.score import Part

MIDDLE_C = 60
TREBLE, TREBLE_8VB, BASS = "treble", "treble8vb", "bass"
# voice names as parts are called in Symphony and in choral scores (English, German, Italian)
_VOICE_CLEFS = {"soprano": TREBLE, "sopran": TREBLE, "alto": TREBLE, "alt": TREBLE, "treble": TREBLE,
                "melody": None, "tenor": TREBLE_8VB, "tenore": TREBLE_8VB, "bass": BASS, "basso": BASS,
                "baritone": BASS, "bariton": BASS}
ABBREVIATIONS = {"soprano": "S.", "alto": "A.", "tenor": "T.", "bass": "B.", "accompaniment": "Acc.",
                 "melody": "Mel.", "piano": "Pno.", "organ": "Org.", "violin": "Vln.", "flute": "Fl.",
                 "chords": "Ch."}
KEYBOARD_PROGRAMS = range(24)  # General MIDI pianos, chromatic percussion and organs
ACCOMPANIMENT_NAMES = ("accompaniment", "piano", "keyboard", "organ", "chords", "harpsichord")


def _word(name: str) -> str:
    return name.strip().lower().split(" ")[0].rstrip(".0123456789") if name.strip() else ""


def is_voice(name: str) -> bool:
    """Is this the name of a choir's voice (soprano, alto, tenor, bass ...)?"""
    return bool(_VOICE_CLEFS.get(_word(name)))


def clef_for(part: Part) -> str:
    """The clef of a single-staff part: by the voice its name gives, else by its notes (treble
    from a median of G3 up with nothing below E3 -- violin, flute, a melody -- bass otherwise)."""
    by_name = _VOICE_CLEFS.get(_word(part.name))
    if by_name:
        return by_name
    pitches = [n.pitch for n in part.notes]
    if not pitches:
        return TREBLE
    return TREBLE if median(pitches) >= 55 and min(pitches) >= 52 else BASS


def is_grand_staff(part: Part) -> bool:
    """An accompaniment or a keyboard part that plays chords across middle C goes on a grand
    staff; single voices (an SATB voice on an organ sound) stay on one staff."""
    pitches = [n.pitch for n in part.notes]
    if not pitches or _word(part.name) in _VOICE_CLEFS:
        return False
    keyboard = _word(part.name) in ACCOMPANIMENT_NAMES or part.program in KEYBOARD_PROGRAMS
    onsets = [n.onset for n in part.notes]
    chordal = len(set(onsets)) < len(onsets)
    return keyboard and chordal and min(pitches) < MIDDLE_C - 2 and max(pitches) > MIDDLE_C + 2


def split_hands(notes: list) -> tuple[list, list]:
    """(treble staff, bass staff) notes of a grand staff: middle C and above on the treble."""
    return [n for n in notes if n.pitch >= MIDDLE_C], [n for n in notes if n.pitch < MIDDLE_C]


def abbreviation(name: str) -> str:
    """The label of a part on the systems after the first: S. A. T. B. for the voices, the
    usual abbreviation of an instrument, else the name itself."""
    return ABBREVIATIONS.get(_word(name), name)


def music21_clef(kind: str):
    """A music21 clef: treble, treble8vb, bass, or a music21 clef class name read from a file
    ("AltoClef")."""
    from music21 import clef
    known = {TREBLE: clef.TrebleClef, TREBLE_8VB: clef.Treble8vbClef, BASS: clef.BassClef}
    cls = known.get(kind) or getattr(clef, kind, None)
    if not (isinstance(cls, type) and issubclass(cls, clef.Clef)) or kind in ("Clef", "PitchClef"):
        cls = clef.TrebleClef
    return cls()
