"""A fast CPU decoder for generation: the trained transformer's weights run one token at a time
in NumPy with a preallocated key/value cache.

Why: at batch 1 a 3M-parameter model is limited by per-operation overhead, not arithmetic
(DESIGN.md measures about 320 tokens/s for a plain PyTorch KV-cache loop on 2 cores). NumPy's
per-call overhead is several times smaller, so the same maths runs at a few thousand tokens/s.
``tests/test_inference.py`` checks it against the PyTorch model's full forward pass.
"""
from __future__ import annotations

import math
import threading
from contextlib import contextmanager
from typing import Iterator

import numpy as np

from symphony.model.transformer import MusicTransformer

_GELU_C = math.sqrt(2.0 / math.pi)
SHARED_MIN = 32  # a shared prefix shorter than this is attended row by row (not worth two products)


def decoder_weights(model: MusicTransformer) -> dict:
    """The model's weights as float32 NumPy arrays, laid out for the decoder (read-only: every
    decoder of a pool shares one copy)."""
    cfg = model.cfg
    sd = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    layers = []
    for i in range(cfg.n_layer):
        p = f"blocks.{i}."
        layers.append(dict(
            ln1_w=sd[p + "ln1.weight"], ln1_b=sd[p + "ln1.bias"],
            qkv_w=np.ascontiguousarray(sd[p + "attn.qkv.weight"].T), qkv_b=sd[p + "attn.qkv.bias"],
            proj_w=np.ascontiguousarray(sd[p + "attn.proj.weight"].T), proj_b=sd[p + "attn.proj.bias"],
            ln2_w=sd[p + "ln2.weight"], ln2_b=sd[p + "ln2.bias"],
            fc_w=np.ascontiguousarray(sd[p + "mlp.0.weight"].T), fc_b=sd[p + "mlp.0.bias"],
            out_w=np.ascontiguousarray(sd[p + "mlp.2.weight"].T), out_b=sd[p + "mlp.2.bias"],
        ))
    hd = cfg.n_embd // cfg.n_head
    return dict(cfg=cfg, H=cfg.n_head, C=cfg.n_embd, hd=hd, tok_emb=sd["tok_emb.weight"],
                pos_emb=sd["pos_emb.weight"], layers=layers, lnf_w=sd["ln_f.weight"], lnf_b=sd["ln_f.bias"],
                head_w=np.ascontiguousarray(sd["tok_emb.weight"].T),  # tied weights
                scale=np.float32(1.0 / math.sqrt(hd)))


