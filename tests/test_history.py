"""Version history over real pieces through the HTTP API: a Bach chorale and an Irish reel are
uploaded, edited by hand and by the engine, renamed, named and restored; the version list reads
as sentences, the diff names exactly the bars and notes that changed, and a restore is a new
version equal to the old one with the same note ids."""
from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from symphony.server import history
from symphony.server.app import create_app
from symphony.server.config import ServerSettings

from .conftest import DATA

CHORALE = DATA / "bwv66.6.mxl"  # F# minor, 4/4, a one-beat pickup (bar 0), bars 0-9


def app_for(tmp, checkpoint: str):
    settings = ServerSettings(database_url=f"sqlite:///{tmp / 'studio.db'}", checkpoint=checkpoint, workers=1,
                              static_dir=tmp / "no-studio")
    return create_app(settings, preload=False)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """The studio without a model: uploads and manual edits do not need one."""
    with TestClient(app_for(tmp_path_factory.mktemp("history"), "no-model-needed")) as c:
        yield c


@pytest.fixture(scope="module")
def engine_client(tmp_path_factory, tiny_checkpoint):
    with TestClient(app_for(tmp_path_factory.mktemp("history-engine"), str(tiny_checkpoint[0]))) as c:
        yield c


def upload(client, path=CHORALE) -> dict:
    r = client.post("/api/pieces/upload", files={"file": (path.name, path.read_bytes())})
    assert r.status_code == 201, r.text
    return r.json()


def notes_of(piece: dict) -> list[dict]:
    """Every part with its notes as PUT /notes takes them back."""
    return [{"name": p["name"], "notes": [{k: v for k, v in n.items() if k != "spelling"} for n in p["notes"]]}
            for p in piece["parts"]]


def bar_start(piece: dict, number: str) -> float:
    """Onset of a bar by its printed number (bar k from 0 starts at k bars)."""
    beats, unit = map(int, piece["attributes"]["meter"].split("/"))
    return piece["bar_numbers"].index(number) * beats * 4 / unit


def in_bar(piece: dict, number: str, part: int = 0) -> list[dict]:
    start, q = bar_start(piece, number), 4.0
    return [n for n in piece["parts"][part]["notes"] if start <= n["onset"] < start + q]


def by_id(piece: dict) -> dict:
    return {n["id"]: (i, n["pitch"], n["onset"], n["duration"]) for i, p in enumerate(piece["parts"])
            for n in p["notes"]}


def spelt(n: dict) -> str:
    return n["spelling"].replace("-", "b")


def texts(client, piece_id: str) -> list[str]:
    return [v["text"] for v in client.get(f"/api/pieces/{piece_id}/versions").json()]


def diff(client, piece_id: str, a: int, b: int) -> dict:
    r = client.get(f"/api/pieces/{piece_id}/diff", params={"from": a, "to": b})
    assert r.status_code == 200, r.text
    return r.json()


# ----------------------------------------------------------------------------- a chorale edited by hand

