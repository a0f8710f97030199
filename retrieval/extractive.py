"""The offline answerer: pick the sentences of the retrieved chunks that answer the question and cite them.

No text is generated, so every answer sentence is a verbatim quote of an article and every citation is checkable
by construction. Sentences are scored by embedding similarity to the question, IDF-weighted word overlap, and what
the question asks for (a speaker's words, a figure, a date, the author). When the best sentence is weak, or the
names the question is about appear nowhere in the retrieved text, the answerer declines instead of guessing.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from ingest.sentences import split_sentences
from retrieval.answer import ABSTAIN_TEXT, Answer, Citation, Turn
from retrieval.embeddings import Embedder
from retrieval.question import QuestionInfo, analyse
from retrieval.stemming import porter_stem
from retrieval.types import RetrievedChunk

# Calibrated on evaluation/datasets (sample and BBC): see README "Evaluation".
MIN_SIMILARITY = 0.42
MIN_OVERLAP = 0.5
PREFILTER = 24
MAX_CITATIONS = 2
SECOND_SENTENCE_RATIO = 0.92

_SPEECH = re.compile(
    r"\b(?:said|says|say|told|tells|added|adds|noted|notes|stated|states|argued|argues|warned|warns|explained|"
    r"according to|insisted|claimed|declared|announced|acknowledged|described|urged|called)\b",
    re.IGNORECASE,
)
_NUMBERISH = re.compile(
    r"\d|\b(?:million|billion|trillion|thousand|hundred|percent|per cent|half|third|quarter|dozen|one|two|three|four|"
    r"five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred)\b|[%£$€¥]",
    re.IGNORECASE,
)
_DATEISH = re.compile(
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|"
    r"jun|jul|aug|sep|sept|oct|nov|dec|monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|"
    r"tomorrow|last week|next week|last year|next year|(?:19|20)\d\d)\b",
    re.IGNORECASE,
)
_ANAPHORIC_START = re.compile(
    r"^[\"“‘']?(?:he|she|it|they|this|that|these|those|its|their|his|her|there|most notable|some of|many of|"
    r"in other words|but|and|however|also|such|the move|the decision)\b",
    re.IGNORECASE,
)
_MORE = re.compile(r"\b(?:else|more|other|another|also|further)\b", re.IGNORECASE)
_MARKER = re.compile(r"\s*\[\d+\]")
_WORD = re.compile(r"[\w’']+")
_SPACES = re.compile(r"\s+")


@dataclass
class Candidate:
    chunk: RetrievedChunk
    rank: int
    start: int  # offsets into the chunk text
    end: int
    text: str
    stems: frozenset[str]
    lexical: float = 0.0
    similarity: float = 0.0
    bonus: float = 0.0

    @property
    def score(self) -> float:
        return 0.55 * self.similarity + 0.45 * self.lexical + self.bonus + 0.03 / (1 + self.rank)


def _stems(text: str) -> frozenset[str]:
    return frozenset(porter_stem(w.strip("'’").removesuffix("’s").removesuffix("'s")) for w in _WORD.findall(text))


def one_line(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


class ExtractiveAnswerer:
    """Answers from the retrieved chunks by quoting their best sentences."""

    name = "extractive"

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    # --- candidates ------------------------------------------------------------------------------------------------
    def _candidates(self, chunks: list[RetrievedChunk], exclude: set[str]) -> list[Candidate]:
        out: list[Candidate] = []
        for rank, chunk in enumerate(chunks):
            for s, e in split_sentences(chunk.text):
                text = chunk.text[s:e]
                if one_line(text) in exclude or len(text) < 3:
                    continue
                out.append(Candidate(chunk, rank, s, e, text, _stems(text)))
        return out

    def _score_lexical(self, info: QuestionInfo, cands: list[Candidate]) -> None:
        if not info.stems:
            return
        n = len(cands)
        weights: dict[str, float] = {}
        for stem in info.stems:
            df = sum(1 for c in cands if stem in c.stems)
            idf = math.log((n + 1) / (df + 0.5)) if df else math.log(n + 1) + 1
            weights[stem] = max(idf, 0.1) * (2.0 if stem in info.name_stems else 1.0)
        total = sum(weights.values())
        for c in cands:
            c.lexical = sum(w for stem, w in weights.items() if stem in c.stems) / total

    def _score_intent(self, info: QuestionInfo, cands: list[Candidate], authors: dict[str, str]) -> None:
        speaker = porter_stem(info.speaker.lower()) if info.speaker else None
        for i, c in enumerate(cands):
            if speaker:
                if speaker in c.stems and _SPEECH.search(c.text):
                    c.bonus += 0.25
                elif speaker in c.stems:
                    c.bonus += 0.05
                elif c.text.lstrip().startswith(("“", '"')) and i + 1 < len(cands):
                    nxt = cands[i + 1]
                    if nxt.chunk is c.chunk and speaker in nxt.stems and _SPEECH.search(nxt.text):
                        c.bonus += 0.1
            if info.wants_number:
                c.bonus += 0.12 if _NUMBERISH.search(c.text) else -0.05
            if info.wants_date:
                c.bonus += 0.1 if _DATEISH.search(c.text) else 0.0
            if info.wants_author:
                author = authors.get(c.chunk.article_id)
                if author and author.lower() in c.text.lower():
                    c.bonus += 0.5

    def _embed_scores(self, question_vec: np.ndarray, cands: list[Candidate]) -> None:
        if not cands:
            return
        vectors = self.embedder.embed_array([one_line(c.text) for c in cands])
        sims = vectors @ question_vec
        for c, sim in zip(cands, sims, strict=True):
            c.similarity = float(sim)

    # --- answer ----------------------------------------------------------------------------------------------------
    def answer(
        self,
        question: str,
        chunks: list[RetrievedChunk],
        history: list[Turn] | None = None,
        question_vector: np.ndarray | None = None,
    ) -> Answer:
        info = analyse(question)
        exclude: set[str] = set()
        if history and _MORE.search(question):
            exclude = previous_sentences(history)
        cands = self._candidates(chunks, exclude)
        if not cands:
            return Answer(question=question, answer=ABSTAIN_TEXT, abstained=True)
        if self._missing_names(info, chunks):
            return Answer(question=question, answer=ABSTAIN_TEXT, abstained=True)
        authors = {c.article_id: c.author for c in chunks if c.author}
        self._score_lexical(info, cands)
        self._score_intent(info, cands, authors)
        cands.sort(key=lambda c: c.lexical + c.bonus + 0.5 / (1 + c.rank), reverse=True)
        shortlist = cands[:PREFILTER]
        qvec = question_vector if question_vector is not None else self.embedder.embed_array([question])[0]
        self._embed_scores(qvec, shortlist)
        shortlist.sort(key=lambda c: c.score, reverse=True)
        best = shortlist[0]
        if best.similarity < MIN_SIMILARITY and best.lexical < MIN_OVERLAP and best.bonus < 0.25:
            return Answer(question=question, answer=ABSTAIN_TEXT, abstained=True)
        picked = [best]
        for other in shortlist[1:]:
            if len(picked) >= MAX_CITATIONS or other.score < SECOND_SENTENCE_RATIO * best.score:
                break
            if other.chunk is best.chunk and abs(other.start - best.start) < 2 * len(best.text):
                continue  # a neighbour adds little; the quote already has context
            if other.lexical < 0.3 and other.similarity < MIN_SIMILARITY:
                continue
            picked.append(other)
        return self._compose(question, picked, cands)

    def _compose(self, question: str, picked: list[Candidate], cands: list[Candidate]) -> Answer:
        citations: list[Citation] = []
        parts: list[str] = []
        for n, cand in enumerate(picked, start=1):
            start, end = cand.start, cand.end
            same_chunk = [c for c in cands if c.chunk is cand.chunk]
            if _ANAPHORIC_START.match(cand.text) or len(cand.text.split()) < 7:
                prev = [c for c in same_chunk if c.end <= cand.start]
                if prev:
                    start = max(prev, key=lambda c: c.end).start
            nxt = min((c for c in same_chunk if c.start >= cand.end), key=lambda c: c.start, default=None)
            if nxt is not None and _ANAPHORIC_START.match(nxt.text) and len(nxt.text.split()) <= 12:
                end = nxt.end  # "... restrictions on how Kyiv uses ... Most notable among them is the United States."
            quote = cand.chunk.text[start:end]
            citations.append(
                Citation(
                    n=n,
                    article_id=cand.chunk.article_id,
                    title=cand.chunk.title,
                    source=cand.chunk.source,
                    chunk_id=cand.chunk.chunk_id,
                    quote=quote,
                )
            )
            parts.append(f"{one_line(quote)} [{n}]")
        return Answer(question=question, answer=" ".join(parts), abstained=False, citations=citations)

    def _missing_names(self, info: QuestionInfo, chunks: list[RetrievedChunk]) -> bool:
        """True when the question names things (France, Apple) that no retrieved chunk or title mentions."""
        if not info.names:
            return False
        haystack: set[str] = set()
        for c in chunks:
            haystack |= _stems(c.text)
            haystack |= _stems(c.title)
        names = [n for n in info.names if n.lower() not in {"mr", "mrs", "ms", "dr"}]
        missing = [n for n in names if not (_stems(n) <= haystack)]
        return bool(names) and len(missing) == len(names)


def previous_sentences(history: list[Turn]) -> set[str]:
    """Sentences already given as answers, so "what else did he say?" brings something new."""
    seen: set[str] = set()
    for turn in history:
        text = _MARKER.sub("", turn.answer)
        seen.update(one_line(text[s:e]) for s, e in split_sentences(text))
    return seen
