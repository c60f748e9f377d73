"""Issue 18's blind panel: generated chorale sopranos circled one cell. A composed chorale tune
(music.chorale_tune) is measured with the benchmark's own soprano-shape counts against what
Bach's chorale tunes do; its phrases end in fermatas that every voice ends on; a repeated
stretch of melody is harmonized afresh; the blind panel engraves both pieces of a pair alike."""
import itertools

import pytest

from benchmarks.fourpart import repeats, soprano_shape
from symphony.music.chorale_tune import compose_tune
from symphony.music.fourpart import harmonize_melody
from symphony.music.score import Part, Score
from symphony.music.theory import parse_key, parse_meter

KEYS = ("G major", "F major", "D minor", "E minor", "C major", "A minor")


def _tune(key, meter="4/4", bars=16, pickup=0.0, seed=0):
    k, m = parse_key(key), parse_meter(meter)
    notes = compose_tune(k, m, bars, pickup, seed)
    return Score([Part(notes, "Soprano")], k, m, 72, bars)


@pytest.mark.parametrize("pickup", [0.0, 1.0])
def test_a_composed_tune_reads_as_a_chorale_tune(pickup):
    """Over six keys: phrases of about eight notes ending in fermatas, mostly steps, an octave or
    so of range, no three-note cell coming back within a phrase, closes on varied degrees, the
    final tonic held two beats or more on a strong beat after a step; diatonic but for the
    minor's raised sixth and seventh rising to the tonic."""
    tot = {}
    for i, key in enumerate(KEYS):
        s = _tune(key, pickup=pickup, seed=i)
        sop = s.parts[0].notes
        ferm = [(n.onset, n.end) for n in sop if n.fermata]
        r = soprano_shape(s, ferm)
        for k, v in r.items():
            tot[k] = tot.get(k, 0) + v
        assert 8 <= r["range"] <= 16, (key, r)
        assert r["fermata_degrees"] >= 2, (key, r)
        final, before = sop[-1], sop[-2]
        assert final.fermata and final.pitch % 12 == s.key.tonic_pc and final.duration >= 2.0
        assert final.onset % 4.0 in (0.0, 2.0) and final.end == pytest.approx(16 * 4.0 - pickup)
        assert 1 <= abs(final.pitch - before.pitch) <= 2
        t = s.key.tonic_pc
        allowed = {(t + d) % 12 for d in s.key.degree_semitones()} | ({(t + 9) % 12, (t + 11) % 12}
                                                                        if s.key.is_minor_like else set())
        assert all(n.pitch % 12 in allowed for n in sop)
        for a, b in itertools.pairwise(sop):
            assert abs(b.pitch - a.pitch) not in (6, 10, 11) and abs(b.pitch - a.pitch) <= 12
            assert a.end == pytest.approx(b.onset)  # no rests: phrases breathe in their fermatas
            if a.pitch % 12 == (t + 11) % 12 and s.key.is_minor_like:
                assert b.pitch % 12 == t  # a raised seventh goes to the tonic
    assert tot["repeated_cells"] / tot["cells"] <= 0.03  # Bach 1.5% (benchmarks/fourpart.md)
    assert tot["sop_steps"] / tot["sop_moves"] >= 0.75  # Bach 84%
    assert 7 <= (tot["cells"] + 2 * tot["phrases"]) / tot["phrases"] <= 10


def test_the_bar_form_sings_its_first_two_phrases_twice_and_varies_their_harmony():
    forms = []
    for seed in range(8):  # every other tune or so is in bar form
        sop = _tune("G major", seed=seed).parts[0].notes
        forms.append([(n.pitch, n.duration) for n in sop if n.onset < 16] ==
                     [(n.pitch, n.duration) for n in sop if 16 <= n.onset < 32])
    assert 2 <= sum(forms) <= 6, forms
    s = _tune("G major", seed=3)
    sop = s.parts[0].notes
    assert forms[3] and len([n for n in sop if n.fermata]) == 8
    fp = harmonize_melody(sop, s.key, s.meter)
    full = Score([Part(sop, "S"), Part(fp.alto, "A"), Part(fp.tenor, "T"), Part(fp.bass, "B")], s.key, s.meter, 72, 16)
    r = repeats(full)
    assert r["repeat_beats"] >= 16
    assert r["repeat_same_lower"] / r["repeat_beats"] <= 0.6  # Bach 45% of such beats, 66% before (fourpart.md)


def test_no_voice_is_tied_over_a_fermata():
    """Every voice ends its note at the end of a fermata note and starts the next phrase afresh."""
    for i, key in enumerate(KEYS):
        s = _tune(key, pickup=float(i % 2), seed=10 + i)
        sop = s.parts[0].notes
        fp = harmonize_melody(sop, s.key, s.meter)
        for f in (n for n in sop[:-1] if n.fermata):
            for line in (fp.alto, fp.tenor, fp.bass):
                assert not any(n.onset < f.end - 1e-6 < n.end - 1e-6 for n in line), (key, f)


def test_meters_it_does_not_shape_fall_back():
    assert compose_tune(parse_key("G major"), parse_meter("6/8"), 16) is None
    assert compose_tune(parse_key("G major"), parse_meter("4/4"), 1) is None


def test_the_blind_panel_engraves_both_pieces_of_a_pair_in_the_same_clefs():
    from benchmarks.blind_panel import _neutral
    from symphony.formats.musicxml import to_music21
    from music21 import clef
    low_tenor = _tune("G major")
    parts = [Part(list(low_tenor.parts[0].notes), name) for name in ("Soprano", "Alto", "Tenor", "Bass")]
    for p, shift in zip(parts, (0, -5, -17, -24)):
        p.notes = [n.__class__(n.pitch + shift, n.onset, n.duration) for n in p.notes]
    unnamed = [Part(list(p.notes), "") for p in parts]  # a corpus piece: no voice names
    seen = []
    for score in (Score(parts, low_tenor.key, low_tenor.meter, 72, 16), Score(unnamed, low_tenor.key, low_tenor.meter, 72, 16)):
        m = to_music21(_neutral(score))
        seen.append([type(p.recurse().getElementsByClass(clef.Clef).first()).__name__ for p in m.parts])
    assert seen[0] == seen[1] == ["TrebleClef", "TrebleClef", "Treble8vbClef", "BassClef"]


@pytest.mark.parametrize("meter,pickup", [("2/4", 1.0), ("3/4", 2.0), ("4/4", 3.0)])
def test_a_last_bar_shortened_by_a_long_pickup_still_ends_the_tune(meter, pickup):
    """The control benchmark asked for chorales in 2/4 (19 and 32 bars) and compose_tune raised
    on the last phrase: after an upbeat the last bar had no strong beat left with two beats
    after it. The final now takes the last bar's downbeat and what remains of the bar."""
    m = parse_meter(meter)
    tune = compose_tune(parse_key("F major"), m, 19, pickup)
    assert tune is not None
    end = 19 * float(m.bar_quarters) - pickup
    assert abs(tune[-1].end - end) < 1e-6 and tune[-1].fermata
    assert abs(tune[-1].onset - 18 * float(m.bar_quarters)) < 1e-6  # on the last bar's downbeat
