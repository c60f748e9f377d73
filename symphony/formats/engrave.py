"""Engraving: every page of a MusicXML file through verovio, as one tall SVG to read on screen
and as an A4 PDF to print (verovio's SVG pages drawn by cairosvg, joined by pypdf).

verovio lays the score out in tenths of a millimetre: a 2100 x 2970 page is A4."""
from __future__ import annotations

import io
import os
import re
from pathlib import Path

A4 = {"pageWidth": 2100, "pageHeight": 2970}
# verovio's largest page height: a tall SVG holds a 120-bar SATB piece (25 systems) and more;
# longer pieces go on to further tall pages (music.p2.svg ...)
TALL_PAGE = 60000
OPTIONS = {"scale": 40, "pageMarginTop": 100, "pageMarginBottom": 100, "pageMarginLeft": 100,
           "pageMarginRight": 100, "footer": "none", "header": "auto",
           # staves closer than verovio's default (12) and systems further apart (4): a 16-bar SATB
           # chorale fits one A4 page, systems stay apart (verovio still makes room for what sticks out)
           "spacingStaff": 8, "spacingSystem": 6}
# verovio's page unit is a tenth of a millimetre, its SVG is drawn at scale/100 px per unit: the
# A4 page is 840 px wide, 210 mm
SVG_DPI = 254 * OPTIONS["scale"] / 100
SPACE = 250  # a space between music-font glyphs in text, in font units


class EngraveError(RuntimeError):
    pass


def _toolkit(musicxml_path: str | os.PathLike, options: dict):
    import verovio
    verovio.enableLog(verovio.LOG_OFF)
    # verovio finds its fonts by a resource path it keeps per thread: right in the thread that
    # imported it, a path from its wheel's build in any other (the server engraves in worker
    # threads), where every file then fails to load; so it is always given here
    tk = verovio.toolkit(False)
    tk.setResourcePath(str(Path(verovio.__file__).parent / "data"))
    tk.setOptions({**OPTIONS, **options})
    if not tk.loadFile(str(musicxml_path)):
        raise EngraveError(f"verovio could not read {musicxml_path}")
    # verovio's page header shows a composer only as MEI's <composer> in the title statement; its
    # MusicXML import puts the file's composer in a <respStmt>: copy it there
    mei = tk.getMEI()
    m = re.search(r'<titleStmt\b.*?</titleStmt>', mei, re.DOTALL)
    who = re.search(r'<persName role="composer">([^<]+)</persName>', m.group(0)) if m else None
    if who and "<composer" not in m.group(0):
        stmt = m.group(0).replace("</titleStmt>", f"<composer>{who.group(1)}</composer></titleStmt>")
        if not tk.loadData(mei[:m.start()] + stmt + mei[m.end():]):
            raise EngraveError(f"verovio could not read {musicxml_path}")
    return tk


def svg_pages(musicxml_path: str | os.PathLike, tall: bool = False) -> list[str]:
    """Every page verovio lays out: A4 pages, or tall pages as wide as A4 (one for most pieces)."""
    opts = {**A4, "pageHeight": TALL_PAGE, "adjustPageHeight": True} if tall else {**A4, "adjustPageHeight": False}
    tk = _toolkit(musicxml_path, opts)
    return [tk.renderToSVG(i) for i in range(1, tk.getPageCount() + 1)]


def write_svg(musicxml_path: str | os.PathLike, svg_path: str | os.PathLike) -> list[Path]:
    """The whole score as one tall SVG page (svg_path); a piece too long for one goes on in
    stem.p2.svg, stem.p3.svg ... Returns the files written."""
    svg_path = Path(svg_path)
    written = []
    for i, page in enumerate(svg_pages(musicxml_path, tall=True)):
        path = svg_path if i == 0 else svg_path.with_name(f"{svg_path.stem}.p{i + 1}.svg")
        path.write_text(page, encoding="utf-8")
        written.append(path)
    return written


_MUSIC_TEXT = re.compile(r'(<text x="([-\d.]+)" y="([-\d.]+)"[^>]*>)(\s*(?:<tspan[^>]*>\s*)*)'
                         r'<tspan font-family="(\w+)" font-size="([\d.]+)px">([^<]*)</tspan>')
