"""Many newsdesk processes, one `chroma run` server: each process's catalogue is a cache it catches up by itself.

Processes A and B have their own data dirs and the same CHROMA_HOST/CHROMA_PORT. What A ingests, B answers about
with the right citation; what A forgets, B stops citing; when A rewrites an article, B serves the old version or the
new one, never a mix of both.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma

from newsdesk.services import Services
from newsdesk.settings import Settings
from retrieval.retriever import QueryVectors, retrieve_chunks
from tests.paths import SAMPLE
from tests.servers import ChromaServer

SAMPLE_ID = "zelenskyy-nato-strikes"
TITLE = "Zelenskyy Calls on NATO Allies to Remove Restrictions on Strikes Into Russia"
HARBOUR = "Harbour repairs agreed\n\nThe harbour committee agreed on Monday to spend 70 thousand pounds on repairs.\n"


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path / "chroma-server")
    server.start()
    yield server
    server.stop()


def newsdesk(data: Path, port: int, *args: str) -> tuple[int, str, str]:
    """A real `newsdesk` process with its own data dir, talking to the shared server."""
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(data), "CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(port)}
    script = Path(sys.executable).parent / "newsdesk"
    done = subprocess.run([str(script), *args], env=env, capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout, done.stderr


def ask(data: Path, port: int, question: str) -> dict[str, Any]:
    code, out, err = newsdesk(data, port, "ask", "--json", question)
    assert code == 0, err
    return dict(json.loads(out))


def test_what_one_process_ingests_another_answers_forgets_and_sees_changed(
    chroma_server: ChromaServer, tmp_path: Path
) -> None:
    a, b = tmp_path / "data-a", tmp_path / "data-b"
    article = tmp_path / "articles" / SAMPLE.name
    article.parent.mkdir()
    article.write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    (article.parent / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    port = chroma_server.port

    code, _, err = newsdesk(a, port, "ingest", str(article.parent))
    assert code == 0, err
    answer = ask(b, port, "What did Stoltenberg say about self-defense?")
    assert "legitimate military targets" in str(answer["answer"])
    citations = answer["citations"]
    assert isinstance(citations, list) and citations
    assert {c["article_id"] for c in citations} == {SAMPLE_ID} and citations[0]["title"] == TITLE
    code, out, _ = newsdesk(b, port, "articles", "--json")
    assert code == 0 and {row["article_id"] for row in json.loads(out)} == {SAMPLE_ID, "harbour"}

    code, _, err = newsdesk(a, port, "forget", SAMPLE_ID)
    assert code == 0, err
    after = ask(b, port, "What did Stoltenberg say about self-defense?")
    assert "legitimate military targets" not in str(after["answer"])
    assert all(c["article_id"] != SAMPLE_ID for c in after["citations"])
    harbour = ask(b, port, "How much will the harbour committee spend on repairs?")
    assert "70 thousand pounds" in str(harbour["answer"])

    article.write_text(article.read_text(encoding="utf-8").replace("40 billion Euros", "50 billion Euros"))
    code, _, err = newsdesk(a, port, "ingest", str(article))
    assert code == 0, err
    money = ask(b, port, "How much money did NATO promise Ukraine for next year?")
    assert "50 billion" in str(money["answer"]) and "40 billion" not in str(money["answer"])
    code, out, err = newsdesk(b, port, "reindex")
    assert code == 0 and "2 articles" in out, err


EDITION_SENTENCES = 40


def edition_text(n: int) -> str:
    """An article of several chunks in which every sentence names its edition, so a mix is visible."""
    body = " ".join(
        f"In edition {n}, the council listed item {i} of the harbour budget beside the railway timetable for the"
        f" eastern district."
        for i in range(EDITION_SENTENCES)
    )
    return json.dumps({"id": "edition", "title": "Council budget", "text": body})


WRITER = """
import sys
from pathlib import Path
from newsdesk.services import Services
from newsdesk.settings import Settings
svc = Services(Settings())
for path in sys.argv[1:]:
    report = svc.ingestor.ingest([path], "shared")
    assert report.ok and (report.added or report.updated), report.summary()
    print(path, flush=True)
