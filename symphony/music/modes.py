"""Modal analysis: name the tonic and mode of a piece among all 12 modes x 12 tonics, from its
notes alone (never from the request or ``score.key``).

music21's key analysis (Krumhansl-Schmuckler / Aarden-Essen profiles) knows major and minor only
and expects the perfect fifth above the tonic, so it hears E jue (C D E G A ending on E) and B
locrian as their relative major. This module uses the two criteria of modal theory instead:

(a) **The pitch collection.** Church-mode theory and the Chinese gong system (宫调系统) both
    describe a mode as a fixed set of pitch classes: a diatonic (seven-note) collection, or a
    pentatonic one (the gong scale 1 2 3 5 6 and its rotations). We take the duration-weighted
    pitch-class histogram of all notes (shares summing to 1) and score every candidate scale S:

        fit(S) = share of the duration inside S  -  ABSENT_PENALTY x (tones of S sounding < ABSENT_SHARE)

    The first term prefers the collection holding the most music; the second stops a seven-note
    collection from winning a pentatonic tune just because it contains it (two of its tones
    would be silent), while a pentatonic collection loses a heptatonic tune through the share
    of its two missing tones. A sixth tone sounding for less than ABSENT_PENALTY of the piece
    is treated as ornamental (a pentatonic tune with passing notes stays pentatonic).

(b) **The final.** The mode's tonic is the closing note: the *finalis* of church-mode theory and
    the 主音 of Chinese mode theory (the gong system fixes the pitch set, the closing note names
    the mode: 宫 商 角 徵 羽). The final is the last note of the melody, i.e. the top part's last
    note; in multi-part music the lowest voice's last note (the bass carries the final, as in a
    chorale's closing chord). A chord as the last event counts by its lowest note.

The answer is the best-fitting scale whose tonic is the final. If the final lies outside every
well-fitting collection (fit more than FINAL_SLACK below the best collection overall), the final
is not trusted and the best collection overall is answered with its most-sounded candidate tonic;
the evidence says so. Exact ties (a hexatonic tune lacking its sixth fits dorian and aeolian
equally) are broken by the order of PREFERENCE (plain major/minor first, then the church modes,
then the pentatonic modes), an explicit prior rather than evidence.

Design constants were chosen on a tuning half of the labelled O'Neill / Ryan / Essen tunes
(benchmarks/modal_analysis.py, which reports the held-out half separately).

>>> from symphony.score import Note, Part, Score
>>> from symphony.theory import Key, parse_meter
>>> melody = [Note(p, i, 1.0) for i, p in enumerate([60, 62, 64, 67, 69, 67, 64, 62, 64])]
>>> analyze_mode(Score([Part(melody)], Key("C", "major"), parse_meter("4/4"), 96, 3))[0]
Key(tonic='E', mode='jue')
"""
from __future__ import annotations

from symphony.music.score import Note, Score
from symphony.music.theory import HEPTATONIC, MODES, SHARP_NAMES, Key

ABSENT_SHARE = 0.02  # a scale tone sounding for less than this share of the duration counts as absent
ABSENT_PENALTY = 0.05  # fit lost per absent scale tone
FINAL_SLACK = 0.15  # how far below the best collection the final's best scale may fit and still be trusted
# Tie-break order (an explicit prior, used only on exactly equal fits).
PREFERENCE = ("major", "minor", "mixolydian", "dorian", "lydian", "phrygian", "locrian",
              "gong", "yu", "zhi", "shang", "jue")
assert set(PREFERENCE) == set(MODES)


def pitch_class_histogram(notes: list[Note]) -> list[float]:
    """Duration-weighted pitch-class shares (sum 1; all zero for no notes)."""
    h = [0.0] * 12
    for n in notes:
        h[n.pitch % 12] += max(float(n.duration), 0.0)
    total = sum(h)
    if total <= 0:  # all zero-length: count notes instead
        for n in notes:
            h[n.pitch % 12] += 1.0
        total = sum(h)
    return [x / total for x in h] if total else h


