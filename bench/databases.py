"""Fresh databases for each run: a new SQLite file, or a dropped and re-created PostgreSQL db."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

BACKENDS = ("sqlite", "postgres")
BACKEND_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
DEFAULT_POSTGRES_URL = "postgres://candor:candor@127.0.0.1:5432/candor_bench"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
MAINTENANCE_DATABASES = ("postgres", "candor", "template1")
CONNECT_TIMEOUT_SECONDS = 3


class BackendUnavailable(Exception):
    """The database cannot be used for this run; the message says why."""


@dataclass(frozen=True)
class Backend:
    name: str
    label: str
    database_url: str


def sqlite_backend(data_dir: Path) -> Backend:
    """A new SQLite file in the run's temp dir; the base settings turn on WAL."""
    path = data_dir / "bench.sqlite3"
    path.unlink(missing_ok=True)
    return Backend("sqlite", "SQLite (WAL)", f"sqlite:///{path}")


def postgres_url() -> str:
    return os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def _checked(url: str) -> str:
    """The database name of a URL that is safe to drop: local, and named as a bench db."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise BackendUnavailable(f"BENCH_POSTGRES_URL is not a postgres:// URL: {parts.scheme}")
    if parts.hostname not in LOCAL_HOSTS:
        raise BackendUnavailable(f"the benchmark only talks to 127.0.0.1, not {parts.hostname}")
    database = parts.path.lstrip("/")
    if "bench" not in database:
        raise BackendUnavailable(f"refusing to drop {database!r}: its name must contain 'bench'")
    return database


def _maintenance_connection(url: str) -> psycopg.Connection:
    errors = []
    for database in MAINTENANCE_DATABASES:
        try:
            return psycopg.connect(
                _with_database(url, database),
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
            )
        except psycopg.OperationalError as error:
            errors.append(str(error).strip().splitlines()[0])
    raise BackendUnavailable(f"cannot connect: {errors[-1]}")


def postgres_backend() -> Backend:
    """Drop and re-create the bench database; BackendUnavailable if the server is not there."""
    url = postgres_url()
    database = _checked(url)
    with _maintenance_connection(url) as connection:
        version = connection.info.server_version // 10000
        name = sql.Identifier(database)
        try:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            connection.execute(sql.SQL("CREATE DATABASE {}").format(name))
        except psycopg.Error as error:
            raise BackendUnavailable(f"cannot re-create {database}: {error}") from error
    return Backend("postgres", f"PostgreSQL {version}", url)


def fresh_backend(name: str, data_dir: Path) -> Backend:
    """A fresh, empty database of the backend `name` (one of BACKENDS)."""
    return sqlite_backend(data_dir) if name == "sqlite" else postgres_backend()
