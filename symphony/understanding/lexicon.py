"""The bilingual (English / 中文) vocabulary of the prompt parser (``symphony.prompt``).

Everything here is data, curated by hand:

- ``STYLE_WORDS``: words that name a tradition (``irish`` → celtic, ``巴赫`` → chorale);
  ``WEAK_STYLE_WORDS`` only suggest one when nothing else does (``民歌``, ``京剧``); ``UNKNOWN_STYLES``
  are named in the explanation as styles the model does not know.
- ``GENRE_WORDS``: Chinese names of the dance and song types of ``symphony.styles.GENRES``
  (``吉格`` → jig: celtic, 6/8).
- ``TEMPO_MARKINGS``: Italian and Chinese tempo terms → beats per minute (and an arousal cue).
- ``TEMPO_WORDS``: plain words about speed (``slow``, ``快``) → an arousal cue only.
- ``MOOD_WORDS``: adjectives beyond ``symphony.emotion.LEXICON`` (which is used as well).
- ``SCENES``: scenes, occasions, seasons and places (``rainy night``, ``funeral``, ``春节``,
  ``摇篮曲``) → a point of the valence-arousal plane (either may be None: not implied) and
  an optional hint of the style the occasion implies.
- ``DENSITY_WORDS``, ``INSTRUMENTS`` (General MIDI programs, 0-based), ``FORM_WORDS``.
- ``ANCHORS``: English phrases with a mood (and sometimes a style) for the sentence-embedding
  fallback (``symphony.prompt.embedding_guess``): a prompt's unexplained words are compared with
  them when no word of the lexicon says anything about the mood.

Positions of moods follow Russell's circumplex like ``symphony.emotion`` (valence across,
arousal up, both in [-1, 1]).
"""
from __future__ import annotations

from dataclasses import dataclass

# ----------------------------------------------------------------------------- styles

STYLE_WORDS: dict[str, str] = {
    # English (matched as whole words, case ignored)
    "chinese folk song": "chinese", "chinese folk": "chinese", "chinese": "chinese", "china": "chinese",
    "han chinese": "chinese", "jiangnan": "chinese",
    "german folk song": "german", "german folk": "german", "german": "german", "germany": "german",
    "volkslied": "german", "bavarian": "german", "austrian": "german", "alpine": "german",
    "irish": "celtic", "ireland": "celtic", "scottish": "celtic", "scotland": "celtic", "celtic": "celtic",
    "gaelic": "celtic", "highland": "celtic", "highlands": "celtic",
    "bach": "chorale", "chorale": "chorale", "chorales": "chorale", "hymn": "chorale", "hymns": "chorale",
    "german chorale": "chorale", "lutheran chorale": "chorale", "lutheran": "chorale", "baroque": "chorale",
    "four-part": "chorale", "four part": "chorale", "satb": "chorale",
    "palestrina": "renaissance", "renaissance": "renaissance",
    # Chinese (matched as substrings, longest first)
    "中国民歌": "chinese", "中国风": "chinese", "中国": "chinese", "中式": "chinese", "汉族": "chinese",
    "江南": "chinese", "山歌": "chinese", "民族风": "chinese", "古风": "chinese", "华夏": "chinese",
    "德国民歌": "german", "德国": "german", "德意志": "german", "德式": "german", "巴伐利亚": "german",
    "奥地利": "german",
    "爱尔兰民歌": "celtic", "爱尔兰": "celtic", "苏格兰": "celtic", "凯尔特": "celtic",
    "巴赫": "chorale", "众赞歌": "chorale", "圣咏": "chorale", "赞美诗": "chorale", "赞美歌": "chorale",
    "德国众赞歌": "chorale", "路德": "chorale", "四声部": "chorale", "巴洛克": "chorale",
    "帕莱斯特里纳": "renaissance", "文艺复兴": "renaissance",
}
WEAK_STYLE_WORDS: dict[str, str] = {  # a style only when no other word names one (民歌 = folk song)
    "民歌": "chinese", "小调": "chinese",
    "京剧": "chinese", "昆曲": "chinese", "越剧": "chinese", "粤剧": "chinese", "戏曲": "chinese",
}

