"""A bounded HTTP load generator: C threads, a fixed list of requests, a hard time cap.

gunicorn's sync workers close the connection after every response, so each request opens
its own connection (the same for every scenario). Latency is connect to last body byte.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bench.server import Address

REQUEST_TIMEOUT_SECONDS = 30.0
NO_RESPONSE = 0  # the status recorded when the connection failed or timed out


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: bytes | None = None


@dataclass(frozen=True)
class Sample:
    status: int
    seconds: float


@dataclass(frozen=True)
class Batch:
    samples: list[Sample]
    wall_seconds: float
    capped: bool  # the time cap stopped it before every call was sent


class _Dispenser:
    """Hands out call indexes until the calls run out or the deadline passes."""

    def __init__(self, total: int) -> None:
        self._next = 0
        self._total = total
        self._deadline = float("inf")
        self._lock = threading.Lock()
        self.capped = False

    def open(self, time_cap: float) -> float:
        """Start the clock; returns the start time."""
        began = time.perf_counter()
        self._deadline = began + time_cap
        return began

    def take(self) -> int | None:
        with self._lock:
            if self._next >= self._total:
                return None
            if time.perf_counter() >= self._deadline:
                self.capped = True
                return None
            index, self._next = self._next, self._next + 1
            return index


def _headers(call: Call) -> dict[str, str]:
    headers = {"Connection": "close", "Accept": "application/json"}
    if call.body is not None:
        headers["Content-Type"] = "application/json"
    return headers


def send(address: Address, call: Call) -> Sample:
    started = time.perf_counter()
    connection = http.client.HTTPConnection(
        address.host, address.port, timeout=REQUEST_TIMEOUT_SECONDS
    )
    try:
        connection.request(call.method, call.path, body=call.body, headers=_headers(call))
        response = connection.getresponse()
        response.read()
        status = response.status
    except (OSError, http.client.HTTPException):
        status = NO_RESPONSE
    finally:
        connection.close()
    return Sample(status, time.perf_counter() - started)


def _worker(
    address: Address,
    calls: Sequence[Call],
    dispenser: _Dispenser,
    start: threading.Event,
    out: list[Sample],
) -> None:
    start.wait()
    while (index := dispenser.take()) is not None:
        out.append(send(address, calls[index]))


def run_batch(
    address: Address, calls: Sequence[Call], *, connections: int, time_cap: float
) -> Batch:
    """Send every call over `connections` concurrent clients, stopping at `time_cap` s."""
    start = threading.Event()
    dispenser = _Dispenser(len(calls))
    outputs: list[list[Sample]] = [[] for _ in range(connections)]
    threads = [
        threading.Thread(target=_worker, args=(address, calls, dispenser, start, out), daemon=True)
        for out in outputs
    ]
    for thread in threads:
        thread.start()
    began = dispenser.open(time_cap)
    start.set()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    return Batch([s for out in outputs for s in out], wall, dispenser.capped)
