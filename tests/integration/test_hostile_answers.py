"""Text from strangers (mentions, markdown, code fences, emoji, right-to-left script) is ingested and answered from.

Answering needs the real model (the unit layer's hashed embedder says nothing about meaning), so this lives here;
the size caps for hostile input are in tests/unit/test_hostile_input.py.
"""

from __future__ import annotations

from pathlib import Path

from newsdesk.services import Services

MESSY = """Club news @everyone

@everyone <@&123456789> **Big news**: the chess club 🎉 moved to the old library on Friday.
```
rm -rf / # a code fence someone pasted
```
The club's founder said «the new room has space for forty boards» and thanked @here for the help.
مرحبا بالجميع في النادي الجديد. The Arabic greeting above welcomes everyone to the new club.
"""


def test_mentions_markdown_emoji_and_rtl_text_survive_ingest_and_answering(services: Services, tmp_path: Path) -> None:
    path = tmp_path / "messy.md"
    path.write_text(MESSY, encoding="utf-8")
    report = services.ingestor.ingest([str(path)], "c1")
    assert report.added == ["messy"], report.failed
    article = services.store.get_article("c1", "messy")
    assert article is not None and "🎉" in article.text and "مرحبا" in article.text
    answer = services.chain.ask("@everyone where did the chess club 🎉 move? **now**", collection="c1")
    assert "old library" in answer.answer
    for c in answer.citations:
        assert c.quote in article.text
    rtl = services.chain.ask("مرحبا؟ What does the Arabic greeting welcome?", collection="c1")
    assert not rtl.abstained and all(c.quote in article.text for c in rtl.citations)
