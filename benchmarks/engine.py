"""The engine under load (issue 15): requests served at once in threads, and the layered engine
against the code before it.

    python -m benchmarks.engine                      # threads: 16 requests alone, then 8 at a time
    python -m benchmarks.engine --compare /path/to/old/checkout   # same pieces and speed as the old code

``--compare`` runs a fixed list of generations (all styles, forms, chords, moods, guidance, a
blend) in this checkout and in another one (e.g. ``git worktree add ../base <commit>``), each in
its own process, alternately, and reports whether every piece is note for note the same and the
ratio of their model times (ratios measured in one run beat absolute times on a shared machine).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
REQUESTS = [
    dict(style="celtic", key="D major", bars=16, seed=1),
    dict(style="chinese", key="G zhi", bars=16, seed=2),
    dict(style="german", key="F major", meter="3/4", bars=16, seed=3),
    dict(style="chorale", key="G major", bars=8, seed=4),
    dict(style="celtic", key="G major", bars=16, form="AABB", chords="G C D G", seed=5),
    dict(style="chinese:0.6,celtic:0.4", bars=16, seed=6),
    dict(style="german", bars=16, emotion="sad", seed=7),
    dict(style="german", key="C major", bars=16, guidance=1.0, seed=8),
]

# Run in a child process with the checkout to measure first on sys.path: old code has
# symphony.generate(prompt, **kw) too, so one script serves both.
CHILD = r"""
import json, sys, time
import symphony
out = []
for kw in json.loads(sys.argv[1]):
    t0 = time.perf_counter()
    s = symphony.generate("", **kw)
    wall = time.perf_counter() - t0
    out.append({"notes": [[[n.pitch, round(n.onset, 6), round(n.duration, 6)] for n in p.notes] for p in s.parts],
                "model_seconds": s.meta.get("model_seconds"), "wall": wall})
print(json.dumps(out))
"""


def run_checkout(root: Path, requests: list[dict]) -> list[dict]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    r = subprocess.run([sys.executable, "-c", CHILD, json.dumps(requests)], cwd=root, env=env,
                       capture_output=True, text=True, timeout=1800)
    if r.returncode:
        raise SystemExit(f"{root}: {r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def compare(old_root: Path, rounds: int = 3) -> dict:
    new_root = HERE.parent
    old_t, new_t, same = [], [], True
    for _ in range(rounds):  # alternate, so both see the same machine load
        a = run_checkout(old_root, REQUESTS)
        b = run_checkout(new_root, REQUESTS)
        same &= all(x["notes"] == y["notes"] for x, y in zip(a, b))
        old_t.append(sum(x["model_seconds"] or 0 for x in a))
        new_t.append(sum(x["model_seconds"] or 0 for x in b))
    return {"pieces": len(REQUESTS), "identical": bool(same), "old_model_s": statistics.median(old_t),
            "new_model_s": statistics.median(new_t), "ratio_new_over_old": statistics.median(new_t) / statistics.median(old_t)}


def threads(workers: int = 8, repeat: int = 2) -> dict:
    from symphony.tasks.api import Options, run
    from symphony.tasks.engine import Engine
    engine = Engine.load()
    jobs = [Options(**kw) for kw in REQUESTS] * repeat
    run(jobs[0], engine)  # warm: model loaded, decoders built
    t0 = time.perf_counter()
    alone = [run(j, engine).score for j in jobs]
    t_alone = time.perf_counter() - t0
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        together = list(pool.map(lambda j: run(j, engine).score, jobs))
    t_together = time.perf_counter() - t0
    same = all([[(n.pitch, n.onset, n.duration) for n in p.notes] for p in a.parts]
               == [[(n.pitch, n.onset, n.duration) for n in p.notes] for p in b.parts] for a, b in zip(alone, together))
    return {"requests": len(jobs), "workers": workers, "identical": same, "seconds_one_by_one": round(t_alone, 2),
            "seconds_in_threads": round(t_together, 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--compare", type=Path, default=None, help="another checkout to compare with")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=8)
    args = ap.parse_args()
    res = {"threads": threads(args.workers)}
    if args.compare:
        res["compare"] = compare(args.compare, args.rounds)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