# Styles people ask for that the model has not learnt: named in the explanation, then ignored.
UNKNOWN_STYLES: tuple[str, ...] = (
    "jazz", "jazzy", "rock", "blues", "bluesy", "pop", "hip hop", "hip-hop", "rap", "techno", "edm", "electronic",
    "metal", "reggae", "funk", "disco", "country", "bossa nova", "latin", "salsa", "tango", "flamenco", "k-pop",
    "j-pop", "indian", "raga", "arabic", "african", "japanese", "korean", "russian", "french", "spanish",
    "爵士", "摇滚", "流行", "蓝调", "布鲁斯", "说唱", "嘻哈", "电子", "重金属", "雷鬼", "探戈", "弗拉明戈",
    "日本", "韩国", "印度", "阿拉伯", "非洲", "俄罗斯", "法国", "西班牙",
)

# Chinese and extra English names of symphony.styles.GENRES entries.
GENRE_WORDS: dict[str, str] = {
    "吉格舞曲": "jig", "吉格": "jig", "快步舞": "jig", "滑步吉格": "slip jig",
    "里尔舞曲": "reel", "里尔": "reel", "角笛舞曲": "hornpipe", "号笛舞曲": "hornpipe", "角笛舞": "hornpipe",
    "斯特拉斯佩": "strathspey", "波尔卡": "polka", "华尔兹": "waltz", "圆舞曲": "waltz",
    "进行曲": "march", "众赞歌": "chorale",
    "jigs": "jig", "reels": "reel", "hornpipes": "hornpipe", "waltzes": "waltz", "marches": "march",
    "polkas": "polka",
}

# ----------------------------------------------------------------------------- tempo

@dataclass(frozen=True)
class TempoMarking:
    bpm: int  # beats per minute of the meter's beat
    arousal: float  # what a listener hears


TEMPO_MARKINGS: dict[str, TempoMarking] = {
    "largo": TempoMarking(50, -0.75), "lento": TempoMarking(56, -0.7),
    "larghetto": TempoMarking(63, -0.6), "adagio": TempoMarking(70, -0.6), "adagietto": TempoMarking(74, -0.5),
    "andante": TempoMarking(88, -0.3), "andantino": TempoMarking(96, -0.2), "moderato": TempoMarking(108, 0.0),
    "allegretto": TempoMarking(116, 0.25), "allegro": TempoMarking(132, 0.55), "vivace": TempoMarking(156, 0.75),
    "presto": TempoMarking(176, 0.9), "prestissimo": TempoMarking(200, 1.0),
    "庄板": TempoMarking(42, -0.8), "广板": TempoMarking(50, -0.75), "慢板": TempoMarking(60, -0.65),
    "柔板": TempoMarking(70, -0.6), "行板": TempoMarking(88, -0.3), "小行板": TempoMarking(96, -0.2),
    "中板": TempoMarking(108, 0.0), "小快板": TempoMarking(116, 0.25), "快板": TempoMarking(132, 0.55),
    "活板": TempoMarking(156, 0.75), "急板": TempoMarking(176, 0.9), "最急板": TempoMarking(200, 1.0),
}

# Plain words about speed: only an arousal cue (the tempo then follows the arousal, as for
# --emotion: style tempo x 2 ** (0.5 x arousal): -0.6 -> x 0.81, +0.5 -> x 1.19).
TEMPO_WORDS: dict[str, float] = {
    "very slow": -0.9, "very slowly": -0.9, "slow": -0.6, "slowly": -0.6, "unhurried": -0.5,
    "leisurely": -0.5, "moderate": 0.0, "medium tempo": 0.0, "fast": 0.5, "quick": 0.5, "quickly": 0.5,
    "brisk": 0.45, "rapid": 0.6, "up-tempo": 0.5, "uptempo": 0.5, "speedy": 0.6, "very fast": 0.85,
    "非常慢": -0.9, "很慢": -0.9, "缓慢": -0.6, "慢速": -0.6, "慢慢": -0.6, "慢": -0.6, "徐缓": -0.6,
    "中速": 0.0, "快速": 0.5, "很快": 0.85, "非常快": 0.85, "飞快": 0.85, "快": 0.5,
}

# ----------------------------------------------------------------------------- moods

