"""Per-question scoring on hand-made answers: which checks apply, pass/fail, and the reasons a reader sees."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evaluation.dataset import Question
from evaluation.scoring import score_question

ARTICLE = (
    "NATO Secretary General Jens Stoltenberg agreed. "
    "“The right to self defense includes also the right to strike legitimate military targets on the territory of "
    "Russia,” Mr. Stoltenberg said. Most notable among them is the United States."
)
QUOTE = (
    "“The right to self defense includes also the right to strike legitimate military targets on the territory of "
    "Russia,” Mr. Stoltenberg said."
)
TEXTS = {"nato": ARTICLE, "other": "Another article about football."}


@dataclass
class Chunk:
    article_id: str
    text: str


def embed(texts: list[str]) -> list[list[float]]:
    """Toy embedding: texts about self defense point one way, everything else the other."""
    return [[1.0, 0.0] if "self defense" in t or "legitimate" in t else [0.0, 1.0] for t in texts]


QUESTION = Question(
    id="q1",
    question="What did Stoltenberg say about self-defense?",
    answer="The right to self defense includes striking legitimate military targets in Russia.",
    must_contain=("legitimate military targets",),
    doc_id="nato",
    evidence="Most notable among them is the United States.",
    kind="quote",
    line=1,
)
UNANSWERABLE = Question("q2", "What is the capital of France?", None, (), None, None, "unanswerable", 2)


def answer(text: str, citations: list[dict[str, Any]], abstained: bool = False) -> dict[str, Any]:
    return {
        "question": "q",
        "answer": text,
        "abstained": abstained,
        "citations": citations,
        "timings_ms": {"retrieve": 5.0, "answer": 7.0, "total": 12.5},
    }


def cite(n: int, article_id: str, quote: str) -> dict[str, Any]:
    return {
        "n": n,
        "article_id": article_id,
        "title": "t",
        "source": "s",
        "chunk_id": f"{article_id}:0",
        "quote": quote,
    }


def test_a_correct_cited_verbatim_answer_passes() -> None:
    chunks = [Chunk("other", "football"), Chunk("nato", ARTICLE)]
    outcome = score_question(QUESTION, answer(f"{QUOTE} [1]", [cite(1, "nato", QUOTE)]), chunks, 5, TEXTS.get, embed)
    s = outcome.scores
    assert outcome.passed and outcome.reasons == []
    assert (s["accuracy"], s["hit_at_k"], s["mrr_at_k"], s["evidence_recall_at_k"]) == (1.0, 1.0, 0.5, 1.0)
    assert (s["cited_right_article"], s["quote_faithfulness"], s["support"], s["false_abstention"]) == (1, 1, 1, 0)
    assert s["correct_abstention"] is None
    assert outcome.latency_ms == 12.5
    assert outcome.retrieved == ["other", "nato"]
    assert outcome.to_dict()["claims"][0]["supported"] is True


def test_every_failure_is_named() -> None:
    paraphrased = QUOTE.replace("“", '"').replace("”", '"')  # not verbatim: straight quotes
    bad = answer(
        "Stoltenberg spoke about football [1] and nothing else",
        [cite(1, "other", "Another article about football."), cite(2, "nato", paraphrased)],
    )
    outcome = score_question(QUESTION, bad, [Chunk("other", "football")], 5, TEXTS.get, embed)
    assert not outcome.passed
    reasons = "\n".join(outcome.reasons)
    assert "quote [2] is not verbatim in nato" in reasons
    assert "unsupported claim (cites nothing): 'and nothing else'" in reasons
    assert "answer has none of: 'legitimate military targets'" in reasons
    assert "retrieval: nato not in the top 5 chunks" in reasons
    assert outcome.scores["quote_faithfulness"] == 0.5
    assert outcome.scores["citation_precision"] == 0.5
    assert outcome.scores["cited_right_article"] == 1.0


def test_declining_an_answerable_question_fails_and_counts_as_false_abstention() -> None:
    declined = answer("The ingested articles do not answer this question.", [], abstained=True)
    outcome = score_question(QUESTION, declined, [Chunk("nato", ARTICLE)], 5, TEXTS.get, embed)
    assert not outcome.passed
    assert outcome.reasons[0] == "declined an answerable question"
    assert outcome.scores["false_abstention"] == 1.0 and outcome.scores["accuracy"] == 0.0
    assert outcome.scores["support"] is None and outcome.scores["cited_right_article"] is None


def test_unanswerable_questions_pass_only_when_declined() -> None:
    declined = answer("The ingested articles do not answer this question.", [], abstained=True)
    ok = score_question(UNANSWERABLE, declined, [Chunk("nato", ARTICLE)], 5, TEXTS.get, embed)
    assert ok.passed and ok.scores["correct_abstention"] == 1.0 and ok.scores["accuracy"] == 1.0
    assert ok.scores["hit_at_k"] is None and ok.scores["false_abstention"] is None
    wrong = score_question(UNANSWERABLE, answer(f"{QUOTE} [1]", [cite(1, "nato", QUOTE)]), [], 5, TEXTS.get, embed)
    assert not wrong.passed and wrong.scores["correct_abstention"] == 0.0
    assert wrong.reasons[0] == "answered a question the articles do not answer"


def test_a_question_that_raised_is_a_failure_with_its_error() -> None:
    errored = {**answer("", []), "error": "StoreUnavailable: Chroma is down", "timings_ms": {}}
    outcome = score_question(QUESTION, errored, [], 5, TEXTS.get, embed)
    assert not outcome.passed
    assert outcome.reasons[0] == "error: StoreUnavailable: Chroma is down"
    assert outcome.latency_ms is None
