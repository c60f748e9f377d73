"""Emotion control: lexicon, mapping to music, and the estimator that reads it back from a
written MIDI file."""
import doctest
import re
from pathlib import Path

import pytest

import symphony.understanding.emotion as emo
from symphony.understanding.emotion import EmotionError, LEXICON, LEXICON_EN, LEXICON_ZH, emotion_cues, emotional_key, estimate_emotion, musical_mapping, parse_emotion, quadrant, resolve_emotion
from symphony.errors import RequestError, SymphonyError
from symphony.music.score import Note, Part, Score
from symphony.formats.midi import read_midi, write_midi
from symphony.music.theory import Key, parse_key, parse_meter

DOC = Path(__file__).resolve().parents[1] / "docs" / "emotion.md"


def test_module_doctests():
    assert doctest.testmod(emo).failed == 0


# ----------------------------------------------------------------------------- lexicon

@pytest.mark.parametrize("word, expected", [
    ("happy", "happy/excited"), ("Joyful", "happy/excited"), ("  EXCITED ", "happy/excited"),
    ("triumphant", "happy/excited"), ("playful", "happy/excited"),
    ("快乐", "happy/excited"), ("欢快", "happy/excited"), ("喜庆", "happy/excited"),
    ("热烈", "happy/excited"),
    ("angry", "angry/tense"), ("tense", "angry/tense"), ("anxious", "angry/tense"),
    ("fierce", "angry/tense"), ("紧张", "angry/tense"), ("愤怒", "angry/tense"),
    ("sad", "sad/depressed"), ("melancholy", "sad/depressed"), ("gloomy", "sad/depressed"),
    ("lonely", "sad/depressed"), ("悲伤", "sad/depressed"), ("忧伤", "sad/depressed"),
    ("思乡", "sad/depressed"), ("庄严", "sad/depressed"),
    ("calm", "calm/content"), ("peaceful", "calm/content"), ("serene", "calm/content"),
    ("tender", "calm/content"), ("平静", "calm/content"), ("安详", "calm/content"),
    ("温柔", "calm/content"),
])
def test_words_land_in_their_quadrant(word, expected):
    e = parse_emotion(word)
    assert quadrant(e.valence, e.arousal) == expected
    assert e.quadrant == expected
    assert e.word == word.strip().lower()


def test_lexicon_is_bilingual_and_in_range():
    assert len(LEXICON_EN) >= 40 and len(LEXICON_ZH) >= 40
    for word, (v, a) in LEXICON.items():
        assert -1 <= v <= 1 and -1 <= a <= 1, word
    for zh, en in LEXICON_ZH.items():
        assert not zh.isascii() and en in LEXICON_EN
        assert parse_emotion(zh).point == parse_emotion(en).point
        assert parse_emotion(zh).gloss == en


def test_chinese_adjective_suffix_and_fullwidth_numbers():
    assert parse_emotion("悲伤的").word == "悲伤"
    assert parse_emotion("０.５，－０.２").point == (0.5, -0.2)


@pytest.mark.parametrize("typo, suggestion", [("hapy", "happy"), ("melancoly", "melancholy"),
                                              ("trimphant", "triumphant"), ("悲伤伤", "悲伤")])
def test_unknown_word_suggests(typo, suggestion):
    with pytest.raises(EmotionError) as e:
        parse_emotion(typo)
    msg = str(e.value)
    assert f"did you mean '{suggestion}'" in msg
    assert "\n" not in msg
    assert isinstance(e.value, RequestError) and isinstance(e.value, SymphonyError)


def test_unknown_word_without_a_close_match():
    with pytest.raises(EmotionError) as e:
        parse_emotion("zxqvw")
    assert "did you mean" not in str(e.value) and "valence,arousal" in str(e.value)


@pytest.mark.parametrize("text, point", [("0.5,-0.3", (0.5, -0.3)), (" -1 , 1 ", (-1.0, 1.0)),
                                         ("(0.25 0.75)", (0.25, 0.75)), ("0,0", (0.0, 0.0)),
                                         (".5;-.5", (0.5, -0.5))])
def test_numbers_parse(text, point):
    e = parse_emotion(text)
    assert e.point == point and e.word is None


@pytest.mark.parametrize("text", ["1.5,0", "0,-1.01", "-2,-2", "nan,0", "", "   "])
def test_out_of_range_or_empty_rejected(text):
    with pytest.raises(EmotionError):
        parse_emotion(text)


def test_resolve_emotion_flags():
    assert resolve_emotion() is None
    assert resolve_emotion("sad").word == "sad"
    assert resolve_emotion(valence=0.3, arousal=-0.2).point == (0.3, -0.2)
    with pytest.raises(EmotionError, match="not both"):
        resolve_emotion("sad", valence=0.1, arousal=0.1)
    with pytest.raises(EmotionError, match="together"):
        resolve_emotion(valence=0.1)
    with pytest.raises(EmotionError, match="outside"):
        resolve_emotion(valence=0.1, arousal=3)