def final_note(score: Score) -> Note | None:
    """The closing note: the top part's last note for a melody, the lowest voice's last note for
    multi-part music (the part with the lowest mean pitch); a final chord counts by its lowest note."""
    parts = [p for p in score.parts if p.notes]
    if not parts:
        return None
    part = parts[0] if len(parts) == 1 else min(parts, key=lambda p: sum(n.pitch for n in p.notes) / len(p.notes))
    last = max(n.onset for n in part.notes)
    return min((n for n in part.notes if abs(n.onset - last) < 1e-6), key=lambda n: n.pitch)


def scale_fit(hist: list[float], tonic_pc: int, mode: str) -> float:
    """fit(S) of the module docstring for the scale of `mode` on `tonic_pc`."""
    scale = {(tonic_pc + s) % 12 for s in Key("C", mode).scale_semitones()}
    inside = sum(hist[p] for p in scale)
    absent = sum(1 for p in scale if hist[p] < ABSENT_SHARE)
    return inside - ABSENT_PENALTY * absent


def _rank(fit: float, tonic_pc: int, mode: str, hist: list[float]):
    # higher fit first; exact ties (the rotations of one collection) by how much the tonic
    # sounds, then by the mode prior
    return (-round(fit, 9), -hist[tonic_pc], PREFERENCE.index(mode))


def analyze_mode(score: Score) -> tuple[Key, dict]:
    """Tonic and mode among the 12 MODES x 12 tonics, from the notes (see the module docstring).

    Returns the Key and the evidence: ``final`` (the closing note's name), ``histogram`` (pitch-class
    shares, C..B), ``best_collection`` (best scale overall, ignoring the final, with its fit),
    ``fit`` (the answer's fit), ``final_trusted``, ``pentatonic`` and ``runners_up`` (the next
    scales on the final, and the next collections overall, each as [key, fit])."""
    notes = score.all_notes()
    if not notes:
        raise ValueError("no notes to analyse")
    hist = pitch_class_histogram(notes)
    fin = final_note(score)
    fpc = fin.pitch % 12
    cands = [(scale_fit(hist, t, m), t, m) for t in range(12) for m in MODES]
    cands.sort(key=lambda c: _rank(c[0], c[1], c[2], hist))
    best_overall = cands[0]
    on_final = [c for c in cands if c[1] == fpc]
    trusted = on_final[0][0] >= best_overall[0] - FINAL_SLACK
    if trusted:
        choice = on_final[0]
        runners = on_final[1:4]
    else:  # the final is foreign to the piece's collection: answer the best collection overall
        choice = best_overall
        runners = cands[1:4]
    key = Key(SHARP_NAMES[choice[1]], choice[2])
    evidence = {
        "final": SHARP_NAMES[fpc],
        "final_trusted": trusted,
        "histogram": [round(x, 4) for x in hist],
        "fit": round(choice[0], 4),
        "pentatonic": choice[2] not in HEPTATONIC,
        "best_collection": [f"{SHARP_NAMES[best_overall[1]]} {best_overall[2]}", round(best_overall[0], 4)],
        "runners_up": [[f"{SHARP_NAMES[t]} {m}", round(f, 4)] for f, t, m in runners],
        "runners_up_overall": [[f"{SHARP_NAMES[t]} {m}", round(f, 4)] for f, t, m in cands[1:4]],
    }
    return key, evidence


def compatible(found: Key, label: Key) -> bool:
    """Same tonic and one scale contains the other (A yu inside A dorian or A minor, G gong inside
    G major): a pentatonic answer is consistent with a seven-note label and vice versa."""
    if found.tonic_pc != label.tonic_pc:
        return False
    a, b = set(found.scale_semitones()), set(label.scale_semitones())
    return a <= b or b <= a
