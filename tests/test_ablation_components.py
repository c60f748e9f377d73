"""The music-theory components measured by benchmarks/ablation.py: chord labels, the auxiliary
chord head, explicit positions before every note and the absolute-pitch ablation."""
import numpy as np
import pytest
import torch

from symphony.music.harmony import NO_CHORD, N_CHORD_CLASSES, chord_class, chord_class_name, chord_quality, chord_windows, label_chords
from symphony.formats.files import read_score
from symphony.model.tokens import Tokenizer, TokenizerConfig, exact_round_trip

from .conftest import DATA

CHORALES = ("bwv66.6", "bwv269", "bwv10.7", "bwv101.7")


def _music21_triads(path):
    """(onset in our time, root pitch class, quality) of every unambiguous triad or dominant
    seventh music21's chordify finds at a chord change."""
    from music21 import converter
    m = converter.parse(str(path))
    # our onsets count from the first full bar (an anacrusis becomes a leading rest)
    pickup = m.parts[0].getElementsByClass("Measure")[0].paddingLeft
    out = []
    for c in m.chordify().flatten().notes:
        if len(c.pitches) < 3:
            continue
        q = "major" if c.isMajorTriad() or c.isDominantSeventh() else "minor" if c.isMinorTriad() else None
        if q:
            out.append((float(c.offset) + pickup, float(c.quarterLength), c.root().pitchClass, q))
    return out


@pytest.mark.parametrize("name", CHORALES)
def test_chorale_chords_agree_with_music21_and_cadence_on_the_tonic(name):
    path = DATA / f"{name}.mxl"
    s = read_score(path)
    spans = label_chords(s)
    assert spans and all(0 <= chord_class(x.chord, s.key) < N_CHORD_CLASSES - 1 for x in spans)
    # one label per beat of the 4/4 or 3/4 chorale (beats without notes get none)
    assert len(chord_windows(s)) >= 2 * s.bars and len(spans) >= 0.9 * len(chord_windows(s))
    # the final chord is the tonic (major or minor: Bach ends minor chorales with a major third)
    assert spans[-1].chord.root_pc == s.key.tonic_pc
    # where music21 sees a plain major / minor triad at a beat, we label the same chord
    agree = total = 0
    for on, dur, root, q in _music21_triads(path):
        span = next((x for x in spans if x.onset <= on + 1e-6 < x.end), None)
        if span is None or abs(span.onset - on) > 1e-6:
            continue  # chords changing inside a beat
        total += 1
        agree += span.chord.root_pc == root and chord_quality(span.chord) == q
    assert total >= 25 and agree / total >= 0.9, (agree, total)


def test_chorale_opening_chord_is_the_tonic():
    # bwv66.6 opens on the relative major (A major in F# minor); the others on the tonic
    for name in ("bwv269", "bwv10.7", "bwv101.7"):
        s = read_score(DATA / f"{name}.mxl")
        assert label_chords(s)[0].chord.root_pc == s.key.tonic_pc, name


def test_melody_chords_are_mostly_primary_triads(sample_scores):
    mono = [s for s in sample_scores if len(s.parts) == 1]
    labels = [label_chords(s) for s in mono]
    names = [chord_class_name(chord_class(x.chord, s.key)) for s, lab in zip(mono, labels) for x in lab]
    primary = sum(n in ("I", "i", "IV", "iv", "V", "v") for n in names)
    assert primary / len(names) >= 0.7
    assert sum(lab[-1].chord.root_pc == s.key.tonic_pc for s, lab in zip(mono, labels)) / len(mono) >= 0.8
    assert chord_class_name(NO_CHORD) == "N" and N_CHORD_CLASSES == 37


@pytest.mark.parametrize("options", [{"pos_every_note": True}, {"relative_pitch": False},
                                     {"pos_every_note": True, "relative_pitch": False}])
def test_token_options_round_trip_and_keep_the_vocabulary(sample_scores, options):
    plain, tok = Tokenizer(), Tokenizer(TokenizerConfig(**options))
    assert tok.names == plain.names  # same vocabulary, same order: old checkpoints unaffected
    assert all(exact_round_trip(tok, s) for s in sample_scores)
    s = sample_scores[0]
    seq = tok.encode(s)
    if options.get("pos_every_note"):
        pitches = [i for i, t in enumerate(seq) if tok.is_pitch(t)]
        assert pitches and all(tok.is_pos(seq[i - 1]) for i in pitches)
    if options.get("relative_pitch") is False:  # C major spelling: P_1_5 is middle C whatever the key
        from symphony.music.theory import parse_key
        assert tok.names[tok.pitch_token(60, parse_key("D major"))] == "P_1_5"
        assert tok.names[tok.pitch_token(62, parse_key("D major"))] == "P_2_5"
        assert tok.is_tonic_pitch(tok.pitch_token(62, parse_key("D major")), parse_key("D major"))


def test_chord_targets_align_with_the_next_pitch(sample_scores):
    from symphony.training.loop import IGNORE, TokenDataset
    tok = Tokenizer(TokenizerConfig(pos_every_note=True))
    chorale = next(s for s in sample_scores if len(s.parts) == 4)
    data = TokenDataset([chorale], tok, 256, seed=0, chords=True)
    x, y, c = data.batch(2)
    assert c.shape == y.shape
    is_pitch = torch.tensor([[tok.is_pitch(int(t)) for t in row] for row in y])
    assert bool(((c != IGNORE) == is_pitch).all())  # a chord target exactly where a pitch is next
    assert bool(((c[c != IGNORE] >= 0) & (c[c != IGNORE] < N_CHORD_CLASSES)).all())


