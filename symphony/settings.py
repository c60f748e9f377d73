"""Settings in one place: every environment variable Symphony reads, with its default.

| variable | default | what it sets |
|---|---|---|
| ``SYMPHONY_CACHE`` | ``$XDG_CACHE_HOME/symphony`` (``~/.cache/symphony``) | parsed corpus, user-folder registry, numba's compiled pitch tracker (``NUMBA_CACHE_DIR`` unless set) |
| ``SYMPHONY_SOUNDFONT`` | the first General MIDI SoundFont found (``SOUNDFONT_CANDIDATES``) | the synth's SoundFont |
| ``SYMPHONY_CHECKPOINT`` | the shipped model | the model the CLI and the Python API load |
| ``SYMPHONY_EMBEDDING`` | ``1`` | ``0`` turns off the MiniLM sentence model for prompt words the rules do not explain |

The server's own variables (``SYMPHONY_DATABASE_URL``, ``SYMPHONY_SERVER_WORKERS`` ...) are in
``symphony/server/config.py``.

Values are read when used, so a test or a server can set them at run time.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_ROOT = Path(__file__).resolve().parent
SOUNDFONT_CANDIDATES = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/sounds/sf3/MuseScore_General.sf3",
    "/usr/share/sounds/sf3/default-GM.sf3",
)


def cache_root() -> Path:
    """Where Symphony keeps what it computes once: ``SYMPHONY_CACHE``, else the user's cache
    folder (``$XDG_CACHE_HOME/symphony``, ``~/.cache/symphony``), never the installation. A
    development checkout that already holds a parsed corpus in ``<repository>/.cache`` (the
    default before issue 21) keeps using it rather than parsing 20 minutes again; move it to
    the user's cache folder to stop that."""
    root = os.environ.get("SYMPHONY_CACHE")
    if root:
        return Path(root)
    legacy = REPO_ROOT / ".cache"
    if (legacy / "corpus-v2").is_dir() and (REPO_ROOT / "pyproject.toml").is_file():
        return legacy
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "symphony"


def use_user_numba_cache() -> None:
    """Point numba's on-disk cache (librosa's compiled pitch tracker) into Symphony's cache
    folder before librosa is imported, instead of the ``__pycache__`` folders of the virtual
    environment; a ``NUMBA_CACHE_DIR`` the user set wins."""
    os.environ.setdefault("NUMBA_CACHE_DIR", str(cache_root() / "numba"))


def soundfont_override() -> str | None:
    return os.environ.get("SYMPHONY_SOUNDFONT") or None


def default_checkpoint() -> Path:
    env = os.environ.get("SYMPHONY_CHECKPOINT")
    return Path(env) if env else PACKAGE_ROOT / "checkpoints" / "default" / "model.safetensors"


def use_sentence_model() -> bool:
    return os.environ.get("SYMPHONY_EMBEDDING", "1") != "0"
