"""Symphony: an open-source music generation and editing studio.

>>> import symphony
>>> score = symphony.generate("a lively Irish jig in D major", bars=8, seed=1)   # doctest: +SKIP
>>> score.bars, str(score.key), str(score.meter)                                 # doctest: +SKIP
(8, 'D major', '6/8')
"""
__version__ = "0.1.0"

__all__ = ["generate", "read_score", "Score", "write_outputs", "__version__"]


def generate(prompt: str = "", **kwargs):
    """Compose a new piece and return its Score; see symphony.generation.generate."""
    from .generation import generate as _generate  # torch loads on first use only
    return _generate(prompt, **kwargs)


def __getattr__(name):  # heavy modules (music21, verovio) load only when used
    if name in ("read_score", "Score"):
        from . import score
        return getattr(score, name)
    if name == "write_outputs":
        from .render import write_outputs
        return write_outputs
    raise AttributeError(f"module 'symphony' has no attribute {name!r}")
