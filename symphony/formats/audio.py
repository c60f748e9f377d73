"""Loudness of the rendered audio: integrated loudness (ITU-R BS.1770-4, LUFS), true peak (dBTP)
and normalisation of a WAV file to a standard loudness.

FluidSynth's level depends on the SoundFont, the instruments and how many voices play: a
chorale and a solo jig came out between -18 and -25 dBFS peak. Every WAV Symphony writes is set
to -16 LUFS integrated (the usual target for music streamed or played on a computer) with its
true peak at most -1 dBTP; a piece whose peaks would pass -1 dBTP at -16 LUFS is turned down
until they don't (it is then quieter than -16 LUFS; nothing is compressed or limited).
"""
from __future__ import annotations

import math
import os

import numpy as np

TARGET_LUFS = -16.0
MAX_TRUE_PEAK_DB = -1.0
BLOCK_S, STEP_S = 0.4, 0.1  # gating blocks of 400 ms, 75 % overlap
ABSOLUTE_GATE, RELATIVE_GATE = -70.0, -10.0
OVERSAMPLE = 4  # true peak: the peak of the signal upsampled 4 times (BS.1770-4 annex 2)

# The K-weighting filter of BS.1770 (a high shelf, then a high pass) by its analogue parameters,
# so that it can be designed at any sample rate (Brecht De Man's derivation of the 48 kHz
# coefficients that the standard lists).
_SHELF = {"f0": 1681.974450955533, "gain_db": 3.999843853973347, "q": 0.7071752369554196}
_HIGHPASS = {"f0": 38.13547087602444, "q": 0.5003270373238773}


def k_weighting(rate: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The two biquads (b, a) of the K-weighting filter at this sample rate."""
    k = math.tan(math.pi * _SHELF["f0"] / rate)
    q = _SHELF["q"]
    vh = 10 ** (_SHELF["gain_db"] / 20)
    vb = vh ** 0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = (np.array([(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0]),
             np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]))
    k = math.tan(math.pi * _HIGHPASS["f0"] / rate)
    q = _HIGHPASS["q"]
    a0 = 1 + k / q + k * k
    highpass = (np.array([1.0, -2.0, 1.0]), np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]))
    return [shelf, highpass]


def _channels(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples, dtype=np.float64)
    return x[:, None] if x.ndim == 1 else x


def integrated_loudness(samples: np.ndarray, rate: int) -> float:
    """Integrated loudness in LUFS of float samples (frames x channels, full scale 1.0), gated
    as BS.1770-4 says; -inf for silence or audio shorter than one 400 ms block. Left and right
    (and any other channel) are weighted 1."""
    from scipy.signal import lfilter
    x = _channels(samples)
    for b, a in k_weighting(rate):
        x = lfilter(b, a, x, axis=0)
    block, step = round(BLOCK_S * rate), round(STEP_S * rate)
    if len(x) < block:
        return -math.inf
    sq = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(x * x, axis=0)])
    starts = np.arange(0, len(x) - block + 1, step)
    z = (sq[starts + block] - sq[starts]) / block  # mean square per block and channel
    power = z.sum(axis=1)
    with np.errstate(divide="ignore"):
        loud = -0.691 + 10 * np.log10(power)
    kept = loud > ABSOLUTE_GATE
    if not kept.any():
        return -math.inf
    relative = -0.691 + 10 * math.log10(power[kept].mean()) + RELATIVE_GATE
    kept &= loud > relative
    return -0.691 + 10 * math.log10(power[kept].mean())


def true_peak_db(samples: np.ndarray) -> float:
    """The true peak in dBTP: the largest absolute value of the signal upsampled 4 times."""
    from scipy.signal import resample_poly
    x = _channels(samples)
    if not x.size:
        return -math.inf
    peak = max(float(np.abs(x).max()), float(np.abs(resample_poly(x, OVERSAMPLE, 1, axis=0)).max()))
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def measure_wav(path: str | os.PathLike) -> tuple[float, float]:
    """(integrated loudness in LUFS, true peak in dBTP) of a sound file."""
    import soundfile
    data, rate = soundfile.read(str(path), dtype="float64", always_2d=True)
    return integrated_loudness(data, rate), true_peak_db(data)


def normalize_wav(path: str | os.PathLike, target_lufs: float = TARGET_LUFS,
                  max_true_peak_db: float = MAX_TRUE_PEAK_DB) -> float:
    """Rewrite a WAV file at target_lufs, or lower where its true peak would pass
    max_true_peak_db; returns the gain applied in dB (0 for silence or very short files)."""
    import soundfile
    info = soundfile.info(str(path))
    data, rate = soundfile.read(str(path), dtype="float64", always_2d=True)
    loudness, peak = integrated_loudness(data, rate), true_peak_db(data)
    if not math.isfinite(loudness) or not math.isfinite(peak):
        return 0.0
    gain = min(target_lufs - loudness, max_true_peak_db - peak)
    out = np.clip(data * 10 ** (gain / 20), -1.0, 1.0)
    soundfile.write(str(path), out, rate, subtype=info.subtype if info.subtype.startswith("PCM") else "PCM_16")
    return gain
