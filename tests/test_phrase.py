"""Phrase plans (issue 17): a one-voice piece without a form is composed in phrases. Inner phrase
ends close on a long note on a strong beat of the planned degree (half cadences on the 2nd or 5th,
the answer on the tonic), the answer and the last phrase bring back the opening, and no run on two
pitches lasts four bars. Pieces from the tiny model of conftest.py, read back from MIDI."""
from __future__ import annotations

import pytest

import symphony
from benchmarks.melody_craft import piece_measures
from symphony.decoding.rhythm import RHYTHM_VOCAB, final_onsets
from symphony.formats.midi import read_midi, write_midi
from symphony.formats.musicxml import write_musicxml
from symphony.model.tokens import TICKS_PER_QUARTER
from symphony.music.phrase import half_cadence, plan_phrases
from symphony.music.theory import Key, parse_key, parse_meter

CASES = [("german", "F major", "4/4", 0), ("german", "G major", "3/4", 1), ("chinese", "G zhi", "2/4", 2),
         ("celtic", "D major", "6/8", 3), ("celtic", "A dorian", "4/4", 4)]


def _ticks(q: float) -> int:
    return round(q * TICKS_PER_QUARTER)


def _generate(tiny_checkpoint, tmp_path, style, key, meter, seed, **kw):
    path, _ = tiny_checkpoint
    s = symphony.generate(style=style, key=key, meter=meter, bars=16, seed=seed, checkpoint=path, **kw)
    write_midi(s, tmp_path / "x.mid")
    back = read_midi(tmp_path / "x.mid")
    back.key, back.style = s.key, style
    return s, back


def _bar_notes(score, bar: int):
    bar_t = _ticks(score.bar_quarters)
    return [n for n in score.parts[0].notes if (bar - 1) * bar_t <= _ticks(n.onset) < bar * bar_t]


def _content(score, bar: int):
    lo = _ticks((bar - 1) * score.bar_quarters)
    return [(_ticks(n.onset) - lo, n.pitch, _ticks(n.duration)) for n in _bar_notes(score, bar)]


def test_a_sixteen_bar_plan_is_question_answer_contrast_return():
    p = plan_phrases(16, Key("D", "major"))
    assert [(ph.role, ph.first_bar, ph.n_bars) for ph in p.phrases] == [
        ("opening", 1, 4), ("answer", 5, 4), ("contrast", 9, 4), ("return", 13, 4)]
    assert p.cadences == {4: frozenset({2, 7}), 8: frozenset({0}), 12: frozenset({2, 7})}  # 16: the final cadence
    assert all(src < bar for bar, src in {**p.copy_from, **p.vary}.items())
    assert not set(p.cadences) & set(p.copy_from) - {12}  # a cadence bar is copied only from a cadence bar
    assert 1 < p.peak_bar < 16 and p.peak_bar not in p.copy_from
    assert p.parallel()[5] == 1 and p.parallel()[16] == 12 and p.motif_bars == 4


def _plans(style, bars=16, n=400):
    return [plan_phrases(bars, Key("G", "major"), style, seed) for seed in range(n)]


def test_each_style_brings_bars_back_as_its_real_tunes_do():
    """A plan borrows the returns of a real tune of its style and length (music.phrase.PHRASE_FORMS,
    the train split): the 16-bar forms (benchmarks/song_forms.py) come at their real shares, and
    so do the bars repeating an earlier one, of all lengths. An Irish tune or a Chinese song closes
    both halves alike (bar 16 repeats bar 8) in about a third of them, a German song seldom; a
    German period restates its opening but for the close (A A' ...) where a Chinese song rarely does."""
    from benchmarks.song_forms import form_label, ours, real_forms, summary
    for style in ("celtic", "chinese", "german"):
        forms = real_forms(style)
        real = summary([dict(map(tuple, f[2])) for f in forms], [f[0] for f in forms])
        plans = ours(style, 16, 300)
        us = summary(plans, [16] * len(plans))
        assert abs(us["final_copy"] - real["final_copy"]) < 0.1 and abs(us["rhyme"] - real["rhyme"]) < 0.1, style
        shares = dict(real["forms"])
        for label, share in us["forms"][:3]:
            assert abs(share - shares.get(label, 0.0)) < 0.1, (style, label)
        lengths = [f[0] for f in forms][::4]
        mine = [plan_phrases(b, Key("G", "major"), style, seed).copy_from for seed, b in enumerate(lengths)]
        assert abs(summary(mine, lengths)["repeated"] - real["repeated"]) < 0.06, style
    chinese, german = (ours(style, 16, 300) for style in ("chinese", "german"))
    assert sum(form_label(m).startswith("A A'") for m in german) > 0.15 * 300 > \
        sum(form_label(m).startswith("A A'") for m in chinese)
    assert sum(m.get(16) == 8 for m in chinese) > 0.25 * 300 > 0.1 * 300 > sum(m.get(16) == 8 for m in german)


