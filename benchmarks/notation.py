"""Notation benchmark (issue 16): is the MusicXML that Symphony writes what a musician expects?

Every figure is read from the written MusicXML itself (ElementTree over the file, no music21
model in between), per note head:

* needless accidentals: a printed accidental where the key signature and the earlier notes of the
  bar on the same staff, letter and octave already give that alteration (courtesy signs count as
  needless), or on a note tied from the note before;
* missing accidentals: an alteration that differs from what those give, with no sign printed
  (notes tied from the note before excepted);
* misspelled: a pitch class of the key's scale written on another letter, or a minor key's raised
  6th or 7th written on a letter other than the 6th or 7th (the key is the written signature and
  mode);
* hiding the beat: written notes and rests that ``symphony.formats.notation.hiding_beat`` flags (a rest
  crossing a beat without starting and ending on beats or crossing the middle of a 4/4 bar, a
  half rest in 6/8, an off-beat note across the middle of 4/4 or across a dotted beat), per note
  head; first bars shorter than the meter are read as pickups.

Kept from the user's score (issue 16 item 2), per real piece written back by Symphony, read
with music21 from both files:

* pickups kept: real pieces whose first bar is shorter than the meter, written with a first bar
  of the same length (and none invented for a piece without one);
* fermatas kept: notes with a fermata in the source found in the written file at the same part,
  offset and pitch;
* user bar numbers kept: bars of a MusicXML source (which prints its own numbers; ABC has none)
  whose number is on a written bar starting at the same offset (a bar split at a repeat or a line,
  4 and 4a, counts as two);
* meter changes kept: time signatures of the source that change the meter (a 3/4 bar among 2/4
  bars) found in the written file at the same offset with the same meter; one written where the
  source has none counts against;
* repeat signs, double bars, endings kept: the source's barlines other than plain ones (repeat
  signs, double and final bars, at their bar's offset and side) and its 1st/2nd ending brackets,
  found the same in the written file; one written where the source has none counts against;
* bars outside an edited range unchanged: ``edit infill --bars 3-4`` (the user's bar numbers)
  with the shipped model, on the pieces whose bars 3-4 are whole bars of the meter (a bar split
  in two, 4 and 4a, is one): stored bars
  outside the range whose notes (pitch, onset, duration, spelling, fermata) are all unchanged,
  and whether the bars regenerated are the ones the source prints as 3 and 4.

Three sets: >= 100 generated pieces (all four styles, moods, forms, modes and meters) written by
``write_musicxml``; >= 30 real pieces from music21's corpus (Bach chorales, Essen and O'Neill's
ABC, Ryan's Mammoth; Han songs with meter changes, reels with 1st and 2nd endings) read by ``from_music21`` and written the same way; and the same real pieces
written directly by music21 (the reference for beat-hiding).

    python -m benchmarks.notation            # full run: benchmarks/notation.md, included in RESULTS.md
    python -m benchmarks.notation --quick    # 12 generated + 6 real, prints only
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

from symphony.formats.notation import hiding_beat, key_letters
from symphony.music.theory import PITCH_CLASS, Key

HERE = Path(__file__).resolve().parent
MODES_M21 = ("major", "minor", "dorian", "phrygian", "lydian", "mixolydian", "locrian")
FIGURES = ("notes", "needless", "missing", "misspelled", "hiding")


def _key(fifths: int, mode: str) -> Key:
    from music21 import key as m21key
    mode = mode if mode in MODES_M21 else ("minor" if mode == "aeolian" else "major")
    k = m21key.KeySignature(fifths).asKey(mode)
    return Key(k.tonic.name.replace("-", "b"), mode)


def analyse_musicxml(path: str | os.PathLike) -> dict:
    """Counts of FIGURES in one uncompressed MusicXML file (and lists of examples)."""
    root = ET.parse(str(path)).getroot()
    out = {f: 0 for f in FIGURES}
    out["examples"] = []
    for part in root.iter("part"):
        divisions, fifths, mode, num, den = 1, 0, "major", 4, 4
        for mi, measure in enumerate(part.iter("measure")):
            events = []  # (onset, order, kind, data)
            pos, last_onset = Fraction(0), Fraction(0)
            for el in measure:
                if el.tag == "attributes":
                    if el.find("divisions") is not None:
                        divisions = int(float(el.findtext("divisions")))
                    k = el.find("key")
                    if k is not None and k.find("fifths") is not None:
                        fifths = int(k.findtext("fifths"))
                        mode = (k.findtext("mode") or "major").strip().lower()
                    t = el.find("time")
                    if t is not None and t.find("beats") is not None:
                        try:
                            num, den = int(t.findtext("beats")), int(t.findtext("beat-type"))
                        except ValueError:  # additive meters such as 3+2/8
                            pass
                elif el.tag == "backup":
                    pos -= Fraction(int(el.findtext("duration")), divisions)
                elif el.tag == "forward":
                    pos += Fraction(int(el.findtext("duration")), divisions)
                elif el.tag == "note":
                    if el.find("grace") is not None or el.find("cue") is not None:
                        continue
                    dur = Fraction(int(el.findtext("duration") or 0), divisions)
                    chord = el.find("chord") is not None
                    onset = last_onset if chord else pos
                    if not chord:
                        pos += dur
                        last_onset = onset
                    events.append((onset, len(events), el, dur, chord))
            length = max([o + d for o, _, _, d, _ in events] + [pos, Fraction(0)])
            bar = Fraction(4 * num, den)
            shift = bar - length if mi == 0 and 0 < length < bar else Fraction(0)
            key = _key(fifths, mode)
            degrees = key_letters(key)
            sig = dict(degrees)
            scale = {(PITCH_CLASS[lt] + a) % 12: lt for lt, a in degrees}
            raised = {}
            if key.is_minor_like:
                for semis, deg in ((9, 5), (11, 6)):
                    pc = (key.tonic_pc + semis) % 12
                    if pc not in scale:
                        raised[pc] = degrees[deg][0]
            state: dict[tuple, int] = {}
            for onset, _, el, dur, chord in sorted(events, key=lambda e: (e[0], e[1])):
                rest = el.find("rest") is not None
                if not chord and not (rest and (el.find("rest").get("measure") == "yes"
                                                 or (onset == 0 and dur >= length))):
                    if hiding_beat(onset + shift, dur, num, den, rest):
                        out["hiding"] += 1
                        if len(out["examples"]) < 12:
                            out["examples"].append(f"m{measure.get('number')} hides beat: "
                                                   f"{'rest' if rest else 'note'} at {onset + shift} "
                                                   f"for {dur} in {num}/{den}")
                if rest:
                    continue
                p = el.find("pitch")
                if p is None:  # unpitched
                    continue
                step, octave = p.findtext("step"), int(p.findtext("octave"))
                alter = round(float(p.findtext("alter") or 0))
                staff = el.findtext("staff") or "1"
                ties = {t.get("type") for t in el.findall("tie")}
                tied_in = "stop" in ties
                shown = el.find("accidental") is not None
                out["notes"] += 1
                where = (staff, step, octave)
                expected = state.get(where, sig.get(step, 0))
                required = alter != expected and not tied_in
                if not (tied_in and onset == 0):
                    state[where] = alter
                if shown and not required:
                    out["needless"] += 1
                    if len(out["examples"]) < 12:
                        out["examples"].append(f"m{measure.get('number')} needless sign on {step}{alter:+d} octave {octave}")
                if required and not shown:
                    out["missing"] += 1
                    if len(out["examples"]) < 12:
                        out["examples"].append(f"m{measure.get('number')} missing sign on {step}{alter:+d} octave {octave}")
                pc = (PITCH_CLASS[step] + alter) % 12
                want = scale.get(pc) or raised.get(pc)
                if want is not None and want != step:
                    out["misspelled"] += 1
                    if len(out["examples"]) < 12:
                        out["examples"].append(f"m{measure.get('number')} {step}{alter:+d} in {key}")
    return out


# ----------------------------------------------------------------------------- the pieces

STYLES = ("chinese", "german", "celtic", "chorale")
EMOTIONS = ("happy", "sad", "calm", "angry", "tender", "triumphant", None)
FORMS = (None, "AABB", "ABA", "AABA", "ABAC")
KEYS = {
    "chinese": ("G zhi", "D yu", "C gong", "A shang", "E jue", "F gong", "Bb zhi", "D shang"),
    "german": ("F major", "D minor", "G major", "E minor", "Bb major", "C minor", "A mixolydian", "D dorian"),
    "celtic": ("D major", "G major", "A dorian", "E minor", "D mixolydian", "B minor", "G mixolydian", "E dorian"),
    "chorale": ("G minor", "A major", "F# minor", "Eb major", "B minor", "F major", "C minor", "E major"),
}
METERS = {"chinese": ("2/4", "4/4", "3/4"), "german": ("3/4", "4/4", "6/8", "2/4"),
          "celtic": ("6/8", "4/4", "9/8", "2/4", "12/8"), "chorale": ("4/4", "3/4")}


def generated_requests(n: int) -> list[dict]:
    reqs = []
    for i in range(n):
        style = STYLES[i % 4]
        r = {"style": style, "seed": 100 + i, "bars": (8, 12, 16)[i % 3]}
        k = i // 4
        if k % 3 != 2:  # two in three name a key (modes included); the rest let the mood choose
            r["key"] = KEYS[style][k % len(KEYS[style])]
        if k % 2 == 0:
            r["meter"] = METERS[style][k % len(METERS[style])]
        emo = EMOTIONS[(i // 2) % len(EMOTIONS)]
        if emo and "key" not in r:
            r["emotion"] = emo
        form = FORMS[k % len(FORMS)]
        if form:
            r["form"] = form
            r["bars"] = 12 if len(form) == 3 else (8, 16)[i % 2]
        reqs.append(r)
    return reqs


REAL = (
    [f"bach/bwv{b}" for b in ("66.6", "10.7", "101.7", "269", "26.6", "248.42-4", "254", "255",
                              "259", "260", "262", "263")]
    + [f"ryansMammoth/{t}" for t in ("AcaciaReel", "AcrobatsHornpipe", "AdmiralsHornpipe",
                                      "AfterTheHareReel", "AlbemarleHornpipe", "7thRegimentReel")]
    + [("essenFolksong/kinder0", k) for k in (1, 2, 3, 4, 5, 6)]
    + [("essenFolksong/han2", k) for k in (1, 2, 3)]
    + [("essenFolksong/altdeu10", k) for k in (1, 2, 3)]
    + [("oneills1850/0001-0050", k) for k in (1, 2, 3, 4, 5, 6, 15, 24)]
    # mixed meters: 3/4, 3/2, 5/4 and 6/4 bars among 2/4 or 3/4 bars, two with a pickup
    + [("essenFolksong/han1", k) for k in (19, 24, 47, 48, 56, 80, 89, 121)]
    # repeats with 1st and 2nd endings
    + [f"ryansMammoth/{t}" for t in ("FireHimOutReel", "AllTheRageReel", "ArmyAndNavyReel")]
)


def _parse_real(ref):
    from music21 import corpus
    if isinstance(ref, tuple):
        return corpus.parse(ref[0], number=ref[1])
    return corpus.parse(ref)


def _add(total: dict, c: dict) -> None:
    for f in FIGURES:
        total[f] = total.get(f, 0) + c[f]


KEPT = ("pickups", "fermatas", "user bar numbers", "meter changes", "repeat signs, double bars, endings",
        "bars outside an edited range", "edited bars where the user has them")


def _measures(s):
    from music21 import stream
    return list(s.parts[0].getElementsByClass(stream.Measure))


def _pickup_of(s) -> float:
    ms = _measures(s)
    if not ms:
        return 0.0
    ts = ms[0].timeSignature or ms[0].getContextByClass("TimeSignature")
    first = float(ms[0].duration.quarterLength)
    return first if ts is not None and first < float(ts.barDuration.quarterLength) - 1e-6 else 0.0


def _fermatas(s) -> set:
    out = set()
    for i, p in enumerate(s.parts):
        for n in p.stripTies().flatten().notes:
            if any(type(e).__name__ == "Fermata" for e in n.expressions):
                out |= {(i, round(float(n.offset), 4), x.midi) for x in n.pitches}
    return out


def _numbers(s) -> set:
    return {(f"{m.number}{m.numberSuffix or ''}", round(float(m.offset), 4)) for m in _measures(s)}


def _meter_changes(s) -> set:
    """(offset, meter) of every time signature after the first that changes the meter."""
    out, current = set(), None
    for m in _measures(s):
        ts = m.timeSignature
        if ts is not None and ts.ratioString != current:
            if current is not None:
                out.add((round(float(m.offset), 4), ts.ratioString))
            current = ts.ratioString
    return out


def _barlines(s) -> set:
    """Every barline other than a plain one (offset of its bar, side, kind) and every ending
    bracket (offsets of its first and last bar, number), as symphony.formats.markings reads them;
    the final barline at the end is not counted."""
    from symphony.formats.markings import read_barlines
    ms = _measures(s)
    at = [round(float(m.offset), 4) for m in ms]
    barlines, endings = read_barlines(ms)
    end = [len(ms) - 1, "right", "final"]  # the final barline every engraver writes at the end
    return ({(at[i], side, kind) for i, side, kind in barlines or [] if [i, side, kind] != end}
            | {(at[a], at[z], number) for a, z, number in endings or []})


def kept_from_source(parsed, written_path, numbered: bool) -> dict:
    """[kept, of] for pickups, fermatas, meter changes, repeat signs, double bars and endings
    and (``numbered``: a MusicXML source) bar numbers. A pickup, meter change or barline written
    where the source has none counts against."""
    from music21 import converter
    back = converter.parse(str(written_path))
    src_pickup, our_pickup = _pickup_of(parsed), _pickup_of(back)
    fs, fo = _fermatas(parsed), _fermatas(back)
    ms, mo = _meter_changes(parsed), _meter_changes(back)
    bs, bo = _barlines(parsed), _barlines(back)
    out = {"pickups": [int(bool(src_pickup) and abs(src_pickup - our_pickup) < 1e-6), int(bool(src_pickup))],
           "fermatas": [len(fs & fo), len(fs)],
           "meter changes": [len(ms & mo), len(ms | mo)],
           "repeat signs, double bars, endings": [len(bs & bo), len(bs | bo)]}
    if not src_pickup and our_pickup:
        out["pickups"][1] += 1  # an invented pickup counts against
    if numbered:
        ns = _numbers(parsed)
        out["user bar numbers"] = [len(ns & _numbers(back)), len(ns)]
    return out


def kept_through_infill(score, engine, bars: str = "3-4") -> dict | None:
    """[unchanged, of] stored bars outside the user's ``bars`` after infilling them, and whether
    the regenerated bars are where the source prints those numbers; None when the range is not
    made of whole bars of the meter."""
    from symphony.errors import RequestError
    from symphony.music.analysis import bar_starts
    from symphony.tasks.infill import infill, user_bar_range
    try:
        first, last = user_bar_range(score, bars)
        out = infill(score, bars, seed=1, engine=engine)
    except RequestError:
        return None
    starts = bar_starts(score)

    def bar_notes(s, b):
        return sorted((n.pitch, round(n.onset, 4), round(n.duration, 4), n.spelling, n.fermata)
                      for p in s.parts for n in p.notes if starts[b] - 1e-6 <= n.onset < starts[b + 1] - 1e-6)
    outside = [b for b in range(len(starts) - 1) if not first - 1 <= b <= last - 1]
    same = sum(bar_notes(out, b) == bar_notes(score, b) for b in outside)
    lo, hi = (int(x) for x in bars.split("-"))
    printed = score.printed_numbers()  # bar 4 split as 4 and 4a ends at 4a
    where = [printed[first - 1], printed[last - 1].rstrip("abcdefgh")] == [str(lo), str(hi)]
    return {"bars outside an edited range": [same, len(outside)],
            "edited bars where the user has them": [int(where), 1]}


def run(n_generated: int = 100, real=REAL, verbose: bool = True) -> dict:
    from symphony.formats.musicxml import from_music21, write_musicxml
    from symphony.tasks.api import generate

    from symphony.tasks.engine import Engine
    engine = Engine.load()
    rows: dict[str, dict] = {}
    kept: dict[str, list[int]] = {k: [0, 0] for k in KEPT}
    examples: dict[str, list] = {}
    failures: dict[str, list] = {}
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.time()
        for i, req in enumerate(generated_requests(n_generated)):
            name = f"generated/{req['style']}"
            try:
                score = generate(**req)
                path = Path(tmp) / f"g{i}.musicxml"
                write_musicxml(score, path)
                c = analyse_musicxml(path)
            except Exception as e:  # a request the generator refuses is reported, not fatal
                failures.setdefault(name, []).append(f"{req}: {type(e).__name__}: {e}")
                continue
            for row in (name, "generated (all)"):
                rows.setdefault(row, {"pieces": 0})
                rows[row]["pieces"] += 1
                _add(rows[row], c)
            examples.setdefault(name, []).extend(c["examples"][:2])
        times["generated"] = time.time() - t0
        t0 = time.time()
        for i, ref in enumerate(real):
            label = ref if isinstance(ref, str) else f"{ref[0]}#{ref[1]}"
            group = label.split("/")[0]
            try:
                parsed = _parse_real(ref)
                direct = Path(tmp) / f"r{i}-direct.musicxml"
                parsed.write("musicxml", fp=str(direct))
                cd = analyse_musicxml(direct)
                score = from_music21(parsed)
                ours = Path(tmp) / f"r{i}.musicxml"
                write_musicxml(score, ours)
                cs = analyse_musicxml(ours)
                k = kept_from_source(parsed, ours, numbered=group == "bach")
                k.update(kept_through_infill(score, engine) or {})
            except Exception as e:  # corpus pieces Symphony cannot represent are reported
                failures.setdefault(group, []).append(f"{label}: {type(e).__name__}: {e}")
                continue
            for name, (a, b) in k.items():
                kept[name][0] += a
                kept[name][1] += b
            for row, c in ((f"real via Symphony/{group}", cs), ("real via Symphony (all)", cs),
                           ("real, music21 direct (all)", cd)):
                rows.setdefault(row, {"pieces": 0})
                rows[row]["pieces"] += 1
                _add(rows[row], c)
            examples.setdefault(group, []).extend(cs["examples"][:2])
        times["real"] = time.time() - t0
    return {"rows": rows, "kept": kept, "examples": examples, "failures": failures, "times": times}


def table(result: dict) -> str:
    lines = ["| set | pieces | notes | needless acc. | missing acc. | misspelled | hiding the beat |",
             "|---|---|---|---|---|---|---|"]
    for name, r in sorted(result["rows"].items()):
        n = max(1, r["notes"])
        lines.append(f"| {name} | {r['pieces']} | {r['notes']} | "
                     + " | ".join(f"{r[f]} ({100 * r[f] / n:.2f}%)"
                                  for f in ("needless", "missing", "misspelled", "hiding")) + " |")
    return "\n".join(lines)


def kept_table(result: dict) -> str:
    lines = ["| kept from the user's score | kept | of | share |", "|---|---|---|---|"]
    for name, (a, b) in result["kept"].items():
        lines.append(f"| {name} | {a} | {b} | {100 * a / b:.1f}% |" if b else f"| {name} | 0 | 0 | - |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=100, help="generated pieces (default 100)")
    ap.add_argument("--quick", action="store_true", help="12 generated and 6 real pieces, nothing written")
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args(argv)
    real = REAL[:1] + REAL[12:14] + REAL[18:19] + REAL[-2:] if args.quick else REAL
    n = 12 if args.quick else args.n
    t0 = time.time()
    result = run(n, real)
    text = table(result) + "\n\n" + kept_table(result)
    print(text)
    for k, v in result["failures"].items():
        print(f"failed ({k}): {len(v)}; first: {v[0][:200]}")
    for k, v in result["examples"].items():
        if v:
            print(f"examples ({k}): {'; '.join(v[:4])}")
    if args.quick or args.no_write:
        return 0
    cpu = platform.processor() or platform.machine()
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    fails = "; ".join(f"{k}: {len(v)} failed ({v[0][:120]})" for k, v in result["failures"].items()) or "none"
    section = (f"# Notation (issue 16): accidentals, spelling, beats, read from the written MusicXML\n\n"
               f"*Measured {stamp} on {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
               f"{platform.system()}; `python -m benchmarks.notation -n {n}` ({time.time() - t0:.0f} s).*\n\n"
               f"Definitions in `benchmarks/notation.py`; rates are per note head. Targets: needless and "
               f"missing accidentals 0, misspelled <= 0.5%, hiding the beat <= the real pieces' rate "
               f"(music21 direct). Pieces that could not be made or read: {fails}.\n\n{text}\n")
    (HERE / "notation.md").write_text(section, encoding="utf-8")  # RESULTS.md includes it
    (HERE / "notation.json").write_text(json.dumps({"measured": stamp, "command": f"python -m benchmarks.notation -n {n}",
                                                    "rows": result["rows"], "kept": result["kept"]}, indent=1) + "\n")
    from benchmarks.report import write_results_md
    write_results_md(json.loads((HERE / "results.json").read_text()), HERE / "RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