# Words beyond symphony.emotion.LEXICON (inflections and more adjectives), (valence, arousal).
MOOD_WORDS: dict[str, tuple[float, float]] = {
    "joy": (0.85, 0.6), "joyous": (0.85, 0.6), "happiness": (0.8, 0.5), "sadness": (-0.7, -0.4),
    "sorrow": (-0.75, -0.45), "grief": (-0.85, -0.45), "grieving": (-0.85, -0.45),
    "mourning": (-0.8, -0.5), "fear": (-0.75, 0.75), "anger": (-0.8, 0.8), "rage": (-0.9, 0.9),
    "peace": (0.6, -0.6), "tranquil": (0.6, -0.7), "tranquility": (0.6, -0.7), "soothing": (0.55, -0.7),
    "relaxing": (0.55, -0.6), "chill": (0.45, -0.55), "mellow": (0.45, -0.5), "cozy": (0.65, -0.4),
    "cosy": (0.65, -0.4), "nostalgia": (-0.2, -0.35), "longing": (-0.3, -0.3), "yearning": (-0.3, -0.2),
    "upbeat": (0.7, 0.6), "bouncy": (0.65, 0.65), "jolly": (0.8, 0.6), "merry": (0.8, 0.55),
    "carefree": (0.7, 0.3), "sweet": (0.65, -0.1), "dark": (-0.5, -0.1), "eerie": (-0.5, 0.3),
    "creepy": (-0.6, 0.4), "ominous": (-0.5, 0.4), "menacing": (-0.65, 0.6), "suspense": (-0.4, 0.6),
    "suspenseful": (-0.4, 0.6), "epic": (0.45, 0.8), "grand": (0.5, 0.5), "stately": (0.3, -0.1),
    "noble": (0.4, 0.1), "reflective": (0.2, -0.6), "contemplative": (0.2, -0.6), "meditative": (0.3, -0.75),
    "heartbroken": (-0.85, -0.3), "heartbreaking": (-0.85, -0.3), "desolate": (-0.7, -0.6),
    "bleak": (-0.6, -0.5), "weary": (-0.4, -0.7), "victorious": (0.75, 0.75), "frantic": (-0.5, 0.9),
    "chaotic": (-0.45, 0.85), "urgent": (-0.3, 0.8), "restless": (-0.3, 0.6), "whimsical": (0.55, 0.4),
    "silly": (0.6, 0.6), "funny": (0.7, 0.5), "sunny": (0.75, 0.45), "rousing": (0.65, 0.8),
    "stirring": (0.55, 0.7), "exciting": (0.7, 0.85), "thrilling": (0.6, 0.85), "blissful": (0.85, -0.2),
    "tearful": (-0.7, -0.3), "gentle": (0.45, -0.5), "quiet": (0.4, -0.65), "soft": (0.45, -0.55),
    "graceful": (0.55, -0.25), "elegant": (0.55, -0.2), "hypnotic": (0.2, -0.5), "haunting": (-0.4, -0.2),
    "painful": (-0.75, -0.1), "miserable": (-0.85, -0.5), "unhappy": (-0.7, -0.35), "anguished": (-0.8, 0.4),
    "dreamlike": (0.3, -0.55), "wild": (0.2, 0.9), "boisterous": (0.6, 0.85), "rowdy": (0.5, 0.85),
    # Chinese
    "欢腾": (0.85, 0.8), "欢天喜地": (0.9, 0.8), "热闹": (0.75, 0.75), "喜气洋洋": (0.85, 0.7),
    "轻快": (0.65, 0.55), "轻松": (0.6, -0.2), "悠扬": (0.5, -0.3), "优美": (0.6, -0.3), "甜美": (0.7, 0.0),
    "柔和": (0.45, -0.5), "温馨": (0.7, -0.3), "静谧": (0.55, -0.75), "幽静": (0.4, -0.7), "空灵": (0.3, -0.6),
    "悲凉": (-0.7, -0.5), "凄美": (-0.4, -0.4), "哀愁": (-0.65, -0.45), "心碎": (-0.85, -0.3),
    "绝望": (-0.85, -0.4), "恐怖": (-0.75, 0.6), "惊悚": (-0.7, 0.75), "阴森": (-0.6, 0.3), "诡异": (-0.5, 0.3),
    "压抑": (-0.6, -0.2), "急促": (-0.3, 0.8), "紧迫": (-0.4, 0.75), "磅礴": (0.5, 0.85), "壮丽": (0.6, 0.6),
    "辉煌": (0.7, 0.7), "热血": (0.5, 0.9), "振奋": (0.7, 0.8), "激动人心": (0.7, 0.85), "鼓舞": (0.7, 0.7),
    "思念": (-0.3, -0.4), "想念": (-0.3, -0.4), "怀念": (-0.3, -0.4), "感伤": (-0.5, -0.4),
    "落寞": (-0.55, -0.55), "孤单": (-0.6, -0.5), "无聊": (-0.4, -0.75), "慵懒": (0.3, -0.75),
    "惬意": (0.65, -0.5), "闲适": (0.6, -0.55), "安宁": (0.6, -0.65), "祥和": (0.65, -0.45),
    "美好": (0.7, 0.1), "幸福": (0.85, 0.2), "甜蜜": (0.75, 0.1), "可爱": (0.7, 0.4), "调皮": (0.6, 0.6),
    "滑稽": (0.6, 0.6), "幽默": (0.6, 0.5), "神圣": (0.4, -0.3), "虔诚": (0.3, -0.4), "悲痛": (-0.85, -0.4),
    "痛苦": (-0.8, 0.0), "哀悼": (-0.8, -0.5), "欢欣": (0.85, 0.6), "雀跃": (0.8, 0.75),
    "明快": (0.7, 0.55), "柔美": (0.55, -0.4), "安眠": (0.3, -0.85),
    "紧张刺激": (-0.3, 0.85), "刺激": (0.3, 0.8), "狂野": (0.2, 0.9), "奔放": (0.65, 0.8), "豪放": (0.6, 0.75),
    "哀婉": (-0.65, -0.4), "沉闷": (-0.5, -0.5), "低沉": (-0.45, -0.45),
    "深沉": (-0.2, -0.45), "难过": (-0.7, -0.4), "悲苦": (-0.8, -0.35),
}

