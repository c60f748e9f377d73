"""A throwaway PostgreSQL server for the tests: Debian's ``postgresql`` package (the Makefile's
system packages install it, so CI has it), started in a temporary folder on 127.0.0.1 for the
test session and stopped after it.

Fixtures:
- ``postgres_server``: (session) the server's base URL, ``postgresql+psycopg://symphony@127.0.0.1:PORT``;
- ``postgres_url``: a new, empty database on it for one test;
- ``database_url``: parametrized, one new empty database per backend: SQLite and PostgreSQL.
A test module uses them with ``from .postgres import database_url, postgres_server, postgres_url  # noqa: F401``.

PostgreSQL refuses to run as root; as root (containers, CI) the server runs as the ``postgres``
user that Debian's package creates. Tests skip only where PostgreSQL is not installed."""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

START_TIMEOUT_S = 60


def pg_bin() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``: on PATH, or Debian's /usr/lib/postgresql/N/bin (newest)."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True):
        if (Path(folder) / "initdb").exists():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_as() -> dict:
    """subprocess arguments that drop root to the postgres user (nothing when not root)."""
    if os.geteuid() != 0:
        return {}
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and there is no 'postgres' user to run PostgreSQL as")
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def start_server(folder: Path) -> tuple[str, callable]:
    """initdb + pg_ctl start in ``folder``; returns (base URL, stop)."""
    bin_dir = pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    run_as = _run_as()
    if run_as:
        os.chown(folder, run_as["user"], run_as["group"])
    data, port = folder / "data", _free_port()
    subprocess.run([bin_dir / "initdb", "-D", data, "-U", "symphony", "--auth=trust", "-E", "UTF8",
                    "--no-sync"], check=True, capture_output=True, cwd=folder, **run_as)
    options = f"-p {port} -k {folder} -h 127.0.0.1 -F -c max_connections=200"  # -F: no fsync, a test server
    subprocess.run([bin_dir / "pg_ctl", "-D", data, "-o", options, "-l", folder / "server.log", "-w",
                    "-t", str(START_TIMEOUT_S), "start"], check=True, capture_output=True, cwd=folder, **run_as)

    def stop():
        subprocess.run([bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True,
                       cwd=folder, **run_as)
    return f"postgresql+psycopg://symphony@127.0.0.1:{port}", stop


def create_database(base: str) -> str:
    """A new empty database on the server; its URL."""
    from sqlalchemy import create_engine, text
    name = "t_" + uuid.uuid4().hex[:12]
    engine = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def postgres_server():
    folder = Path(tempfile.mkdtemp(prefix="symphony-pg-"))  # not under pytest's root-only temp folder
    try:
        base, stop = start_server(folder)
        try:
            yield base
        finally:
            stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server):
    return create_database(postgres_server)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'studio.db'}"
    return create_database(request.getfixturevalue("postgres_server"))