def test_edit_rename_restore_a_chorale(client):
    v1 = upload(client)
    assert v1["attributes"]["key"] == "F# minor" and v1["bar_numbers"][:2] == ["0", "1"]
    # a musician's count (bars 1-9, as music.json says) in the attributes; the grid adds the pickup bar 0
    assert (v1["attributes"]["bars"], v1["bars"], v1["pickup"]) == (9, 10, 1.0)
    parts = notes_of(v1)
    soprano, alto = parts[0]["notes"], parts[1]["notes"]
    # bar 2: the soprano's first note a step up; bar 5: the alto's first note deleted
    raised = next(n for n in soprano if n["id"] == in_bar(v1, "2")[0]["id"])
    raised["pitch"] += 2
    dropped = in_bar(v1, "5", part=1)[0]
    alto.remove(next(n for n in alto if n["id"] == dropped["id"]))
    r = client.put(f"/api/pieces/{v1['id']}/notes", json={"parts": parts})
    assert r.status_code == 200, r.text
    v2 = r.json()
    # the diff names exactly bars 2 and 5, with the notes spelt as the piece shows them
    d = diff(client, v1["id"], 1, 2)
    assert [b["bar"] for b in d["bars"]] == ["2", "5"]
    before, after = in_bar(v1, "2")[0], next(n for n in v2["parts"][0]["notes"] if n["id"] == raised["id"])
    value = history.note_value(before["duration"])
    assert d["bars"][0]["text"] == f"bar 2: Soprano: {spelt(before)} {value} -> {spelt(after)} {value}"
    assert d["bars"][1]["text"] == f"bar 5: Alto: removed {spelt(dropped)} {history.note_value(dropped['duration'])}"
    assert d["bars"][1]["removed"][0] | {"part": 2} == d["bars"][1]["removed"][0]
    assert d["counts"] == {"added": 0, "removed": 1, "changed": 1} and d["attributes"] == []
    assert d["summary"] == "bars 2, 5 changed: 1 note removed, 1 changed"
    # rename: a new version whose diff is the title alone
    r = client.put(f"/api/pieces/{v1['id']}/notes", json={"parts": notes_of(v2), "title": "Christ lag, reharmonised"})
    assert r.json()["version"] == 3
    d = diff(client, v1["id"], 2, 3)
    assert d["bars"] == [] and d["lines"] == ['title: "bwv66.6" -> "Christ lag, reharmonised"']
    # restore version 1: a new version 4 equal to version 1, later versions kept
    r = client.post(f"/api/pieces/{v1['id']}/versions/1/restore")
    v4 = r.json()
    assert v4["version"] == 4 and by_id(v4) == by_id(v1) and v4["title"] == "bwv66.6"
    assert diff(client, v1["id"], 1, 4)["summary"] == "no change"
    assert [b["bar"] for b in diff(client, v1["id"], 3, 4)["bars"]] == ["2", "5"]
    latest = client.get(f"/api/pieces/{v1['id']}/diff").json()  # by default: what the latest change did
    assert (latest["from"], latest["to"], [b["bar"] for b in latest["bars"]]) == (3, 4, ["2", "5"])
    assert texts(client, v1["id"]) == [
        "Uploaded bwv66.6.mxl (9 bars in F# minor, 4/4)",  # bars 1-9 after the pickup bar 0
        "Moved a note in bar 2 and removed a note in bar 5",
        'Renamed the piece "Christ lag, reharmonised"',
        "Restored version 1"]
    # ids stay sane after the restore: one more edit touches only the note it moves
    parts = notes_of(v4)
    parts[0]["notes"][0]["pitch"] -= 1
    v5 = client.put(f"/api/pieces/{v1['id']}/notes", json={"parts": parts}).json()
    assert len(by_id(v5)) == len(by_id(v1)) and set(by_id(v5)) == set(by_id(v1))
    assert [b["bar"] for b in diff(client, v1["id"], 4, 5)["bars"]] == ["0"]


def test_a_note_moved_into_another_bar_changes_both(client):
    p = upload(client)
    parts = notes_of(p)
    note = in_bar(p, "3")[-1]
    moved = next(n for n in parts[0]["notes"] if n["id"] == note["id"])
    moved["onset"] = bar_start(p, "4") + 2.0  # beat 3 of bar 4
    q = client.put(f"/api/pieces/{p['id']}/notes", json={"parts": parts}).json()
    d = diff(client, p["id"], 1, 2)
    assert [b["bar"] for b in d["bars"]] == ["3", "4"]
    name = f"{spelt(note)} {history.note_value(note['duration'])}"
    assert d["bars"][0]["text"] == f"bar 3: Soprano: {name} moved to bar 4"
    beat = 1 + (note["onset"] - bar_start(p, "3"))
    assert d["bars"][1]["text"] == f"bar 4: Soprano: {name} on beat {beat:g} in bar 3 -> {name} on beat 3"
    assert d["bars"][1]["changed"][0]["after"]["beat"] == 3.0
    assert texts(client, p["id"])[-1] == "Moved a note in bar 4"
    assert q["version"] == 2


def test_a_tune_bar_in_words(client):
    """A one-part tune: 'bar 3: F#5 quarter -> G5 eighth; added E5 eighth' (no part names)."""
    p = upload(client, DATA / "AcaciaReel.abc")
    parts = notes_of(p)
    first = in_bar(p, "3")[0]
    note = next(n for n in parts[0]["notes"] if n["id"] == first["id"])
    note["pitch"] += 1
    note["duration"] /= 2
    parts[0]["notes"].append({"pitch": 88, "onset": first["onset"] + first["duration"] / 2, "duration": 0.25})
    q = client.put(f"/api/pieces/{p['id']}/notes", json={"parts": parts}).json()
    after = next(n for n in q["parts"][0]["notes"] if n["id"] == first["id"])
    d = diff(client, p["id"], 1, 2)
    old, new = history.note_value(first["duration"]), history.note_value(first["duration"] / 2)
    assert d["lines"] == [f"bar 3: {spelt(first)} {old} -> {spelt(after)} {new}; added E6 16th"]
    assert texts(client, p["id"])[-1] == "Moved a note and added a note in bar 3"


