"""Ingestion end to end with the real model and an embedded Chroma: inputs, idempotence, replacement, forgetting."""

from __future__ import annotations

import json
from pathlib import Path

from ingest.models import RawArticle
from newsdesk.services import Services
from tests.paths import SAMPLE

SAMPLE_ID = "zelenskyy-nato-strikes"


def chroma_ids(svc: Services, collection: str) -> set[str]:
    col = svc.store._chroma(collection)
    return set(col.get(include=[])["ids"])


def test_sample_article_lands_with_metadata_and_offsets(services: Services) -> None:
    report = services.ingestor.ingest([str(SAMPLE)], "c1")
    assert report.added == [SAMPLE_ID] and not report.failed and report.chunks >= 3

    [info] = services.store.list_articles("c1")
    assert info.title == "Zelenskyy Calls on NATO Allies to Remove Restrictions on Strikes Into Russia"
    assert info.author == "Andrew Thornebrooke"
    article = services.store.get_article("c1", SAMPLE_ID)
    assert article is not None
    # cruft dropped, prose (caption, bio) kept
    lines = {line.strip() for line in article.text.splitlines()}
    for cruft in ("Updated:", "0:00", "twitter", "Related Topics", "Andrew Thornebrooke", info.title):
        assert cruft not in lines
    assert "(Kevin Dietsch/Getty Images)" in article.text
    assert "Andrew Thornebrooke is a national security correspondent" in article.text
    # every chunk's offsets point at its text, chunks are in order and don't overlap
    rows = services.store.get_chunks("c1", services.store.catalogue("c1").chunk_ids_of(SAMPLE_ID))
    ordered = sorted(rows.values(), key=lambda r: r.position)
    assert all(article.text[r.start : r.end] == r.text for r in ordered)
    assert all(a.end <= b.start for a, b in zip(ordered, ordered[1:], strict=False))
    assert chroma_ids(services, "c1") == set(rows)


def test_reingest_unchanged_changes_nothing(services: Services) -> None:
    services.ingestor.ingest([str(SAMPLE)], "c1")
    before = chroma_ids(services, "c1")
    [info_before] = services.store.list_articles("c1")
    report = services.ingestor.ingest([str(SAMPLE)], "c1")
    assert report.unchanged == [SAMPLE_ID] and not report.added and not report.updated and report.chunks == 0
    assert chroma_ids(services, "c1") == before
    assert services.store.list_articles("c1") == [info_before]


def test_changed_article_replaces_all_its_chunks(services: Services, sample_copy: Path) -> None:
    services.ingestor.ingest([str(sample_copy)], "c1")
    old_ids = chroma_ids(services, "c1")
    text = sample_copy.read_text(encoding="utf-8")
    sample_copy.write_text(text.replace("40 billion Euros", "50 billion Euros"), encoding="utf-8")
    report = services.ingestor.ingest([str(sample_copy)], "c1")
    assert report.updated == [SAMPLE_ID]
    new_ids = chroma_ids(services, "c1")
    assert not (old_ids & new_ids), "old vectors must be gone"
    assert set(services.store.catalogue("c1").chunk_ids_of(SAMPLE_ID)) == new_ids
    article = services.store.get_article("c1", SAMPLE_ID)
    assert article is not None and "50 billion Euros" in article.text and "40 billion" not in article.text
    answer = services.chain.ask("How much money did NATO promise Ukraine for next year?", collection="c1")
    assert "50 billion" in answer.answer


def test_forget_leaves_nothing_behind(services: Services) -> None:
    services.ingestor.ingest([str(SAMPLE)], "c1")
    assert services.store.forget("c1", SAMPLE_ID) is True
    assert services.store.list_articles("c1") == []
    assert chroma_ids(services, "c1") == set()
    assert services.store.lexical_search("c1", "Stoltenberg", 5) == []
    assert services.store.forget("c1", SAMPLE_ID) is False
    answer = services.chain.ask("What did Stoltenberg say about self-defense?", collection="c1")
    assert answer.abstained and answer.citations == []


def test_bad_inputs_are_reported_and_the_rest_lands(services: Services, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n\n  ")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\x00\xff\x00garbage")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Caf\xe9 story with bad bytes".encode("latin-1"))
    cruft_only = tmp_path / "cruft.txt"
    cruft_only.write_text("Updated:\n0:00\ntwitter\nRelated Topics\n")
    broken = tmp_path / "broken.jsonl"
    broken.write_text(
        json.dumps({"id": "ok1", "title": "Fine", "text": "A fine article about gardening in spring."})
        + "\n"
        + "{not json\n"
        + json.dumps({"id": "ok1", "title": "Dup", "text": "Duplicate id article."})
        + "\n"
    )
    report = services.ingestor.ingest(
        [str(tmp_path / "missing.txt"), str(empty), str(binary), str(latin), str(cruft_only), str(broken), str(SAMPLE)],
        "c1",
    )
    reasons = {f.source: f.reason for f in report.failed}
    assert reasons[str(tmp_path / "missing.txt")] == "no such file or folder"
    assert reasons[str(empty)] == "empty file"
    assert "binary" in reasons[str(binary)]
    assert "UTF-8" in reasons[str(latin)]
    assert "no article text" in reasons[str(cruft_only)]
    assert "invalid JSON" in reasons[f"{broken} line 2"]
    assert "duplicate id" in reasons[f"{broken} line 3"]
    assert sorted(report.added) == ["ok1", SAMPLE_ID]
    assert {a.article_id for a in services.store.list_articles("c1")} == {"ok1", SAMPLE_ID}


def test_collections_are_isolated(services: Services) -> None:
    services.ingestor.ingest([str(SAMPLE)], "guild-1")
    services.ingestor.ingest_raw(
        [RawArticle("other", "Other News\n\nThe city council approved a new library budget on Tuesday.", "x")],
        "guild-2",
    )
    a1 = services.chain.ask("What did Stoltenberg say about self-defense?", collection="guild-2")
    assert a1.abstained or all(c.article_id == "other" for c in a1.citations)
    a2 = services.chain.ask("What did the city council approve?", collection="guild-1")
    assert a2.abstained or all(c.article_id == SAMPLE_ID for c in a2.citations)


def test_stdin_and_ingest_bytes(services: Services, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import io
    import sys

    fake = io.TextIOWrapper(io.BytesIO(b"Piped Headline\n\nThe piped story says the zoo welcomed a baby giraffe.\n"))
    monkeypatch.setattr(sys, "stdin", fake)
    report = services.ingestor.ingest(["-"], "c1")
    assert report.added == ["piped-headline"]
    upload = services.ingestor.ingest_bytes("upload.md", b"# Uploaded\n\nThe uploaded note mentions a comet.", "c1")
    assert upload.added == ["upload"]
    refused = services.ingestor.ingest_bytes("slides.pdf", b"%PDF-1.4", "c1")
    assert "unsupported file type" in refused.failed[0].reason
