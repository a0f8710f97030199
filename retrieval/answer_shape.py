"""How much to quote: the best sentence, at most one more, and the few heuristics that remain, in one place.

The sentence is chosen by the learned selector (`retrieval/selector.py`); this module decides the quote's shape
around it. Every rule here is a heuristic, named with the dev-split figure that justified keeping it (measured by
`python -m evaluation.train_selector`, which evaluates these same functions; figures are in
`retrieval/models/selector.json` under `meta.shape_figures`):

- SECOND_SENTENCE: a second sentence is quoted only when the selector rates it at least `second_ratio` times the
  best one (the ratio is chosen on dev among 2.0 (never), 0.75, 0.45, 0.3 and 0.2, keeping 95% of answers at most
  60 words; 0.2 won: dev "has the fact" 71.0% against 59.7% for the best sentence alone); when it is the best
  one's neighbour, the quote simply spans both.
- ANAPHORA: a best sentence that opens with a pronoun or a connective ("He said...", "Most notable among them..."),
  or a continuing quotation that does not say who is speaking, is quoted with the sentence before it, so the
  reader sees who "he" is; kept because it does not lower dev accuracy and makes the quote readable on its own.
- WHY_REASON: for "why" questions, the sentence after the best one is added when it carries a reason cue
  ("because", "after", "due to"), since news often states the event and then the reason.
- MAX_WORDS: no join that takes the answer past 60 words.
- STRONG_MATCH (in `retrieval/answerability.py`, `strong_match`): a sentence with every content word of the
  question and a cosine of at least 0.65 is never declined; it keeps a one-story collection's exact match from
  being declined by a model calibrated on a large collection (the trainer applies it too, so the dev figures
  include it).
- TYPED_ANSWER and ONE_STORY (in `retrieval/answerability.py`): questions the answerability model would decline
  are answered when the best sentence holds the asked-for kind of answer and its article every word of the
  question, or when one retrieved story covers the question; their dev figures are in their docstrings.
- AUTHOR (in `retrieval/extractive.py`, `prefer_byline`): "who wrote the article?" quotes the sentence naming the
  byline author; the BBC questions the selector learned from have no bylines (sample.jsonl, dev: 1 of 1 with the
  rule, 0 of 1 without).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from retrieval.sentence_features import Candidate

MAX_WORDS = 60
_ANAPHORIC_START = re.compile(
    r"^[\"“‘']?(?:he|she|it|they|this|that|these|those|its|their|his|her|there|most notable|some of|many of|"
    r"in other words|but|however|such|the move|the decision)\b",
    re.IGNORECASE,
)
_REASON = re.compile(
    r"\b(?:because|due to|owing to|as a result|after|amid|following|in order to|so that|since)\b", re.IGNORECASE
)
_WHY = re.compile(r"^\s*(?:why|for what reason)\b", re.IGNORECASE)
_SPEECH_VERB = re.compile(r"\b(?:said|says|told|added|argued|warned|explained|insisted|claimed|stated|replied)\b", re.I)
_QUOTE_OPEN = ("“", '"', "‘")


def _needs_previous(text: str) -> bool:
    """A pronoun or connective start, or a continuing quotation that does not say who is speaking."""
    if _ANAPHORIC_START.match(text):
        return True
    return text.lstrip().startswith(_QUOTE_OPEN) and not _SPEECH_VERB.search(text)


@dataclass(frozen=True)
class ShapePolicy:
    second_ratio: float = 2.0  # > 1 means never add a second sentence
    anaphora: bool = True
    why_reason: bool = True


@dataclass(frozen=True)
class Quote:
    """A span of one chunk to quote (chunk-relative offsets), anchored on a chosen candidate."""

    cand: Candidate
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.cand.chunk.text[self.start : self.end]


def _words(text: str) -> int:
    return len(text.split())


def shape(
    question: str,
    cands: list[Candidate],
    probs: np.ndarray,
    policy: ShapePolicy,
    context: list[Candidate] | None = None,
) -> list[Quote]:
    """The quotes for an answer: the best candidate, widened by the rules above, plus an optional second one.

    `context` holds every sentence of the retrieved chunks when `cands` is a subset (a follow-up excludes what was
    already said), so a quote can still be widened to the sentence that says who is speaking."""
    order = [int(i) for i in np.argsort(-probs, kind="stable")]
    best = cands[order[0]]
    picked = [best]
    joined_next = joined_prev = False
    for i in order[1:3]:
        other = cands[i]
        if probs[i] < policy.second_ratio * probs[order[0]]:
            break
        if _words(best.text) + _words(other.text) > MAX_WORDS:
            break
        if other.chunk is best.chunk and abs(other.index - best.index) == 1:
            # A close runner-up right next to the best: one quote spanning both ("Several members restrict
            # Kyiv." + "Most notable among them is the United States.").
            joined_next, joined_prev = other.index > best.index, other.index < best.index
            break
        if other.chunk is best.chunk and other.index == best.index:
            continue
        picked.append(other)
        break
    same_chunk = {(id(c.chunk), c.index): c for c in (context or cands)}
    quotes: list[Quote] = []
    budget = MAX_WORDS - sum(_words(c.text) for c in picked)
    why = bool(_WHY.match(question))
    for n, cand in enumerate(picked):
        start, end = cand.start, cand.end
        if n == 0 and (joined_next or joined_prev):
            other = same_chunk[(id(cand.chunk), cand.index + (1 if joined_next else -1))]
            start, end = min(start, other.start), max(end, other.end)
            budget -= _words(other.text)
            quotes.append(Quote(cand, start, end))
            continue
        prev = same_chunk.get((id(cand.chunk), cand.index - 1))
        nxt = same_chunk.get((id(cand.chunk), cand.index + 1))
        if policy.anaphora and prev is not None and _needs_previous(cand.text) and _words(prev.text) <= budget:
            start = prev.start
            budget -= _words(prev.text)
        if (
            policy.why_reason
            and why
            and n == 0
            and nxt is not None
            and _REASON.search(nxt.text)
            and _words(nxt.text) <= budget
        ):
            end = nxt.end
            budget -= _words(nxt.text)
        quotes.append(Quote(cand, start, end))
    return quotes
