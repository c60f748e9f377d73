"""Issue 18's four-part harmony measure (DESIGN.md "Measures": Four-part harmony), per beat, with
Bach's own chorales through the same code as the reference:

* **complete chords**: share of beats (the meter's beats, from the first to the last onset of
  the piece) whose sounding pitch classes, all voices together, are exactly a triad (major,
  minor, diminished, augmented) or a seventh chord (dominant, major, minor, half-diminished,
  diminished). Incomplete chords (a third alone, a seventh without its fifth) do not count, nor
  do beats where every voice is silent (a breath); the share among sounding beats is given too.
* **mid-phrase rests** per piece: gaps inside a voice's line (after its first note, before its
  last) while the music goes on: no moment of the gap has all four voices silent, and the gap
  does not start within a beat after a fermata note (phrase end) ends.
* **parallel fifths/octaves** per 100 voice-pair steps: ``symphony.evaluation.voiceleading``.
* **final chord**: the sounding pitch classes at the last onset of the piece are a complete
  major or minor triad with its root in the bass.
* **cadences**: share of fermatas (phrase ends; Bach's, read from music21) where the chord on
  the fermata and the chord a beat before form a cadence (the chord before read without the
  soprano when the soprano is a non-chord tone there, or half a beat later when a suspension
  delays it): authentic (a major or dominant-seventh
  chord a fifth above, or a diminished chord a semitone below, resolving to a root-position
  triad), plagal (a fourth above), deceptive (a dominant resolving up a step), or half (a
  root-position major triad on the dominant of the key, of its relative or of its dominant).
* **texture** (what blind readers heard missing, issue 18's panel): *bass steps*, the share of
  the bass's moves (consecutive notes of different pitch, not across a rest) that are a tone or
  a semitone; *inversions*, the share of complete-chord beats whose lowest note is not the root;
  *applied dominants per phrase*, runs of beats whose chord is a major triad, dominant seventh
  or diminished (seventh) chord holding a note outside the key's scale (harmonic and melodic
  minor's raised sixth and seventh count as in the scale) and not rooted on the key's dominant
  or leading tone, followed on the next beat by a chord a fifth below (a semitone above for
  diminished chords), per phrase (fermata); *passing eighths per bar*, notes shorter than a beat
  in alto, tenor and bass entered and left by step; *suspensions per piece*, a note in alto,
  tenor or soprano held or repeated into a beat where it is a fourth, seventh or ninth over the
  bass, resolving down by step before the next beat.
  *Suspensions on the half beat*: the share of those resolving half a beat after the beat they
  are held over (Bach's eighth-note style). *Held over a fermata*, per piece: alto, tenor or bass
  notes that sound on across the end of a fermata note into the next phrase.
* **soprano shape** (issue 18's second panel: generated sopranos circled one cell), the soprano
  cut into phrases at its fermata notes: *distinct pitches per phrase*; *repeated cells*, the
  share of three-note pitch cells that already came earlier in their phrase; *four-note cells
  again*, the share of four-note cells sung earlier anywhere in the piece, not counting a
  repeated stretch (below); *three pitches*, the share of the soprano's notes on its three most
  frequent pitches (a tune circling a cell sits on a few); *in repeats*, the share of its notes
  that repeat an earlier stretch (below); *range* per piece in semitones; *steps*, the share of the soprano's
  moves that are a tone or semitone; *fermata degrees* per piece, distinct scale degrees the
  fermatas before the last stand on; *inner fermatas on the tonic*.
* **repeated melody**: stretches of eight soprano notes or more sung again with the same rhythm at
  the same place in the bar (``repeat_spans``); on the beats of each repeat, the share where alto,
  tenor and bass all sound what they sounded the first time, and where the bass does.
* **time** to harmonize 16 bars (Symphony only; model time for the old sampler, the whole
  harmonizer call for the new one).

Pieces: 30 held-out Bach chorales of the music21 corpus (the corpus' valid and test splits,
``symphony.data.split_of``, without the four in tests/data), their soprano lines harmonized by
``symphony.tasks.edit.harmonize(..., "satb")`` (with the fermatas given, as a score read with
fermatas gives them; and again without them, phrase ends guessed, measured at Bach's fermatas),
and 30 chorales from ``generate --style chorale`` (16 bars, 8 keys).

    python -m benchmarks.fourpart                  # all three groups, writes benchmarks/fourpart.json
    python -m benchmarks.fourpart --n 5 --skip-generated
    python -m benchmarks.fourpart --before --out benchmarks/fourpart_before.json   # the old sampler

Generated chorales carry no fermatas; their phrase ends (for the cadence share) are found in the
soprano by ``symphony.music.fourpart.phrase_ends``' heuristic, the same for before and after.
"""
from __future__ import annotations

