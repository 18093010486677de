"""The project's WSGI app under gunicorn on 127.0.0.1, started and stopped by the benchmark."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.paths import PROJECT_DIR

HOST = "127.0.0.1"
READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class Address:
    host: str
    port: int


class ServerFailed(RuntimeError):
    """gunicorn exited or never answered /healthz; the message carries its log's tail."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _command(port: int, workers: int, log: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        f"--workers={workers}",
        "--worker-class=sync",
        f"--bind={HOST}:{port}",
        "--log-level=warning",
        f"--error-logfile={log}",
    ]


def _healthy(address: Address) -> bool:
    connection = http.client.HTTPConnection(address.host, address.port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def log_tail(log: Path, lines: int = 20) -> str:
    if not log.exists():
        return "(no log)"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _wait_ready(process: subprocess.Popen[bytes], address: Address, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerFailed(f"gunicorn exited with {process.returncode}:\n{log_tail(log)}")
        if _healthy(address):
            return
        time.sleep(0.2)
    raise ServerFailed(f"gunicorn not ready after {READY_TIMEOUT_SECONDS:.0f} s:\n{log_tail(log)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def gunicorn(*, env: Mapping[str, str], workers: int, log: Path) -> Iterator[Address]:
    """Serve the app with `workers` sync workers until the block ends."""
    address = Address(HOST, free_port())
    process = subprocess.Popen(
        _command(address.port, workers, log),
        cwd=PROJECT_DIR,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_ready(process, address, log)
        yield address
    finally:
        _stop(process)