def test_a_borrowed_form_keeps_the_plans_cadences():
    """A phrase end repeats a bar inside a phrase or a phrase end of the same cadence, the final bar
    only a tonic close (a refrain); a bar always repeats an earlier one, a varied return opens a
    phrase; a length without real tunes enough keeps the style's habits."""
    from symphony.music.phrase import MIN_FORMS, TONIC, real_forms
    for style in ("celtic", "chinese", "german"):
        for bars in (8, 12, 16, 24, 32):
            for p in _plans(style, bars, 60):
                assert all(src < bar for bar, src in {**p.copy_from, **p.vary}.items())
                for bar, src in p.copy_from.items():
                    if bar == bars:
                        assert p.cadences[src] == TONIC, (style, bars, src)
                    elif bar in p.cadences:
                        assert p.cadences.get(src, p.cadences[bar]) == p.cadences[bar], (style, bars, bar, src)
                assert not set(p.vary) & (set(p.cadences) | set(p.copy_from))
    assert len(real_forms("german", 16)) >= MIN_FORMS > len(real_forms("german", 61))
    habits = plan_phrases(61, Key("G", "major"), "german", 0)
    assert habits.copy_from and sum(ph.n_bars for ph in habits.phrases) == 61


def test_styles_place_their_high_point_and_hold_their_phrase_ends_as_real_tunes_do():
    def plans(style):
        return [plan_phrases(16, Key("G", "major"), style, seed) for seed in range(400)]
    early = lambda ps: sum(p.peak_bar <= 4 for p in ps) / len(ps)
    assert early(plans("chinese")) > 0.6 > early(plans("german")) > 0.2  # Chinese songs start high
    held = lambda ps: sum(len(p.held) for p in ps) / sum(len(p.cadences) for p in ps)
    assert held(plans("celtic")) < 0.2 < held(plans("chinese"))


def test_plans_follow_the_length():
    assert plan_phrases(4, Key("C", "major")) is None  # one phrase: only the final cadence
    eight = plan_phrases(8, Key("C", "major"), "celtic", 9)
    assert [ph.role for ph in eight.phrases] == ["opening", "answer"]
    twelve = plan_phrases(12, Key("C", "major"))
    assert [ph.role for ph in twelve.phrases] == ["opening", "contrast", "return"]
    long = plan_phrases(32, Key("C", "major"), "celtic", 2)
    assert [ph.n_bars for ph in long.phrases] == [8, 8, 8, 8]  # long pieces: 8-bar strains
    odd = plan_phrases(18, Key("C", "major"))
    assert sum(ph.n_bars for ph in odd.phrases) == 18 and {ph.n_bars for ph in odd.phrases} <= {4, 5}


def test_half_cadences_sit_on_the_modes_second_or_fifth():
    assert half_cadence(parse_key("D major")) == {2, 7}
    assert half_cadence(parse_key("E minor")) == {2, 7}
    assert half_cadence(parse_key("A yu")) == {7}  # the pentatonic yu mode has no 2nd
    assert half_cadence(parse_key("E jue")) == {5}  # nor jue a 5th: the note a fourth up


@pytest.mark.parametrize("style,key,meter,seed", CASES)
def test_phrase_ends_close_on_long_notes_of_the_planned_degree(tiny_checkpoint, tmp_path, style, key, meter, seed):
    s, back = _generate(tiny_checkpoint, tmp_path, style, key, meter, seed)
    plan = plan_phrases(16, s.key)
    plan = plan_phrases(16, s.key, style, seed)
    assert s.meta["phrases"][0] == {"role": "opening", "bars": [1, 4], "cadence": sorted(half_cadence(s.key)),
                                    "held": 4 in plan.held}
    assert any(line.startswith("structure: phrases: bars 1-4 opening") for line in s.explanation)
    bar_t, beat_t = _ticks(back.bar_quarters), _ticks(back.meter.beat_quarters)
    onsets = final_onsets(style, back.meter, beat_t, bar_t)
    pickup = 1 if back.parts[0].notes[0].onset > 0 else 0  # after a pickup bar the phrases end a bar later
    for bar, pcs in plan.cadences.items():
        b = bar + pickup
        if bar in plan.held:  # a long note from a strong beat to the barline
            note = _bar_notes(back, b)[-1]
            assert _ticks(note.onset) - (b - 1) * bar_t in onsets, (b, note)
            assert _ticks(note.end) == b * bar_t and _ticks(note.duration) >= beat_t
        else:  # arrives on the bar's last strong beat; a phrase end breathing in its bar, on one of
            # its strong beats, the note before its rest (bar_rhythm: drawn by the real cadence bars)
            notes = _bar_notes(back, b)
            rest = next((n for n, m in zip(notes, notes[1:] + [None])
                         if _ticks(n.end) < (_ticks(m.onset) if m else b * bar_t)), None)
            note = rest or next(n for n in notes if _ticks(n.onset) - (b - 1) * bar_t == max(onsets))
            assert _ticks(note.onset) - (b - 1) * bar_t in onsets, (b, note)
        assert (note.pitch - s.key.tonic_pc) % 12 in pcs, (b, note.pitch)  # the planned degree


