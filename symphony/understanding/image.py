"""Pictures → mood: `symphony generate --image FILE`.

A picture (PNG, JPEG or WebP, any size up to the limits below) is reduced to five measurable
properties, which are mapped to a point of the valence–arousal plane; that point then goes
through exactly the same musical mapping as ``--valence/--arousal`` (``symphony.emotion.
musical_mapping``), so mode, tempo, register, note density and loudness follow from it.
The whole mapping is documented, with a table and examples, in docs/image.md.

Features, measured on a thumbnail whose longer side is at most ``ANALYSIS_SIZE`` pixels
(values of sRGB channels in [0, 1]):

=============  ================================================================  ===========
feature        measure                                                           centred as
=============  ================================================================  ===========
brightness     mean luma Y' = 0.2126 R + 0.7152 G + 0.0722 B                     (x − 0.45) / 0.3
saturation     mean chroma, max(R,G,B) − min(R,G,B) (0 grey … 1 pure colour)     (x − 0.2) / 0.2
warmth         chroma-weighted mean of cos(hue − 30°): +1 red/orange/yellow,     as is
               −1 cyan/blue; shrunk towards 0 when the mean chroma is below 0.1
contrast       RMS contrast: standard deviation of luma (Peli 1990)              (x − 0.2) / 0.15
busyness       edge density: share of pixels whose colour gradient exceeds 0.1   (x − 0.15) / 0.15
=============  ================================================================  ===========

Each centred value is clamped to [−1, 1] (B, S, W, C, E). Then

    valence = 0.7 B + 0.3 S                    (Valdez & Mehrabian 1994: pleasure ≈ .69 brightness
                                                + .22 saturation; brightness dominates)
    arousal = 0.35 S + 0.30 E + 0.15 C + 0.20 W (saturation is the strongest colour cue to arousal,
                                                Valdez & Mehrabian 1994, Wilms & Oberfeld 2018;
                                                warm hues more arousing than cool ones, Jacobs &
                                                Hustmyer 1974, Wilms & Oberfeld 2018; visual
                                                complexity and contrast arouse, Berlyne 1971)

both clamped to [−1, 1]. Register (round(4 v + 3 a) semitones) and density (= a) are those of the
emotion mapping, so a light picture sounds higher and a busy one denser.

>>> import numpy as np
>>> from PIL import Image
>>> sunny = Image.fromarray(np.full((60, 80, 3), (250, 200, 40), np.uint8))
>>> m = analyze(sunny)
>>> m.quadrant, m.valence > 0.5, m.features["warmth"] > 0.8
('happy/excited', True, True)
"""
from __future__ import annotations

import os
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from symphony.errors import RequestError
from symphony.understanding.emotion import musical_mapping, quadrant

FORMATS = ("PNG", "JPEG", "WEBP")
MAX_FILE_BYTES = 50 * 1024 * 1024  # 50 MB on disk
MAX_PIXELS = 100_000_000  # 100 megapixels (checked from the header, before decoding)
ANALYSIS_SIZE = 256  # the longer side of the thumbnail the features are measured on
EDGE_THRESHOLD = 0.1  # colour gradient (channel units per pixel) that counts as an edge
WARM_HUE = 30.0  # degrees: orange; cos(hue − 30°) is +1 there and −1 at 210° (azure)

# feature -> (centre, half-width): the centred value is (x − centre) / half-width, clamped
CENTRES = {"brightness": (0.45, 0.3), "saturation": (0.2, 0.2), "contrast": (0.2, 0.15),
           "busyness": (0.15, 0.15)}
VALENCE_WEIGHTS = {"brightness": 0.7, "saturation": 0.3}
AROUSAL_WEIGHTS = {"saturation": 0.35, "busyness": 0.30, "contrast": 0.15, "warmth": 0.20}


class ImageError(RequestError):
    """A picture that cannot be used: missing, empty, corrupt, unsupported or too large."""


