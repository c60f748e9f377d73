"""The studio end to end: headless Chromium (Debian's, driven by Playwright) against uvicorn on
127.0.0.1 serving the built studio and the tiny model. What a musician does: type a prompt and
watch the notes stream in, select bars 5-8 and regenerate them, undo, redo, play (the SoundFont
sounds and the cursor moves), add a note and drag it (the score follows), export a MIDI file, reload and
find the piece saved; open a score file, and a bad one."""
from __future__ import annotations

import re
import shutil
import time

import httpx
import pytest

from symphony.formats.files import read_score
from symphony.server.app import create_app
from symphony.server.config import STATIC_DIR, ServerSettings

from .conftest import DATA, serve_live

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (make setup installs it)")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make setup installs it)"),
    pytest.mark.skipif(not (STATIC_DIR / "index.html").is_file(),
                       reason="the studio is not built (make setup runs npm ci && npm run build in studio/)"),
]
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_checkpoint):
    """uvicorn on a free port of 127.0.0.1, as `symphony serve` runs it, with the built studio."""
    tmp = tmp_path_factory.mktemp("studio")
    settings = ServerSettings(database_url=f"sqlite:///{tmp / 'studio.db'}", checkpoint=str(tiny_checkpoint[0]),
                              workers=2, max_bars=64)
    yield from serve_live(create_app(settings))


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--autoplay-policy=no-user-gesture-required",
                                                                       # a microphone that beeps, allowed without asking
                                                                       "--use-fake-device-for-media-stream",
                                                                       "--use-fake-ui-for-media-stream"])
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(server + "/")
    yield pg
    context.close()
    assert not errors, errors


def notes_of(piece: dict) -> list[list[tuple]]:
    return [[(n["pitch"], n["onset"], n["duration"]) for n in p["notes"]] for p in piece["parts"]]


def current(server: str, piece_id: str) -> dict:
    return httpx.get(f"{server}/api/pieces/{piece_id}").json()


def roll(page, expression: str):
    """Evaluate ``expression`` with ``roll`` and ``studio`` bound to the open piece's."""
    return page.evaluate(f"(() => {{ const studio = window.symphony.studio; const roll = studio.roll; return {expression}; }})()")


def select_bars(page, first: int, last: int) -> None:
    """Drag on the roll's ruler from stored bar ``first`` to the start of stored bar ``last``."""
    a, b = roll(page, f"roll.barPoint({first})"), roll(page, f"roll.barPoint({last})")
    page.mouse.move(a["x"], a["y"])
    page.mouse.down()
    page.mouse.move(b["x"], b["y"], steps=5)
    page.mouse.up()


def wait_for_version(page, version: int) -> None:
    """Until the studio shows ``version`` of the piece, its score engraved; the status line
    (what the studio told the user) when it does not."""
    try:
        page.wait_for_function(f"window.symphony.studio?.piece?.version === {version} && "
                               f"document.querySelector('#score')?.dataset.version === '{version}'")
    except sync_api.TimeoutError:
        status = page.evaluate("document.querySelector('#status')?.textContent")
        pytest.fail(f"the studio never showed version {version}; its status line says: {status!r}")


