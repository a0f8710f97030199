"""Metric functions: pure, small, and each checked by hand-made cases in `tests/test_eval_metrics.py`.

Nothing here touches the store, the model or the disk; callers pass plain strings, ids and (for `support`) an
embedding function. `evaluation/scoring.py` applies these to one question's answer; `aggregate` turns per-question
values into the overall and per-kind numbers of `metrics.json`.

Text comparisons fold what a reader would not call a difference: typographic quotes and apostrophes (’ ‘ “ ”),
dashes, ellipses, non-breaking spaces, runs of whitespace and (for answers) case.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from newsdesk.text import MARKER, MARKER_RUN, SUPPORT_METRIC_STOPWORDS, fold_punctuation

# --- text folding ----------------------------------------------------------------------------------------------

_WS = re.compile(r"\s+")


def fold_text(text: str, *, case: bool = True) -> str:
    """Fold typographic punctuation to ASCII, collapse whitespace, and (by default) fold case."""
    return fold_punctuation(text, case=case)


def strip_markers(text: str) -> str:
    """Remove citation markers like [1] so they do not count as answer words."""
    return _WS.sub(" ", MARKER.sub(" ", text)).strip()


def contains_phrase(text: str, phrase: str) -> bool:
    """True when `phrase` occurs in `text` after folding, not starting or ending inside a word.

    Word edges matter for short strings: "UK" must not match inside "Ukraine", nor "six" inside "sixty".
    """
    needle = fold_text(phrase)
    if not needle:
        return False
    left = r"(?<!\w)" if needle[0].isalnum() else ""
    right = r"(?!\w)" if needle[-1].isalnum() else ""
    return re.search(left + re.escape(needle) + right, fold_text(text)) is not None


# --- retrieval -------------------------------------------------------------------------------------------------


def distinct(ids: Iterable[str]) -> list[str]:
    """Ids in first-seen order without repeats: a ranked chunk list becomes a ranked article list."""
    seen: dict[str, None] = {}
    for item in ids:
        seen.setdefault(item, None)
    return list(seen)


def hit_at_k(gold: str, retrieved: Sequence[str], k: int) -> float:
    """1.0 when the gold article is among the article ids of the top `k` retrieved chunks, else 0.0."""
    return 1.0 if gold in retrieved[:k] else 0.0


def mrr_at_k(gold: str, retrieved: Sequence[str], k: int) -> float:
    """Reciprocal rank of the gold article among the distinct articles of the top `k` chunks (0.0 when absent).

    Ranks count articles, not chunks: two chunks of one wrong article push the gold article down by one, not two.
    """
    articles = distinct(retrieved[:k])
    return 1.0 / (articles.index(gold) + 1) if gold in articles else 0.0


def evidence_recall(evidence: str, chunk_texts: Iterable[str]) -> float:
    """1.0 when the gold evidence sentence lies inside one retrieved chunk (after folding), else 0.0."""
    needle = fold_text(evidence)
    return 1.0 if any(needle in fold_text(text) for text in chunk_texts) else 0.0


# --- answer ----------------------------------------------------------------------------------------------------


def accuracy(answer: str, must_contain: Sequence[str]) -> float:
    """1.0 when the answer contains at least one of `must_contain` (folded, whole words), else 0.0."""
    return 1.0 if any(contains_phrase(answer, m) for m in must_contain) else 0.0


_ARTICLES = frozenset({"a", "an", "the"})
_TOKEN = re.compile(r"\d+(?:[.,]\d+)+\w*|\w+")


def normalize_tokens(text: str) -> list[str]:
    """SQuAD-style tokens: markers removed, folded, punctuation and the articles a/an/the dropped.

    Punctuation inside numbers is kept ("1.13bn", "464,000"), otherwise "1.13bn" and "113bn" would look alike.
    """
    return [t for t in _TOKEN.findall(fold_text(strip_markers(text))) if t not in _ARTICLES]


def token_f1(prediction: str, reference: str) -> float:
    """Harmonic mean of token precision and recall between an answer and the reference answer."""
    pred, ref = normalize_tokens(prediction), normalize_tokens(reference)
    if not pred or not ref:
        return 1.0 if pred == ref else 0.0
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


# --- citations -------------------------------------------------------------------------------------------------


def cites_article(cited_article_ids: Sequence[str], gold: str) -> float:
    """1.0 when at least one citation points at the gold article, else 0.0."""
    return 1.0 if gold in cited_article_ids else 0.0


def citation_precision(cited_article_ids: Sequence[str], gold: str) -> float | None:
    """Share of citations that point at the gold article; None when there are no citations."""
    if not cited_article_ids:
        return None
    return sum(1 for a in cited_article_ids if a == gold) / len(cited_article_ids)


def quote_is_verbatim(quote: str, article_text: str | None) -> bool:
    """A quote counts only when it is a non-empty exact substring of its article's cleaned text."""
    return bool(quote.strip()) and article_text is not None and quote in article_text


