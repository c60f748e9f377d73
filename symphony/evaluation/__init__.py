"""Evaluation of generated music against real music (DESIGN.md, "Measures"): per-piece features,
overlapping areas, style and real-versus-generated classifiers, control accuracy measured on the
written files, and a Markdown report with plots (``symphony eval``)."""
from symphony.music.analysis import (
    FEATURES,
    PieceFeatures,
    feature_matrix,
    feature_vector,
    piece_features,
)

from .controls import CONTROLS, check_controls, register_control
from .metrics import overlap, overlaps


def run_eval(*args, **kwargs):
    """See :func:`symphony.evaluation.run.run_eval` (imported lazily: it pulls in the model)."""
    from .run import run_eval as _run
    return _run(*args, **kwargs)


__all__ = ["CONTROLS", "FEATURES", "PieceFeatures", "check_controls", "feature_matrix",
           "feature_vector", "overlap", "overlaps", "piece_features", "register_control", "run_eval"]
