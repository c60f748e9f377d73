"""The engine: one loaded model and tokenizer, shared by every request, and a pool of decoder
states so that requests running at the same time (threads of a server) never share a KV cache.

Every task takes the engine it runs on (``engine=``); a checkpoint path or None (the shipped
model) is accepted too and loaded once per process (``Engine.of``).

>>> engine = Engine.load()                                   # doctest: +SKIP
>>> engine.tokenizer.config.styles                           # doctest: +SKIP
['chinese', 'german', 'celtic', 'chorale']
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import ClassVar

from symphony.decoding.sampler import Constraints, Hooks, sample, sample_many
from symphony.model.checkpoint import load_checkpoint
from symphony.model.decoder import DecoderPool
from symphony.model.tokens import Tokenizer
from symphony.model.transformer import MusicTransformer
from symphony.music.styles import register_styles
from symphony.settings import default_checkpoint


class Engine:
    """A model and its tokenizer, read-only once loaded, plus per-request decoder state."""

    _loaded: ClassVar[dict[str, "Engine"]] = {}
    _load_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, model: MusicTransformer, tokenizer: Tokenizer, meta: dict | None = None,
                 checkpoint: str | os.PathLike | None = None):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.meta = dict(meta or {})
        self.checkpoint = str(checkpoint) if checkpoint is not None else None
        self.decoders = DecoderPool(model)
        # A style the checkpoint knows and the built-in table does not (a user's own) becomes
        # usable by name, with the defaults measured on its training pieces (training.loop).
        defaults = self.meta.get("style_defaults") or {}
        register_styles({s: defaults.get(s) or {} for s in tokenizer.config.styles})

    @classmethod
    def load(cls, checkpoint: str | os.PathLike | None = None) -> "Engine":
        """The engine of a checkpoint (default: the shipped model), loaded once per process."""
        path = str((Path(checkpoint) if checkpoint else default_checkpoint()).resolve())
        with cls._load_lock:
            if path not in cls._loaded:
                model, tok, meta = load_checkpoint(path)
                cls._loaded[path] = cls(model, tok, meta, path)
            return cls._loaded[path]

    @classmethod
    def of(cls, engine: "Engine | str | os.PathLike | None") -> "Engine":
        """An engine as it is, or the one loaded from a checkpoint path (None: the shipped model)."""
        return engine if isinstance(engine, Engine) else cls.load(engine)

    @property
    def styles(self) -> list[str]:
        return list(self.tokenizer.config.styles)

    def sample(self, prompt: list[int], cons: Constraints, **kw) -> list[int]:
        """``decoding.sampler.sample`` on this model, with a decoder of this call's own."""
        return sample(self.decoders, self.tokenizer, prompt, cons, **kw)

    def sample_many(self, prompt: list[int], cons: Constraints, seeds: list[int], **kw) -> list[list[int]]:
        return sample_many(self.decoders, self.tokenizer, prompt, cons, seeds, **kw)


__all__ = ["Engine", "Hooks"]