import argparse
import collections
import itertools
import json
import time
from pathlib import Path

EPS = 1e-6
TEMPLATES = {
    (0, 4, 7): "maj", (0, 3, 7): "min", (0, 3, 6): "dim", (0, 4, 8): "aug",
    (0, 4, 7, 10): "dom7", (0, 4, 7, 11): "maj7", (0, 3, 7, 10): "min7", (0, 3, 6, 10): "hdim7",
    (0, 3, 6, 9): "dim7",
}
# incomplete shapes used only to name the chords around a cadence (root + third, V7 without 5th)
PARTIAL = {(0, 4): "maj", (0, 3): "min", (0, 4, 10): "dom7"}
TEST_FILES = {"bwv66.6.mxl", "bwv10.7.mxl", "bwv101.7.mxl", "bwv269.mxl"}
GEN_KEYS = ("C major", "G major", "D major", "F major", "A minor", "E minor", "D minor", "G minor")


def chord_name(pcs: set[int], partial: bool = False) -> tuple[int, str] | None:
    """(root pc, quality) when the pitch classes are exactly a triad or seventh chord."""
    for r in sorted(pcs):
        shape = tuple(sorted((p - r) % 12 for p in pcs))
        if shape in TEMPLATES:
            return r, TEMPLATES[shape]
        if partial and shape in PARTIAL:
            return r, PARTIAL[shape]
    return None


def sounding(score, t: float) -> list[int]:
    return [n.pitch for p in score.parts for n in p.notes if n.onset <= t + EPS < n.end]


def beats(score) -> list[float]:
    from symphony.tasks.edit import bar_layout
    notes = score.all_notes()
    first, last = min(n.onset for n in notes), max(n.onset for n in notes)
    layout = bar_layout(score)
    end = max(n.end for n in notes)
    if layout:  # bars past the layout (a sampler's last bar) follow the last bar's meter
        s, length, beat = layout[-1]
        while s + length < end - EPS:
            s += length
            layout.append((s, length, beat))
    out = []
    for start, length, beat in layout:
        k = 0
        while start + k * beat < start + length - EPS:
            t = start + k * beat
            if first - EPS <= t <= last + EPS:
                out.append(t)
            k += 1
    return out


def _cadence(score, f: float, beat: float, key) -> bool:
    here = sounding(score, f)
    before = sounding(score, f - beat)
    if not here or not before:
        return False
    c, p = chord_name({x % 12 for x in here}, True), chord_name({x % 12 for x in before}, True)
    if p is None and len(before) == 4:  # a soprano appoggiatura or suspension over the chord
        p = chord_name({x % 12 for x in before[1:]}, True)
    if p is None:  # a suspension in an inner voice: the chord once it resolves, on the half beat
        p = chord_name({x % 12 for x in sounding(score, f - beat / 2)}, True)
    if c is None or p is None or c[1] not in ("maj", "min") or min(here) % 12 != c[0]:
        return False
    up = (p[0] - c[0]) % 12
    if p[1] in ("maj", "dom7") and up == 7 or p[1] in ("dim", "hdim7") and up == 11:
        return True  # authentic (V-I, vii°-I)
    if p[1] == "dim7" and (c[0] - 1) % 12 in {x % 12 for x in before}:
        return True  # vii°7-I (a diminished seventh chord has no one written root)
    if up == 5 and p[1] in ("maj", "min"):
        return True  # plagal
    if p[1] in ("maj", "dom7") and (c[0] - p[0]) % 12 in (1, 2) and c[1] == "min" or \
            p[1] in ("maj", "dom7") and (c[0] - p[0]) % 12 == 1:
        return True  # deceptive (V-vi, V-VI)
    rel = (c[0] - key.tonic_pc) % 12
    dominants = {7, 2, 4} if not key.is_minor_like else {7, 2, 10}
    return c[1] == "maj" and rel in dominants and p != c  # half cadence


