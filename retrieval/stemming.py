"""Porter stems, the same algorithm SQLite FTS5's `porter` tokenizer applies, for matching words to the index."""

from __future__ import annotations

import threading
from functools import lru_cache

import snowballstemmer

_local = threading.local()


def _stemmer() -> snowballstemmer.stemmer:
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:  # snowball stemmers keep state: one per thread
        stemmer = _local.stemmer = snowballstemmer.stemmer("porter")
    return stemmer


@lru_cache(maxsize=65536)
def porter_stem(word: str) -> str:
    return str(_stemmer().stemWord(word.lower()))