@pytest.mark.parametrize("style,key,meter,seed", CASES)
def test_the_planned_bars_come_back(tiny_checkpoint, tmp_path, style, key, meter, seed):
    s, back = _generate(tiny_checkpoint, tmp_path, style, key, meter, seed)
    shift = 1 if back.parts[0].notes[0].onset > 0 else 0  # after a pickup bar, a bar later
    plan = plan_phrases(16, s.key, style, seed)
    ends = set(plan.cadences) | {16}
    for bar, src in plan.copy_from.items():
        if bar + shift <= s.bars - shift:  # (after a pickup the last bar is the composed final)
            new, old = _content(back, bar + shift), _content(back, src + shift)
            # the notes that lead to its own cadence may change (the final's bar: the note that
            # approaches the final too, which the final cadence's rules choose)
            drop = 2 if bar + shift == s.bars else 1
            if bar in ends and src not in ends:  # a phrase end repeating a bar from inside a phrase
                # (a borrowed form's): the copy goes on up to its cadence's note
                mark = max(final_onsets(style, back.meter, _ticks(back.meter.beat_quarters), _ticks(back.bar_quarters)))
                new, old = [x for x in new if x[0] < mark], [x for x in old if x[0] < mark]
            elif bar in ends or bar + 1 in ends:
                new, old = new[:-drop], old[:max(0, len(new) - drop)]
            assert new == old, (bar, src)
    free = symphony.generate(style=style, key=key, meter=meter, bars=16, seed=seed, repeats=False,
                             checkpoint=tiny_checkpoint[0])
    assert "repeat the opening" not in " ".join(free.explanation) and free.meta["phrases"] == s.meta["phrases"]


@pytest.mark.parametrize("style,key,meter,seed", CASES)
def test_no_run_on_two_pitches_lasts_four_bars(tiny_checkpoint, tmp_path, style, key, meter, seed):
    for kw in ({}, {"emotion": "sad"}, {"density": -0.8}):
        _, back = _generate(tiny_checkpoint, tmp_path, style, key, meter, seed + 10, **kw)
        assert piece_measures(back)["static_bars"] < 4, kw


def _leaps_going_on(scores) -> tuple[int, int]:
    """(leaps wider than a fourth followed by a note further on in the same direction, such leaps)."""
    leaps = on = 0
    for s in scores:
        ps = [n.pitch for n in s.parts[0].notes]
        for a, b, c in zip(ps, ps[1:], ps[2:]):
            if abs(b - a) > 5:
                leaps += 1
                on += (c - b) * (b - a) > 0
    return on, leaps


def test_leaps_wider_than_a_fourth_turn_back_or_hold(tiny_checkpoint, tmp_path):
    """Real tunes go on in a wide leap's direction after 7-16% of them (contour.py); the tiny model,
    unguided, after about a third."""
    scores = [_generate(tiny_checkpoint, tmp_path, *case[:3], case[3] + 20)[1] for case in CASES]
    on, leaps = _leaps_going_on(scores)
    assert leaps >= 10 and on / leaps <= 0.2, (on, leaps)