def test_the_list_names_who_did_it(client):
    """With accounts the routes pass the signed-in name; the studio service takes it as author."""
    p = upload(client)
    studio = client.app.state.studio
    parts = notes_of(p)
    for n in in_bar(p, "1"):
        next(m for m in parts[0]["notes"] if m["id"] == n["id"])["pitch"] += 12
    parts[0]["notes"].append({"pitch": 76, "onset": bar_start(p, "6") + 3.5, "duration": 0.5})
    studio.replace_notes(p["id"], parts, author="Ana")
    studio.restore(p["id"], 1, author="Ben")
    count = len(in_bar(p, "1"))
    assert texts(client, p["id"])[1:] == [f"Ana moved {count} notes in bar 1 and added a note in bar 6",
                                          "Ben restored version 1"]
    versions = client.get(f"/api/pieces/{p['id']}/versions").json()
    assert [v["author"] for v in versions] == [None, "Ana", "Ben"]
    assert versions[1]["what"] == f"moved {count} notes in bar 1 and added a note in bar 6"
    added = diff(client, p["id"], 1, 2)["bars"][-1]
    assert added["bar"] == "6" and added["text"] == "bar 6: Soprano: added E5 eighth"
    assert added["added"][0]["beat"] == 4.5 and added["added"][0]["value"] == "eighth"


# ----------------------------------------------------------------------------- named versions, pages, errors

def test_named_versions(client):
    p = upload(client)
    r = client.post(f"/api/pieces/{p['id']}/versions", json={"name": "  As Bach  wrote it "})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 1 and r.json()["name"] == "As Bach wrote it"
    client.put(f"/api/pieces/{p['id']}/notes", json={"parts": notes_of(p)[:1]})  # the soprano alone
    client.post(f"/api/pieces/{p['id']}/versions", json={"name": "Tune only"})
    client.post(f"/api/pieces/{p['id']}/versions", json={"name": "Melody only"})  # naming again renames
    versions = client.get(f"/api/pieces/{p['id']}/versions").json()
    assert [(v["version"], v["name"]) for v in versions] == [(1, "As Bach wrote it"), (2, "Melody only")]
    assert versions[1]["text"] == "Removed the Alto, Tenor and Bass parts"
    r = client.post(f"/api/pieces/{p['id']}/versions/1/restore")
    assert texts(client, p["id"])[-1] == 'Restored version 1 ("As Bach wrote it")'
    assert len(r.json()["parts"]) == 4
    d = diff(client, p["id"], 2, 3)
    assert [x["change"] for x in d["parts"]] == ["added"] * 3
    assert r.json()["version"] == 3


@pytest.mark.parametrize("body", [{"name": ""}, {"name": "   "}, {}, {"name": "x" * 121}, {"name": "a", "v": 1}])
def test_a_bad_name_is_refused(client, body):
    p = upload(client)
    r = client.post(f"/api/pieces/{p['id']}/versions", json=body)
    assert r.status_code in (400, 422) and isinstance(r.json()["detail"], str), r.text


def test_the_list_comes_in_pages(client):
    p = upload(client)
    parts = notes_of(p)
    for k in range(6):
        parts[0]["notes"][k]["velocity"] = 100
        client.put(f"/api/pieces/{p['id']}/notes", json={"parts": parts})
    url = f"/api/pieces/{p['id']}/versions?limit=3"
    pages = []
    while url:
        r = client.get(url)
        assert r.status_code == 200, r.text
        pages.append([v["version"] for v in r.json()])
        link = r.headers.get("link")
        url = re.match(r'<([^>]+)>; rel="next"', link).group(1) if link else None
    assert pages == [[5, 6, 7], [2, 3, 4], [1]]
    assert texts(client, p["id"])[1] == "Changed a note in bar 0"
    assert diff(client, p["id"], 1, 2)["bars"][0]["text"].endswith("velocity 80 -> 100")


@pytest.mark.parametrize("query, status, word", [
    ("from=1&to=9", 404, "9"), ("from=9", 404, "9"), ("from=0&to=1", 422, "from"), ("from=x&to=1", 422, "from"),
    ("to=-1", 422, "to")])