svc.close()
"""


def test_a_reader_never_mixes_old_and_new_while_another_process_rewrites(
    chroma_server: ChromaServer, tmp_path: Path, embedder: object
) -> None:
    versions = []
    for n in range(1, 7):
        path = tmp_path / f"edition-{n}.jsonl"
        path.write_text(edition_text(n) + "\n", encoding="utf-8")
        versions.append(str(path))
    port = chroma_server.port
    writer_settings = Settings(data_dir=tmp_path / "a", chroma_host="127.0.0.1", chroma_port=port)
    first = Services(writer_settings, embedder=embedder)  # type: ignore[arg-type]
    assert first.ingestor.ingest([versions[0]], "shared").added == ["edition"]
    assert len(first.store.catalogue("shared").chunk_ids_of("edition")) >= 3, "the article needs several chunks"
    first.close()

    reader = Services(
        Settings(data_dir=tmp_path / "b", chroma_host="127.0.0.1", chroma_port=port, sync_interval_s=0),
        embedder=embedder,  # type: ignore[arg-type]
    )
    vectors = QueryVectors(reader.embedder)
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(tmp_path / "a"), "CHROMA_HOST": "127.0.0.1"}
    env["CHROMA_PORT"] = str(port)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, *versions[1:]], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    seen: list[int] = []
    while True:
        running = writer.poll() is None
        chunks = retrieve_chunks(reader.store, vectors, "shared", "harbour budget railway timetable", 10)
        editions = {int(m) for c in chunks for m in re.findall(r"edition (\d+)", c.text)}
        versions_of_ids = {c.chunk_id.split("::")[1] for c in chunks}
        assert len(editions) == 1 and len(versions_of_ids) == 1, f"mixed versions: {editions} {versions_of_ids}"
        article = reader.store.get_article("shared", "edition")
        assert article is not None
        assert len(set(re.findall(r"edition (\d+)", article.text))) == 1
        current = editions.pop()
        if not seen or seen[-1] != current:
            seen.append(current)
        if not running:
            break
    _, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err.decode()[-2000:]
    assert seen[-1] == 6, f"the reader ends on the last version (saw {seen})"
    assert len(seen) >= 3, f"the reader should have caught several versions as they came (saw {seen})"
    assert seen == sorted(seen), "versions only move forwards"
    reader.close()


def test_langchain_chroma_on_the_server_returns_documents_with_title_and_source(
    chroma_server: ChromaServer, isolated_env: Path, embedder: object
) -> None:
    settings = Settings(data_dir=isolated_env, chroma_host="127.0.0.1", chroma_port=chroma_server.port)
    svc = Services(settings, embedder=embedder)  # type: ignore[arg-type]
    assert svc.ingestor.ingest([str(SAMPLE)]).added == [SAMPLE_ID]
    svc.close()
    client = chromadb.HttpClient(
        host="127.0.0.1", port=chroma_server.port, settings=ChromaSettings(anonymized_telemetry=False)
    )
    store = Chroma(client=client, collection_name="newsdesk-default", embedding_function=embedder)  # type: ignore[arg-type]
    docs = store.similarity_search("What did Stoltenberg say about self-defense?", k=4)
    assert len(docs) == 4
    assert all(d.metadata["title"] == TITLE and d.metadata["source"].endswith(SAMPLE.name) for d in docs)
    assert any("legitimate military targets" in d.page_content for d in docs)


class WriterDied(Exception):
    """Stands for the writer being killed at one exact step of the write protocol."""


def _die(*args: object, **kwargs: object) -> None:
    raise WriterDied


@pytest.mark.parametrize(
    ("dies_before", "served"),
    [
        ("_publish_manifest", 1),  # new chunks are in Chroma, the manifest still names the old version
        ("_delete_version", 2),  # the manifest names the new version, the old chunks are still there
    ],
)
def test_a_writer_dying_mid_write_leaves_readers_one_whole_version(
    chroma_server: ChromaServer, tmp_path: Path, embedder: object, dies_before: str, served: int
) -> None:
    port = chroma_server.port
    for n in (1, 2):
        (tmp_path / f"edition-{n}.jsonl").write_text(edition_text(n) + "\n", encoding="utf-8")
    writer = Services(
        Settings(data_dir=tmp_path / "a", chroma_host="127.0.0.1", chroma_port=port),
        embedder=embedder,  # type: ignore[arg-type]
    )
    assert writer.ingestor.ingest([str(tmp_path / "edition-1.jsonl")], "shared").added == ["edition"]
    setattr(writer.store, dies_before, _die)
    with pytest.raises(WriterDied):
        writer.ingestor.ingest([str(tmp_path / "edition-2.jsonl")], "shared")
    writer.close()
    chunk_versions = {m["content_hash"] for m in writer_chunks(port)}
    assert len(chunk_versions) == 2, "both versions' chunks are in Chroma at this moment"

    reader = Services(
        Settings(data_dir=tmp_path / "b", chroma_host="127.0.0.1", chroma_port=port),
        embedder=embedder,  # type: ignore[arg-type]
    )
    assert reader.store.count_articles("shared") == 1  # the first read catches the new cache up
    rows = reader.store.get_chunks("shared", reader.store.catalogue("shared").chunk_ids_of("edition"))
    assert rows
    editions = {int(m) for r in rows.values() for m in re.findall(r"edition (\d+)", r.text)}
    assert editions == {served}
    article = reader.store.get_article("shared", "edition")
    assert article is not None and set(re.findall(r"edition (\d+)", article.text)) == {str(served)}
    assert sorted(r.position for r in rows.values()) == list(range(len(rows)))
    reader.close()


def writer_chunks(port: int) -> list[dict[str, object]]:
    client = chromadb.HttpClient(host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False))
    return [dict(m) for m in client.get_collection("newsdesk-shared").get(include=["metadatas"])["metadatas"] or []]
