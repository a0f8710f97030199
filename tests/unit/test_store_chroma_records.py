"""Chroma holds everything an answer needs: texts and citation metadata, and a manifest the catalogue is rebuilt from.

Embedded Chroma with the tiny embedder; the same against a `chroma run` server with the real model is in
tests/integration/test_multi_process.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import chromadb
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma

from newsdesk.cli import app
from newsdesk.services import Services
from newsdesk.settings import Settings
from retrieval.records import manifest_name
from tests.cli_runner import runner
from tests.paths import SAMPLE

SAMPLE_ID = "zelenskyy-nato-strikes"
TITLE = "Zelenskyy Calls on NATO Allies to Remove Restrictions on Strikes Into Russia"


def client(data: Path) -> chromadb.ClientAPI:
    return chromadb.PersistentClient(path=str(data / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))


def snapshot(svc: Services, collection: str) -> tuple[Any, ...]:
    """What readers see: articles, their texts, and every chunk's text, offsets and sentence spans."""
    infos = svc.store.list_articles(collection)
    cat = svc.store.catalogue(collection)
    chunks = {
        cid: (r.article_id, r.title, r.source, r.position, r.start, r.end, r.text, r.sentences)
        for a in infos
        for cid, r in svc.store.get_chunks(collection, cat.chunk_ids_of(a.article_id)).items()
    }
    articles = {a.article_id: svc.store.get_article(collection, a.article_id) for a in infos}
    listing = [(a.article_id, a.title, a.source, a.url, a.author, a.chunks, a.content_hash) for a in infos]
    return listing, articles, chunks


def test_langchain_chroma_finds_our_chunks_with_title_and_source(services: Services, embedder: object) -> None:
    report = services.ingestor.ingest([str(SAMPLE)], "c1")
    assert report.added == [SAMPLE_ID]
    store = Chroma(
        client=client(services.settings.data_dir),
        collection_name="newsdesk-c1",
        embedding_function=embedder,  # type: ignore[arg-type]
    )
    docs = store.similarity_search("What did Stoltenberg say about self-defense?", k=3)
    assert len(docs) == 3
    for doc in docs:
        meta = doc.metadata
        assert meta["title"] == TITLE and meta["article_id"] == SAMPLE_ID and meta["source"].endswith(".txt")
        assert meta["author"] == "Andrew Thornebrooke"
        assert doc.page_content and None not in meta.values()
        article = services.store.get_article("c1", SAMPLE_ID)
        assert article is not None and article.text[meta["start"] : meta["end"]] == doc.page_content


def test_a_missing_catalogue_is_rebuilt_from_chroma_alone(services: Services, embedder: object) -> None:
    services.ingestor.ingest([str(SAMPLE)], "c1")
    before = snapshot(services, "c1")
    answer_before = services.chain.ask("What did Stoltenberg say about self-defense?", collection="c1")
    services.close()
    (services.settings.data_dir / "catalogue" / "c1.sqlite3").unlink()
    for extra in (services.settings.data_dir / "catalogue").glob("c1.sqlite3-*"):
        extra.unlink()

    fresh = Services(services.settings, embedder=embedder)  # type: ignore[arg-type]
    assert fresh.store.count_articles("c1") == 1, "the catalogue catches up by itself, no command needed"
    assert snapshot(fresh, "c1") == before
    answer = fresh.chain.ask("What did Stoltenberg say about self-defense?", collection="c1")
    assert answer.answer == answer_before.answer
    assert [c.article_id for c in answer.citations] == [c.article_id for c in answer_before.citations]
    fresh.close()


def test_reindex_rebuilds_the_same_catalogue(services: Services, isolated_env: Path, tmp_path: Path) -> None:
    changed = tmp_path / "other.txt"
    changed.write_text("Harbour repairs\n\nThe harbour committee agreed to spend 40 thousand pounds on repairs.\n")
    services.ingestor.ingest([str(SAMPLE), str(changed)], "c1")
    before = snapshot(services, "c1")
    services.close()
    result = runner.invoke(app, ["reindex", "--collection", "c1"])
    assert result.exit_code == 0, result.stderr
    assert "rebuilt 'c1' from Chroma: 2 articles" in result.stdout
    again = Services(Settings(data_dir=isolated_env), embedder=services.embedder)
    assert snapshot(again, "c1") == before
    again.close()


