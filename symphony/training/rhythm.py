"""The shipped rhythm table (decoding.rhythm) rebuilt from the corpus:
``python -m symphony.training.rhythm``."""
from __future__ import annotations

import json

from symphony.decoding.rhythm import RHYTHM_VOCAB, VOCAB_MIN_SHARE, build
from symphony.training.corpus import builtin_sources, load_corpus


def main(argv=None) -> None:
    """python -m symphony.training.rhythm: rebuild the shipped rhythm table from the corpus cache."""
    table = build(load_corpus(builtin_sources()))
    RHYTHM_VOCAB.write_text(json.dumps(table, separators=(",", ":")))
    for style, e in table["styles"].items():
        v = sorted(int(d) for d, s in e["all"].items() if s >= VOCAB_MIN_SHARE)
        print(f"{style}: {e['notes']} notes, vocabulary {v} ticks; meters "
              + ", ".join(f"{m} ({x['notes']})" for m, x in e["meters"].items()))


if __name__ == "__main__":
    main()
