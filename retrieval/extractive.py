"""The offline answerer: pick the sentences of the retrieved chunks that answer the question and cite them.

No text is generated, so every answer sentence is a verbatim quote of an article and every citation is checkable
by construction. Sentences are scored by embedding similarity to the question (sentence vectors are stored at
ingest, so this costs dot products, not model calls), IDF-weighted word overlap, novelty (a sentence that only
restates the question does not answer it), and what the question asks for: a speaker's words (also through "he
said" and continuing quotations), a figure, a date, a name, the author. When the best sentence is weak, or a name
the question is about appears nowhere in the retrieved text, the answerer declines instead of guessing.
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
STRONG_SIMILARITY = 0.65
MAX_CITATIONS = 2
SECOND_SENTENCE_RATIO = 0.92
TYPED_WINDOW = 8  # runner-ups considered when the leader lacks the asked-for figure or name
TYPED_RATIO = 0.75
FALLBACK_EMBED_LIMIT = 24  # candidates embedded at question time when a chunk has no stored sentence vectors

_SPEECH = re.compile(
    r"\b(?:said|says|say|told|tells|added|adds|noted|notes|stated|states|argued|argues|warned|warns|explained|"
    r"according to|insisted|claimed|declared|announced|acknowledged|described|urged|called|calls|replied|"
    r"joked|admitted|wrote|asked)\b",
    re.IGNORECASE,
)
_PRONOUN_SPEECH = re.compile(
    r"\b(?:he|she|they)\s+(?:\w+\s+)?(?:said|says|told|added|noted|argued|warned|explained|insisted|claimed|"
    r"declared|replied|admitted|wrote)\b|\b(?:said|says|added|told)\s+(?:he|she)\b",
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
_PROPER = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:[A-Z][a-z]+)*\b|\b[A-Z]{2,}\b")
_YEAR = re.compile(r"(?:19|20)\d\d")
_DIGITS = re.compile(r"\d[\d,.:/-]*\d|\d")
_QUOTE_CHARS = ("“", '"', "”", "‘")
_MORE = re.compile(r"\b(?:else|more|other|another|also|further)\b", re.IGNORECASE)
_MARKER = re.compile(r"\s*\[\d+\]")
_WORD = re.compile(r"[\w’']+")
_SPACES = re.compile(r"\s+")
_STOP_STEMS = frozenset(
    porter_stem(w)
    for w in """a an the of in on at to for and or but is are was were be been has have had it its this that with as
    by from he she they we i you his her their our said says mr mrs ms""".split()
)


# Verbs that frame a question rather than carry its topic ("mentioned", "describe", "call").
_GENERIC_STEMS = frozenset(
    porter_stem(w)
    for w in """mention mentioned happen happened describe described say said call called tell told think do does did
    make made get got go went explain explained note noted write wrote name named know known mean meant seem seemed
    refer remark remarks comment comments statement statements word words thing things""".split()
)


@dataclass
class Candidate:
    chunk: RetrievedChunk
    rank: int
    index: int  # sentence number within its chunk
    start: int  # offsets into the chunk text
    end: int
    text: str
    stems: frozenset[str]
    vector: np.ndarray | None = None
    lexical: float = 0.0
    similarity: float = 0.0
    bonus: float = 0.0

    @property
    def score(self) -> float:
        return 0.55 * self.similarity + 0.45 * self.lexical + self.bonus + 0.03 / (1 + self.rank)


def _reading_order(c: Candidate) -> tuple[str, int]:
    return c.chunk.article_id, c.chunk.start + c.start


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
            spans = chunk.sentences or split_sentences(chunk.text)
            vectors = chunk.sentence_vectors if chunk.sentences else None
            for i, (s, e) in enumerate(spans):
                text = chunk.text[s:e]
                if one_line(text) in exclude or len(text) < 3:
                    continue
                vec = vectors[i].astype(np.float32) if vectors is not None else None
                out.append(Candidate(chunk, rank, i, s, e, text, _stems(text), vec))
        return out

    def _score_lexical(self, info: QuestionInfo, cands: list[Candidate]) -> None:
        stems = info.stems
        if info.speaker:  # "what did X call Putin": X and "call" are handled by attribution; Putin is the content
            speaker = porter_stem(info.speaker.lower())
            stems = [s for s in stems if s != speaker and s not in _GENERIC_STEMS] or stems
        if not stems:
            return
        n = len(cands)
        weights: dict[str, float] = {}
        for stem in stems:
            df = sum(1 for c in cands if stem in c.stems)
            idf = math.log((n + 1) / (df + 0.5)) if df else math.log(n + 1) + 1
            weights[stem] = max(idf, 0.1) * (2.0 if stem in info.name_stems else 1.0)
        total = sum(weights.values())
        question_stems = set(info.stems) | _STOP_STEMS
        for c in cands:
            c.lexical = sum(w for stem, w in weights.items() if stem in c.stems) / total
            content = [s for s in c.stems if s not in _STOP_STEMS]
            novel = [s for s in content if s not in question_stems]
            if content and len(novel) / len(content) < 0.25:
                c.bonus -= 0.12  # restates the question without adding anything

    def _attributed_to(self, speaker: str, cands: list[Candidate]) -> set[int]:
        """Indices of candidates that carry the speaker's words.

        Walks each article's retrieved sentences in reading order, tracking who is speaking: a sentence naming the
        speaker with a speech verb starts their turn, "he said" keeps it, another name with a speech verb ends it;
        sentences inside a quotation opened during the speaker's turn are theirs too ("We have a strong army.").
        """
        attributed: set[int] = set()
        order = sorted(
            range(len(cands)), key=lambda i: (cands[i].chunk.article_id, cands[i].chunk.start + cands[i].start)
        )
        turn = False
        open_quote = False
        prev: Candidate | None = None
        for i in order:
            c = cands[i]
            if (
                prev is None
                or prev.chunk.article_id != c.chunk.article_id
                or (prev.chunk is not c.chunk and prev.chunk.position + 1 != c.chunk.position)
            ):
                # a new stretch of text: the speaker "owns" it if the headline is about them
                turn = speaker in _stems(c.chunk.title) and bool(_PRONOUN_SPEECH.search(c.text))
                open_quote = False
            named = speaker in c.stems
            speech = bool(_SPEECH.search(c.text))
            if named and speech:
                turn = True
            elif speech and not _PRONOUN_SPEECH.search(c.text) and not open_quote:
                turn = False  # someone else is speaking now
            quoted = open_quote or c.text.lstrip().startswith(_QUOTE_CHARS) or "“" in c.text
            if turn and (speech or quoted or named):
                attributed.add(i)
            depth = (1 if open_quote else 0) + c.text.count("“") - c.text.count("”")
            open_quote = depth > 0
            prev = c
        return attributed

    def _score_intent(self, info: QuestionInfo, cands: list[Candidate], authors: dict[str, str]) -> None:
        speaker = porter_stem(info.speaker.lower()) if info.speaker else None
        attributed = self._attributed_to(speaker, cands) if speaker else set()
        question_words = {w.lower().strip("'’") for w in _WORD.findall(info.text)}
        # "How many ..., according to X?" asks for a fact: who says it matters less than the figure itself.
        weight = 0.5 if info.wants_number or info.wants_person else 1.0
        for i, c in enumerate(cands):
            if speaker:
                if i in attributed and speaker in c.stems:
                    c.bonus += weight * (0.25 if _SPEECH.search(c.text) else 0.08)
                elif i in attributed:
                    c.bonus += weight * 0.2
                elif speaker in c.stems:
                    c.bonus += weight * 0.05
            if info.wants_number:
                figures = [d for d in _DIGITS.findall(c.text) if not _YEAR.fullmatch(d)]
                if any(d not in info.text for d in figures):
                    c.bonus += 0.15  # a figure the question does not already contain
                else:
                    c.bonus += 0.04 if _NUMBERISH.search(c.text) else -0.1
            if info.wants_date:
                c.bonus += 0.1 if _DATEISH.search(c.text) else -0.03
            if info.wants_person:
                new_names = {m.group(0).lower() for m in _PROPER.finditer(c.text)} - question_words
                c.bonus += 0.12 if new_names else -0.05
            if info.wants_author:
                author = authors.get(c.chunk.article_id)
                if author and author.lower() in c.text.lower():
                    c.bonus += 0.5

    def _similarities(self, question_vec: np.ndarray, cands: list[Candidate]) -> None:
        missing = [c for c in cands if c.vector is None]
        if missing:  # chunks stored without sentence vectors: embed the most promising candidates now
            missing.sort(key=lambda c: c.lexical + c.bonus + 0.5 / (1 + c.rank), reverse=True)
            todo = missing[:FALLBACK_EMBED_LIMIT]
            for c, vec in zip(todo, self.embedder.embed_array([one_line(c.text) for c in todo]), strict=True):
                c.vector = vec
        for c in cands:
            if c.vector is not None:
                c.similarity = float(c.vector @ question_vec)

    # --- answer ----------------------------------------------------------------------------------------------------
    def answer(
        self,
        question: str,
        chunks: list[RetrievedChunk],
        history: list[Turn] | None = None,
        question_vector: np.ndarray | None = None,
    ) -> Answer:
        info = analyse(question)
        exclude = previous_sentences(history) if history and _MORE.search(question) else set()
        cands = self._candidates(chunks, exclude)
        if not cands:
            return abstain(question)
        qvec = question_vector if question_vector is not None else self.embedder.embed_array([question])[0]
        authors = {c.article_id: c.author for c in chunks if c.author}
        self._score_lexical(info, cands)
        self._score_intent(info, cands, authors)
        self._similarities(qvec, cands)
        ranked = sorted(cands, key=lambda c: c.score, reverse=True)
        best = ranked[0]
        if best.similarity < STRONG_SIMILARITY and (
            self._missing_names(info, chunks) or self._missing_topic(info, chunks)
        ):
            return abstain(question)
        if best.similarity < MIN_SIMILARITY and best.lexical < MIN_OVERLAP and best.bonus < 0.2:
            return abstain(question)
        best = self._typed_answer(info, ranked) or best
        picked = [best]
        for other in ranked[1:]:
            if len(picked) >= MAX_CITATIONS or other.score < SECOND_SENTENCE_RATIO * best.score:
                break
            if any(other.chunk is p.chunk and abs(other.index - p.index) <= 1 for p in picked):
                continue  # a neighbour adds little; the quote already has context
            if other.lexical < 0.3 and other.similarity < MIN_SIMILARITY:
                continue
            picked.append(other)
        return self._compose(question, picked, cands)

    def _compose(self, question: str, picked: list[Candidate], cands: list[Candidate]) -> Answer:
        why = bool(re.match(r"^\s*why\b", question, re.IGNORECASE))
        citations: list[Citation] = []
        parts: list[str] = []
        for n, cand in enumerate(picked, start=1):
            start, end = cand.start, cand.end
            same_chunk = {c.index: c for c in cands if c.chunk is cand.chunk}
            prev, nxt = same_chunk.get(cand.index - 1), same_chunk.get(cand.index + 1)
            if prev is not None and (_ANAPHORIC_START.match(cand.text) or len(cand.text.split()) < 7):
                start = prev.start
            if nxt is not None and _ANAPHORIC_START.match(nxt.text) and len(nxt.text.split()) <= 12:
                end = nxt.end
            elif nxt is not None and why and n == 1 and cand.lexical >= 0.6:
                end = nxt.end  # the sentence restating a "why" question is usually followed by the reason
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

    @staticmethod
    def _typed_answer(info: QuestionInfo, ranked: list[Candidate]) -> Candidate | None:
        """For "how many" and "who/which" questions, a close runner-up that holds what is asked for (a figure or a
        name the question does not already contain) beats a leader that only restates the question."""
        words = {w.lower().strip("'’") for w in _WORD.findall(info.text)}

        def has_answer(c: Candidate) -> bool:
            if info.wants_number:
                return any(d not in info.text for d in _DIGITS.findall(c.text) if not _YEAR.fullmatch(d))
            return bool({m.group(0).lower() for m in _PROPER.finditer(c.text)} - words)

        if not (info.wants_number or info.wants_person) or has_answer(ranked[0]):
            return None
        for c in ranked[1:TYPED_WINDOW]:
            if c.score >= TYPED_RATIO * ranked[0].score and has_answer(c):
                return c
        return None

    @staticmethod
    def _missing_topic(info: QuestionInfo, chunks: list[RetrievedChunk]) -> bool:
        """True when none of the question's words beyond its names occurs in the retrieved text ("born")."""
        topic = [s for s in info.stems if s not in info.name_stems and s not in _STOP_STEMS | _GENERIC_STEMS]
        if not topic or not info.name_stems:
            return False
        haystack: set[str] = set()
        for c in chunks:
            haystack |= _stems(c.text)
        return not any(s in haystack for s in topic)

    @staticmethod
    def _missing_names(info: QuestionInfo, chunks: list[RetrievedChunk]) -> bool:
        """True when a name the question is about (France, Macron, Germany) appears in no retrieved chunk or title."""
        names = [n for n in info.names if n.lower() not in {"mr", "mrs", "ms", "dr"}]
        if not names:
            return False
        haystack: set[str] = set()
        compact = ""
        for c in chunks:
            haystack |= _stems(c.text) | _stems(c.title)
            compact += " " + (c.title + " " + c.text).lower().replace(" ", "")
        return any(not (_stems(n) <= haystack) and n.lower() not in compact for n in names)


def abstain(question: str) -> Answer:
    return Answer(question=question, answer=ABSTAIN_TEXT, abstained=True)


def previous_sentences(history: list[Turn]) -> set[str]:
    """Sentences already given as answers, so "what else did he say?" brings something new."""
    seen: set[str] = set()
    for turn in history:
        text = _MARKER.sub("", turn.answer)
        seen.update(one_line(text[s:e]) for s, e in split_sentences(text))
    return seen