def _scale(key) -> set[int]:
    deg = set(key.degree_semitones())
    if key.is_minor_like:
        deg |= {9, 11}  # melodic and harmonic minor's raised sixth and seventh
    return {(key.tonic_pc + d) % 12 for d in deg}


def _applied(score, bl: list[float], key) -> int:
    """Applied (secondary) dominants: see the module doc."""
    scale = _scale(key)
    names = [chord_name({x % 12 for x in sounding(score, t)}) for t in bl]
    count, prev = 0, False
    for k, c in enumerate(names):
        hit = False
        if c is not None and k + 1 < len(names) and names[k + 1] is not None:
            root, q = c
            pcs = {x % 12 for x in sounding(score, bl[k])}
            rel = (root - key.tonic_pc) % 12
            nxt = names[k + 1][0]
            if q in ("maj", "dom7") and rel != 7 and pcs - scale and (root - nxt) % 12 == 7:
                hit = True
            elif q in ("dim", "dim7", "hdim7") and rel != 11 and pcs - scale and (nxt - root) % 12 == 1:
                hit = True
        count += hit and not prev
        prev = hit
    return count


def texture(score, bl: list[float]) -> dict:
    """Bass steps, inversions, applied dominants, passing eighths and suspensions (module doc)."""
    parts = score.parts[:4]
    beat = score.meter.beat_quarters
    bass = sorted(parts[3].notes, key=lambda n: n.onset)
    moves = [(a, b) for a, b in itertools.pairwise(bass) if a.pitch != b.pitch and b.onset - a.end < EPS]
    steps = sum(1 for a, b in moves if abs(a.pitch - b.pitch) <= 2)
    chords = inv = 0
    for t in bl:
        here = sounding(score, t)
        c = chord_name({x % 12 for x in here}) if here else None
        if c is not None:
            chords += 1
            inv += min(here) % 12 != c[0]
    passing = 0
    for p in parts[1:]:
        ns = sorted(p.notes, key=lambda n: n.onset)
        for a, b, c in zip(ns, ns[1:], ns[2:]):
            if b.duration < beat - EPS and abs(b.onset - a.end) < EPS and abs(c.onset - b.end) < EPS \
                    and 1 <= abs(b.pitch - a.pitch) <= 2 and 1 <= abs(c.pitch - b.pitch) <= 2:
                passing += 1
    sus = sus_half = 0
    for p in parts[:3]:
        ns = sorted(p.notes, key=lambda n: n.onset)
        for t in bl:
            cur = next((n for n in ns if n.onset <= t + EPS < n.end), None)
            if cur is None:
                continue
            prev = next((n for n in ns if abs(n.end - t) < EPS), None)
            held = cur.onset < t - EPS or (prev is not None and abs(cur.onset - t) < EPS and prev.pitch == cur.pitch)
            low = [x for x in sounding(score, t) if x < cur.pitch]
            if not held or not low or (cur.pitch - min(low)) % 12 not in (1, 2, 5, 10, 11):
                continue
            nxt = next((n for n in ns if abs(n.onset - cur.end) < EPS), None)
            if nxt is not None and cur.end < t + beat + EPS and 1 <= cur.pitch - nxt.pitch <= 2:
                sus += 1
                sus_half += abs(cur.end - (t + beat / 2)) < EPS
    return {"bass_moves": len(moves), "bass_steps": steps, "chord_beats": chords, "inversions": inv,
            "applied_dominants": _applied(score, bl, score.key), "passing_eighths": passing, "suspensions": sus,
            "suspensions_half_beat": sus_half}


