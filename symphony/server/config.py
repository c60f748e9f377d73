"""The server's settings: one dataclass whose defaults run, filled from the environment
(``ServerSettings.from_env``) or by the caller (tests, ``symphony serve``'s flags win).

| variable | default | what it sets |
|---|---|---|
| ``SYMPHONY_DATABASE_URL`` | ``sqlite:///$XDG_DATA_HOME/symphony/studio.db`` | where pieces and their versions live (any SQLAlchemy URL, e.g. ``postgresql+psycopg://...``) |
| ``SYMPHONY_CHECKPOINT`` | the shipped model | the model (``symphony.settings``) |
| ``SYMPHONY_SERVER_WORKERS`` | 2 | jobs (generation, edits) that run at the same time |
| ``SYMPHONY_SERVER_QUEUE`` | 32 | jobs that may wait for a worker; beyond it: 503 with Retry-After |
| ``SYMPHONY_SERVER_JOBS_PER_CLIENT`` | 4 | running + waiting jobs of one client; beyond it: 429 |
| ``SYMPHONY_SERVER_MAX_UPLOAD_MB`` | 5 | largest uploaded score file; beyond it: 413 |
| ``SYMPHONY_SERVER_MAX_BARS`` | 128 | longest piece a request may ask for or an upload may have |
| ``SYMPHONY_ACCOUNTS`` | off (on when `symphony serve` binds beyond loopback) | require accounts: sign-in, roles, shares |
| ``SYMPHONY_SERVER_GENERATIONS_PER_MINUTE`` | 20 | jobs one user (or share link) may start a minute, with accounts; beyond it: 429 |
| ``SYMPHONY_SERVER_SIGN_IN_FAILURES`` | 5 | failed sign-ins per email in 15 minutes (an address: 4 times as many); beyond it: 429 |
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from symphony.settings import PACKAGE_ROOT

STATIC_DIR = PACKAGE_ROOT / "server" / "static"


def default_database_url() -> str:
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return f"sqlite:///{base / 'symphony' / 'studio.db'}"


@dataclass
class ServerSettings:
    database_url: str = field(default_factory=default_database_url)
    checkpoint: str | None = None  # None: SYMPHONY_CHECKPOINT or the shipped model
    workers: int = 2
    queue_size: int = 32
    jobs_per_client: int = 4
    max_upload_bytes: int = 5 * 2**20
    max_bars: int = 128
    static_dir: Path = STATIC_DIR
    retry_after_s: int = 5  # what a 503 tells a client to wait
    accounts: bool = False  # sign-in required, pieces private to their owner and shares (access.py)
    generations_per_minute: int = 20
    sign_in_failures: int = 5
    sign_in_window_s: int = 900

    @classmethod
    def from_env(cls, **overrides) -> "ServerSettings":
        env = os.environ
        values: dict = {}
        if env.get("SYMPHONY_DATABASE_URL"):
            values["database_url"] = env["SYMPHONY_DATABASE_URL"]
        for name, var in (("workers", "SYMPHONY_SERVER_WORKERS"), ("queue_size", "SYMPHONY_SERVER_QUEUE"),
                          ("jobs_per_client", "SYMPHONY_SERVER_JOBS_PER_CLIENT"),
                          ("max_bars", "SYMPHONY_SERVER_MAX_BARS"),
                          ("generations_per_minute", "SYMPHONY_SERVER_GENERATIONS_PER_MINUTE"),
                          ("sign_in_failures", "SYMPHONY_SERVER_SIGN_IN_FAILURES")):
            if env.get(var):
                values[name] = int(env[var])
        if env.get("SYMPHONY_SERVER_MAX_UPLOAD_MB"):
            values["max_upload_bytes"] = int(float(env["SYMPHONY_SERVER_MAX_UPLOAD_MB"]) * 2**20)
        if env.get("SYMPHONY_ACCOUNTS"):
            values["accounts"] = env["SYMPHONY_ACCOUNTS"].strip().lower() in ("1", "true", "yes", "on")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def limits(self) -> dict:
        """The limits a client may read (GET /api/health)."""
        return {"max_upload_bytes": self.max_upload_bytes, "max_bars": self.max_bars,
                "jobs_per_client": self.jobs_per_client, "workers": self.workers, "queue_size": self.queue_size,
                "generations_per_minute": self.generations_per_minute}
