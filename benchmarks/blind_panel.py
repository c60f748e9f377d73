"""A blind reading panel (DESIGN.md "Measures"): pairs of one real piece and one of ours with the
same style, key, meter and length, engraved through one neutral path, for readers who act as
experienced musicians and say which is human-composed and why.

    python -m benchmarks.blind_panel --kind folk --pairs 18 --seed 1 -o panel/folk
    python -m benchmarks.blind_panel --kind chorale --pairs 8 --seed 1 -o panel/chorale
    python -m benchmarks.blind_panel --grade panel/folk answers.json   # share of pairs read right

The real pieces are whole tunes from the held-out (test) split of the corpus; ours are composed
for the same style, key, meter and bars (``--kind chorale``: a generated chorale, or, for every
other pair, Bach's own melody harmonized by us). Both are written by the same code with no title,
part names, tempo or dynamics (notes with their spellings and fermatas, clefs, key and time
signatures, pickups, repeat signs and endings), engraved by verovio
and converted to PNG; the order in each pair is shuffled. ``key.json`` says which is real; the
readers never see it.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

FOLK = ("celtic", "chinese", "german")
NEUTRAL_CLEFS = {1: ("treble",), 4: ("treble", "treble", "treble8vb", "bass")}  # by number of parts


def _real_pieces(style: str, rng: random.Random, want: int, voices: int, max_bars: int) -> list:
    """Held-out real pieces of a style, read afresh from the corpus files by today's reader: the
    training cache may predate the reading of spellings, pickups and fermatas, and a real piece
    taken from it came out misspelled (Bach's D#-E#-F# tenor as Eb, a C# as Db against the bass's
    C#) with its upbeat as a bar of rests, which readers then blamed on the program."""
    from symphony.music.score import Score
    from symphony.training.corpus import builtin_sources, parse_source, split_of
    sources = [s for s in builtin_sources() if s.style == style]
    rng.shuffle(sources)
    out = []
    for src in sources:
        for rec in parse_source(src, cached=False):
            if "score" not in rec or split_of(rec["id"]) != "test":
                continue
            s = Score.from_dict(rec["score"])
            if len(s.parts) != voices or s.bar_meters or not 6 <= s.bars <= max_bars:
                continue
            out.append((rec["id"], s))
        if len(out) >= 3 * want:
            break
    rng.shuffle(out)
    return out[:want]


def _neutral(score):
    """The score stripped of everything but the notes and the signatures."""
    from dataclasses import replace

    from symphony.music.score import Part
    # one instrument for both, and the same clefs for both pieces of a pair: a melody in the treble
    # clef, four voices in treble, treble, octave-treble and bass (left to itself the engraver picks a
    # clef by name or range, which told a reader which piece was ours: Bach's tenor came in the bass
    # clef, ours in the octave-treble)
    # (fermatas stay: the real pieces are read afresh with theirs, and ours have them at cadences)
    clefs = NEUTRAL_CLEFS.get(len(score.parts), ("",) * len(score.parts))
    parts = [Part(list(p.notes), "", 0, clef=c) for p, c in zip(score.parts, clefs)]
    # the notation stays, by the same code for both: pickups, spellings, fermatas, repeat signs and
    # endings (the real tune's own, ours from its form plan); words and names go
    form = {"form": score.meta["form"]} if score.meta and "form" in score.meta else {}
    return replace(score, parts=parts, title="", source=None, composer="", dynamic=None, meta=form,
                   chords=[], explanation=[], provenance=None)


def engrave_png(score, path: Path) -> None:
    """MusicXML (no title, names, tempo) -> verovio SVG on one tall page -> PNG."""
    import cairosvg
    import verovio
    from music21 import dynamics, instrument, tempo
    from symphony.formats.musicxml import to_music21
    s = to_music21(_neutral(score))
    s.metadata.title = ""
    s.metadata.composer = ""
    for p in s.parts:
        p.partName, p.partAbbreviation = "", ""
        for el in list(p.recurse().getElementsByClass((tempo.MetronomeMark, dynamics.Dynamic))):
            el.activeSite.remove(el)
        for inst in p.recurse().getElementsByClass(instrument.Instrument):
            inst.partName = inst.partAbbreviation = inst.instrumentName = inst.instrumentAbbreviation = ""
    xml = path.with_suffix(".musicxml")
    s.write("musicxml", fp=str(xml))
    tk = verovio.toolkit()
    tk.setOptions({"pageHeight": 60000, "adjustPageHeight": True, "scale": 45, "header": "none",
                   "footer": "none", "breaks": "auto"})
    tk.loadFile(str(xml))
    svg = tk.renderToSVG(1)
    cairosvg.svg2png(bytestring=svg.encode(), write_to=str(path), background_color="white", output_width=1400)
    xml.unlink()


def build(kind: str, pairs: int, seed: int, out: Path, checkpoint=None) -> dict:
    from dataclasses import replace

    from symphony.tasks.api import HarmonizeRequest, Options, run
    from symphony.tasks.engine import Engine
    from symphony.music.attributes import sounding_bars
    from symphony.music.score import Part
    engine = Engine.load(checkpoint)
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    key: dict[str, dict] = {}
    plan = [FOLK[i % len(FOLK)] for i in range(pairs)] if kind == "folk" else ["chorale"] * pairs
    pools = {st: _real_pieces(st, rng, plan.count(st), 4 if st == "chorale" else 1, 24 if st == "chorale" else 32)
             for st in set(plan)}
    for i, style in enumerate(plan):
        rid, real = pools[style].pop()
        if kind == "chorale" and i % 2 == 1:  # Bach's melody, harmonized by us
            # the melody as Bach's file writes it: its spellings, fermatas and upbeat
            sop = replace(real, parts=[Part(list(real.parts[0].notes), "Soprano")])
            ours = run(HarmonizeRequest(sop, "satb", "chorale", 0, seed + i), engine).score
            how = "Bach's melody harmonized by Symphony"
        else:
            # the real tune's length as a musician counts it (a pickup bar is not a bar), as --bars asks
            bars = sounding_bars({"score": real.to_dict(), "meter": str(real.meter)})
            ours = run(Options(style=style, key=str(real.key), meter=str(real.meter), bars=bars,
                               seed=seed * 1000 + i), engine).score
            how = "generated"
        name = f"pair-{i + 1:02d}"
        real_first = rng.random() < 0.5
        for label, score in zip("AB", (real, ours) if real_first else (ours, real)):
            engrave_png(score, out / f"{name}-{label}.png")
        key[name] = {"real": "A" if real_first else "B", "style": style, "real_id": rid, "ours": how,
                     "key": str(real.key), "meter": str(real.meter), "bars": real.bars}
        print(f"{name}: {style} {real.key} {real.meter} {real.bars} bars", file=sys.stderr)
    (out / "key.json").write_text(json.dumps(key, indent=2))
    return key


def grade(folder: Path, answers_file: Path) -> dict:
    """answers.json: {"pair-01": {"human": "A", "why": "..."}, ...} -> share read right."""
    key = json.loads((folder / "key.json").read_text())
    answers = json.loads(answers_file.read_text())
    right = [answers[p]["human"].strip().upper() == key[p]["real"] for p in key if p in answers]
    by_style: dict[str, list[bool]] = {}
    for p in key:
        if p in answers:
            by_style.setdefault(key[p]["style"], []).append(answers[p]["human"].strip().upper() == key[p]["real"])
    return {"pairs": len(right), "right": sum(right), "share_right": sum(right) / max(1, len(right)),
            "by_style": {s: f"{sum(v)}/{len(v)}" for s, v in by_style.items()}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kind", choices=["folk", "chorale"], default="folk")
    ap.add_argument("--pairs", type=int, default=18)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-o", "--out", type=Path, default=Path("panel"))
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--grade", nargs=2, type=Path, metavar=("FOLDER", "ANSWERS"))
    args = ap.parse_args()
    if args.grade:
        print(json.dumps(grade(*args.grade), indent=2))
        return
    build(args.kind, args.pairs, args.seed, args.out, args.checkpoint)


if __name__ == "__main__":
    main()
