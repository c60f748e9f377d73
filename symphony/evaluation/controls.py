"""Control checks: does the *written file* hold what was requested?

Each check is ``fn(request, read_back, generated_meta) -> bool | None``:

- ``request`` is the :class:`symphony.generation.Request` the piece was generated from,
- ``read_back`` is the Score read back from the written MIDI file (``symphony.score.read_midi``:
  its key is music21's Krumhansl-Schmuckler analysis of all notes, its meter and tempo are the
  file's time signature and tempo, its bars are counted from the notes),
- ``generated_meta`` is ``score.meta`` of the generated score (attempts, model time, ...),

and returns True / False, or None when the request does not ask for that attribute (a chord
check on a request without chords). Add a control with :func:`register_control`::

    from symphony.evaluation.controls import register_control
    register_control("chords", lambda req, back, meta: ...)  # e.g. strong-beat chord tones >= 0.8
"""
from __future__ import annotations

from typing import Callable, Optional

from symphony.music.score import Score
from symphony.music.theory import parse_key, parse_meter
from symphony.tasks.generate import key_matches

ControlCheck = Callable[[object, Score, dict], Optional[bool]]


def _key(req, back: Score, meta: dict) -> bool:
    return key_matches(parse_key(req.key), back.key)


def _meter(req, back: Score, meta: dict) -> bool:
    return str(back.meter) == str(parse_meter(req.meter))


def _bars(req, back: Score, meta: dict) -> bool:
    return back.full_bars == int(req.bars)


def _tempo(req, back: Score, meta: dict) -> bool:
    return abs(float(back.bpm) - float(req.tempo)) < 0.01


CONTROLS: dict[str, ControlCheck] = {"key": _key, "meter": _meter, "bars": _bars, "tempo": _tempo}


def register_control(name: str, fn: ControlCheck) -> None:
    """Add (or replace) a control check; ``run_eval`` reports its accuracy per style."""
    CONTROLS[name] = fn


def check_controls(req, back: Score, meta: dict, controls: dict[str, ControlCheck] | None = None
                   ) -> dict[str, Optional[bool]]:
    out = {}
    for name, fn in (controls if controls is not None else CONTROLS).items():
        v = fn(req, back, meta)
        out[name] = None if v is None else bool(v)
    return out
