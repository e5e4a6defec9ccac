"""A throwaway PostgreSQL server for the boot tests, started once per session from the installed
binaries (`initdb`, `pg_ctl`): local connections are trusted (for setup), TCP on 127.0.0.1 asks
for a password, so wrong credentials fail as they would in production. As root, the server runs
as the `postgres` user (initdb refuses root). Without the binaries the tests are skipped, except
under CI (`CI` set), where they must run."""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Iterator, List

import pytest

FIXTURES = Path(__file__).parent.parent / "fixtures" / "boot"
USER, PASSWORD = "app", "app-pw-4711"
_databases = count()


@dataclass(frozen=True)
class Server:
    port: int
    socket_dir: str
    user: str = USER
    password: str = PASSWORD

    def url(self, database: str, driver: str = "asyncpg", password: str = PASSWORD,
            port: int = 0) -> str:
        return (f"postgresql+{driver}://{USER}:{password}@127.0.0.1:{port or self.port}"
                f"/{database}")

    def admin(self):
        import psycopg

        return psycopg.connect(host=self.socket_dir, port=self.port, user="postgres",
                               dbname="postgres", autocommit=True)

    def tables(self, database: str) -> List[str]:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=USER, password=PASSWORD,
                             dbname=database) as conn:
            rows = conn.execute("SELECT table_name FROM information_schema.tables "
                                "WHERE table_schema = 'public' ORDER BY table_name").fetchall()
        return [row[0] for row in rows]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres() -> List[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must run the PostgreSQL tests (.ci/run installs them)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Server]:
    if not (shutil.which("initdb") and shutil.which("pg_ctl")):
        _missing("initdb/pg_ctl not on PATH")
    base = Path(tempfile.mkdtemp(prefix="sba-pg-"))
    data = base / "data"
    if os.geteuid() == 0:
        os.chmod(base, 0o755)
        account = pwd.getpwnam("postgres")
        os.chown(base, account.pw_uid, account.pw_gid)
    port = free_port()
    run = _as_postgres()
    subprocess.run([*run, "initdb", "-D", str(data), "-U", "postgres", "-E", "UTF8",
                    "--auth-local=trust", "--auth-host=scram-sha-256"],
                   check=True, capture_output=True)
    options = (f"-c listen_addresses=127.0.0.1 -c port={port} "
               f"-c unix_socket_directories={data} -c fsync=off")
    subprocess.run([*run, "pg_ctl", "-D", str(data), "-o", options, "-l", str(base / "log"),
                    "-w", "-t", "60", "start"], check=True, capture_output=True)
    server = Server(port, str(data))
    try:
        with server.admin() as conn:
            conn.execute(f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'")
        yield server
    finally:
        subprocess.run([*run, "pg_ctl", "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def database(postgres: Server) -> str:
    """A fresh, empty database owned by the app's role."""
    name = f"shop_{os.getpid()}_{next(_databases)}"
    with postgres.admin() as conn:
        conn.execute(f"CREATE DATABASE {name} OWNER {USER}")
    return name


@pytest.fixture
def closed_port() -> int:
    """A local TCP port nothing listens on."""
    return free_port()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A local port that accepts TCP connections and never answers (a host dropping packets
    after the handshake, as far as the client can tell)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


@pytest.fixture
def fixture_copy(tmp_path: Path):
    """A fixture backend copied to a scratch folder (the probe may write its SQLite file)."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(FIXTURES / name, target)
        return target

    return copy
