"""Waiting for the store's write lock without blocking Discord: `/ingest` and `/forget` defer first, then wait here.

The store lets one writer at a time into its files (a lock file shared by every newsdesk process on the data dir).
A command that waited for it before answering Discord would miss the 3-second deadline whenever an ingest was
writing; so the command defers, then waits in a worker thread at most `NEWSDESK_WRITE_WAIT_S`, and on a timeout
tells the admin the knowledge base is busy instead of hanging.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from filelock import Timeout

if TYPE_CHECKING:
    from retrieval.store import ArticleStore

WRITE_BUSY = "Another change to this server's articles is being saved right now. Please try again in a minute."


class StoreBusy(Exception):
    """The write lock stayed taken for longer than the wait allowed."""


def wait_for_writer(store: ArticleStore, timeout_s: float) -> None:
    """Blocking (run it in a worker thread): return once no writer holds the lock, or raise `StoreBusy`.

    The lock is released again at once: the store takes it itself for each write, so holding it here would
    deadlock. Another writer can slip in between; the store's own write then waits its turn, which is harmless
    because the command has already answered Discord.
    """
    lock = store.write_lock()
    try:
        lock.acquire(timeout=timeout_s)
    except Timeout as exc:
        raise StoreBusy(f"the write lock was still taken after {timeout_s:g} s") from exc
    lock.release()
