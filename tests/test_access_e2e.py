"""Accounts and sharing in the studio, end to end: headless Chromium (Debian's, through
Playwright) against uvicorn on 127.0.0.1 with accounts required. Ana signs up, composes a
piece and shares it by a link as a viewer; a second browser context (someone else, not signed
in) opens the link, sees and hears the piece but cannot change it; Ana revokes the link and it
stops working; Ana signs out."""
from __future__ import annotations


import httpx
import pytest

from symphony.server.app import create_app
from symphony.server.config import ServerSettings

from .conftest import serve_live
from .test_studio_e2e import TIMEOUT_MS, browser, pytestmark  # noqa: F401 (the browser and its skips)
PASSWORD = "a long enough secret"


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_checkpoint):
    tmp = tmp_path_factory.mktemp("studio-accounts")
    settings = ServerSettings(database_url=f"sqlite:///{tmp / 'studio.db'}", checkpoint=str(tiny_checkpoint[0]),
                              workers=2, max_bars=64, accounts=True)
    yield from serve_live(create_app(settings))


def new_page(browser, url: str):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    return context, page, errors


def sign_up(page, email: str, name: str, password: str) -> None:
    page.click("#auth-toggle")
    page.fill("#auth-email", email)
    page.fill("#auth-name", name)
    page.fill("#auth-password", password)
    page.click("#auth-submit")


def test_sign_up_compose_share_by_link_view_only_revoke_sign_out(browser, server):
    ana, page, errors = new_page(browser, server + "/")
    # accounts are required: the sign-in page comes first; a short password is one clear line
    page.wait_for_selector("#auth-email")
    sign_up(page, "ana@example.org", "Ana", "short")
    page.wait_for_selector("#auth-status.error")
    assert "at least 8 characters" in page.inner_text("#auth-status")
    page.fill("#auth-password", PASSWORD)
    page.click("#auth-submit")
    page.wait_for_selector("#prompt")
    assert page.inner_text("#user-name") == "Ana"

    page.fill("#prompt", "a gentle Irish air in G major")
    page.fill("#bars", "4")
    page.fill("#seed", "3")
    page.click("#compose")
    page.wait_for_function("location.hash.startsWith('#/piece/') && window.symphony.studio?.piece?.version === 1")
    piece_id = page.evaluate("location.hash").split("/")[-1]
    notes = page.evaluate("window.symphony.studio.piece.parts.map(p => p.notes.length)")
    assert sum(notes) > 0

    # share by a link, as a viewer
    page.wait_for_selector("#share")
    page.click("#share")
    page.select_option("#share-role", "viewer")
    page.click("#share-link")
    page.wait_for_selector("#share-list .share-url")
    link = page.input_value("#share-list .share-url")
    assert link.startswith(server + "/?share=") and link.endswith(f"#/piece/{piece_id}")

    # someone else, not signed in, opens the link: the piece, read-only
    guest, other, other_errors = new_page(browser, link)
    other.wait_for_function("window.symphony.studio?.piece?.version === 1")
    assert other.evaluate("window.symphony.studio.piece.parts.map(p => p.notes.length)") == notes
    assert other.inner_text("#title") == page.inner_text("#title")
    other.wait_for_selector("#view-only", state="visible", timeout=10_000)  # the role arrives after the piece
    assert other.is_visible("#view-only") and not other.is_visible("#regenerate") and not other.is_visible("#undo")
    assert not other.is_visible("#share")
    other.wait_for_selector("#score svg")  # the engraved score, read with the link
    # a double-click on the roll adds no note; the piece on the server is unchanged
    box = other.locator("#roll canvas").bounding_box()
    other.mouse.dblclick(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert other.evaluate("window.symphony.studio.roll.parts.map(p => p.notes.length)") == notes
    denied = other.evaluate(f"""fetch('/api/pieces/{piece_id}/notes', {{method: 'PUT',
        headers: {{'Content-Type': 'application/json', 'X-Symphony-Share': new URLSearchParams(location.search).get('share')}},
        body: JSON.stringify({{parts: [{{notes: []}}]}})}}).then(r => r.status)""")
    assert denied == 403
    assert httpx.get(f"{server}/api/pieces/{piece_id}", params={"share": link.split("share=")[1].split("#")[0]}
                     ).json()["version"] == 1

    # Ana revokes the link: it opens nothing any more
    page.click("#share-list li:has(.share-url) .revoke")
    page.wait_for_selector("#share-list .share-url", state="detached")
    other.reload()
    other.wait_for_selector("#status.error")
    assert "no piece" in other.inner_text("#status")

    # Ana signs out: back to the sign-in page, also after a reload
    page.click("#share-close")
    page.click("#sign-out")
    page.wait_for_selector("#auth-email")
    page.reload()
    page.wait_for_selector("#auth-email")
    guest.close()
    ana.close()
    assert not errors and not other_errors, errors + other_errors
