"""The HTTP API and the studio's server: ``create_app(settings)`` (``symphony serve`` runs it
with uvicorn). FastAPI, uvicorn, SQLAlchemy and pycrdt are imported only here."""
from __future__ import annotations


def create_app(settings=None, **kw):
    from symphony.server.app import create_app as make
    return make(settings, **kw)


__all__ = ["create_app"]
