"""Score <-> token sequence: the vocabulary the model reads and writes.

Scheme ``symphony-tokens/1`` (music-theory aware, bar/beat aware):

    BOS Style_<s> Tonic_<pc> Mode_<m> Meter_<n/d> Tempo_<bin> Len_<bin> Voices_<k>     header
    BAR [BarMeter_<n/d>] [Voice_<v>] [Pos_<p>] P_<degree><alteration>_<octave> Dur_<d> ...    body
    EOS

* Pitch is a scale degree (1-7) of the key's seven-note reference scale, a chromatic alteration
  (flat ``b``, natural, sharp ``#``) and an octave counted from the tonic: ``P_5_5`` is the
  dominant in the octave above middle C's tonic, ``P_7#_4`` a raised seventh (the leading note of
  a minor key). The tonic itself is only named once, in the header, so every melody is learned
  relative to its key.
* Time is measured in ticks of ``1/TICKS_PER_QUARTER`` quarter notes. ``BAR`` opens the next bar;
  ``Pos_p`` places the next note ``p`` ticks after the start of the bar and is written only when
  the note does not start where the previous one ended (a rest, a chord, or a new voice), so a
  plain run of notes costs two tokens each. ``Dur_d`` is the note length in ticks.
* ``Voice_v`` switches voice inside a bar (only in pieces with more than one voice).
* ``BarMeter_m`` marks a bar whose meter differs from the header's (mixed-meter folk songs).

Two TokenizerConfig options (saved with each checkpoint, both off by default) write the same
vocabulary differently, for ablations: ``pos_every_note`` writes ``Pos_p`` before every note
(explicit metrical position), ``relative_pitch=False`` spells pitches as degrees of C major
whatever the key (absolute pitch; the header still names the key). ``decode`` reads all of them.

Every sequence decodes to a valid score: out-of-place tokens are skipped, pitches are clipped
to the MIDI range, and the header supplies defaults for anything missing.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from fractions import Fraction

from symphony.errors import StyleError
from symphony.music.score import Note, Part, Score
from symphony.music.styles import STYLES
from symphony.music.theory import (
    BAR_METERS,
    HEPTATONIC,
    MODES,
    SHARP_NAMES,
    SUPPORTED_METERS,
    Key,
    Meter,
    bar_meter_quarters,
    meter_for_quarters,
    parse_meter,
)

TOKENS_VERSION = "symphony-tokens/1"
TICKS_PER_QUARTER = 24
MAX_BAR_TICKS = 8 * TICKS_PER_QUARTER  # longest supported bar (a 4/2 bar)
MAX_DUR_TICKS = 16 * TICKS_PER_QUARTER  # a longa (final notes of chorales and motets)
# Every tick length up to a 4/2 bar, then whole quarter notes up to MAX_DUR_TICKS.
DUR_VALUES = tuple(range(1, MAX_BAR_TICKS + 1)) + tuple(
    range(MAX_BAR_TICKS + TICKS_PER_QUARTER, MAX_DUR_TICKS + 1, TICKS_PER_QUARTER))
_DUR_INDEX = {d: i for i, d in enumerate(DUR_VALUES)}
N_OCTAVES = 11
MAX_VOICES = 8
TEMPO_EDGES = (50, 60, 70, 80, 90, 100, 110, 120, 135, 150, 170)  # bpm bin upper edges
LEN_EDGES = (4, 8, 12, 16, 24, 32, 48, 64, 96, 128)  # bars bin upper edges
ALTERATIONS = {-1: "b", 0: "", 1: "#"}
PITCHES_PER_OCTAVE = 7 * len(ALTERATIONS)  # pitch tokens per octave: degree x alteration
MAX_HOLE_BARS = 16  # longest infilled passage in one Hole (longer ones are filled in steps)
SPECIALS = ("PAD", "BOS", "EOS", "BAR")
_C_MAJOR = Key("C", "major")


def _pitch_names() -> list[str]:
    return [f"P_{d}{a}_{o}" for o in range(N_OCTAVES) for d in range(1, 8) for a in ALTERATIONS.values()]


@dataclass
class TokenizerConfig:
    """Saved in every checkpoint; fields missing from an older checkpoint take these defaults.
    The options change how scores are written with the same vocabulary (for ablations)."""
    styles: list[str] = field(default_factory=lambda: list(STYLES))
    version: str = TOKENS_VERSION
    pos_every_note: bool = False  # write Pos_p before every note (explicit metrical position)
    relative_pitch: bool = True  # False: degrees of C major whatever the key (absolute pitch)
    infill: bool = False  # append the infilling tokens Hole_<n> and Fill (symphony/infill.py)


class Tokenizer:
    """Vocabulary and encode/decode. Build it from a TokenizerConfig (saved in checkpoints)."""

    def __init__(self, config: TokenizerConfig | None = None):
        self.config = config or TokenizerConfig()
        if self.config.version != TOKENS_VERSION:
            raise ValueError(f"token scheme {self.config.version!r} is not {TOKENS_VERSION!r}")
        names = list(SPECIALS)
        names += [f"Style_{s}" for s in self.config.styles]
        names += [f"Tonic_{pc}" for pc in range(12)]
        names += [f"Mode_{m}" for m in MODES]
        names += [f"Meter_{m}" for m in SUPPORTED_METERS]
        names += [f"Tempo_{i}" for i in range(len(TEMPO_EDGES) + 1)]
        names += [f"Len_{i}" for i in range(len(LEN_EDGES) + 1)]
        names += [f"Voices_{k}" for k in range(1, MAX_VOICES + 1)]
        names += [f"Voice_{v}" for v in range(MAX_VOICES)]
        names += [f"BarMeter_{m}" for m in BAR_METERS]
        names += [f"Pos_{p}" for p in range(MAX_BAR_TICKS)]
        names += _pitch_names()
        names += [f"Dur_{d}" for d in DUR_VALUES]
        self.n_music = len(names)  # the infilling tokens come after all of these
        if self.config.infill:
            names += [f"Hole_{n}" for n in range(1, MAX_HOLE_BARS + 1)] + ["Fill"]
        self.names = names
        self.ids = {n: i for i, n in enumerate(names)}
        assert len(self.ids) == len(names), "duplicate token names"
        self.pad, self.bos, self.eos, self.bar = (self.ids[s] for s in SPECIALS)
        self.pos0 = self.ids["Pos_0"]
        self.pitch0 = self.ids["P_1b_0"]
        self.dur1 = self.ids["Dur_1"]
        self.voice0 = self.ids["Voice_0"]
        assert self.ids["P_7#_10"] == self.pitch0 + N_OCTAVES * PITCHES_PER_OCTAVE - 1
        assert self.ids[f"Dur_{MAX_DUR_TICKS}"] == self.n_music - 1
        self.hole1 = self.ids.get("Hole_1", -1)
        self.fill = self.ids.get("Fill", -1)
        assert all(self.dur_of(self.dur_token(d)) == d for d in DUR_VALUES)

    @property
    def vocab_size(self) -> int:
        return len(self.names)

    # ------------------------------------------------------------------ kinds of tokens
    def is_pitch(self, t: int) -> bool:
        return self.pitch0 <= t < self.pitch0 + N_OCTAVES * PITCHES_PER_OCTAVE

    def is_dur(self, t: int) -> bool:
        return self.dur1 <= t < self.n_music

    def hole_token(self, bars: int) -> int:
        if not self.config.infill:
            raise ValueError("this model was not trained for infilling (no Hole tokens)")
        return self.hole1 + min(max(bars, 1), MAX_HOLE_BARS) - 1

    def dur_token(self, ticks: int) -> int:
        """The token of the nearest representable duration."""
        ticks = min(max(ticks, 1), MAX_DUR_TICKS)
        if ticks not in _DUR_INDEX:
            ticks = round(ticks / TICKS_PER_QUARTER) * TICKS_PER_QUARTER
        return self.dur1 + _DUR_INDEX[ticks]

    def dur_of(self, token: int) -> int:
        return DUR_VALUES[token - self.dur1]

    def is_pos(self, t: int) -> bool:
        return self.pos0 <= t < self.pos0 + MAX_BAR_TICKS

    # ------------------------------------------------------------------ pitch
    def _pitch_key(self, key: Key) -> Key:
        """The key pitches are spelled in: the piece's own, or C major with absolute pitch."""
        return key if self.config.relative_pitch else _C_MAJOR

    @staticmethod
    def degree_of(semitone: int, reference_mode: str) -> tuple[int, int]:
        """(degree 1-7, alteration) of a semitone 0-11 above the tonic in a reference mode."""
        scale = HEPTATONIC[reference_mode]
        if semitone in scale:
            return scale.index(semitone) + 1, 0
        return scale.index(semitone - 1) + 1, 1  # chromatic: raise the degree below

    def pitch_token(self, midi: int, key: Key) -> int:
        key = self._pitch_key(key)
        rel = midi - key.tonic_pc
        octave = min(max(rel // 12, 0), N_OCTAVES - 1)
        deg, alt = self.degree_of(rel % 12, key.reference_mode)
        return self.pitch0 + octave * PITCHES_PER_OCTAVE + (deg - 1) * 3 + (alt + 1)

    def is_tonic_pitch(self, token: int, key: Key | None = None) -> bool:
        """Degree 1 without alteration, in any octave (with absolute pitch: the key's tonic)."""
        if not self.config.relative_pitch and key is not None:
            return self.pitch_of(token, key) % 12 == key.tonic_pc
        return (token - self.pitch0) % PITCHES_PER_OCTAVE == 1

    def pitch_of(self, token: int, key: Key) -> int:
        key = self._pitch_key(key)
        i = token - self.pitch0
        octave, rest = divmod(i, PITCHES_PER_OCTAVE)
        deg, alt = divmod(rest, 3)
        midi = key.tonic_pc + 12 * octave + HEPTATONIC[key.reference_mode][deg] + (alt - 1)
        return min(max(midi, 0), 127)

    # ------------------------------------------------------------------ header
    def header(self, style: str, key: Key, meter: Meter, bpm: float, bars: int, voices: int) -> list[int]:
        style_tok = self.ids.get(f"Style_{style}", None)
        if style_tok is None:
            raise StyleError(f"the model was not trained on style {style!r} "
                             f"(it knows {', '.join(self.config.styles)})")
        return [self.bos, style_tok, self.ids[f"Tonic_{key.tonic_pc}"], self.ids[f"Mode_{key.mode}"],
                self.ids[f"Meter_{meter}"], self.ids[f"Tempo_{bisect.bisect_left(TEMPO_EDGES, bpm)}"],
                self.ids[f"Len_{bisect.bisect_left(LEN_EDGES, bars)}"],
                self.ids[f"Voices_{min(max(voices, 1), MAX_VOICES)}"]]

    HEADER_LEN = 8

    # ------------------------------------------------------------------ encode
    def bar_layout(self, score: Score) -> list[tuple[int, int, str]]:
        """(start tick, length in ticks, meter) of every bar."""
        changes = score.bar_meters
        if changes:
            # A bar lasts until the next one starts; irregular bars get the meter of their length.
            starts = [round(start * TICKS_PER_QUARTER) for start, _ in changes]
            out = []
            for i, (start, m) in enumerate(changes):
                length = round(float(bar_meter_quarters(m)) * TICKS_PER_QUARTER)
                if i + 1 < len(starts) and starts[i + 1] - starts[i] != length:
                    length = starts[i + 1] - starts[i]
                    m = meter_for_quarters(Fraction(length, TICKS_PER_QUARTER))
                out.append((starts[i], length, m))
            return out
        length = round(float(score.meter.bar_quarters) * TICKS_PER_QUARTER)
        return [(i * length, length, str(score.meter)) for i in range(score.bars)]

    def encode(self, score: Score, style: str | None = None, pos_bars: frozenset[int] = frozenset()) -> list[int]:
        """Header + body + EOS. In the bars listed in `pos_bars` (0-based) the first note of every
        voice gets an explicit Pos even when it starts where a note held over the barline ends, so
        the bar reads the same whatever precedes it (the seams of infilling)."""
        style = style or score.style or self.config.styles[0]
        voices = min(len(score.parts), MAX_VOICES)
        seq = self.header(style, score.key, score.meter, score.bpm, score.bars, voices)
        layout = self.bar_layout(score)
        starts = [b[0] for b in layout]
        per_bar: list[list[list[tuple[int, int, int]]]] = [[[] for _ in range(voices)] for _ in layout]
        for v, part in enumerate(score.parts[:voices]):
            for n in part.notes:
                on = round(n.onset * TICKS_PER_QUARTER)
                dur = self.dur_of(self.dur_token(round(n.duration * TICKS_PER_QUARTER)))
                b = max(bisect.bisect_right(starts, on) - 1, 0)
                per_bar[b][v].append((on - starts[b], n.pitch, dur))
        last_end = [0] * voices
        for b, (start, length, meter) in enumerate(layout):
            seq.append(self.bar)
            if meter != str(score.meter):
                seq.append(self.ids[f"BarMeter_{meter}"])
            for v in range(voices):
                notes = sorted(per_bar[b][v])
                if not notes:
                    continue
                if voices > 1:
                    seq.append(self.voice0 + v)
                cursor = max(0, last_end[v] - start)
                if b in pos_bars:
                    cursor = -1
                for rel, pitch, dur in notes:
                    rel = min(max(rel, 0), MAX_BAR_TICKS - 1)
                    if rel != cursor or self.config.pos_every_note:
                        seq.append(self.pos0 + rel)
                    seq += [self.pitch_token(pitch, score.key), self.dur_token(dur)]
                    cursor = rel + dur
                    last_end[v] = start + cursor
        seq.append(self.eos)
        return seq

    # ------------------------------------------------------------------ decode
    def decode(self, tokens: list[int], note_tokens: list | None = None) -> Score:
        """Tokens -> Score. With a list `note_tokens`, appends (index of the note's pitch token,
        voice, onset in quarters) for every decoded note (training targets use it)."""
        hdr = self.read_header(tokens)
        key, meter = hdr["key"], hdr["meter"]
        voices = hdr["voices"]
        parts = [Part() for _ in range(voices)]
        bar_len = round(float(meter.bar_quarters) * TICKS_PER_QUARTER)
        bar_start, cur_len, n_bars = 0, bar_len, 0
        voice, cursor, pitch = 0, 0, None
        last_end = [0] * voices
        bar_meters: list[list] = []
        mixed = False
        pitch_i = -1
        for i, t in enumerate(tokens):
            name = self.names[t] if 0 <= t < len(self.names) else "PAD"
            if t == self.eos:
                break
            if t == self.bar:
                if n_bars:
                    bar_start += cur_len
                n_bars += 1
                cur_len = bar_len
                bar_meters.append([bar_start / TICKS_PER_QUARTER, str(meter)])
                voice, pitch = 0, None
                cursor = max(0, last_end[0] - bar_start)
            elif name.startswith("BarMeter_") and n_bars:
                cur_len = round(float(bar_meter_quarters(name[9:])) * TICKS_PER_QUARTER)
                bar_meters[-1][1] = name[9:]
                mixed = True
            elif name.startswith("Voice_"):
                voice = min(int(name[6:]), voices - 1)
                cursor, pitch = max(0, last_end[voice] - bar_start), None
            elif self.is_pos(t):
                cursor, pitch = t - self.pos0, None
            elif self.is_pitch(t):
                pitch, pitch_i = self.pitch_of(t, key), i
            elif self.is_dur(t) and pitch is not None:
                dur = self.dur_of(t)
                onset = bar_start + cursor
                parts[voice].notes.append(Note(pitch, onset / TICKS_PER_QUARTER, dur / TICKS_PER_QUARTER))
                if note_tokens is not None:
                    note_tokens.append((pitch_i, voice, onset / TICKS_PER_QUARTER))
                cursor += dur
                last_end[voice] = onset + dur
                pitch = None
        parts = [p for p in parts if p.notes] or [Part()]
        for p in parts:
            p.notes.sort(key=lambda n: (n.onset, n.pitch))
        return Score(parts, key, meter, hdr["bpm"], max(n_bars, 1), style=hdr["style"],
                     bar_meters=bar_meters if mixed else None)

    def read_header(self, tokens: list[int]) -> dict:
        out = {"style": None, "key": Key("C", "major"), "meter": parse_meter("4/4"), "bpm": 100.0,
               "voices": 1}
        tonic_pc, mode = 0, "major"
        for t in tokens[: self.HEADER_LEN + 1]:
            name = self.names[t] if 0 <= t < len(self.names) else ""
            kind, _, val = name.partition("_")
            if kind == "Style":
                out["style"] = val
            elif kind == "Tonic":
                tonic_pc = int(val)
            elif kind == "Mode":
                mode = val
            elif kind == "Meter":
                out["meter"] = parse_meter(val)
            elif kind == "Tempo":
                i = int(val)
                lo = TEMPO_EDGES[i - 1] if i > 0 else 40
                hi = TEMPO_EDGES[i] if i < len(TEMPO_EDGES) else 190
                out["bpm"] = float((lo + hi) // 2)
            elif kind == "Voices":
                out["voices"] = int(val)
        out["key"] = Key(SHARP_NAMES[tonic_pc], mode)
        return out


def conditioning_key(key: Key) -> Key:
    """The key the model is conditioned on: it was trained on major and minor labels, so a mode
    is conditioned on the nearest of the two (by its third) and held to its own scale by the
    sampler's pitch mask."""
    return Key(key.tonic, "minor" if key.is_minor_like else "major")


def notes_equal(a: Score, b: Score) -> bool:
    """Do two scores hold the same notes on the token grid (pitch, onset, duration, part)?"""
    if len(a.parts) != len(b.parts):
        return False
    q = TICKS_PER_QUARTER
    for pa, pb in zip(a.parts, b.parts):
        sa = sorted((round(n.onset * q), n.pitch, round(n.duration * q)) for n in pa.notes)
        sb = sorted((round(n.onset * q), n.pitch, round(n.duration * q)) for n in pb.notes)
        if sa != sb:
            return False
    return True


def exact_round_trip(tok: Tokenizer, score: Score) -> bool:
    """True when decode(encode(score)) reproduces every note exactly (off-grid notes fail)."""
    q = TICKS_PER_QUARTER
    on_grid = all(abs(n.onset * q - round(n.onset * q)) < 1e-4 and abs(n.duration * q - round(n.duration * q)) < 1e-4
                  and round(n.duration * q) in _DUR_INDEX for n in score.all_notes())
    if not on_grid or len(score.parts) > MAX_VOICES:
        return False
    back = tok.decode(tok.encode(score))
    return notes_equal(score, back) and back.bars == score.bars