NEGATIONS_EN = ("not", "no", "never", "without", "isn't", "aren't", "nothing", "un-")
NEGATIONS_ZH = ("不太", "不要", "不是", "不", "没有", "没", "别", "毫无", "无")


@dataclass(frozen=True)
class Scene:
    valence: float | None  # None: the scene does not imply one
    arousal: float | None
    gloss: str  # English gloss, for the explanation
    style: str | None = None  # a tradition the occasion implies (a weak hint)


def _s(v, a, gloss, style=None) -> Scene:
    return Scene(v, a, gloss, style)


_SCENE_GROUPS: list[tuple[tuple[str, ...], Scene]] = [
    (("funeral", "burial", "葬礼", "丧礼", "追悼会", "送葬", "出殡", "灵堂", "哀乐"), _s(-0.8, -0.6, "funeral")),
    (("memorial", "requiem", "悼念", "祭奠", "追思"), _s(-0.65, -0.5, "memorial")),
    (("elegy", "lament", "dirge", "挽歌", "哀歌", "悲歌"), _s(-0.8, -0.5, "lament")),
    (("lullaby", "lullabies", "cradle song", "bedtime", "bedtime story", "摇篮曲", "催眠曲", "摇篮", "睡前", "哄睡",
      "哄宝宝"), _s(0.4, -0.8, "lullaby")),
    (("sleep", "sleeping", "falling asleep", "睡觉", "入睡", "睡眠"), _s(0.3, -0.85, "sleep")),
    (("rainy night", "rainy evening", "雨夜", "下雨的夜晚", "夜雨"), _s(-0.4, -0.5, "rainy night")),
    (("rain", "rainy", "raining", "drizzle", "下雨", "雨天", "细雨", "小雨", "雨中", "雨声", "春雨"),
     _s(-0.25, -0.45, "rain")),
    (("thunderstorm", "storm", "tempest", "hurricane", "暴风雨", "雷雨", "风暴", "雷电", "暴雨", "惊涛骇浪"),
     _s(-0.55, 0.85, "storm")),
    (("spring festival", "chinese new year", "lunar new year", "春节", "过年", "新年", "除夕", "年夜饭", "拜年"),
     _s(0.85, 0.75, "Spring Festival", style="chinese")),
    (("lantern festival", "元宵", "灯会", "闹元宵"), _s(0.8, 0.55, "Lantern Festival", style="chinese")),
    (("mid-autumn", "moon festival", "中秋", "月饼"), _s(0.4, -0.3, "Mid-Autumn Festival", style="chinese")),
    (("dragon boat", "端午", "龙舟"), _s(0.7, 0.8, "Dragon Boat Festival", style="chinese")),
    (("temple fair", "庙会", "秧歌", "舞龙", "舞狮"), _s(0.8, 0.75, "temple fair", style="chinese")),
    (("tea house", "teahouse", "tea ceremony", "茶馆", "品茶", "茶楼"), _s(0.5, -0.55, "tea house", style="chinese")),
    (("rice paddy", "water town", "水乡", "小桥流水"), _s(0.55, -0.5, "water town", style="chinese")),
    (("st patrick", "st. patrick", "saint patrick", "圣帕特里克"), _s(0.85, 0.8, "St Patrick's Day", style="celtic")),
    (("ceilidh", "céilí", "pub session", "爱尔兰酒吧"), _s(0.8, 0.8, "ceilidh", style="celtic")),
    (("oktoberfest", "beer hall", "beer garden", "啤酒节", "啤酒屋"), _s(0.8, 0.7, "Oktoberfest", style="german")),
    (("drinking song", "tavern", "pub", "beer", "饮酒歌", "祝酒歌", "酒馆", "酒吧", "啤酒", "干杯"),
     _s(0.75, 0.65, "drinking song")),
    (("church", "cathedral", "prayer", "praying", "worship", "chapel", "教堂", "祈祷", "礼拜", "弥撒", "祷告"),
     _s(0.3, -0.4, "church", style="chorale")),
    (("wedding", "bride", "婚礼", "结婚", "出嫁", "喜事", "新娘", "洞房"), _s(0.8, 0.45, "wedding")),
    (("birthday", "生日"), _s(0.85, 0.6, "birthday")),
    (("party", "celebration", "celebrate", "festival", "fiesta", "派对", "聚会", "庆祝", "节日", "庆典", "联欢"),
     _s(0.8, 0.75, "celebration")),
    (("carnival", "狂欢", "嘉年华"), _s(0.85, 0.9, "carnival")),
    (("fireworks", "firecrackers", "鞭炮", "烟花", "放鞭炮", "爆竹"), _s(0.8, 0.8, "fireworks")),
    (("dance", "dancing", "dance tune", "舞会", "跳舞", "舞蹈"), _s(0.65, 0.7, "dance")),
    (("舞曲",), _s(None, 0.5, "dance tune")),
    (("harvest", "丰收", "收获"), _s(0.8, 0.6, "harvest")),
    (("parade", "procession", "游行", "阅兵"), _s(0.65, 0.6, "parade")),
    (("fanfare", "号角"), _s(0.7, 0.8, "fanfare")),
    (("battle", "war", "combat", "fight", "fighting", "warrior", "战斗", "战争", "战场", "厮杀", "打仗", "冲锋"),
     _s(-0.55, 0.9, "battle")),
    (("chase", "pursuit", "escape", "追逐", "追赶", "逃亡"), _s(-0.4, 0.85, "chase")),
    (("horror", "haunted", "ghost", "ghosts", "nightmare", "monster", "恐怖片", "鬼屋", "鬼", "噩梦", "怪物"),
     _s(-0.75, 0.55, "horror")),
    (("graveyard", "cemetery", "墓地", "坟", "墓"), _s(-0.6, -0.2, "graveyard")),
    (("farewell", "goodbye", "parting", "告别", "离别", "送别", "分别", "再见", "别离"), _s(-0.5, -0.35, "farewell")),
    (("hometown", "homeland", "home town", "故乡", "家乡", "老家", "乡愁", "游子", "故土"), _s(-0.2, -0.4, "hometown")),
    (("breakup", "break-up", "heartbreak", "失恋", "分手"), _s(-0.8, -0.3, "heartbreak")),
    (("love song", "romance", "in love", "情歌", "恋爱", "爱情", "恋人"), _s(0.65, 0.1, "love song")),
    (("first love", "初恋"), _s(0.7, 0.2, "first love")),
    (("serenade", "小夜曲"), _s(0.6, -0.3, "serenade")),
    (("nocturne", "夜曲"), _s(0.1, -0.6, "nocturne")),
    (("moonlight", "moonlit", "moon", "月光", "月夜", "明月", "月亮", "月色"), _s(0.3, -0.6, "moonlight")),
    (("starry", "stars", "starlight", "星空", "星星", "繁星"), _s(0.45, -0.55, "starry sky")),
    (("night", "nighttime", "midnight", "late night", "夜晚", "深夜", "午夜", "夜里", "夜"), _s(None, -0.5, "night")),
    (("evening", "傍晚", "晚上"), _s(None, -0.4, "evening")),
    (("dawn", "sunrise", "morning", "daybreak", "早晨", "清晨", "日出", "黎明", "朝阳", "早上"), _s(0.6, 0.1, "morning")),
    (("sunset", "dusk", "twilight", "黄昏", "夕阳", "日落"), _s(0.1, -0.45, "sunset")),
    (("springtime", "spring", "春天", "春日", "春风", "春光"), _s(0.65, 0.35, "spring")),
    (("summer", "夏天", "夏日", "盛夏"), _s(0.65, 0.45, "summer")),
    (("autumn", "autumnal", "秋天", "秋日", "落叶", "秋风"), _s(-0.2, -0.35, "autumn")),
    (("winter", "冬天", "寒冬", "冬日"), _s(-0.3, -0.45, "winter")),
    (("snow", "snowfall", "snowy", "下雪", "雪花", "雪景", "雪"), _s(0.3, -0.5, "snow")),
    (("beach", "seaside", "沙滩", "海边"), _s(0.6, 0.1, "seaside")),
    (("forest", "woods", "森林", "树林"), _s(0.35, -0.35, "forest")),
    (("garden", "flowers", "花园", "园林", "花开"), _s(0.6, -0.3, "garden")),
    (("river", "stream", "brook", "河流", "小河", "溪流", "小溪", "流水"), _s(0.45, -0.3, "river")),
    (("countryside", "meadow", "village", "farm", "乡村", "田野", "草地", "村庄", "农家"), _s(0.55, -0.3, "countryside")),
    (("grassland", "prairie", "草原"), _s(0.6, 0.3, "grassland")),
    (("breeze", "微风", "清风"), _s(0.5, -0.5, "breeze")),
    (("meditation", "yoga", "zen", "冥想", "打坐", "禅"), _s(0.4, -0.85, "meditation")),
    (("temple", "monastery", "寺庙", "古寺", "寺院"), _s(0.35, -0.7, "temple")),
    (("workout", "running", "gym", "跑步", "健身", "运动会"), _s(0.5, 0.85, "workout")),
    (("studying", "study", "reading", "homework", "学习", "读书", "看书", "写作业"), _s(0.3, -0.55, "study")),
    (("graduation", "毕业"), _s(0.4, 0.2, "graduation")),
    (("childhood", "童年", "儿时"), _s(0.3, -0.2, "childhood")),
    (("nursery rhyme", "children's song", "kids", "儿歌", "童谣", "小朋友", "孩子们"), _s(0.75, 0.45, "children's song")),
    (("playground", "游乐园", "玩耍", "游戏"), _s(0.7, 0.6, "play")),
    (("christmas", "圣诞", "平安夜"), _s(0.7, 0.3, "Christmas")),
    (("reunion", "团圆", "重逢"), _s(0.75, 0.2, "reunion")),
    (("loneliness", "alone", "独自", "一个人", "孤身"), _s(-0.5, -0.5, "loneliness")),
    (("hero", "heroes", "出征"), _s(0.55, 0.75, "heroes")),
    (("victory", "triumph"), _s(0.75, 0.75, "victory")),
    (("sea shanty", "sailors", "sailing", "水手", "航海"), _s(0.55, 0.55, "sea shanty")),
]

