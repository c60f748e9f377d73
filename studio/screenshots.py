"""The screenshots of docs/studio.md, taken in headless Chromium from a running studio:

    symphony serve --port 8000 --db sqlite:////tmp/shots.db &
    python studio/screenshots.py http://127.0.0.1:8000 docs/

The start page, notes streaming in, a jig with bars 5-8 selected, a chorale whose bars 5-8
were regenerated (the piece screen after an edit, with its versions), and two people on one
piece (`... docs/ together` takes only that one).
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

VIEW = {"width": 1440, "height": 900}


def select_bars(page, first: int, last: int) -> None:
    """Drag across the printed bars first..last (after a pickup bar 0 they are one bar further on)."""
    shift = page.evaluate("window.symphony.studio.roll.labels[0] === '0' ? 0 : -1")
    a = page.evaluate(f"window.symphony.studio.roll.barPoint({first + shift})")
    b = page.evaluate(f"window.symphony.studio.roll.barPoint({last + shift})")
    page.mouse.move(a["x"], a["y"])
    page.mouse.down()
    page.mouse.move(b["x"], b["y"], steps=4)
    page.mouse.up()


def wait_for_score(page) -> None:
    page.wait_for_function("window.symphony.studio?.piece && document.querySelector('#score')?.dataset.version"
                           " === String(window.symphony.studio.piece.version)", timeout=120_000)
    page.wait_for_timeout(2000)  # headless Chromium drew the later systems' key signatures late


def compose(page, base: str, prompt: str, bars: int, seed: int, shot: Path | None = None) -> None:
    page.goto(base + "/")
    page.fill("#prompt", prompt)
    page.fill("#bars", str(bars))
    page.fill("#seed", str(seed))
    page.click("#compose")
    if shot:
        page.wait_for_function("window.symphony.studio?.roll.parts.reduce((k, p) => k + p.notes.length, 0) > 40")
        page.screenshot(path=shot)
    page.wait_for_function("location.hash.startsWith('#/piece/')", timeout=120_000)
    wait_for_score(page)


def main(base: str, out: Path) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"))
        page = browser.new_page(viewport=VIEW)
        compose(page, base, "a slow Chinese folk song in G, sad", 16, 2)
        compose(page, base, "a lively Irish jig in D major", 16, 1, out / "studio-streaming.png")
        select_bars(page, 5, 8)
        page.screenshot(path=out / "studio-piece.png")
        compose(page, base, "Bach chorale in F major", 8, 3)
        select_bars(page, 5, 8)
        page.click("#regenerate")
        page.wait_for_function("document.querySelector('#status').textContent.includes('done')", timeout=120_000)
        wait_for_score(page)
        page.screenshot(path=out / "studio-edit.png")
        page.goto(base + "/")
        page.wait_for_selector("#pieces a")
        page.fill("#prompt", "春节的喜庆舞曲，D徵调，16小节，笛子")
        page.fill('input[name="chinese"]', "60")
        page.dispatch_event('input[name="chinese"]', "input")
        page.fill('input[name="celtic"]', "40")
        page.dispatch_event('input[name="celtic"]', "input")
        page.mouse.click(*centre_of(page, "#emotion-pad", 0.8, 0.25))
        page.screenshot(path=out / "studio-start.png")
        together(browser, base, out)
        browser.close()


def together(browser, base: str, out: Path) -> None:
    """Ana's screen while Bea works on the same piece: Bea's pointer and bar selection on the roll,
    who is here, and Bea's regeneration announced."""
    def person(name: str):
        context = browser.new_context(viewport=VIEW)
        context.add_init_script(f"localStorage.setItem('symphony.name', {name!r})")
        return context.new_page()
    ana, bea = person("Ana"), person("Bea")
    compose(ana, base, "a lively Irish jig in D major", 16, 1)
    ana.wait_for_function("window.symphony.studio.live === true")
    bea.goto(base + "/" + ana.evaluate("location.hash"))
    bea.wait_for_function("window.symphony.studio?.live === true")
    select_bars(bea, 9, 12)
    bea.click("#regenerate")
    ana.wait_for_function("document.querySelector('#changes').textContent.includes('Bea regenerated')", timeout=120_000)
    select_bars(bea, 5, 8)
    select_bars(ana, 1, 4)
    point = bea.evaluate("window.symphony.studio.roll.pointAt(6 * window.symphony.studio.roll.barLength + 1, 74)")
    bea.mouse.move(point["x"], point["y"])
    ana.wait_for_timeout(2500)  # the score engraved again after Bea's change
    ana.screenshot(path=out / "studio-together.png")


def centre_of(page, selector: str, fx: float, fy: float) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    return box["x"] + fx * box["width"], box["y"] + fy * box["height"]


if __name__ == "__main__":
    if sys.argv[3:] == ["together"]:
        with sync_playwright() as p:
            together(p.chromium.launch(executable_path=shutil.which("chromium")), sys.argv[1], Path(sys.argv[2]))
    else:
        main(sys.argv[1], Path(sys.argv[2]))