@pytest.mark.skipif(not RHYTHM_VOCAB.exists(), reason="no shipped model")
def test_the_high_point_comes_where_it_is_planned():
    """The shipped model: the tune's highest note is first reached in the quarter of the piece
    that holds its planned peak bar (early in Chinese songs) in most pieces: two in three of 18
    (seeds 0-11: 29 of 36 before the sequence prior and the song-rest rules, 27 after; 4 seeds a
    style proved too few to tell those apart from a plan no longer kept)."""
    hits = []
    for style in ("celtic", "chinese", "german"):
        for seed in range(6):
            s = symphony.generate(style=style, seed=seed, bars=16)
            top = max(s.parts[0].notes, key=lambda n: (n.pitch, -n.onset))
            hits.append(int(top.onset // s.bar_quarters) // 4 == (s.meta["high_point_bar"] - 1) // 4)
    assert sum(hits) >= 12, hits


@pytest.mark.skipif(not RHYTHM_VOCAB.exists(), reason="no shipped model")
def test_tunes_come_home_to_a_final_below_their_line(monkeypatch):
    """The shipped model: a tune's last bars come down to the final near the bottom of its range, so
    the tune lies above its final as real ones do (time below it: celtic 15%, chinese 11%, german 9%);
    without the pull the Irish and Chinese tunes ended an octave up and sagged under their final."""
    from symphony.decoding import contour
    from benchmarks.melody_craft import register

    def below(pull):
        monkeypatch.setattr(contour, "HOME_PULL", pull)
        shares = []
        for style in ("celtic", "chinese"):
            for seed in range(4):
                s = symphony.generate(style=style, seed=seed, bars=16)
                shares.append(register(s.parts[0].notes)["below_final"])
        return sum(shares) / len(shares)
    pulled, free = below(contour.HOME_PULL), below(0.0)
    assert pulled < 0.32 and pulled < free - 0.05, (pulled, free)  # (0.21 and 0.44)


def _figures(score, bars):
    """{(onset within the beat, length) in ticks} of the melody notes starting in `bars` (1-based)."""
    bar_t, beat_t = _ticks(score.bar_quarters), _ticks(score.meter.beat_quarters)
    return [(_ticks(n.onset) % beat_t, _ticks(n.duration)) for n in score.parts[0].notes
            if _ticks(n.onset) // bar_t + 1 in bars]


@pytest.mark.parametrize("style,key,meter,seed", CASES)
def test_after_the_opening_phrase_the_tune_plays_its_own_rhythms(tiny_checkpoint, tmp_path, style, key, meter, seed):
    """No stray figure (a dotted pair, a syncopation heard once): a note after the opening phrase
    plays a figure (onset in the beat, length) the tune has played before, unless it is held to
    the barline (a cadence's note), is a phrase's closing note of a quarter or more (a tonic close
    settles: a reel's strain ends on a quarter though it ran in eighths), or is in the final
    cadence's bar."""
    s, back = _generate(tiny_checkpoint, tmp_path, style, key, meter, seed, repeats=False)
    shift = 1 if back.parts[0].notes[0].onset > 0 else 0
    bar_t = _ticks(back.bar_quarters)
    closes = {ph["bars"][1] + shift for ph in s.meta.get("phrases", [])}
    heard = set(_figures(back, range(1, 5 + shift)))
    for n in back.parts[0].notes:
        bar = _ticks(n.onset) // bar_t + 1
        if bar <= 4 + shift or bar == back.bars or _ticks(n.end) == bar * bar_t:  # (the final cadence's bar)
            continue
        if bar in closes and _ticks(n.duration) >= _ticks(1.0):  # a phrase's settled close
            continue
        fig = (_ticks(n.onset) % _ticks(back.meter.beat_quarters), _ticks(n.duration))
        # (a German song that opened in sixteenths, past its share of them (generate.SHORT_NOTES),
        # plays an eighth or longer where the tune's figure at that point was a sixteenth's)
        past_share = style == "german" and fig[1] >= _ticks(0.5) and any(d < _ticks(0.5) for _, d in heard)
        assert fig in heard or past_share, (bar, fig, sorted(heard))
        heard.add(fig)


@pytest.mark.parametrize("style,key,meter,seed", CASES)
def test_a_varied_return_starts_like_its_source_and_ends_otherwise(tiny_checkpoint, tmp_path, style, key, meter, seed):
    plan = None
    for seed in range(seed, seed + 40):  # a seed whose plan varies a bar
        plan = plan_phrases(16, parse_key(key), style, seed)
        if plan.vary:
            break
    s, back = _generate(tiny_checkpoint, tmp_path, style, key, meter, seed)
    assert any("varies bar" in line for line in s.explanation)
    shift = 1 if back.parts[0].notes[0].onset > 0 else 0
    half = _ticks(back.bar_quarters) // 2
    for bar, src in plan.vary.items():
        new, old = _content(back, bar + shift), _content(back, src + shift)
        assert [x for x in new if x[0] < half] == [x for x in old if x[0] < half], (bar, src)
        assert new != old
        at = {x[0]: x[1] for x in old if x[0] >= half}
        assert all(at.get(t) != p for t, p, _ in new if t >= half)  # no note of the source's second half


def test_a_minor_tune_keeps_one_inflection_of_its_sixth_and_seventh(tiny_checkpoint, tmp_path):
    """E natural then E flat in G minor within four bars, note by note, is what readers heard as
    a machine's; a degree keeps the inflection it last sounded for four bars."""
    from benchmarks.melody_craft import piece_measures
    flips = 0
    for seed in range(4):
        _, back = _generate(tiny_checkpoint, tmp_path, "german", "G minor", "4/4", seed)
        back.key = parse_key("G minor")
        flips += piece_measures(back)["flips"]
    assert flips == 0


def test_a_jig_runs_in_eighths_not_sixteenths():
    """After three notes shorter than an eighth in a row, or once they are more than 15% of the
    tune's notes, a jig's next note is an eighth or longer (real jigs: 6% of notes, runs of 3)."""
    from types import SimpleNamespace

    import numpy as np

    from symphony.decoding import motif
    from symphony.model.tokens import TICKS_PER_QUARTER, Tokenizer
    tok = Tokenizer()
    q = TICKS_PER_QUARTER
    ids = np.array([tok.dur_token(q // 4), tok.dur_token(q // 2), tok.dur_token(3 * q // 2)])
    st = SimpleNamespace(cons=SimpleNamespace(max_short_run=3, short_share=0.15, closes=True, plain_end_bars=0, bars=8,
                                             rhythm=None), bars_done=2, bar_ticks=3 * q, voice=0, tok=tok, cursor=0, short_run=0,
                         copying=False, short_end=-1, notes_played=0, short_played=0, abs_tick=lambda c: c)
    for start in (0, q // 4, q // 2):  # three sixteenths in a row
        motif.remember_length(st, start, q // 4)
    st.cursor = 3 * q // 4
    assert [tok.dur_of(int(t)) for t in motif.limit_short_run(st, ids)] == [q // 2, 3 * q // 2]
    st.cursor = q  # after a rest a new run may start (the share only counts from the 8th note on)
    assert [tok.dur_of(int(t)) for t in motif.limit_short_run(st, ids)] == [q // 4, q // 2, 3 * q // 2]
    for k in range(6):  # six eighths: 3 short of 9 notes, over 15%
        motif.remember_length(st, 2 * q + k * q // 2, q // 2)
    assert [tok.dur_of(int(t)) for t in motif.limit_short_run(st, ids)] == [q // 2, 3 * q // 2]
    st.copying = True  # a bar the plan repeats keeps its sixteenths
    assert len(motif.limit_short_run(st, ids)) == 3
    st.copying, st.cons.max_short_run = False, None  # not a jig: nothing changes
    assert len(motif.limit_short_run(st, ids)) == 3


def _habit_plans(style, bars, n=400):
    """Plans whose returns are drawn from the style's habits (a length without real forms enough)."""
    import random

    from symphony.music.phrase import HABITS, _plan_returns
    out = []
    for seed in range(n):
        p = plan_phrases(bars, Key("G", "major"), style, seed)
        p.copy_from.clear(), p.vary.clear()
        _plan_returns(p, HABITS[style], random.Random(seed))
        out.append(p)
    return out


def test_answers_restate_the_opening_and_phrases_rhyme_at_every_length():
    """Where a length has too few real tunes to borrow a form from, the style's habits place the
    returns: the answer of a 20- or 24-bar tune restates the opening as a 16-bar tune's does; an
    8-bar strain of a long tune is 4 + 4, its second half restating its first half's start;
    Chinese phrases end alike (a contrast's last two bars are the opening's); Irish B strains
    repeat their own start where German songs bring back their opening; the final bar is never a
    copy."""
    def share(plans, bar, src):
        return sum(p.copy_from.get(bar) == src for p in plans) / len(plans)
    for bars in (16, 20, 24):
        assert share(_habit_plans("german", bars), 5, 1) > 0.4, bars
    long = _habit_plans("celtic", 32)
    assert share(long, 5, 1) > 0.6 and share(long, 21, 17) > 0.6  # each strain: 4 + 4
    chinese = _habit_plans("chinese", 16)
    # (in 0.4 of the plans: real 16-bar Chinese tunes repeat bar 7 at 15 in 23%, bar 4 at 12 in 19%)
    assert all(0.3 < share(chinese, b, a) < 0.55 for b, a in ((11, 3), (12, 4), (15, 7)))
    celtic, german = _habit_plans("celtic", 16), _habit_plans("german", 16)
    assert share(celtic, 13, 9) > 0.45 > 0.15 > share(celtic, 13, 1) > 0.05
    assert share(german, 13, 1) > 0.15 > share(german, 13, 9)
    for style in ("celtic", "chinese", "german"):
        for bars in (8, 12, 16, 20, 32):
            assert all(bars not in p.copy_from for p in _habit_plans(style, bars, 100)), (style, bars)


def test_a_sixth_inside_a_phrase_but_not_at_its_start_is_too_wide():
    """contour.singable: inside a phrase no leap wider than a major sixth but an octave; into a
    phrase's first note an octave at most; after a leap wider than a fifth the line turns back."""
    import numpy as np

    from symphony.decoding import contour
    from symphony.decoding.sampler import Constraints, GrammarState
    from symphony.music.theory import Meter
    from symphony.tasks.engine import Engine
    tok = Engine.load().tokenizer
    key = Key("C", "major")
    cons = Constraints(key=key, meter=Meter(4, 4), bars=8, shape=True, phrase_marks={4: frozenset({7})},
                       final_onsets=(0, 48))
    st = GrammarState(tok, cons)
    st.step(tok.bar)
    for m in (60, 64):
        st.step(tok.pitch_token(m, key))
        st.step(tok.dur_token(24))
    ids = np.array([tok.pitch_token(m, key) for m in (62, 72, 74, 76, 77, 81)], dtype=np.int64)
    allowed = {tok.pitch_of(int(t), key) for t in contour.singable(st, ids)}
    assert allowed == {62, 72, 76}  # 74 and 77: a seventh and a minor ninth from E; 76 its octave
    for m in (64, 65, 67, 69, 71, 72):  # on to the bar after a phrase end (plan bar 4)
        st.step(tok.pitch_token(m, key))
        st.step(tok.dur_token(24))
    for _ in range(3):
        st.step(tok.bar)
        for _ in range(4):
            st.step(tok.pitch_token(60, key))
            st.step(tok.dur_token(24))
    st.step(tok.bar)  # bar 5: a phrase's first note may leap, up to an octave
    allowed = {tok.pitch_of(int(t), key) for t in contour.singable(st, ids)}
    assert 72 in allowed and 74 not in allowed and 60 not in {tok.pitch_of(int(t), key) for t in contour.singable(
        st, np.array([tok.pitch_token(60, key), tok.pitch_token(62, key)], dtype=np.int64))}


def test_a_tune_with_an_upbeat_has_all_its_bars_after_it(tiny_checkpoint, tmp_path):
    """--bars 16 with an upbeat: the pickup bar 0, then bars 1-16 as printed, every phrase of the plan
    whole (before, 15 bars followed the pickup and the last phrase had 3); the written file agrees."""
    seen = 0
    for seed in range(8):
        s, back = _generate(tiny_checkpoint, tmp_path, "celtic", "D major", "6/8", seed)
        assert s.full_bars == back.full_bars == 16 and s.bars == 16 + (1 if s.pickup else 0)
        assert s.meta["phrases"][-1]["bars"] == [13, 16]
        if s.pickup:
            seen += 1
            last = max(n.end for n in s.parts[0].notes)
            assert last > 16 * float(s.bar_quarters) - s.pickup - 1e-6  # the final sounds in bar 16
    assert seen >= 2


def test_irish_tunes_are_printed_in_strains_played_twice(tiny_checkpoint, tmp_path):
    """A 16-bar celtic tune is printed |: 8 bars :|: 8 bars :| at the share of O'Neill's and Ryan's
    tunes (phrase.STRAIN_REPEATS), the repeat signs in the MusicXML; a German song never is, nor a
    tune asked for --no-repeats."""
    path, _ = tiny_checkpoint
    printed = 0
    for seed in range(6):
        s = symphony.generate(style="celtic", key="G major", meter="2/2", bars=16, seed=seed, checkpoint=path)
        if not s.barlines:
            assert "strains" not in s.meta
            continue
        printed += 1
        shift = 1 if s.pickup else 0
        assert s.barlines == [[7 + shift, "right", "repeat-end"], [8 + shift, "left", "repeat-start"],
                              [15 + shift, "right", "repeat-end"]]
        write_musicxml(s, tmp_path / "t.musicxml")
        assert symphony.read_score(tmp_path / "t.musicxml").barlines == s.barlines
        assert any(x.startswith("strains: bars 1-8, bars 9-16") for x in s.explanation)
    assert 3 <= printed <= 6
    for kw in ({"style": "german"}, {"style": "celtic", "repeats": False}):
        for seed in range(3):
            s = symphony.generate(key="G major", meter="2/2", bars=16, seed=seed, checkpoint=path, **kw)
            assert not s.barlines


def test_a_real_tunes_form_counts_its_bars_as_a_musician_does():
    """training.plans.phrase_form_of: bars from bar 1 after a pickup; a B strain's pickup printed as
    a bar of its own after the short bar closing the A strain (O'Neill's) is left out, so the B
    strain's bars keep the 4-bar grid; a bar repeats the first earlier bar it equals; a phrase
    opening as an earlier one and going on otherwise is a varied return."""
    from symphony.music.score import Note, Part, Score
    from symphony.music.theory import parse_meter
    from symphony.training.plans import phrase_form_of

    def tune(bars, starts, pickup=0.0, bar_meters=None):
        notes = [Note(p, s + i * 0.5, 0.5) for (s, ps) in zip(starts, bars) for i, p in enumerate(ps)]
        return Score([Part(notes)], Key("G", "major"), parse_meter("2/4"), 100, len(bars), pickup=pickup,
                     bar_meters=bar_meters)
    a, b, c, d, e, f = (60, 62), (64, 65), (67, 65), (64, 62), (60, 64), (72, 71)
    bars = [(67,), a, b, c, d, a, b, e, d]  # a pickup, then 8 bars: 5-6 repeat 1-2
    starts = [0.5] + [2.0 * i for i in range(1, 9)]
    L, shift, copies, varies = phrase_form_of(tune(bars, starts, pickup=1.5))
    assert (L, shift, copies, varies) == (8, 1, [[5, 1], [6, 2], [8, 4]], [])
    # 4 bars, the A strain's short last bar (1.5 quarters), the B strain's pickup (0.5), 4 bars
    lengths = [2, 2, 2, 2, 1.5, 0.5, 2, 2, 2, 2]
    at = [sum(lengths[:i]) for i in range(len(lengths))]
    meters = {2: "2/4", 1.5: "3/8", 0.5: "1/8"}
    bars = [a, b, c, d, (60, 62, 64), (71,), (60, 67), b, f, d]
    L, shift, copies, varies = phrase_form_of(tune(bars, at, bar_meters=[[s, meters[x]] for s, x in zip(at, lengths)]))
    assert (L, shift) == (9, 0) and [7, 2] in copies and [9, 4] in copies and [6, 1] not in copies
    assert varies == [[5, 1]]  # the A strain's short closing bar opens as bar 1 did


def _strain_close(s, bar: int, at: float | None = None):
    """(the note sounding on `bar`'s last strong beat, or `at` quarters into it, the note before it,
    the bar's notes after it) of a generated score (bars of the plan: after a pickup bar, a stored bar later)."""
    bq = float(s.meter.bar_quarters)
    lo = (bar - 1 + (1 if s.pickup else 0)) * bq
    beats = round(bq / s.meter.beat_quarters)
    t = lo + (at if at is not None else bq / 2 if beats % 2 == 0 else 0.0)
    notes = sorted(s.parts[0].notes, key=lambda n: n.onset)
    i = next(i for i, n in enumerate(notes) if n.onset <= t + 1e-6 < n.end)
    return notes[i], notes[i - 1], [n for n in notes[i + 1:] if n.onset < lo + bq - 1e-6]


@pytest.mark.parametrize("meter", ["2/2", "6/8"])
def test_an_irish_strain_comes_home_before_its_repeat(tiny_checkpoint, meter):
    """Bar 8 of a 16-bar Irish tune ends its first strain (printed before a repeat sign) and the
    answer phrase: the tonic arrives on its last strong beat (a reel's half bar, a jig's second
    dotted quarter), by step or from the dominant, and the bar's notes after it stay within a major
    third of it: no run up into the repeat, no stop on the low dominant. Before, a reel's phrase
    marks sat on the downbeat (no final-onset data for celtic 2/2) and the bar ran on past them."""
    path, _ = tiny_checkpoint
    beat_t = _ticks(2.0 if meter == "2/2" else 1.5)
    assert final_onsets("celtic", parse_meter(meter), beat_t, 2 * beat_t) == (0, beat_t)
    for seed in range(4):
        s = symphony.generate(style="celtic", key=("E minor", "D major")[seed % 2], meter=meter, bars=16, seed=seed,
                              checkpoint=path)
        assert s.meta["phrases"][1]["bars"] == [5, 8] and s.meta["phrases"][1]["cadence"] == [0]
        home, before, after = _strain_close(s, 8)
        if meter == "2/2" and (home.pitch - s.key.tonic_pc) % 12:  # (a reel whose final falls on beat 4
            # or its last eighth closes the strain its last bar repeats there too: generate.REEL_FINALS)
            from symphony.tasks.generate import reel_final
            late = reel_final("celtic", s.meter, s.meta.get("bar_feel"), seed)["final_at"][24 if s.pickup else 0]
            home, before, after = _strain_close(s, 8, late / 24)
        assert (home.pitch - s.key.tonic_pc) % 12 == 0, (seed, home)
        d = home.pitch - before.pitch
        assert abs(d) <= 2 or d in (5, -7), (seed, before.pitch, home.pitch)
        assert all(abs(n.pitch - home.pitch) <= 4 for n in after), (seed, [n.pitch for n in after])


def test_the_reel_of_the_report_closes_its_first_strain_on_the_tonic():
    """The shipped model's reel in E minor, seed 0 (|: A :|: B :|), ended bar 8 on D, running on
    from a tonic on the downbeat (E D E E D E D); its first strain now comes home on E."""
    s = symphony.generate(style="celtic", key="E minor", meter="2/2", bars=16, seed=0)
    assert s.meta.get("strains") == [[1, 8], [9, 16]]
    home, _, after = _strain_close(s, 8)
    assert home.pitch % 12 == 4 and all(abs(n.pitch - home.pitch) <= 4 for n in after)


def test_an_irish_final_comes_by_step_where_its_bar_repeats_a_refrain():
    """A phrase plan whose last bar repeats the answer's close (a borrowed real form's refrain)
    once let the copy leap to the final from the dominant (A-D, D-G: 4 of 24 Irish pieces, real
    2%); the copy now gives way to the final's step. Seeds 1001, 1005, 1009, 1012 of
    benchmarks.melody_craft's celtic requests were the leaps."""
    for seed, kw in ((1001, {}), (1005, {"density": 0.8}), (1009, {}), (1012, {})):
        s = symphony.generate(style="celtic", seed=seed, **kw)
        notes = sorted(s.parts[0].notes, key=lambda n: n.onset)
        assert (notes[-1].pitch - s.key.tonic_pc) % 12 == 0
        assert abs(notes[-1].pitch - notes[-2].pitch) <= 2, (seed, notes[-2].pitch, notes[-1].pitch)


def test_a_borrowed_form_plays_no_bar_three_times_running():
    """A real song's form may repeat one bar in three bars running (bars 10, 11, 12 repeating bar 9);
    on the page it reads as a loop ("loops cB BA three times", blind panel 83): the bar and its echo
    stay, the third is composed anew; a later return of the bar stays."""
    from symphony.music.phrase import PhrasePlan, borrow_form
    plan = plan_phrases(16, parse_key("F major"), "german", seed=0)
    plan = PhrasePlan(plan.phrases, variety=plan.variety)
    plan.cadences = {ph.last_bar: ph.cadence for ph in plan.phrases[:-1]}
    borrow_form(plan, [16, 0, [[10, 9], [11, 9], [13, 9], [14, 9]], []])
    assert plan.copy_from == {10: 9, 13: 9, 14: 9}


def test_a_long_tune_borrows_a_form_with_returns(monkeypatch):
    """A tune of 20+ bars does not borrow the form of a real tune that repeats under SPARSE_FORM of
    its bars (issue 17: "runs 20 bars with no repeat structure"); a 16-bar tune still may."""
    from symphony.music import phrase
    sparse = [24, 0, [[5, 1]], []]  # one return in 24 bars
    rich = [24, 0, [[5, 1], [6, 2], [13, 1], [14, 2], [21, 5], [22, 6]], []]
    drawn = []
    monkeypatch.setattr(phrase, "borrow_form", lambda plan, form: drawn.append(form))
    monkeypatch.setattr(phrase, "real_forms", lambda style, bars: [sparse] * 7 + [rich])
    for seed in range(12):
        plan_phrases(24, parse_key("D major"), "celtic", seed)
    assert drawn and all(f is rich for f in drawn)
    drawn.clear()
    monkeypatch.setattr(phrase, "real_forms", lambda style, bars: [[16, 0, [[5, 1]], []]] * 7 + [rich])
    for seed in range(12):
        plan_phrases(16, parse_key("D major"), "celtic", seed)
    assert any(f is not rich for f in drawn)


def test_a_closing_rhyme_ends_the_tune_as_its_first_tonic_phrase_did():
    from symphony.music.phrase import CLOSING_RHYME, PhrasePlan, closing_rhyme
    key = parse_key("D major")
    plans = [plan_phrases(16, key, "celtic", seed=s) for s in range(200)]
    drawn = sum(p.closing for p in plans) / len(plans)
    assert abs(drawn - CLOSING_RHYME["celtic"]) < 0.08
    bare = replace_copies(plans[0], {})
    rhymed = closing_rhyme(bare)
    assert rhymed.copy_from == {15: 7, 16: 8} and bare.copy_from == {}  # (a new plan; bar 8 the answer's tonic close)
    fifth = replace_copies(plans[0], {})
    fifth = PhrasePlan(fifth.phrases, cadences={**fifth.cadences, 12: frozenset({7})})
    assert closing_rhyme(fifth, frozenset({7})).copy_from == {15: 11, 16: 12}  # a tune ending on the 5th
    # a bar already placed stays, and the final does not repeat a close two bars before it
    assert closing_rhyme(replace_copies(plans[0], {15: 3})).copy_from == {15: 3}
    short = plan_phrases(9, key, "german", seed=1)
    assert closing_rhyme(replace_copies(short, {})).copy_from == {}  # no earlier tonic close


def replace_copies(plan, copies):
    from dataclasses import replace
    return replace(plan, copy_from=dict(copies), vary={})


def test_an_irish_refrain_reaches_the_final_as_the_first_strain_closed():
    """A reel's bar 8 closing on the tonic from the dominant cut the final's copy short: the refrain's
    source is approached by step, so the tune's last notes are the first strain's close."""
    from symphony.music.analysis import bar_contents, bar_starts, melody
    from symphony.tasks.api import generate
    rhymes = 0
    for seed in range(1000, 1006):
        score = generate(style="celtic", key="D major", meter="2/2", bars=16, seed=seed)
        ps = [n.pitch for n in melody(score)]
        rhymes += any(ps[i:i + 4] == ps[-4:] for i in range(len(ps) - 8))
        cont = bar_contents(melody(score), bar_starts(score))
        assert cont[-1] and cont[-2]
    assert rhymes >= 3