SCENES: dict[str, Scene] = {w: sc for words, sc in _SCENE_GROUPS for w in words}

# ----------------------------------------------------------------------------- texture, instruments, form

DENSITY_WORDS: dict[str, float] = {
    "dense": 0.6, "busy": 0.6, "virtuosic": 0.7, "ornate": 0.5, "florid": 0.6, "many notes": 0.6,
    "lots of notes": 0.6, "flurry": 0.7, "running notes": 0.6,
    "sparse": -0.6, "simple": -0.4, "few notes": -0.6, "long notes": -0.6, "sustained": -0.6,
    "spacious": -0.5, "minimal": -0.6, "minimalist": -0.6, "plain": -0.4,
    "密集": 0.6, "繁复": 0.6, "华丽": 0.5, "音符密": 0.6, "炫技": 0.7, "跳跃": 0.4,
    "稀疏": -0.6, "简单": -0.4, "简洁": -0.4, "朴素": -0.4, "长音": -0.6, "疏朗": -0.5, "舒展": -0.5,
}


@dataclass(frozen=True)
class Instrument:
    program: int  # General MIDI program, 0-based
    name: str  # the General MIDI name
    style: str | None = None  # the tradition the instrument suggests (a weak hint)
    note: str = ""  # how close the General MIDI sound is


