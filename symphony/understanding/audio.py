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

from symphony.errors import RequestError
from symphony.music.score import Note, Part, Score, analyze_key
from symphony.music.theory import Key, Meter, parse_key, parse_meter
from symphony.settings import use_user_numba_cache

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
    if not p.is_file():  # missing, a folder, a link loop: said as such
        from symphony.formats.files import not_a_file
        raise RequestError(not_a_file(path, "audio file", ", ".join(sorted(AUDIO_SUFFIXES))))
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

            _note_first_compile()
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
        _note_first_compile()
        import librosa
        y = librosa.resample(y, orig_sr=rate, target_sr=sr, res_type="soxr_hq")
    return np.ascontiguousarray(y, dtype=np.float32), len(y) / sr


# ----------------------------------------------------------------------------- pitch and notes

def _frame_times(n: int, sr: int) -> np.ndarray:
    return np.arange(n) * HOP / sr


def pitch_range(y: np.ndarray, sr: int = SAMPLE_RATE) -> tuple[float, float]:
    """The lowest and highest pitch (Hz) the recording holds steadily, from a quick YIN pass
    (pYIN's cost grows with the square of its pitch range, so it is run on this range only)."""
    _note_first_compile()
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


def _note_first_compile() -> None:
    """Call before ``import librosa``. Say so before the slow first use of librosa of an
    installation: numba compiles it once into NUMBA_CACHE_DIR (a line on stderr through the ``symphony`` logger, terminal or not)."""
    global _COMPILE_NOTED
    import logging
    use_user_numba_cache()  # librosa compiles some of its functions when it is imported
    folder = Path(os.environ.get("NUMBA_CACHE_DIR") or ".")
    if not _COMPILE_NOTED and (not folder.is_dir() or not any(folder.rglob("*.nbi"))):
        logging.getLogger("symphony").warning(
            f"first use of the pitch tracker: compiling it once (a minute or two; cached in {folder})")
    _COMPILE_NOTED = True


_COMPILE_NOTED = False


def track_pitch(y: np.ndarray, sr: int = SAMPLE_RATE) -> dict:
    """pYIN f0 (MIDI, NaN when unvoiced), voicing probability, frame level (dB re the loudest
    frame) and onset strength, all on the same frames."""
    _note_first_compile()
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
    _note_first_compile()
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
    t0 = time.perf_counter()
    name = "the recording"
    if isinstance(source, tuple):
        y, rate = source
        y = np.asarray(y, dtype=np.float32)
        if y.ndim == 2:
            y = y.mean(axis=1)
        if rate != sr:
            _note_first_compile()
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


