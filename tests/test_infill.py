"""Infilling and bridges (issue 4): `symphony edit infill / bridge` on real files with the tiny
model (trained with fill-in-the-middle sequences), checked on the written files; plus the
fill-in-the-middle sequences the model is trained on."""
import json

import numpy as np
import pytest

from symphony.tasks.common import load_input
from symphony.errors import RequestError
from symphony.decoding.fim import bar_bounds, encode_for_hole, fim_parts, fim_training_sequence
from symphony.music.analysis import bar_starts
from symphony.tasks.infill import parse_bar_range
from symphony.formats.midi import read_midi
from symphony.model.tokens import Tokenizer, TokenizerConfig

from .conftest import DATA
from .test_editing import _check_record, _edit, _grid
from .test_pipeline import run_cli


def _split(notes, lo, hi):
    inside = [n for n in notes if lo - 1e-6 <= n.onset < hi - 1e-6]
    outside = [n for n in notes if not lo - 1e-6 <= n.onset < hi - 1e-6]
    return inside, outside


def test_fim_sequences_reorder_the_piece_exactly(sample_scores):
    """header + prefix + Hole_n + suffix + Fill + middle + EOS, within the context; putting the
    pieces back in order gives a contiguous stretch of the piece's own encoding."""
    tok = Tokenizer(TokenizerConfig(styles=["celtic", "chinese", "chorale", "german"], infill=True))
    rng = np.random.default_rng(0)
    seen = 0
    for score in sample_scores:
        for _ in range(5):
            seq = fim_training_sequence(tok, score, 256, rng)
            if seq is None:
                continue
            seq = list(seq)
            seen += 1
            assert len(seq) <= 257 and seq[-1] == tok.eos
            holes = [i for i, t in enumerate(seq) if tok.hole1 <= t < tok.fill]
            assert len(holes) == 1 and seq.count(tok.fill) == 1
            h, f = holes[0], seq.index(tok.fill)
            prefix, suffix, middle = seq[8:h], seq[h + 1:f], seq[f + 1:-1]
            n = seq[h] - tok.hole1 + 1
            assert middle.count(tok.bar) == n and middle[0] == tok.bar
            assert all(not x or x[0] == tok.bar for x in (prefix, suffix))
            bars = len(tok.bar_layout(score))
            for start in range(bars - n + 1):  # the hole is somewhere in the piece
                full = encode_for_hole(tok, score, start, n)
                joined = prefix + middle + suffix
                if any(full[i:i + len(joined)] == joined for i in range(8, len(full) - len(joined) + 1)):
                    break
            else:
                pytest.fail("the reordered sequence is not a stretch of the piece")
    assert seen >= 10


def test_seams_carry_explicit_positions(sample_scores):
    """The first note of each voice in the hole's first bar and in the suffix's first bar has a
    Pos token, so those bars read the same whatever precedes them."""
    tok = Tokenizer(TokenizerConfig(infill=True))
    score = next(s for s in sample_scores if len(s.parts) == 4)
    seq = encode_for_hole(tok, score, 2, 2)
    bounds = bar_bounds(tok, seq)
    for b in (2, 4):
        bar = seq[bounds[b]:bounds[b + 1]]
        for i, t in enumerate(bar):
            if tok.is_pitch(t):
                assert tok.is_pos(bar[i - 1]), tok.names[bar[i - 1]]
                break
    fp = fim_parts(tok, seq, 2, 2, 10_000, 10_000, bounds)
    assert fp.prefix == seq[bounds[0]:bounds[2]] and fp.suffix == seq[bounds[4]:bounds[-1]]


@pytest.mark.parametrize("name,bars,part", [("han_sample.abc", "3-4", None), ("bwv66.6.mxl", "2-3", None),
                                            ("bwv66.6.mxl", "3-4", 2)])
def test_infill_changes_only_the_bars_asked_for(tiny_checkpoint, tmp_path, name, bars, part):
    path, _ = tiny_checkpoint
    infile = DATA / name
    src = load_input(infile)
    args = ["--bars", bars, "--seed", "4"] + (["--part", str(part)] if part else [])
    info, back, _ = _edit(tmp_path, "infill", infile, *args, checkpoint=path)
    _check_record(info, infile, "infill", {"bars": bars, "part": part or "all"}, 4)
    first, last = (int(x) for x in bars.split("-"))  # the user's bar numbers: bwv66.6's pickup is bar 0
    bq = src.bar_quarters
    start = bar_starts(src)[src.bar_index(first) - 1]
    end = start + (last - first + 1) * bq
    assert back.bars == src.bars and len(back.parts) == len(src.parts)
    for v, (p_in, p_out) in enumerate(zip(src.parts, back.parts)):
        in_old, out_old = _split(p_in.notes, start, end)
        in_new, out_new = _split(p_out.notes, start, end)
        assert _grid(out_new) == _grid(out_old)  # 100% of the notes outside the range unchanged
        if part is not None and v != part - 1:
            assert _grid(in_new) == _grid(in_old)  # the other parts are kept whole
        else:
            for b in range(last - first + 1):  # every infilled bar has music
                assert any(start + b * bq <= n.onset < start + (b + 1) * bq for n in in_new)
            assert all(n.end <= end + 1e-6 for n in in_new)  # nothing spills into the next bar


