"""Per-piece melodic features of a Score, as DESIGN.md's realism measure defines them.

The melody is the top part (``parts[0]``); where it holds several notes at once (double stops,
chords) the highest note at each onset is kept. Pitch classes are relative to ``score.key`` — for
real pieces and for read-back MIDI files alike that is music21's key analysis, never a request.

Two views of one piece:

- :func:`piece_features` returns a :class:`PieceFeatures` with count histograms (pitch classes,
  intervals, durations) and scalars (notes per beat, range, ends on the tonic, bar repetition);
  the histograms of a set of pieces are summed for the overlap measures in ``metrics.py``.
- :func:`feature_vector` returns a fixed-length numeric vector (normalised histograms plus the
  scalars), in the order of :data:`VECTOR_NAMES`, for the classifiers in ``classify.py``.

Meter, tempo, length, key and number of voices are deliberately *not* in the vector: generated
pieces get them from the request, so a classifier could tell real from generated (or guess the
style) by the request alone instead of by the music.

>>> from symphony.music.score import Note, Part, Score
>>> from symphony.music.theory import parse_key, parse_meter
>>> scale = [Note(p, i * 1.0, 1.0) for i, p in enumerate([60, 62, 64, 65, 67, 69, 71, 72])]
>>> f = piece_features(Score([Part(scale)], parse_key("C major"), parse_meter("4/4"), 100, 2))
>>> f.pitch_classes.tolist()
[2, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1]
>>> f.range, f.ends_on_tonic, f.notes_per_beat
(12, 1, 1.0)
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

import numpy as np

from symphony.music.score import Note, Score
from symphony.music.theory import bar_meter_quarters

INTERVAL_CLIP = 12  # melodic intervals are clipped to +-12 semitones: 25 bins, -12..+12
# Duration bins: a note falls into the bin whose value is nearest on a log scale (quarter lengths).
DURATION_BINS = (0.125, 0.25, 1 / 3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)
DURATION_LABELS = ("1/8", "1/4", "1/3", "1/2", "3/4", "1", "3/2", "2", "3", "4", "6+")
GRID = 24  # positions per quarter note when comparing bars

HISTOGRAMS = ("pitch_classes", "intervals", "durations")
SCALARS = ("notes_per_beat", "range", "ends_on_tonic", "bar_repetition")
FEATURES = HISTOGRAMS + SCALARS


@dataclass
class PieceFeatures:
    pitch_classes: np.ndarray  # 12 counts, semitones above the tonic
    intervals: np.ndarray  # 25 counts, -12..+12 semitones between successive melody notes
    durations: np.ndarray  # len(DURATION_BINS) counts
    notes_per_beat: float
    range: int  # semitones between the lowest and the highest melody note
    ends_on_tonic: int  # 1 when the last melody note is the tonic
    bar_repetition: float  # share of bars whose content repeats an earlier bar
    n_notes: int = 0
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"pitch_classes": self.pitch_classes.tolist(), "intervals": self.intervals.tolist(),
                "durations": self.durations.tolist(), "notes_per_beat": self.notes_per_beat,
                "range": self.range, "ends_on_tonic": self.ends_on_tonic,
                "bar_repetition": self.bar_repetition, "n_notes": self.n_notes}


def melody(score: Score) -> list[Note]:
    """The top part as a single line: the highest note at each onset, in time order."""
    if not score.parts:
        return []
    top: dict[float, Note] = {}
    for n in score.parts[0].notes:
        key = round(n.onset * GRID)
        if key not in top or n.pitch > top[key].pitch:
            top[key] = n
    return [top[k] for k in sorted(top)]


def duration_bin(q: float) -> int:
    """Index into DURATION_BINS of the value nearest to q on a log scale."""
    if q <= 0:
        return 0
    lq = math.log2(q)
    return min(range(len(DURATION_BINS)), key=lambda i: abs(math.log2(DURATION_BINS[i]) - lq))


def bar_starts(score: Score) -> list[float]:
    """Start of every bar in quarter lengths, plus the end of the last bar."""
    bar_meters = score.bar_meters
    if bar_meters:
        starts = [float(s) for s, _ in bar_meters]
        return starts + [starts[-1] + float(bar_meter_quarters(bar_meters[-1][1]))]
    bq = score.bar_quarters
    return [i * bq for i in range(score.bars + 1)]


def bar_contents(notes: list[Note], starts: list[float]) -> list[list[tuple[int, int]]]:
    """Each bar's notes as (onset relative to the bar on a grid of 1/24 quarter note, pitch): two
    bars are the same music when these are equal."""
    contents: list[list[tuple[int, int]]] = [[] for _ in range(len(starts) - 1)]
    for n in notes:
        i = bisect.bisect_right(starts, n.onset + 1e-6) - 1
        if 0 <= i < len(contents):
            contents[i].append((round((n.onset - starts[i]) * GRID), n.pitch))
    return contents


def bar_repeats(notes: list[Note], starts: list[float]) -> tuple[dict[int, int], int]:
    """({bar: the first earlier bar it repeats}, number of non-empty bars), bars numbered from 1.
    Bars are compared exactly (``bar_contents``: onsets and pitches), so transposed sequences do
    not count."""
    contents = bar_contents(notes, starts)
    first: dict[tuple, int] = {}
    repeats: dict[int, int] = {}
    total = 0
    for b, c in enumerate(contents, start=1):
        if not c:
            continue
        sig = tuple(c)
        total += 1
        if sig in first:
            repeats[b] = first[sig]
        else:
            first[sig] = b
    return repeats, total


def bar_repetition(notes: list[Note], starts: list[float]) -> float:
    """Share of non-empty bars whose notes (onsets relative to the bar, pitches) equal an earlier
    bar's (see bar_repeats)."""
    repeats, total = bar_repeats(notes, starts)
    return len(repeats) / total if total else 0.0


