"""Faults during ingestion: a writer killed with SIGKILL mid-run, and two writers on the same files at once."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from newsdesk.services import Services
from newsdesk.settings import Settings

TOPICS = ["harbour", "railway", "orchard", "museum", "bridge", "festival", "library", "stadium", "airport", "school"]


def write_corpus(path: Path, n: int) -> None:
    with path.open("w") as f:
        for i in range(n):
            topic = TOPICS[i % len(TOPICS)]
            text = (
                f"The {topic} committee number {i} met on Monday to discuss the budget. "
                f"Members of committee {i} agreed to spend {i * 7} thousand pounds on repairs. "
                f"A spokesperson said the {topic} would reopen within {i % 12 + 1} weeks."
            )
            f.write(json.dumps({"id": f"a{i:04d}", "title": f"{topic.title()} story {i}", "text": text}) + "\n")


def ingest_process(corpus: Path, data: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(data), "NEWSDESK_COLLECTION": "faults"}
    script = Path(sys.executable).parent / "newsdesk"
    return subprocess.Popen(
        [str(script), "ingest", str(corpus)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def stored_articles(data: Path) -> int:
    db = data / "catalogue" / "faults.sqlite3"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def consistency(svc: Services) -> tuple[set[str], set[str]]:
    """(chunk ids the catalogue lists, vector ids Chroma holds)."""
    cat = svc.store.catalogue("faults")
    listed = {cid for a in cat.list_articles() for cid in cat.chunk_ids_of(a.article_id)}
    vectors = set(svc.store._chroma("faults").get(include=[])["ids"])
    return listed, vectors


def test_sigkill_mid_ingest_leaves_no_half_article_and_a_rerun_completes(
    tmp_path: Path, isolated_env: Path, embedder: object
) -> None:
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus, 700)
    proc = ingest_process(corpus, isolated_env)
    deadline = time.monotonic() + 240
    while stored_articles(isolated_env) == 0 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the ingest finished before it could be killed; make the corpus bigger"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = stored_articles(isolated_env)
    assert 0 < partial < 700

    svc = Services(Settings(data_dir=isolated_env), embedder=embedder)  # type: ignore[arg-type]
    listed, vectors = consistency(svc)
    assert listed <= vectors, "every catalogued article has all of its vectors"
    for info in svc.store.list_articles("faults"):
        assert len(svc.store.catalogue("faults").chunk_ids_of(info.article_id)) == info.chunks

    report = svc.ingestor.ingest([str(corpus)], "faults")
    assert not report.failed
    assert len(report.unchanged) == partial and len(report.added) == 700 - partial
    listed, vectors = consistency(svc)
    assert listed == vectors, "orphan vectors of the killed run are repaired"
    answer = svc.chain.ask("How much did committee 650 agree to spend on repairs?", collection="faults")
    assert "4550 thousand pounds" in answer.answer
    svc.close()


def test_two_processes_ingesting_the_same_files_make_no_duplicates(
    tmp_path: Path, isolated_env: Path, embedder: object
) -> None:
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus, 150)
    first, second = ingest_process(corpus, isolated_env), ingest_process(corpus, isolated_env)
    for proc in (first, second):
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    svc = Services(Settings(data_dir=isolated_env), embedder=embedder)  # type: ignore[arg-type]
    assert len(svc.store.list_articles("faults")) == 150
    listed, vectors = consistency(svc)
    assert listed == vectors and len(vectors) == 150
    svc.close()
