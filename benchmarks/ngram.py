"""A smoothed n-gram baseline on Symphony tokens: interpolated Kneser-Ney (discount 0.75).

It sees exactly the tokens the transformer sees (header included as context) and is scored on
the same body tokens, so the two negative log-likelihoods are directly comparable.
"""
from __future__ import annotations

import math
from collections import defaultdict


class KneserNey:
    def __init__(self, order: int = 5, vocab_size: int = 1000, discount: float = 0.75):
        self.n, self.V, self.D = order, vocab_size, discount
        # counts[k][context] -> {token: count}; k = context length (0 .. n-1)
        self.counts: list[dict] = [defaultdict(lambda: defaultdict(int)) for _ in range(order)]

    def fit(self, sequences: list[list[int]]) -> "KneserNey":
        top = self.n - 1
        for seq in sequences:
            for i in range(len(seq)):
                ctx = tuple(seq[max(0, i - top):i])
                if len(ctx) == top:
                    self.counts[top][ctx][seq[i]] += 1
                else:  # near the start of a piece: count at the order we have
                    self.counts[len(ctx)][ctx][seq[i]] += 1
        # Lower orders get continuation counts: how many distinct tokens precede (ctx, w).
        for k in range(top, 0, -1):
            for ctx, nxt in list(self.counts[k].items()):
                lower = ctx[1:]
                for w in nxt:
                    self.counts[k - 1][lower][w] += 1
        self._totals = [{c: (sum(d.values()), len(d)) for c, d in level.items()} for level in self.counts]
        return self

    def prob(self, ctx: tuple, w: int) -> float:
        p = 1.0 / self.V
        for k in range(0, min(len(ctx), self.n - 1) + 1):
            c = ctx[len(ctx) - k:] if k else ()
            stats = self._totals[k].get(c)
            if stats is None:
                break
            total, distinct = stats
            cw = self.counts[k][c].get(w, 0)
            p = max(cw - self.D, 0) / total + self.D * distinct / total * p
        return p

    def nll(self, seq: list[int], score_from: int) -> tuple[float, int]:
        """Sum of -ln p over tokens seq[score_from:], and how many tokens were scored."""
        total = 0.0
        for i in range(score_from, len(seq)):
            ctx = tuple(seq[max(0, i - self.n + 1):i])
            total -= math.log(self.prob(ctx, seq[i]))
        return total, len(seq) - score_from
