"""Pictures → mood (issue 5, item 2): how well the picture mapping does, measured.

    .venv/bin/python -m benchmarks.image            # writes benchmarks/image.json and image.md

1. A labelled set of synthetic pictures, 10 per quadrant of the valence–arousal plane, made
   deterministically in code (seeded): flat colour fields, two-colour gradients, soft blobs,
   pixel and block noise, stripes and random shapes, with the brightness, colourfulness and
   busyness of the quadrant they stand for and the **hue drawn uniformly around the whole
   colour circle** (so warmth is a nuisance here, not a help):

   | quadrant       | lightness (HLS) | HLS saturation | texture (busyness)                      |
   |----------------|-----------------|----------------|-----------------------------------------|
   | happy/excited  | 0.55–0.75       | 0.75–1.0       | pixel/block noise, stripes, many shapes |
   | angry/tense    | 0.12–0.30       | 0.6–1.0        | the same busy textures                  |
   | sad/depressed  | 0.08–0.30       | 0.0–0.25       | flat field, gradient, soft blobs        |
   | calm/content   | 0.70–0.90       | 0.1–0.45       | the same smooth textures                |

   Each picture is saved as a 640x480 JPEG (quality 90) and read back through
   ``symphony.image.analyze``; quadrant accuracy and the confusion matrix are reported.
   These labels follow the design of the mapping (bright + colourful = pleasant, colourful +
   busy = aroused), so this measures that the *features* are read robustly across textures,
   hues, JPEG compression and the edges of each region, not that people would agree.
2. For every picture a piece (8 bars; styles chinese, german, celtic, chorale in turn) is generated
   with the shipped model exactly as ``symphony generate --image`` does (``resolve(image=...)``),
   written to MIDI and read back; from the file: tempo (relative to the style's default), the
   mode music21's key analysis hears, and ``symphony.emotion.estimate_emotion`` (style-aware),
   whose quadrant is compared with the picture's label.
3. Speed: the time to read and measure a 4000x3000 picture (JPEG, also PNG and WebP), the median
   of 7 runs, and of a 6000x4000 JPEG.
"""
from __future__ import annotations

import colorsys
import json
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

QUADRANTS = ("happy/excited", "angry/tense", "sad/depressed", "calm/content")
SPEC = {  # quadrant -> (lightness range, saturation range, busy?)
    "happy/excited": ((0.55, 0.75), (0.75, 1.0), True),
    "angry/tense": ((0.12, 0.30), (0.6, 1.0), True),
    "sad/depressed": ((0.08, 0.30), (0.0, 0.25), False),
    "calm/content": ((0.70, 0.90), (0.1, 0.45), False),
}
BUSY = ("pixel_noise", "block_noise", "stripes", "shapes")
SMOOTH = ("field", "gradient", "blobs")
STYLES = ("chinese", "german", "celtic", "chorale")
W, H = 640, 480
HERE = Path(__file__).parent


def _colour(h, l, s):
    return np.array(colorsys.hls_to_rgb(h % 1.0, min(max(l, 0), 1), min(max(s, 0), 1))) * 255


