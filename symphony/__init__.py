"""Symphony: an open-source music composition and editing studio.

>>> import symphony
>>> score = symphony.generate("a lively Irish jig in D major", bars=8, seed=1)   # doctest: +SKIP
>>> score.bars, str(score.key), str(score.meter)                                 # doctest: +SKIP
(8, 'D major', '6/8')

The task API (``symphony.tasks.api``) is what the CLI and the server use: an ``Engine`` (the
loaded model), typed requests (``Options`` for a new piece, ``InfillRequest`` ...) and ``run``.
Heavy modules (torch, music21, verovio) load only when first used.
"""
__version__ = "0.1.0"

__all__ = ["generate", "run", "Engine", "Options", "read_score", "Score", "write_outputs", "__version__"]

_LAZY = {"generate": "symphony.tasks.api", "run": "symphony.tasks.api", "Options": "symphony.tasks.api",
         "Engine": "symphony.tasks.engine", "read_score": "symphony.formats.files", "Score": "symphony.music.score",
         "write_outputs": "symphony.formats.render"}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'symphony' has no attribute {name!r}")