# an accidental after text (the sharp of a chord symbol's bass, D/F#): the text font's own sign
# (SMuFL: standard, figured-bass and chord-symbol flats, naturals and sharps)
_ACCIDENTAL_SIGNS = {"\ue260": "\u266d", "\ue261": "\u266e", "\ue262": "\u266f",
                     "\uea64": "\u266d", "\uea65": "\u266e", "\uea66": "\u266f",
                     "\ued60": "\u266d", "\ued61": "\u266e", "\ued62": "\u266f"}
_TEXT_ACCIDENTAL = re.compile(r'<tspan font-family="\w+" font-size="([\d.]+)px">([' + "".join(_ACCIDENTAL_SIGNS)
                              + r'])</tspan>')
MUSIC_TO_TEXT_SIZE = 405 / 720  # verovio's text size over its music-symbol size in text


def _glyph(font: str, char: str) -> tuple[str, float] | None:
    """(path data, advance in font units of 1000 per em) of a music font's glyph, from verovio's
    own font files."""
    import verovio
    code = f"{ord(char):04X}"
    data = Path(verovio.__file__).parent / "data"
    try:
        path = re.search(r' d="([^"]+)"', (data / font / f"{code}.xml").read_text()).group(1)
        adv = re.search(rf'<g c="{code}"[^>]*h-a-x="([\d.]+)"', (data / f"{font}.xml").read_text())
        return path, float(adv.group(1)) if adv else 300.0
    except (OSError, AttributeError):
        return None


def outline_music_text(svg: str) -> str:
    """verovio writes the notes of a tempo mark (and other music symbols inside text) as
    characters of its music font, which it embeds as a web font: browsers draw them, cairosvg
    draws a box. Replace such characters by their outlines, leaving their width as blank space so
    that the text after them ('= 72') stays where it was."""
    def repl(m: re.Match) -> str:
        head, x, y, inner, font, size, chars = m.groups()
        x, y, size = float(x), float(y), float(size)
        paths, offset = [], 0.0
        for ch in chars:
            s = size / 1000
            if ch.isspace():
                offset += SPACE * s
                continue
            g = _glyph(font, ch)
            if g is None:
                return m.group(0)
            paths.append(f'<path transform="translate({x + offset:.1f}, {y:.1f}) scale({s:g}, {-s:g})" d="{g[0]}" />')
            offset += g[1] * s
        # an en space is half an em of the text font: blank space as wide as the glyphs
        blank = f'<tspan font-size="{2 * offset:.1f}px">\u2002</tspan>'
        return "".join(paths) + head + inner + blank
    svg = _MUSIC_TEXT.sub(repl, svg)
    return _TEXT_ACCIDENTAL.sub(lambda m: f'<tspan font-size="{float(m.group(1)) * MUSIC_TO_TEXT_SIZE:.0f}px">'
                                          f'{_ACCIDENTAL_SIGNS[m.group(2)]}</tspan>', svg)


def write_pdf(musicxml_path: str | os.PathLike, pdf_path: str | os.PathLike) -> int:
    """Every A4 page of the score in one PDF; returns the page count."""
    import cairosvg
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    pages = svg_pages(musicxml_path)
    for svg in pages:
        pdf = cairosvg.svg2pdf(bytestring=outline_music_text(svg).encode("utf-8"), dpi=SVG_DPI)
        for page in PdfReader(io.BytesIO(pdf)).pages:
            writer.add_page(page)
    with open(pdf_path, "wb") as f:
        writer.write(f)
    return len(pages)


def svg_to_png(svg_path: str | os.PathLike, png_path: str | os.PathLike, width: int = 1400) -> None:
    """A PNG picture of an SVG page (for looking at a score and for the docs)."""
    import cairosvg
    svg = outline_music_text(Path(svg_path).read_text(encoding="utf-8"))
    cairosvg.svg2png(bytestring=svg.encode("utf-8"), write_to=str(png_path), output_width=width, background_color="white")