def make_picture(quadrant: str, i: int) -> tuple[Image.Image, dict]:
    """The i-th synthetic picture of a quadrant (deterministic)."""
    rng = np.random.default_rng(1000 * QUADRANTS.index(quadrant) + i)
    (l0, l1), (s0, s1), busy = SPEC[quadrant]
    hue, light, sat = rng.uniform(0, 1), rng.uniform(l0, l1), rng.uniform(s0, s1)
    kinds = BUSY if busy else SMOOTH
    kind = kinds[i % len(kinds)]
    base = _colour(hue, light, sat)
    a = np.zeros((H, W, 3)) + base
    if kind == "field":
        a += np.linspace(-8, 8, W)[None, :, None]
    elif kind == "gradient":
        other = _colour(hue + rng.uniform(-0.08, 0.08), light + rng.uniform(-0.08, 0.08), sat)
        t = np.linspace(0, 1, H)[:, None, None]
        a = (1 - t) * base + t * other + np.zeros((H, W, 3))
    elif kind == "blobs":  # large soft patches: low-frequency noise, bicubic upsampled
        small = rng.normal(0, 14, (6, 8, 3))
        up = np.asarray(Image.fromarray(np.clip(128 + small, 0, 255).astype(np.uint8)).resize(
            (W, H), Image.Resampling.BICUBIC), float) - 128
        a += up
    elif kind == "pixel_noise":
        a += rng.normal(0, rng.uniform(40, 70), (H, W, 1)) + rng.normal(0, 15, (H, W, 3))
    elif kind == "block_noise":
        b = int(rng.integers(3, 7))
        n = rng.normal(0, rng.uniform(45, 70), (H // b + 1, W // b + 1, 1))
        a += n.repeat(b, 0).repeat(b, 1)[:H, :W]
    elif kind == "stripes":
        period = rng.uniform(5, 10)
        ang = rng.uniform(0, np.pi)
        yy, xx = np.mgrid[0:H, 0:W]
        wave = np.sign(np.sin(2 * np.pi * (xx * np.cos(ang) + yy * np.sin(ang)) / period))
        a += wave[..., None] * rng.uniform(40, 70)
    a = np.clip(a, 0, 255).astype(np.uint8)
    im = Image.fromarray(a, "RGB")
    if kind == "shapes":
        d = ImageDraw.Draw(im)
        for _ in range(int(rng.integers(250, 400))):
            x, y = rng.uniform(0, W), rng.uniform(0, H)
            r = rng.uniform(4, 18)
            c = _colour(hue + rng.uniform(-0.1, 0.1), light + rng.uniform(-0.25, 0.25), sat)
            box = [x - r, y - r, x + r, y + r * rng.uniform(0.5, 1.5)]
            (d.ellipse if rng.random() < 0.5 else d.rectangle)(box, fill=tuple(int(v) for v in c))
    if kind == "blobs":
        im = im.filter(ImageFilter.GaussianBlur(2))
    return im, {"quadrant": quadrant, "kind": kind, "hue_deg": round(hue * 360), "lightness": round(light, 3),
                "saturation": round(sat, 3)}


def bench_mapping(tmp: Path, n_per: int, checkpoint=None, music: bool = True):
    from symphony.understanding.emotion import estimate_emotion, quadrant
    from symphony.tasks.generate import generate_request
    from symphony.tasks.requests import resolve
    from symphony.understanding.image import analyze
    from symphony.music.score import analyze_key
    from symphony.formats.midi import read_midi, write_midi
    from symphony.music.styles import STYLES as ST

    rows = []
    for q in QUADRANTS:
        for i in range(n_per):
            im, spec = make_picture(q, i)
            path = tmp / f"{q.split('/')[0]}-{i}.jpg"
            im.save(path, quality=90)
            m = analyze(path)
            row = {**spec, "file": path.name, "features": m.features, "valence": m.valence,
                   "arousal": m.arousal, "predicted": m.quadrant}
            if music:
                style = STYLES[(QUADRANTS.index(q) * n_per + i) % len(STYLES)]
                req, why = resolve(style=style, bars=8, seed=500 + i, image=path)
                score = generate_request(req, checkpoint, explanation=why)
                mid = tmp / f"{path.stem}.mid"
                write_midi(score, mid)
                back = read_midi(mid)
                ev, ea = estimate_emotion(back, style=style)
                row.update({"style": style, "bpm": back.bpm, "tempo_ratio": back.bpm / ST[style].default_bpm,
                            "requested_key": req.key, "heard_mode": analyze_key(back).mode,
                            "estimated_valence": ev, "estimated_arousal": ea,
                            "estimated_quadrant": quadrant(ev, ea)})
            rows.append(row)
    return rows


def summarise(rows):
    out = {"n": len(rows), "per_quadrant": {}, "confusion": {}}
    out["accuracy"] = sum(r["predicted"] == r["quadrant"] for r in rows) / len(rows)
    for q in QUADRANTS:
        rs = [r for r in rows if r["quadrant"] == q]
        c = Counter(r["predicted"] for r in rs)
        out["confusion"][q] = {p: c.get(p, 0) for p in QUADRANTS}
        d = {"n": len(rs), "accuracy": sum(r["predicted"] == q for r in rs) / len(rs),
             "mean_valence": statistics.mean(r["valence"] for r in rs),
             "mean_arousal": statistics.mean(r["arousal"] for r in rs),
             "mean_features": {k: round(statistics.mean(r["features"][k] for r in rs), 3)
                               for k in rs[0]["features"]}}
        if "bpm" in rs[0]:
            d.update({"mean_tempo_ratio": statistics.mean(r["tempo_ratio"] for r in rs),
                      "mean_bpm": statistics.mean(r["bpm"] for r in rs),
                      "major_share_heard": sum(r["heard_mode"] == "major" for r in rs) / len(rs),
                      "mean_estimated_valence": statistics.mean(r["estimated_valence"] for r in rs),
                      "mean_estimated_arousal": statistics.mean(r["estimated_arousal"] for r in rs),
                      "music_quadrant_hit": sum(r["estimated_quadrant"] == q for r in rs) / len(rs)})
        out["per_quadrant"][q] = d
    if "bpm" in rows[0]:
        out["music_quadrant_hit"] = sum(r["estimated_quadrant"] == r["quadrant"] for r in rows) / len(rows)
        out["music_follows_picture_mood"] = sum(r["estimated_quadrant"] == r["predicted"] for r in rows) / len(rows)
    return out


def bench_speed(tmp: Path, repeats: int = 7):
    from symphony.understanding.image import analyze
    rng = np.random.default_rng(7)
    res = {}
    for (w, h), fmts in (((4000, 3000), ("JPEG", "PNG", "WEBP")), ((6000, 4000), ("JPEG",))):
        # a photo-like picture: smooth light falloff, mid-size blocks of texture, some fine noise
        yy = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
        xx = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
        base = np.array([200, 150, 90], np.float32) * (0.6 + 0.4 * xx) * (1 - 0.3 * yy)
        blocks = rng.normal(0, 25, (h // 16 + 1, w // 16 + 1, 3)).astype(np.float32)
        tex = blocks.repeat(16, 0).repeat(16, 1)[:h, :w]
        a = np.clip(base + tex + rng.normal(0, 6, (h, w, 1)).astype(np.float32), 0, 255).astype(np.uint8)
        im = Image.fromarray(a, "RGB")
        for fmt in fmts:
            path = tmp / f"speed-{w}x{h}.{fmt.lower()}"
            im.save(path, fmt, **({"quality": 90} if fmt != "PNG" else {"compress_level": 6}))
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                analyze(path)
                times.append(time.perf_counter() - t0)
            res[f"{fmt} {w}x{h}"] = {"median_s": round(statistics.median(times), 4),
                                     "min_s": round(min(times), 4), "file_mb": round(path.stat().st_size / 1e6, 2)}
    return res


def write_md(res, path: Path):
    s = res["mapping"]
    lines = ["# Pictures → mood: measured", "",
             f"`{res['command']}` — {res['date']}, {res['machine']}, {res['seconds']:.0f} s in all.",
             "How the set is made and what is measured: the docstring of `benchmarks/image.py`; the "
             "mapping: [docs/image.md](../docs/image.md).", "",
             f"## Quadrant accuracy of the mapping: {s['accuracy']:.0%} ({s['n']} synthetic pictures, "
             f"{s['n'] // 4} per quadrant, hues uniform over the colour circle, read back from JPEG)", "",
             "| label \\ predicted | " + " | ".join(QUADRANTS) + " | accuracy | mean valence | mean arousal |",
             "|---|" + "---|" * (len(QUADRANTS) + 3)]
    for q in QUADRANTS:
        d = s["per_quadrant"][q]
        lines.append(f"| {q} | " + " | ".join(str(s["confusion"][q][p]) for p in QUADRANTS)
                     + f" | {d['accuracy']:.0%} | {d['mean_valence']:+.2f} | {d['mean_arousal']:+.2f} |")
    lines += ["", "Mean measured features per quadrant:", "",
              "| quadrant | brightness | saturation | warmth | contrast | busyness |", "|---|---|---|---|---|---|"]
    for q in QUADRANTS:
        f = s["per_quadrant"][q]["mean_features"]
        lines.append(f"| {q} | " + " | ".join(f"{f[k]:.3f}" for k in ("brightness", "saturation", "warmth",
                                                                        "contrast", "busyness")) + " |")
    if "music_quadrant_hit" in s:
        lines += ["", f"## The generated pieces (read back from the written MIDI): "
                  f"{s['music_quadrant_hit']:.0%} land in the picture's labelled quadrant, "
                  f"{s['music_follows_picture_mood']:.0%} in the quadrant the mapping read from the picture", "",
                  "One 8-bar piece per picture with the shipped model (styles chinese, german, celtic, "
                  "chorale in turn), generated as `symphony generate --image` does. Tempo is the MIDI "
                  "tempo over the style's default; mode is music21's key analysis of the file; the "
                  "estimate is `estimate_emotion(score, style=...)`.", "",
                  "| picture quadrant | mean tempo / style default | mean bpm | heard major | "
                  "estimated valence | estimated arousal | piece in the picture's quadrant |",
                  "|---|---|---|---|---|---|---|"]
        for q in QUADRANTS:
            d = s["per_quadrant"][q]
            lines.append(f"| {q} | {d['mean_tempo_ratio']:.2f} | {d['mean_bpm']:.0f} | "
                         f"{d['major_share_heard']:.0%} | {d['mean_estimated_valence']:+.2f} | "
                         f"{d['mean_estimated_arousal']:+.2f} | {d['music_quadrant_hit']:.0%} |")
    lines += ["", "## Speed (read + measure, median of 7; one process, 2-core CPU shared with other work)", "",
              "| picture | file size | median | fastest |", "|---|---|---|---|"]
    for k, v in res["speed"].items():
        lines.append(f"| {k} | {v['file_mb']} MB | {v['median_s'] * 1000:.0f} ms | {v['min_s'] * 1000:.0f} ms |")
    lines += ["", "JPEGs decode at reduced size (Pillow's `draft`, DCT scaling), so their time hardly grows "
              "with the picture; PNG and WebP are decoded in full, then thumbnailed.", ""]
    missed = [r for r in res["rows"] if r["predicted"] != r["quadrant"]]
    if missed:
        lines += ["Misread pictures:", ""]
        for r in missed:
            lines.append(f"- {r['file']} ({r['kind']}, hue {r['hue_deg']}°, HLS lightness {r['lightness']}, "
                         f"saturation {r['saturation']}): valence {r['valence']:+.2f}, arousal "
                         f"{r['arousal']:+.2f} → {r['predicted']}")
        lines.append("")
    path.write_text("\n".join(lines))


def main(argv=None):
    import argparse
    import platform
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", type=int, default=10, help="pictures per quadrant")
    p.add_argument("--no-music", action="store_true", help="skip generating pieces")
    p.add_argument("--out", type=Path, default=HERE / "image.json")
    p.add_argument("--checkpoint", default=None)
    a = p.parse_args(argv)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        rows = bench_mapping(tmp, a.n, a.checkpoint, music=not a.no_music)
        speed = bench_speed(tmp)
    res = {"command": ".venv/bin/python -m benchmarks.image" + (f" -n {a.n}" if a.n != 10 else "")
           + (" --no-music" if a.no_music else ""),
           "date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {platform.python_version()}",
           "mapping": summarise(rows), "speed": speed, "rows": rows}
    res["seconds"] = time.perf_counter() - t0
    a.out.write_text(json.dumps(res, indent=1, ensure_ascii=False))
    write_md(res, a.out.with_suffix(".md"))
    s = res["mapping"]
    print(f"quadrant accuracy {s['accuracy']:.0%} over {s['n']} pictures"
          + (f"; pieces in the picture's quadrant {s['music_quadrant_hit']:.0%}" if "music_quadrant_hit" in s else ""))
    for k, v in speed.items():
        print(f"{k}: {v['median_s'] * 1000:.0f} ms")
    print(f"{res['seconds']:.0f} s; wrote {a.out} and {a.out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
