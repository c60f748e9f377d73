"""Training: a dataclass config, a token dataset of corpus windows, the loop with periodic
validation, checkpoints (safetensors, config and token version inside) and resume."""
from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from symphony.decoding.fim import fim_training_sequence
from symphony.errors import CheckpointError, RequestError
from symphony.model.checkpoint import load_checkpoint, save_checkpoint
from symphony.model.tokens import Tokenizer, TokenizerConfig
from symphony.model.transformer import ModelConfig, MusicTransformer
from symphony.music.harmony import N_CHORD_CLASSES, chord_classes_at, label_chords
from symphony.music.score import Score

IGNORE = -100


@dataclass
class TrainConfig:
    out_dir: str = "runs/default"
    styles: list[str] = field(default_factory=lambda: ["chinese", "german", "celtic", "chorale"])
    max_iters: int = 3000
    batch_size: int = 16
    block_size: int = 512
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 256
    dropout: float = 0.1
    lr: float = 1e-3
    min_lr: float = 1e-4
    warmup_iters: int = 100
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    eval_interval: int = 250
    eval_pieces: int = 200
    seed: int = 1337
    max_minutes: float = 0.0  # stop early after this much wall time (0: no limit)
    oversample: dict[str, float] = field(default_factory=dict)  # style -> sampling weight factor
    threads: int = 0  # torch threads (0: torch's default)
    # Music-theory options (benchmarks/ablation.py measures each; the defaults are the shipped
    # model's scheme): auxiliary chord-prediction loss weight (0: no chord head), a position
    # token before every note, pitch relative to the key (False: absolute pitch).
    chord_loss_weight: float = 0.0
    pos_every_note: bool = False
    relative_pitch: bool = True
    # Infilling (symphony/infill.py): this share of training sequences is in fill-in-the-middle
    # order (adds the Hole_<n>/Fill tokens to the vocabulary); 0 trains left to right only.
    infill_rate: float = 0.0
    init_from: str = ""  # start from this checkpoint's weights (new tokens get fresh embeddings)

    def check(self) -> None:
        """Every setting in range, before anything is parsed or written (RequestError)."""
        def need(ok: bool, msg: str) -> None:
            if not ok:
                raise RequestError(msg)
        need(self.max_iters >= 1, f"--max-iters must be at least 1, got {self.max_iters}")
        need(self.batch_size >= 1, f"--batch-size must be at least 1, got {self.batch_size}")
        need(self.block_size >= 64, f"--block-size must be at least 64 tokens, got {self.block_size}")
        need(self.n_layer >= 1, f"--n-layer must be at least 1, got {self.n_layer}")
        need(self.n_head >= 1, f"--n-head must be at least 1, got {self.n_head}")
        need(self.n_embd >= 1 and self.n_embd % self.n_head == 0,
             f"--n-embd ({self.n_embd}) must be a positive multiple of --n-head ({self.n_head})")
        need(math.isfinite(self.lr) and self.lr > 0, f"--lr must be a positive number, got {self.lr}")
        need(math.isfinite(self.min_lr) and 0 <= self.min_lr <= self.lr,
             f"--min-lr must be between 0 and --lr ({self.lr:g}), got {self.min_lr}")
        need(self.warmup_iters >= 0, f"--warmup-iters must be 0 or more, got {self.warmup_iters}")
        need(self.eval_interval >= 1, f"--eval-interval must be at least 1, got {self.eval_interval}")
        need(math.isfinite(self.max_minutes) and self.max_minutes >= 0,
             f"--max-minutes must be 0 (no limit) or more, got {self.max_minutes}")
        need(0.0 <= self.infill_rate <= 1.0, f"--infill-rate must be between 0 and 1, got {self.infill_rate}")
        need(0.0 <= self.dropout < 1.0, f"dropout must be in [0, 1), got {self.dropout}")
        for style, w in self.oversample.items():
            need(math.isfinite(w) and w > 0, f"--oversample weight of {style!r} must be positive, got {w:g}")
        need(bool(self.styles), "no styles to train on")


# ----------------------------------------------------------------------------- data

def chord_targets(tok: Tokenizer, seq) -> np.ndarray:
    """Per token of an encoded piece: at a pitch token, the chord class (harmony.label_chords
    of the decoded piece) at that note's onset; IGNORE elsewhere. Shifted like the next-token
    targets, the position that predicts a pitch also predicts the harmony under that note."""
    notes: list = []
    score = tok.decode([int(t) for t in seq], notes)
    out = np.full(len(seq), IGNORE, dtype=np.int64)
    if notes:
        out[[i for i, _, _ in notes]] = chord_classes_at(label_chords(score), [o for _, _, o in notes],
                                                         score.key)
    return out


