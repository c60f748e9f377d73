"""GET /api/health and GET /api/styles."""
from __future__ import annotations

from fastapi import APIRouter

from symphony.server.deps import StudioDep
from symphony.server.schemas import Health, StyleOut

router = APIRouter(prefix="/api", tags=["meta"])


@router.get("/health", response_model=Health)
def health(studio: StudioDep):
    """{"status": "ok"}, with the job pool's state and the server's limits."""
    return {"status": "ok", "accounts": studio.settings.accounts, "jobs": studio.jobs.stats(),
            "limits": studio.settings.limits()}


@router.get("/styles", response_model=list[StyleOut])
def styles(studio: StudioDep):
    """The styles the model knows, with their default meter and tempo (as `symphony styles`)."""
    from symphony.music.styles import STYLES, style_from_defaults
    engine = studio.engine
    defaults = engine.meta.get("style_defaults") or {}
    out = []
    for name in engine.styles:
        s = STYLES.get(name) or style_from_defaults(name, defaults.get(name))
        out.append({"name": s.name, "meter": s.default_meter, "tempo": s.default_bpm, "description": s.description})
    return out
