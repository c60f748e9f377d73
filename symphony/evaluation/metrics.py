"""Overlapping areas between feature distributions of two sets of pieces (1 = identical, 0 =
disjoint).

Each feature of a set becomes one histogram normalised to sum 1: the histogram features
(pitch classes, intervals, durations) pool the counts of all notes of all pieces; the scalar
features (notes per beat, range, ends on the tonic, bar repetition) are binned per piece over
the fixed bins of :data:`SCALAR_BINS`. The overlapping area of two normalised histograms p and
q is ``sum(min(p, q))``.

>>> import numpy as np
>>> overlap(np.array([1, 1, 0]), np.array([0, 1, 1]))
0.5
"""
from __future__ import annotations

import numpy as np

from symphony.music.analysis import (
    DURATION_BINS,
    FEATURES,
    HISTOGRAMS,
    INTERVAL_CLIP,
    PieceFeatures,
)

# Fixed bin edges of the scalar features (the last bin is open to the right where it says inf).
SCALAR_BINS: dict[str, np.ndarray] = {
    "notes_per_beat": np.concatenate([np.arange(0, 4.01, 0.25), [np.inf]]),
    "range": np.concatenate([np.arange(0, 36.1, 2), [np.inf]]),
    "ends_on_tonic": np.array([0, 0.5, 1.0]),
    "bar_repetition": np.linspace(0, 1, 11),
}


def normalise(h) -> np.ndarray:
    h = np.asarray(h, dtype=float)
    s = h.sum()
    return h / s if s > 0 else h


def overlap(p, q) -> float | None:
    """Overlapping area of two histograms after normalising each to 1 (None if one is empty)."""
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    if p.shape != q.shape:
        raise ValueError(f"histograms of different length: {p.shape} vs {q.shape}")
    if p.sum() <= 0 or q.sum() <= 0:
        return None
    return float(np.minimum(normalise(p), normalise(q)).sum())


def distribution(feats: list[PieceFeatures], name: str) -> np.ndarray:
    """Unnormalised histogram of one feature over a set of pieces."""
    if name in HISTOGRAMS:
        if not feats:
            return np.zeros(len(getattr(_EMPTY, name)))
        return np.sum([getattr(f, name) for f in feats], axis=0).astype(float)
    if name not in SCALAR_BINS:
        raise KeyError(f"unknown feature {name!r}")
    values = [float(getattr(f, name)) for f in feats]
    return np.histogram(values, bins=SCALAR_BINS[name])[0].astype(float)


def distributions(feats: list[PieceFeatures]) -> dict[str, np.ndarray]:
    return {name: distribution(feats, name) for name in FEATURES}


def overlaps(real: list[PieceFeatures], generated: list[PieceFeatures]) -> dict[str, float | None]:
    """Overlapping area per feature, plus their mean under 'mean'."""
    out = {name: overlap(distribution(real, name), distribution(generated, name)) for name in FEATURES}
    vals = [v for v in out.values() if v is not None]
    out["mean"] = float(np.mean(vals)) if vals else None
    return out


def _empty() -> PieceFeatures:
    return PieceFeatures(np.zeros(12), np.zeros(2 * INTERVAL_CLIP + 1), np.zeros(len(DURATION_BINS)),
                         0.0, 0, 0, 0.0)


_EMPTY = _empty()
