"""Explicit English musical terms in prompts (free text and Chinese are issue 5)."""
import json

import pytest

from symphony.tasks.requests import resolve
from symphony.understanding.prompt import parse_prompt
from symphony.music.theory import parse_key, pitch_class

from .conftest import DATA

DEV = [json.loads(line) for line in (DATA / "prompts_dev.jsonl").read_text().splitlines() if line.strip()]
EXPLICIT = [d for d in DEV if d["prompt"].isascii() and {"tonic", "meter", "bars", "bpm", "style"} & set(d["expect"])
            and "fusion" not in d["expect"]]


@pytest.mark.parametrize("case", EXPLICIT, ids=[d["prompt"] for d in EXPLICIT])
def test_dev_prompts_explicit_attributes(case):
    req, why = resolve(case["prompt"])
    exp = case["expect"]
    key = parse_key(req.key)
    if "tonic" in exp:
        assert key.tonic_pc == pitch_class(exp["tonic"])
    if "mode" in exp:
        assert key.mode == exp["mode"]
    if "meter" in exp:
        assert req.meter == exp["meter"]
    if "bars" in exp:
        assert req.bars == exp["bars"]
    if "bpm" in exp:
        assert exp["bpm"][0] <= req.tempo <= exp["bpm"][1]
    if "style" in exp:
        assert req.style == exp["style"]
    assert why  # something was explained


def test_explicit_flags_win_over_the_prompt():
    req, _ = resolve("a jig in A dorian at 116 bpm", key="G major", meter="9/8", tempo=90)
    assert (req.key, req.meter, req.tempo, req.style) == ("G major", "9/8", 90.0, "celtic")


def test_unknown_words_never_crash():
    u = parse_prompt("zxqv ♫ 🎻 blorp in H 99/7 -3 bars")
    assert "key" not in u.attributes and "meter" not in u.attributes
