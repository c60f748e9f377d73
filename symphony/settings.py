"""Settings in one place: every environment variable Symphony reads, with its default.

| variable | default | what it sets |
|---|---|---|
| ``SYMPHONY_CACHE`` | ``<repository>/.cache`` | parsed corpus and user-folder registry |
| ``SYMPHONY_SOUNDFONT`` | the first General MIDI SoundFont found (``SOUNDFONT_CANDIDATES``) | the synth's SoundFont |
| ``SYMPHONY_CHECKPOINT`` | the shipped model | the model the CLI and the Python API load |
| ``SYMPHONY_EMBEDDING`` | ``1`` | ``0`` turns off the MiniLM sentence model for prompt words the rules do not explain |

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
    root = os.environ.get("SYMPHONY_CACHE")
    return Path(root) if root else REPO_ROOT / ".cache"


def soundfont_override() -> str | None:
    return os.environ.get("SYMPHONY_SOUNDFONT") or None


def default_checkpoint() -> Path:
    env = os.environ.get("SYMPHONY_CHECKPOINT")
    return Path(env) if env else PACKAGE_ROOT / "checkpoints" / "default" / "model.safetensors"


def use_sentence_model() -> bool:
    return os.environ.get("SYMPHONY_EMBEDDING", "1") != "0"
