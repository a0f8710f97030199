"""Discord's message limits, checked on the pure rendering functions (no client, no network)."""

from __future__ import annotations

import discord
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import render
from retrieval.answer import ABSTAIN_TEXT, Answer, Citation
from tests.fake_discord import message_limit_problems

WORDS = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=30)
TEXTS = st.lists(
    st.tuples(WORDS, st.sampled_from([" ", " ", ". ", "! ", "\n", "\n\n", "? "])), min_size=0, max_size=400
).map(lambda parts: "".join(w + sep for w, sep in parts))


def _squash(text: str) -> str:
    return "".join(text.split())


def _message_body(embeds: list[discord.Embed]) -> dict[str, object]:
    return {"embeds": [e.to_dict() for e in embeds]}


def _citation(n: int, quote: str, title: str = "A title", article_id: str = "art") -> Citation:
    return Citation(n=n, article_id=f"{article_id}-{n}", title=title, source="file.txt", chunk_id=f"c{n}", quote=quote)


# ---------------------------------------------------------------------------------------------------- text helpers
@given(TEXTS, st.integers(min_value=1, max_value=300))
@settings(max_examples=150, deadline=None)
def test_split_text_pieces_fit_and_lose_nothing(text: str, limit: int) -> None:
    pieces = render.split_text(text, limit)
    assert all(0 < len(p) <= limit for p in pieces)
    assert _squash("".join(pieces)) == _squash(text)


def test_split_text_prefers_sentence_boundaries() -> None:
    sentences = [f"Sentence number {i} says something moderately long about the news." for i in range(60)]
    pieces = render.split_text(" ".join(sentences), 500)
    assert len(pieces) > 1
    assert all(p.endswith(".") for p in pieces)  # never cut mid-sentence when sentences fit


def test_split_text_prefers_paragraphs() -> None:
    paragraphs = ["First paragraph. " * 15, "Second paragraph. " * 14, "Third paragraph. " * 15]
    pieces = render.split_text("\n\n".join(p.strip() for p in paragraphs), 400)
    assert [p.split()[0] for p in pieces] == ["First", "Second", "Third"]


def test_split_text_cuts_a_giant_word() -> None:
    pieces = render.split_text("x" * 5000, 2000)
    assert [len(p) for p in pieces] == [2000, 2000, 1000]


@given(st.text(min_size=0, max_size=3000), st.integers(min_value=2, max_value=500))
@settings(max_examples=100, deadline=None)
def test_shorten_never_exceeds_the_limit(text: str, limit: int) -> None:
    out = render.shorten(text, limit)
    assert len(out) <= limit
    if len(text.strip()) <= limit:
        assert out == text.strip()
    else:
        assert out.endswith(render.ELLIPSIS)


def test_content_messages_respect_2000() -> None:
    text = "\n".join(f"Line {i}: " + "word " * 30 for i in range(200))
    messages = render.content_messages(text)
    assert len(messages) > 1 and all(len(m) <= render.CONTENT_LIMIT for m in messages)
    assert _squash("".join(messages)) == _squash(text)


def test_pack_lines_keeps_lines_whole() -> None:
    lines = [f"line {i} " + "z" * 90 for i in range(40)]
    blocks = render.pack_lines(lines, render.FIELD_VALUE_LIMIT)
    assert all(len(b) <= render.FIELD_VALUE_LIMIT for b in blocks)
    assert [line for b in blocks for line in b.split("\n")] == lines


# ---------------------------------------------------------------------------------------------------- answers
def test_short_answer_is_one_embed_with_sources() -> None:
    answer = Answer(
        question="What did Stoltenberg say?",
        answer="He backed strikes on military targets. [1]",
        abstained=False,
        citations=[_citation(1, "Stoltenberg said strikes on military targets are self-defence.", "NATO summit")],
    )
    pages = render.answer_messages(answer, {"art-1": "https://example.com/nato"}, title="❓ What did Stoltenberg say?")
    assert len(pages) == 1 and len(pages[0]) == 1
    embed = pages[0][0]
    assert embed.description == "He backed strikes on military targets. [1]"
    assert embed.fields[0].name == "Sources"
    assert "**[1]** [NATO summit](https://example.com/nato)" in (embed.fields[0].value or "")
    assert "Stoltenberg said strikes" in (embed.fields[0].value or "")