def soprano_shape(score, fermatas: list[tuple[float, float]]) -> dict:
    """What a reader hears as a chorale tune rather than a circling cell (module doc), counted
    on the soprano cut into phrases at its fermata notes."""
    sop = sorted(score.parts[0].notes, key=lambda n: n.onset)
    ends = sorted(f for f, _ in fermatas)
    phrases, cur = [], []
    for n in sop:
        cur.append(n.pitch)
        if any(abs(n.onset - f) < EPS for f in ends):
            phrases.append(cur)
            cur = []
    if cur:
        phrases.append(cur)
    cells = repeated = distinct = 0
    for ph in phrases:
        cs = list(zip(ph, ph[1:], ph[2:]))
        cells += len(cs)
        repeated += sum(1 for k, c in enumerate(cs) if c in cs[:k])
        distinct += len(set(ph))
    ps = [n.pitch for n in sop]
    # four-note cells sung again anywhere in the piece, outside a repeated phrase (circling)
    copies = {j + x for _, j, k in repeat_spans(score) for x in range(k)}
    cells4 = [tuple(ps[k:k + 4]) for k in range(len(ps) - 3)]
    fresh = [k for k in range(len(cells4)) if not set(range(k, k + 4)) & copies]
    seen, again = set(), 0
    for k in range(len(cells4)):
        again += k in fresh and cells4[k] in seen
        seen.add(cells4[k])
    moves = [abs(b - a) for a, b in itertools.pairwise(ps) if a != b]
    tonic = score.key.tonic_pc
    degrees = [next(n.pitch for n in sop if abs(n.onset - f) < EPS) for f in ends
               if any(abs(n.onset - f) < EPS for n in sop)]
    top3 = sum(c for _, c in collections.Counter(ps).most_common(3))
    return {"notes": len(ps), "top3_notes": top3, "copied_notes": len(copies), "cells4": len(fresh), "cells4_again": again, "phrases": len(phrases), "cells": cells, "repeated_cells": repeated, "distinct_per_phrase_sum": distinct,
            "range": max(ps) - min(ps) if ps else 0, "sop_moves": len(moves),
            "sop_steps": sum(1 for m in moves if m <= 2),
            "fermata_degrees": len({(p - tonic) % 12 for p in degrees[:-1]}),
            "inner_fermatas": max(0, len(degrees) - 1),
            "tonic_fermatas": sum(1 for p in degrees[:-1] if (p - tonic) % 12 == 0)}


def repeat_spans(score, min_notes: int = 8) -> list[tuple[int, int, int]]:
    """(first, again, length) in soprano notes (onset order) of each stretch of ``min_notes``
    notes or more sung again later with the same rhythm at the same place in the bar, the
    longest first from each start."""
    bq = float(score.meter.bar_quarters)
    sop = sorted(score.parts[0].notes, key=lambda n: n.onset)
    seq = [(n.pitch, round(n.duration, 4), round(n.onset % bq, 4)) for n in sop]
    spans, i = [], 0
    while i < len(seq):
        best = (0, None)
        for j in range(i + min_notes, len(seq)):
            k = 0
            while j + k < len(seq) and i + k < j and seq[i + k] == seq[j + k]:
                k += 1
            if k >= min_notes and k > best[0]:
                best = (k, j)
        if best[1] is None:
            i += 1
            continue
        spans.append((i, best[1], best[0]))
        i += best[0]
    return spans


def repeats(score, min_notes: int = 8) -> dict:
    """Beats of a repeated stretch of melody (``repeat_spans``), and of those the beats where
    alto, tenor and bass all sound what they sounded the first time, and where the bass alone
    does."""
    sop = sorted(score.parts[0].notes, key=lambda n: n.onset)
    beat = score.meter.beat_quarters
    out = {"repeat_beats": 0, "repeat_same_lower": 0, "repeat_same_bass": 0}

    def at(part, x):
        return next((n.pitch for n in score.parts[part].notes if n.onset <= x + EPS < n.end), None)
    for i, j, k in repeat_spans(score, min_notes):
        shift = sop[j].onset - sop[i].onset
        t = sop[i].onset
        while t < sop[i + k - 1].end - EPS:
            out["repeat_beats"] += 1
            out["repeat_same_lower"] += all(at(p, t) == at(p, t + shift) for p in (1, 2, 3))
            out["repeat_same_bass"] += at(3, t) == at(3, t + shift)
            t += beat
    return out


