"""`newsdesk` exactly as a user runs it, plus a record of every text its embedder read (for tokens/s).

`python -m benchmarks.newsdesk_cli RECORD.txt ingest CORPUS --json` runs `newsdesk.cli.main` with the rest of the
arguments. The embedder that `Services` builds is wrapped so each `embed_array` call appends the list of texts to
memory; they are written to RECORD.txt (one JSON list a line) at exit and counted afterwards, outside the timing
that matters (writing a few MB takes milliseconds).
"""

from __future__ import annotations

import atexit
import json
import sys
from pathlib import Path
from typing import Any


def main(argv: list[str]) -> None:
    record = Path(argv[0])
    import retrieval.embeddings as embeddings

    seen: list[list[str]] = []
    original = embeddings.make_embedder

    def recording_make_embedder(settings: Any) -> Any:
        embedder = original(settings)
        inner = embedder.embed_array

        def embed_array(texts: list[str]) -> Any:
            seen.append(list(texts))
            return inner(texts)

        embedder.embed_array = embed_array  # type: ignore[method-assign]
        return embedder

    def dump() -> None:
        with record.open("w", encoding="utf-8") as fh:
            for texts in seen:
                fh.write(json.dumps(texts, ensure_ascii=False) + "\n")

    embeddings.make_embedder = recording_make_embedder  # type: ignore[assignment]
    atexit.register(dump)
    from newsdesk.cli import main as cli_main

    sys.argv = ["newsdesk", *argv[1:]]
    cli_main()


if __name__ == "__main__":
    main(sys.argv[1:])
