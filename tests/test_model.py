"""The transformer: cached generation equals the full forward pass; checkpoints round-trip."""
import pytest
import torch

from symphony.errors import CheckpointError
from symphony.model.transformer import ModelConfig, MusicTransformer
from symphony.model.tokens import Tokenizer
from symphony.model.checkpoint import load_checkpoint, save_checkpoint


def tiny(vocab=100):
    torch.manual_seed(0)
    return MusicTransformer(ModelConfig(vocab_size=vocab, block_size=64, n_layer=2, n_head=2,
                                        n_embd=32, dropout=0.0)).eval()


def test_kv_cache_equals_full_forward():
    m = tiny()
    x = torch.randint(0, 100, (2, 40))
    with torch.no_grad():
        full, _ = m(x)
        cache = m.new_cache(2)
        parts = [m(x[:, :13], cache=cache)[0]]
        for t in range(13, 40):
            parts.append(m(x[:, t:t + 1], cache=cache)[0])
    assert torch.allclose(full, torch.cat(parts, dim=1), atol=1e-5)


def test_context_limit_is_enforced():
    m = tiny()
    with pytest.raises(ValueError, match="block_size"):
        m(torch.zeros(1, 65, dtype=torch.long))


def test_checkpoint_round_trip(tmp_path):
    tok = Tokenizer()
    m = tiny(tok.vocab_size)
    save_checkpoint(tmp_path / "m.safetensors", m, tok, {"note": "x"})
    m2, tok2, meta = load_checkpoint(tmp_path / "m.safetensors")
    assert meta["tokens_version"] == "symphony-tokens/1" and meta["note"] == "x"
    assert tok2.names == tok.names
    x = torch.randint(0, tok.vocab_size, (1, 20))
    with torch.no_grad():
        assert torch.allclose(m(x)[0], m2(x)[0])


def test_corrupt_checkpoint(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(bad)
    with pytest.raises(CheckpointError, match="no model checkpoint"):
        load_checkpoint(tmp_path / "none.safetensors")


def test_numpy_decoder_equals_torch_full_forward():
    """The fast generation path computes the same logits as the PyTorch model."""
    import numpy as np
    from symphony.model.decoder import NumpyDecoder
    m = tiny()
    dec = NumpyDecoder(m)
    x = torch.randint(0, 100, (1, 50))
    with torch.no_grad():
        full = m(x)[0][0].numpy()
    steps = [dec.forward(x[0, :17].tolist())]  # prefill, then one token at a time
    steps += [dec.forward([int(t)]) for t in x[0, 17:]]
    assert np.allclose(steps[0], full[16], atol=1e-4)
    assert np.allclose(np.stack(steps[1:]), full[17:], atol=1e-4)
    with pytest.raises(ValueError, match="block_size"):
        dec.forward([0] * 20)