def measure(score, fermatas: list[tuple[float, float]] | None = None) -> dict:
    """The four-part harmony counts of one four-voice score; ``fermatas`` = (onset, end) of the
    soprano's fermata notes."""
    from symphony.evaluation.voiceleading import analyze
    fermatas = fermatas or []
    parts = score.parts[:4]
    bl = beats(score)
    complete = sum(1 for t in bl if chord_name({x % 12 for x in sounding(score, t)}) is not None)
    silent = sum(1 for t in bl if not sounding(score, t))
    beat = score.meter.beat_quarters
    rests = 0
    for v, p in enumerate(parts):
        ns = sorted(p.notes, key=lambda n: n.onset)
        for a, b in itertools.pairwise(ns):
            if b.onset - a.end < EPS:
                continue
            g0, g1 = a.end, b.onset
            if any(fe - EPS <= g0 <= fe + beat + EPS for _, fe in fermatas):
                continue
            probes = sorted({g0, g1 - EPS * 10} | {n.end for q in parts for n in q.notes if g0 <= n.end < g1})
            if any(not sounding(score, t + EPS * 2) for t in probes):
                continue  # everybody breathes: a phrase break
            rests += 1
    vl = analyze(score)
    last = max(n.onset for p in parts for n in p.notes)
    fin = sounding(score, last)
    name = chord_name({x % 12 for x in fin}) if fin else None
    final_ok = bool(name and name[1] in ("maj", "min") and min(fin) % 12 == name[0]
                    and len({x % 12 for x in fin}) == 3)
    cad = sum(1 for f, _ in fermatas if _cadence(score, f, beat, score.key))
    # a lower voice holding its note over the end of a fermata into the next phrase
    over = sum(1 for f, fe in fermatas if fe < last for p in parts[1:] for n in p.notes
               if n.onset < fe - EPS and n.end > fe + EPS)
    return {"beats": len(bl), "complete_beats": complete, "silent_beats": silent, "mid_phrase_rests": rests,
            "parallels": vl["parallels"], "transitions": vl["transitions"], "final_ok": final_ok,
            "fermatas": len(fermatas), "cadences": cad, "held_over_fermata": over, "bars": score.bars,
            **texture(score, bl),
            **soprano_shape(score, fermatas), **repeats(score)}


def summarize(rows: list[dict]) -> dict:
    n = max(len(rows), 1)
    tr = sum(r["transitions"] for r in rows)
    out = {"pieces": len(rows),
           "complete_chords_pct": round(100 * sum(r["complete_beats"] for r in rows) / max(sum(r["beats"] for r in rows), 1), 1),
           "complete_of_sounding_beats_pct": round(100 * sum(r["complete_beats"] for r in rows) / max(
               sum(r["beats"] - r["silent_beats"] for r in rows), 1), 1),
           "mid_phrase_rests_per_piece": round(sum(r["mid_phrase_rests"] for r in rows) / n, 2),
           "parallels_per_100": round(100 * sum(r["parallels"] for r in rows) / max(tr, 1), 2),
           "final_chord_pct": round(100 * sum(r["final_ok"] for r in rows) / n, 1)}
    ferm = sum(r["fermatas"] for r in rows)
    if rows and "bass_moves" in rows[0]:
        tot = {k: sum(r[k] for r in rows) for k in ("bass_moves", "bass_steps", "chord_beats", "inversions",
                                                      "applied_dominants", "passing_eighths", "suspensions", "bars")}
        out["bass_steps_pct"] = round(100 * tot["bass_steps"] / max(tot["bass_moves"], 1), 1)
        out["inversions_pct"] = round(100 * tot["inversions"] / max(tot["chord_beats"], 1), 1)
        out["applied_dominants_per_phrase"] = round(tot["applied_dominants"] / max(ferm, 1), 2)
        out["passing_eighths_per_bar"] = round(tot["passing_eighths"] / max(tot["bars"], 1), 2)
        out["suspensions_per_piece"] = round(tot["suspensions"] / n, 2)
        out["suspensions_resolving_on_the_half_beat_pct"] = round(
            100 * sum(r["suspensions_half_beat"] for r in rows) / max(tot["suspensions"], 1), 1)
        out["held_over_fermata_per_piece"] = round(sum(r["held_over_fermata"] for r in rows) / n, 2)
    if rows and "cells" in rows[0]:
        tot = {k: sum(r[k] for r in rows) for k in ("phrases", "cells", "repeated_cells", "distinct_per_phrase_sum",
                                                      "sop_moves", "sop_steps", "fermata_degrees", "inner_fermatas",
                                                      "tonic_fermatas", "repeat_beats", "repeat_same_lower",
                                                      "repeat_same_bass")}
        out["soprano_distinct_per_phrase"] = round(tot["distinct_per_phrase_sum"] / max(tot["phrases"], 1), 2)
        out["soprano_repeated_cells_pct"] = round(100 * tot["repeated_cells"] / max(tot["cells"], 1), 1)
        out["soprano_cells4_again_pct"] = round(100 * sum(r["cells4_again"] for r in rows) /
                                                max(sum(r["cells4"] for r in rows), 1), 1)
        out["soprano_top3_pitches_pct"] = round(100 * sum(r["top3_notes"] for r in rows) /
                                                max(sum(r["notes"] for r in rows), 1), 1)
        out["soprano_in_repeats_pct"] = round(100 * sum(r["copied_notes"] for r in rows) /
                                              max(sum(r["notes"] for r in rows), 1), 1)
        out["soprano_range"] = round(sum(r["range"] for r in rows) / n, 1)
        out["soprano_steps_pct"] = round(100 * tot["sop_steps"] / max(tot["sop_moves"], 1), 1)
        out["fermata_degrees_per_piece"] = round(tot["fermata_degrees"] / n, 2)
        out["inner_fermatas_on_tonic_pct"] = round(100 * tot["tonic_fermatas"] / max(tot["inner_fermatas"], 1), 1)
        out["pieces_with_repeats"] = sum(1 for r in rows if r["repeat_beats"])
        out["repeat_same_lower_pct"] = round(100 * tot["repeat_same_lower"] / tot["repeat_beats"], 1) \
            if tot["repeat_beats"] else None
        out["repeat_same_bass_pct"] = round(100 * tot["repeat_same_bass"] / tot["repeat_beats"], 1) \
            if tot["repeat_beats"] else None
    out["cadences_pct"] = round(100 * sum(r["cadences"] for r in rows) / ferm, 1) if ferm else None
    secs = [r["seconds_per_16_bars"] for r in rows if "seconds_per_16_bars" in r]
    if secs:
        out["seconds_per_16_bars_mean"] = round(sum(secs) / len(secs), 3)
        out["seconds_per_16_bars_max"] = round(max(secs), 3)
    return out


