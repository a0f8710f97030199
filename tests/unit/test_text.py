"""Sentence splitting, cleaning and chunking: unit cases and properties (hypothesis)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.chunking import chunk_article
from ingest.cleaning import clean_article, is_cruft_line, looks_like_name
from ingest.models import Article, RawArticle
from ingest.sentences import split_sentences


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_news_abbreviations_and_quotes_do_not_split() -> None:
    text = (
        "“The right to self defense includes also the right,” Mr. Stoltenberg said. The U.S. and the U.K. agreed. "
        "Gen. Smith met J. K. Rowling at 10 a.m. on Monday. Is it over? Yes!"
    )
    assert sentences(text) == [
        "“The right to self defense includes also the right,” Mr. Stoltenberg said.",
        "The U.S. and the U.K. agreed.",
        "Gen. Smith met J. K. Rowling at 10 a.m. on Monday.",
        "Is it over?",
        "Yes!",
    ]


def test_line_breaks_end_sentences() -> None:
    assert sentences("Headline without stop\nBody sentence one. Body two.") == [
        "Headline without stop",
        "Body sentence one.",
        "Body two.",
    ]


def test_cruft_and_bylines() -> None:
    for cruft in ("Updated:", "0:00", "twitter", "Related Topics", "Share this article", "Published: 12 May 2024"):
        assert is_cruft_line(cruft)
    assert not is_cruft_line("Twitter said on Monday it would cut jobs.")
    assert looks_like_name("Andrew Thornebrooke")
    assert not looks_like_name("The war goes on.")


def test_byline_prefix_and_markdown_heading() -> None:
    article = clean_article(
        RawArticle("x", "# Storm hits coast\n\nBy Jane Doe\n\nThe storm hit the coast on Monday night.", "x.md")
    )
    assert article.title == "Storm hits coast" and article.author == "Jane Doe"
    assert article.text == "The storm hit the coast on Monday night."


def _count(texts: list[str]) -> list[int]:
    return [len(t.split()) for t in texts]


prose = st.lists(
    st.one_of(
        st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=80),
        st.sampled_from(
            ["Mr. Smith said.", "“Quote,” he said.", "U.S. troops left.", "0:00", "twitter", "\n\n", "@everyone"]
        ),
    ),
    min_size=1,
    max_size=30,
).map(" ".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prose)
def test_sentence_spans_are_ordered_verbatim_and_cover_all_words(text: str) -> None:
    spans = split_sentences(text)
    last = 0
    for start, end in spans:
        assert last <= start < end <= len(text)
        piece = text[start:end]
        assert piece == piece.strip() and piece
        last = end
    # nothing but whitespace lies between or around the sentences
    covered = "".join(text[s:e] for s, e in spans)
    assert "".join(covered.split()) == "".join(text.split())


@settings(max_examples=200, deadline=None)
@given(prose, st.integers(min_value=3, max_value=40))
def test_chunks_cover_the_text_in_order_with_exact_offsets(text: str, budget: int) -> None:
    try:
        article = clean_article(RawArticle("a", text, "a.txt"))
    except ValueError:
        return  # nothing left after cleaning: reported as a failure, never stored
    chunks = chunk_article(article, "0" * 64, budget, _count)
    assert chunks, "text with prose always gives at least one chunk"
    last = 0
    for i, chunk in enumerate(chunks):
        assert chunk.position == i
        assert article.text[chunk.start : chunk.end] == chunk.text
        assert last <= chunk.start
        last = chunk.end
    joined = "".join(c.text for c in chunks)
    assert "".join(joined.split()) == "".join(article.text.split())


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["alpha", "beta", "gamma", "delta."]), min_size=50, max_size=200).map(" ".join))
def test_an_over_long_sentence_is_cut_within_the_budget(text: str) -> None:
    article = Article("a", "t", text, "s")
    for chunk in chunk_article(article, "f" * 64, 10, _count):
        assert _count([chunk.text])[0] <= 10