@dataclass
class ImageMood:
    features: dict[str, float]  # raw measurements (see the module docstring)
    centred: dict[str, float]  # each in [-1, 1]
    valence: float
    arousal: float
    quadrant: str
    register_shift: int  # semitones, from the emotion mapping
    density: float  # -1 sparse .. 1 dense, from the emotion mapping
    explanation: list[str]
    width: int = 0  # of the original picture
    height: int = 0
    format: str | None = None
    file: str | None = None
    seconds: float = 0.0  # time to read and measure
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The record stored in the request and in music.json (under "image")."""
        d = asdict(self)
        d.pop("extra")
        d.pop("seconds")
        return d


def _clamp(x: float, lo: float = -1.0, hi: float = 1.0) -> float:
    return max(lo, min(hi, float(x)))


# ----------------------------------------------------------------------------- reading

def load(path) -> "Image.Image":
    """Open, check and decode a picture file into a small RGB thumbnail (longer side at most
    ANALYSIS_SIZE). Every problem is an ImageError (a RequestError) with one clear line."""
    from PIL import Image, UnidentifiedImageError

    p = Path(path)
    name = str(path)
    if not p.is_file():  # missing, a folder, a link loop: said as such
        from symphony.formats.files import not_a_file
        why = not_a_file(path, "file", "PNG, JPEG or WebP")
        raise ImageError(f"picture {name!r} does not exist" if why.startswith("no such") else f"picture {why}")
    size = p.stat().st_size
    if size == 0:
        raise ImageError(f"picture {name!r} is empty (0 bytes)")
    if size > MAX_FILE_BYTES:
        raise ImageError(f"picture {name!r} is {size / 2**20:.0f} MB; the limit is "
                         f"{MAX_FILE_BYTES // 2**20} MB")
    try:
        with warnings.catch_warnings():
            # our own pixel limit (MAX_PIXELS, checked below from the header) replaces Pillow's
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(p) as im:
                fmt = im.format
                if fmt not in FORMATS:
                    raise ImageError(f"picture {name!r} is {fmt or 'an unknown'} format; "
                                     f"use PNG, JPEG or WebP")
                w, h = im.size
                if w * h > MAX_PIXELS:
                    raise ImageError(f"picture {name!r} has {w}x{h} = {w * h / 1e6:.0f} megapixels; "
                                     f"the limit is {MAX_PIXELS // 1_000_000}")
                thumb = _thumbnail(im)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(f"{name!r} is not a picture Symphony can read (use PNG, JPEG or WebP)") from None
    except Image.DecompressionBombError:
        raise ImageError(f"picture {name!r} is too large to decode safely (over "
                         f"{MAX_PIXELS // 1_000_000} megapixels)") from None
    except MemoryError:
        raise ImageError(f"picture {name!r} is too large to decode in memory") from None
    except PermissionError:
        raise ImageError(f"picture {name!r} cannot be read (permission denied)") from None
    except Exception as e:  # truncated or corrupt data: OSError, SyntaxError, ValueError, ...
        msg = " ".join(str(e).split()) or type(e).__name__
        raise ImageError(f"picture {name!r} is corrupt or truncated ({msg})") from None
    thumb.info["symphony_source"] = {"format": fmt, "width": w, "height": h, "file": p.name}
    return thumb


def _thumbnail(im) -> "Image.Image":
    """The first frame, decoded at reduced size where the format allows (JPEG DCT scaling),
    flattened onto white if transparent, converted to RGB and shrunk to ANALYSIS_SIZE."""
    from PIL import Image

    if getattr(im, "n_frames", 1) > 1:
        im.seek(0)
    if im.format == "JPEG":
        im.draft("RGB", (ANALYSIS_SIZE * 2, ANALYSIS_SIZE * 2))  # decode at 1/2..1/8 scale: fast
    im.load()
    mode = im.mode
    if mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):  # 16-bit or float greyscale
        a = np.asarray(im, dtype=np.float64)
        top = 65535.0 if (mode != "F" and a.max() > 255) else (1.0 if mode == "F" else 255.0)
        a = np.clip(a / top * 255.0, 0, 255).astype(np.uint8)
        im = Image.fromarray(a, "L")
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info) \
            or (im.mode in ("RGB", "L") and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, rgba)
    im = im.convert("RGB")
    im.thumbnail((ANALYSIS_SIZE, ANALYSIS_SIZE), Image.Resampling.BICUBIC, reducing_gap=2.0)
    return im


# ----------------------------------------------------------------------------- features

def measure(rgb: np.ndarray) -> dict[str, float]:
    """The five features of an RGB array (H, W, 3) with values in [0, 1]."""
    rgb = np.asarray(rgb, dtype=np.float64)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    luma = 0.2126 * r + 0.7152 * g + 0.0722 * b
    mx, mn = rgb.max(axis=-1), rgb.min(axis=-1)
    chroma = mx - mn
    mean_chroma = float(chroma.mean())
    # hue (HSV hexcone) in degrees, only where there is colour
    with np.errstate(invalid="ignore", divide="ignore"):
        safe = np.where(chroma > 0, chroma, 1.0)
        h = np.where(mx == r, ((g - b) / safe) % 6,
                     np.where(mx == g, (b - r) / safe + 2, (r - g) / safe + 4)) * 60.0
    warm = np.cos(np.radians(h - WARM_HUE)) * chroma
    warmth = float(warm.sum() / (chroma.size * max(mean_chroma, 0.1)))  # shrunk when greyish
    if rgb.shape[0] >= 2 and rgb.shape[1] >= 2:
        gx = np.abs(np.diff(rgb, axis=1)).max(axis=-1)[:-1, :]
        gy = np.abs(np.diff(rgb, axis=0)).max(axis=-1)[:, :-1]
        busyness = float((np.hypot(gx, gy) > EDGE_THRESHOLD).mean())
    else:
        busyness = 0.0
    return {"brightness": round(float(luma.mean()), 4), "saturation": round(mean_chroma, 4),
            "warmth": round(_clamp(warmth), 4), "contrast": round(float(luma.std()), 4),
            "busyness": round(busyness, 4)}


def centre(features: dict[str, float]) -> dict[str, float]:
    """Each feature moved to [-1, 1] (0 = an ordinary photograph)."""
    out = {}
    for name, x in features.items():
        c, half = CENTRES.get(name, (0.0, 1.0))
        out[name] = round(_clamp((x - c) / half), 4)
    return out


def mood(features: dict[str, float]) -> tuple[float, float, dict[str, float]]:
    """(valence, arousal, centred features) of a picture's features."""
    z = centre(features)
    v = _clamp(sum(w * z[k] for k, w in VALENCE_WEIGHTS.items()))
    a = _clamp(sum(w * z[k] for k, w in AROUSAL_WEIGHTS.items()))
    return round(v, 3), round(a, 3), z