def test_a_bad_diff_is_one_clear_error(client, query, status, word):
    p = upload(client)
    r = client.get(f"/api/pieces/{p['id']}/diff?{query}")
    assert r.status_code == status, r.text
    assert word in r.json()["detail"]
    assert client.get("/api/pieces/nope/diff?from=1&to=1").status_code == 404
    assert client.post("/api/pieces/nope/versions", json={"name": "x"}).status_code == 404


# ----------------------------------------------------------------------------- the engine's edits

def test_regenerated_bars_are_the_bars_the_diff_names(engine_client):
    client = engine_client
    p = upload(client, DATA / "AcaciaReel.abc")
    r = client.post(f"/api/pieces/{p['id']}/edits", json={"op": "infill", "bars": "3-4", "seed": 1})
    assert r.status_code == 200, r.text
    assert texts(client, p["id"])[-1] == "Regenerated bars 3-4 (infill)"
    d = diff(client, p["id"], 1, 2)
    assert d["bars"] and {b["bar"] for b in d["bars"]} <= {"3", "4"}
    kept = [n["id"] for n in p["parts"][0]["notes"] if not bar_start(p, "3") <= n["onset"] < bar_start(p, "5")]
    assert set(kept) <= set(by_id(r.json()))  # the notes outside bars 3-4 keep their ids


def test_a_transposition_changes_the_key_and_every_note(engine_client):
    client = engine_client
    p = upload(client)
    r = client.post(f"/api/pieces/{p['id']}/edits", json={"op": "transform", "transpose": 2})
    assert r.status_code == 200, r.text
    assert texts(client, p["id"])[-1] == "Transposed it up 2 semitones"
    d = diff(client, p["id"], 1, 2)
    assert {"name": "key", "from": "F# minor", "to": r.json()["attributes"]["key"]} in d["attributes"]
    assert r.json()["attributes"]["key"] in ("G# minor", "Ab minor")
    assert [b["bar"] for b in d["bars"]] == p["bar_numbers"]
    assert d["counts"] == {"added": 0, "removed": 0, "changed": sum(len(x["notes"]) for x in p["parts"])}
    assert re.match(r"bar 0: Soprano: [A-G][#b]?\d \w+ -> [A-G][#b]?\d \w+", d["lines"][-len(d["bars"])])  # moved


# ----------------------------------------------------------------------------- words

@pytest.mark.parametrize("quarters, words", [(1.0, "quarter"), (1.5, "dotted quarter"), (0.5, "eighth"),
                                             (1 / 3, "eighth-note triplet"), (4.0, "whole"), (1.25, "1.25 quarters")])
def test_note_values(quarters, words):
    assert history.note_value(quarters) == words


def test_bar_lists():
    assert history.bar_list(["2"]) == "bar 2"
    assert history.bar_list(["0", "1", "2", "5", "7", "8"]) == "bars 0-2, 5, 7-8"
    assert history.bar_list(["4", "4a", "5"]) == "bars 4, 4a, 5"


def test_naming_keeps_live_edits_saved_without_a_version(client):
    """Live edits (the collaboration socket) reach the piece's state without a version of their
    own; naming the current state then saves it as a new version that says what they did."""
    from sqlalchemy import update

    from symphony.server import document
    from symphony.server.store import PieceRow
    p = upload(client)
    store = client.app.state.studio.store
    doc = store.get(p["id"]).doc
    content = document.read(doc)
    late = content.score.parts[0].notes[-1]
    later = type(late)(late.pitch + 2, late.onset, late.duration)
    target = document.Content(content.score, [list(ids) for ids in content.ids], content.attributes)
    target.score.parts[0].notes = [*content.score.parts[0].notes[:-1], later]
    document.apply(doc, document.read(store.get(p["id"]).doc), target)
    with store.sessions.begin() as s:
        s.execute(update(PieceRow).where(PieceRow.id == p["id"]).values(state=doc.get_update()))
    r = client.post(f"/api/pieces/{p['id']}/versions", json={"name": "After the rehearsal"})
    assert r.status_code == 200, r.text
    named = r.json()
    assert named["version"] == 2 and named["op"] == "edit" and named["name"] == "After the rehearsal"
    last_bar = p["bar_numbers"][-1]
    assert named["text"] == f"Moved a note in bar {last_bar}"
    # naming again, with nothing changed since: the same version, renamed
    again = client.post(f"/api/pieces/{p['id']}/versions", json={"name": "Rehearsed"}).json()
    assert again["version"] == 2 and again["name"] == "Rehearsed"
    assert [v["version"] for v in client.get(f"/api/pieces/{p['id']}/versions").json()] == [1, 2]