def quote_faithfulness(citations: Sequence[tuple[str, str]], article_text: Callable[[str], str | None]) -> float | None:
    """Share of `(article_id, quote)` citations quoted verbatim from their article; None without citations."""
    if not citations:
        return None
    return sum(1 for article_id, quote in citations if quote_is_verbatim(quote, article_text(article_id))) / len(
        citations
    )


# --- support: is each claim of the answer backed by the quotes it cites? ----------------------------------------

SUPPORT_THRESHOLD = 0.6
SUPPORT_COSINE_WEIGHT = 0.5
SUPPORT_LEXICAL_WEIGHT = 0.5
SUPPORT_RULE = (
    f"a claim (the answer text up to its citation markers) is supported when "
    f"{SUPPORT_COSINE_WEIGHT:g} x cosine(claim, cited quotes) + {SUPPORT_LEXICAL_WEIGHT:g} x lexical overlap "
    f"(share of the claim's content words found in the cited quotes) >= {SUPPORT_THRESHOLD:g}"
)
_STOPWORDS = SUPPORT_METRIC_STOPWORDS
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Claim:
    """A piece of an answer and the citation numbers it carries (empty when the text cites nothing)."""

    text: str
    markers: tuple[int, ...]


def split_claims(answer: str) -> list[Claim]:
    """Split an answer into claims: the text since the previous marker group, with the markers that close it.

    Cutting at markers rather than at full stops avoids guessing sentence ends in "Mr. Stoltenberg said [1]" and
    keeps "A and B [1][2]" together. Trailing text with words but no marker is returned as an uncited claim.
    """
    claims: list[Claim] = []
    pattern = MARKER_RUN
    position = 0
    for match in pattern.finditer(answer):
        # Punctuation closing the previous claim ("... said [1]. Next") is not part of this one.
        text = answer[position : match.start()].lstrip(".,;:!?)]\u201d\u2019 \t\n").strip()
        markers = tuple(int(n) for n in MARKER.findall(match.group()))
        if _WORD.search(text):
            claims.append(Claim(text, markers))
        elif claims:  # markers directly after markers or punctuation: they belong to the previous claim
            claims[-1] = Claim(claims[-1].text, claims[-1].markers + markers)
        position = match.end()
    tail = answer[position:].lstrip(".,;:!?)]\u201d\u2019 \t\n").strip()
    if _WORD.search(tail):
        claims.append(Claim(tail, ()))
    return claims


def content_words(text: str) -> list[str]:
    """Folded words minus stopwords: the words that carry a claim."""
    return [w for w in _WORD.findall(fold_text(text)) if w not in _STOPWORDS]


def lexical_overlap(claim: str, evidence: str) -> float:
    """Share of the claim's content words that occur in the evidence (1.0 when the claim has none)."""
    words = content_words(claim)
    if not words:
        return 1.0
    vocabulary = set(_WORD.findall(fold_text(evidence)))
    return sum(1 for w in words if w in vocabulary) / len(words)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity; 0.0 for a zero vector."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


@dataclass(frozen=True)
class ClaimSupport:
    """How one claim fared: its combined score, the parts, and whether it clears `SUPPORT_THRESHOLD`."""

    claim: Claim
    cosine: float
    lexical: float
    score: float
    supported: bool