def _word(name: str, z: float) -> str:
    words = {"brightness": ("dark", "bright"), "saturation": ("muted", "saturated"),
             "warmth": ("cool", "warm"), "contrast": ("low contrast", "high contrast"),
             "busyness": ("smooth", "busy")}
    lo, hi = words[name]
    if abs(z) < 0.2:
        return {"brightness": "mid-bright", "saturation": "moderately coloured", "warmth": "neutral hue",
                "contrast": "medium contrast", "busyness": "moderately detailed"}[name]
    return ("very " if abs(z) >= 0.8 else "") + (hi if z > 0 else lo)


def analyze(source, name: str | None = None) -> ImageMood:
    """A picture file (path) or a PIL Image → ImageMood: features, mood and explanation."""
    import time

    from PIL import Image


    t0 = time.perf_counter()
    if isinstance(source, Image.Image):
        info = {"format": source.format, "width": source.width, "height": source.height,
                "file": name}
        im = _thumbnail(source.copy())
    elif isinstance(source, (str, os.PathLike)):
        im = load(source)
        info = im.info["symphony_source"]
    else:
        raise ImageError(f"--image wants a file path, got {type(source).__name__}")
    rgb = np.asarray(im, dtype=np.float64) / 255.0
    f = measure(rgb)
    v, a, z = mood(f)
    m = musical_mapping(v, a, 100)
    q = quadrant(v, a)
    said = ", ".join(f"{_word(k, z[k])} ({f[k]:.2f})" for k in ("brightness", "saturation", "warmth",
                                                                  "contrast", "busyness"))
    explanation = [
        f"picture: {info['file'] + ' — ' if info.get('file') else ''}{said} → valence {v:+.2f}, "
        f"arousal {a:+.2f} ({q})",
        "picture: valence = " + " + ".join(f"{w:g} × {k} ({z[k]:+.2f})" for k, w in VALENCE_WEIGHTS.items())
        + f" = {v:+.2f}",
        "picture: arousal = " + " + ".join(f"{w:g} × {k} ({z[k]:+.2f})" for k, w in AROUSAL_WEIGHTS.items())
        + f" = {a:+.2f}",
    ]
    return ImageMood(features=f, centred=z, valence=v, arousal=a, quadrant=q,
                     register_shift=m["register_shift"], density=m["density"],
                     explanation=explanation, width=int(info["width"]), height=int(info["height"]),
                     format=info.get("format"), file=info.get("file"),
                     seconds=round(time.perf_counter() - t0, 4))
