"""Evaluation: features on hand-built and real scores, overlapping areas, classifiers on real
sample tunes, and `symphony eval` end to end with a tiny model (no full corpus)."""
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from symphony.cli import app
from symphony.evaluation.classify import StyleClassifier, confusion, discriminate, hit_rates, make_classifier
from symphony.evaluation.controls import CONTROLS, check_controls
from symphony.music.analysis import DURATION_BINS, INTERVAL_CLIP, VECTOR_NAMES, feature_matrix, feature_vector, piece_features
from symphony.evaluation.metrics import distribution, overlap, overlaps
from symphony.tasks.requests import Request
from symphony.music.score import Note, Part, Score
from symphony.formats.midi import read_midi, write_midi
from symphony.music.theory import parse_key, parse_meter

from .conftest import DATA

C_MAJOR = [60, 62, 64, 65, 67, 69, 71, 72]


def make_score(pitches, key="C major", meter="4/4", dur=1.0, bars=None, parts=None):
    notes = [Note(p, i * dur, dur) for i, p in enumerate(pitches)]
    m = parse_meter(meter)
    bars = bars or int(np.ceil(len(pitches) * dur / float(m.bar_quarters)))
    return Score(parts or [Part(notes)], parse_key(key), m, 100.0, bars)


def test_c_major_scale_features():
    f = piece_features(make_score(C_MAJOR))
    assert f.pitch_classes.tolist() == [2, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1]
    expected = np.zeros(2 * INTERVAL_CLIP + 1, dtype=int)
    expected[INTERVAL_CLIP + 2] = 5
    expected[INTERVAL_CLIP + 1] = 2
    assert f.intervals.tolist() == expected.tolist()
    assert f.durations.tolist() == [8 if v == 1.0 else 0 for v in DURATION_BINS]
    assert (f.notes_per_beat, f.range, f.ends_on_tonic, f.bar_repetition) == (1.0, 12, 1, 0.0)
    # relative to the tonic: the same scale in D major has the same histogram; in 6/8 the beat is
    # a dotted quarter: 8 notes in 3 bars of 2 beats
    d = piece_features(make_score([p + 2 for p in C_MAJOR], key="D major"))
    assert d.pitch_classes.tolist() == f.pitch_classes.tolist() and d.ends_on_tonic == 1
    assert piece_features(make_score(C_MAJOR, key="G major")).ends_on_tonic == 0
    six8 = piece_features(make_score(C_MAJOR, meter="6/8", bars=3))
    assert six8.notes_per_beat == pytest.approx(8 / 6)
    v = feature_vector(f)
    assert v.shape == (len(VECTOR_NAMES),) and np.isfinite(v).all()
    assert v[:12].sum() == pytest.approx(1.0)


def test_melody_is_top_voice_and_bar_repetition_is_exact():
    # chords in the top part: the highest note is the melody
    notes = [Note(60, 0, 1), Note(67, 0, 1), Note(62, 1, 1), Note(65, 1, 1)]
    f = piece_features(Score([Part(notes), Part([Note(40, 0, 2)])], parse_key("C major"),
                             parse_meter("2/4"), 90, 1))
    assert f.n_notes == 2 and f.intervals[INTERVAL_CLIP - 2] == 1 and f.range == 2
    # bars: A B A A' (A' transposed): two of four bars repeat an earlier one
    a, b = [60, 62, 64, 65], [67, 65, 64, 62]
    s = piece_features(make_score(a + b + a + [p + 2 for p in a]))
    assert s.bar_repetition == pytest.approx(1 / 4)
    s = piece_features(make_score(a + b + a + a))
    assert s.bar_repetition == pytest.approx(2 / 4)


def test_overlap_identical_and_disjoint(sample_scores):
    feats = [piece_features(s) for s in sample_scores]
    same = overlaps(feats, feats)
    assert all(v == pytest.approx(1.0) for v in same.values())
    assert overlap([1, 2, 0, 0], [0, 0, 3, 1]) == 0.0
    assert overlap([1, 1, 0], [0, 1, 1]) == pytest.approx(0.5)
    assert overlap([0, 0], [1, 1]) is None
    # whole notes on C versus eighth notes on F#: pitch classes, durations, density all disjoint
    low = [piece_features(make_score([60] * 4, dur=4.0))]
    high = [piece_features(make_score([66, 66] * 8, dur=0.5))]
    o = overlaps(low, high)
    assert o["pitch_classes"] == 0 and o["durations"] == 0 and o["notes_per_beat"] == 0
    assert o["intervals"] == pytest.approx(1.0)  # both only repeat their note
    assert distribution(low, "range").sum() == 1


def test_features_of_real_samples(sample_records, sample_scores):
    feats = [piece_features(s) for s in sample_scores]
    X = feature_matrix(feats)
    assert X.shape == (len(sample_scores), len(VECTOR_NAMES)) and np.isfinite(X).all()
    assert all(0 <= f.bar_repetition <= 1 and f.n_notes > 5 for f in feats)
    # real folk tunes mostly end on the tonic music21 found, and the tonic is their commonest note
    assert np.mean([f.ends_on_tonic for f in feats]) > 0.6
    pcs = np.sum([f.pitch_classes for f in feats], axis=0)
    assert pcs.argmax() in (0, 7)  # tonic or fifth