# ----------------------------------------------------------------------------- pieces

def heldout_chorales(n: int = 30) -> list[tuple[str, object, list[tuple[float, float]]]]:
    """(name, Score, soprano fermatas) of held-out four-part Bach chorales."""
    from music21 import converter, expressions

    from symphony.training.corpus import _corpus_root, split_of
    from symphony.formats.musicxml import from_music21
    out = []
    for f in sorted((_corpus_root() / "bach").glob("bwv*.mxl")):
        if len(out) >= n:
            break
        if f.name in TEST_FILES or split_of(f"bach:{f.name}:0") == "train":
            continue
        try:
            m = converter.parse(str(f))
            s = from_music21(m, style="chorale")
        except Exception:  # noqa: BLE001, S112  (music21 raises many error types; such a file is skipped)
            continue
        if len(s.parts) != 4 or len(m.parts) != 4:
            continue
        sop = [el for el in m.parts[0].stripTies().flatten().notes if el.quarterLength > 0]
        if not sop or not s.parts[0].notes:
            continue
        shift = s.parts[0].notes[0].onset - float(sop[0].offset)
        ferm = [(round(float(el.offset) + shift, 6), round(float(el.offset) + shift + float(el.quarterLength), 6))
                for el in sop if any(isinstance(e, expressions.Fermata) for e in el.expressions)]
        if not ferm:
            continue
        out.append((f.name, s, ferm))
    return out


def melody_of(score, fermatas):
    """The soprano alone, its fermata notes marked (``Note.fermata``, as a score read with
    fermatas carries them)."""
    from symphony.music.score import Note, Part, Score
    notes = []
    starts = {round(a, 4) for a, _ in fermatas}
    for n in score.parts[0].notes:
        m = Note(n.pitch, n.onset, n.duration, n.velocity)
        if round(n.onset, 4) in starts:
            m.fermata = True  # the field exists once score.Note carries fermatas; set either way
        notes.append(m)
    return Score([Part(notes, "Soprano")], score.key, score.meter, score.bpm, score.bars, score.title,
                 score.style, {k: v for k, v in (score.meta or {}).items() if k == "bar_meters"})


