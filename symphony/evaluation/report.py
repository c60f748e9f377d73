"""Write the evaluation as ``report.md`` + ``report.json`` + PNG plots (matplotlib, Agg)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from symphony.evaluation.metrics import SCALAR_BINS
from symphony.music.analysis import DURATION_LABELS, FEATURES, INTERVAL_CLIP

DEGREES = ("1", "b2", "2", "b3", "3", "4", "#4", "5", "b6", "6", "b7", "7")
FEATURE_TITLES = {"pitch_classes": "pitch class above the tonic", "intervals": "melodic interval (semitones)",
                  "durations": "duration (quarter notes)", "notes_per_beat": "notes per beat",
                  "range": "range (semitones)", "ends_on_tonic": "ends on the tonic",
                  "bar_repetition": "bar repetition (share of bars)"}


def _fmt(x, pct: bool = False, nd: int = 2) -> str:
    if x is None:
        return "–"
    if isinstance(x, float) and np.isnan(x):
        return "–"
    return f"{100 * x:.0f}%" if pct else f"{x:.{nd}f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return out + [""]


def _labels(feature: str) -> list[str]:
    if feature == "pitch_classes":
        return list(DEGREES)
    if feature == "intervals":
        return [f"{i:+d}" if i else "0" for i in range(-INTERVAL_CLIP, INTERVAL_CLIP + 1)]
    if feature == "durations":
        return list(DURATION_LABELS)
    edges = SCALAR_BINS[feature]
    if feature == "ends_on_tonic":
        return ["no", "yes"]
    return [f"{a:g}" if np.isfinite(b) else f"{a:g}+" for a, b in zip(edges[:-1], edges[1:])]


def plot_style(style: str, dists: dict, overlap: dict, path: Path, real_label: str = "real (held out)") -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 4, figsize=(18, 7.5))
    for ax, feat in zip(axes.flat, FEATURES):
        real = np.asarray(dists["real"][feat], dtype=float)
        gen = np.asarray(dists["generated"][feat], dtype=float)
        x = np.arange(len(real))
        ax.bar(x - 0.2, real, 0.4, label=real_label, color="#4c72b0")
        ax.bar(x + 0.2, gen, 0.4, label="generated", color="#dd8452")
        labels = _labels(feat)
        step = 2 if len(labels) > 14 else 1
        ax.set_xticks(x[::step])
        ax.set_xticklabels(labels[::step], rotation=90 if feat in ("range", "notes_per_beat") else 0,
                           fontsize=8)
        oa = overlap.get(feat)
        ax.set_title(f"{FEATURE_TITLES[feat]}\noverlap {_fmt(oa)}", fontsize=10)
        ax.set_ylabel("share")
    axes.flat[-1].axis("off")
    axes.flat[0].legend(fontsize=8)
    fig.suptitle(f"{style}: generated vs real pieces", fontsize=13)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot_confusion(style_res: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    labels = style_res["labels"]
    panels = [("generated pieces: requested style → predicted", style_res["generated_confusion"]),
              ("held-out real pieces: true style → predicted", style_res["real_confusion"])]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8))
    for ax, (title, m) in zip(axes, panels):
        m = np.asarray(m, dtype=float)
        keep = m.sum(axis=1) > 0
        rows = [lab for lab, k in zip(labels, keep) if k]
        mm = m[keep] if keep.any() else np.zeros((0, len(labels)))
        share = mm / np.maximum(mm.sum(axis=1, keepdims=True), 1)
        ax.imshow(share if len(mm) else np.zeros((1, len(labels))), vmin=0, vmax=1, cmap="Blues")
        for i in range(len(mm)):
            for j in range(len(labels)):
                ax.text(j, i, f"{int(mm[i, j])}", ha="center", va="center",
                        color="white" if share[i, j] > 0.5 else "black")
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, rotation=30)
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels(rows)
        ax.set_xlabel("predicted style")
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot_overlaps(realism: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    styles = list(realism)
    m = np.array([[np.nan if realism[s]["overlap"].get(f) is None else realism[s]["overlap"][f]
                   for s in styles] for f in FEATURES], dtype=float)
    fig, ax = plt.subplots(figsize=(1.6 * len(styles) + 3, 4.5))
    ax.imshow(np.nan_to_num(m, nan=0.0), vmin=0, vmax=1, cmap="RdYlGn")
    for i in range(len(FEATURES)):
        for j in range(len(styles)):
            ax.text(j, i, _fmt(None if np.isnan(m[i, j]) else float(m[i, j])), ha="center", va="center")
    ax.set_xticks(range(len(styles)))
    ax.set_xticklabels(styles)
    ax.set_yticks(range(len(FEATURES)))
    ax.set_yticklabels([f.replace("_", " ") for f in FEATURES])
    ax.set_title("overlapping area, generated vs real (1 = identical)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def write_report(results: dict, out: str | Path) -> list[Path]:
    """Write report.md, report.json and the plots into out; returns the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    meta, realism = results["meta"], results["realism"]
    sr, disc, control, speed = (results["style_classifier"], results["discriminator"],
                                results["control"], results["speed"])
    styles = meta["styles"]
    written: list[Path] = []
    plots = {}
    for s in styles:
        p = out / f"hist-{s}.png"
        plot_style(s, results["distributions"][s], realism[s]["overlap"], p,
                   real_label=f"real ({meta['real_split']} split)")
        plots[s] = p.name
        written.append(p)
    plot_overlaps(realism, out / "overlap.png")
    written.append(out / "overlap.png")
    if "labels" in sr:
        plot_confusion(sr, out / "confusion.png")
        written.append(out / "confusion.png")

    ctrl_names = list(next(iter(control.values()), {}).keys())
    L = ["# Symphony evaluation", "",
         f"{meta['date']} · checkpoint `{meta['checkpoint']}` · {meta['n_per_style']} generated pieces per "
         f"style · requests drawn `{meta['requests']}` · real pieces: `{meta['real_split']}` split "
         f"(at most {meta['max_real']} per style), classifier trained on the `{meta['train_split']}` split · "
         f"seed {meta['seed']} · style guidance {meta.get('guidance', 0)} · {meta['seconds']} s", "",
         "Every generated piece was written to MIDI and read back; all numbers below are measured on "
         "the read-back file (key = music21's Krumhansl-Schmuckler analysis), never on the request. "
         "Melodic features use the top part.", "", "## Summary", ""]
    rows = []
    for s in styles:
        rows.append([s, realism[s]["real_pieces"], realism[s]["generated_pieces"],
                     _fmt(realism[s]["overlap"].get("mean")),
                     _fmt(sr.get("hit_rate", {}).get(s), pct=True),
                     _fmt(sr.get("real_test_accuracy_per_style", {}).get(s), pct=True),
                     _fmt(disc[s]["accuracy"], pct=True),
                     *[_fmt(control[s][c]["accuracy"], pct=True) for c in ctrl_names],
                     _fmt(speed.get(s, {}).get("median_seconds_per_piece"))])
    L += _table(["style", "real pieces", "generated", "mean overlap", "style hit rate",
                 "classifier on real", "real-vs-generated", *[f"{c} control" for c in ctrl_names],
                 "s / piece"], rows)
    L += ["Overlap: 1 = same distribution as held-out real music. Style hit rate: share of pieces "
          "generated for the style that the style classifier assigns to it, next to the classifier's "
          "own accuracy on held-out real pieces of that style. Real-vs-generated: cross-validated "
          "accuracy of a classifier telling them apart (50% = indistinguishable).", ""]

    L += ["## Realism: overlapping areas per feature", ""]
    L += _table(["feature", *styles],
                [[FEATURE_TITLES[f], *[_fmt(realism[s]["overlap"].get(f)) for s in styles]]
                 for f in FEATURES] + [["**mean**", *[_fmt(realism[s]["overlap"].get("mean")) for s in styles]]])
    L += ["![overlapping areas](overlap.png)", ""]
    for s in styles:
        L += [f"### {s}", "", f"![{s} histograms]({plots[s]})", ""]

    L += ["## Style classifier", ""]
    if "labels" in sr:
        L += [f"Classifier `{sr['classifier']}` on {len(sr['labels'])} styles, trained on "
              + ", ".join(f"{k} {v}" for k, v in sr["train_pieces"].items()) + " real pieces. "
              f"Accuracy on held-out real pieces: **{_fmt(sr['real_test_accuracy'], pct=True)}**; "
              f"style hit rate of generated pieces: **{_fmt(sr['hit_rate_overall'], pct=True)}**.", ""]
        L += _table(["style", "hit rate (generated)", "accuracy (held-out real)",
                     "mean P(requested style)"],
                    [[s, _fmt(sr["hit_rate"].get(s), pct=True),
                      _fmt(sr["real_test_accuracy_per_style"].get(s), pct=True),
                      _fmt(sr["mean_probability_of_requested_style"].get(s))] for s in styles])
        L += ["Confusion of generated pieces (rows: requested style, columns: predicted):", ""]
        L += _table(["requested \\ predicted", *sr["labels"]],
                    [[lab, *row] for lab, row in zip(sr["labels"], sr["generated_confusion"]) if sum(row)])
        L += ["![confusion matrices](confusion.png)", ""]
    else:
        L += [f"Skipped: {sr.get('skipped')}.", ""]

    L += ["## Real versus generated", "",
          "A random forest on the feature vectors, k-fold cross-validated, with as many real as "
          "generated pieces (the larger set subsampled). 50% means the features cannot tell them apart.", ""]
    L += _table(["style", "accuracy", "± std", "folds", "pieces per class"],
                [[s, _fmt(d["accuracy"], pct=True), _fmt(d["std"], pct=True), d["folds"], d["per_class"]]
                 for s, d in disc.items()])

    L += ["## Control accuracy (read-back files)", ""]
    L += _table(["style", *ctrl_names, "pieces"],
                [[s, *[_fmt(control[s][c]["accuracy"], pct=True) for c in ctrl_names],
                  max((control[s][c]["n"] for c in ctrl_names), default=0)] for s in control])
    L += ["key: music21's analysis of the read-back MIDI agrees with the requested tonic and mode "
          "(modes count by their third, as in `symphony.generation.key_matches`); meter and tempo: the "
          "MIDI file's time signature and tempo; bars: counted from the notes of the file.", ""]

    L += ["## Generation speed", ""]
    L += _table(["style", "pieces", "median s / piece", "median s / bar", "model s / attempt",
                 "mean attempts", "notes / model s", "tokens / model s"],
                [[s, v["pieces"], _fmt(v["median_seconds_per_piece"]), _fmt(v["median_seconds_per_bar"], nd=3),
                  _fmt(v["median_model_seconds_per_attempt"], nd=3), _fmt(v["mean_attempts"]),
                  _fmt(v["notes_per_model_second"], nd=0), _fmt(v["tokens_per_model_second"], nd=0)]
                 for s, v in speed.items()])
    L += ["Seconds per piece are wall time of `generate_request` (sampling, decoding, key check and "
          "resampling) on this machine; lengths follow the requests.", ""]
    if results.get("failures"):
        L += ["## Failed requests", ""]
        L += [f"- {r['style']} #{r['index']}: {r['error']}" for r in results["failures"]] + [""]
    L += ["The generated MIDI files are in `pieces/`; every number is in `report.json`.", ""]
    md = out / "report.md"
    md.write_text("\n".join(L), encoding="utf-8")
    js = out / "report.json"
    js.write_text(json.dumps(results, indent=1, ensure_ascii=False, default=_json_default) + "\n",
                  encoding="utf-8")
    return [md, js, *written]


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
