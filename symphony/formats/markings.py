"""Markings written into the MusicXML besides the notes: the dynamic a mood sets, and repeat
signs (with first and second endings) for the sections of a form plan that repeat exactly, and
the user's own repeat signs, double barlines and endings, read from their file and written back.

A form like AABB is written as a fiddler reads it, ``|: A :|: B :|``: the second A and the second
B are not written out but repeated. When a repeat differs from its section only in its last bar
(a different cadence), that bar is written twice, under a 1st and a 2nd ending. The MIDI and the
WAV play the piece written out; the MusicXML read back has the written bars (as any file with
repeat signs: Symphony does not expand repeats of the files it reads).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

from symphony.formats.notation import cut_measure
from symphony.formats.staves import is_voice
from symphony.music.score import Part, Score

# velocity (Symphony's moods give 60 ... 110) -> the dynamic printed at bar 1
DYNAMICS = [(50, "pp"), (64, "p"), (76, "mp"), (92, "mf"), (106, "f"), (128, "ff")]


def dynamic_for(velocity: float) -> str:
    """The dynamic mark for a MIDI velocity: 80 (Symphony's neutral mood) is mf."""
    return next(mark for limit, mark in DYNAMICS if velocity < limit)


def fermatas_in_every_voice(score: Score) -> list[Part]:
    """The parts of a score where a choir's voices without any fermata of their own (the alto,
    tenor and bass a harmonizer wrote under a Bach melody: tasks.common.record_edit) hold with
    the voices that have one: their note sounding when a fermata note starts (the chord under the
    fermata) gets a fermata too. Other parts, and voices with fermatas of their own, are as they
    are; the notes are copies. Not applied to a user's own file, whose markings are kept exactly."""
    starts = sorted({round(n.onset, 6) for p in score.parts for n in p.notes if n.fermata})
    if not starts:
        return score.parts
    out = []
    for p in score.parts:
        if not is_voice(p.name) or any(n.fermata for n in p.notes):
            out.append(p)
            continue
        notes = [replace(n, fermata=True) if any(n.onset - 1e-6 <= o < n.end - 1e-6 for o in starts) else n
                 for n in p.notes]
        out.append(replace(p, notes=notes))
    return out


@dataclass
class Repeat:
    """Bars first..last (1-based, inclusive) are played twice; with ending_bars = k > 0 the
    last k bars are a 1st ending and the k bars after the repeat, second..second+k-1, the 2nd
    ending (bars of the written-out score)."""
    first: int
    last: int
    ending_bars: int = 0

    @property
    def copy(self) -> range:
        """The bars of the written-out score that are not written."""
        n = self.last - self.first + 1
        return range(self.last + 1, self.last + 1 + n - self.ending_bars)


def _bar_content(score: Score, bar: int, length: float | None = None):
    """Everything written in a bar (1-based), or in its first ``length`` quarters: each part's
    notes relative to the bar, their fermatas, whether they tie in or out, and the chord symbols."""
    q = score.bar_quarters
    a = (bar - 1) * q
    z = a + (q if length is None else length)
    parts = []
    for p in score.parts:
        notes = sorted((n.pitch, round(max(n.onset, a) - a, 4), round(min(n.end, z) - max(n.onset, a), 4),
                        n.fermata, n.onset < a - 1e-6, n.end > z + 1e-6)
                       for n in p.notes if n.onset < z - 1e-6 and n.end > a + 1e-6)
        parts.append(tuple(notes))
    chords = tuple(sorted((round(o - a, 4), c) for o, c in score.chords if a - 1e-6 <= o < z - 1e-6))
    return tuple(parts), chords


def _ties_across(score: Score, bar_end: int) -> bool:
    """Does a note sound across the bar line after bar bar_end (1-based)?"""
    t = bar_end * score.bar_quarters
    return any(n.onset < t - 1e-6 < n.end - 2e-6 for p in score.parts for n in p.notes)


def repeats(score: Score) -> list[Repeat]:
    """The repeats to write for score.meta['form']'s sections: a section followed by the same
    label (not primed) of the same length whose bars are all the same is a repeat; if only the
    last bar differs, that bar becomes the 1st and 2nd endings. No repeats for pieces with bars
    of several meters, or where a note is tied across a section's bar lines.

    After a pickup the sections' bars (printed numbers) are the stored bars a bar later, each
    section is approached by the upbeat at the end of the bar before it, and a section's last
    bar is compared up to where that upbeat starts (the last time, the piece ends there)."""
    form = (score.meta or {}).get("form") or {}
    sections = form.get("sections") or []
    if score.bar_meters or len(sections) < 2:
        return []
    shift = 1 if score.pickup else 0
    head = score.bar_quarters - score.pickup if score.pickup else None
    out: list[Repeat] = []
    i = 0
    while i + 1 < len(sections):
        s, t = sections[i], sections[i + 1]
        (a1, z1), (a2, z2) = ([b + shift for b in x["bars"]] for x in (s, t))
        n = z1 - a1 + 1
        if (s["label"] != t["label"] or "'" in t["label"] or a2 != z1 + 1 or z2 - a2 + 1 != n
                or z2 > score.bars or (not shift and any(_ties_across(score, b) for b in (a1 - 1, z1, z2) if b > 0))):
            i += 1
            continue
        same = [_bar_content(score, a1 + k, head if k == n - 1 else None)
                == _bar_content(score, a2 + k, head if k == n - 1 else None) for k in range(n)]
        if all(same):
            out.append(Repeat(a1, z1))
            i += 2
        elif not shift and n > 1 and all(same[:-1]) and not _ties_across(score, z1 - 1) \
                and not _ties_across(score, z2 - 1):
            out.append(Repeat(a1, z1, ending_bars=1))
            i += 2
        else:
            i += 1
    return out


def apply_repeats(parts, plan: list[Repeat], upbeat_at: Fraction = Fraction(0)) -> None:
    """Write the repeats into music21 parts made into measures (numbered 1... as the written-out
    score): repeat barlines, 1st/2nd ending brackets, the repeated copies removed and the
    measures renumbered. ``upbeat_at``: where in a bar the upbeat of a piece with a pickup
    starts (0: no pickup); see ``_repeats_after_upbeat``."""
    from music21 import bar, spanner, stream
    if not plan:
        return
    if upbeat_at:
        _repeats_after_upbeat(parts, plan, upbeat_at)
        return
    drop = {b for r in plan for b in r.copy}
    for p in parts:
        measures = {k + 1: m for k, m in enumerate(p.getElementsByClass(stream.Measure))}
        for r in plan:
            measures[r.first].leftBarline = bar.Repeat(direction="start")
            end = measures[r.last]
            end.rightBarline = bar.Repeat(direction="end")
            if r.ending_bars:
                first = [measures[b] for b in range(r.last - r.ending_bars + 1, r.last + 1)]
                second = [measures[b] for b in range(r.copy.stop, r.copy.stop + r.ending_bars)]
                p.insert(0, spanner.RepeatBracket(first, number=1))
                p.insert(0, spanner.RepeatBracket(second, number=2))
        shift = 0.0
        for k, m in enumerate(list(p.getElementsByClass(stream.Measure))):
            if k + 1 in drop:
                shift += m.duration.quarterLength
                p.remove(m)
            elif shift:
                p.coreSetElementOffset(m, m.offset - shift)
        p.coreElementsChanged()
        for k, m in enumerate(p.getElementsByClass(stream.Measure)):
            m.number = k + 1


def _repeats_after_upbeat(parts, plan: list[Repeat], upbeat_at: Fraction) -> None:
    """Repeats of a piece with a pickup, as a fiddler's edition writes them: the last bar of a
    repeated section is cut where the upbeat to the next section starts (``|: 0 | 1 | 2 :|`` with
    bar 2 short), the upbeat after it is a short bar of its own (2a) where the next repeat starts,
    ``|: 2a | 3 | 4 :|``, and the piece's last, short bar ends the last repeat. The first
    section's repeat starts before the pickup bar. The copies are removed."""
    from music21 import bar, stream
    for p in parts:
        measures = {k + 1: m for k, m in enumerate(p.getElementsByClass(stream.Measure))}
        total = len(measures)
        # a bar of a removed copy ends with the same upbeat as the bar it copies
        original = {b: b - (r.last - r.first + 1) for r in plan for b in r.copy}
        before = {r.first: original.get(r.first - 1, r.first - 1) for r in plan}  # the bar whose end leads in
        upbeats = {}  # bar -> the measure holding the upbeat cut from its end
        for b in sorted({r.last for r in plan} | {b for b in before.values() if b > 1}):
            m = measures[b]
            upbeats[b] = cut_measure(m, upbeat_at)
            p.insert(m.offset + upbeat_at, upbeats[b])
        drop = [measures[b] for r in plan for b in r.copy]
        drop += [upbeats[r.last] for r in plan if r.copy.stop > total]  # nothing follows: no upbeat
        for r in plan:
            lead_in = measures[1] if before[r.first] <= 1 else upbeats[before[r.first]]
            lead_in.leftBarline = bar.Repeat(direction="start")
            measures[r.last].rightBarline = bar.Repeat(direction="end")
        for m in drop:
            p.remove(m)
        offset = Fraction(0)
        for m in sorted(p.getElementsByClass(stream.Measure), key=lambda m: m.offset):
            p.coreSetElementOffset(m, offset)
            offset += Fraction(m.duration.quarterLength).limit_denominator(96)
        p.coreElementsChanged()


# ----------------------------------------------------------------------------- the user's barlines

def read_barlines(measures) -> tuple[list[list] | None, list[list] | None]:
    """(Score.barlines, Score.endings) of a music21 part's measures (their index is the stored
    bar): every barline other than a plain one, as "repeat-start", "repeat-end" or its style
    ("double", "final", "heavy" ...), and every 1st/2nd ending bracket as [first bar, last bar,
    its number]."""
    from music21 import bar, spanner
    barlines, endings = [], []
    index = {id(m): i for i, m in enumerate(measures)}
    for i, m in enumerate(measures):
        for side, line in (("left", m.leftBarline), ("right", m.rightBarline)):
            if isinstance(line, bar.Repeat):
                barlines.append([i, side, f"repeat-{line.direction}"])
            elif line is not None and line.type not in ("regular", "normal", "none"):
                barlines.append([i, side, line.type])
    brackets = {id(rb): rb for m in measures for rb in m.getSpannerSites() if isinstance(rb, spanner.RepeatBracket)}
    for rb in brackets.values():
        spanned = sorted(index[id(m)] for m in rb.getSpannedElements() if id(m) in index)
        if spanned and rb.number:
            endings.append([spanned[0], spanned[-1], str(rb.number)])
    return barlines or None, sorted(endings) or None


def write_barlines(staffs, score: Score) -> None:
    """Write the user's barlines and endings (``read_barlines``) on music21 parts made into
    measures, one measure a stored bar (the pickup bar and the halves of a split bar each one);
    nothing where the measures are not the stored bars."""
    from music21 import bar, spanner, stream
    if not score.barlines and not score.endings:
        return
    for p in staffs:
        measures = list(p.getElementsByClass(stream.Measure))
        for i, side, kind in score.barlines or []:
            if i >= len(measures):
                continue
            line = (bar.Repeat(direction=kind[7:]) if kind.startswith("repeat-") else bar.Barline(kind))
            setattr(measures[i], f"{side}Barline", line)
        for a, z, number in score.endings or []:
            if z < len(measures):
                p.insert(0, spanner.RepeatBracket(measures[a:z + 1], number=number))


def keep_barlines(score: Score, source: Score) -> None:
    """An edit that keeps the source's bars keeps its barlines and endings; a continued piece
    loses the final barline at the source's old last bar (bars follow it now)."""
    if score.barlines is None and source.barlines:
        last = len(source.printed_numbers()) - 1
        grew = len(score.printed_numbers()) - 1 > last
        score.barlines = [list(b) for b in source.barlines
                          if not (grew and b[0] == last and b[2] in ("final", "light-heavy"))] or None
    if score.endings is None and source.endings:
        score.endings = [list(e) for e in source.endings]