# ----------------------------------------------------------------------------- mapping

GRID = [x / 4 for x in range(-4, 5)]


def test_tempo_rises_with_arousal_and_ignores_valence():
    for v in GRID:
        bpms = [musical_mapping(v, a, 96)["bpm"] for a in GRID]
        assert bpms == sorted(bpms) and bpms[0] < bpms[-1]
    assert musical_mapping(0, 0, 96)["bpm"] == 96
    assert musical_mapping(0, 1, 96)["bpm"] == round(96 * 2 ** 0.5)
    assert musical_mapping(0, -1, 30)["bpm"] == 40 and musical_mapping(0, 1, 200)["bpm"] == 220


def test_register_rises_with_valence_and_arousal():
    for a in GRID:
        shifts = [musical_mapping(v, a, 96)["register_shift"] for v in GRID]
        assert shifts == sorted(shifts) and shifts[0] < shifts[-1]
    for v in GRID:
        shifts = [musical_mapping(v, a, 96)["register_shift"] for a in GRID]
        assert shifts == sorted(shifts)
    assert all(abs(musical_mapping(v, a, 96)["register_shift"]) <= 7 for v in GRID for a in GRID)
    assert musical_mapping(1, 1, 96)["register_shift"] == 7
    assert musical_mapping(-1, -1, 96)["register_shift"] == -7


def test_density_and_velocity_rise_with_arousal():
    rows = [musical_mapping(0.2, a, 96) for a in GRID]
    assert [r["density"] for r in rows] == GRID
    for key in ("notes_per_beat_factor", "velocity"):
        vals = [r[key] for r in rows]
        assert vals == sorted(vals) and vals[0] < vals[-1]
    assert rows[0]["velocity"] == 60 and rows[-1]["velocity"] == 110
    assert musical_mapping(0, 0, 96)["velocity"] == 80
    assert [r["articulation"] for r in (rows[0], rows[4], rows[-1])] == ["legato", "normal", "detached"]


def test_mode_follows_valence_sign():
    assert all(musical_mapping(v, a, 96)["mode"] == ("minor" if v < 0 else "major")
               for v in GRID for a in GRID)


def test_explanation_says_what_was_understood():
    m = musical_mapping(*parse_emotion("悲伤").point, 72, word="悲伤")
    first = m["explanation"][0]
    assert first.startswith("'悲伤' (sad)") and "minor mode" in first
    assert f"{m['bpm']:g} bpm" in first and "lower register" in first and "sparser" in first
    assert all(isinstance(x, str) and "\n" not in x for x in m["explanation"])
    with pytest.raises(EmotionError):
        musical_mapping(1.2, 0, 96)


@pytest.mark.parametrize("key, valence, expected", [
    ("D major", -0.5, "D minor"), ("D major", 0.5, "D major"), ("A minor", 0.1, "A major"),
    ("A minor", -0.1, "A minor"), ("G gong", -0.3, "G yu"), ("G zhi", -0.3, "G yu"),
    ("E yu", 0.3, "E gong"), ("F# dorian", 0.0, "F# major"), ("Bb mixolydian", -1, "Bb minor"),
])
def test_emotional_key_keeps_tonic(key, valence, expected):
    out = emotional_key(parse_key(key), valence)
    assert str(out) == expected
    assert out.is_minor_like == (valence < 0)


# ----------------------------------------------------------------------------- estimator