class NumpyDecoder:
    """One KV cache over shared weights. Not thread-safe: one request uses it at a time
    (``DecoderPool.acquire``)."""

    def __init__(self, model: MusicTransformer, weights: dict | None = None):
        self.__dict__.update(weights if weights is not None else decoder_weights(model))
        self.memo = None  # (rows, snapshot, logits) of the last fill (sampler._forward_memo)
        self.reset()

    def reset(self) -> None:
        shape = (self.cfg.n_layer, self.H, self.cfg.block_size, self.hd)
        self.k = np.zeros(shape, dtype=np.float32)
        self.v = np.zeros(shape, dtype=np.float32)
        self.length = 0

    def snapshot(self) -> tuple:
        """The filled part of the cache (restore() puts it back)."""
        n = self.length
        return n, self.k[:, :, :n].copy(), self.v[:, :, :n].copy()

    def restore(self, snap: tuple) -> None:
        n, k, v = snap
        self.k[:, :, :n] = k
        self.v[:, :, :n] = v
        self.length = n

    @staticmethod
    def _ln(x, w, b):
        mu = x.mean(-1, keepdims=True)
        xc = x - mu
        var = (xc * xc).mean(-1, keepdims=True)
        return xc / np.sqrt(var + 1e-5) * w + b

    def step(self, token: int) -> np.ndarray:
        """The one-token case of forward() with 1-D vectors: the hot loop of generation."""
        t = self.length
        if t + 1 > self.cfg.block_size:
            raise ValueError(f"sequence of {t + 1} tokens exceeds block_size {self.cfg.block_size}")
        H, hd, C = self.H, self.hd, self.C
        x = self.tok_emb[token] + self.pos_emb[t]  # (C,)
        for i, L in enumerate(self.layers):
            qkv = self._ln1d(x, L["ln1_w"], L["ln1_b"]) @ L["qkv_w"] + L["qkv_b"]  # (3C,)
            q = qkv[:C].reshape(H, 1, hd)
            self.k[i, :, t] = qkv[C:2 * C].reshape(H, hd)
            self.v[i, :, t] = qkv[2 * C:].reshape(H, hd)
            att = q @ self.k[i, :, : t + 1].transpose(0, 2, 1)  # (H, 1, t+1)
            att = np.exp((att - att.max(-1, keepdims=True)) * self.scale)
            y = (att @ self.v[i, :, : t + 1]) / att.sum(-1, keepdims=True)  # (H, 1, hd)
            x = x + y.reshape(C) @ L["proj_w"] + L["proj_b"]
            h = self._ln1d(x, L["ln2_w"], L["ln2_b"]) @ L["fc_w"] + L["fc_b"]
            h = h * (0.5 + 0.5 * np.tanh(_GELU_C * (h + 0.044715 * (h * h * h))))
            x = x + h @ L["out_w"] + L["out_b"]
        self.length = t + 1
        return self._ln1d(x, self.lnf_w, self.lnf_b) @ self.head_w

    @staticmethod
    def _ln1d(x, w, b):
        xc = x - x.mean()
        return xc * (w / np.sqrt(np.dot(xc, xc) / x.shape[0] + 1e-5)) + b

    def forward(self, tokens: list[int]) -> np.ndarray:
        """Append tokens to the cache; return the logits after the last one, shape (V,)."""
        if len(tokens) == 1:
            return self.step(int(tokens[0]))
        out = self._forward_rows(self.k[:, None], self.v[:, None], np.asarray([tokens]), self.length)[0]
        self.length += len(tokens)
        return out

    def _forward_rows(self, kc: np.ndarray, vc: np.ndarray, tokens: np.ndarray, start: int) -> np.ndarray:
        """Write tokens (B, T) at positions start.. of caches kc, vc of shape (layers, B, heads,
        block, head dim); return the logits after the last token of each row, (B, V). The one
        sequence of NumpyDecoder is the case B = 1 (its cache viewed with a batch axis)."""
        B, T = tokens.shape
        if start + T > self.cfg.block_size:
            raise ValueError(f"sequence of {start + T} tokens exceeds block_size {self.cfg.block_size}")
        H, hd, C = self.H, self.hd, self.C
        x = self.tok_emb[tokens] + self.pos_emb[start:start + T]  # (B, T, C)
        mask = np.triu(np.ones((T, start + T), dtype=bool), k=start + 1) if T > 1 else None
        for i, L in enumerate(self.layers):
            qkv = self._ln(x, L["ln1_w"], L["ln1_b"]) @ L["qkv_w"] + L["qkv_b"]  # (B, T, 3C)
            q = qkv[..., :C].reshape(B, T, H, hd).transpose(0, 2, 1, 3)  # (B, H, T, hd)
            kc[i, :, :, start:start + T] = qkv[..., C:2 * C].reshape(B, T, H, hd).transpose(0, 2, 1, 3)
            vc[i, :, :, start:start + T] = qkv[..., 2 * C:].reshape(B, T, H, hd).transpose(0, 2, 1, 3)
            K, V = kc[i, :, :, :start + T], vc[i, :, :, :start + T]
            att = (q @ K.transpose(0, 1, 3, 2)) * self.scale  # (B, H, T, start+T)
            if mask is not None:
                att[:, :, mask] = -np.inf
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            y = (att @ V).transpose(0, 2, 1, 3).reshape(B, T, C)
            x = x + y @ L["proj_w"] + L["proj_b"]
            h = self._ln(x, L["ln2_w"], L["ln2_b"]) @ L["fc_w"] + L["fc_b"]
            h = h * (0.5 + 0.5 * np.tanh(_GELU_C * (h + 0.044715 * (h * h * h))))
            x = x + h @ L["out_w"] + L["out_b"]
        return self._ln(x[:, -1], self.lnf_w, self.lnf_b) @ self.head_w