def test_chord_head_trains_and_old_configs_have_none(sample_scores):
    from symphony.model.transformer import ModelConfig, MusicTransformer
    from symphony.training.loop import IGNORE, TokenDataset
    tok = Tokenizer()
    torch.manual_seed(0)
    plain = MusicTransformer(ModelConfig(vocab_size=tok.vocab_size, block_size=256, n_layer=2, n_head=2,
                                         n_embd=64, dropout=0.0))
    torch.manual_seed(0)
    model = MusicTransformer(ModelConfig(vocab_size=tok.vocab_size, block_size=256, n_layer=2, n_head=2,
                                         n_embd=64, dropout=0.0, chord_classes=N_CHORD_CLASSES))
    assert plain.chord_head is None and model.chord_head is not None
    # the head does not change the initial weights of the rest of the model
    assert torch.equal(plain.blocks[0].attn.qkv.weight, model.blocks[0].attn.qkv.weight)
    data = TokenDataset(sample_scores, tok, 256, seed=0, chords=True)
    batches = [data.batch(4) for _ in range(3)]
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    first = None
    for step in range(15):
        x, y, c = batches[step % 3]
        loss, chord_loss = model.losses(x, y, c, IGNORE)
        if first is None:
            first = chord_loss.item()
        opt.zero_grad()
        (loss + chord_loss).backward()
        opt.step()
    with torch.no_grad():
        final = np.mean([model.losses(x, y, c, IGNORE)[1].item() for x, y, c in batches])
    assert final < 0.8 * first, (first, final)
    # generation ignores the head: forward() returns token logits only
    logits, _ = model(batches[0][0][:1, :10])
    assert logits.shape[-1] == tok.vocab_size


def test_pos_every_note_model_samples_valid_scores(tmp_path, sample_scores):
    from symphony.model.decoder import DecoderPool
    from symphony.decoding.sampler import Constraints, sample
    from symphony.music.theory import parse_key, parse_meter
    from symphony.training.loop import TrainConfig, train
    from symphony.model.checkpoint import load_checkpoint
    cfg = TrainConfig(out_dir=str(tmp_path), max_iters=10, batch_size=4, block_size=256, n_layer=2,
                      n_head=2, n_embd=64, dropout=0.0, lr=3e-3, warmup_iters=5, eval_interval=10,
                      eval_pieces=4, seed=0, chord_loss_weight=0.5, pos_every_note=True,
                      relative_pitch=False)
    history = train(cfg, sample_scores, sample_scores[:4], progress=False, log=lambda *_: None)
    assert "chord_loss" in history[-1] and history[-1]["notes_seen"] > 0
    model, tok, meta = load_checkpoint(tmp_path / "model.safetensors")
    assert tok.config.pos_every_note and not tok.config.relative_pitch
    assert model.cfg.chord_classes == N_CHORD_CLASSES
    for style, key, meter, voices in (("celtic", "D major", "6/8", 1), ("chorale", "G major", "4/4", 4)):
        k, m = parse_key(key), parse_meter(meter)
        seq = sample(DecoderPool(model), tok, tok.header(style, k, m, 100, 6, voices),
                     Constraints(key=k, meter=m, bars=6, voices=voices), seed=3)
        body = seq[tok.HEADER_LEN:]
        assert all(tok.is_pos(body[i - 1]) for i, t in enumerate(body) if tok.is_pitch(t))
        s = tok.decode(seq)
        assert s.bars == 6 and len(s.parts) == voices
        bar_q = float(m.bar_quarters)
        for i, p in enumerate(s.parts):
            if i in (0, voices - 1):  # the outer voices end on the tonic
                assert p.notes[-1].pitch % 12 == k.tonic_pc
            assert all(n.pitch % 12 in {(k.tonic_pc + x) % 12 for x in k.scale_semitones()} for n in p.notes)
            assert all(int(n.onset // bar_q) == int((n.end - 1e-6) // bar_q) for n in p.notes)  # no note crosses a bar


def test_checkpoints_without_the_new_fields_load_with_defaults(tmp_path):
    """A checkpoint written before these options existed (no such fields in its configs)."""
    import json

    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from symphony.model.transformer import ModelConfig, MusicTransformer
    from symphony.model.checkpoint import load_checkpoint, save_checkpoint
    tok = Tokenizer()
    path = tmp_path / "old.safetensors"
    save_checkpoint(path, MusicTransformer(ModelConfig(vocab_size=tok.vocab_size, block_size=64, n_layer=1,
                                                       n_head=2, n_embd=32)), tok)
    with safe_open(str(path), framework="pt") as fh:
        meta = json.loads(fh.metadata()["symphony"])
    for field in ("pos_every_note", "relative_pitch"):
        del meta["tokenizer"][field]
    del meta["model"]["chord_classes"]
    save_file(load_file(str(path)), str(path), metadata={"symphony": json.dumps(meta)})
    model, tok2, _ = load_checkpoint(path)
    assert tok2.config.pos_every_note is False and tok2.config.relative_pitch is True
    assert model.chord_head is None and tok2.names == tok.names
    shipped, tok3, _ = load_checkpoint()  # the default model keeps the default scheme
    assert shipped.chord_head is None and not tok3.config.pos_every_note and tok3.config.relative_pitch
