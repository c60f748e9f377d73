"""Errors by layer. Every error a user can cause is a SymphonyError with a message a musician
understands; the CLI prints it on one line and exits with status 2."""


class SymphonyError(Exception):
    """Base class for all errors caused by user input or user files."""


class TheoryError(SymphonyError, ValueError):
    """An unknown key, mode, meter or other music-theory term."""


class StyleError(SymphonyError, ValueError):
    """An unknown style name."""


class ScoreReadError(SymphonyError):
    """A music file that cannot be read (missing, corrupt, unsupported)."""


class RequestError(SymphonyError, ValueError):
    """An impossible or out-of-range request (bars <= 0, unwritable output folder...)."""


class CheckpointError(SymphonyError):
    """A model checkpoint that is missing, corrupt or incompatible with this code."""


class Cancelled(SymphonyError):
    """A task stopped on request (``Hooks.cancel``) before it finished; nothing was written."""
