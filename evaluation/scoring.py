"""Score one question: apply the metric functions to an answer and say, in words, why it passed or failed.

The input is what a user sees (`ask --json`'s object) plus what retrieval returned, so the same scorer works for a
live run and for re-scoring a saved `results.jsonl`. Per-question values are None where a metric does not apply
(retrieval metrics for unanswerable questions, support for declined answers), and `metrics.aggregate` skips them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from evaluation import metrics
from evaluation.dataset import Question

Embed = Callable[[list[str]], Sequence[Sequence[float]]]
ArticleText = Callable[[str], str | None]


class ChunkLike(Protocol):
    """What scoring needs from a retrieved chunk (`retrieval.types.RetrievedChunk` has it)."""

    article_id: str
    text: str


@dataclass
class Outcome:
    """One question's result: its answer as the user saw it, per-metric values, pass/fail and the reasons."""

    question: Question
    answer: dict[str, Any]
    retrieved: list[str]
    scores: dict[str, float | None]
    passed: bool
    reasons: list[str] = field(default_factory=list)
    claims: list[dict[str, Any]] = field(default_factory=list)

    @property
    def latency_ms(self) -> float | None:
        total = self.answer.get("timings_ms", {}).get("total")
        return float(total) if isinstance(total, int | float) else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.question.id,
            "kind": self.question.kind,
            "passed": self.passed,
            "reasons": self.reasons,
            "scores": self.scores,
            "retrieved_article_ids": self.retrieved,
            "claims": self.claims,
        }


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def score_question(
    question: Question,
    answer: Mapping[str, Any],
    chunks: Sequence[ChunkLike],
    k: int,
    article_text: ArticleText,
    embed: Embed,
) -> Outcome:
    """Compute every metric for one answered question; see `evaluation/README.md` for the definitions."""
    text = str(answer.get("answer") or "")
    abstained = bool(answer.get("abstained"))
    citations = [c for c in answer.get("citations") or [] if isinstance(c, Mapping)]
    # A verbatim copy of the gold article (`also_in`) counts as the gold article.
    copies = set(question.also_in)
    gold_id = question.doc_id or ""
    cited_ids = [gold_id if a in copies else a for a in (str(c.get("article_id", "")) for c in citations)]
    retrieved = [gold_id if c.article_id in copies else c.article_id for c in chunks][:k]
    scores: dict[str, float | None] = dict.fromkeys(metrics.MEAN_METRICS)
    reasons: list[str] = []
    error = answer.get("error")
    if error:
        reasons.append(f"error: {_short(str(error))}")

    # Citations: every quote must be verbatim in the article it names, whatever the question.
    pairs = [(str(c.get("article_id", "")), str(c.get("quote", ""))) for c in citations]
    scores["quote_faithfulness"] = metrics.quote_faithfulness(pairs, article_text)
    for c, (article_id, quote) in zip(citations, pairs, strict=True):
        if not metrics.quote_is_verbatim(quote, article_text(article_id)):
            reasons.append(f"quote [{c.get('n')}] is not verbatim in {article_id}: {_short(quote, 60)!r}")

    # Support: each claim of a real answer must be backed by the quotes it cites.
    judgements: list[metrics.ClaimSupport] = []
    if not abstained and text.strip():
        quotes = {int(c["n"]): str(c.get("quote", "")) for c in citations if isinstance(c.get("n"), int)}
        judgements = metrics.support(text, quotes, embed)
        scores["support"] = metrics.support_rate(judgements)
        for j in judgements:
            if not j.supported:
                why = "cites nothing" if not j.claim.markers else f"score {j.score:.2f}"
                reasons.append(f"unsupported claim ({why}): {_short(j.claim.text, 70)!r}")

    if question.answerable:
        gold = question.doc_id or ""
        scores["hit_at_k"] = metrics.hit_at_k(gold, retrieved, k)
        scores["mrr_at_k"] = metrics.mrr_at_k(gold, retrieved, k)
        parts = question.evidence_parts or (question.evidence or "",)
        chunk_texts = [c.text for c in chunks][:k]
        scores["evidence_recall_at_k"] = max(metrics.evidence_recall(part, chunk_texts) for part in parts)
        scores["accuracy"] = 0.0 if abstained else metrics.accuracy(text, question.must_contain)
        scores["answer_has_fact"] = scores["accuracy"]
        scores["token_f1"] = metrics.token_f1(text, question.answer or "")
        scores["false_abstention"] = 1.0 if abstained else 0.0
        if not abstained:
            scores["cited_right_article"] = metrics.cites_article(cited_ids, gold)
            scores["citation_precision"] = metrics.citation_precision(cited_ids, gold)
        if abstained:
            reasons.append("declined an answerable question")
        elif not scores["accuracy"]:
            reasons.append("answer has none of: " + " | ".join(repr(m) for m in question.must_contain))
        if not abstained and not scores["cited_right_article"]:
            reasons.append(f"no citation to {gold}")
        if not scores["hit_at_k"]:
            reasons.append(f"retrieval: {gold} not in the top {k} chunks")
        elif not scores["evidence_recall_at_k"]:
            reasons.append("retrieval: the evidence sentence is not in any retrieved chunk")
        passed = (
            not error
            and scores["accuracy"] == 1.0
            and scores["cited_right_article"] == 1.0
            and scores["quote_faithfulness"] in (None, 1.0)
            and scores["support"] in (None, 1.0)
        )
    else:
        scores["accuracy"] = 1.0 if abstained else 0.0
        scores["correct_abstention"] = scores["accuracy"]
        if not abstained:
            reasons.insert(0, "answered a question the articles do not answer")
        passed = not error and abstained and scores["quote_faithfulness"] in (None, 1.0)
    scores["pass"] = 1.0 if passed else 0.0
    claims = [
        {
            "text": j.claim.text,
            "markers": list(j.claim.markers),
            "cosine": round(j.cosine, 3),
            "lexical": round(j.lexical, 3),
            "score": round(j.score, 3),
            "supported": j.supported,
        }
        for j in judgements
    ]
    return Outcome(question, dict(answer), retrieved, scores, passed, reasons, claims)
