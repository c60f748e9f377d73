"""Shared fixtures: real sample music files and a tiny model trained on them in seconds."""
from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory):
    """Corpus caches and user registries of the tests live in a temporary folder."""
    import os
    cache = tmp_path_factory.mktemp("cache")
    old = os.environ.get("SYMPHONY_CACHE")
    os.environ["SYMPHONY_CACHE"] = str(cache)
    yield cache
    if old is None:
        os.environ.pop("SYMPHONY_CACHE", None)
    else:
        os.environ["SYMPHONY_CACHE"] = old


@pytest.fixture(scope="session")
def sample_sources():
    from symphony.training.corpus import Source
    return [
        Source(str(DATA / "han_sample.abc"), "test/han", "chinese"),
        Source(str(DATA / "german_sample.abc"), "test/german", "german"),
        Source(str(DATA / "oneills_sample.abc"), "test/oneills", "celtic"),
        Source(str(DATA / "AcaciaReel.abc"), "test/ryans", "celtic", "reel"),
        *[Source(str(p), "test/bach", "chorale") for p in sorted(DATA.glob("bwv*.mxl"))],
    ]


@pytest.fixture(scope="session")
def sample_records(sample_sources):
    from symphony.training.corpus import load_corpus
    return load_corpus(sample_sources)


@pytest.fixture(scope="session")
def sample_scores(sample_records):
    from symphony.music.score import Score
    return [Score.from_dict(r["score"]) for r in sample_records]


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, sample_scores):
    """A 2-layer model trained for a few seconds on the sample files (30% of its training
    sequences in fill-in-the-middle order, so it knows the infilling tokens)."""
    from symphony.training.loop import TrainConfig, train
    out = tmp_path_factory.mktemp("tiny")
    cfg = TrainConfig(out_dir=str(out), max_iters=80, batch_size=8, block_size=256, n_layer=2,
                      n_head=2, n_embd=64, dropout=0.0, lr=3e-3, warmup_iters=10, eval_interval=40,
                      eval_pieces=10, seed=0, infill_rate=0.3)  # infilling tokens too
    history = train(cfg, sample_scores, sample_scores[:10], progress=False, log=lambda *_: None)
    return out / "model.safetensors", history


def serve_live(app, tries: int = 400):
    """Run ``app`` under uvicorn on a free port of 127.0.0.1 in a thread of this process, as
    `symphony serve` does; a generator for fixtures: yields the base URL once /api/health answers."""
    import socket
    import threading
    import time

    import httpx
    import uvicorn
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(tries):
        try:
            if httpx.get(base + "/api/health").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def untrained():
    """(tokenizer, decoder pool) of a small untrained (random) model, seeded: the sampler's hard
    constraints must hold even with it."""
    import torch

    from symphony.model.decoder import DecoderPool
    from symphony.model.tokens import Tokenizer
    from symphony.model.transformer import ModelConfig, MusicTransformer
    tok = Tokenizer()
    torch.manual_seed(1)
    m = MusicTransformer(ModelConfig(vocab_size=tok.vocab_size, block_size=128, n_layer=1, n_head=2,
                                     n_embd=32, dropout=0.0)).eval()
    return tok, DecoderPool(m)  # the sampler draws its decoders from a pool