def test_reindex_of_an_unknown_collection_says_so(isolated_env: Path) -> None:
    result = runner.invoke(app, ["reindex", "--collection", "nothing-here"])
    assert result.exit_code == 1 and "nothing-here" in result.stderr


def test_forget_and_changes_reach_the_manifest(services: Services, sample_copy: Path) -> None:
    services.ingestor.ingest([str(sample_copy)], "c1")
    manifest = client(services.settings.data_dir).get_collection(manifest_name("c1"))
    [meta] = manifest.get(ids=[SAMPLE_ID], include=["metadatas"])["metadatas"] or []
    first_hash = meta["content_hash"]
    generation = (manifest.metadata or {})["generation"]

    text = sample_copy.read_text(encoding="utf-8")
    sample_copy.write_text(text.replace("40 billion Euros", "50 billion Euros"), encoding="utf-8")
    assert services.ingestor.ingest([str(sample_copy)], "c1").updated == [SAMPLE_ID]
    manifest = client(services.settings.data_dir).get_collection(manifest_name("c1"))
    got = manifest.get(ids=[SAMPLE_ID], include=["metadatas", "documents"])
    assert got["metadatas"] and got["metadatas"][0]["content_hash"] != first_hash
    assert got["documents"] and "50 billion Euros" in got["documents"][0]
    assert (manifest.metadata or {})["generation"] != generation, "other processes are told something changed"
    chunks = client(services.settings.data_dir).get_collection("newsdesk-c1").get(include=["metadatas"])
    assert {m["content_hash"] for m in chunks["metadatas"] or []} == {got["metadatas"][0]["content_hash"]}

    assert services.store.forget("c1", SAMPLE_ID)
    assert manifest.get(ids=[SAMPLE_ID])["ids"] == []


def test_a_collection_from_before_chroma_held_texts_is_published_not_lost(services: Services, embedder: object) -> None:
    """Upgrading: a catalogue whose Chroma has vectors but no manifest publishes its articles instead of dropping."""
    services.ingestor.ingest([str(SAMPLE)], "c1")
    before = snapshot(services, "c1")
    services.close()
    chroma = client(services.settings.data_dir)
    chroma.delete_collection(manifest_name("c1"))
    col = chroma.get_collection("newsdesk-c1")
    ids = col.get(include=[])["ids"]
    col.update(ids=ids, metadatas=[{"article_id": SAMPLE_ID, "position": 0}] * len(ids))  # the old, thin records

    again = Services(services.settings, embedder=embedder)  # type: ignore[arg-type]
    more = again.ingestor.ingest_bytes("other.txt", b"Library news\n\nThe library reopens on Monday.\n", "c1")
    assert more.added == ["other"]
    assert {a.article_id for a in again.store.list_articles("c1")} == {SAMPLE_ID, "other"}
    manifest = client(services.settings.data_dir).get_collection(manifest_name("c1"))
    assert set(manifest.get(include=[])["ids"]) == {SAMPLE_ID, "other"}
    records = (
        client(services.settings.data_dir)
        .get_collection("newsdesk-c1")
        .get(ids=ids, include=["documents", "metadatas"])
    )
    assert all(records["documents"] or [None]) and all(m["title"] == TITLE for m in records["metadatas"] or [])
    again.close()
    (services.settings.data_dir / "catalogue" / "c1.sqlite3").unlink()
    rebuilt = Services(services.settings, embedder=embedder)  # type: ignore[arg-type]
    listing, articles, chunks = snapshot(rebuilt, "c1")
    assert {k: v for k, v in chunks.items() if k in ids} == before[2]
    rebuilt.close()
