"""Co-editing under load (issue 20): 20 simulated collaborators on 5 pieces.

    python -m benchmarks.collab                  # writes benchmarks/collab.json
    python -m benchmarks.collab --processes 2    # writes benchmarks/collab-2proc.json

The server runs in its own process (``symphony serve`` on 127.0.0.1, the shipped model, a
temporary SQLite file); this process is the load: 20 ``CollabClient`` s (pycrdt Docs over real
websockets, y-websocket protocol), 4 on each of 5 freshly composed 16-bar pieces. Each client
adds a note every ``--interval`` seconds (with jitter) until it has made ``--edits``; every
other client of the piece notes when the note arrives. Measured:

1. edit-to-others latency: from the local transaction to its arrival in another client's Doc,
   over every (edit, receiver) pair: p50 / p95 / max (target p95 <= 100 ms); the server commits
   each update to the database before relaying it, so this includes that commit;
2. lost and duplicated updates: at the end every client's Doc, and the piece as the HTTP API
   then reads it from the database, must hold each note added exactly once (target 0 and 0);
3. memory per open piece: the server's resident memory with the 5 rooms open minus before
   any was opened, divided by 5.

With ``--processes 2`` two `symphony serve` processes share the SQLite file and each piece's
clients alternate between them, so most deliveries cross processes through the update log.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from pycrdt import Array, Map

from benchmarks.server import free_port, start_server
from symphony.server.client import CollabClient

HERE = Path(__file__).resolve().parent
STYLES = ["celtic", "german", "chinese", "celtic", "german"]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def ids_in(doc) -> list[str]:
    return [m["id"] for p in doc.get("parts", type=Array) for m in p["notes"]]


class Collaborator:
    """One simulated person: a client that adds notes and times the notes of others arriving."""

    def __init__(self, url: str, name: str, sent: dict[str, float], latencies: list[float]):
        self.client = CollabClient(url, timeout=60)
        self.name, self.sent, self.latencies = name, sent, latencies

    async def __aenter__(self):
        await self.client.__aenter__()
        self.notes = self.client.doc.get("parts", type=Array)[0]["notes"]
        self.notes.observe(self._arrived)
        return self

    async def __aexit__(self, *exc):
        await self.client.close()

    def _arrived(self, event) -> None:
        now = time.perf_counter()
        for change in event.delta:
            for m in change.get("insert", []):
                note_id = m["id"]
                if not note_id.startswith(self.name + "-") and note_id in self.sent:
                    self.latencies.append(now - self.sent[note_id])

    async def edit(self, count: int, interval: float, rng: random.Random) -> None:
        for k in range(count):
            await asyncio.sleep(interval * rng.uniform(0.5, 1.5))
            note_id = f"{self.name}-{k}"
            self.sent[note_id] = time.perf_counter()
            self.notes.append(Map({"id": note_id, "pitch": 60 + rng.randrange(24), "spelling": None,
                                   "onset": float(rng.randrange(64)), "duration": 0.5, "velocity": 80,
                                   "fermata": False}))


async def load(bases: list[str], pieces: list[str], per_piece: int, edits: int, interval: float,
               server_pids: list[int]) -> dict:
    sent: dict[str, float] = {}
    latencies: list[float] = []
    rng = random.Random(0)
    rss_before = sum(rss_mb(pid) for pid in server_pids)
    people = [Collaborator(bases[j % len(bases)].replace("http://", "ws://") + f"/api/pieces/{pid}/collab",
                           f"p{i}c{j}", sent, latencies)
              for i, pid in enumerate(pieces) for j in range(per_piece)]
    for p in people:
        await p.__aenter__()
    rss_open = sum(rss_mb(pid) for pid in server_pids)
    t0 = time.perf_counter()
    await asyncio.gather(*(p.edit(edits, interval, random.Random(rng.random())) for p in people))
    expected = {pid: {f"p{i}c{j}-{k}" for j in range(per_piece) for k in range(edits)} for i, pid in enumerate(pieces)}
    end = time.monotonic() + 30
    while time.monotonic() < end and not all(expected[pieces[i // per_piece]] <= set(ids_in(p.client.doc))
                                             for i, p in enumerate(people)):
        await asyncio.sleep(0.1)
    elapsed = time.perf_counter() - t0
    rss_edited = sum(rss_mb(pid) for pid in server_pids)
    lost = dup = 0
    for i, p in enumerate(people):
        ids = ids_in(p.client.doc)
        lost += len(expected[pieces[i // per_piece]] - set(ids))
        dup += len(ids) - len(set(ids))
    for p in people:
        await p.__aexit__()
    stored_lost = stored_dup = 0
    for pid in pieces:
        piece = httpx.get(f"{bases[0]}/api/pieces/{pid}", timeout=30).json()
        ids = [n["id"] for part in piece["parts"] for n in part["notes"]]
        stored_lost += len(expected[pid] - set(ids))
        stored_dup += len(ids) - len(set(ids))
    ms = sorted(x * 1000 for x in latencies)
    return {"processes": len(bases), "clients": len(people), "pieces": len(pieces), "edits_per_client": edits,
            "interval_s": interval,
            "edits": len(sent), "deliveries": len(ms), "expected_deliveries": len(sent) * (per_piece - 1),
            "seconds": round(elapsed, 2), "edits_per_s": round(len(sent) / elapsed, 1),
            "latency_ms": {"p50": round(statistics.median(ms), 1), "p95": round(ms[int(0.95 * (len(ms) - 1))], 1),
                           "max": round(ms[-1], 1)},
            "lost_in_clients": lost, "duplicated_in_clients": dup, "lost_in_database": stored_lost,
            "duplicated_in_database": stored_dup,
            "server_rss_mb": {"before": round(rss_before, 1), "rooms_open": round(rss_open, 1),
                              "after_edits": round(rss_edited, 1)},
            "memory_per_open_piece_mb": round((rss_edited - rss_before) / len(pieces) / len(bases), 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pieces", type=int, default=5)
    ap.add_argument("--per-piece", type=int, default=4)
    ap.add_argument("--edits", type=int, default=50, help="notes each client adds")
    ap.add_argument("--interval", type=float, default=0.2, help="mean seconds between one client's edits")
    ap.add_argument("--processes", type=int, default=1, help="`symphony serve` processes on the one database")
    ap.add_argument("-o", type=Path, default=None,
                    help="default: benchmarks/collab.json (collab-2proc.json with 2 processes)")
    args = ap.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="symphony-collab-bench-") as tmp:
        ports = [free_port() for _ in range(args.processes)]
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        procs = []
        try:
            for port in ports:
                procs.append(start_server(f"sqlite:///{tmp}/studio.db", port, wait_s=120))
            pieces = []
            for i in range(args.pieces):
                r = httpx.post(bases[0] + "/api/pieces", json={"style": STYLES[i % len(STYLES)], "bars": 16,
                                                               "seed": i}, timeout=120)
                r.raise_for_status()
                pieces.append(r.json()["id"])
            result = asyncio.run(load(bases, pieces, args.per_piece, args.edits, args.interval,
                                      [p.pid for p in procs]))
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(10)
    result["machine"] = {"platform": platform.machine(), "cores": os.cpu_count(), "python": platform.python_version(),
                         "load_before": round(load_before, 1), "load_after": round(os.getloadavg()[0], 1),
                         "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    out = args.o or HERE / ("collab.json" if args.processes == 1 else f"collab-{args.processes}proc.json")
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
