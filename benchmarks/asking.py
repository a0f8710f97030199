"""Warm `ask` latency in a process that does only that (like the bot): p50/p95 of retrieve, answer and total.

The process builds `Services` once, answers a few warm-up questions (model, Chroma's HNSW index and SQLite pages
load on first use), then times every question of the list through `QAChain.ask`, the path every front end uses,
with the offline answerer. Its peak RSS, measured by the parent, is that of a warm asking process at this size.

`python -m benchmarks.asking DATA_DIR COLLECTION BACKEND QUESTIONS.json WARMUP RESULT.json`
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np


def percentiles(values: list[float]) -> dict[str, float]:
    arr = np.asarray(values, dtype=np.float64)
    return {
        "p50": round(float(np.percentile(arr, 50)), 2),
        "p95": round(float(np.percentile(arr, 95)), 2),
        "mean": round(float(arr.mean()), 2),
        "max": round(float(arr.max()), 2),
    }


def main(argv: list[str]) -> int:
    data_dir, collection, backend = Path(argv[0]), argv[1], argv[2]
    questions: list[str] = json.loads(Path(argv[3]).read_text(encoding="utf-8"))
    warmup = int(argv[4])
    result = Path(argv[5])
    t0 = time.perf_counter()
    from newsdesk.services import Services
    from newsdesk.settings import Settings

    svc = Services(Settings(data_dir=data_dir, embedding_backend=backend, llm_provider="none"))
    chunks = svc.store.count_chunks(collection)
    for q in questions[:warmup]:
        svc.chain.ask(q, collection=collection)
    ready_s = time.perf_counter() - t0
    timings: dict[str, list[float]] = {"retrieve": [], "answer": [], "total": []}
    abstained = 0
    for q in questions[warmup:]:
        answer = svc.chain.ask(q, collection=collection)
        abstained += answer.abstained
        for key in timings:
            timings[key].append(answer.timings_ms[key])
    svc.close()
    result.write_text(
        json.dumps(
            {
                "chunks": chunks,
                "questions": len(questions) - warmup,
                "abstained": abstained,
                "startup_and_warmup_s": round(ready_s, 2),
                "ms": {k: percentiles(v) for k, v in timings.items()},
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
