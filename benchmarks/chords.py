"""Issue 18 item 2's measure: chords for a melody (``edit harmonize --as chords``,
``symphony.music.chordplan``) next to real harmony, through the same code.

Per piece, on the melody (the top part) and a list of chord spans:

* **beat chord tones**: share of melody notes struck on a beat of the bars as written that are
  tones of the chord sounding there (``symphony.music.harmony.chord_tone_rate``, DESIGN.md's
  chord-control measure).
* **phrase ends with a cadence**: at every phrase end (Bach's fermatas; in folk tunes the
  ends ``chordplan.phrase_ends`` finds, the same for the real chords and ours) the chord there
  and the last different chord before it form a cadence: authentic (a major or dominant-seventh
  chord a fifth above, or a diminished one a semitone below, to a triad in root position),
  plagal (a fourth above, to the tonic), deceptive (a dominant up a step to a minor triad), or
  half (a major triad on the dominant of the key, of its relative or of its dominant).
* **strong-beat chord tones**: the same, among notes on the strong beats only (the bar line, and
  the half bar of a four-beat bar: beats 1 and 3 of 4/4; weak beats may carry passing notes).
* **chord changes per bar**: spans whose chord differs from the one before, per bar.
* **time** to harmonize 16 bars: the whole ``harmonize(score, "chords")`` call (plan, voicing,
  Roman-numeral analysis), for the held-out chorales of 16 bars or more, in a process that has
  harmonized once before (music21's modules imported).

The real harmony: Bach's four-part chorales reduced to a chord per beat
(``symphony.music.harmony.label_chords``: the pitch classes of all four voices, the bass
helping to pick the root; equal neighbours merged), and the chord symbols written in the few
tunes of music21's corpus that have any (the Nottingham Music Database sample and the lead
sheets). Pieces: 30 held-out Bach chorales (``benchmarks.fourpart.heldout_chorales``), their
sopranos harmonized with their fermatas; 30 German songs, 30 Han Chinese songs and 30 Irish and
Scottish dance tunes of the corpus cache's test split (ours only: those tunes carry no chords).

    python -m benchmarks.chords                 # writes benchmarks/chords.json
    python -m benchmarks.chords --n 5
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

EPS = 1e-6
LEAD_SHEETS = ("nottingham-dataset/reelsa-c.abc", "leadSheet/fosterBrownHair.mxl",
               "leadSheet/berlinAlexandersRagtime.mxl")


def _quality(chord) -> str:
    rel = {(p - chord.root_pc) % 12 for p in chord.pcs}
    if {4, 7} <= rel:
        return "dom7" if 10 in rel else "maj"
    if {3, 7} <= rel:
        return "min"
    return "dim" if {3, 6} <= rel else "other"


def cadence(prev, cad, key) -> str | None:
    """The kind of cadence ``prev -> cad`` makes in ``key`` (module doc), None when it is none."""
    if prev is None or prev.pcs == cad.pcs:
        return None
    qp, qc = _quality(prev), _quality(cad)
    up = (prev.root_pc - cad.root_pc) % 12
    root_pos = cad.bass_pc == cad.root_pc
    if qc in ("maj", "min") and root_pos:
        if qp in ("maj", "dom7") and up == 7 or qp == "dim" and up == 11:
            return "authentic"
        if up == 5 and qp in ("maj", "min") and cad.root_pc == key.tonic_pc:
            return "plagal"
    if qp in ("maj", "dom7") and qc == "min" and (cad.root_pc - prev.root_pc) % 12 in (1, 2):
        return "deceptive"
    rel = (cad.root_pc - key.tonic_pc) % 12
    if qc == "maj" and root_pos and rel in ({7, 2, 4} if not key.is_minor_like else {7, 2, 10}):
        return "half"
    return None


def chord_before(spans, t: float):
    """(chord sounding at t, the last different chord before it)."""
    here = next((s for s in spans if s.onset - EPS <= t < s.end - EPS), None)
    if here is None:
        return None, None
    prev = next((s.chord for s in reversed(spans) if s.onset < here.onset - EPS and s.chord.pcs != here.chord.pcs),
                None)
    return here.chord, prev


def strong_beat_rate(melody, spans, layout) -> tuple[int, int]:
    """(chord tones, notes) among melody notes struck on a strong beat: the bar line, and the
    half bar of a four-beat bar (beats 1 and 3 of 4/4, 1 of 2/4 and 3/4, 1 of 6/8)."""
    from symphony.music.harmony import chord_at
    strong = set()
    for start, length, beat in layout:
        n_beats = max(1, round(length / beat))
        strong |= {round(start, 4)} | ({round(start + 2 * beat, 4)} if n_beats == 4 else set())
    hits = [chord_at(spans, n.onset).contains(n.pitch) for n in melody
            if round(n.onset, 4) in strong and chord_at(spans, n.onset) is not None]
    return sum(hits), len(hits)


def measure(melody, spans, score, layout, ends: list[float]) -> dict:
    from symphony.music.harmony import chord_tone_rate
    hit, total = chord_tone_rate(melody, spans, score.meter, layout)
    s_hit, s_total = strong_beat_rate(melody, spans, layout)
    kinds = []
    for e in ends:
        here, prev = chord_before(spans, e)
        kinds.append(cadence(prev, here, score.key) if here is not None else None)
    changes = sum(1 for a, b in zip(spans, spans[1:]) if a.chord.pcs != b.chord.pcs or a.chord.bass_pc != b.chord.bass_pc)
    return {"beat_notes": total, "chord_tones": hit, "strong_notes": s_total, "strong_chord_tones": s_hit,
            "phrase_ends": len(ends),
            "cadences": sum(k is not None for k in kinds), "kinds": kinds,
            "changes_per_bar": (changes + 1) / max(1, len(layout))}


def merged(spans):
    from symphony.music.harmony import ChordSpan
    out = []
    for s in spans:
        if out and out[-1].chord.pcs == s.chord.pcs and out[-1].chord.bass_pc == s.chord.bass_pc \
                and abs(out[-1].end - s.onset) < EPS:
            out[-1] = ChordSpan(out[-1].chord, out[-1].onset, s.end - out[-1].onset)
        else:
            out.append(s)
    return out


def ours(score, melody, ends=None):
    from symphony.music.chordplan import plan_chords
    from symphony.tasks.edit import bar_layout
    return plan_chords(melody, score.key, score.meter, bar_layout(score), ends).spans()


def bach_rows(n: int) -> tuple[list[dict], list[dict], list[float]]:
    from benchmarks.fourpart import heldout_chorales, melody_of
    from symphony.music.harmony import label_chords
    from symphony.tasks.edit import bar_layout, harmonize
    real, mine, seconds = [], [], []
    chorales = heldout_chorales(n)
    if chorales:  # warm: music21's Roman-numeral modules are imported by the first call
        harmonize(melody_of(chorales[0][1], chorales[0][2]), "chords")
    for name, s, ferm in chorales:
        layout = bar_layout(s)
        ends = sorted({a for a, _ in ferm})
        sop = sorted(s.parts[0].notes, key=lambda x: x.onset)
        real.append({"piece": name, **measure(sop, merged(label_chords(s)), s, layout, ends)})
        mel = melody_of(s, ferm)
        mine.append({"piece": name, **measure(sop, ours(s, mel.parts[0].notes), s, layout, ends)})
        if layout[-1][0] >= 15 * layout[-1][1] - EPS:  # 16 bars or more: the 16-bar timing
            t0 = time.perf_counter()
            harmonize(mel, "chords")
            seconds.append(time.perf_counter() - t0)
    return real, mine, seconds


def lead_sheet_rows() -> tuple[list[dict], list[dict]]:
    """Real tunes with chord symbols in music21's corpus: their chords and ours, at the phrase
    ends chordplan finds in the melody."""
    from music21 import converter, harmony

    from symphony.formats.musicxml import from_music21
    from symphony.music.chordplan import phrase_ends
    from symphony.music.harmony import Chord, ChordSpan
    from symphony.tasks.edit import bar_layout
    from symphony.training.corpus import _corpus_root
    real, mine = [], []
    for rel in LEAD_SHEETS:
        parsed = converter.parse(str(_corpus_root() / rel))
        for k, m in enumerate(parsed.scores if hasattr(parsed, "scores") else [parsed]):
            s = from_music21(m)
            m0 = m.parts[0] if m.parts else m
            notes = [el for el in m0.flatten().notes if not isinstance(el, harmony.ChordSymbol)]
            syms = [el for el in m0.flatten().getElementsByClass(harmony.ChordSymbol) if el.pitches]
            if not syms or not s.parts or not s.parts[0].notes:
                continue
            shift = s.parts[0].notes[0].onset - float(notes[0].offset)
            layout = bar_layout(s)
            end = max(x.end for x in s.parts[0].notes)
            onsets = [float(c.offset) + shift for c in syms] + [end]
            spans = [ChordSpan(Chord(c.figure, c.root().pitchClass, frozenset(p.pitchClass for p in c.pitches),
                                     c.bass().pitchClass), a, b - a)
                     for c, a, b in zip(syms, onsets, onsets[1:]) if b > a]
            melody = sorted(s.parts[0].notes, key=lambda x: x.onset)
            ends = phrase_ends(melody, layout, s.key)
            real.append({"piece": f"{rel}#{k}", **measure(melody, merged(spans), s, layout, ends)})
            mine.append({"piece": f"{rel}#{k}", **measure(melody, ours(s, melody), s, layout, ends)})
    return real, mine


def folk_rows(style: str, n: int) -> list[dict]:
    from benchmarks.melody_craft import real_scores
    from symphony.music.chordplan import phrase_ends
    from symphony.tasks.edit import bar_layout
    rows = []
    for i, s in enumerate(real_scores(style, n)):
        melody = sorted(s.parts[0].notes, key=lambda x: x.onset)
        if len(melody) < 8 or any(b.onset < a.end - EPS for a, b in zip(melody, melody[1:])):
            continue
        layout = bar_layout(s)
        rows.append({"piece": f"{style}-{i}", **measure(melody, ours(s, melody), s, layout,
                                                         phrase_ends(melody, layout, s.key))})
    return rows


def summary(rows: list[dict]) -> dict:
    beat = sum(r["beat_notes"] for r in rows)
    ends = sum(r["phrase_ends"] for r in rows)
    kinds: dict[str, int] = {}
    for r in rows:
        for k in r["kinds"]:
            kinds[str(k)] = kinds.get(str(k), 0) + 1
    strong = sum(r["strong_notes"] for r in rows)
    return {"pieces": len(rows), "beat_chord_tones": round(sum(r["chord_tones"] for r in rows) / max(1, beat), 4),
            "strong_beat_chord_tones": round(sum(r["strong_chord_tones"] for r in rows) / max(1, strong), 4),
            "phrase_end_cadences": round(sum(r["cadences"] for r in rows) / max(1, ends), 4),
            "changes_per_bar": round(sum(r["changes_per_bar"] for r in rows) / max(1, len(rows)), 3),
            "cadence_kinds": kinds}


def run(n: int = 30) -> dict:
    real, mine, seconds = bach_rows(n)
    ls_real, ls_mine = lead_sheet_rows()
    out = {"bach": {"real": summary(real), "ours": summary(mine)},
           "lead_sheets": {"real": summary(ls_real), "ours": summary(ls_mine)},
           "german": {"ours": summary(folk_rows("german", n))},
           "chinese": {"ours": summary(folk_rows("chinese", n))},
           "celtic": {"ours": summary(folk_rows("celtic", n))},
           "seconds_16_bars": {"pieces": len(seconds), "mean": round(sum(seconds) / max(1, len(seconds)), 4),
                               "median": round(statistics.median(seconds), 4) if seconds else 0.0,
                               "max": round(max(seconds, default=0.0), 4)},
           "rows": {"bach_real": real, "bach_ours": mine, "lead_real": ls_real, "lead_ours": ls_mine}}
    return out


def table(res: dict) -> str:
    lines = ["| group | chords | pieces | notes on beats that are chord tones | on strong beats | "
             "phrase ends with a cadence | chord changes per bar |", "|---|---|---|---|---|---|---|"]
    for group in ("bach", "lead_sheets", "german", "chinese", "celtic"):
        for who, s in res[group].items():
            lines.append(f"| {group} | {who} | {s['pieces']} | {s['beat_chord_tones']:.1%} | "
                         f"{s['strong_beat_chord_tones']:.1%} | "
                         f"{s['phrase_end_cadences']:.1%} | {s['changes_per_bar']:.2f} |")
    t = res["seconds_16_bars"]
    lines.append(f"\nharmonize --as chords, 16 bars or more ({t['pieces']} chorales): "
                 f"{t['mean']:.3f} s mean, {t['median']:.3f} s median, {t['max']:.3f} s max")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--out", default=str(Path(__file__).with_name("chords.json")))
    a = ap.parse_args(argv)
    res = run(a.n)
    Path(a.out).write_text(json.dumps(res, indent=1))
    print(table(res))


if __name__ == "__main__":
    main()