class BatchDecoder(NumpyDecoder):
    """B sequences decoded in lockstep with one set of weights, each at its own length: the
    headers of style guidance and fusion (the same music read under several headers) and the
    candidates of one infill (``sampling.sample_many``). At batch 1 the step is bound by memory
    traffic and per-call overhead, so B rows cost far less than B single steps."""

    def __init__(self, model: MusicTransformer, batch: int, weights: dict | None = None):
        self.B = batch
        super().__init__(model, weights)

    def reset(self) -> None:
        shape = (self.cfg.n_layer, self.B, self.H, self.cfg.block_size, self.hd)
        self.k = np.zeros(shape, dtype=np.float32)
        self.v = np.zeros(shape, dtype=np.float32)
        self.lengths = np.zeros(self.B, dtype=np.int64)
        self.shared = 0  # leading positions that hold the same tokens in every row (see step)

    def snapshot(self) -> tuple:
        n = int(self.lengths.max())
        return self.lengths.copy(), self.k[:, :, :, :n].copy(), self.v[:, :, :, :n].copy(), self.shared

    def restore(self, snap: tuple) -> None:
        lengths, k, v, shared = snap
        n = k.shape[3]
        self.k[:, :, :, :n] = k
        self.v[:, :, :, :n] = v
        self.lengths = lengths.copy()
        self.shared = shared

    def forward(self, tokens) -> np.ndarray:
        """tokens (B, T), appended to rows of equal length -> the logits after each row's last, (B, V)."""
        tokens = np.asarray(tokens)
        start = int(self.lengths[0])
        if (self.lengths != start).any():
            raise ValueError("forward() appends to rows of equal length; fill() sets rows one by one")
        out = self._forward_rows(self.k, self.v, tokens, start)
        self.lengths[:] = start + tokens.shape[1]
        return out

    def fill(self, first: int, tokens, copies: int = 1) -> np.ndarray:
        """Rows first.. hold exactly `tokens` (n, T) from position 0, and the `copies - 1` blocks of
        n rows after them the same (computed once, copied); returns the logits after each row's
        last token, (n, V)."""
        tokens = np.asarray(tokens)
        n, T = tokens.shape
        rows = slice(first, first + n)
        out = self._forward_rows(self.k[:, rows], self.v[:, rows], tokens, 0)
        for c in range(1, copies):
            to = slice(first + c * n, first + (c + 1) * n)
            self.k[:, to, :, :T] = self.k[:, rows, :, :T]
            self.v[:, to, :, :T] = self.v[:, rows, :, :T]
        self.lengths[first:first + copies * n] = T
        # one prompt copied into every row (the candidates of an infill) is a shared prefix;
        # any other fill gives some row a prefix of its own
        self.shared = T if n == 1 and first == 0 and copies == self.B else 0
        return out

    def step(self, tokens, advance: np.ndarray | None = None) -> np.ndarray:
        """tokens (B,) (or one token for every row), each appended to its row -> (B, V). Rows
        where `advance` is False are computed but keep their length (finished samples)."""
        adv = np.ones(self.B, dtype=np.int64) if advance is None else np.asarray(advance, dtype=np.int64)
        block = self.cfg.block_size
        if int((self.lengths + adv).max()) > block:
            raise ValueError(f"sequence of {int((self.lengths + adv).max())} tokens exceeds block_size {block}")
        t = np.minimum(self.lengths, block - 1)  # (a finished row may be full; it is not read again)
        B, H, hd, C = self.B, self.H, self.hd, self.C
        rows = np.arange(B)
        x = self.tok_emb[np.broadcast_to(np.asarray(tokens), (B,))] + self.pos_emb[t]  # (B, C)
        n = int(t.max()) + 1
        mask = None
        if int(t.min()) + 1 < n:  # rows of different lengths: each reads only its own positions
            mask = np.where(np.arange(n)[None, :] > t[:, None], -np.inf, 0.0).astype(np.float32)[:, None, None, :]
        S = self.shared if B > 1 and self.shared >= SHARED_MIN else 0
        for i, L in enumerate(self.layers):
            qkv = self._ln(x, L["ln1_w"], L["ln1_b"]) @ L["qkv_w"] + L["qkv_b"]  # (B, 3C)
            q = qkv[:, :C].reshape(B, H, 1, hd)
            self.k[i, rows, :, t] = qkv[:, C:2 * C].reshape(B, H, hd)
            self.v[i, rows, :, t] = qkv[:, 2 * C:].reshape(B, H, hd)
            if S:
                y = self._attend_shared(i, q, S, n, mask)
            else:
                att = q @ self.k[i, :, :, :n].transpose(0, 1, 3, 2)  # (B, H, 1, n)
                if mask is not None:
                    att = att + mask
                att = np.exp((att - att.max(-1, keepdims=True)) * self.scale)
                y = (att @ self.v[i, :, :, :n]) / att.sum(-1, keepdims=True)  # (B, H, 1, hd)
            x = x + y.reshape(B, C) @ L["proj_w"] + L["proj_b"]
            h = self._ln(x, L["ln2_w"], L["ln2_b"]) @ L["fc_w"] + L["fc_b"]
            h = h * (0.5 + 0.5 * np.tanh(_GELU_C * (h + 0.044715 * (h * h * h))))
            x = x + h @ L["out_w"] + L["out_b"]
        self.lengths = self.lengths + adv
        return self._ln(x, self.lnf_w, self.lnf_b) @ self.head_w

    def _attend_shared(self, i: int, q: np.ndarray, S: int, n: int, mask) -> np.ndarray:
        """Attention of layer i when the first S positions are the same in every row: all rows'
        queries read that prefix from row 0 in one product per head, so its keys and values are
        read once instead of B times; the rows' own positions S..n-1 as usual, and one softmax
        over both parts."""
        B, H, hd = self.B, self.H, self.hd
        qh = q.reshape(B, H, hd).transpose(1, 0, 2)  # (H, B, hd)
        s1 = qh @ self.k[i, 0, :, :S].transpose(0, 2, 1)  # (H, B, S)
        s2 = (q @ self.k[i, :, :, S:n].transpose(0, 1, 3, 2))[:, :, 0]  # (B, H, n - S)
        if mask is not None:
            s2 = s2 + mask[:, :, 0, S:n]
        top = np.maximum(s1.max(-1).T, s2.max(-1))  # (B, H)
        e1 = np.exp((s1 - top.T[:, :, None]) * self.scale)
        e2 = np.exp((s2 - top[:, :, None]) * self.scale)
        y = (e1 @ self.v[i, 0, :, :S]).transpose(1, 0, 2) + (e2[:, :, None] @ self.v[i, :, :, S:n])[:, :, 0]
        return y / (e1.sum(-1).T + e2.sum(-1))[:, :, None]  # (B, H, hd)


class DecoderPool:
    """The decoder states of one model. The weights are converted once and shared; every request
    checks out a decoder of its own (``acquire``) and gives it back when done, so requests
    decoding in several threads at once never write into the same KV cache. A returned decoder
    keeps its memo (the filled cache of its last prompt), which the next request with the same
    prompt restores instead of recomputing."""

    MAX_IDLE = 4  # decoders kept per batch size once returned

    def __init__(self, model: MusicTransformer):
        self.model = model
        self.block_size = model.cfg.block_size
        self._weights = decoder_weights(model)
        self._idle: dict[int, list[NumpyDecoder]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def acquire(self, batch: int = 1) -> Iterator[NumpyDecoder]:
        """A decoder for ``batch`` rows (1: a NumpyDecoder, more: a BatchDecoder), yours until
        the ``with`` block ends."""
        with self._lock:
            idle = self._idle.get(batch)
            dec = idle.pop() if idle else None
        if dec is None:
            dec = (NumpyDecoder(self.model, self._weights) if batch == 1
                   else BatchDecoder(self.model, batch, self._weights))
        try:
            yield dec
        finally:
            with self._lock:
                idle = self._idle.setdefault(batch, [])
                if len(idle) < self.MAX_IDLE:
                    idle.append(dec)
