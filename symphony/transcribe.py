"""Hummed, sung or played melodies: audio in, a one-part Score out.

``symphony generate --melody tune.wav`` turns a recording of a single melodic line into notes
and then uses them (``--melody-use``): as the opening to *continue*, as the melody to
*harmonize*, or as a theme to *develop* in a phrase form. The steps (docs/melody.md):

1. **Load** WAV, FLAC, OGG or MP3 (soundfile/libsndfile; librosa/audioread as a fallback),
   after checking the length from the file header (at most ``MAX_SECONDS``); mix to mono and
   resample to 22.05 kHz.
2. **Pitch** with pYIN (``librosa.pyin``): a fundamental frequency and a voiced flag every
   ``HOP`` samples (11.6 ms), C2-C7.
3. **Tuning**: the recording's offset from A440 equal temperament is followed over time (a
   circular mean of every voiced frame's distance to the nearest semitone, in a sliding window
   of a few seconds), so a singer who is 30 cents flat, or drifts, still gets the right notes.
4. **Notes**: voiced runs, split where the (tuning-corrected) semitone changes for long enough
   and, for repeated notes, where the onset strength (spectral flux) peaks; very short
   fragments are merged into their neighbours.
5. **Rhythm**: a tatum (the grid the onsets fall on) from the inter-onset intervals; every
   onset is placed on the grid the notes before it predict (halves and thirds of a tatum
   allowed), so a slowly varying tempo is followed; then the beat (1, 2 or 4 tatums: simple
   time; 3 or 6: compound), the bar (2, 3 or 4 beats) and its downbeat from where the long
   notes fall, how alike neighbouring bars are, the last note and a tempo prior near 100 bpm.
6. **Key**: music21's Krumhansl-Schmuckler analysis of the notes (``score.analyze_key``).

Every step records what it found in an explanation such as
``melody: 23 notes, 96 bpm, 3/4, G major``.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import RequestError
from .score import Note, Part, Score, analyze_key
from .theory import Key, Meter, parse_meter

SAMPLE_RATE = 22050
HOP = 256  # samples between pitch frames (11.6 ms)
FRAME = 1024  # pYIN frame (46 ms)
FMIN_HZ = 65.41  # C2
FMAX_HZ = 2093.0  # C7
MAX_SECONDS = 600.0  # longest recording accepted (10 minutes)
MIN_SECONDS = 0.5
MAX_BYTES = 500 * 2**20
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".mp3")
MIN_NOTES = 2
MIN_NOTE_S = 0.05  # shorter voiced fragments are not notes
PITCH_SMOOTH = 5  # frames of the median filter on the semitone track
TUNING_WINDOW_S = 4.0
SILENCE_DB = -60.0  # a recording whose loudest frame is below this (dBFS) is silent
GATE_DB = -40.0  # frames this far below the loudest frame count as silence
MIN_VOICED_SHARE = 0.5  # below this share of sounding frames with one clear pitch: no melody


@dataclass
class NoteEvent:
    onset: float  # seconds
    offset: float  # seconds
    pitch: int  # MIDI number (tuning corrected)
    cents: float  # median distance of the sung pitch from `pitch` after the tuning correction
    how: str = ""  # how its onset was found: start(-peak), dip, peak, pitch, repeat


@dataclass
class Transcription:
    score: Score
    events: list[NoteEvent]  # the notes as heard, in seconds, before quantisation
    tempo: float  # beats per minute of the meter's beat
    meter: Meter
    key: Key
    tuning_cents: float  # median offset of the recording from A440 equal temperament
    offset_s: float  # the time (s) of the score's quarter 0 (the first downbeat)
    quarter_s: float  # seconds per quarter note (the fitted grid)
    duration_s: float
    seconds: dict = field(default_factory=dict)  # time spent per step
    explanation: list[str] = field(default_factory=list)
    sources: dict = field(default_factory=dict)  # meter/tempo/key: "detected" or "given"
    tempo_map: list = field(default_factory=list)  # (quarters, seconds) at every note: the local grid

    def time_of(self, q: float) -> float:
        """Seconds into the recording of score position q (quarters), following its tempo."""
        if len(self.tempo_map) < 2:
            return self.offset_s + q * self.quarter_s
        qs, ts = zip(*self.tempo_map)
        if q <= qs[0]:
            return ts[0] + (q - qs[0]) * self.quarter_s
        if q >= qs[-1]:
            return ts[-1] + (q - qs[-1]) * self.quarter_s
        return float(np.interp(q, qs, ts))

    def score_times(self) -> list[tuple[float, float, int]]:
        """The score's notes as (onset s, offset s, MIDI pitch) on the recording's time line."""
        return [(self.time_of(n.onset), self.time_of(n.end), n.pitch) for n in self.score.parts[0].notes]

    def summary(self) -> str:
        return (f"melody: {len(self.score.parts[0].notes)} notes, {self.tempo:g} bpm, {self.meter}, "
                f"{self.key}")

    def to_dict(self) -> dict:
        return {"notes": len(self.score.parts[0].notes), "bars": self.score.bars, "tempo_bpm": self.tempo,
                "meter": str(self.meter), "key": str(self.key), "tuning_cents": round(self.tuning_cents, 1),
                "duration_s": round(self.duration_s, 3), "offset_s": round(self.offset_s, 4),
                "quarter_s": round(self.quarter_s, 5), "sources": dict(self.sources),
                "seconds": {k: round(v, 3) for k, v in self.seconds.items()}}


# ----------------------------------------------------------------------------- loading

def _fmt_duration(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def audio_duration(path: str | os.PathLike) -> float:
    """Length in seconds from the file header (nothing is decoded); RequestError if unreadable."""
    p = Path(path)
    try:
        import soundfile as sf
        info = sf.info(str(p))
        if info.samplerate > 0 and info.frames > 0:
            return info.frames / info.samplerate
    except Exception:  # libsndfile cannot open it: let audioread (ffmpeg, gstreamer) try
        pass
    try:
        import audioread
        with audioread.audio_open(str(p)) as f:
            if f.duration and f.duration > 0:
                return float(f.duration)
    except Exception:  # audioread raises its own error types per backend
        pass
    raise RequestError(f"cannot read {p.name}: not a WAV, FLAC, OGG or MP3 audio file, or it is corrupt")


def load_audio(path: str | os.PathLike, sr: int = SAMPLE_RATE) -> tuple[np.ndarray, float]:
    """Mono float32 samples at `sr` and the length in seconds. Clear RequestErrors for missing,
    unsupported, corrupt, too long or too short files."""
    p = Path(path)
    if not p.is_file():
        raise RequestError(f"no such audio file: {os.fspath(path)!r}")
    if p.suffix.lower() not in AUDIO_SUFFIXES:
        raise RequestError(f"unsupported audio type {p.suffix or '(none)'!r} for {p.name}; "
                           "use WAV, FLAC, OGG or MP3")
    if p.stat().st_size > MAX_BYTES:
        raise RequestError(f"{p.name} is larger than {MAX_BYTES // 2**20} MB")
    if p.stat().st_size == 0:
        raise RequestError(f"{p.name} is empty")
    seconds = audio_duration(p)
    if seconds > MAX_SECONDS:
        raise RequestError(f"{p.name} lasts {_fmt_duration(seconds)}; melodies of at most "
                           f"{int(MAX_SECONDS // 60)} minutes can be transcribed")
    if seconds < MIN_SECONDS:
        raise RequestError(f"{p.name} lasts {seconds:.2f} s; a melody needs at least {MIN_SECONDS} s")
    y, rate = None, None
    try:
        import soundfile as sf
        data, rate = sf.read(str(p), dtype="float32", always_2d=True)
        y = data.mean(axis=1)
    except Exception as first:  # libsndfile cannot decode it: let audioread (ffmpeg, gstreamer) try
        try:
            import warnings

            import librosa
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                y, rate = librosa.load(str(p), sr=None, mono=True)
        except Exception as e:  # audioread raises its own error types per backend
            why = str(first).strip() or str(e).strip() or type(e).__name__
            raise RequestError(f"cannot decode {p.name}: it is damaged or not audio ({why})"
                               .split("\n")[0][:300]) from e
    if y is None or len(y) == 0:
        raise RequestError(f"{p.name} contains no audio samples")
    if not np.all(np.isfinite(y)):
        raise RequestError(f"{p.name} contains invalid (NaN or infinite) samples")
    if rate != sr:
        import librosa
        y = librosa.resample(y, orig_sr=rate, target_sr=sr, res_type="soxr_hq")
    return np.ascontiguousarray(y, dtype=np.float32), len(y) / sr


# ----------------------------------------------------------------------------- pitch and notes

def _frame_times(n: int, sr: int) -> np.ndarray:
    return np.arange(n) * HOP / sr


def pitch_range(y: np.ndarray, sr: int = SAMPLE_RATE) -> tuple[float, float]:
    """The lowest and highest pitch (Hz) the recording holds steadily, from a quick YIN pass
    (pYIN's cost grows with the square of its pitch range, so it is run on this range only)."""
    import librosa
    f = librosa.yin(y, fmin=FMIN_HZ, fmax=FMAX_HZ, sr=sr, frame_length=FRAME, hop_length=HOP, center=True)
    rms = librosa.feature.rms(y=y, frame_length=FRAME, hop_length=HOP, center=True)[0][: len(f)]
    m = 69 + 12 * np.log2(f / 440.0)
    loud = rms > rms.max() * 10 ** (GATE_DB / 20)
    # steady: 5 frames in a row within half a semitone of their median
    steady = np.zeros(len(m), dtype=bool)
    for i in range(2, len(m) - 2):
        w = m[i - 2:i + 3]
        steady[i] = loud[i] and np.ptp(w) < 0.5
    vals = m[steady]
    if len(vals) < 5:
        return FMIN_HZ, FMAX_HZ
    lo, hi = np.percentile(vals, [0.5, 99.5])
    fmin = max(FMIN_HZ, 440.0 * 2 ** ((lo - RANGE_MARGIN - 69) / 12))
    fmax = min(FMAX_HZ, 440.0 * 2 ** ((hi + RANGE_MARGIN - 69) / 12))
    return (fmin, fmax) if fmax > fmin * 1.5 else (FMIN_HZ, FMAX_HZ)


RANGE_MARGIN = 5  # semitones added on both sides of the range the YIN pass found
PYIN_RESOLUTION = 0.2  # pitch bins of 20 cents
PYIN_OPTIONS: dict = {}  # further librosa.pyin arguments (the defaults are used)


def track_pitch(y: np.ndarray, sr: int = SAMPLE_RATE) -> dict:
    """pYIN f0 (MIDI, NaN when unvoiced), voicing probability, frame level (dB re the loudest
    frame) and onset strength, all on the same frames."""
    import librosa
    fmin, fmax = pitch_range(y, sr)
    f0, voiced, vprob = librosa.pyin(y, fmin=fmin, fmax=fmax, sr=sr, frame_length=FRAME,
                                     hop_length=HOP, center=True, resolution=PYIN_RESOLUTION, **PYIN_OPTIONS)
    n = len(f0)
    rms = librosa.feature.rms(y=y, frame_length=FRAME // 2, hop_length=HOP, center=True)[0][:n]
    peak = float(rms.max()) if len(rms) else 0.0
    db = 20 * np.log10(np.maximum(rms, 1e-10) / max(peak, 1e-10))
    onset = librosa.onset.onset_strength(y=y, sr=sr, hop_length=HOP, center=True)[:n]
    if len(onset) < n:
        onset = np.pad(onset, (0, n - len(onset)))
    midi = np.full(n, np.nan)
    ok = voiced & np.isfinite(f0) & (f0 > 0)
    midi[ok] = 69 + 12 * np.log2(f0[ok] / 440.0)
    return {"midi": midi, "voiced": ok, "vprob": vprob, "db": db, "onset": onset,
            "times": _frame_times(n, sr), "range_hz": (fmin, fmax)}


def tuning_track(midi: np.ndarray, voiced: np.ndarray, window_frames: int) -> tuple[np.ndarray, float]:
    """Per-frame offset (in semitones, -0.5..0.5) of the recording from equal temperament: the
    circular mean of the voiced frames' distances to the nearest semitone in a sliding window
    (the global mean where a window holds too few voiced frames). Also the global offset."""
    dev = np.where(voiced, midi - np.round(np.nan_to_num(midi)), 0.0)
    w = voiced.astype(float)
    c, s = w * np.cos(2 * np.pi * dev), w * np.sin(2 * np.pi * dev)
    glob = math.atan2(s.sum(), c.sum()) / (2 * np.pi) if w.sum() else 0.0
    from scipy.ndimage import uniform_filter1d
    size = max(1, min(window_frames, len(dev)))
    cs, ss, ws = (uniform_filter1d(a, size, mode="constant") * size for a in (c, s, w))
    local = np.arctan2(ss, cs) / (2 * np.pi)
    enough = ws >= max(10, 0.1 * window_frames)
    return np.where(enough, local, glob), glob


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index pairs of the True runs of a boolean array."""
    m = np.concatenate([[False], mask, [False]]).astype(int)
    d = np.diff(m)
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def level_dips(db: np.ndarray, lo: int, hi: int) -> list[tuple[int, float, int]]:
    """Dips of the level (dB, median-smoothed) between frames lo and hi: (frame of the minimum,
    depth below the lower of the maxima ~120 ms before and ~170 ms after, frame where the
    fall began); dips shallower than 2 dB are left out."""
    out = []
    n = len(db)
    for i in range(max(lo, 1), min(hi, n - 1)):
        if not (db[i] <= db[i - 1] and db[i] < db[i + 1]):
            continue
        pre = db[max(0, i - 10):i].max()
        post = db[i + 1:min(n, i + 16)].max()
        depth = float(min(pre, post) - db[i])
        if depth < 2.0:
            continue
        s = i
        while s > max(0, i - 10) and db[s - 1] > db[s] and db[s - 1] < pre - 0.5:
            s -= 1
        out.append((i, depth, max(0, s - 1)))
    return out


def segment_notes(track: dict, sr: int = SAMPLE_RATE) -> tuple[list[NoteEvent], float]:
    """Notes (seconds) from the pitch track; also the global tuning offset in cents."""
    import librosa
    from scipy.ndimage import median_filter
    midi, times = track["midi"], track["times"]
    db = median_filter(track["db"], size=3, mode="nearest")
    sounding = track["db"] > GATE_DB
    voiced = track["voiced"] & sounding
    fps = sr / HOP
    tuning, glob = tuning_track(midi, voiced, int(TUNING_WINDOW_S * fps))
    corrected = midi - tuning
    semis = np.where(voiced, np.round(np.nan_to_num(corrected)), -1).astype(int)
    semis = median_filter(semis, size=PITCH_SMOOTH, mode="nearest")
    min_frames = max(2, int(round(MIN_NOTE_S * fps)))
    peaks = np.asarray(librosa.onset.onset_detect(onset_envelope=track["onset"], sr=sr, hop_length=HOP,
                                                  units="frames", backtrack=False, delta=ONSET_DELTA,
                                                  wait=2), dtype=int)

    strength = track["onset"]

    def change_onset(f: int, lo: int) -> tuple[float, str]:
        """Where a note that the pitch track shows from frame f on begins (not before frame lo,
        where the previous note's pitch was heard): the nearest onset-strength peak shortly
        before (the pitch track changes a little after the attack), else a dip in the level
        there (the old note releasing as the new one attacks), else the pitch change itself."""
        start = max(f - SNAP_BEFORE, lo)
        near = peaks[(peaks >= start) & (peaks <= f + SNAP_AFTER)]
        if len(near):
            return float(times[near[np.argmin(np.abs(near - f))]] - ONSET_LATENCY_S), "peak"
        d = [x for x in level_dips(db, start, f + SNAP_AFTER) if x[1] >= CHANGE_DIP_DB]
        if d:
            return float(times[max(d, key=lambda x: x[1])[0]] - DIP_LATENCY_S), "dip"
        return float(times[f] - PITCH_LAG_S), "pitch"

    strong = STRONG_ONSET * float(np.median(strength[peaks])) if len(peaks) else np.inf

    def repeats(s: int, e: int) -> list[tuple[int, float]]:
        """Re-struck notes inside a segment of one pitch: (frame, onset time)."""
        out = []
        for i, depth, _ in level_dips(db, s + min_frames, e):
            near = peaks[(peaks >= i - 3) & (peaks <= i + 3)]
            hit = len(near) and strength[near].max() >= strong
            if (depth >= DIP_DB and width_ok(i, depth)) or (hit and depth >= STRONG_DIP_DB):
                if not out or i - out[-1][0] >= min_frames:
                    out.append((i, float(times[i] - DIP_LATENCY_S)))
        return out

    def width_ok(i: int, depth: float) -> bool:
        half = db[i] + depth / 2
        j, k = i, i
        while j > 0 and db[j - 1] < half:
            j -= 1
        while k < len(db) - 1 and db[k + 1] < half:
            k += 1
        return k - j + 1 >= DIP_WIDTH

    events: list[NoteEvent] = []
    for a, b in _runs(voiced):
        if b - a < min_frames:
            continue
        bounds = [a] + [i for i in range(a + 1, b) if semis[i] != semis[i - 1] and semis[i] >= 0] + [b]
        segs = _merge_short([[s, e] for s, e in zip(bounds, bounds[1:])], semis, min_frames)
        segs = _merge_scoops(segs, semis, peaks)
        for j, (s, e) in enumerate(segs):
            if j == 0:
                d = [x for x in level_dips(db, s - 6, s + 4) if x[1] >= CHANGE_DIP_DB]
                near = peaks[(peaks >= s - 3) & (peaks <= s + 6)]
                if d:
                    on, how = float(times[max(d, key=lambda x: x[1])[0]] - DIP_LATENCY_S), "start-dip"
                elif len(near):
                    on, how = float(times[near[0]] - ONSET_LATENCY_S), "start-peak"
                else:
                    on, how = float(times[s] - VOICING_LAG_S), "start"
            else:
                on, how = change_onset(s, last_split + PREV_MARGIN)
            last = e - (SNAP_BEFORE if j + 1 < len(segs) else min_frames)
            cuts = repeats(s, last)
            last_split = cuts[-1][0] if cuts else s
            starts = [(s, on, how)] + [(i, t, "repeat") for i, t in cuts]
            ends = [i for i, _ in cuts] + [e]
            for (f0, t_on, kind), f1 in zip(starts, ends):
                vals = corrected[f0:f1][np.isfinite(corrected[f0:f1])]
                if len(vals) == 0:
                    continue
                med = float(np.median(vals))
                pitch = int(round(med))
                events.append(NoteEvent(t_on, float(times[f1 - 1] + HOP / sr), pitch, 100 * (med - pitch), kind))
    for x in events:
        x.onset = max(0.0, x.onset)
    events.sort(key=lambda x: x.onset)
    for x, nx in zip(events, events[1:]):
        x.offset = min(x.offset, nx.onset)
    events = [x for x in events if x.offset - x.onset >= MIN_NOTE_S / 2]
    return events, 100 * glob


ONSET_DELTA = 0.05  # onset_detect's peak threshold (on the envelope normalised to 0..1)
SNAP_BEFORE = 12  # frames before a pitch change searched for the new note's attack
SNAP_AFTER = 1
PREV_MARGIN = 2  # frames after the previous note was heard before a new attack can be
DIP_WIDTH = 2  # frames (at half depth) a dip in the level must last
DIP_DB = 5.0  # a repeated note needs a dip in the level at least this deep
CHANGE_DIP_DB = 3.0  # a dip this deep just before a pitch change marks the new note's attack
ONSET_LATENCY_S = 0.027  # an onset-strength peak comes this long after the attack begins
DIP_LATENCY_S = 0.035  # the new note's attack begins this long before the level's minimum
STRONG_ONSET = 3.0  # an onset peak this many times the median peak is an attack...
STRONG_DIP_DB = 2.5  # ...and splits a note when the level dips at least this much there
PITCH_LAG_S = 0.06  # a change in the pitch track comes this long after the attack begins
VOICING_LAG_S = 0.07


def _merge_scoops(segs: list[list[int]], semis: np.ndarray, peaks: np.ndarray) -> list[list[int]]:
    """A short segment a semitone or two from the next one, where the pitch moves on without
    an attack of its own, is a scoop into that note (a singer sliding onto it): one note."""
    out: list[list[int]] = []
    i = 0
    while i < len(segs):
        s, e = segs[i]
        if i + 1 < len(segs) and e - s < SCOOP_FRAMES:
            nxt = segs[i + 1]
            step = abs(int(np.median(semis[nxt[0]:nxt[1]])) - int(np.median(semis[s:e])))
            attack = np.any((peaks >= nxt[0] - 4) & (peaks <= nxt[0] + SNAP_AFTER))
            if step <= 2 and not attack:
                segs[i + 1] = [s, nxt[1]]
                i += 1
                continue
        out.append([s, e])
        i += 1
    return out


SCOOP_FRAMES = 8  # segments shorter than this (93 ms) may be scoops


def _merge_short(segs: list[list[int]], semis: np.ndarray, min_frames: int) -> list[list[int]]:
    """Merge segments shorter than min_frames into the neighbour nearest in pitch."""
    segs = [list(s) for s in segs]
    changed = True
    while changed and len(segs) > 1:
        changed = False
        lens = [e - s for s, e in segs]
        i = int(np.argmin(lens))
        if lens[i] >= min_frames:
            break
        p = int(np.median(semis[segs[i][0]:segs[i][1]]))
        left = abs(int(np.median(semis[segs[i - 1][0]:segs[i - 1][1]])) - p) if i > 0 else 999
        right = abs(int(np.median(semis[segs[i + 1][0]:segs[i + 1][1]])) - p) if i + 1 < len(segs) else 999
        if left <= right:
            segs[i - 1][1] = segs[i][1]
        else:
            segs[i + 1][0] = segs[i][0]
        del segs[i]
        changed = True
    # neighbours that ended up on the same pitch become one note (the onset split comes later)
    out = [segs[0]]
    for s, e in segs[1:]:
        if int(np.median(semis[s:e])) == int(np.median(semis[out[-1][0]:out[-1][1]])):
            out[-1][1] = e
        else:
            out.append([s, e])
    return out


# ----------------------------------------------------------------------------- rhythm

TICKS = 12  # grid ticks per tatum (divisible by 2 and 3: half tatums and triplets)
TATUM_RANGE_S = (0.08, 1.0)
TATUM_SIGMA_S = 0.035  # timing tolerance when fitting the tatum to the inter-onset intervals
TATUM_SHARE = 0.75  # the longest tatum that fits this share of the best fit wins
LOCAL_NOTES = 12  # notes before an onset that predict where the grid is
SUBDIVISION_COST = {12: 0.0, 6: 0.15, 4: 0.22}  # cost (in tatums) of a half or a third tatum
TEMPO_CENTER_BPM = 100.0
TEMPO_SPREAD_OCTAVES = 0.9
SIMPLE_BEATS = (1, 2, 4)  # tatums per beat in simple time (beat = quarter note)
COMPOUND_BEATS = (3, 6)  # tatums per beat in compound time (beat = dotted quarter)
BAR_PRIOR = {2: 1.0, 3: 0.9, 4: 1.0}  # beats per bar
BAR_WEIGHT = 0.5  # weight of the downbeat evidence against the beat evidence
SIM_WEIGHT = 1.0  # weight of the rhythmic likeness of neighbouring bars
END_WEIGHT = 0.5  # bonus when the last note starts on a downbeat


def _tatum_fit(iois: np.ndarray, p: float) -> float:
    k = np.maximum(1, np.round(iois / p))
    r = iois - k * p
    return float(np.mean(np.exp(-0.5 * (r / TATUM_SIGMA_S) ** 2)))


def estimate_tatum(onsets: np.ndarray) -> float:
    """The longest grid period that explains nearly as many inter-onset intervals as the best
    one (a shorter grid always fits a little better: halves and thirds of the true one)."""
    iois = np.diff(onsets)
    iois = iois[iois > 0.03]
    if len(iois) == 0:
        return 0.5
    cands = np.geomspace(*TATUM_RANGE_S, 600)
    fits = np.array([_tatum_fit(iois, p) for p in cands])
    ok = np.flatnonzero(fits >= TATUM_SHARE * fits.max())
    i = int(ok[-1])  # the longest good candidate; then the best fit just around it
    lo, hi = max(0, i - 12), min(len(cands), i + 1)
    return float(cands[lo + int(np.argmax(fits[lo:hi]))])


def _snap_ticks(x: float, lowest: int) -> int:
    """A position x (ticks, fractional) on the grid: the cheapest multiple of a tatum, half
    tatum or third of a tatum, not before `lowest`."""
    best, best_cost = None, float("inf")
    for unit, cost in SUBDIVISION_COST.items():
        for k in (math.floor(x / unit) * unit, math.ceil(x / unit) * unit):
            if k < lowest:
                continue
            c = abs(x - k) / TICKS + cost * (k % TICKS != 0)
            if c < best_cost:
                best, best_cost = k, c
    if best is None:
        best = math.ceil(lowest / 4) * 4
    return int(best)


def grid_positions(onsets: np.ndarray, p: float) -> tuple[np.ndarray, float]:
    """Integer grid positions (ticks) of the onsets, and the tatum re-fitted to them.

    Each onset is placed against the grid predicted by the notes before it (a line through
    the last LOCAL_NOTES onsets and their positions), not against the previous onset alone, so
    timing errors do not add up and a slowly changing tempo is followed."""
    n = len(onsets)
    pos = np.zeros(n, dtype=int)
    for _ in range(2):
        for i in range(1, n):
            j = max(0, i - LOCAL_NOTES)
            span = pos[i - 1] - pos[j]
            if i - j >= 3 and span >= 2 * TICKS:
                b, a = np.polyfit(pos[j:i] / TICKS, onsets[j:i], 1)
                b = min(max(b, 0.85 * p), 1.15 * p)
                a = float(np.mean(onsets[j:i] - b * pos[j:i] / TICKS))
            else:
                b, a = p, onsets[i - 1] - p * pos[i - 1] / TICKS
            x = (onsets[i] - a) / b * TICKS
            pos[i] = _snap_ticks(x, pos[i - 1] + 4)
        if n >= 3 and pos[-1] > 0:
            slope = np.polyfit(pos / TICKS, onsets, 1)[0]
            if 0.5 * p < slope < 2 * p:
                p = float(slope)
    return pos, p


def _frac(pos: np.ndarray, w: np.ndarray, period: int, phase: int) -> float:
    """Share of the weight of the onsets that lie on positions phase + k * period."""
    return float(w[((pos - phase) % period) == 0].sum() / w.sum())


def _bar_similarity(pos: np.ndarray, length: int, phase: int) -> float:
    """How alike neighbouring bars are in rhythm: the mean Jaccard similarity of the onset
    positions inside consecutive bars (folk tunes repeat their bar rhythms)."""
    idx = (pos - phase) // length
    off = (pos - phase) % length
    bars: dict[int, set] = {}
    for i, o in zip(idx.tolist(), off.tolist()):
        bars.setdefault(i, set()).add(o)
    sims = [len(bars[i] & bars[i + 1]) / len(bars[i] | bars[i + 1]) for i in bars if i + 1 in bars]
    return float(np.mean(sims)) if sims else 0.0


def choose_meter(pos: np.ndarray, w: np.ndarray, p: float, meter: Meter | None = None,
                 tempo: float | None = None) -> tuple[Meter, int, int, int]:
    """(meter, ticks per beat, beat phase, ticks of the first downbeat position mod the bar).

    The beat is 1-6 tatums; a beat of 3 or 6 tatums makes compound time. Candidates (beat,
    beats per bar, downbeat) are scored by: how much of the notes' weight (their length) falls
    on beats and on downbeats compared with chance; how alike neighbouring bars are in rhythm;
    whether the last note starts on a downbeat; a tempo prior (around 100 bpm, or around a
    requested tempo) and a small prior on beats per bar. A requested meter fixes simple or
    compound time and the beats per bar."""
    results = []
    if meter is not None:
        beats_per_bar = max(1, round(float(meter.bar_quarters) / meter.beat_quarters))
        # a requested compound meter may also take the heard tatum as a quarter (1.5 per beat)
        ms = (1.5,) + COMPOUND_BEATS if meter.is_compound else SIMPLE_BEATS
        bars_opts = [beats_per_bar]
    else:
        ms = SIMPLE_BEATS + COMPOUND_BEATS
        bars_opts = [2, 3, 4]
    last = int(pos[-1])
    for m in ms:
        b = int(round(m * TICKS))
        bpm = 60 / (m * p)
        center = tempo if tempo else TEMPO_CENTER_BPM
        spread = 0.35 if tempo else TEMPO_SPREAD_OCTAVES
        prior = math.exp(-0.5 * (math.log2(bpm / center) / spread) ** 2)
        for phase in range(0, b, TICKS if b % TICKS == 0 else TICKS // 2):
            on_beat = _frac(pos, w, b, phase)
            beat_lift = on_beat * m
            for n in bars_opts:
                if meter is None and m in COMPOUND_BEATS and n != 2:
                    continue  # compound time is written as 6/8
                for k in range(n):
                    down = phase + k * b
                    bar_lift = _frac(pos, w, b * n, down) / max(on_beat, 1e-9) * n
                    s = (math.log(max(beat_lift, 1e-3)) + BAR_WEIGHT * math.log(max(bar_lift, 1e-3))
                         + SIM_WEIGHT * _bar_similarity(pos, b * n, down)
                         + END_WEIGHT * ((last - down) % (b * n) == 0)
                         + math.log(prior) + math.log(BAR_PRIOR.get(n, 1.0)))
                    results.append((s, m, phase, n, k))
    s, m, phase, n, k = max(results)
    if meter is None:
        meter = parse_meter("6/8" if m in COMPOUND_BEATS else {2: "2/4", 3: "3/4", 4: "4/4"}[n])
    b = int(round(m * TICKS))
    return meter, b, phase, (phase + k * b) % (n * b)


def quantise(events: list[NoteEvent], meter: Meter | None = None, tempo: float | None = None):
    """Notes on a grid: returns (notes in quarters from the first downbeat, meter, bpm,
    seconds of quarter 0, seconds per quarter)."""
    from fractions import Fraction
    onsets = np.array([e.onset for e in events])
    p = estimate_tatum(onsets)
    pos, p = grid_positions(onsets, p)
    iois = np.append(np.diff(pos), TICKS * 2).astype(float)
    w = np.minimum(iois, 4 * TICKS)  # long notes carry the metre
    meter, b, _, bar_phase = choose_meter(pos, w, p, meter, tempo)
    bar_ticks = round(b * float(meter.bar_quarters) / meter.beat_quarters)
    first = int(pos[0])
    down0 = first - ((first - bar_phase) % bar_ticks)  # the downbeat at or before the first note
    q_per_tick = Fraction(meter.beat_quarters).limit_denominator(8) / b
    notes = []
    for i, e in enumerate(events):
        start = int(pos[i])
        nxt = int(pos[i + 1]) if i + 1 < len(events) else None
        heard = (e.offset - e.onset) / p * TICKS
        if nxt is not None and heard >= 0.6 * (nxt - start):
            end = nxt  # legato: the note lasts until the next one
        else:
            unit = TICKS // 2
            end = start + max(unit, int(round(heard / unit)) * unit)
            if nxt is not None:
                end = min(end, nxt)
            # a release or echo that carries a note less than a beat over a barline ends there
            barline = down0 + ((end - down0) // bar_ticks) * bar_ticks
            if start < barline < end and end - barline <= b:
                end = barline
        onset_q = (start - down0) * q_per_tick
        dur_q = (end - start) * q_per_tick
        notes.append(Note(e.pitch, float(onset_q), float(dur_q), 80))
    # the grid in seconds: a least-squares line through (position, onset) for the whole
    # melody, and a local one around every note (the tempo map of the performance)
    if len(events) >= 2 and pos[-1] > pos[0]:
        slope, icpt = np.polyfit(pos.astype(float), onsets, 1)
    else:
        slope, icpt = p / TICKS, onsets[0] - pos[0] * p / TICKS
    quarter_s = float(slope / q_per_tick)
    offset_s = float(icpt + slope * down0)
    bpm = 60.0 / (quarter_s * meter.beat_quarters)
    tempo_map = []
    for i in range(len(events)):
        lo, hi = max(0, i - MAP_NOTES), min(len(events), i + MAP_NOTES + 1)
        if hi - lo >= 4 and pos[hi - 1] - pos[lo] >= 2 * TICKS:
            b1, a1 = np.polyfit(pos[lo:hi].astype(float), onsets[lo:hi], 1)
        else:
            b1, a1 = slope, icpt
        tempo_map.append((float((pos[i] - down0) * q_per_tick), float(a1 + b1 * pos[i])))
    return notes, meter, bpm, offset_s, quarter_s, tempo_map


MAP_NOTES = 8  # notes on each side of a note that fit the local tempo


def transcribe(source, meter: str | Meter | None = None, tempo: float | None = None,
               key: str | Key | None = None, sr: int = SAMPLE_RATE) -> Transcription:
    """Transcribe a monophonic recording (a path, or a (samples, rate) pair) into a Score.

    ``meter`` fixes the time signature (the grid is then fitted under it), ``tempo`` steers the
    choice between half and double tempo (and is written as the score's tempo), ``key`` replaces
    the analysed key. RequestError for unreadable, silent, too short or too long audio and for
    audio without a single clear melodic line."""
    from .theory import parse_key
    t0 = time.perf_counter()
    name = "the recording"
    if isinstance(source, tuple):
        y, rate = source
        y = np.asarray(y, dtype=np.float32)
        if y.ndim == 2:
            y = y.mean(axis=1)
        if rate != sr:
            import librosa
            y = librosa.resample(y, orig_sr=rate, target_sr=sr, res_type="soxr_hq")
        duration = len(y) / sr
        if duration > MAX_SECONDS:
            raise RequestError(f"the recording lasts {_fmt_duration(duration)}; at most "
                               f"{int(MAX_SECONDS // 60)} minutes can be transcribed")
        if duration < MIN_SECONDS:
            raise RequestError(f"the recording lasts {duration:.2f} s; a melody needs at least {MIN_SECONDS} s")
    else:
        name = Path(source).name
        y, duration = load_audio(source, sr)
    seconds = {"load": time.perf_counter() - t0}
    peak = float(np.abs(y).max()) if len(y) else 0.0
    if peak <= 10 ** (SILENCE_DB / 20):
        raise RequestError(f"{name} is silent: no melody to transcribe")
    y = y / peak * 0.9
    t1 = time.perf_counter()
    track = track_pitch(y, sr)
    seconds["pitch"] = time.perf_counter() - t1
    sounding = track["db"] > GATE_DB
    if sounding.sum() == 0 or track["voiced"].sum() == 0:
        raise RequestError(f"{name} has no pitched sound: no melody to transcribe")
    share = float((track["voiced"] & sounding).sum() / sounding.sum())
    if share < MIN_VOICED_SHARE:
        raise RequestError(f"{name} has no clear melodic line: only {share:.0%} of its sound has a single "
                           "pitch (it may be noise, speech or several instruments at once)")
    t2 = time.perf_counter()
    events, tuning = segment_notes(track, sr)
    if len(events) < MIN_NOTES:
        raise RequestError(f"{name} is too short: found {len(events)} note{'s' if len(events) != 1 else ''}; "
                           f"a melody needs at least {MIN_NOTES}")
    m_obj = parse_meter(meter) if isinstance(meter, str) else meter
    notes, m_obj2, bpm, offset_s, quarter_s, tempo_map = quantise(events, m_obj, tempo)
    seconds["notes"] = time.perf_counter() - t2
    bar_q = float(m_obj2.bar_quarters)
    end = max(n.end for n in notes)
    bars = max(1, math.ceil(end / bar_q - 1e-6))
    score = Score([Part(notes, "Melody", 73)], Key("C", "major"), m_obj2, round(bpm, 1), bars,
                  title=f"Melody from {name}" if name != "the recording" else "Melody")
    t3 = time.perf_counter()
    # Every transcribed note votes on the key, blips and slides included: filtering short and
    # sliding notes out (the earlier choice, made while looking at test-split numbers) lost keys
    # on the valid split's 279 renders in every condition (clean 254 -> 257 right without it,
    # reverb 236 -> 241, noise 255 -> 257, drift 254 -> 255; benchmarks/NOTES.md).
    found = analyze_key(score)
    seconds["key"] = time.perf_counter() - t3
    k_obj = parse_key(key) if isinstance(key, str) else (key or found)
    score.key = k_obj
    sources = {"meter": "given" if meter else "detected", "tempo": "given" if tempo else "detected",
               "key": "given" if key else "detected"}
    final_bpm = float(tempo) if tempo else round(bpm)
    score.bpm = final_bpm
    tr = Transcription(score, events, final_bpm, m_obj2, k_obj, tuning, offset_s, quarter_s, duration,
                       seconds, sources=sources, tempo_map=tempo_map)
    tr.explanation = [tr.summary() + (f" (tuning {tuning:+.0f} cents)" if abs(tuning) >= 5 else "")]
    score.meta = {"transcription": tr.to_dict(), "detected_key": str(found), "detected_bpm": round(bpm, 2)}
    seconds["total"] = time.perf_counter() - t0
    return tr


# ----------------------------------------------------------------------------- using a melody

MELODY_USES = ("continue", "harmonize", "develop")
HARMONIES = ("satb", "chords", "accompaniment")
CONTINUE_BARS = 8  # bars added after the melody when --bars is not given
DEFAULT_FORM = "ABA"
MELODY_RANGE = (57, 88)  # the melody range of the model's sampler (DEFAULT_RANGES[1])
SOPRANO_RANGE = (60, 81)


def fit_register(score: Score, lo: int, hi: int) -> int:
    """Move the melody by whole octaves so that as many notes as possible lie in [lo, hi]
    (a man humming an octave below a flute); returns the shift in semitones."""
    pitches = [n.pitch for n in score.all_notes()]
    best = min(range(-3, 4), key=lambda k: (sum(not lo <= p + 12 * k <= hi for p in pitches), abs(k)))
    if best:
        for n in score.all_notes():
            n.pitch += 12 * best
    return 12 * best


def _fingerprint_bytes(path) -> str:
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def _pitch_name(midi: int) -> str:
    from .theory import SHARP_NAMES
    return f"{SHARP_NAMES[midi % 12]}{midi // 12 - 1}"


def compose_from_melody(melody: str | os.PathLike, use: str = "continue", prompt: str = "", *,
                        style: str | None = None, key: str | None = None, meter: str | None = None,
                        tempo: float | None = None, bars: int | None = None, seed: int | None = None,
                        form: str | None = None, harmony: str | None = None, emotion: str | None = None,
                        valence: float | None = None, arousal: float | None = None, image=None,
                        count: int = 1, end_on_tonic: bool = True, checkpoint=None) -> list[Score]:
    """``symphony generate --melody FILE``: transcribe the recording, then continue it,
    harmonize it or develop it as a theme (``use``). Returns ``count`` scores (seeds seed,
    seed + 1, ...), each with ``meta["explanation"]`` saying where every attribute came from.

    Precedence: explicit options (key, meter, tempo, style, bars, form) > the text prompt's
    explicit terms > a mood (an emotion option > mood words in the text > a picture), which
    turns the melody's mode major or minor and scales its tempo > what the melody itself has
    (its key, meter and tempo as transcribed) > defaults."""
    from .prompt import parse_prompt
    from .theory import parse_key
    use = (use or "continue").lower()
    if use not in MELODY_USES:
        raise RequestError(f"unknown --melody-use {use!r}; choose {', '.join(MELODY_USES)}")
    if harmony is not None and harmony.lower() not in HARMONIES:
        raise RequestError(f"unknown --melody-harmony {harmony!r}; choose {', '.join(HARMONIES)}")
    if harmony is not None and use != "harmonize":
        raise RequestError("--melody-harmony goes with --melody-use harmonize")
    if form is not None and use != "develop":
        raise RequestError("--form goes with --melody-use develop (the melody is then the first section)")
    if bars is not None and (not isinstance(bars, int) or not 1 <= bars <= 512):
        raise RequestError(f"--bars must be between 1 and 512, got {bars}")
    if not 1 <= count <= 100:
        raise RequestError(f"-n must be between 1 and 100, got {count}")
    if key is not None:
        parse_key(key)  # a bad key fails before the audio is read
    if meter is not None:
        parse_meter(meter)
    if tempo is not None and not 20 <= float(tempo) <= 300:
        raise RequestError(f"tempo {tempo} bpm is outside 20-300")
    why: list[str] = []
    u = parse_prompt(prompt) if prompt and prompt.strip() else None
    text = u.attributes if u else {}
    if u:
        why += [f"text: {line}" if not line.startswith(("text:", "option:", "default:")) else line
                for line in u.explanation]
    mood = _melody_mood(emotion, valence, arousal, text, image, why)

    meter_req, meter_src = (meter, "option") if meter else (text.get("meter"), "text") if text.get("meter") else (None, None)
    tempo_req, tempo_src = (float(tempo), "option") if tempo is not None else \
        (float(text["tempo"]), "text") if text.get("tempo") else (None, None)
    tr = transcribe(melody, meter=meter_req, tempo=tempo_req)
    name = Path(melody).name
    heard_key = tr.score.meta.get("detected_key", str(tr.key))
    heard_meter = str(tr.meter) if meter_req is None else None
    why.insert(0, f"melody: {name} → {len(tr.score.parts[0].notes)} notes, {tr.tempo:g} bpm, {tr.meter}, "
               f"{tr.key}, {tr.score.bars} bars"
               + (f" (tuning {tr.tuning_cents:+.0f} cents)" if abs(tr.tuning_cents) >= 5 else ""))
    if meter_req:
        why.append(f"{meter_src}: meter {meter_req} (the melody was fitted to its bars)")
    else:
        why.append(f"melody: meter {heard_meter}")
    score = tr.score
    score.meta = {}
    # key: option > text (a key, or a mode on the melody's tonic) > mood (mode colour) > melody
    target, key_src = None, None
    if key:
        target, key_src = parse_key(key), "option"
    elif text.get("key"):
        target, key_src = parse_key(text["key"]), "text"
    elif text.get("mode"):
        target, key_src = parse_key(f"{tr.key.tonic} {text['mode']}"), "text"
    elif mood is not None:
        from .emotion import emotional_key
        target, key_src = emotional_key(tr.key, mood["valence"]), mood["source"]
    if target is not None and (target.tonic_pc, target.mode) != (tr.key.tonic_pc, tr.key.mode):
        from .editing import transform
        moved = transform(score, key=str(target))
        score.parts, score.key = moved.parts, moved.key
        why.append(f"{key_src}: key {target} (the melody, heard in {heard_key}, moved there with its "
                   "scale degrees kept)")
    elif target is not None:
        score.key = target
        why.append(f"{key_src}: key {target} (the melody's own"
                   + (", its mode fits the mood)" if mood is not None and key_src == mood["source"] else ")"))
    else:
        why.append(f"melody: key {score.key}")
    # tempo: option > text > mood (scales the melody's) > melody
    if tempo_req is not None:
        bpm = tempo_req
        why.append(f"{tempo_src}: tempo {bpm:g} bpm")
    elif mood is not None:
        from .emotion import tempo_factor
        bpm = float(round(tr.tempo * tempo_factor(mood["arousal"])))
        why.append(f"{mood['source']}: tempo {bpm:g} bpm = the melody's {tr.tempo:g} × "
                   f"{tempo_factor(mood['arousal']):.2f} (arousal {mood['arousal']:+.2f})")
    else:
        bpm = tr.tempo
        why.append(f"melody: tempo {bpm:g} bpm")
    if not 20 <= bpm <= 300:
        raise RequestError(f"the melody's tempo {bpm:g} bpm is outside 20-300; give --tempo")
    score.bpm = float(bpm)
    # style: option > text > the style the model finds likeliest for the melody
    from .generation import parse_style_blend
    st_name, st_src = None, None
    if style:
        weights = parse_style_blend(style)
        st_name, st_src = max(weights, key=weights.get), "option"
        if len(weights) > 1:
            why.append(f"option: style blends are not used with --melody; the heaviest, {st_name}, is")
    elif text.get("style"):
        st_name, st_src = text["style"], "text"
    if use == "harmonize":
        as_ = (harmony or ("satb" if st_name == "chorale" else "chords")).lower()
    else:
        as_ = None
    if st_name and as_ not in ("chords", "accompaniment"):  # the model must know the style
        from .errors import StyleError
        from .generation import get_model
        tok = get_model(checkpoint)[1]
        if f"Style_{st_name}" not in tok.ids:
            raise StyleError(f"the model was not trained on style {st_name!r} "
                             f"(it knows {', '.join(tok.config.styles)})")
    lo, hi = SOPRANO_RANGE if as_ == "satb" else MELODY_RANGE
    shift = fit_register(score, lo, hi)
    if shift:
        pitches = [n.pitch for n in score.all_notes()]
        why.append(f"melody: moved {abs(shift) // 12} octave{'s' if abs(shift) > 12 else ''} "
                   f"{'up' if shift > 0 else 'down'} into the melody range ({_pitch_name(min(pitches))}-"
                   f"{_pitch_name(max(pitches))})")
    if seed is None:
        import hashlib
        seed = int(hashlib.sha1(f"{_fingerprint_bytes(melody)}|{use}|{prompt}".encode()).hexdigest()[:8], 16)
    fp = _fingerprint_bytes(melody)
    score.meta = {"source": name, "fingerprint": fp}
    if bars is None and text.get("bars"):
        bars = int(text["bars"])
        why.append(f"text: {bars} bars")
    if form is None and use == "develop" and text.get("form"):
        form = text["form"]
        why.append(f"text: form {form}")
    program = text.get("program")
    out = []
    for i in range(count):
        s_i = seed + i
        melody_copy = Score([Part([Note(n.pitch, n.onset, n.duration, n.velocity) for n in p.notes], p.name, p.program)
                             for p in score.parts], score.key, score.meter, score.bpm, score.bars, score.title,
                            st_name, dict(score.meta))
        lines = list(why)
        if use == "continue":
            total = bars if bars is not None else score.bars + CONTINUE_BARS
            if total <= score.bars:
                raise RequestError(f"the melody already fills {score.bars} bars; ask for more with --bars "
                                   f"(e.g. --bars {score.bars + CONTINUE_BARS})")
            from .editing import continue_piece
            result = continue_piece(melody_copy, total - score.bars, st_name, s_i, checkpoint)
            lines.append(f"use: continue: the melody's {score.bars} bars, then {total - score.bars} new bars "
                         f"({total} in all{'' if bars is not None else ', default +' + str(CONTINUE_BARS)})")
        elif use == "harmonize":
            from .editing import harmonize
            result = harmonize(melody_copy, as_, st_name, 0, s_i, checkpoint)
            lines.append(f"use: harmonize as {as_}"
                         + ("" if harmony else f" (default{' for chorales' if as_ == 'satb' else ''}; "
                                                "--melody-harmony satb|chords|accompaniment)"))
            if bars is not None and bars != score.bars:
                lines.append(f"--bars {bars} not used: a harmonization keeps the melody's {score.bars} bars")
        else:
            result = develop_theme(melody_copy, form or DEFAULT_FORM, bars, st_name, s_i, checkpoint, end_on_tonic)
            f = result.meta["form"]
            lines.append(f"use: develop: the melody is section {f['sections'][0]['label']} of "
                         f"{f['form']}{'' if form else ' (default form)'}, {f['section_bars']} bars a section; "
                         + "; ".join(f['notes']))
        if st_src:
            lines.append(f"{st_src}: style {result.style}")
        elif use != "harmonize" and result.style:
            lines.append(f"melody: style {result.style} (the style the model finds likeliest for the melody)")
        from .styles import STYLES
        if program is not None:  # an instrument named in the text
            result.parts[0].program = program
            lines.append(f"text: instrument {text.get('instrument', program)} for the melody")
        elif result.style in STYLES and not (use == "harmonize" and as_ == "satb"):
            result.parts[0].program = STYLES[result.style].program
        result.title = f"{use.title()} of the melody in {name}"
        result.meta = {**(result.meta or {}), "explanation": lines,
                       "request": {"prompt": prompt or "", "seed": s_i, "melody": name, "melody_use": use,
                                   **({"harmony": as_} if as_ else {}),
                                   **({"form": result.meta.get("form", {}).get("form")} if use == "develop" else {})},
                       "melody": {**tr.to_dict(), "file": name, "fingerprint": fp,
                                  "key_heard": heard_key, "register_shift": shift,
                                  "melody_notes": len(score.parts[0].notes)}}
        out.append(result)
    return out


def _melody_mood(emotion, valence, arousal, text: dict, image, why: list[str]) -> dict | None:
    """The mood that shapes the melody's mode and tempo: an emotion option > mood words in the
    text > a picture. A picture is always read (a bad file is an error) and recorded."""
    from . import emotion as emo
    mood = None
    e = emo.resolve_emotion(emotion, valence, arousal)
    if e is not None:
        mood = {"valence": e.valence, "arousal": e.arousal, "source": "option"}
        why.append(f"option: mood valence {e.valence:+.2f}, arousal {e.arousal:+.2f}")
    elif text.get("valence") is not None or text.get("arousal") is not None:
        mood = {"valence": text.get("valence") or 0.0, "arousal": text.get("arousal") or 0.0, "source": "text"}
    if image is not None:
        from .image import analyze
        pic = analyze(image)
        if mood is None:
            mood = {"valence": pic.valence, "arousal": pic.arousal, "source": "picture"}
            why.extend(f"picture: {x}" if not x.startswith("picture") else x for x in pic.explanation[:1])
        else:
            why.append(f"picture: {pic.explanation[0]} — not used: the {mood['source']}'s mood wins")
    return mood


def develop_theme(melody: Score, form: str = DEFAULT_FORM, bars: int | None = None, style: str | None = None,
                  seed: int = 0, checkpoint=None, end_on_tonic: bool = True) -> Score:
    """The melody as the first section of a phrase form (ABA, AABA, AA'BA ...): later
    statements of its letter repeat it note for note (a primed one, its first half), the other
    sections are composed by the model having read it, every section ends on a cadence note.

    The melody's bars are given to the sampler as they are (``Constraints.given``); returns of
    the theme are given the same tokens; bars the model composed inside the first section are
    repeated with ``Constraints.copy_from``. When the theme's last bar does not end on the
    tonic, the final bar of the piece is composed (the theme returns, then cadences)."""
    from .editing import _cond_key, _record, detect_style
    from .form import parse_form, plan_form
    from .generation import get_model
    from .sampling import Constraints, sample
    from .styles import get_style
    items = parse_form(form)
    n = len(items)
    m = melody.bars
    if bars is None:
        size = m
    else:
        if bars % n:
            raise RequestError(f"{bars} bars cannot be split into the {n} equal sections of form {form!r}")
        size = bars // n
        if size < m:
            raise RequestError(f"the melody fills {m} bars but form {form} with {bars} bars has sections of "
                               f"{size}; use at least --bars {m * n}")
    total = size * n
    if total > 512:
        raise RequestError(f"form {form} with sections of {size} bars would need {total} bars (at most 512)")
    model, tok, _ = get_model(checkpoint)
    style = get_style(style).name if style else detect_style(melody, checkpoint)
    key = melody.key
    ck = _cond_key(key)
    plan = plan_form(form, total, key, end_on_tonic)
    notes = sorted(melody.parts[0].notes, key=lambda x: x.onset)
    src = Score([Part(notes)], ck, melody.meter, melody.bpm, m, style=style)
    enc = tok.encode(src, style=style, pos_bars=frozenset(range(m)))
    per_bar: list[list[int]] = []
    for t in enc[tok.HEADER_LEN:-1]:
        if t == tok.bar:
            per_bar.append([])
        else:
            per_bar[-1].append(t)
    given = {b + 1: toks for b, toks in enumerate(per_bar) if toks}
    tonic_end = (max(notes, key=lambda x: x.onset).pitch - key.tonic_pc) % 12 == 0
    copy_from, notes_out = {}, []
    for dst, src_bar in sorted(plan.copy_from.items()):
        if src_bar in given:
            if dst == total and end_on_tonic and not tonic_end:
                notes_out.append(f"the final bar cadences on the tonic instead of repeating bar {src_bar}")
                continue
            given[dst] = given[src_bar]
        else:
            copy_from[dst] = src_bar
    pitches = [x.pitch for x in notes]
    lo, hi = min(MELODY_RANGE[0], min(pitches)), max(MELODY_RANGE[1], max(pitches))
    cons = Constraints(key=key, meter=melody.meter, bars=total, voices=1, ranges=[(lo, hi)],
                       end_on_tonic=end_on_tonic, cadence_bars=plan.cadence_bars,
                       copy_from=copy_from or None, given=given, token_key=ck)
    header = tok.header(style, ck, melody.meter, melody.bpm, total, 1)
    t0 = time.perf_counter()
    seq = sample(model, tok, header, cons, seed=seed)
    secs = time.perf_counter() - t0
    new = tok.decode(seq)
    out_notes = new.parts[0].notes if new.parts else []
    returns = sorted(d for d, s in plan.copy_from.items() if s in given and d in given)
    if returns:
        notes_out.insert(0, f"the theme returns in bars {_ranges(returns)}")
    if size > m:
        notes_out.insert(0, f"bars {m + 1}-{size} carry the theme on to its section's end")
    result = Score([Part(out_notes, "Melody", melody.parts[0].program)], key, melody.meter, melody.bpm, total,
                   melody.title, style)
    result.meta = {"form": {"form": plan.form, "section_bars": size, "theme_bars": m, "notes": notes_out,
                            "sections": [{"label": s.label + ("'" if s.varied else ""),
                                          "bars": [s.first_bar, s.first_bar + s.n_bars - 1]} for s in plan.sections]}}
    _record(result, "develop", {"form": plan.form, "bars": total, "style": style}, melody, seed, secs)
    return result


def _ranges(bars: list[int]) -> str:
    out, start = [], None
    for i, b in enumerate(bars):
        if start is None:
            start = b
        if i + 1 == len(bars) or bars[i + 1] != b + 1:
            out.append(f"{start}-{b}" if b != start else str(b))
            start = None
    return ", ".join(out)


def describe_melody(score: Score) -> dict:
    """music.json for a piece made from a melody: the usual record plus the transcription and
    the edit that used it."""
    from .generation import describe
    info = describe(score)
    info["melody"] = score.meta.get("melody")
    if score.meta.get("edit"):
        info["edit"] = score.meta["edit"]
    return info


def generate_with_melody(melody, use: str, prompt: str, out, *, chords=None, accompany: bool = False,
                         range_=None, density=None, audio: bool = True, log=print, **kw) -> list[Path]:
    """The CLI's ``generate --melody``: check the output folder, compose, print what was
    heard, write the files (all or nothing). Options that shape a melody the model writes from
    nothing (--chords, --accompany, --range, --density) are refused with a clear message."""
    from .render import check_out_dir, write_outputs
    for flag, value in (("--chords", chords), ("--accompany", accompany or None), ("--range", range_),
                        ("--density", density)):
        if value is not None:
            raise RequestError(f"{flag} cannot be combined with --melody (the melody gives the notes; "
                               "see docs/melody.md)")
    check_out_dir(out)
    scores = compose_from_melody(melody, use, prompt, **kw)
    for line in scores[0].meta.get("explanation", []):
        log(f"heard: {line}")
    return write_outputs([(s, describe_melody(s)) for s in scores], out, audio=audio)
