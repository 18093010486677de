"""The Django cache on Redis, for when Redis is away.

The cache holds only what may be lost: the token routes' throttle counters. A submission
must neither fail nor wait because Redis is down or hangs, so every operation has a short
socket timeout (OPTIONS in settings), and an error switches this process to a cache in
its own memory for RETRY_SECONDS before Redis is tried again: a frozen Redis costs one
timeout per process and period, not one per request. Meanwhile each process counts its
own requests, so a throttle allows up to its rate per process.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0


class FallbackRedisCache(RedisCache):
    """RedisCache that carries on in this process's memory while Redis cannot be reached."""

    # Per location, when to try Redis again; shared by the threads of a process.
    _away_until: dict[str, float] = {}

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._location = server
        self._memory = LocMemCache(f"fallback:{server}", {"TIMEOUT": params.get("TIMEOUT", 300)})

    def _either(self, name: str, *args: Any) -> Any:
        if time.monotonic() >= self._away_until.get(self._location, 0.0):
            try:
                return getattr(super(), name)(*args)
            except RedisError as error:
                self._away_until[self._location] = time.monotonic() + RETRY_SECONDS
                logger.warning(
                    "Redis cache unreachable (%s); using this process's memory for %s s",
                    type(error).__name__,
                    RETRY_SECONDS,
                )
        return getattr(self._memory, name)(*args)

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._either("add", key, value, timeout, version)

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return self._either("get", key, default, version)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        self._either("set", key, value, timeout, version)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._either("touch", key, timeout, version)

    def delete(self, key: Any, version: Any = None) -> Any:
        return self._either("delete", key, version)

    def get_many(self, keys: Any, version: Any = None) -> Any:
        return self._either("get_many", keys, version)

    def has_key(self, key: Any, version: Any = None) -> Any:
        return self._either("has_key", key, version)

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> Any:
        return self._either("incr", key, delta, version)

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._either("set_many", data, timeout, version)

    def delete_many(self, keys: Any, version: Any = None) -> None:
        self._either("delete_many", keys, version)

    def clear(self) -> Any:
        return self._either("clear")
