"""What catching a catalogue up with a shared Chroma server costs: cold, nothing changed, a few changes, reindex.

Starts a `chroma run` server on 127.0.0.1, lets process A (`newsdesk ingest`, its own data dir) ingest the first N
articles of a corpus, then times, in this process as B (another data dir, no model loaded: catching up embeds
nothing), `ArticleStore.refresh` from an empty cache, again with nothing changed, after A changed one article and
forgot another, and `reindex`. Each time is the median of `--repeats` runs (the cold one on a fresh data dir each).

`python -m benchmarks.catch_up --corpus bbc-news-2225.jsonl --articles 400 --work /tmp/catch-up`
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx


def start_chroma(path: Path, port: int) -> subprocess.Popen[bytes]:
    chroma = Path(sys.executable).parent / "chroma"
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("chroma run did not start")


def newsdesk(env: dict[str, str], *args: str) -> None:
    script = Path(sys.executable).parent / "newsdesk"
    done = subprocess.run([str(script), *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])


def timed(fn: object) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()  # type: ignore[operator]
    return time.perf_counter() - t0, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--articles", type=int, default=400)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    from newsdesk.services import Services
    from newsdesk.settings import Settings

    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    rows = [json.loads(line) for line in args.corpus.read_text(encoding="utf-8").splitlines()[: args.articles]]
    corpus = args.work / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    server = start_chroma(args.work / "chroma", args.port)
    try:
        env = {**os.environ, "CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(args.port)}
        env_a = {**env, "NEWSDESK_DATA_DIR": str(args.work / "a"), "NEWSDESK_COLLECTION": "bench"}
        ingest_s, _ = timed(lambda: newsdesk(env_a, "ingest", str(corpus)))

        def reader(name: str) -> Services:
            return Services(Settings(data_dir=args.work / name, chroma_host="127.0.0.1", chroma_port=args.port))

        cold: list[float] = []
        chunks = 0
        for i in range(args.repeats):
            svc = reader(f"b{i}")
            seconds, report = timed(lambda s=svc: s.store.refresh("bench", force=True))
            cold.append(seconds)
            chunks = svc.store.count_chunks("bench")
            assert report is not None and len(report.added) == args.articles, report  # type: ignore[attr-defined]
            svc.close()
        b = reader("b0")
        unchanged = [timed(lambda: b.store.refresh("bench", force=True))[0] for _ in range(args.repeats)]
        b.store.catalogue("bench").set_meta("chroma_generation", None)  # as if someone changed something
        full_diff = timed(lambda: b.store.refresh("bench", force=True))[0]

        changed = dict(rows[0], text=rows[0]["text"] + "\n\nThis article was updated.")
        one = args.work / "changed.jsonl"
        one.write_text(json.dumps(changed) + "\n", encoding="utf-8")
        newsdesk(env_a, "ingest", str(one))
        newsdesk(env_a, "forget", rows[1]["id"])
        incremental, report = timed(lambda: b.store.refresh("bench", force=True))
        reindex, _ = timed(lambda: b.store.reindex("bench"))
        b.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(
        json.dumps(
            {
                "articles": args.articles,
                "chunks": chunks,
                "a_ingest_s (process A, start-up and embedding included)": round(ingest_s, 1),
                "cold_catch_up_s (empty cache, median)": round(statistics.median(cold), 2),
                "check_nothing_changed_ms (median)": round(statistics.median(unchanged) * 1000, 1),
                "hash_diff_nothing_to_fetch_ms": round(full_diff * 1000, 1),
                "incremental_s (1 changed, 1 forgotten)": round(incremental, 3),
                "incremental_report": report.summary() if report is not None else None,  # type: ignore[attr-defined]
                "reindex_s": round(reindex, 2),
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
