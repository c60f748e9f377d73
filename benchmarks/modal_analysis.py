"""Modal analysis (symphony.music.modes) validated on real, labelled tunes, beside music21.

    .venv/bin/python -m benchmarks.modal_analysis            # writes benchmarks/modal_analysis.{md,json}
    .venv/bin/python -m benchmarks.modal_analysis --tune     # the design grid, on the tuning half only

The tunes are music21's corpus ABC collections (O'Neill's 1850, Ryan's Mammoth, Essen), read
through symphony's corpus cache (``symphony.data.parse_source``; the same notes the model trains
on, de-duplicated by ``content_hash``). The cache does not keep the ABC ``K:`` field, so this
script reads the K: field of every tune from the ABC text itself and pairs tunes with records by
their order in the file (the records' index is the tune's position; titles are checked).

Labels: ``K:Ador`` -> A dorian, ``K:Dmix`` -> D mixolydian, ``K:Bphr``, ``K:Glyd``, ``K:Em`` /
``K:Amin`` -> minor, plain ``K:G`` -> major. A plain label is only a key signature (many ``K:G``
tunes are E minor or A dorian), so accuracy is reported per label class. Left out: tunes whose K:
changes inside the tune, labels we cannot read (``K:Bn``, ``K:Dmix=c``, Essen's German ``H``), and
the Essen Chinese (han) tunes, whose key signature cannot express a pentatonic mode (they get a
descriptive line: which modes the analysis names).

Sample: every dorian-, mixolydian-, phrygian- and lydian-labelled tune, and the first 200 minor-
and 200 major-labelled tunes in the order of sha1(record id) (deterministic).

Measures, for the modal analysis and for music21's key analysis (``symphony.score.analyze_key``):
  exact       tonic and mode both equal the label (music21 can only be exact on major/minor labels)
  compatible  same tonic and one scale contains the other (A yu inside A dorian; modal only)
  third rule  same tonic and the same third (dorian ~ minor, mixolydian ~ major): the rule the
              modes benchmark applies to music21 (symphony.generation.key_matches)
  final       the tune's final (music.modes.final_note) is the labelled tonic
The design constants of music.modes were chosen with ``--tune`` on the tuning half
(sha1(id) even); the table gives the held-out half separately.
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import re
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLASSES = ("dorian", "mixolydian", "phrygian", "lydian", "minor", "major")
SAMPLE = {"minor": 200, "major": 200}
INTERVAL_NAMES = ["I", "bII", "II", "bIII", "III", "IV", "#IV", "V", "bVI", "VI", "bVII", "VII"]
SUFFIX = {"": "major", "maj": "major", "major": "major", "ion": "major", "ionian": "major",
          "m": "minor", "min": "minor", "minor": "minor", "aeo": "minor", "aeolian": "minor",
          "dor": "dorian", "dorian": "dorian", "mix": "mixolydian", "mixolydian": "mixolydian",
          "phr": "phrygian", "phrygian": "phrygian", "lyd": "lydian", "lydian": "lydian",
          "loc": "locrian", "locrian": "locrian"}


def parse_label(text: str):
    """An ABC K: field as a Key, or None when it is not a plain tonic + mode."""
    from symphony.music.theory import Key
    m = re.fullmatch(r"([A-G])([#b]?)\s*([A-Za-z]*)", text.strip())
    if not m:
        return None
    suffix = m.group(3)
    mode = "major" if suffix == "M" else SUFFIX.get(suffix.lower())
    return Key(m.group(1) + m.group(2), mode) if mode else None


def abc_tunes(path: str) -> list[dict]:
    """X:, first T: and the K: fields of every tune of an ABC file, in file order."""
    out, cur = [], None
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("X:"):
            cur = {"X": line[2:].strip(), "T": None, "K": []}
            out.append(cur)
        elif cur is not None and re.match(r"[TK]:", line):
            value = line[2:].split("%")[0].strip()
            if line[0] == "T" and cur["T"] is None:
                cur["T"] = value
            elif line[0] == "K":
                cur["K"].append(value)
    return out


def _h(s: str) -> str:
    return hashlib.sha1(s.encode()).hexdigest()


def labelled_tunes() -> tuple[list[dict], dict]:
    """Every readable, uniquely labelled tune of the three collections, de-duplicated."""
    from symphony.training.corpus import builtin_sources, content_hash, parse_source
    from symphony.music.score import Score
    items, seen, info = [], set(), Counter()
    for src in builtin_sources(["oneills", "ryans", "essen"]):
        recs, tunes = parse_source(src), abc_tunes(src.path)
        if len(recs) != len(tunes):
            info["files_not_aligned"] += 1
            continue
        for rec, tune in zip(recs, tunes):
            info["tunes"] += 1
            if "error" in rec:
                info["not_parsed"] += 1
                continue
            if (rec["title"] or "").strip() != (tune["T"] or "").strip():
                info["title_differs"] += 1  # counted; order pairing is still used (encoding noise)
            if len(set(tune["K"])) != 1:
                info["key_changes_or_no_K"] += 1
                continue
            collection = src.name.split("/")[0]
            if src.name.startswith("essen/han"):
                collection = "essen-han"
            label = parse_label(tune["K"][0])
            if label is None:
                info["label_unreadable"] += 1
                continue
            h = content_hash(rec)
            if h in seen:
                info["duplicate"] += 1
                continue
            seen.add(h)
            items.append({"id": rec["id"], "collection": collection, "label_raw": tune["K"][0],
                          "label": label, "score": Score.from_dict(rec["score"]), "voices": rec["voices"]})
    return items, dict(info)


def sample(items: list[dict]) -> list[dict]:
    by_class = defaultdict(list)
    for it in items:
        if it["collection"] != "essen-han" and it["label"].mode in CLASSES:
            by_class[it["label"].mode].append(it)
    out = []
    for c in CLASSES:
        xs = sorted(by_class[c], key=lambda it: _h(it["id"]))
        out += xs[:SAMPLE[c]] if c in SAMPLE else xs
    return out


def tuning_half(item: dict) -> bool:
    return int(_h(item["id"])[:8], 16) % 2 == 0


def judge(found, label) -> dict:
    from symphony.music.modes import compatible
    same_tonic = found.tonic_pc == label.tonic_pc
    return {"exact": same_tonic and found.mode == label.mode,
            "compatible": compatible(found, label),
            "third": same_tonic and found.is_minor_like == label.is_minor_like}


def heard(found, label) -> str:
    return f"{INTERVAL_NAMES[(found.tonic_pc - label.tonic_pc) % 12]} {found.mode}"


def evaluate(items: list[dict], with_music21: bool = True) -> list[dict]:
    from symphony.music.modes import analyze_mode, final_note
    from symphony.music.score import analyze_key
    rows = []
    for it in items:
        key, ev = analyze_mode(it["score"])
        row = {"id": it["id"], "collection": it["collection"], "label": str(it["label"]),
               "label_raw": it["label_raw"], "class": it["label"].mode, "tune_half": tuning_half(it),
               "modal": str(key), "modal_heard": heard(key, it["label"]), **{f"modal_{k}": v for k, v in judge(key, it["label"]).items()},
               "final_on_label_tonic": final_note(it["score"]).pitch % 12 == it["label"].tonic_pc,
               "final_trusted": ev["final_trusted"], "best_collection": ev["best_collection"][0]}
        if with_music21:
            m21 = analyze_key(it["score"])
            row.update({"music21": str(m21), "music21_heard": heard(m21, it["label"]),
                        **{f"music21_{k}": v for k, v in judge(m21, it["label"]).items() if k != "compatible"}})
        rows.append(row)
    return rows


def table(rows: list[dict]) -> list[dict]:
    out = []
    for c in CLASSES + ("all",):
        rs = [r for r in rows if c == "all" or r["class"] == c]
        if not rs:
            continue
        n = len(rs)
        mean = lambda k, rr=rs: sum(r[k] for r in rr) / len(rr) if k in rr[0] else None  # noqa: E731
        held = [r for r in rs if not r["tune_half"]]
        out.append({"class": c, "n": n, "n_held_out": len(held),
                    "modal_exact": mean("modal_exact"), "modal_exact_held_out": mean("modal_exact", held) if held else None,
                    "modal_compatible": mean("modal_compatible"), "modal_third": mean("modal_third"),
                    "music21_exact": mean("music21_exact"), "music21_third": mean("music21_third"),
                    "final_on_label_tonic": mean("final_on_label_tonic")})
    return out


def confusions(rows: list[dict], who: str, ok: str) -> dict:
    out = {}
    for c in CLASSES:
        cnt = Counter(r[f"{who}_heard"] for r in rows if r["class"] == c and not r[ok])
        out[c] = cnt.most_common(6)
    return out


def tune(items: list[dict]) -> list[dict]:
    """Grid over the design constants, scored on the tuning half by the mean over label classes of
    exact accuracy (so the 200 major tunes do not outweigh 8 lydian ones)."""
    import symphony.music.modes as M
    half = [it for it in items if tuning_half(it)]
    saved = (M.ABSENT_SHARE, M.ABSENT_PENALTY, M.FINAL_SLACK, M.PREFERENCE)
    prefs = {"major-minor-first": saved[3],
             "dorian-before-minor": ("major", "dorian", "mixolydian", "minor", "lydian", "phrygian", "locrian",
                                     "gong", "yu", "zhi", "shang", "jue")}
    results = []
    try:
        for share, pen, slack, (pname, pref) in itertools.product((0.005, 0.01, 0.02, 0.04), (0.02, 0.05, 0.1),
                                                                  (0.05, 0.15, 1.0), prefs.items()):
            M.ABSENT_SHARE, M.ABSENT_PENALTY, M.FINAL_SLACK, M.PREFERENCE = share, pen, slack, pref
            t = {r["class"]: r["modal_exact"] for r in table(evaluate(half, with_music21=False)) if r["class"] != "all"}
            results.append({"absent_share": share, "absent_penalty": pen, "final_slack": slack, "preference": pname,
                            "balanced_exact": sum(t.values()) / len(t), **t})
    finally:
        M.ABSENT_SHARE, M.ABSENT_PENALTY, M.FINAL_SLACK, M.PREFERENCE = saved
    return sorted(results, key=lambda r: -r["balanced_exact"])


def han_summary(items: list[dict]) -> dict:
    from symphony.music.modes import analyze_mode
    han = [it for it in items if it["collection"] == "essen-han"]
    modes = Counter(analyze_mode(it["score"])[0].mode for it in han)
    return {"n": len(han), "modes": dict(modes.most_common()),
            "pentatonic_share": sum(v for m, v in modes.items() if m in ("gong", "shang", "jue", "zhi", "yu")) / max(len(han), 1)}


def pct(x) -> str:
    return "—" if x is None else f"{x:.0%}"


def write_md(res: dict, path: Path) -> None:
    import symphony.music.modes as M
    L = ["# Modal analysis on labelled real tunes", "",
         f"`{res['command']}` — {res['date']}, {res['machine']}, {res['seconds']:.0f} s in all.",
         "What is measured and how the tunes are chosen: the docstring of `benchmarks/modal_analysis.py`; "
         "the analysis: `symphony/music/modes.py` (pitch collection + final).", "",
         f"Tunes read: {res['corpus']['tunes']}; usable labelled tunes after the exclusions: {res['corpus']['usable']} "
         f"(left out: {', '.join(f'{k} {v}' for k, v in res['corpus'].items() if k not in ('tunes', 'usable', 'title_differs'))}; "
         f"{res['corpus'].get('title_differs', 0)} paired tunes whose cached title differs from the T: field, by "
         "character encoding, were kept). The sample below excludes the Essen Chinese tunes.", "",
         "| label class | n (held out) | modal exact | modal exact, held out | modal compatible | modal third rule | "
         "music21 exact | music21 third rule | final = labelled tonic |",
         "|---|---|---|---|---|---|---|---|---|"]
    for r in res["table"]:
        L.append(f"| {r['class']} | {r['n']} ({r['n_held_out']}) | **{pct(r['modal_exact'])}** | {pct(r['modal_exact_held_out'])} | "
                 f"{pct(r['modal_compatible'])} | {pct(r['modal_third'])} | {pct(r['music21_exact'])} | "
                 f"**{pct(r['music21_third'])}** | {pct(r['final_on_label_tonic'])} |")
    bal = res["balanced"]
    L += ["", f"Mean over the six label classes: modal exact **{bal['modal_exact']:.0%}**, modal third rule "
              f"{bal['modal_third']:.0%}, music21 third rule **{bal['music21_third']:.0%}** (music21 exact "
              f"{bal['music21_exact']:.0%}: it cannot name a church mode).", "",
          "*exact*: tonic and mode equal the label; *compatible*: same tonic, one scale inside the other "
          "(a pentatonic answer under a seven-note label); *third rule*: same tonic and third (dorian ~ minor), "
          "the rule the modes benchmark applies to music21; *final*: the tune's last (lowest-voice) note is the "
          "labelled tonic, the ceiling of a final-based tonic.", "",
          "## Confusions (what was named instead, as the degree of the labelled tonic)", "",
          "| label class | modal analysis (not exact) | music21 (third rule failed) |", "|---|---|---|"]
    for c in CLASSES:
        a = ", ".join(f"{k} ×{v}" for k, v in res["confusions"]["modal"].get(c, []))
        b = ", ".join(f"{k} ×{v}" for k, v in res["confusions"]["music21"].get(c, []))
        L.append(f"| {c} | {a or '—'} | {b or '—'} |")
    h = res["han"]
    L += ["", f"Essen Chinese (han) tunes, no usable label (the K: field is a key signature): {h['n']} tunes, "
              f"analysed as pentatonic {h['pentatonic_share']:.0%}; modes named: "
              + ", ".join(f"{m} {v}" for m, v in h["modes"].items()) + ".", "",
          "## Design choices (tuned on the tuning half only)", "",
          f"Constants in use: ABSENT_SHARE = {M.ABSENT_SHARE}, ABSENT_PENALTY = {M.ABSENT_PENALTY}, "
          f"FINAL_SLACK = {M.FINAL_SLACK}, PREFERENCE = {', '.join(M.PREFERENCE)}.",
          "Chosen with `--tune` on the tuning half (sha1(id) even) by the mean over label classes of exact "
          "accuracy; the held-out column above is the other half. Never tuned on generated pieces. "
          "Fixed by theory, not tuned: duration weighting, the final as the tonic (top part; lowest voice "
          "in multi-part music), the 12 scales of symphony.theory.",
          "What the grid showed (best balanced exact accuracy for each value, the other constants free): "
          + "; ".join(f"{name} " + ", ".join(f"{v} {best:.1%}" for v, best in vals.items())
                      for name, vals in res.get("tuning_marginals", {}).items()) + ". "
          "The tie-break order matters (major/minor before the church modes beats dorian before minor, because "
          "hexatonic minor tunes without a sixth are mostly labelled minor), so it was kept; FINAL_SLACK changes "
          "nothing on these tunes (the final always lies inside a well-fitting collection), nor does ABSENT_SHARE "
          "at small values. ABSENT_PENALTY 0.02 beats 0.05 by three major-labelled "
          "tunes out of 100 (it sends fewer gapped major tunes to gong); 0.05 was kept anyway because it sets the "
          "pentatonic/heptatonic boundary (a sixth tone under 5% of the duration stays ornamental, as the "
          "auxiliary tones 偏音 of a pentatonic mode) and these labels contain no pentatonic tune to tune that "
          "boundary on.", ""]
    if res.get("tuning"):
        L += ["Top of the grid (tuning half):", "",
              "| absent share | absent penalty | final slack | tie-break order | balanced exact | "
              + " | ".join(CLASSES) + " |", "|---|---|---|---|---|" + "---|" * len(CLASSES)]
        for t in res["tuning"][:8]:
            L.append(f"| {t['absent_share']} | {t['absent_penalty']} | {t['final_slack']} | {t['preference']} | "
                     f"{t['balanced_exact']:.1%} | " + " | ".join(pct(t.get(c)) for c in CLASSES) + " |")
        L += [""]
    L += ["## Caveats", "",
          "- Labels are editors' K: fields. A plain K:G is a key signature, so the major class holds tunes that "
          "are really E minor, A dorian or D mixolydian; its 'errors' are partly label noise. Hexatonic tunes "
          "lacking the sixth fit dorian and aeolian equally and are decided by the tie-break prior.",
          "- Minor-labelled tunes named dorian (the largest confusion) use the sixth degree rarely; where they "
          "use it, the raised sixth outweighs the flat one that the key signature implies (melodic or "
          "dorian-inflected minor). The third rule, which the modes benchmark applies to music21, counts them "
          "right.",
          "- A final-based tonic is only as good as the final: tunes that end away from their tonic (circular "
          "reels, Essen songs ending on the third: the major class's III phrygian) are named after their last note (see the final column).",
          "- On generated pieces (benchmarks/controls.py bench_modes) the sampler is asked to end on the "
          "requested final (`end_on_tonic`) and holds the notes to the mode's scale (pitch mask), so the *tonic* "
          "is close to trivially right there. The *mode* is not: a piece that never sounds its mode's "
          "characteristic degree (the sixth of dorian, the flat second of phrygian, the raised fourth of lydian, "
          "the flat seventh of mixolydian) fits major or minor equally and is named by the tie-break prior. It "
          "measures whether the written file carries the mode's collection and final, not whether a listener "
          "hears the mode."]
    path.write_text("\n".join(L) + "\n")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tune", action="store_true", help="print the design grid on the tuning half and stop")
    ap.add_argument("--out", default=str(HERE / "modal_analysis"), help="output path without suffix")
    args = ap.parse_args(argv)
    t0 = time.time()
    items, info = labelled_tunes()
    chosen = sample(items)
    if args.tune:
        for r in tune(chosen)[:15]:
            print(json.dumps(r))
        return
    from benchmarks.run import machine
    rows = evaluate(chosen)
    tab = table(rows)
    cls = [r for r in tab if r["class"] != "all"]
    res = {"command": ".venv/bin/python -m benchmarks.modal_analysis" + (" " + " ".join(argv or sys.argv[1:])).rstrip(),
           "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
           "corpus": {**info, "usable": len(items)}, "table": tab,
           "balanced": {k: sum(r[k] for r in cls) / len(cls) for k in ("modal_exact", "modal_third", "music21_exact", "music21_third")},
           "confusions": {"modal": confusions(rows, "modal", "modal_exact"),
                          "music21": confusions(rows, "music21", "music21_third")},
           "han": han_summary(items)}
    grid = tune(chosen)  # the grid the constants were chosen from (tuning half only)
    res["tuning"] = grid[:10]
    res["tuning_marginals"] = {name: {v: max(g["balanced_exact"] for g in grid if g[name] == v)
                                      for v in dict.fromkeys(g[name] for g in grid)}
                               for name in ("absent_share", "absent_penalty", "final_slack", "preference")}
    res["seconds"] = time.time() - t0
    res["rows"] = rows
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps(res, indent=1, default=str))
    write_md(res, out.with_suffix(".md"))
    for r in tab:
        print(r)


if __name__ == "__main__":
    main()
