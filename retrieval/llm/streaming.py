"""Rate-limiting a stream of drafts for front ends that can only edit a message every so often (Discord: 1.5 s)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

T = TypeVar("T")


async def throttled(
    source: AsyncIterator[T],
    interval_s: float,
    is_final: Callable[[T], bool] = lambda item: False,
    clock: Callable[[], float] = time.monotonic,
) -> AsyncIterator[T]:
    """Pass the first item at once, then at most one item per `interval_s` (the newest), and always the last one.

    Items for which `is_final(item)` is true (the verified `Answer` from `LLMAnswerer.astream_answer`) are passed
    straight through, so the verified version always replaces the draft at the end.
    """
    last_emit: float | None = None
    pending: T | None = None
    has_pending = False
    async for item in source:
        if is_final(item):
            has_pending = False
            last_emit = clock()
            yield item
            continue
        now = clock()
        if last_emit is None or now - last_emit >= interval_s:
            has_pending = False
            last_emit = now
            yield item
        else:
            pending, has_pending = item, True
    if has_pending:
        yield pending  # type: ignore[misc]
