"""Four-part harmony (issue 18) on real chorale melodies from tests/data: the soprano kept
exactly, complete chords on the beats, cadences at the fermatas, no parallel fifths or octaves,
voices in their ranges, a final root-position tonic, and fast. Measured with the benchmark's own
definitions (benchmarks.fourpart) and symphony.evaluation.voiceleading."""
import itertools
import time

import pytest

from benchmarks.fourpart import chord_name, measure, sounding
from symphony.tasks.edit import bar_layout, harmonize
from symphony.tasks.common import load_input
from symphony.evaluation.voiceleading import analyze
from symphony.music.fourpart import RANGES, harmonize_melody, phrase_ends
from symphony.music.score import Note, Part, Score
from symphony.formats.files import read_score
from symphony.music.theory import parse_key, parse_meter

from .conftest import DATA

CHORALES = ["bwv66.6.mxl", "bwv10.7.mxl", "bwv101.7.mxl"]


def fermatas(path):
    """(onset, end) of the soprano's fermata notes, read with music21 (onsets as read_score's)."""
    from music21 import converter, expressions
    m = converter.parse(str(path))
    sop = [el for el in m.parts[0].stripTies().flatten().notes if el.quarterLength > 0]
    first = min(n.onset for n in read_score(path).parts[0].notes)
    shift = first - float(sop[0].offset)
    return [(float(el.offset) + shift, float(el.offset) + shift + float(el.quarterLength)) for el in sop
            if any(isinstance(e, expressions.Fermata) for e in el.expressions)]


def melody_with_fermatas(path):
    s = load_input(path)
    ferm = fermatas(path)
    starts = {round(a, 4) for a, _ in ferm}
    sop = Score([Part([Note(n.pitch, n.onset, n.duration) for n in s.parts[0].notes], "Soprano")],
                s.key, s.meter, s.bpm, s.bars, meta=dict(s.meta))
    for n in sop.parts[0].notes:
        if round(n.onset, 4) in starts:
            n.fermata = True  # as score.Note carries it once fermatas are read
    return s, sop, ferm


def grid(notes):
    return [(round(n.onset, 6), n.pitch, round(n.duration, 6)) for n in sorted(notes, key=lambda n: n.onset)]


@pytest.mark.parametrize("name", CHORALES)
def test_bach_melody_harmonized_like_a_theory_class(name):
    src, sop, ferm = melody_with_fermatas(DATA / name)
    t0 = time.perf_counter()
    out = harmonize(sop, "satb")
    secs = time.perf_counter() - t0
    assert grid(out.parts[0].notes) == grid(src.parts[0].notes)  # the soprano, exactly
    assert secs < 3.0 * max(1.0, out.bars / 16)  # 16 bars well under 3 s
    r = measure(out, ferm)
    assert r["complete_beats"] / r["beats"] >= 0.85, r
    assert r["mid_phrase_rests"] == 0
    assert r["final_ok"]
    assert r["cadences"] >= r["fermatas"] - 1, r  # a cadence at (nearly) every fermata
    vl = analyze(out, keep_events=True)
    assert vl["parallels"] == 0, vl["events"]
    assert vl["crossings"] == 0
    for v, name_ in ((1, "alto"), (2, "tenor"), (3, "bass")):
        lo, hi = RANGES[name_]
        assert all(lo <= n.pitch <= hi for n in out.parts[v].notes), name_
    # the final chord: the tonic (or its Picardy major) with its root in the bass, all voices there
    last = max(n.onset for n in out.parts[0].notes)
    fin = sounding(out, last)
    assert len(fin) == 4 and min(fin) % 12 == src.key.tonic_pc
    assert chord_name({p % 12 for p in fin})[1] in ("maj", "min")
    assert out.meta["harmony"]["roman_numerals"] and out.provenance["parameters"]["method"] == "fourpart"


@pytest.mark.parametrize("name", CHORALES)
def test_without_fermatas_the_phrases_are_guessed(name):
    """A melody read without fermatas (read_score today): still complete chords, no parallels,
    a closing cadence; phrase ends come from the heuristic."""
    src = load_input(DATA / name)
    out = harmonize(src, "satb")
    assert grid(out.parts[0].notes) == grid(src.parts[0].notes)
    r = measure(out, [])
    assert r["complete_beats"] / r["beats"] >= 0.85 and r["final_ok"] and r["mid_phrase_rests"] == 0
    assert analyze(out)["parallels"] == 0
    assert out.meta["harmony"]["phrase_ends"][-1] == max(n.onset for n in src.parts[0].notes)