def test_abstention_has_no_sources() -> None:
    answer = Answer(question="Who won the cup?", answer=ABSTAIN_TEXT, abstained=True, citations=[])
    pages = render.answer_messages(answer)
    assert len(pages) == 1 and len(pages[0]) == 1
    assert pages[0][0].description == ABSTAIN_TEXT
    assert not pages[0][0].fields
    assert pages[0][0].colour == render.ABSTAIN_COLOUR


def test_unsafe_urls_are_not_linked_and_markdown_is_escaped() -> None:
    citation = _citation(1, "Shares rose **sharply** after the `launch`", title="Markets [live]")
    answer = Answer(question="q", answer="Shares rose. [1]", abstained=False, citations=[citation])
    for url in ("javascript:alert(1)", "https://evil.example/a) [x](https://b", None):
        value = render.answer_messages(answer, {"art-1": url})[0][0].fields[0].value or ""
        assert "](" not in value
        assert "\\*\\*sharply\\*\\*" in value and "\\`launch\\`" in value


@given(
    answer_text=TEXTS,
    quotes=st.lists(TEXTS, min_size=0, max_size=40),
    title=st.text(min_size=0, max_size=400),
    note=st.none() | st.text(min_size=1, max_size=3000),
)
@settings(max_examples=60, deadline=None)
def test_any_answer_renders_within_discord_limits(
    answer_text: str, quotes: list[str], title: str, note: str | None
) -> None:
    citations = [_citation(i + 1, q or "q", title=title * 3) for i, q in enumerate(quotes)]
    answer = Answer(question="q", answer=answer_text, abstained=False, citations=citations, note=note)
    pages = render.answer_messages(answer, {c.article_id: "https://example.com/" + "p" * 300 for c in citations})
    for embeds in pages:
        assert message_limit_problems(_message_body(embeds)) == []
    descriptions = "".join(e.description or "" for embeds in pages for e in embeds)
    assert _squash(descriptions) == _squash(answer_text) or (not answer_text.strip() and descriptions == "(no answer)")
    listed = " ".join(f.value or "" for embeds in pages for e in embeds for f in e.fields)
    for c in citations:
        assert f"**[{c.n}]**" in listed


def test_a_very_long_answer_spans_several_messages_within_limits() -> None:
    text = " ".join(
        f"Sentence {i} of a very long answer that keeps going and going. [{i % 30 + 1}]" for i in range(400)
    )
    citations = [_citation(i, "A quote " * 80) for i in range(1, 31)]
    pages = render.answer_messages(Answer(question="q", answer=text, abstained=False, citations=citations))
    assert len(pages) >= 5  # 30,000 characters cannot fit in fewer than five 6,000-character messages
    for embeds in pages:
        assert message_limit_problems(_message_body(embeds)) == []
    assert _squash("".join(e.description or "" for embeds in pages for e in embeds)) == _squash(text)


@given(quotes=st.lists(TEXTS, min_size=0, max_size=12))
@settings(max_examples=40, deadline=None)
def test_sources_messages_keep_full_quotes_within_limits(quotes: list[str]) -> None:
    citations = [_citation(i + 1, q or "q") for i, q in enumerate(quotes)]
    pages = render.sources_messages(citations, {})
    for embeds in pages:
        assert message_limit_problems(_message_body(embeds)) == []
    shown = _squash("".join(e.description or "" for embeds in pages for e in embeds))
    for c in citations:
        assert _squash(discord.utils.escape_markdown(c.quote.strip())) in shown


def test_pack_embeds_refuses_an_impossible_embed() -> None:
    embed = discord.Embed(description="x" * 4096)
    for _ in range(3):
        embed.add_field(name="n", value="v" * 1024)
    with pytest.raises(ValueError):
        render.pack_embeds([embed])


def test_article_list_pages() -> None:
    lines = [f"**Article {i}** · `a{i}` · 3 chunks" for i in range(23)]
    pages = render.article_list_pages(lines, title="23 articles in this server", per_page=10)
    assert [p.footer.text for p in pages] == ["Page 1/3", "Page 2/3", "Page 3/3"]
    assert "Article 22" in (pages[2].description or "")
    empty = render.article_list_pages([], title="0 articles in this server")
    assert len(empty) == 1 and empty[0].description == "No articles yet."
