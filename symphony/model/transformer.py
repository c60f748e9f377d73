"""A decoder-only transformer over Symphony tokens, with a key/value cache for generation.

Readable top to bottom, after nanoGPT: a dataclass config whose defaults run, saved inside every
checkpoint (``ModelConfig(**meta["model"])`` rebuilds the model).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class ModelConfig:
    vocab_size: int = 517
    block_size: int = 512  # longest context the model attends to
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 256
    dropout: float = 0.1
    chord_classes: int = 0  # > 0: an auxiliary head predicting the chord class (harmony.py)


class KVCache:
    """Preallocated keys and values for every layer: (layers, B, heads, block_size, head_dim)."""

    def __init__(self, cfg: ModelConfig, batch: int, device="cpu", dtype=torch.float32, size: int | None = None):
        hd = cfg.n_embd // cfg.n_head
        shape = (cfg.n_layer, batch, cfg.n_head, size or cfg.block_size, hd)
        # uninitialised: attention reads only the positions written so far (:length)
        self.k = torch.empty(shape, device=device, dtype=dtype)
        self.v = torch.empty(shape, device=device, dtype=dtype)
        self.length = 0  # number of positions filled


class SelfAttention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.n_head, self.n_embd = cfg.n_head, cfg.n_embd
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd)
        self.dropout = cfg.dropout

    def forward(self, x, cache: KVCache | None = None, layer: int = 0):
        B, T, C = x.shape  # (B, T, C)
        q, k, v = self.qkv(x).split(self.n_embd, dim=2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, H, T, hd)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        if cache is None:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                               dropout_p=self.dropout if self.training else 0.0)
        else:
            start = cache.length
            cache.k[layer, :, :, start:start + T] = k
            cache.v[layer, :, :, start:start + T] = v
            k_all = cache.k[layer, :, :, : start + T]
            v_all = cache.v[layer, :, :, : start + T]
            if T == 1:
                y = F.scaled_dot_product_attention(q, k_all, v_all)
            else:  # prefill: causal mask offset by what is already cached
                mask = torch.ones(T, start + T, dtype=torch.bool, device=x.device).tril(diagonal=start)
                y = F.scaled_dot_product_attention(q, k_all, v_all, attn_mask=mask)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.proj(y)


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.n_embd)
        self.attn = SelfAttention(cfg)
        self.ln2 = nn.LayerNorm(cfg.n_embd)
        self.mlp = nn.Sequential(nn.Linear(cfg.n_embd, 4 * cfg.n_embd), nn.GELU(approximate="tanh"),
                                 nn.Linear(4 * cfg.n_embd, cfg.n_embd), nn.Dropout(cfg.dropout))

    def forward(self, x, cache=None, layer=0):
        x = x + self.attn(self.ln1(x), cache, layer)
        return x + self.mlp(self.ln2(x))


class MusicTransformer(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.pos_emb = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)])
        self.ln_f = nn.LayerNorm(cfg.n_embd)
        self.head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.head.weight = self.tok_emb.weight  # weight tying
        self.apply(self._init)
        for name, p in self.named_parameters():
            if name.endswith("proj.weight") or name.endswith("mlp.2.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.n_layer))
        self.chord_head = None
        if cfg.chord_classes:
            # Training-only head: created outside the global random stream so that the rest of
            # the model starts from the same weights with or without it. Generation ignores it.
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(cfg.chord_classes)
                self.chord_head = nn.Linear(cfg.n_embd, cfg.chord_classes)
                self._init(self.chord_head)

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters()) - self.pos_emb.weight.numel()

    def forward(self, idx, targets=None, cache: KVCache | None = None, ignore_index: int = -100):
        """idx (B, T) token ids -> logits (B, T, V); with a cache, positions continue from it."""
        logits = self.head(self.features(idx, cache))  # (B, T, V)
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1),
                               ignore_index=ignore_index)
        return logits, loss

    def losses(self, idx, targets, chord_targets=None, ignore_index: int = -100):
        """Training losses: (next-token cross-entropy, chord-class cross-entropy or None). The
        chord loss is computed from the same hidden states, at positions whose chord target is
        not ignore_index, when the model has a chord head and chord targets are given."""
        h = self.features(idx)
        logits = self.head(h)
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1),
                               ignore_index=ignore_index)
        if chord_targets is None or self.chord_head is None:
            return loss, None
        mask = chord_targets.reshape(-1) != ignore_index
        if not bool(mask.any()):
            return loss, h.sum() * 0.0
        hc = h.reshape(-1, h.size(-1))[mask]
        return loss, F.cross_entropy(self.chord_head(hc), chord_targets.reshape(-1)[mask])

    def features(self, idx, cache: KVCache | None = None):
        """idx (B, T) -> the final normalised hidden states (B, T, C) the heads read."""
        B, T = idx.shape
        start = cache.length if cache is not None else 0
        if start + T > self.cfg.block_size:
            raise ValueError(f"sequence of {start + T} tokens exceeds block_size {self.cfg.block_size}")
        pos = torch.arange(start, start + T, device=idx.device)
        x = self.drop(self.tok_emb(idx) + self.pos_emb(pos))  # (B, T, C)
        for i, block in enumerate(self.blocks):
            x = block(x, cache, i)
        if cache is not None:
            cache.length += T
        return self.ln_f(x)

    @torch.no_grad()
    def continuation_logprobs(self, prefix: list[int], rows: list[list[int]]) -> list[torch.Tensor]:
        """For each row, the log-probability of each of its tokens after `prefix` and the row's
        tokens before it. The prefix runs once for all rows (the candidates of an infill share
        the bars before the hole), then the rows run together on copies of its cache."""
        P, T, B = len(prefix), max(len(r) for r in rows), len(rows)
        if not prefix or T == 0:
            raise ValueError("continuation_logprobs needs a prefix and a token in some row")
        one = self.new_cache(1, size=P)
        last = self(torch.tensor([prefix]), cache=one)[0][:, -1:]  # predicts each row's first token
        cache = self.new_cache(B, size=P + T)
        cache.k[:, :, :, :P], cache.v[:, :, :, :P], cache.length = one.k[:, :, :, :P], one.v[:, :, :, :P], P
        padded = torch.tensor([r + [0] * (T - len(r)) for r in rows])  # causal: the padding is never read
        logits = last.expand(B, 1, -1)
        if T > 1:
            logits = torch.cat([logits, self(padded[:, :-1], cache=cache)[0]], dim=1)
        lp = torch.log_softmax(logits.float(), -1)
        return [lp[i, torch.arange(len(r)), torch.tensor(r, dtype=torch.long)] for i, r in enumerate(rows)]

    def new_cache(self, batch: int = 1, size: int | None = None) -> KVCache:
        """A cache for `batch` rows of at most `size` positions (default: the whole context)."""
        p = next(self.parameters())
        return KVCache(self.cfg, batch, p.device, p.dtype, size)