INSTRUMENTS: dict[str, Instrument] = {
    "grand piano": Instrument(0, "Acoustic Grand Piano"), "piano": Instrument(0, "Acoustic Grand Piano"),
    "harpsichord": Instrument(6, "Harpsichord", "chorale"), "celesta": Instrument(8, "Celesta"),
    "music box": Instrument(10, "Music Box"), "glockenspiel": Instrument(9, "Glockenspiel"),
    "marimba": Instrument(12, "Marimba"), "xylophone": Instrument(13, "Xylophone"),
    "church organ": Instrument(19, "Church Organ", "chorale"), "organ": Instrument(19, "Church Organ", "chorale"),
    "accordion": Instrument(21, "Accordion", "german"), "harmonica": Instrument(22, "Harmonica"),
    "guitar": Instrument(24, "Acoustic Guitar (nylon)"), "violin": Instrument(40, "Violin"),
    "viola": Instrument(41, "Viola"), "cello": Instrument(42, "Cello"), "harp": Instrument(46, "Orchestral Harp"),
    "strings": Instrument(48, "String Ensemble 1"), "string quartet": Instrument(48, "String Ensemble 1"),
    "choir": Instrument(52, "Choir Aahs", "chorale"),
    "trumpet": Instrument(56, "Trumpet"), "french horn": Instrument(60, "French Horn"),
    "horn": Instrument(60, "French Horn"), "brass": Instrument(61, "Brass Section"),
    "saxophone": Instrument(65, "Alto Sax"), "sax": Instrument(65, "Alto Sax"), "oboe": Instrument(68, "Oboe"),
    "bassoon": Instrument(70, "Bassoon"), "clarinet": Instrument(71, "Clarinet"),
    "piccolo": Instrument(72, "Piccolo"), "flute": Instrument(73, "Flute"), "recorder": Instrument(74, "Recorder"),
    "pan flute": Instrument(75, "Pan Flute"), "panpipes": Instrument(75, "Pan Flute"),
    "tin whistle": Instrument(78, "Whistle", "celtic"), "penny whistle": Instrument(78, "Whistle", "celtic"),
    "whistle": Instrument(78, "Whistle", "celtic"), "ocarina": Instrument(79, "Ocarina"),
    "banjo": Instrument(105, "Banjo"), "bagpipes": Instrument(109, "Bag pipe", "celtic"),
    "bagpipe": Instrument(109, "Bag pipe", "celtic"), "uilleann pipes": Instrument(109, "Bag pipe", "celtic"),
    "fiddle": Instrument(110, "Fiddle", "celtic"),
    "钢琴": Instrument(0, "Acoustic Grand Piano"), "大键琴": Instrument(6, "Harpsichord", "chorale"),
    "羽管键琴": Instrument(6, "Harpsichord", "chorale"), "八音盒": Instrument(10, "Music Box"),
    "管风琴": Instrument(19, "Church Organ", "chorale"), "风琴": Instrument(19, "Church Organ", "chorale"),
    "手风琴": Instrument(21, "Accordion", "german"), "口琴": Instrument(22, "Harmonica"),
    "吉他": Instrument(24, "Acoustic Guitar (nylon)"), "小提琴": Instrument(40, "Violin"),
    "中提琴": Instrument(41, "Viola"), "大提琴": Instrument(42, "Cello"), "竖琴": Instrument(46, "Orchestral Harp"),
    "弦乐": Instrument(48, "String Ensemble 1"), "合唱": Instrument(52, "Choir Aahs", "chorale"),
    "小号": Instrument(56, "Trumpet"), "圆号": Instrument(60, "French Horn"), "萨克斯": Instrument(65, "Alto Sax"),
    "双簧管": Instrument(68, "Oboe"), "单簧管": Instrument(71, "Clarinet"), "长笛": Instrument(73, "Flute"),
    "竖笛": Instrument(74, "Recorder"), "排箫": Instrument(75, "Pan Flute"), "陶笛": Instrument(79, "Ocarina"),
    "风笛": Instrument(109, "Bag pipe", "celtic"), "锡口哨": Instrument(78, "Whistle", "celtic"),
    "笛子": Instrument(73, "Flute", "chinese", "GM has no dizi; the flute is the nearest"),
    "竹笛": Instrument(73, "Flute", "chinese", "GM has no dizi; the flute is the nearest"),
    "dizi": Instrument(73, "Flute", "chinese", "GM has no dizi; the flute is the nearest"),
    "箫": Instrument(77, "Shakuhachi", "chinese", "the end-blown xiao sounds like the shakuhachi"),
    "洞箫": Instrument(77, "Shakuhachi", "chinese", "the end-blown xiao sounds like the shakuhachi"),
    "二胡": Instrument(110, "Fiddle", "chinese", "GM has no erhu; the fiddle is the nearest bowed string"),
    "erhu": Instrument(110, "Fiddle", "chinese", "GM has no erhu; the fiddle is the nearest bowed string"),
    "古筝": Instrument(107, "Koto", "chinese", "the koto is the zither closest to the guzheng"),
    "筝": Instrument(107, "Koto", "chinese", "the koto is the zither closest to the guzheng"),
    "guzheng": Instrument(107, "Koto", "chinese", "the koto is the zither closest to the guzheng"),
    "古琴": Instrument(107, "Koto", "chinese", "GM has no guqin; the koto is the nearest zither"),
    "guqin": Instrument(107, "Koto", "chinese", "GM has no guqin; the koto is the nearest zither"),
    "琵琶": Instrument(106, "Shamisen", "chinese", "GM has no pipa; the shamisen is the nearest plucked lute"),
    "pipa": Instrument(106, "Shamisen", "chinese", "GM has no pipa; the shamisen is the nearest plucked lute"),
    "扬琴": Instrument(15, "Dulcimer", "chinese", "the yangqin is a hammered dulcimer"),
    "唢呐": Instrument(111, "Shanai", "chinese", "the shanai is GM's nearest double reed to the suona"),
    "suona": Instrument(111, "Shanai", "chinese", "the shanai is GM's nearest double reed to the suona"),
    "笙": Instrument(22, "Harmonica", "chinese", "GM has no sheng; the harmonica is the nearest free reed"),
}