def piece_features(score: Score) -> PieceFeatures:
    mel = melody(score)
    tonic = score.key.tonic_pc
    pcs = np.zeros(12, dtype=np.int64)
    ints = np.zeros(2 * INTERVAL_CLIP + 1, dtype=np.int64)
    durs = np.zeros(len(DURATION_BINS), dtype=np.int64)
    for n in mel:
        pcs[(n.pitch - tonic) % 12] += 1
        durs[duration_bin(n.duration)] += 1
    for a, b in zip(mel, mel[1:]):
        ints[max(-INTERVAL_CLIP, min(INTERVAL_CLIP, b.pitch - a.pitch)) + INTERVAL_CLIP] += 1
    starts = bar_starts(score)
    total_q = max(starts[-1], max((n.end for n in mel), default=0.0))
    beats = total_q / float(score.meter.beat_quarters) if total_q > 0 else 0.0
    pitches = [n.pitch for n in mel]
    return PieceFeatures(
        pitch_classes=pcs, intervals=ints, durations=durs,
        notes_per_beat=len(mel) / beats if beats else 0.0,
        range=(max(pitches) - min(pitches)) if pitches else 0,
        ends_on_tonic=int(bool(mel) and mel[-1].pitch % 12 == tonic),
        bar_repetition=bar_repetition(mel, starts), n_notes=len(mel))


def _norm(h: np.ndarray) -> np.ndarray:
    s = h.sum()
    return h / s if s else h.astype(float)


VECTOR_NAMES: tuple[str, ...] = (
    tuple(f"pc_{i}" for i in range(12))
    + tuple(f"int_{i:+d}" for i in range(-INTERVAL_CLIP, INTERVAL_CLIP + 1))
    + tuple(f"dur_{x}" for x in DURATION_LABELS)
    + ("notes_per_beat", "range_octaves", "ends_on_tonic", "bar_repetition",
       "mean_abs_interval", "share_steps", "share_repeated_notes")
)


def feature_vector(f: PieceFeatures) -> np.ndarray:
    """Fixed-length numeric description of a piece (see VECTOR_NAMES)."""
    ints = _norm(f.intervals)
    steps = np.abs(np.arange(-INTERVAL_CLIP, INTERVAL_CLIP + 1))
    extra = [f.notes_per_beat, f.range / 12.0, float(f.ends_on_tonic), f.bar_repetition,
             float((ints * steps).sum()), float(ints[(steps >= 1) & (steps <= 2)].sum()),
             float(ints[INTERVAL_CLIP])]
    v = np.concatenate([_norm(f.pitch_classes), ints, _norm(f.durations), np.array(extra, dtype=float)])
    assert len(v) == len(VECTOR_NAMES)
    return v


def feature_matrix(feats: list[PieceFeatures]) -> np.ndarray:
    if not feats:
        return np.zeros((0, len(VECTOR_NAMES)))
    return np.vstack([feature_vector(f) for f in feats])
