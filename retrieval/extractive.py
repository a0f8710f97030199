"""The offline answerer: quote the sentence of the retrieved chunks that answers the question, and cite it.

No text is generated, so every answer sentence is a verbatim quote of an article and every citation is checkable
by construction. Which sentence is a learned choice: every sentence of the retrieved chunks becomes a row of
features (`retrieval/sentence_features.py`: similarity, word overlap, novelty, answer type, attribution, place)
and a small gradient-boosted model fitted on a train split of hand-written news questions
(`retrieval/selector.py`, `evaluation/train_selector.py`) rates how likely it is to hold the answer. Whether to
decline is a question-level decision (`retrieval/answerability.py`: a second small model over the ratings and the
question's coverage, calibrated on the dev split), and the quote's shape (a second sentence, the sentence a pronoun
refers to) is decided in `retrieval/answer_shape.py`.
"""

from __future__ import annotations

import re

import numpy as np

from ingest.sentences import split_sentences
from newsdesk.text import MARKER_WITH_SPACE
from retrieval.answer import ABSTAIN_TEXT, Answer, Citation, Turn
from retrieval.answer_shape import ShapePolicy, shape
from retrieval.answerability import declines
from retrieval.embeddings import Embedder
from retrieval.question import analyse
from retrieval.selector import TreeModel, load_selector
from retrieval.sentence_features import FEATURE_NAMES, Candidate, build_candidates, featurize, one_line
from retrieval.types import RetrievedChunk

FALLBACK_EMBED_LIMIT = 48  # sentences embedded at question time when chunks were stored without sentence vectors
_MORE = re.compile(r"\b(?:else|more|other|another|also|further)\b", re.IGNORECASE)


class ExtractiveAnswerer:
    """Answers from the retrieved chunks by quoting the sentence the selector rates highest."""

    name = "extractive"

    def __init__(self, embedder: Embedder, selector: TreeModel | None = None) -> None:
        self.embedder = embedder
        self.selector = selector or load_selector()
        self.policy = ShapePolicy(**self.selector.meta.get("shape", {}))

    def _similarities(self, question_vec: np.ndarray, cands: list[Candidate]) -> None:
        missing = [c for c in cands if c.vector is None]
        if missing:  # chunks stored without sentence vectors: embed them now (in retrieval order)
            todo = missing[:FALLBACK_EMBED_LIMIT]
            for c, vec in zip(todo, self.embedder.embed_array([one_line(c.text) for c in todo]), strict=True):
                c.vector = vec
        for c in cands:
            c.similarity = float(c.vector @ question_vec) if c.vector is not None else 0.0

    def rate(
        self, question: str, chunks: list[RetrievedChunk], question_vector: np.ndarray
    ) -> tuple[list[Candidate], np.ndarray, np.ndarray]:
        """Every candidate sentence, its features, and the selector's probability that it answers the question."""
        cands = build_candidates(chunks, set())
        if not cands:
            return [], np.zeros((0, len(FEATURE_NAMES))), np.zeros(0)
        self._similarities(question_vector, cands)
        authors = {c.article_id: c.author for c in chunks if c.author}
        features = featurize(analyse(question), cands, chunks, authors)
        return cands, features, self.selector.predict(features)

    def answer(
        self,
        question: str,
        chunks: list[RetrievedChunk],
        history: list[Turn] | None = None,
        question_vector: np.ndarray | None = None,
    ) -> Answer:
        exclude = previous_sentences(history) if history and _MORE.search(question) else set()
        if not chunks:
            return abstain(question)
        qvec = question_vector if question_vector is not None else self.embedder.embed_array([question])[0]
        cands, features, probs = self.rate(question, chunks, qvec)
        if not cands:
            return abstain(question)
        probs = prefer_byline(question, cands, probs, chunks)
        # Whether the articles answer is decided with every sentence; "what else did he say?" then gets the best
        # sentence not given before (the one already given was what made the topic answerable).
        if declines(self.selector, analyse(question), cands, features, probs, chunks):
            return abstain(question)
        fresh = [i for i, c in enumerate(cands) if not already_given(one_line(c.text), exclude)]
        if not fresh:
            return abstain(question)
        fresh_cands = [cands[i] for i in fresh]
        quotes = shape(question, fresh_cands, probs[fresh], self.policy, context=fresh_cands if exclude else cands)
        citations: list[Citation] = []
        parts: list[str] = []
        for n, quote in enumerate(quotes, start=1):
            chunk = quote.cand.chunk
            citations.append(
                Citation(
                    n=n,
                    article_id=chunk.article_id,
                    title=chunk.title,
                    source=chunk.source,
                    chunk_id=chunk.chunk_id,
                    quote=quote.text,
                )
            )
            parts.append(f"{one_line(quote.text)} [{n}]")
        return Answer(question=question, answer=" ".join(parts), abstained=False, citations=citations)


def prefer_byline(question: str, cands: list[Candidate], probs: np.ndarray, chunks: list[RetrievedChunk]) -> np.ndarray:
    """AUTHOR (a heuristic, see `retrieval/answer_shape.py`): "who wrote it?" is answered by the sentence that names
    the article's byline author (usually the author's bio). The BBC training questions have no bylines, so the
    selector never learned this; the rule lifts those sentences above the abstention threshold and every other one.
    """
    if not analyse(question).wants_author:
        return probs
    authors = {c.article_id: c.author.lower() for c in chunks if c.author}
    named = [i for i, c in enumerate(cands) if authors.get(c.chunk.article_id, "\0") in c.text.lower()]
    if not named:
        return probs
    lifted = probs.copy()
    for i in named:
        lifted[i] = 1.0 + probs[i]  # above any probability, in the selector's own order
    return lifted


def abstain(question: str) -> Answer:
    return Answer(question=question, answer=ABSTAIN_TEXT, abstained=True)


def already_given(sentence: str, given: set[str]) -> bool:
    """True when an earlier answer quoted this sentence (alone, or inside a quote that spanned several)."""
    return any(sentence in earlier for earlier in given)


def previous_sentences(history: list[Turn]) -> set[str]:
    """Sentences already given as answers, so "what else did he say?" brings something new."""
    seen: set[str] = set()
    for turn in history:
        text = MARKER_WITH_SPACE.sub("", turn.answer)
        seen.update(one_line(text[s:e]) for s, e in split_sentences(text))
    return seen
