"""Time to open a 64-bar piece in the studio (issue 19), in headless Chromium (Debian's, through
Playwright) against ``symphony serve`` in its own process (the shipped model, a temporary
SQLite file):

    python -m benchmarks.studio             # writes benchmarks/studio.json and studio.md

A 64-bar piece is composed once through the API; then, several times, a fresh browser page opens
``/#/piece/{id}`` and two moments are timed from the start of navigation: the piano roll holds
all the piece's notes (the page loaded, the piece read, the roll drawn) and the engraved score is
on the page (the server engraves the SVG with verovio on every request).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.server import free_port, start_server

HERE = Path(__file__).resolve().parent
PIECE = {"style": "celtic", "key": "D major", "meter": "4/4", "bars": 64, "seed": 1}
ROLL_READY = "(n) => window.symphony.studio?.roll.parts.reduce((k, p) => k + p.notes.length, 0) === n"
SCORE_READY = "(v) => document.querySelector('#score')?.dataset.version === String(v)"


def open_times(base: str, piece: dict, runs: int) -> list[dict]:
    from playwright.sync_api import sync_playwright
    notes = sum(len(p["notes"]) for p in piece["parts"])
    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"))
        for _ in range(runs):
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            t0 = time.perf_counter()
            page.goto(f"{base}/#/piece/{piece['id']}")
            page.wait_for_function(ROLL_READY, arg=notes, timeout=60_000)
            roll = time.perf_counter() - t0
            page.wait_for_function(SCORE_READY, arg=piece["version"], timeout=60_000)
            out.append({"roll_s": roll, "score_s": time.perf_counter() - t0})
            page.close()
        browser.close()
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default=str(HERE / "studio"))
    args = ap.parse_args(argv)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = start_server(f"sqlite:///{tmp}/bench.db", port)
        base = f"http://127.0.0.1:{port}"
        try:
            piece = httpx.post(base + "/api/pieces", json=PIECE, timeout=300).json()
            times = open_times(base, piece, args.runs)
        finally:
            server.terminate()
            server.wait(10)
    roll = [t["roll_s"] for t in times]
    score = [t["score_s"] for t in times]
    result = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": platform.machine(),
        "cores": os.cpu_count(), "python": platform.python_version(),
        "load_before": round(load_before, 1), "load_after": round(os.getloadavg()[0], 1),
        "piece": {"bars": piece["bars"], "notes": sum(len(p["notes"]) for p in piece["parts"]), "request": PIECE},
        "runs": args.runs,
        "roll_s": {"median": statistics.median(roll), "max": max(roll), "all": roll},
        "score_s": {"median": statistics.median(score), "max": max(score), "all": score},
    }
    Path(args.out + ".json").write_text(json.dumps(result, indent=2) + "\n")
    Path(args.out + ".md").write_text(report(result))
    print(report(result))


def report(r: dict) -> str:
    return f"""# Opening a 64-bar piece in the studio (issue 19)

*Measured {r['when']} on {r['machine']}, {r['cores']} cores, Python {r['python']} (load average {r['load_before']} before, {r['load_after']} after: other sessions shared the machine); `python -m benchmarks.studio`. `symphony serve` (shipped model, SQLite) in one process, headless Chromium (Debian's, through Playwright) in others.*

A {r['piece']['bars']}-bar piece of {r['piece']['notes']} notes (`{json.dumps(r['piece']['request'])}`), opened {r['runs']} times in a fresh page at `/#/piece/{{id}}`; times from the start of navigation:

| moment | median | max |
|---|---|---|
| the piano roll holds all the notes (page, studio code, `GET /api/pieces/{{id}}`, roll drawn) | {r['roll_s']['median']:.2f} s | {r['roll_s']['max']:.2f} s |
| the engraved score is on the page (`GET .../export/svg?v=N`, verovio on the server) | {r['score_s']['median']:.2f} s | {r['score_s']['max']:.2f} s |

The roll and the toolbars are usable at the first moment; the score follows when the server has
engraved it (it is engraved again after every change, by version, so an old engraving never
replaces a newer one).
"""


if __name__ == "__main__":
    sys.exit(main())
