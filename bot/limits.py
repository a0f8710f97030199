"""Per-user cooldown and per-server rate, so one person or one busy server cannot monopolise the answerer.

Pure bookkeeping with an injectable clock (tests move time by hand); the cogs ask `check()` before doing any work and
tell the user, ephemerally, how long to wait.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Limited:
    """Why a request was refused and when to try again."""

    scope: str  # "user" or "server"
    retry_after: float

    def message(self) -> str:
        wait = max(1, round(self.retry_after))
        if self.scope == "user":
            return f"Easy there! You can ask again in {wait} s."
        return f"This server has asked a lot of questions in the last minute; please try again in {wait} s."


class RateLimiter:
    """A cooldown per user (seconds between questions) and a sliding one-minute window per server (or DM user)."""

    def __init__(
        self, user_cooldown_s: float, guild_rate_per_minute: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.user_cooldown_s = user_cooldown_s
        self.guild_rate_per_minute = guild_rate_per_minute
        self._clock = clock
        self._last_user: dict[int, float] = {}
        self._guild_hits: dict[int, deque[float]] = {}

    def check(self, user_id: int, guild_id: int | None) -> Limited | None:
        """Record a request and return None when it may go ahead, else a `Limited` (nothing is recorded then)."""
        now = self._clock()
        last = self._last_user.get(user_id)
        if last is not None and now - last < self.user_cooldown_s:
            return Limited("user", self.user_cooldown_s - (now - last))
        key = guild_id if guild_id is not None else -user_id
        hits = self._guild_hits.setdefault(key, deque())
        while hits and now - hits[0] >= 60.0:
            hits.popleft()
        if len(hits) >= self.guild_rate_per_minute:
            return Limited("server", 60.0 - (now - hits[0]))
        hits.append(now)
        self._last_user[user_id] = now
        self._prune(now)
        return None

    def _prune(self, now: float) -> None:
        """Forget users whose cooldown is long over, so memory stays bounded on big servers."""
        if len(self._last_user) > 10_000:
            horizon = max(self.user_cooldown_s, 1.0)
            self._last_user = {u: t for u, t in self._last_user.items() if now - t < horizon}