def shown(page, server: str, piece_id: str, want=None) -> dict:
    """Until the roll shows what the server holds (and, given ``want``, those are ``want``'s
    notes as notes_of writes them); the server's piece. Live, changes are Doc updates, not versions."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while True:
        piece = current(server, piece_id)
        on_roll = roll(page, "roll.parts.map(p => p.notes.map(n => [n.pitch, n.onset, n.duration]))")
        if sorted(map(sorted, on_roll)) == sorted(sorted(map(list, p)) for p in notes_of(piece)) and \
                (want is None or notes_of(piece) == want):
            return piece
        if time.monotonic() > deadline:
            pytest.fail(f"the roll and the server never agreed; the status line says {page.inner_text('#status')!r}")
        time.sleep(0.1)


def compose(page, prompt: str, bars: int) -> str:
    """Type a prompt, press Compose: the piece streams into the roll."""
    page.fill("#prompt", prompt)
    page.fill("#bars", str(bars))
    page.fill("#seed", "3")
    page.click("#compose")
    page.wait_for_function("location.hash.startsWith('#/piece/')")
    return page.evaluate("location.hash").split("/")[-1]


def test_compose_edit_play_export_and_reload(page, server, tmp_path):
    piece_id = compose(page, "a lively Irish jig in D major", bars=16)
    wait_for_version(page, 1)
    first = current(server, piece_id)
    # the notes were drawn into the roll as they arrived, before the finished piece (on a fast
    # machine all of them may arrive between two frames, so this counts them, not frames)
    assert roll(page, "studio.streamedNotes") > 0, "no note was drawn into the roll before the piece was finished"
    assert roll(page, "roll.parts.map(p => p.notes.map(n => [n.pitch, n.onset, n.duration]))") == \
        [[list(n) for n in part] for part in notes_of(first)]
    assert "jig" in page.inner_text("#explanation").lower()

    # select bars 5-8 on the ruler (as printed: after a pickup bar 0 they are the 6th to 9th bars)
    # and regenerate them: the other bars keep their notes
    i5 = first["bar_numbers"].index("5") if first.get("bar_numbers") else 4
    select_bars(page, i5, i5 + 3)
    assert page.inner_text("#selection") == "Bars 5–8 selected"
    page.click("#regenerate")
    page.wait_for_function("window.symphony.studio.piece.version === 2")
    second = shown(page, server, piece_id)
    beats, unit = map(int, first["attributes"]["meter"].split("/"))
    bar = beats * 4 / unit  # quarters
    beat = 1.5 if unit == 8 and beats % 3 == 0 else 4 / unit
    outside = lambda piece: [(n["id"], n["pitch"], n["onset"]) for n in piece["parts"][0]["notes"]
                             if not i5 * bar <= n["onset"] < (i5 + 4) * bar]
    assert outside(second) == outside(first)
    assert httpx.get(f"{server}/api/pieces/{piece_id}/versions").json()[-1]["op"] == "infill"

    # undo and redo (live: this person's own changes, as Doc updates everyone receives)
    assert roll(page, "studio.live")
    page.click("#undo")
    shown(page, server, piece_id, notes_of(first))
    page.click("#redo")
    shown(page, server, piece_id, notes_of(second))

    # play: the audio context runs and the cursor moves on the roll and the score
    page.click("#play")
    page.wait_for_function("window.symphony.studio.player.playing && window.symphony.studio.roll.cursor > 0.5")
    assert roll(page, "studio.player.audioState") == "running"
    page.wait_for_function("window.symphony.studio.player.peak() > 0.01", polling=20)  # the SoundFont sounds
    here = roll(page, "roll.cursor")
    page.wait_for_timeout(400)
    assert roll(page, "roll.cursor") > here
    assert page.locator("#score g.measure.playing").count() == 1
    page.click("#play")
    assert roll(page, "roll.cursor") is None

    # loop the selected bars 5-8 at a faster tempo: the cursor goes round inside them
    page.fill("#tempo-now", "300")
    page.dispatch_event("#tempo-now", "change")
    page.check("#loop")
    page.click("#play")
    seen = page.evaluate("""async () => { const out = [];
        for (let i = 0; i < 50; i++) { await new Promise(r => setTimeout(r, 50)); out.push(window.symphony.studio.roll.cursor); }
        return out; }""")
    page.click("#play")
    assert all(i5 * bar - 1e-6 <= q < (i5 + 4) * bar + 0.5 for q in seen), seen
    assert any(b < a for a, b in zip(seen, seen[1:])), "the loop never went round"

    # add a note by double-clicking an empty cell of bar 2, then drag it up a tone and on a beat
    notes_before = page.locator("#score g.note").count()
    pitch = max(n[0] for n in notes_of(current(server, piece_id))[0]) + 2  # above the tune: an empty row
    spot = roll(page, f"roll.pointAt({bar + 0.25}, {pitch})")
    page.mouse.dblclick(spot["x"], spot["y"])
    added = [n for n in shown(page, server, piece_id)["parts"][0]["notes"] if n["pitch"] == pitch]
    assert [(n["onset"], n["duration"]) for n in added] == [(bar, beat)]  # snapped to the eighths, a beat long
    page.wait_for_function(f"document.querySelectorAll('#score g.note').length === {notes_before + 1}")  # engraved again
    box = roll(page, f"roll.noteBox(roll.parts[0].notes.find(n => n.id === '{added[0]['id']}'))")
    grab = (box["x"] + 4, box["y"] + box["height"] / 2)
    px_per_quarter, row = roll(page, "roll.pxPerQuarter"), box["height"]
    score_before = page.inner_html("#score")
    page.mouse.move(*grab)
    page.mouse.down()
    page.mouse.move(grab[0] + beat * px_per_quarter, grab[1] - 2 * row, steps=6)
    page.mouse.up()
    moved = next(n for n in shown(page, server, piece_id)["parts"][0]["notes"] if n["id"] == added[0]["id"])
    assert (moved["pitch"], moved["onset"]) == (pitch + 2, bar + beat)
    page.wait_for_function("([before]) => document.querySelector('#score').innerHTML !== before", arg=[score_before])
    assert page.locator("#score g.note").count() == notes_before + 1

    # delete it and undo at once: the note is back
    kept = notes_of(current(server, piece_id))
    page.keyboard.press("Delete")
    page.click("#undo")
    shown(page, server, piece_id, kept)

    # export MIDI: the file holds the notes the roll shows
    with page.expect_download() as download:
        page.click("a[data-fmt=mid]")
    path = tmp_path / "exported.mid"
    download.value.save_as(path)
    exported = read_score(path)
    exported_piece = current(server, piece_id)
    # (chords in any order; onsets to a millionth of a quarter: a triplet's 24 + 5/12 is ...668 read
    # from the file's ticks and ...664 where the piece summed it)
    assert [sorted((round(n.onset, 6), n.pitch) for n in p.notes) for p in exported.parts] == \
        [sorted((round(n["onset"], 6), n["pitch"]) for n in p["notes"]) for p in exported_piece["parts"]]

    # reload: the same piece, then the start page lists it
    page.reload()
    page.wait_for_function("window.symphony.studio?.live === true")
    assert roll(page, "roll.parts[0].notes.length") == len(exported_piece["parts"][0]["notes"])
    page.click("#home")
    page.wait_for_selector(f"#pieces a[href='#/piece/{piece_id}']")


def test_open_a_score_file_and_a_bad_one(page, server):
    page.set_input_files("#upload", str(DATA / "AcaciaReel.abc"))
    page.wait_for_function("location.hash.startsWith('#/piece/')")
    wait_for_version(page, 1)
    piece = current(server, page.evaluate("location.hash").split("/")[-1])
    assert roll(page, "roll.parts[0].notes.length") == len(piece["parts"][0]["notes"]) > 0
    page.click("#home")
    page.set_input_files("#upload", {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"})
    message = page.locator("#start-status.error")
    message.wait_for()
    assert "notes.txt" in message.inner_text() and "\n" not in message.inner_text().strip()


def test_cancel_while_composing_saves_nothing(page, server):
    before = httpx.get(server + "/api/pieces").json()
    page.fill("#prompt", "a Bach chorale")  # four voices, 64 bars: long enough to cancel in the middle
    page.fill("#bars", "64")
    page.click("#compose")
    page.locator("#cancel").click()
    page.wait_for_function("document.querySelector('#status').textContent.includes('cancelled')")
    time.sleep(0.5)
    assert httpx.get(server + "/api/pieces").json() == before


def test_hum_a_take_and_compose_from_a_picture(page, server, tmp_path):
    from PIL import Image
    # hum into the (fake) microphone: the take is kept as a WAV for the request
    page.click("#hum")
    page.wait_for_timeout(1500)
    page.click("#hum")
    take = re.search(r"a take of ([0-9.]+) s", page.inner_text("#hum-status"))
    assert take and 0.3 < float(take.group(1)) < 10, page.inner_text("#hum-status")
    page.reload()  # (the beeping take is not a tune to compose from)
    Image.new("RGB", (64, 48), (20, 30, 60)).save(tmp_path / "night.png")
    page.set_input_files("#picture", str(tmp_path / "night.png"))
    page.fill("#prompt", "a tune")
    page.fill("#bars", "4")
    page.click("#compose")
    page.wait_for_function("location.hash.startsWith('#/piece/')")
    wait_for_version(page, 1)
    piece = current(server, page.evaluate("location.hash").split("/")[-1])
    assert any(line.startswith("picture: picture.png") for line in piece["explanation"]), piece["explanation"]
    assert "picture" in page.inner_text("#explanation")