def support(
    answer: str,
    quotes: Mapping[int, str],
    embed: Callable[[list[str]], Sequence[Sequence[float]]],
    threshold: float = SUPPORT_THRESHOLD,
) -> list[ClaimSupport]:
    """Judge every claim of `answer` against the quotes of the citations it names (`quotes` maps n -> quote).

    A claim without markers, or whose markers name no citation, scores 0. A claim found verbatim (after folding) in
    its quotes scores 1. `embed` turns texts into vectors (the project's sentence embedder in the runner); it is
    called at most once per answer, for the remaining claims and their quotes together.
    """
    claims = split_claims(answer)
    evidence = [" ".join(quotes[n] for n in c.markers if n in quotes) for c in claims]
    texts = [strip_markers(c.text) for c in claims]
    # A claim that is a verbatim part of its quotes (what an extractive answer says) is supported as it stands:
    # its cosine is taken as 1.0 and the model is not asked, which keeps evaluation fast.
    verbatim = [bool(e) and fold_text(t) in fold_text(e) for t, e in zip(texts, evidence, strict=True)]
    pending = [i for i, e in enumerate(evidence) if e and not verbatim[i]]
    vectors = list(embed([texts[i] for i in pending] + [evidence[i] for i in pending])) if pending else []
    similarity = {i: cosine(vectors[j], vectors[len(pending) + j]) for j, i in enumerate(pending)}
    results: list[ClaimSupport] = []
    for index, (claim, ev) in enumerate(zip(claims, evidence, strict=True)):
        if not ev:
            results.append(ClaimSupport(claim, 0.0, 0.0, 0.0, False))
            continue
        cos = 1.0 if verbatim[index] else similarity[index]
        lex = lexical_overlap(texts[index], ev)
        score = SUPPORT_COSINE_WEIGHT * cos + SUPPORT_LEXICAL_WEIGHT * lex
        results.append(ClaimSupport(claim, cos, lex, score, score >= threshold))
    return results


def support_rate(judgements: Sequence[ClaimSupport]) -> float | None:
    """Share of claims supported; None when the answer has no claims."""
    if not judgements:
        return None
    return sum(1 for j in judgements if j.supported) / len(judgements)


# --- abstention and latency -----------------------------------------------------------------------------------


def abstention_rates(outcomes: Iterable[tuple[bool, bool]]) -> dict[str, float | None]:
    """From `(answerable, abstained)` pairs: share of unanswerable questions declined (`correct_abstention`) and
    share of answerable questions declined (`false_abstention`); None when there is no question of that sort."""
    declined = {True: 0, False: 0}
    total = {True: 0, False: 0}
    for answerable, abstained in outcomes:
        total[answerable] += 1
        declined[answerable] += int(abstained)
    return {
        "correct_abstention": declined[False] / total[False] if total[False] else None,
        "false_abstention": declined[True] / total[True] if total[True] else None,
    }


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0-100) with linear interpolation between ranks (numpy's default); None when empty."""
    if not values:
        return None
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be between 0 and 100, got {p}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that apply (None means "not applicable to this question"); None when none apply."""
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


# --- aggregation -----------------------------------------------------------------------------------------------

MEAN_METRICS = (
    "hit_at_k",
    "mrr_at_k",
    "evidence_recall_at_k",
    "accuracy",
    "answer_has_fact",
    "token_f1",
    "cited_right_article",
    "citation_precision",
    "quote_faithfulness",
    "support",
    "correct_abstention",
    "false_abstention",
    "pass",
)
LATENCY_METRICS = ("latency_p50_ms", "latency_p95_ms")
ALL_METRICS = MEAN_METRICS + LATENCY_METRICS


def summarize(rows: Sequence[Mapping[str, float | None]], latencies: Sequence[float | None]) -> dict[str, float | None]:
    """One group's numbers: the mean of each metric over the questions it applies to, plus latency percentiles
    (of the questions that have a latency: a question that raised has none)."""
    summary: dict[str, float | None] = {name: mean(row.get(name) for row in rows) for name in MEAN_METRICS}
    measured = [v for v in latencies if v is not None]
    summary["latency_p50_ms"] = percentile(measured, 50)
    summary["latency_p95_ms"] = percentile(measured, 95)
    summary["n"] = float(len(rows))
    return summary


@dataclass(frozen=True)
class Aggregate:
    """Overall numbers and the same numbers per question kind."""

    overall: dict[str, float | None]
    by_kind: dict[str, dict[str, float | None]]


def aggregate(
    rows: Sequence[Mapping[str, float | None]], kinds: Sequence[str], latencies: Sequence[float | None]
) -> Aggregate:
    """Overall and per-kind summaries of per-question metric rows (the three sequences are aligned)."""
    if not len(rows) == len(kinds) == len(latencies):
        raise ValueError("rows, kinds and latencies must have one entry per question")
    by_kind: dict[str, dict[str, float | None]] = {}
    for kind in distinct(kinds):
        picks = [i for i, k in enumerate(kinds) if k == kind]
        by_kind[kind] = summarize([rows[i] for i in picks], [latencies[i] for i in picks])
    return Aggregate(summarize(rows, latencies), by_kind)
