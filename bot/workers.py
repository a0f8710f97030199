"""Run blocking work (embedding, Chroma, a model) off the event loop, with bounded concurrency and a bounded queue.

The Discord gateway heartbeat and every other user's interaction run on the event loop; a question answered on it
would stall them all. `WorkQueue` runs each job in a worker thread (`asyncio.to_thread`) with at most
`max_concurrent` at once; at most `max_queued` more wait their turn, and anything beyond is refused at once with
`Busy`, so overload gives a "busy, try again" reply instead of unbounded memory and minutes of waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

T = TypeVar("T")


class Busy(Exception):
    """Every worker is busy and the waiting line is full."""


class Ticket:
    """A reserved place in the queue; `run()` it exactly once (or `cancel()` it) so the place is given back."""

    def __init__(self, queue: WorkQueue) -> None:
        self._queue = queue
        self._done = False

    async def run(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self._done:
            raise RuntimeError("a ticket runs once")
        try:
            async with self._queue._semaphore:
                return await asyncio.to_thread(func, *args, **kwargs)
        finally:
            self.cancel()

    @contextlib.asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        """Hold a worker place for work that runs partly on the event loop (a streamed LLM answer: its blocking
        steps still go to threads), so it counts against the same limit as `run`; used once, like `run`."""
        if self._done:
            raise RuntimeError("a ticket runs once")
        try:
            async with self._queue._semaphore:
                yield
        finally:
            self.cancel()

    def cancel(self) -> None:
        if not self._done:
            self._done = True
            self._queue._admitted -= 1


class WorkQueue:
    """Admission control first (`admit()`, synchronous, may raise `Busy`), then `await ticket.run(func, ...)`.

    Admission is separate from running so that a slash command can refuse instantly, before it defers, and only
    defer (Discord's 3-second rule) when the work will really happen.
    """

    def __init__(self, max_concurrent: int, max_queued: int) -> None:
        self.max_concurrent = max_concurrent
        self.max_queued = max_queued
        self._semaphore = asyncio.Semaphore(max_concurrent)
        self._admitted = 0

    @property
    def in_flight(self) -> int:
        """Jobs running or waiting."""
        return self._admitted

    def admit(self) -> Ticket:
        if self._admitted >= self.max_concurrent + self.max_queued:
            raise Busy()
        self._admitted += 1
        return Ticket(self)

    async def run(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Admit and run in one step (raises `Busy` when full)."""
        return await self.admit().run(func, *args, **kwargs)
