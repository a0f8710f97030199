"""Every input type lands with its metadata, and a question is then answered from the right article (real model)."""

from __future__ import annotations

import json
from pathlib import Path

from newsdesk.services import Services


def test_every_file_type_and_folders(services: Services, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "plain.txt").write_text("Plain Title\n\nThe plain article says the river flooded the town.\n")
    (folder / "notes.md").write_text("# Markdown Title\n\nThe markdown article reports a new bridge opened.\n")
    (folder / "sub" / "page.html").write_text(
        "<html><head><title>Harbour news</title><meta name='author' content='Ada Lovelace'></head><body>"
        "<nav><a href='/'>Home</a> | <a href='/x'>World</a></nav><script>alert('x')</script>"
        "<article><h1>Harbour news</h1><p>The harbour authority confirmed that three new cranes arrived on Monday "
        "to speed up container handling at the port.</p><p>Officials said the cranes cost twelve million pounds "
        "and will be working by the end of the month.</p></article><footer>Copyright</footer></body></html>"
    )
    (folder / "feed.jsonl").write_text(
        json.dumps(
            {
                "id": "j1",
                "title": "Jsonl one",
                "text": "The first feed story covers a chess match.",
                "url": "https://example.org/j1",
                "author": "Sam Doe",
                "published": "2024-01-02",
            }
        )
        + "\n"
        + json.dumps({"id": "j2", "title": "Jsonl two", "text": "The second feed story covers a marathon."})
        + "\n"
    )
    (folder / "ignored.bin").write_bytes(b"\x00\x01")
    report = services.ingestor.ingest([str(folder)], "c1")
    assert not report.failed
    assert sorted(report.added) == ["j1", "j2", "notes", "page", "plain"]
    by_id = {a.article_id: a for a in services.store.list_articles("c1")}
    assert by_id["notes"].title == "Markdown Title"
    assert by_id["page"].title == "Harbour news"
    assert by_id["j1"].url == "https://example.org/j1" and by_id["j1"].author == "Sam Doe"
    page = services.store.get_article("c1", "page")
    assert page is not None and "alert" not in page.text and "Home" not in page.text
    answer = services.chain.ask("How much did the harbour cranes cost?", collection="c1")
    assert "twelve million" in answer.answer and answer.citations[0].article_id == "page"
    cited = services.chain.ask("What does the first feed story cover?", collection="c1")
    assert cited.citations and cited.citations[0].source == "https://example.org/j1"
