"""The piece as a pycrdt Doc: Score -> Doc -> Score round trips, stable note ids, task results
applied as one transaction of changes that keeps what others changed meanwhile."""
from __future__ import annotations

import dataclasses

from symphony.formats.files import read_score
from symphony.music.score import Note
from symphony.server import document

from .conftest import DATA


def notes(score) -> list:
    return [[(n.pitch, n.onset, n.duration, n.velocity) for n in p.notes] for p in score.parts]


def chorale():
    return read_score(DATA / "bwv66.6.mxl")


def test_score_to_doc_and_back():
    score = chorale()
    content = document.content_of(score, {"seed": 3})
    doc = document.new_doc()
    document.write(doc, content)
    back = document.read(document.new_doc(doc.get_update()))  # through the bytes the database keeps
    assert notes(back.score) == notes(score)
    s = back.score
    assert (str(s.key), str(s.meter), s.bpm, s.bars, s.title) == (str(score.key), str(score.meter), score.bpm,
                                                                    score.bars, score.title)
    assert s.bar_meters == score.bar_meters and s.key_signature == score.key_signature
    assert [p.name for p in s.parts] == [p.name for p in score.parts]
    assert [[n.spelling for n in p.notes] for p in s.parts] == [[n.spelling for n in p.notes] for p in score.parts]
    assert back.ids == content.ids
    assert back.attributes["seed"] == 3 and isinstance(back.attributes["bars"], int)
    assert back.attributes["key"] == str(score.key) and back.attributes["tempo"] == score.bpm


def test_a_result_keeps_the_ids_of_the_notes_it_kept():
    score = chorale()
    base = document.content_of(score)
    result = dataclasses.replace(score, parts=[dataclasses.replace(p, notes=list(p.notes)) for p in score.parts])
    result.parts[0].notes[3] = Note(result.parts[0].notes[3].pitch + 1, result.parts[0].notes[3].onset,
                                    result.parts[0].notes[3].duration)
    ids = document.match_ids(base, result)
    assert ids[1] == base.ids[1]
    assert ids[0][:3] == base.ids[0][:3] and ids[0][4:] == base.ids[0][4:]
    assert ids[0][3] not in base.ids[0]


def test_apply_is_one_transaction_and_keeps_other_changes():
    score = chorale()
    base = document.content_of(score)
    doc = document.new_doc()
    document.write(doc, base)
    # someone else, meanwhile: a new note in the bass and a changed velocity in the alto
    parts = doc.get("parts", type=document.Array)
    from pycrdt import Map
    with doc.transaction():
        parts[3]["notes"].append(Map({"id": "theirs", "pitch": 40, "spelling": None, "onset": 0.0, "duration": 1.0,
                                      "velocity": 70, "fermata": False}))
        alto0 = next(m for m in parts[1]["notes"] if m["id"] == base.ids[1][0])
        alto0["velocity"] = 99
    # our task result, made from base: soprano note 0 transposed, the last tenor note gone
    result = dataclasses.replace(score, parts=[dataclasses.replace(p, notes=list(p.notes)) for p in score.parts])
    n0 = result.parts[0].notes[0]
    result.parts[0].notes[0] = Note(n0.pitch + 2, n0.onset, n0.duration)
    result.parts[2].notes = result.parts[2].notes[:-1]
    target = document.Content(result, document.match_ids(base, result), dict(base.attributes, prompt="ours"))
    transactions = []
    doc.observe(lambda _event: transactions.append(1))
    document.apply(doc, base, target)
    assert len(transactions) == 1
    now = document.read(doc)
    assert now.attributes["prompt"] == "ours"
    assert now.score.parts[0].notes[0].pitch == n0.pitch + 2
    assert base.ids[2][-1] not in now.ids[2] and len(now.ids[2]) == len(base.ids[2]) - 1
    assert "theirs" in now.ids[3]  # their note survives
    alto = dict(zip(now.ids[1], now.score.parts[1].notes))
    assert alto[base.ids[1][0]].velocity == 99  # and their change to a note we did not touch


def test_apply_without_other_changes_gives_the_target():
    score = chorale()
    base = document.content_of(score)
    doc = document.new_doc()
    document.write(doc, base)
    melody = dataclasses.replace(score, parts=[score.parts[0]])  # fewer parts
    target = document.content_of(melody, ids=[base.ids[0]])
    document.apply(doc, base, target)
    now = document.read(doc)
    assert notes(now.score) == notes(melody) and now.ids == target.ids
    document.apply(doc, now, base)  # and back to four parts
    again = document.read(doc)
    assert notes(again.score) == notes(score) and again.ids == base.ids


def test_bars_needed():
    score = chorale()
    assert document.bars_needed(score) <= score.bars + 1


def test_a_reels_repeats_and_endings_go_through_the_shared_document(tmp_path):
    """Ryan's 'Fire Him Out' reel (|: A :| with 1st and 2nd endings, twice): its barlines and
    endings come back from the document's bytes as they were read."""
    from music21 import corpus

    from symphony.formats.musicxml import from_music21
    score = from_music21(corpus.parse("ryansMammoth/FireHimOutReel"))
    assert score.barlines and score.endings
    doc = document.new_doc()
    document.write(doc, document.content_of(score, {}))
    back = document.read(document.new_doc(doc.get_update())).score
    assert (back.barlines, back.endings) == (score.barlines, score.endings)
