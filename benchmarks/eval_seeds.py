"""Issue 3's realism and style targets over several seeds of `symphony eval`.

One `symphony eval -n 30` run draws 30 requests per style and judges a real-vs-generated
discriminator on 30 + 30 pieces: its figures move by 10-20 points from seed to seed (celtic
68-92% with the same code and checkpoint, benchmarks/NOTES.md 2026-12-05). This runs the same
evaluation for several seeds and reports each target as the mean over the runs, with the range,
so a figure on the right side of a threshold is not a lucky draw.

    python -m benchmarks.eval_seeds                    # seeds 0-3, n = 30: about 4 minutes on 2 cores
    python -m benchmarks.eval_seeds --seeds 0,1 --n 20

Writes benchmarks/eval_seeds.{md,json}; each run's full report goes to runs/eval_seeds/seed-S/.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
STYLES = ("chinese", "german", "celtic", "chorale")
TARGETS = {"overlap": (">=", 0.80), "hit_rate": (">=", 0.80), "discriminator": ("<=", 0.70)}


def per_run(report: dict) -> dict:
    """style -> mean overlap, style hit rate, real-vs-generated accuracy of one eval report."""
    out = {}
    for style in STYLES:
        out[style] = {"overlap": report["realism"][style]["overlap"]["mean"],
                      "hit_rate": report["style_classifier"]["hit_rate"][style],
                      "discriminator": report["discriminator"][style]["accuracy"],
                      "classifier_on_real": report["style_classifier"]["real_test_accuracy_per_style"][style]}
    return out


def summarise(runs: dict[int, dict]) -> dict:
    out = {}
    for style in STYLES:
        out[style] = {}
        for k in ("overlap", "hit_rate", "discriminator", "classifier_on_real"):
            xs = [r[style][k] for r in runs.values()]
            out[style][k] = {"mean": statistics.mean(xs), "min": min(xs), "max": max(xs), "runs": xs}
            if k in TARGETS:
                op, bound = TARGETS[k]
                m = out[style][k]["mean"]
                out[style][k]["met"] = m >= bound if op == ">=" else m <= bound
    return out


def write_markdown(res: dict, path: Path) -> None:
    S = res["summary"]
    seeds = ", ".join(map(str, res["seeds"]))

    def cell(style, k, pct):
        x = S[style][k]
        f = (lambda v: f"{100 * v:.0f}%") if pct else (lambda v: f"{v:.2f}")
        mark = "" if "met" not in x else (" ✓" if x["met"] else " ✗")
        return f"**{f(x['mean'])}**{mark} ({f(x['min'])}-{f(x['max'])})"

    lines = [
        "# Realism and style over several seeds (issue 3)", "",
        f"`python -m benchmarks.eval_seeds` — {res['date']}, {res['machine']}, {res['seconds']:.0f} s. "
        f"`symphony eval -n {res['n']}` run with seeds {seeds} (requests, sampling, classifier folds); each "
        "cell is the mean over the runs, the range in brackets. Targets: mean overlap ≥ 0.80, style "
        "hit rate ≥ 80%, real-vs-generated accuracy ≤ 70%. One run's full report: [eval/report.md](eval/report.md).",
        "",
        "| style | mean overlap | style hit rate | classifier on real (held out) | real-vs-generated |",
        "|---|---|---|---|---|",
    ]
    for style in STYLES:
        lines.append(f"| {style} | {cell(style, 'overlap', False)} | {cell(style, 'hit_rate', True)} | "
                     f"{100 * S[style]['classifier_on_real']['mean']:.0f}% | {cell(style, 'discriminator', True)} |")
    lines += ["", "A single run of 30 pieces a style still lands on the wrong side of a threshold now and "
              "then; the means are what the targets are read on.", ""]
    path.write_text("\n".join(lines))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="0,1,2,3")
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--out", default="runs/eval_seeds")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    from symphony.evaluation.run import run_eval
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    t0 = time.perf_counter()
    runs = {}
    for s in seeds:
        print(f"== seed {s}", file=sys.stderr)
        report = run_eval(Path(args.out) / f"seed-{s}", n=args.n, seed=s, checkpoint=args.checkpoint,
                          progress=False, log=lambda m: None)
        runs[s] = per_run(report)
    res = {"seeds": seeds, "n": args.n, "runs": runs, "summary": summarise(runs),
           "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "machine": f"{platform.machine()}, {platform.python_version()}",
           "seconds": round(time.perf_counter() - t0, 1)}
    for style in STYLES:
        x = res["summary"][style]
        print(f"{style:8s} overlap {x['overlap']['mean']:.2f}  hit {x['hit_rate']['mean']:.0%}  "
              f"real-vs-generated {x['discriminator']['mean']:.0%}")
    if not args.no_write:
        (HERE / "eval_seeds.json").write_text(json.dumps(res, indent=1) + "\n")
        write_markdown(res, HERE / "eval_seeds.md")


if __name__ == "__main__":
    main()
