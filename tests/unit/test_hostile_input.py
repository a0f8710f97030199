"""Inputs from strangers: huge files, mentions, markdown, code fences, emoji and right-to-left text."""

from __future__ import annotations

from pathlib import Path

from newsdesk.services import Services
from newsdesk.settings import Settings


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
