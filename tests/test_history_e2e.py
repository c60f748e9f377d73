"""The studio's history panel in a real browser (Debian's Chromium through Playwright, uvicorn on
127.0.0.1): open a Bach chorale, add a note in bar 2 on the roll, name that version, preview the
first version (read-only, bar 2 tinted as changed, the difference in words), restore it."""
from __future__ import annotations

import time

import httpx
import pytest

from symphony.server.app import create_app
from symphony.server.config import ServerSettings

from .conftest import DATA, serve_live
from .test_studio_e2e import browser, page, pytestmark, roll as studio  # noqa: F401 (the browser, a page on this module's server, skips)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The studio without a model: opening a score and editing it by hand need none."""
    tmp = tmp_path_factory.mktemp("history-studio")
    settings = ServerSettings(database_url=f"sqlite:///{tmp / 'studio.db'}", checkpoint="no-model-needed")
    yield from serve_live(create_app(settings, preload=False))


def wait_for_version(page, version: int) -> None:
    """Until the history panel lists ``version`` as the current one."""
    page.wait_for_function(f"document.querySelector('#versions li[data-version=\"{version}\"] em') !== null")


def test_name_preview_and_restore_a_version(page, server, tmp_path):
    page.set_input_files("#upload", str(DATA / "bwv66.6.mxl"))
    page.wait_for_function("location.hash.startsWith('#/piece/')")
    wait_for_version(page, 1)
    piece_id = page.evaluate("location.hash").split("/")[-1]
    first = httpx.get(f"{server}/api/pieces/{piece_id}").json()
    assert page.inner_text("#versions li[data-version='1'] button.version").startswith(
        "1. Uploaded bwv66.6.mxl (9 bars in F# minor, 4/4)")  # bars 1-9 after the pickup bar 0

    # add a note high above the soprano in bar 2 (the third bar: the pickup is bar 0)
    bar2 = first["bar_numbers"].index("2")
    pitch = max(n["pitch"] for n in first["parts"][0]["notes"]) + 3
    spot = studio(page, f"roll.pointAt({bar2 * 4 + 1.25}, {pitch})")
    page.mouse.dblclick(spot["x"], spot["y"])
    # live, the note reaches the server at once as a change to the shared piece, not as a version
    notes = sum(len(p["notes"]) for p in first["parts"])
    deadline = time.monotonic() + 10
    while sum(len(p["notes"]) for p in httpx.get(f"{server}/api/pieces/{piece_id}").json()["parts"]) != notes + 1:
        assert time.monotonic() < deadline, "the added note never reached the server"
        time.sleep(0.1)

    # name it: the live state is saved as version 2 with the name
    page.fill("#version-name", "With a descant")
    page.click("#name-version")
    page.wait_for_selector("#versions li[data-version='2'] .version-name")
    wait_for_version(page, 2)
    assert page.inner_text("#versions li[data-version='2'] .version-name") == "With a descant"
    assert page.inner_text("#versions li:first-child button.version").startswith("2. Added a note in bar 2")

    # preview version 1: read-only, bar 2 tinted, the difference in words, its score engraved
    page.click("#versions li[data-version='1'] button.version")
    page.wait_for_selector("#preview-banner:not([hidden])")
    assert "Previewing version 1: bar 2 changed: 1 note added since then" in page.inner_text("#preview-banner")
    assert page.inner_text("#diff").startswith("bar 2: Soprano: added ")
    assert studio(page, "roll.readOnly") is True
    assert studio(page, "[...roll.changedBars]") == [bar2]
    assert studio(page, "roll.parts.map(p => p.notes.length)") == [len(p["notes"]) for p in first["parts"]]
    page.wait_for_function("document.querySelector('#score').dataset.version === '1'")
    page.screenshot(path=str(tmp_path / "history-preview.png"))
    count = studio(page, "roll.parts[0].notes.length")
    spot = studio(page, f"roll.pointAt({bar2 * 4 + 2.25}, {pitch})")
    page.mouse.dblclick(spot["x"], spot["y"])  # read-only: no note is added, nothing is saved
    assert studio(page, "roll.parts[0].notes.length") == count

    # restore it: a new version 3 equal to version 1; the roll is editable again
    page.click("#preview-banner button.primary")
    wait_for_version(page, 3)
    assert page.inner_text("#versions li:first-child button.version") == "3. Restored version 1"
    assert studio(page, "roll.readOnly") is False and studio(page, "roll.changedBars.size") == 0
    now = httpx.get(f"{server}/api/pieces/{piece_id}").json()
    ids = lambda p: sorted(n["id"] for part in p["parts"] for n in part["notes"])  # noqa: E731
    assert ids(now) == ids(first)
    assert [v["version"] for v in httpx.get(f"{server}/api/pieces/{piece_id}/versions").json()] == [1, 2, 3]
