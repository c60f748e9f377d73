"""Checkpoints: the model's weights in safetensors with its config, the tokenizer's config and the
token scheme version inside, so ``load_checkpoint`` rebuilds both (training writes them, every
task reads them; this module needs nothing from training)."""
from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from safetensors.torch import load_file, save_file

from symphony.errors import CheckpointError
from symphony.model.tokens import TOKENS_VERSION, Tokenizer, TokenizerConfig
from symphony.model.transformer import ModelConfig, MusicTransformer
from symphony.settings import PACKAGE_ROOT, default_checkpoint

DEFAULT_CHECKPOINT = PACKAGE_ROOT / "checkpoints" / "default" / "model.safetensors"  # the shipped model


def save_checkpoint(path: str | os.PathLike, model: MusicTransformer, tok: Tokenizer,
                    extra: dict | None = None) -> None:
    meta = {"model": asdict(model.cfg), "tokenizer": asdict(tok.config),
            "tokens_version": TOKENS_VERSION, **(extra or {})}
    state = {k: v.contiguous() for k, v in model.state_dict().items() if k != "head.weight"}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    save_file(state, str(tmp), metadata={"symphony": json.dumps(meta)})
    tmp.replace(path)


def _model_file(path: Path) -> Path:
    """A checkpoint folder (``symphony train --out``) stands for the model file in it."""
    return path / "model.safetensors" if path.is_dir() and (path / "model.safetensors").is_file() else path


def read_checkpoint_meta(path: str | os.PathLike | None = None) -> dict:
    """The metadata of a checkpoint (config, tokenizer, styles and their defaults) without
    loading its weights or torch: the safetensors header is 8 bytes of length and JSON."""
    import struct
    path = _model_file(Path(path) if path else default_checkpoint())
    if not path.is_file():
        raise CheckpointError(f"no model checkpoint at {os.fspath(path)!r}" +
                              (" (a folder; name the model.safetensors in it)" if path.is_dir() else ""))
    try:
        with open(path, "rb") as fh:
            (n,) = struct.unpack("<Q", fh.read(8))
            if not 0 < n <= 100_000_000:
                raise ValueError("bad header length")
            header = json.loads(fh.read(n))
        return json.loads(header["__metadata__"]["symphony"])
    except Exception as e:  # truncated, not safetensors, not Symphony's
        raise CheckpointError(f"checkpoint {os.fspath(path)!r} is corrupt or not a Symphony model: "
                              f"{type(e).__name__}: {str(e)[:120]}") from e


def load_checkpoint(path: str | os.PathLike | None = None) -> tuple[MusicTransformer, Tokenizer, dict]:
    """Rebuild model and tokenizer from a checkpoint (the default model if no path)."""
    path = _model_file(Path(path) if path else default_checkpoint())
    if not path.is_file():
        raise CheckpointError(f"no model checkpoint at {os.fspath(path)!r}; train one with "
                              f"'symphony train' or restore the default with 'git checkout'")
    try:
        from safetensors import safe_open
        with safe_open(str(path), framework="pt") as fh:
            meta = json.loads(fh.metadata()["symphony"])
        state = load_file(str(path))
        tok = Tokenizer(TokenizerConfig(**meta["tokenizer"]))
        model = MusicTransformer(ModelConfig(**meta["model"]))
        state["head.weight"] = state["tok_emb.weight"]
        model.load_state_dict(state)
    except Exception as e:  # safetensors / json / shape errors all mean an unusable file
        raise CheckpointError(f"checkpoint {os.fspath(path)!r} is corrupt or incompatible: "
                              f"{type(e).__name__}: {str(e)[:200]}") from e
    model.eval()
    return model, tok, meta
