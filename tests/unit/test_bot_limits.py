"""Rate limits and the bounded work queue, without Discord (the end-to-end tests drive them through the client)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from bot.limits import RateLimiter
from bot.workers import Busy, WorkQueue


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_user_cooldown() -> None:
    clock = Clock()
    limiter = RateLimiter(user_cooldown_s=5, guild_rate_per_minute=100, clock=clock)
    assert limiter.check(1, 10) is None
    clock.now += 2
    limited = limiter.check(1, 10)
    assert limited is not None and limited.scope == "user" and limited.retry_after == pytest.approx(3)
    assert "3 s" in limited.message()
    assert limiter.check(2, 10) is None  # other users are not affected
    clock.now += 3.01
    assert limiter.check(1, 10) is None


def test_guild_rate_is_a_sliding_minute() -> None:
    clock = Clock()
    limiter = RateLimiter(user_cooldown_s=0, guild_rate_per_minute=3, clock=clock)
    for user in (1, 2, 3):
        assert limiter.check(user, 10) is None
        clock.now += 10
    limited = limiter.check(4, 10)
    assert limited is not None and limited.scope == "server"
    assert limited.retry_after == pytest.approx(30)  # the first hit leaves the window 60 s after it happened
    assert limiter.check(4, 11) is None  # another server has its own budget
    clock.now += 30
    assert limiter.check(4, 10) is None


def test_refused_requests_are_not_counted() -> None:
    clock = Clock()
    limiter = RateLimiter(user_cooldown_s=10, guild_rate_per_minute=2, clock=clock)
    assert limiter.check(1, 10) is None
    for _ in range(5):
        assert limiter.check(1, 10) is not None  # hammering during the cooldown
    assert limiter.check(2, 10) is None  # ... did not use up the server's budget


def test_dms_are_limited_per_user() -> None:
    clock = Clock()
    limiter = RateLimiter(user_cooldown_s=0, guild_rate_per_minute=1, clock=clock)
    assert limiter.check(1, None) is None
    assert limiter.check(2, None) is None
    assert limiter.check(1, None) is not None


@pytest.mark.asyncio
async def test_work_queue_bounds_concurrency_and_refuses_beyond_the_queue() -> None:
    queue = WorkQueue(max_concurrent=2, max_queued=3)
    running = 0
    peak = 0
    lock = threading.Lock()
    release = threading.Event()

    def job(i: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        release.wait(5)
        with lock:
            running -= 1
        return i

    tickets = [queue.admit() for _ in range(5)]
    with pytest.raises(Busy):
        queue.admit()
    tasks = [asyncio.create_task(t.run(job, i)) for i, t in enumerate(tickets)]
    await asyncio.sleep(0.2)
    assert peak == 2  # only two ran at once, the other three waited
    # The event loop stays free while jobs block their threads.
    started = time.perf_counter()
    await asyncio.sleep(0.01)
    assert time.perf_counter() - started < 0.5
    release.set()
    assert await asyncio.gather(*tasks) == [0, 1, 2, 3, 4]
    assert queue.in_flight == 0
    assert await queue.run(job, 7) == 7  # room again


@pytest.mark.asyncio
async def test_failed_and_cancelled_jobs_give_their_place_back() -> None:
    queue = WorkQueue(max_concurrent=1, max_queued=0)

    def boom() -> None:
        raise RuntimeError("answerer exploded")

    with pytest.raises(RuntimeError):
        await queue.run(boom)
    assert queue.in_flight == 0
    ticket = queue.admit()
    with pytest.raises(Busy):
        queue.admit()
    ticket.cancel()
    ticket.cancel()  # idempotent
    assert queue.in_flight == 0
    queue.admit().cancel()