def _score(pitches, duration, bpm, velocity, meter="4/4"):
    notes, t = [], 0.0
    for p in pitches:
        notes.append(Note(p, t, duration, velocity))
        t += duration
    m = parse_meter(meter)
    bars = max(1, -(-int(t * 1000) // int(float(m.bar_quarters) * 1000)))
    # score.key deliberately wrong and meta deliberately misleading: the estimator must not read them
    return Score([Part(notes, "Melody")], Key("F#", "major"), m, bpm, bars,
                 meta={"request": {"emotion": "happy", "valence": 1, "arousal": 1}})


def _round_trip(score, tmp_path, name="x.mid"):
    path = tmp_path / name
    write_midi(score, path)
    return read_midi(path)


C_MAJOR_HIGH = [84, 88, 91, 88, 86, 89, 88, 84, 83, 86, 84, 79, 81, 83, 84, 88,
                91, 89, 88, 86, 84, 86, 83, 84] * 2
A_MINOR_LOW = [57, 60, 64, 60, 59, 62, 60, 57, 56, 59, 57, 52, 53, 55, 57, 60,
               64, 62, 60, 59, 57, 59, 56, 57]


def test_fast_high_major_melody_is_happy_excited(tmp_path):
    back = _round_trip(_score(C_MAJOR_HIGH, 0.5, 144, 105), tmp_path)
    v, a = estimate_emotion(back)
    assert quadrant(v, a) == "happy/excited"
    assert v > 0.4 and a > 0.5


def test_slow_low_minor_melody_is_sad_depressed(tmp_path):
    back = _round_trip(_score(A_MINOR_LOW, 2.0, 56, 62), tmp_path)
    c = emotion_cues(back)
    assert c["key"] == "A minor"
    assert quadrant(c["valence"], c["arousal"]) == "sad/depressed"
    assert c["valence"] < -0.4 and c["arousal"] < -0.5


def test_estimator_reads_notes_not_the_request():
    sad = _score(A_MINOR_LOW, 2.0, 56, 62)
    v, a = estimate_emotion(sad)
    assert v < 0 and a < 0  # despite score.key = F# major and meta asking for happy
    sad.meta = {}
    assert estimate_emotion(sad) == (v, a)


def test_arousal_follows_tempo_and_velocity_alone(tmp_path):
    slow = estimate_emotion(_round_trip(_score(C_MAJOR_HIGH, 1.0, 60, 80), tmp_path, "a.mid"))
    fast = estimate_emotion(_round_trip(_score(C_MAJOR_HIGH, 1.0, 150, 80), tmp_path, "b.mid"))
    loud = estimate_emotion(_round_trip(_score(C_MAJOR_HIGH, 1.0, 60, 110), tmp_path, "c.mid"))
    assert fast[1] > slow[1] and loud[1] > slow[1]


def test_tempo_counts_meter_beats(tmp_path):
    """6/8 at 80 dotted-quarter beats is 120 quarters per minute: faster than 4/4 at 80."""
    four = estimate_emotion(_round_trip(_score(C_MAJOR_HIGH, 0.5, 80, 80, "4/4"), tmp_path, "a.mid"))
    six = estimate_emotion(_round_trip(_score(C_MAJOR_HIGH, 0.5, 80, 80, "6/8"), tmp_path, "b.mid"))
    assert six[1] > four[1]


SCALE = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 11)}  # minor: raised 7th
DEGREES = [0, 2, 4, 2, 1, 3, 2, 0, -1, 1, 0, -3, -2, -1, 0, 2, 4, 3, 2, 1, 0, 1, -1, 0] * 2


def _realise_point(v, a, default_bpm=120, word=None):
    """A fixed C-tonic melody played the way the mapping says (what generation should produce):
    mode from valence; tempo; every note folded by octaves into a 12-semitone range moved by the
    register shift (as a shifted range constraint would do; the pitch classes, hence the key,
    stay); durations scaled by the density factor; velocity. At 120 bpm in quarter notes the
    neutral melody plays 2 notes a second, the estimator's reference."""
    m = musical_mapping(v, a, default_bpm, word=word)
    scale = SCALE[m["mode"]]
    lo = 66 + m["register_shift"]
    pitches = [lo + (scale[d % 7] - lo) % 12 for d in DEGREES]
    duration = round(48 / m["notes_per_beat_factor"]) / 48
    return _score(pitches, duration, m["bpm"], m["velocity"])


def _realise(word):
    e = parse_emotion(word)
    return _realise_point(e.valence, e.arousal, word=word), e


@pytest.mark.parametrize("word", ["excited", "joyful", "angry", "anxious", "sad", "gloomy",
                                  "calm", "serene", "快乐", "紧张", "悲伤", "安详"])
def test_mapping_then_estimate_returns_the_quadrant(word, tmp_path):
    score, e = _realise(word)
    v, a = estimate_emotion(_round_trip(score, tmp_path))
    assert quadrant(v, a) == e.quadrant


def test_estimate_inverts_the_mapping_monotonically(tmp_path):
    """Realised at each grid point, arousal comes back within 0.05 and in order; valence comes
    back in order with its sign from the mode (magnitude compressed: the mode cue dominates)."""
    arousal = [estimate_emotion(_round_trip(_realise_point(0.5, a), tmp_path))[1] for a in GRID]
    assert arousal == sorted(arousal)
    assert all(abs(x - a) <= 0.05 for x, a in zip(arousal, GRID))
    valence = [estimate_emotion(_round_trip(_realise_point(v, 0.3), tmp_path))[0] for v in GRID]
    assert valence == sorted(valence)
    assert all((x >= 0) == (v >= 0) for x, v in zip(valence, GRID))


def test_empty_score_raises_clear_error():
    empty = Score([Part([])], Key("C", "major"), parse_meter("4/4"), 96, 1)
    with pytest.raises(EmotionError):
        estimate_emotion(empty)


# ----------------------------------------------------------------------------- docs

def test_doc_lists_the_whole_lexicon_and_the_cli_line():
    text = DOC.read_text(encoding="utf-8")
    assert "symphony generate --style chinese --emotion 悲伤 -o out/" in text
    for word in LEXICON:
        assert re.search(rf"(?<![\w]){re.escape(word)}(?![\w])", text), word
