"""The engine and the task API: requests running at the same time in threads give exactly what
each gives alone; streaming, progress and cancellation."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from symphony.errors import Cancelled, RequestError
from symphony.formats.files import read_score
from symphony.music.score import Part, Score
from symphony.tasks.api import (BridgeRequest, ContinueRequest, HarmonizeRequest, InfillRequest, Options,
                                RestyleRequest, TaskHooks, TransformRequest, VaryRequest, run, run_many)
from symphony.tasks.engine import Engine

from .conftest import DATA


def notes(score: Score) -> list:
    return [[(n.pitch, round(n.onset, 6), round(n.duration, 6)) for n in p.notes] for p in score.parts]


@pytest.fixture(scope="module")
def engine(tiny_checkpoint):
    return Engine.load(tiny_checkpoint[0])


@pytest.fixture(scope="module")
def requests_():
    tune = read_score(DATA / "oneills_sample.abc")
    other = read_score(DATA / "german_sample.abc")
    chorale = read_score(DATA / "bwv66.6.mxl")
    soprano = Score([Part(list(chorale.parts[0].notes), "Soprano")], chorale.key, chorale.meter, chorale.bpm,
                    chorale.bars, bar_meters=chorale.bar_meters)
    return [
        Options(style="celtic", key="D major", bars=6, seed=1),
        Options(style="german", key="F major", meter="3/4", bars=6, seed=2, guidance=1.0),  # batched headers
        Options(style="chinese:0.6,celtic:0.4", bars=6, seed=3),  # a blend: batched headers
        Options(style="chorale", key="G major", bars=3, seed=4),  # four voices
        Options("a sad slow German song", bars=6, seed=5),
        ContinueRequest(tune, 2, "celtic", 1),
        InfillRequest(tune, "2-3", None, "celtic", 2, candidates=3),  # batched candidates
        BridgeRequest(tune, other, 2, "celtic", 3, candidates=2),
        HarmonizeRequest(soprano, "satb", "chorale", 0, 1),
        VaryRequest(tune, 0.5, None, 0, 3),
        RestyleRequest(tune, "chinese", None, None, 0, 1),
        TransformRequest(tune, 2),
    ]


def test_concurrent_requests_give_what_each_gives_alone(engine, requests_):
    alone = [notes(run(r, engine).score) for r in requests_]
    jobs = requests_ * 2  # each request twice, all at once
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(lambda r: notes(run(r, engine).score), jobs))
    for i, got in enumerate(together):
        assert got == alone[i % len(requests_)], f"request {i % len(requests_)} ({type(jobs[i]).__name__}) differs"


def test_results_are_typed(engine, requests_):
    r = run(requests_[0], engine)
    assert r.attributes["key"] == "D major" and r.attributes["bars"] == 6
    assert r.explanation and r.provenance is None and r.record["attributes"] == r.attributes
    e = run(requests_[5], engine)
    assert e.provenance["operation"] == "continue" and e.record["edit"] == e.provenance


def test_engine_of_loads_a_checkpoint_once(tiny_checkpoint, engine):
    assert Engine.of(tiny_checkpoint[0]) is engine is Engine.of(engine)
    assert engine.styles == list(engine.tokenizer.config.styles)


def test_notes_stream_bar_by_bar_and_add_up_to_the_piece(engine):
    events: list[dict] = []
    done: list[tuple[int, int]] = []
    result = run(Options(style="celtic", key="D major", bars=6, seed=7), engine,
                 TaskHooks(on_event=events.append, progress=lambda d, t: done.append((d, t))))
    last = max((i for i, e in enumerate(events) if e["type"] == "restart"), default=-1)
    streamed = [(e["pitch"], round(e["onset"], 6)) for e in events[last + 1:] if e["type"] == "note"]
    final = [(n.pitch, round(n.onset, 6)) for n in result.score.parts[0].notes]
    assert streamed == final
    grid = events[last + 1]  # first the grid the notes are drawn on
    assert (grid["type"], grid["meter"], grid["key"], grid["bars"]) == \
        ("attributes", str(result.score.meter), str(result.score.key), 6)
    assert done[-1] == (6, 6)
    bq = result.score.bar_quarters
    onsets = [e["onset"] for e in events[last + 1:] if e["type"] == "note"]
    assert onsets == sorted(onsets) and onsets[-1] < 6 * bq


def test_a_cancelled_task_stops_with_cancelled(engine, tiny_checkpoint):
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        run(Options(style="celtic", bars=4, seed=1), engine, TaskHooks(cancel=stop))
    tune = read_score(DATA / "oneills_sample.abc")
    with pytest.raises(Cancelled):
        run(ContinueRequest(tune, 2, "celtic", 1), engine, TaskHooks(cancel=stop))


def test_cancel_from_another_thread_mid_piece(engine):
    stop = threading.Event()
    bars_seen: list[int] = []

    def progress(done, total):
        bars_seen.append(done)
        if done >= 2:
            stop.set()
    with pytest.raises(Cancelled):
        run(Options(style="german", key="C major", bars=64, seed=1, repeats=False), engine,
            TaskHooks(progress=progress, cancel=stop))
    assert 2 <= max(bars_seen) < 64


def test_progress_per_piece_with_count(engine):
    seen = []
    results = run_many(Options(style="celtic", bars=4, seed=1, count=3), engine,
                       TaskHooks(progress=lambda d, t: seen.append((d, t))))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert [r.record["attributes"]["seed"] for r in results] == [1, 2, 3]


def test_bad_requests_fail_before_the_model_is_used(engine):
    with pytest.raises(RequestError):
        run(Options(), engine)  # nothing described
    with pytest.raises(RequestError):
        run_many(Options(style="celtic", count=0), engine)