def test_style_classifier_separates_chinese_from_celtic(sample_records):
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    recs = [r for r in sample_records if r["style"] in ("chinese", "celtic")]
    X = feature_matrix([piece_features(Score.from_dict(r["score"])) for r in recs])
    y = np.array([r["style"] for r in recs])
    assert min((y == "chinese").sum(), (y == "celtic").sum()) >= 10
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    acc = cross_val_score(make_classifier("logreg"), X, y, cv=cv).mean()
    assert acc > 0.75, acc
    clf = StyleClassifier("auto").fit(X, list(y))
    assert clf.kind == "rf" and clf.classes == ["celtic", "chinese"]
    proba = clf.predict_proba(X)
    assert proba.shape == (len(y), 2) and np.allclose(proba.sum(axis=1), 1)
    # the real-versus-other discriminator tells two different styles apart (balanced classes)
    d = discriminate(X[y == "chinese"], X[y == "celtic"], seed=0)
    assert d["accuracy"] > 0.75 and d["folds"] == 5 and d["per_class"] == (y == "chinese").sum()
    assert discriminate(X[:1], X[1:])["accuracy"] is None


def test_hit_rate_and_confusion():
    req = ["a", "a", "b", "b", "b"]
    pred = ["a", "b", "b", "b", "a"]
    assert hit_rates(req, pred) == {"a": 0.5, "b": pytest.approx(2 / 3)}
    assert confusion(req, pred, ["a", "b"]) == [[1, 1], [1, 2]]


def test_controls_read_from_the_file(tmp_path):
    s = make_score(C_MAJOR + [67, 64, 60, 60, 72, 67, 64, 60], bars=4)
    s.bpm = 88.0
    write_midi(s, tmp_path / "x.mid")
    back = read_midi(tmp_path / "x.mid")
    good = Request("german", "C major", "4/4", 88.0, 4, 0, 1)
    assert check_controls(good, back, {}) == {"key": True, "meter": True, "bars": True, "tempo": True}
    bad = Request("german", "A minor", "3/4", 90.0, 5, 0, 1)
    assert check_controls(bad, back, {}) == {"key": False, "meter": False, "bars": False, "tempo": False}
    extra = {**CONTROLS, "chords": lambda req, back, meta: None}
    assert check_controls(good, back, {}, extra)["chords"] is None


def _eval_args(out, checkpoint, *more):
    return ["eval", "-n", "3", "--styles", "chinese,celtic", "--checkpoint", str(checkpoint),
            "--max-real", "20", "--seed", "1",
            "--source", f"chinese={DATA / 'han_sample.abc'}",
            "--source", f"celtic={DATA / 'oneills_sample.abc'}", *more, "-o", str(out)]


def test_cli_eval_writes_report(tmp_path, tiny_checkpoint, sample_records):
    ckpt, _ = tiny_checkpoint
    out = tmp_path / "report"
    # the samples' test split is almost empty: compare with their train split here
    r = CliRunner().invoke(app, _eval_args(out, ckpt, "--real-split", "train"))
    assert r.exit_code == 0, r.output
    names = {p.name for p in out.iterdir()}
    assert {"report.md", "report.json", "hist-chinese.png", "hist-celtic.png", "confusion.png",
            "overlap.png"} <= names
    assert len(list((out / "pieces").glob("*.mid"))) == 6
    assert not [n for n in names if n.startswith(".")]  # no temporary leftovers
    res = json.loads((out / "report.json").read_text())
    assert res["meta"]["styles"] == ["chinese", "celtic"]
    for style in ("chinese", "celtic"):
        assert res["realism"][style]["generated_pieces"] == 3
        assert res["realism"][style]["real_pieces"] >= 10
        o = res["realism"][style]["overlap"]
        assert all(0 <= o[k] <= 1 for k in ("pitch_classes", "intervals", "durations", "mean"))
        # meter, tempo and length are guaranteed by the sampler and read back from the file
        for c in ("meter", "bars", "tempo"):
            assert res["control"][style][c] == {"accuracy": 1.0, "n": 3}
        assert 0 <= res["control"][style]["key"]["accuracy"] <= 1
        assert res["discriminator"][style]["per_class"] == 3
    sc = res["style_classifier"]
    assert sc["styles"] == ["celtic", "chinese"] and sc["real_test_accuracy"] > 0.75
    assert sum(map(sum, sc["generated_confusion"])) == 6
    piece = res["pieces"][0]
    assert piece["file"].startswith("pieces/") and piece["read_back"]["bars"] == piece["request"]["bars"]
    assert res["speed"]["all"]["pieces"] == 6 and res["speed"]["all"]["median_seconds_per_piece"] > 0
    md = (out / "report.md").read_text()
    assert "style hit rate" in md.lower() and "![chinese histograms](hist-chinese.png)" in md
    assert (out / "hist-chinese.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("change, message", [
    (["--styles", "klingon"], "unknown style"),
    (["-n", "0"], "-n must be at least 1"),
    (["--max-real", "0"], "--max-real"),
    (["--requests", "random"], "request mode"),
])
def test_cli_eval_bad_input(tmp_path, change, message):
    out = tmp_path / "never"
    r = CliRunner().invoke(app, ["eval", "--styles", "celtic", *change, "-o", str(out)])
    assert r.exit_code == 2, r.output
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_cli_eval_unwritable_folder(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    r = CliRunner().invoke(app, ["eval", "--styles", "celtic", "-o", str(blocker / "out")])
    assert r.exit_code == 2 and "cannot write the output folder" in r.stderr
