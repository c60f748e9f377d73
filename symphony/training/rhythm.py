"""The shipped rhythm tables rebuilt from the corpus: the style's note lengths (decoding.rhythm)
and its bar rhythms (decoding.bar_rhythm). ``python -m symphony.training.rhythm``."""
from __future__ import annotations

import argparse
import json

from symphony.decoding import bar_rhythm
from symphony.decoding.rhythm import RHYTHM_VOCAB, VOCAB_MIN_SHARE, build
from symphony.training.corpus import builtin_sources, load_corpus


def main(argv=None) -> None:
    """python -m symphony.training.rhythm [--bars]: rebuild the shipped rhythm tables from the corpus
    cache (--bars: the bar rhythms alone)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bars", action="store_true", help="rebuild only the bar rhythms (bar_rhythms.json)")
    bars_only = ap.parse_args(argv).bars
    records = load_corpus(builtin_sources())
    if not bars_only:
        _note_lengths(records)
    bars = bar_rhythm.build(records)
    bar_rhythm.BAR_RHYTHMS.write_text(json.dumps(bars, separators=(",", ":")))
    for style, meters in bars["styles"].items():
        print(f"{style} bar rhythms: " + ", ".join(
            f"{m} ({e['tunes']} tunes, {len(e['inner'])}/{len(e['cadence'])}/{len(e['final'])})" for m, e in meters.items()))


def _note_lengths(records: list[dict]) -> None:
    table = build(records)
    RHYTHM_VOCAB.write_text(json.dumps(table, separators=(",", ":")))
    for style, e in table["styles"].items():
        v = sorted(int(d) for d, s in e["all"].items() if s >= VOCAB_MIN_SHARE)
        print(f"{style}: {e['notes']} notes, vocabulary {v} ticks; meters "
              + ", ".join(f"{m} ({x['notes']})" for m, x in e["meters"].items()))


if __name__ == "__main__":
    main()