def test_leading_tones_rise_and_sevenths_fall():
    src, sop, _ = melody_with_fermatas(DATA / "bwv66.6.mxl")
    fp = harmonize_melody(sop.parts[0].notes, src.key, src.meter, bar_layout(src),
                          [a for a, _ in fermatas(DATA / "bwv66.6.mxl")], passing=False)
    romans = dict(fp.chords)
    lt = (src.key.tonic_pc + 11) % 12
    checked = 0
    for line in (fp.alto, fp.tenor, fp.bass):
        for a, b in itertools.pairwise(line):
            fig = max(((o, f) for o, f in fp.chords if o <= a.onset + 1e-6), default=(0, ""))[1]
            nxt = max(((o, f) for o, f in fp.chords if o <= b.onset + 1e-6), default=(0, ""))[1]
            if fig in ("V", "V7", "vii°", "vii°7") and nxt in ("i", "I", "VI") and a.pitch % 12 == lt \
                    and abs(a.end - b.onset) < 1e-6:
                assert b.pitch == a.pitch + 1, (a, b, fig, nxt)
                checked += 1
    assert checked >= 3 and romans


def test_pickup_long_notes_and_a_minor_mode():
    """A melody with an eighth-note pickup, half and whole notes, in D dorian (minor by its
    third), in 3/4: every beat after the pickup is harmonized, the melody kept, no parallels."""
    key, meter = parse_key("D dorian"), parse_meter("3/4")
    pitches = [(69, 2.5, 0.5), (74, 3, 1), (72, 4, 1), (71, 5, 1), (69, 6, 2), (67, 8, 1), (65, 9, 1),
               (67, 10, 0.5), (69, 10.5, 0.5), (70, 11, 1), (69, 12, 3), (72, 15, 1), (71, 16, 1), (69, 17, 1),
               (67, 18, 2), (65, 20, 1), (64, 21, 1), (62, 22, 1), (61, 23, 1), (62, 24, 3)]
    mel = [Note(p, o, d) for p, o, d in pitches]
    s = Score([Part(mel, "Melody")], key, meter, 80, 9)
    out = harmonize(s, "satb")
    assert grid(out.parts[0].notes) == grid(mel)
    for v in (1, 2, 3):
        assert min(n.onset for n in out.parts[v].notes) == pytest.approx(2.5)  # enter with the pickup
        assert max(n.end for n in out.parts[v].notes) == pytest.approx(27.0)
    r = measure(out, [])
    assert r["complete_beats"] / r["beats"] >= 0.85 and r["final_ok"], r
    assert analyze(out)["parallels"] == 0
    last = sounding(out, 24.0)
    assert min(last) % 12 == 2 and {p % 12 for p in last} in ({2, 5, 9}, {2, 6, 9})  # D minor or Picardy


def test_phrase_heuristic_without_fermatas():
    """Four two-bar phrases of six quarter notes closing on a half note on beat 3: the guess finds
    exactly those closes (with or without the key)."""
    meter, key = parse_meter("4/4"), parse_key("G major")
    phrases = [[67, 69, 71, 72, 74, 72, 71], [74, 72, 71, 69, 71, 72, 74], [79, 78, 76, 74, 72, 71, 69],
               [71, 72, 74, 72, 71, 69, 67]]
    mel, closes = [], []
    for k, ph in enumerate(phrases):
        for j, p in enumerate(ph):
            mel.append(Note(p, 8.0 * k + j, 1.0 if j < 6 else 2.0))
        closes.append(mel[-1].onset)
    layout = [(i * 4.0, 4.0, 1.0) for i in range(8)]
    assert phrase_ends(mel, meter, layout, key) == closes
    assert phrase_ends(mel, meter, layout) == closes
    mel[13].fermata = True  # a fermata, where there is one, wins
    assert phrase_ends(mel, meter, layout, key) == [mel[13].onset, closes[-1]]
