"""The HTTP API's request and response bodies (they make the OpenAPI document). Field names
are the CLI's; part numbers count from 1, as on the command line."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from symphony.tasks.limits import MAX_FILL_CANDIDATES


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not silently ignored


class ComposeBody(Strict):
    """A new piece: what `symphony generate` takes; its --image and --melody files travel as
    base64 (or data: URLs, as a browser's FileReader gives them)."""
    prompt: str = Field("", max_length=2000, description="free text, English or Chinese")
    style: str | None = Field(None, examples=["celtic", "chinese:0.6,celtic:0.4"])
    key: str | None = Field(None, examples=["D major"])
    meter: str | None = Field(None, examples=["6/8"])
    tempo: float | None = Field(None, gt=0, le=400, description="beats per minute of the meter's beat")
    bars: int | None = Field(None, ge=1, description="length in bars (the server's max_bars at most)")
    emotion: str | None = None
    valence: float | None = Field(None, ge=-1, le=1)
    arousal: float | None = Field(None, ge=-1, le=1)
    chords: str | None = Field(None, examples=["G C D G"])
    form: str | None = Field(None, examples=["AABB"])
    range: str | None = Field(None, examples=["C4-G5"])
    density: float | None = Field(None, ge=-1, le=1)
    accompany: bool = False
    guidance: float | None = Field(None, ge=0, le=5)
    repeats: bool = True
    end_on_tonic: bool = True
    seed: int | None = Field(None, description="same request and seed, same piece")
    image: str | None = Field(None, description="a picture (PNG, JPEG, ...) as base64 or a data: URL: its brightness, "
                              "colour and busyness set the mood (--image)")
    melody: str | None = Field(None, description="a hummed, sung or played melody (WAV, FLAC, OGG, MP3) as base64 or a "
                               "data: URL (--melody)")
    melody_use: Literal["continue", "harmonize", "develop"] = Field(
        "continue", description="with melody: carry it on to bars, harmonize it, or develop it as a form's theme")


class EditBody(Strict):
    """An edit of a saved piece: the op and the options of `symphony edit <op>`."""
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    op: Literal["infill", "continue", "harmonize", "vary", "restyle", "transform"]
    bars: str | int | None = Field(None, description='infill: the bars to regenerate ("5-8"); continue: bars to add')
    part: int | None = Field(None, ge=1, description="1 = the top part; infill default: all parts")
    style: str | None = None
    seed: int = 0
    candidates: int | None = Field(None, ge=1, le=MAX_FILL_CANDIDATES)
    as_: Literal["satb", "chords", "accompaniment"] | None = Field(None, alias="as")
    numerals: bool = Field(False, description="harmonize: print the Roman numerals under the bass staff")
    amount: float | None = Field(None, ge=0, le=1)
    keep: Literal["rhythm", "contour"] | None = None
    meter: str | None = None
    mode: str | None = None
    transpose: int | None = Field(None, ge=-48, le=48)
    key: str | None = None
    tempo: float | None = Field(None, gt=0, le=400)


class NoteIn(Strict):
    id: str | None = Field(None, description="keep a note's id to keep the note; no id: a new note")
    pitch: int = Field(..., ge=0, le=127)
    onset: float = Field(..., ge=0, description="quarter notes from the start of the first full bar")
    duration: float = Field(..., gt=0, le=1024)
    velocity: int = Field(80, ge=1, le=127)
    spelling: str | None = None
    fermata: bool = False


class PartIn(Strict):
    name: str | None = None
    program: int | None = Field(None, ge=0, le=127)
    notes: list[NoteIn] = Field(default_factory=list, max_length=20000)


class NotesBody(Strict):
    """The studio's manual edits: every part with all its notes, as the user left them."""
    parts: list[PartIn] = Field(..., min_length=1, max_length=32)
    title: str | None = Field(None, max_length=300)


class NoteOut(BaseModel):
    id: str
    pitch: int
    spelling: str
    onset: float
    duration: float
    velocity: int


class PartOut(BaseModel):
    name: str
    program: int
    notes: list[NoteOut]


class Piece(BaseModel):
    id: str
    title: str
    attributes: dict
    explanation: list[str]
    bars: int
    pickup: float = Field(0.0, description="quarter notes of the anacrusis (bar 0); 0 = none")
    bar_numbers: list[str] = Field(default_factory=list, description="each bar's printed number, as edits' bars count them")
    version: int
    created: str
    updated: str
    parts: list[PartOut]


class PieceSummary(BaseModel):
    id: str
    title: str
    version: int
    created: str
    updated: str
    role: Literal["owner", "editor", "viewer"] = Field("owner", description="what you may do with it")


class VersionOut(BaseModel):
    version: int
    author: str | None
    op: str
    created: str


class StyleOut(BaseModel):
    name: str
    meter: str
    tempo: float
    description: str


class Health(BaseModel):
    status: Literal["ok"]
    accounts: bool = Field(False, description="true: sign in (POST /api/auth/login) to use this server")
    jobs: dict
    limits: dict


class ErrorOut(BaseModel):
    detail: str