class TokenDataset:
    """Token sequences of scores; batches are header + a window of whole bars. With
    chords=True every batch also carries chord-class targets (chord_targets) per position."""

    def __init__(self, scores: list[Score], tok: Tokenizer, block_size: int, seed: int = 0,
                 oversample: dict[str, float] | None = None, chords: bool = False, infill_rate: float = 0.0):
        self.tok, self.block = tok, block_size
        self.scores, self.infill_rate = scores, infill_rate
        self.seqs = [np.asarray(tok.encode(s), dtype=np.int64) for s in scores]
        self.chords = [chord_targets(tok, s) for s in self.seqs] if chords else None
        self.bar_starts = [np.flatnonzero(s == tok.bar) for s in self.seqs]
        lengths = np.array([len(s) for s in self.seqs], dtype=np.float64)
        factor = np.array([(oversample or {}).get(s.style, 1.0) for s in scores], dtype=np.float64)
        weights = lengths * factor
        self.weights = weights / weights.sum() if len(weights) else weights
        self.rng = np.random.default_rng(seed)
        self.n_tokens = int(lengths.sum())

    def window(self, i: int, start_bar: int | None = None) -> np.ndarray:
        return self._cut(self.seqs[i], self._window_start(i, start_bar))

    def _window_start(self, i: int, start_bar: int | None = None) -> int | None:
        """Index in the piece where a window's body starts (None: the piece fits whole)."""
        seq, H = self.seqs[i], self.tok.HEADER_LEN
        body_room = self.block + 1 - H
        if len(seq) <= self.block + 1:
            return None
        bars = self.bar_starts[i]
        last_ok = np.searchsorted(bars, len(seq) - body_room, side="right")
        b = start_bar if start_bar is not None else int(self.rng.integers(0, max(1, last_ok)))
        return int(bars[min(b, len(bars) - 1)])

    def _cut(self, arr: np.ndarray, start: int | None) -> np.ndarray:
        if start is None:
            return arr
        H = self.tok.HEADER_LEN
        return np.concatenate([arr[:H], arr[start:start + self.block + 1 - H]])

    def batch(self, batch_size: int) -> tuple[torch.Tensor, ...]:
        """About batch_size * block_size tokens of pieces of similar length (little padding):
        many short folk songs or a few long reels per step. (x, y), or (x, y, chord targets)
        for a dataset built with chords=True."""
        if not hasattr(self, "_by_len"):
            self._by_len = np.argsort([len(s) for s in self.seqs], kind="stable")
            self._rank = np.empty(len(self.seqs), dtype=np.int64)
            self._rank[self._by_len] = np.arange(len(self.seqs))
        anchor = int(self.rng.choice(len(self.seqs), p=self.weights))
        length = min(len(self.seqs[anchor]), self.block + 1)
        n = int(min(len(self.seqs), max(batch_size, batch_size * self.block // max(length, 1))))
        r = self._rank[anchor]
        lo = int(min(max(0, r - n), max(0, len(self.seqs) - 2 * n)))
        pool = self._by_len[lo:lo + 2 * n]
        idx = self.rng.choice(pool, size=min(n, len(pool)), replace=False)
        if self.chords is None:
            return self.collate([self._example(int(i)) for i in idx])
        starts = [self._window_start(int(i)) for i in idx]
        return self.collate([self._cut(self.seqs[i], s) for i, s in zip(idx, starts)],
                            [self._cut(self.chords[i], s) for i, s in zip(idx, starts)])

    def _example(self, i: int) -> np.ndarray:
        """A window of the piece, or (with probability infill_rate) a fill-in-the-middle sequence."""
        if self.infill_rate and self.rng.random() < self.infill_rate:
            fim = fim_training_sequence(self.tok, self.scores[i], self.block, self.rng)
            if fim is not None:
                return fim
        return self.window(i)

    def collate(self, windows: list[np.ndarray], chord_windows: list[np.ndarray] | None = None):
        """(x, y) inputs and next-token targets; with chord_windows also (B, T) chord targets
        aligned with y: (x, y, chords)."""
        T = max(len(w) for w in windows) - 1
        x = torch.full((len(windows), T), self.tok.pad, dtype=torch.long)
        y = torch.full((len(windows), T), IGNORE, dtype=torch.long)
        H = self.tok.HEADER_LEN
        for r, w in enumerate(windows):
            w = torch.from_numpy(w)
            x[r, : len(w) - 1] = w[:-1]
            y[r, : len(w) - 1] = w[1:]
            y[r, : H - 1] = IGNORE  # the header is given, not predicted
        if self.tok.config.infill:  # where a hole is and where the fill starts are given too
            y[(y >= self.tok.n_music)] = IGNORE
        if chord_windows is None:
            return x, y
        c = torch.full((len(windows), T), IGNORE, dtype=torch.long)
        for r, cw in enumerate(chord_windows):
            c[r, : len(cw) - 1] = torch.from_numpy(cw[1:])
        return x, y, c


def style_defaults(scores: list[Score]) -> dict[str, dict]:
    """Per style of the training pieces: the commonest meter, key, instrument and voice count and
    the median tempo, stored in the checkpoint so that a style of the user's own (one the
    built-in table does not know) has sensible defaults when the model composes in it."""
    from collections import Counter
    by_style: dict[str, list[Score]] = {}
    for s in scores:
        if s.style:
            by_style.setdefault(s.style, []).append(s)
    out = {}
    for style, group in sorted(by_style.items()):
        def common(values):
            return Counter(values).most_common(1)[0][0]
        out[style] = {"meter": common(str(s.meter) for s in group),
                      "key": common(str(s.key) for s in group),
                      "bpm": round(float(np.median([s.bpm for s in group]))),
                      "program": common(s.parts[0].program if s.parts else 0 for s in group),
                      "voices": common(min(len(s.parts), 4) or 1 for s in group),
                      "pieces": len(group)}
    return out


def load_scores(records: list[dict]) -> list[Score]:
    return [Score.from_dict(r["score"]) for r in records]


# ----------------------------------------------------------------------------- evaluation

@torch.no_grad()
def nll_per_note(model: MusicTransformer, tok: Tokenizer, scores: list[Score]) -> dict:
    """Held-out negative log-likelihood (nats) of the body tokens, per token and per note.

    Pieces longer than the context are scored in strides of half a context: each stride is
    predicted after the header and up to half a context of preceding music (from a barline),
    so a repeated section is scored with its first statement in view, as an n-gram would."""
    model.eval()
    total, n_tok, n_notes = 0.0, 0, 0
    H, block = tok.HEADER_LEN, model.cfg.block_size
    step = (block - H) // 2
    for s in scores:
        seq = tok.encode(s)
        n_notes += sum(1 for t in seq if tok.is_dur(t))
        header, body = seq[:H], seq[H:]
        bars = [i for i, t in enumerate(body) if t == tok.bar]
        for start in range(0, len(body), step):
            ctx = next((b for b in bars if b >= start - step), start) if start else 0
            ctx = min(ctx, start)
            chunk = header + body[ctx:start + step]
            x = torch.tensor([chunk[:-1]])
            y = torch.tensor([chunk[1:]])
            y[0, : H - 1 + (start - ctx)] = IGNORE  # score only body[start:start + step]
            logits, _ = model(x)
            logp = torch.log_softmax(logits[0], dim=-1)
            mask = y[0] != IGNORE
            total -= float(logp[mask].gather(1, y[0][mask].unsqueeze(1)).sum())
            n_tok += int(mask.sum())
    return {"nll_per_token": total / max(n_tok, 1), "nll_per_note": total / max(n_notes, 1),
            "tokens": n_tok, "notes": n_notes}


# ----------------------------------------------------------------------------- checkpoints


def _init_from(model: MusicTransformer, tok: Tokenizer, path: str, log) -> None:
    """Copy a checkpoint's weights into `model`, whose vocabulary may extend the checkpoint's
    (tokens are only ever appended): new token embeddings start at the mean of the old ones."""
    old, old_tok, _ = load_checkpoint(path)
    if old_tok.names != tok.names[: len(old_tok.names)] or old_tok.config.styles != tok.config.styles:
        raise CheckpointError(f"{path}: its vocabulary is not a prefix of the new one")
    state = old.state_dict()
    new_state = model.state_dict()
    for k, v in state.items():
        if k not in new_state:
            continue
        if k in ("tok_emb.weight", "head.weight") and v.shape[0] < new_state[k].shape[0]:
            grown = new_state[k].clone()
            grown[: v.shape[0]] = v
            grown[v.shape[0]:] = v.mean(0)
            new_state[k] = grown
        elif v.shape == new_state[k].shape:
            new_state[k] = v
        else:
            raise CheckpointError(f"{path}: {k} has shape {tuple(v.shape)}, the new model {tuple(new_state[k].shape)}")
    model.load_state_dict(new_state)
    log(f"initialised from {path} ({len(old_tok.names)} -> {tok.vocab_size} tokens)")


# ----------------------------------------------------------------------------- the loop

def _lr(it: int, cfg: TrainConfig) -> float:
    if it < cfg.warmup_iters:
        return cfg.lr * (it + 1) / cfg.warmup_iters
    progress = min(1.0, (it - cfg.warmup_iters) / max(1, cfg.max_iters - cfg.warmup_iters))
    return cfg.min_lr + 0.5 * (1 + math.cos(math.pi * progress)) * (cfg.lr - cfg.min_lr)


def train(cfg: TrainConfig, train_scores: list[Score], valid_scores: list[Score],
          resume: bool = False, progress: bool = True, log=None) -> list[dict]:
    """Train a model; returns the validation history. Checkpoints go to cfg.out_dir."""
    log = log or (lambda msg: print(msg, flush=True))
    cfg.check()
    if resume and not (Path(cfg.out_dir) / "train_state.pt").is_file():
        raise RequestError(f"nothing to resume: {Path(cfg.out_dir) / 'train_state.pt'} does not exist "
                           f"(train without --resume to start afresh)")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    styles = sorted({s.style for s in train_scores if s.style} | set(cfg.styles))
    tok = Tokenizer(TokenizerConfig(styles=styles, pos_every_note=cfg.pos_every_note,
                                    relative_pitch=cfg.relative_pitch, infill=cfg.infill_rate > 0))
    defaults = style_defaults(train_scores)
    use_chords = cfg.chord_loss_weight > 0
    data = TokenDataset(train_scores, tok, cfg.block_size, cfg.seed, cfg.oversample, chords=use_chords,
                        infill_rate=cfg.infill_rate)
    mcfg = ModelConfig(vocab_size=tok.vocab_size, block_size=cfg.block_size, n_layer=cfg.n_layer,
                       n_head=cfg.n_head, n_embd=cfg.n_embd, dropout=cfg.dropout,
                       chord_classes=N_CHORD_CLASSES if use_chords else 0)
    model = MusicTransformer(mcfg)
    if cfg.init_from and not resume:
        _init_from(model, tok, cfg.init_from, log)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.95))
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state_path, ckpt_path = out / "train_state.pt", out / "model.safetensors"
    it0, history = 0, []
    if resume:
        st = torch.load(state_path, weights_only=False)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        it0, history = st["iter"], st["history"]
        data.rng = np.random.default_rng(cfg.seed + it0)
        log(f"resumed from iteration {it0}")
    log(f"model {model.n_params() / 1e6:.2f}M parameters; {len(train_scores)} training pieces, "
        f"{data.n_tokens} tokens; vocabulary {tok.vocab_size}")
    valid_eval = valid_scores[: cfg.eval_pieces]
    t_start, tokens_seen, notes_seen = time.time(), 0, 0
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=cfg.max_iters, initial=it0, desc="training", mininterval=2)
    it = it0
    for it in range(it0, cfg.max_iters):
        model.train()
        for g in opt.param_groups:
            g["lr"] = _lr(it, cfg)
        batch = data.batch(cfg.batch_size)
        x, y = batch[0], batch[1]
        if use_chords:
            loss, chord_loss = model.losses(x, y, batch[2], IGNORE)
            objective = loss + cfg.chord_loss_weight * chord_loss
        else:
            _, loss = model(x, y, ignore_index=IGNORE)
            objective = loss
        opt.zero_grad(set_to_none=True)
        objective.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        tokens_seen += int((y != IGNORE).sum())
        notes_seen += int(((y >= tok.dur1) & (y < tok.n_music)).sum())
        if bar:
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
        last = it + 1 == cfg.max_iters
        overtime = cfg.max_minutes and (time.time() - t_start) > cfg.max_minutes * 60
        if (it + 1) % cfg.eval_interval == 0 or last or overtime:
            val = nll_per_note(model, tok, valid_eval) if valid_eval else {}
            elapsed = time.time() - t_start
            rec = {"iter": it + 1, "train_loss": round(loss.item(), 4), "elapsed_s": round(elapsed, 1),
                   "tokens_per_s": round(tokens_seen / max(elapsed, 1e-9), 1), "notes_seen": notes_seen,
                   **({"chord_loss": round(chord_loss.item(), 4)} if use_chords else {}),
                   **{k: round(v, 4) if isinstance(v, float) else v for k, v in val.items()}}
            history.append(rec)
            log(json.dumps(rec))
            save_checkpoint(ckpt_path, model, tok, {"train": asdict(cfg), "history": history,
                                                     "style_defaults": defaults})
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "iter": it + 1,
                        "history": history}, state_path)
        if overtime:
            log(f"stopping after {cfg.max_minutes} minutes (max_minutes)")
            break
    if bar:
        bar.close()
    return history