# Named forms (letters follow symphony.form).
FORM_WORDS: dict[str, str] = {
    "binary form": "AB", "ternary form": "ABA", "rondo": "ABACA", "verse and chorus": "ABAB",
    "verse-chorus": "ABAB", "song form": "AABA", "thirty-two-bar form": "AABA", "32-bar form": "AABA",
    "二部曲式": "AB", "二段体": "AB", "两段式": "AB", "单二部曲式": "AB", "三部曲式": "ABA", "三段体": "ABA",
    "三段式": "ABA", "单三部曲式": "ABA", "回旋曲": "ABACA", "回旋曲式": "ABACA", "起承转合": "AA'BA",
}

# Lengths said in words (a hint; a number of bars in the prompt wins).
LENGTH_WORDS: dict[str, int] = {
    "short": 8, "brief": 8, "tiny": 4, "long": 32, "extended": 32,
    "短小": 8, "简短": 8, "短曲": 8, "小曲": 8, "长篇": 32, "较长": 32,
}

# ----------------------------------------------------------------------------- embedding anchors

# English phrases with a mood (valence, arousal) and sometimes a style, for the sentence-model
# fallback. Each is a scene a listener would place without hesitation.
ANCHORS: list[tuple[str, tuple[float, float] | None, str | None]] = [
    ("a joyful celebration with people dancing", (0.85, 0.75), None),
    ("a happy cheerful party with friends", (0.8, 0.7), None),
    ("children laughing and playing in the sun", (0.8, 0.6), None),
    ("a triumphant victory parade", (0.75, 0.75), None),
    ("an exciting adventure full of energy", (0.65, 0.85), None),
    ("a bright sunny morning full of hope", (0.7, 0.3), None),
    ("a peaceful quiet evening by the lake", (0.6, -0.65), None),
    ("a calm gentle lullaby for a sleeping baby", (0.5, -0.8), None),
    ("relaxing in a garden on a warm afternoon", (0.6, -0.5), None),
    ("a tender love song under the stars", (0.6, -0.3), None),
    ("a slow meditation in a quiet temple", (0.4, -0.8), None),
    ("drifting clouds on a lazy summer day", (0.5, -0.6), None),
    ("a sad farewell to someone you love", (-0.6, -0.4), None),
    ("mourning at a funeral", (-0.8, -0.6), None),
    ("a lonely walk on a grey rainy day", (-0.5, -0.5), None),
    ("grief and loss, crying alone", (-0.8, -0.45), None),
    ("missing home, far away from family", (-0.4, -0.4), None),
    ("a cold empty winter night", (-0.45, -0.55), None),
    ("a tense chase through dark streets", (-0.5, 0.85), None),
    ("a terrifying monster attack", (-0.8, 0.8), None),
    ("a violent battle in a raging storm", (-0.6, 0.9), None),
    ("angry shouting and conflict", (-0.8, 0.8), None),
    ("anxious waiting, heart racing with fear", (-0.65, 0.7), None),
    ("a haunted house at midnight", (-0.7, 0.5), None),
    ("an Irish pub session with fiddles", None, "celtic"),
    ("Scottish bagpipes in the misty mountains", None, "celtic"),
    ("an ancient Chinese tea house with bamboo flutes", None, "chinese"),
    ("a Chinese village by the river", None, "chinese"),
    ("a German beer hall with an accordion", None, "german"),
    ("a Lutheran church hymn sung by a choir", None, "chorale"),
]