def test_infill_is_reproducible_and_seed_dependent(tiny_checkpoint):
    from symphony.tasks.infill import infill
    path, _ = tiny_checkpoint
    src = load_input(DATA / "han_sample.abc")
    a = infill(src, "2-5", seed=1, engine=path)
    b = infill(src, "2-5", seed=1, engine=path)
    c = infill(src, "2-5", seed=2, engine=path)
    notes = lambda s: _grid(s.parts[0].notes)  # noqa: E731
    assert notes(a) == notes(b)
    assert notes(a) != notes(c) or notes(a) != _grid(src.parts[0].notes)


def test_the_kept_fill_is_the_best_joined_candidate(tiny_checkpoint):
    """candidates=4 keeps one of the four single draws (seeds s, s + 7919, ...), the one with the
    highest seam score, and the scorer ranks the real bars above a clash at the seams."""
    from symphony.tasks.engine import Engine
    from symphony.tasks.infill import _seam_fit, fill_bars
    from symphony.music.score import Note, Part, Score
    path, _ = tiny_checkpoint
    src = load_input(DATA / "german_sample.abc")
    notes = lambda s: _grid(s.parts[0].notes)  # noqa: E731
    best, _ = fill_bars(src, 3, 4, None, "german", 5, path, candidates=4)
    singles = [fill_bars(src, 3, 4, None, "german", 5 + 7919 * j, path, candidates=1)[0] for j in range(4)]
    assert notes(best) in [notes(x) for x in singles]
    assert len({tuple(notes(x)) for x in singles}) > 1  # the draws differ
    # the real piece against the same piece with its hole moved a tritone away from both sides
    engine = Engine.load(path)
    model, tok, _ = engine.model, engine.tokenizer, engine.meta
    layout = Tokenizer().bar_layout(src)  # bars 3-4 (0-based 2 and 3), upbeat included
    lo, hi = layout[2][0] / 24, (layout[3][0] + layout[3][1]) / 24
    clash = Score([Part([Note(n.pitch + 6 if lo <= n.onset < hi else n.pitch, n.onset, n.duration)
                         for n in src.parts[0].notes])], src.key, src.meter, src.bpm, src.bars, style="german")
    real = Score(src.parts, src.key, src.meter, src.bpm, src.bars, style="german")
    fit_real, fit_clash = _seam_fit(model, tok, [real, clash], "german", 2, 2)
    assert fit_real > fit_clash


def test_bridge_joins_two_pieces(tiny_checkpoint, tmp_path):
    path, _ = tiny_checkpoint
    a_file, b_file = DATA / "han_sample.abc", DATA / "german_sample.abc"
    a, b = load_input(a_file), load_input(b_file)
    out = tmp_path / "bridge"
    r = run_cli("edit", "bridge", str(a_file), str(b_file), "--bars", "3", "--seed", "2",
                "--checkpoint", str(path), "--no-audio", "-o", str(out))
    assert r.returncode == 0, r.stderr
    info = json.loads((out / "music.json").read_text())
    assert info["edit"]["operation"] == "bridge" and info["edit"]["parameters"]["bars"] == 3
    assert info["edit"]["parameters"]["b"]["fingerprint"].startswith("sha256:")
    back = read_midi(out / "music.mid")
    a_end = a.bars * a.bar_quarters  # A's bars are regular; B's keep their place in its bars
    bridge_end = a_end + 3 * a.bar_quarters
    got_a, rest = _split(back.parts[0].notes, 0, a_end)
    assert _grid(got_a) == _grid(a.parts[0].notes)
    bridge, got_b = _split(rest, a_end, bridge_end)
    assert bridge, "the bridge has notes"
    shifted = [(round(n.onset * 480), n.pitch) for n in b.parts[0].notes]
    assert sorted((round((n.onset - bridge_end) * 480), n.pitch) for n in got_b) == sorted(shifted)


@pytest.mark.parametrize("args,message", [
    (["--bars", "0-2"], "1 <= first"),
    (["--bars", "40-44"], "outside the piece"),
    (["--bars", "1-30"], "outside the piece"),
    (["--bars", "two"], "cannot read"),
    (["--bars", "2-3", "--part", "3"], "part 3 does not exist"),
    (["--bars", "2-3", "--candidates", "0"], "--candidates must be between 1 and 16"),
])
def test_bad_infill_requests_exit_2(tiny_checkpoint, tmp_path, args, message):
    path, _ = tiny_checkpoint
    out = tmp_path / "o"
    r = run_cli("edit", "infill", str(DATA / "han_sample.abc"), *args, "--checkpoint", str(path),
                "--no-audio", "-o", str(out))
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not out.exists()


def test_bar_range_parsing():
    assert parse_bar_range("5-8", 16) == (5, 8)
    assert parse_bar_range("7", 16) == (7, 7)
    with pytest.raises(RequestError):
        parse_bar_range("8-5", 16)
    with pytest.raises(RequestError, match="at most 16"):
        parse_bar_range("1-20", 40)