def run(n: int = 30, generated: bool = True, seed: int = 0, before: bool = False) -> dict:
    from symphony.tasks.edit import bar_layout, harmonize
    chorales = heldout_chorales(n)
    bach, ours = [], []
    for name, s, ferm in chorales:
        r = measure(s, ferm)
        r["piece"] = name
        bach.append(r)
        mel = melody_of(s, ferm)
        t0 = time.perf_counter()
        h = harmonize(mel, "satb", seed=seed)
        secs = time.perf_counter() - t0
        assert [(x.pitch, x.onset, x.duration) for x in h.parts[0].notes] == \
            [(x.pitch, x.onset, x.duration) for x in s.parts[0].notes], f"{name}: melody changed"
        r = measure(h, ferm)
        r["piece"] = name
        r["seconds_per_16_bars"] = round(secs * 16 / max(h.bars, 1), 4)
        r["model_seconds_per_16_bars"] = round(h.provenance["model_seconds"] * 16 / max(h.bars, 1), 4)
        ours.append(r)
        print(f"{name}: bach {bach[-1]['complete_beats']}/{bach[-1]['beats']}  ours {r['complete_beats']}/{r['beats']} "
              f"par {r['parallels']} rests {r['mid_phrase_rests']} final {r['final_ok']} cad {r['cadences']}/{r['fermatas']} "
              f"{secs:.2f}s", flush=True)
    res = {"bach": summarize(bach), "harmonized": summarize(ours), "rows": {"bach": bach, "harmonized": ours}}
    if not before:  # the same melodies without their fermatas (read_score does not carry them yet)
        guessed = []
        for name, s, ferm in chorales:
            mel = melody_of(s, [])
            t0 = time.perf_counter()
            h = harmonize(mel, "satb", seed=seed)
            r = measure(h, ferm)
            r["piece"] = name
            r["seconds_per_16_bars"] = round((time.perf_counter() - t0) * 16 / max(h.bars, 1), 4)
            guessed.append(r)
        res["harmonized_no_fermatas"] = summarize(guessed)
        res["rows"]["harmonized_no_fermatas"] = guessed
    if generated:
        from symphony.tasks.requests import Request
        from symphony.tasks.generate import generate_request
        gen = []
        for i in range(n):
            req = Request(style="chorale", key=GEN_KEYS[i % len(GEN_KEYS)], meter="4/4", tempo=72, bars=16,
                          seed=seed + i, voices=4)
            t0 = time.perf_counter()
            g = generate_request(req)
            secs = time.perf_counter() - t0
            # phrase ends: the soprano's fermatas (a composed chorale tune has them); else found
            # in the soprano by fourpart's heuristic
            from symphony.music.fourpart import phrase_ends
            ends = {x.onset for x in g.parts[0].notes if x.fermata} or \
                set(phrase_ends(g.parts[0].notes, g.meter, bar_layout(g), g.key))
            ferm = [(x.onset, x.end) for x in g.parts[0].notes if x.onset in ends]
            r = measure(g, ferm)
            r["piece"] = f"{req.key} seed {req.seed}"
            r["generate_seconds"] = round(secs, 3)
            gen.append(r)
            print(f"gen {i}: {r['complete_beats']}/{r['beats']} par {r['parallels']} rests {r['mid_phrase_rests']} "
                  f"final {r['final_ok']} {secs:.1f}s", flush=True)
        res["generated"] = summarize(gen)
        res["rows"]["generated"] = gen
    return res


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--skip-generated", action="store_true")
    ap.add_argument("--out", default=str(Path(__file__).with_name("fourpart.json")))
    ap.add_argument("--before", action="store_true",
                    help="Symphony before issue 18: the model's sampler for SATB, generated chorales as sampled")
    a = ap.parse_args(argv)
    if a.before:
        import symphony.tasks.edit
        import symphony.tasks.generate
        symphony.tasks.edit.SATB_METHOD = "model"
        symphony.tasks.generate.REHARMONIZE_CHORALES = False
    res = run(a.n, generated=not a.skip_generated, before=a.before)
    Path(a.out).write_text(json.dumps(res, indent=1))
    for group in ("bach", "harmonized", "harmonized_no_fermatas", "generated"):
        if group in res:
            print(group, res[group])


if __name__ == "__main__":
    main()
