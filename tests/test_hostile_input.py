"""Inputs from strangers: huge files, mentions, markdown, code fences, emoji and right-to-left text."""

from __future__ import annotations

from pathlib import Path

from newsdesk.services import Services
from newsdesk.settings import Settings

MESSY = """Club news @everyone

@everyone <@&123456789> **Big news**: the chess club 🎉 moved to the old library on Friday.
```
rm -rf / # a code fence someone pasted
```
The club's founder said «the new room has space for forty boards» and thanked @here for the help.
مرحبا بالجميع في النادي الجديد. The Arabic greeting above welcomes everyone to the new club.
"""


def test_a_50_mb_file_is_refused_by_the_size_cap_and_the_rest_lands(services: Services, tmp_path: Path) -> None:
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as f:
        f.write(b"A sentence about nothing in particular. " * (50 * 1024 * 1024 // 40))
    good = tmp_path / "good.txt"
    good.write_text("Good title\n\nThe small article says the bakery opened a second shop.")
    report = services.ingestor.ingest([str(huge), str(good)], "c1")
    [failure] = report.failed
    assert failure.source == str(huge) and "larger than the 10,000,000-byte limit" in failure.reason
    assert report.added == ["good"]


def test_the_size_cap_is_configurable(isolated_env: Path, embedder: object, tmp_path: Path) -> None:
    svc = Services(Settings(data_dir=isolated_env, max_article_bytes=1000), embedder=embedder)  # type: ignore[arg-type]
    article = tmp_path / "medium.txt"
    article.write_text("Medium\n\n" + "The council met again. " * 100)
    assert "1,000-byte limit" in svc.ingestor.ingest([str(article)], "c1").failed[0].reason
    svc.close()


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
