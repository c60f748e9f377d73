"""Chords: parsing a progression the user writes, chord tones, and where chords fall in a piece.

A progression is written as chord symbols (``"G C D G"``, ``"Am F C G7"``, ``"F#m7b5 B7 Em"``)
or as Roman numerals relative to the key (``"I IV V I"``, ``"i iv V7 i"``). Bars are separated
by ``|`` when a bar holds more than one chord (``"G C | D G"``: two chords in each of two bars);
without ``|`` every chord fills one bar. A progression shorter than the piece is repeated.
Chords inside a bar share it equally (rounded to beats).

Symbols are parsed by music21 (``harmony.ChordSymbol`` / ``roman.RomanNumeral``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from symphony.errors import RequestError
from symphony.music.theory import HEPTATONIC, SHARP_NAMES, Key, Meter

MAX_CHORDS = 1024


@dataclass(frozen=True)
class Chord:
    symbol: str  # as written by the user (Roman numerals are kept as written)
    root_pc: int
    pcs: frozenset[int]  # pitch classes of the chord tones
    bass_pc: int
    figure: str = ""  # letter-name chord symbol written into scores (G7, Bb, F#m7b5)

    def contains(self, midi: int) -> bool:
        return midi % 12 in self.pcs


@dataclass(frozen=True)
class ChordSpan:
    chord: Chord
    onset: float  # quarter lengths from the start of the piece
    duration: float

    @property
    def end(self) -> float:
        return self.onset + self.duration


_ROMAN = re.compile(r"^(b|#)?(iii|ii|iv|vii|vi|v|i|III|II|IV|VII|VI|V|I)(.*)$")


@lru_cache(maxsize=512)
def parse_chord(text: str, key: Key) -> Chord:
    """One chord symbol or Roman numeral → Chord. Raises RequestError when it cannot be read."""
    from music21 import harmony, roman
    from music21 import key as m21key
    t = text.strip()
    if not t:
        raise RequestError("empty chord symbol")
    try:
        if _ROMAN.match(t):
            mode = "minor" if key.is_minor_like else "major"
            rn = roman.RomanNumeral(t, m21key.Key(key.tonic.replace("b", "-"), mode))
            pitches = rn.pitches
            root, bass = rn.root(), rn.bass()
        else:
            cs = harmony.ChordSymbol(re.sub(r"(^|/)([A-G])b", r"\1\2-", t))  # Bb7, Cm/Eb: music21's flats
            pitches = cs.pitches
            root, bass = cs.root(), cs.bass()
        if not pitches:
            raise ValueError("no pitches")
        figure = t
        if _ROMAN.match(t):
            from music21 import chord as m21chord
            figure = harmony.chordSymbolFigureFromChord(m21chord.Chord(pitches)).replace("-", "b")
            if "Chord Symbol Cannot Be Identified" in figure:
                figure = t
    except Exception:  # music21 raises many kinds of errors for unreadable symbols
        raise RequestError(f"cannot read chord {text!r} (write symbols like G, Am, D7, F#m7b5, Bb "
                           f"or Roman numerals like I IV V7 vi)") from None
    return Chord(t, root.pitchClass, frozenset(p.pitchClass for p in pitches), bass.pitchClass, figure)


def parse_progression(text: str, key: Key) -> list[list[Chord]]:
    """'G C | D G' → [[G, C], [D, G]]; 'G C D G' → [[G], [C], [D], [G]]."""
    text = (text or "").strip()
    if not text:
        raise RequestError("--chords is empty; write chords like 'G C D G'")
    bars_txt = [b for b in text.split("|")] if "|" in text else text.replace(",", " ").split()
    out = []
    for b in bars_txt:
        names = b.replace(",", " ").split()
        if not names:
            raise RequestError(f"empty bar in chord progression {text!r}")
        out.append([parse_chord(n, key) for n in names])
    if sum(len(b) for b in out) > MAX_CHORDS:
        raise RequestError(f"at most {MAX_CHORDS} chords")
    return out


def layout(progression: list[list[Chord]], meter: Meter, bars: int) -> list[ChordSpan]:
    """Place the progression on the bars of a piece (repeating it as needed). Chords in a bar
    split it equally, on beat boundaries where the bar has enough beats."""
    bar_q = float(meter.bar_quarters)
    beat_q = meter.beat_quarters
    n_beats = max(1, round(bar_q / beat_q))
    spans = []
    for b in range(bars):
        chords = progression[b % len(progression)]
        k = len(chords)
        if k > n_beats and k * 1.0 > bar_q * 2:
            raise RequestError(f"{k} chords do not fit in a bar of {meter}")
        for i, ch in enumerate(chords):
            if k <= n_beats:
                start_beat, end_beat = round(i * n_beats / k), round((i + 1) * n_beats / k)
                on, off = start_beat * beat_q, end_beat * beat_q
            else:
                on, off = i * bar_q / k, (i + 1) * bar_q / k
            spans.append(ChordSpan(ch, b * bar_q + on, off - on))
    return spans


def chord_at(spans: list[ChordSpan], onset: float) -> Chord | None:
    for s in spans:
        if s.onset - 1e-6 <= onset < s.end - 1e-6:
            return s.chord
    return None


def strong_beat_onsets(meter: Meter) -> list[float]:
    """Onsets (quarter lengths within a bar) of the beats musicians count: every beat of the
    meter (a dotted quarter in compound meters)."""
    bar_q = float(meter.bar_quarters)
    beat_q = meter.beat_quarters
    out, t = [], 0.0
    while t < bar_q - 1e-6:
        out.append(t)
        t += beat_q
    return out


def chord_tone_rate(melody_notes, spans: list[ChordSpan], meter: Meter,
                    bars: list[tuple[float, float, float]] | None = None) -> tuple[int, int]:
    """(chord tones, notes) among melody notes that start on a beat: the chord-control measure.
    ``bars`` lists (start, length, beat) in quarters when the bars are irregular (e.g.
    ``editing.bar_layout``); by default every bar has the meter's length and beat."""
    if bars is None:
        bar_q = float(meter.bar_quarters)
        last = max((n.onset for n in melody_notes), default=0.0)
        bars = [(i * bar_q, bar_q, meter.beat_quarters) for i in range(int(last // bar_q) + 1)]
    beats = set()
    for start, length, beat in bars:
        t = 0.0
        while t < length - 1e-6:
            beats.add(round(start + t, 4))
            t += beat
    hit = total = 0
    for n in melody_notes:
        if round(n.onset, 4) not in beats:
            continue
        ch = chord_at(spans, n.onset)
        if ch is None:
            continue
        total += 1
        hit += ch.contains(n.pitch)
    return hit, total


def accompaniment(spans: list[ChordSpan], meter: Meter, style: str, low: int = 40) -> list[tuple[int, float, float]]:
    """A simple accompaniment as (pitch, onset, duration) notes: the root in the bass on the
    first beat of each chord, then the upper chord tones on the following beats (an "oom-pah"
    for dances; sustained chords for chorales). Voicing: bass in octave 2-3, chord in 3-4."""
    beat_q = meter.beat_quarters
    notes = []
    for s in spans:
        ch = s.chord
        bass = low + (ch.bass_pc - low) % 12
        upper = sorted(55 + (pc - 55) % 12 for pc in ch.pcs)
        if style in ("chorale", "renaissance") or s.duration <= beat_q + 1e-6:
            notes.append((bass, s.onset, s.duration))
            notes += [(p, s.onset, s.duration) for p in upper]
            continue
        notes.append((bass, s.onset, beat_q))
        t = s.onset + beat_q
        while t < s.end - 1e-6:
            d = min(beat_q, s.end - t)
            notes += [(p, t, d) for p in upper]
            t += beat_q
    return notes


# ----------------------------------------------------------------------------- chord labels
# Estimating the harmony of an existing score: the targets of the auxiliary chord-prediction
# loss (train.py) and a realism measure (the chord-class distribution of generated pieces).
#
# Polyphonic scores get a chord per beat from the notes sounding in it (all parts; notes
# sounding at the beat weigh double, and the bass helps pick the root). Melodies get a chord
# per half bar (a whole bar in triple and other odd meters) from duration-weighted notes
# (notes on beats weigh double), choosing the best-fitting triad; diatonic triads of the key
# and the tonic, dominant and subdominant are preferred when the notes leave a choice.
# A label is a class relative to the tonic: root semitone over the tonic (0-11) x quality
# (major, minor, other), plus NO_CHORD for windows without notes.

CHORD_QUALITIES = ("major", "minor", "other")
N_CHORD_CLASSES = 12 * len(CHORD_QUALITIES) + 1
NO_CHORD = N_CHORD_CLASSES - 1

# (intervals over the root, quality, symbol suffix); the triads come first.
_TRIADS = (((0, 4, 7), "major", ""), ((0, 3, 7), "minor", "m"), ((0, 3, 6), "other", "dim"),
           ((0, 4, 8), "other", "aug"))
_SEVENTHS = (((0, 4, 7, 10), "major", "7"), ((0, 3, 7, 10), "minor", "m7"),
             ((0, 4, 7, 11), "major", "maj7"), ((0, 3, 6, 10), "other", "m7b5"),
             ((0, 3, 6, 9), "other", "dim7"))


def chord_quality(chord: Chord) -> str:
    """major (a major third and perfect fifth over the root), minor, or other."""
    rel = {(pc - chord.root_pc) % 12 for pc in chord.pcs}
    if 7 in rel and 4 in rel and 3 not in rel:
        return "major"
    if 7 in rel and 3 in rel and 4 not in rel:
        return "minor"
    return "other"


def chord_class(chord: Chord | None, key: Key) -> int:
    """Class index of a chord relative to the key's tonic: root semitone x 3 + quality."""
    if chord is None:
        return NO_CHORD
    return ((chord.root_pc - key.tonic_pc) % 12) * 3 + CHORD_QUALITIES.index(chord_quality(chord))


def chord_class_name(cls: int) -> str:
    """'I', 'v', 'bVII', 'ii°'-style name of a class (degrees of the major scale)."""
    if cls == NO_CHORD:
        return "N"
    root, q = divmod(cls, 3)
    names = ("I", "bII", "II", "bIII", "III", "IV", "#IV", "V", "bVI", "VI", "bVII", "VII")
    n = names[root]
    return n.lower() if q == 1 else n + "°" if q == 2 else n


@lru_cache(maxsize=16)
def _candidates(reference_mode: str, poly: bool):
    """Template matrix (candidates x 12, relative to the tonic), root, size and prior bonus
    of every candidate chord for a mode."""
    import numpy as np
    scale = HEPTATONIC[reference_mode]
    diatonic = set()
    for i in range(7):  # triads stacked in thirds on each degree
        root = scale[i]
        diatonic.add((root, tuple(sorted({0, (scale[(i + 2) % 7] - root) % 12, (scale[(i + 4) % 7] - root) % 12}))))
    if scale[2] == 3:  # minor-like: the harmonic-minor dominant and leading-note triad
        diatonic |= {(7, (0, 4, 7)), (11, (0, 3, 6))}
    templates = _TRIADS + (_SEVENTHS if poly else ())
    prior = {0: 0.1, 7: 0.07, 5: 0.05} if not poly else {0: 0.03, 7: 0.02}
    rows, roots, sizes, bonus, labels = [], [], [], [], []
    for root in range(12):
        for ivs, quality, suffix in templates:
            row = np.zeros(12)
            row[[(root + i) % 12 for i in ivs]] = 1.0
            rows.append(row)
            roots.append(root)
            sizes.append(len(ivs))
            b = 0.0
            if (root, tuple(ivs[:3])) in diatonic:
                b += (0.2 if not poly else 0.1) + prior.get(root, 0.0)
            if len(ivs) > 3:
                b -= 0.05  # a triad wins a tie with its seventh chord
            bonus.append(b)
            labels.append((ivs, suffix))
    return (np.array(rows), np.array(roots), np.array(sizes, dtype=float), np.array(bonus), labels)


def chord_windows(score) -> list[tuple[float, float]]:
    """(onset, end) in quarters of the windows label_chords gives a chord each."""
    poly = len(score.parts) > 1
    changes = score.bar_meters
    bar_q = float(score.meter.bar_quarters)
    bars = ([(float(s), float(_bar_quarters_of(m))) for s, m in changes] if changes
            else [(i * bar_q, bar_q) for i in range(score.bars)])
    out = []
    for i, (start, length) in enumerate(bars):
        if i + 1 < len(bars):
            length = bars[i + 1][0] - start
        meter = changes[i][1] if changes else str(score.meter)
        num, den = (int(x) for x in meter.split("/"))
        beat = 1.5 if den == 8 and num % 3 == 0 and num > 3 else 4 / den
        n_beats = max(1, round(length / beat))
        if poly:
            step = beat
        else:
            step = length / 2 if n_beats % 2 == 0 else length
        t = 0.0
        while t < length - 1e-6:
            out.append((start + t, start + min(t + step, length)))
            t += step
    return out


def _bar_quarters_of(meter: str) -> float:
    num, den = (int(x) for x in meter.split("/"))
    return 4 * num / den


def label_chords(score) -> list[ChordSpan]:
    """The estimated chord of every beat (polyphony) or half bar / bar (melody) of a Score;
    windows without notes get no span (chord_class_at gives NO_CHORD there)."""
    import bisect

    import numpy as np
    poly = len(score.parts) > 1
    windows = chord_windows(score)
    if not windows:
        return []
    starts = [a for a, _ in windows]
    W = np.zeros((len(windows), 12))
    bass_on = [999] * len(windows)  # lowest pitch sounding at the window's start
    bass_any = [999] * len(windows)
    eps = 1e-6
    beat_q = score.meter.beat_quarters
    for part in score.parts:
        for n in part.notes:
            k = max(bisect.bisect_right(starts, n.onset + eps) - 1, 0)
            end = n.onset + n.duration
            while k < len(windows) and windows[k][0] < end - eps:
                a, b = windows[k]
                overlap = min(b, end) - max(a, n.onset)
                if overlap > eps:
                    if poly:
                        at_start = n.onset <= a + eps
                        if at_start:
                            bass_on[k] = min(bass_on[k], n.pitch)
                    else:  # notes that start on a beat (or sound into the window) weigh double
                        at_start = n.onset < a + eps or abs(((n.onset - a) / beat_q + eps) % 1) < 2 * eps
                    W[k, n.pitch % 12] += overlap * (2.0 if at_start else 1.0)
                    bass_any[k] = min(bass_any[k], n.pitch)
                k += 1
    tonic = score.key.tonic_pc
    Wrel = np.roll(W, -tonic, axis=1)  # column j: j semitones over the tonic
    M, roots, sizes, bonus, labels = _candidates(score.key.reference_mode, poly)
    total = Wrel.sum(1, keepdims=True)
    inside = Wrel @ M.T
    alpha, beta = (1.0, 0.12) if poly else (0.6, 0.12)
    present = (Wrel > 0).astype(float) @ M.T
    root_present = (Wrel > 0)[:, roots]
    score_m = (inside - alpha * (total - inside)) / np.maximum(total, eps) - beta * (sizes - present)
    score_m = score_m - (0.1 if poly else 0.04) * ~root_present + bonus  # melodies skip roots
    if poly:
        bass = np.array([b if b < 999 else a for b, a in zip(bass_on, bass_any)])
        bass_rel = (bass - tonic) % 12
        score_m = score_m + 0.15 * (bass_rel[:, None] == roots[None, :])
    best = score_m.argmax(1)
    spans = []
    for k, (a, b) in enumerate(windows):
        if total[k, 0] <= 0:
            continue
        j = int(best[k])
        ivs, suffix = labels[j]
        root = (int(roots[j]) + tonic) % 12
        bass_pc = (int(bass[k]) % 12) if poly and bass[k] < 999 else root
        spans.append(ChordSpan(_labelled_chord(root, ivs, suffix, bass_pc), a, b - a))
    return spans


@lru_cache(maxsize=2048)
def _labelled_chord(root: int, ivs: tuple[int, ...], suffix: str, bass_pc: int) -> Chord:
    return Chord(SHARP_NAMES[root] + suffix, root, frozenset((root + i) % 12 for i in ivs), bass_pc)


def chord_classes_at(spans: list[ChordSpan], onsets, key: Key) -> list[int]:
    """The chord class sounding at each onset (quarters); NO_CHORD outside every span."""
    import bisect
    starts = [s.onset for s in spans]
    out = []
    for t in onsets:
        i = bisect.bisect_right(starts, t + 1e-6) - 1
        if i >= 0 and t < spans[i].end - 1e-6:
            out.append(chord_class(spans[i].chord, key))
        else:
            out.append(NO_CHORD)
    return out
