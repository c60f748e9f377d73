"""The shipped table of real tunes' keys, meters and lengths (music.attributes) rebuilt from the
corpus: ``symphony data attributes`` or ``python -m symphony.training.attributes``."""
from __future__ import annotations

import json

from symphony.music.attributes import ATTRIBUTE_TABLE, build
from symphony.training.corpus import builtin_sources, load_corpus


def rebuild(records: list[dict] | None = None, log=print) -> dict:
    """Count the training split's attributes per style and write ATTRIBUTE_TABLE."""
    table = build(load_corpus(builtin_sources(), user=False) if records is None else records)
    tmp = ATTRIBUTE_TABLE.with_suffix(".tmp")
    tmp.write_text(json.dumps(table, ensure_ascii=False, indent=1) + "\n")
    tmp.replace(ATTRIBUTE_TABLE)
    for style, e in table["styles"].items():
        top = lambda c: ", ".join(f"{k} {n}" for k, n in list(c.items())[:3])  # noqa: E731
        log(f"{style}: {e['tunes']} tunes; keys {top(e['keys'])}; meters {top(e['meters'])}")
    return table


def main(argv=None) -> None:
    rebuild()


if __name__ == "__main__":
    main()
