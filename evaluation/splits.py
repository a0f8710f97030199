"""Train / dev / test assignment, by article, with a fixed seed.

Every question and every verification pair about an article lands in the same split, so nothing tuned on train has
seen a sentence of a dev or test article. The split is a pure function of the article id (a salted SHA-256), so it
is stable across machines and across additions to the question bank: a new article never moves an old one.
"""

from __future__ import annotations

import hashlib
from typing import Literal

Split = Literal["train", "dev", "test"]
SPLITS: tuple[Split, ...] = ("train", "dev", "test")
SEED = "newsdesk-split-2026-12"
TRAIN_SHARE = 0.6
DEV_SHARE = 0.2  # the rest is test


def split_of(article_id: str, seed: str = SEED) -> Split:
    """The split an article's questions belong to (60% train, 20% dev, 20% test)."""
    digest = hashlib.sha256(f"{seed}:{article_id}".encode()).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2**64
    if fraction < TRAIN_SHARE:
        return "train"
    if fraction < TRAIN_SHARE + DEV_SHARE:
        return "dev"
    return "test"
