"""Sentence-level checking of an LLM's cited answer against the passages it was given.

Our promise is that every cited claim was checked against its source before anyone sees it. A language model's draft
is split into sentences; each sentence keeps only the citations that (1) point at a passage that exists and (2) hold a
sentence that supports the claim. Support means:

* the best-matching sentence of the cited chunk (or, failing that, two adjacent sentences, with a higher bar)
  scores above a calibrated threshold on `SEMANTIC_WEIGHT * cosine + (1 - SEMANTIC_WEIGHT) * lexical overlap`,
  where the cosine is between all-MiniLM-L6-v2 embeddings and the overlap is the share of the claim's content-word
  stems found in it;
* every number in the claim appears in that supporting sentence (models invent numbers and dates more than
  anything else), and a negated claim is supported by a negated sentence;
* every name (capitalised word) in the claim appears in the cited chunk or its article's title (a sentence saying
  "he said" is supported by a chunk that names him a sentence earlier), and words the claim puts in quotation
  marks appear in the supporting sentence as written;
* the sentence is more than an article's headline repeated (true, but never an answer).

Sentences with no surviving citation are dropped. A sentence the model forgot to cite, or cited only with numbers
that do not exist, is checked against every passage and, when one supports it, gets that citation (counted as
`citations_added`; the bad numbers still count as dropped). Surviving citations are
renumbered 1..n in order of appearance, and each carries the verbatim supporting sentence as its `quote`.

Calibration (see `tests/test_llm_verification.py`, which holds the hand-made claims): true paraphrases and verbatim
claims from a news article score 0.57-0.98, topical but made-up claims 0.17-0.46; the threshold sits in between.
It cannot see every contradiction: a claim that swaps who did what to whom, in the article's own words, scores
like a paraphrase. Numbers, names and negations are checked separately for that reason.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from ingest.sentences import split_sentences
from retrieval.answer import Citation
from retrieval.stemming import porter_stem
from retrieval.types import RetrievedChunk

SEMANTIC_WEIGHT = 0.5
THRESHOLD = 0.52
# Two sentences hold more words, so they overlap more with anything; they must clear a higher bar.
PAIR_MARGIN = 0.15
# A "sentence" with fewer content words is not a claim ("Yes.", "HACKED."): one shared word would score as support.
MIN_CONTENT_WORDS = 2

# [1], [1, 2], [1][2], [1-3]; also tolerate "[Passage 2]" and "[Source 2]", which small models like to write.
_CITATION = re.compile(r"\[\s*(?:passage|source|doc(?:ument)?)?\s*(\d+(?:\s*(?:,|;|-|–|and)\s*\d+)*)\s*\]", re.I)
_LEADING_MARKERS = re.compile(r"^(?:\s*\[\s*(?:passage|source|doc(?:ument)?)?\s*[\d\s,;–-]+\])+[\s.]*", re.I)
_LIST_PREFIX = re.compile(r"^\s*(?:[-*•]+|\d+[.)])\s+")
_LABEL_PREFIX = re.compile(r"^\s*\**\s*(?:final\s+)?answer\s*\**\s*:\s*\**\s*", re.I)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_NAME = re.compile(r"\b[A-Z][^\W_]*(?:['’][^\W_]+)*")
_QUOTED = re.compile(r"[\"“”]([^\"“”]{3,}?)[\"“”]")
_NOT_NEGATION = re.compile(r"\b(?:no doubt|not only|no matter)\b", re.I)  # affirmative despite the "no"
_NEGATION = re.compile(
    r"\b(?:not|no|never|nor|neither|cannot|without|none|refus\w*|reject\w*|den(?:y|ied|ies)|fail\w*)\b|n['’]t\b", re.I
)
_DECLINE = re.compile(
    r"\b(?:passages?|articles?|context|texts?|sources?|documents?)\b.{0,60}?"
    r"\b(?:do(?:es)?\s*n[o']?t|not|no|neither)\b.{0,40}?"
    r"\b(?:answer|say|mention|contain|provide|include|specify|state|discuss|address)"
    r"|\b(?:cannot|can['’]t|unable to)\s+(?:answer|determine|find|tell|say)"
    r"|\bnot\s+(?:enough|sufficient)\s+information|\bno\s+(?:relevant\s+)?information\b",
    re.I,
)

# Function words: not evidence of support when shared, and not names when capitalised at a sentence start.
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having he her here hers
    herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off on
    once only or other our ours ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were what when where which
    while who whom why will with would you your yours yourself yourselves said says say according told tells also
    however yes mr mrs ms dr per its it's he's she's they're there's that's one may might must shall still yet
    based passage passages article articles answer""".split()
)
_FOLD = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def fold(text: str) -> str:
    """Typographic quotes and dashes to ASCII, accents removed, lower case: for comparing, never for quoting."""
    text = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def content_stems(text: str) -> set[str]:
    """Porter stems of the content words of `text` (possessives stripped, function words dropped)."""
    stems: set[str] = set()
    for word in _WORD.findall(fold(text)):
        word = re.sub(r"'s$", "", word)
        if len(word) > 1 and word not in STOPWORDS:
            stems.add(porter_stem(word))
    return stems


_CURRENCIES = {
    "$": re.compile(r"\$|\bdollars?\b|\busd\b", re.I),
    "€": re.compile(r"€|\beuros?\b|\beur\b", re.I),
    "£": re.compile(r"£|\bpounds?\b|\bgbp\b", re.I),
}


def numbers(text: str) -> set[str]:
    """Numbers as written, without thousands separators ("40,000" and "40000" match; "75th" counts as "75"), plus
    the currencies named ("$40 billion" is not supported by "40 billion Euros")."""
    found = {match.replace(",", "") for match in _NUMBER.findall(text)}
    return found | {symbol for symbol, pattern in _CURRENCIES.items() if pattern.search(text)}


def names(text: str) -> set[str]:
    """Capitalised words that are not function words: people, places, organisations, months, acronyms.

    The first word of the sentence only counts when it is an acronym: "Around 300 people..." is not a name, and a
    name that starts a sentence is still held to the semantic check.
    """
    found: set[str] = set()
    for match in _NAME.finditer(text):
        word = match.group(0)
        if not text[: match.start()].strip(" \"'“‘(") and not (len(word) > 1 and word.isupper()):
            continue
        folded = re.sub(r"'s$", "", fold(word))
        if folded not in STOPWORDS and len(folded) > 1:
            found.add(folded)
    return found


def _name_supported(name: str, haystack_words: set[str]) -> bool:
    """Exact word, or a shared stem for demonyms and small spelling slips ("Ukrainian"/"Ukraine", "Zelensky")."""
    if name in haystack_words:
        return True
    if len(name) < 5:
        return False
    prefix = name[: max(5, len(name) - 3)]
    return any(
        word.startswith(prefix) or (len(word) >= 5 and name.startswith(word[: max(5, len(word) - 3)]))
        for word in haystack_words
    )


def quoted(text: str) -> list[str]:
    """Phrases the claim puts in quotation marks, folded: a quote must be a quote of the source."""
    pieces = (piece for q in _QUOTED.findall(text) for piece in re.split(r"\.{3,}|\[[^\]]*\]", fold(q)))
    return [p for p in (" ".join(piece.split()).strip(" .,;:") for piece in pieces) if len(p) >= 3]


def repeats_title(claim: str, chunks: Sequence[RetrievedChunk]) -> bool:
    """True when the sentence is only an article's headline: true, but no answer (small models love doing this)."""
    words = _WORD.findall(fold(claim))
    return bool(words) and any(words == _WORD.findall(fold(c.title)) for c in chunks)


def is_decline(sentence: str) -> bool:
    """True when the sentence says the passages do not answer (the prompt asks the model to say so)."""
    return bool(_DECLINE.search(sentence))


@dataclass(frozen=True)
class Support:
    """A supporting span: `chunk_index` into the passages, `start`/`end` into that chunk's text."""

    chunk_index: int
    start: int
    end: int
    score: float


@dataclass
class SentenceCheck:
    """The verdict on one sentence of the draft; `reason` says why it was dropped (None when kept)."""

    claim: str
    cited: list[int]
    supports: list[Support] = field(default_factory=list)
    invalid: list[int] = field(default_factory=list)
    added: bool = False
    reason: str | None = None

    @property
    def kept(self) -> bool:
        return bool(self.supports)


@dataclass
class VerificationResult:
    """The verified answer text with renumbered citations, and what verification removed."""

    text: str
    citations: list[Citation]
    checks: list[SentenceCheck]
    declined: bool
    sentences_total: int
    sentences_dropped: int
    citations_total: int
    citations_dropped: int
    citations_added: int

    @property
    def sentences_kept(self) -> int:
        return self.sentences_total - self.sentences_dropped

    def counts(self) -> dict[str, Any]:
        return {
            "sentences_total": self.sentences_total,
            "sentences_dropped": self.sentences_dropped,
            "citations_total": self.citations_total,
            "citations_dropped": self.citations_dropped,
            "citations_added": self.citations_added,
        }


@dataclass
class _Sentence:
    text: str
    markers: list[int]


def _parse_markers(text: str) -> list[int]:
    found: list[int] = []
    for match in _CITATION.finditer(text):
        for part in re.split(r"\s*(?:,|;|and)\s*", match.group(1)):
            bounds = re.split(r"\s*[-–]\s*", part)
            if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit():
                low, high = int(bounds[0]), int(bounds[1])
                numbers_ = list(range(low, high + 1)) if 0 < high - low < 10 else [low, high]
            else:
                numbers_ = [int(b) for b in bounds if b.isdigit()]
            for number in numbers_:
                if number not in found:
                    found.append(number)
    return found


def split_draft(draft: str) -> list[_Sentence]:
    """Sentences of the model's draft with the citation numbers each one carries.

    Models put markers before or after the full stop ("... Washington [1]." or "... Washington. [1]"); markers at
    the start of a sentence belong to the sentence before it.
    """
    lines = [_LABEL_PREFIX.sub("", _LIST_PREFIX.sub("", line)) for line in draft.replace("\r", "").split("\n")]
    text = "\n".join(lines).strip()
    sentences: list[_Sentence] = []
    for start, end in split_sentences(text):
        piece = text[start:end]
        lead = _LEADING_MARKERS.match(piece)
        if lead and lead.group(0).strip(" ."):
            if sentences:
                for number in _parse_markers(lead.group(0)):
                    if number not in sentences[-1].markers:
                        sentences[-1].markers.append(number)
            piece = piece[lead.end() :]
        markers = _parse_markers(piece)
        claim = _CITATION.sub("", piece)
        claim = re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"\s+", " ", claim)).strip()
        if not _WORD.search(claim):
            continue
        sentences.append(_Sentence(text=claim, markers=markers))
    return sentences


def _attach_markers(claim: str, ns: list[int]) -> str:
    """`claim` with `[n]` markers before its closing full stop: "He spoke in Washington [1]."."""
    tags = "".join(f"[{n}]" for n in ns)
    match = re.search(r"[.!?]+$", claim)
    if match:
        return f"{claim[: match.start()].rstrip()} {tags}{match.group(0)}"
    return f"{claim} {tags}."


class CitationVerifier:
    """Checks drafts against passages with the embedding model the rest of newsdesk already loaded."""

    def __init__(
        self,
        embedder: Embeddings,
        threshold: float = THRESHOLD,
        semantic_weight: float = SEMANTIC_WEIGHT,
        cite_uncited: bool = True,
    ) -> None:
        self._embedder = embedder
        self.threshold = threshold
        self.semantic_weight = semantic_weight
        self.cite_uncited = cite_uncited

    # --- scoring ---------------------------------------------------------------------------------------------------
    def _candidates(self, chunk: RetrievedChunk) -> list[tuple[int, int, bool]]:
        """Sentence spans of the chunk, then adjacent pairs (`True` marks a pair)."""
        spans = split_sentences(chunk.text)
        singles = [(s, e, False) for s, e in spans]
        pairs = [(spans[i][0], spans[i + 1][1], True) for i in range(len(spans) - 1)]
        return singles + pairs

    def score(self, claim: str, support: str) -> float:
        """The support score of one claim/sentence pair (for calibration and tests)."""
        vectors = np.asarray(self._embedder.embed_documents([claim, support]), dtype=np.float32)
        return self._combine(float(vectors[0] @ vectors[1]), claim, support)

    def _combine(self, cosine: float, claim: str, support: str) -> float:
        claim_stems = content_stems(claim)
        overlap = len(claim_stems & content_stems(support)) / len(claim_stems) if claim_stems else 0.0
        return self.semantic_weight * cosine + (1 - self.semantic_weight) * overlap

    def _best_support(
        self,
        claim: str,
        claim_vector: np.ndarray,
        chunk_index: int,
        chunk: RetrievedChunk,
        candidates: list[tuple[int, int, bool]],
        vectors: np.ndarray,
    ) -> tuple[Support | None, str]:
        """The best span of the chunk that supports the claim, or None and the reason it failed."""
        if len(content_stems(claim)) < MIN_CONTENT_WORDS:
            return None, "too short to be a claim"
        haystack = set(_WORD.findall(fold(f"{chunk.title}\n{chunk.text}")))
        missing = [name for name in sorted(names(claim)) if not _name_supported(name, haystack)]
        if missing:
            return None, f"name not in passage: {missing[0]}"
        claim_numbers = numbers(claim)
        claim_quotes = quoted(claim)
        negated = bool(_NEGATION.search(_NOT_NEGATION.sub("", claim)))
        best: dict[bool, Support] = {}
        reason = "no sentence of the passage supports it"
        for (start, end, is_pair), vector in zip(candidates, vectors, strict=True):
            text = chunk.text[start:end]
            if not claim_numbers <= numbers(text):
                reason = "number not in the supporting sentence"
                continue
            if negated and not _NEGATION.search(_NOT_NEGATION.sub("", text)):
                continue
            if claim_quotes:
                folded = " ".join(fold(text).split())
                if not all(q in folded for q in claim_quotes):
                    reason = "quoted words not in the passage"
                    continue
            score = self._combine(float(claim_vector @ vector), claim, text)
            if is_pair not in best or score > best[is_pair].score:
                best[is_pair] = Support(chunk_index, start, end, score)
        for is_pair in (False, True):  # prefer one sentence; two adjacent ones only when one is not enough
            support = best.get(is_pair)
            if support is not None and support.score >= self.threshold + (PAIR_MARGIN if is_pair else 0.0):
                return support, ""
        top = max((s.score for s in best.values()), default=None)
        if top is not None:
            reason = f"best support scored {top:.2f} < {self.threshold:.2f}"
        return None, reason

    # --- the whole draft -------------------------------------------------------------------------------------------
    def verify(self, draft: str, chunks: Sequence[RetrievedChunk]) -> VerificationResult:
        """Check every sentence of `draft` against `chunks` (numbered from 1 in the prompt)."""
        parsed = split_draft(draft)
        declines = [s for s in parsed if is_decline(s.text) and not any(1 <= n <= len(chunks) for n in s.markers)]
        claims = [s for s in parsed if s not in declines]
        checks = [SentenceCheck(claim=s.text, cited=list(s.markers)) for s in claims]
        for check in checks:
            check.invalid = [n for n in check.cited if not 1 <= n <= len(chunks)]

        needed: set[int] = {n - 1 for check in checks for n in check.cited if 1 <= n <= len(chunks)}
        if self.cite_uncited and any(not check.cited or len(check.invalid) == len(check.cited) for check in checks):
            needed = set(range(len(chunks)))
        candidates = {i: self._candidates(chunks[i]) for i in sorted(needed)}
        texts = [check.claim for check in checks]
        for i, spans in candidates.items():
            texts.extend(chunks[i].text[s:e] for s, e, _ in spans)
        vectors = np.asarray(self._embedder.embed_documents(texts), dtype=np.float32) if texts else np.zeros((0, 1))
        claim_vectors = vectors[: len(checks)]
        chunk_vectors: dict[int, np.ndarray] = {}
        offset = len(checks)
        for i, spans in candidates.items():
            chunk_vectors[i] = vectors[offset : offset + len(spans)]
            offset += len(spans)

        for check, claim_vector in zip(checks, claim_vectors, strict=True):
            if repeats_title(check.claim, chunks):
                check.reason = "only repeats an article's title"
                continue
            valid = [n for n in check.cited if 1 <= n <= len(chunks)]
            reasons: list[str] = []
            for n in valid:
                support, reason = self._best_support(
                    check.claim, claim_vector, n - 1, chunks[n - 1], candidates[n - 1], chunk_vectors[n - 1]
                )
                if support is not None:
                    check.supports.append(support)
                else:
                    reasons.append(f"[{n}]: {reason}")
            if not valid and self.cite_uncited:
                found = [
                    self._best_support(check.claim, claim_vector, i, chunks[i], candidates[i], chunk_vectors[i])[0]
                    for i in range(len(chunks))
                ]
                best = max((s for s in found if s is not None), key=lambda s: s.score, default=None)
                if best is not None:
                    check.supports.append(best)
                    check.added = True
            if not check.supports:
                if not check.cited:
                    check.reason = "no citation and no passage supports it"
                elif not valid:
                    check.reason = "cites passages that do not exist"
                else:
                    check.reason = "; ".join(reasons)
        return self._assemble(checks, chunks, declined=bool(declines) and not any(c.kept for c in checks))

    def _assemble(
        self, checks: list[SentenceCheck], chunks: Sequence[RetrievedChunk], declined: bool
    ) -> VerificationResult:
        numbering: dict[tuple[int, int, int], int] = {}
        citations: list[Citation] = []
        sentences: list[str] = []
        for check in checks:
            if not check.kept:
                continue
            ns: list[int] = []
            for support in check.supports:
                key = (support.chunk_index, support.start, support.end)
                if key not in numbering:
                    chunk = chunks[support.chunk_index]
                    numbering[key] = len(numbering) + 1
                    citations.append(
                        Citation(
                            n=numbering[key],
                            article_id=chunk.article_id,
                            title=chunk.title,
                            source=chunk.source,
                            chunk_id=chunk.chunk_id,
                            quote=chunk.text[support.start : support.end],
                        )
                    )
                if numbering[key] not in ns:
                    ns.append(numbering[key])
            sentences.append(_attach_markers(check.claim, ns))
        citations_total = sum(len(c.cited) for c in checks)
        kept_model_citations = sum(len(c.supports) for c in checks if not c.added)
        return VerificationResult(
            text=" ".join(sentences),
            citations=citations,
            checks=checks,
            declined=declined,
            sentences_total=len(checks),
            sentences_dropped=sum(1 for c in checks if not c.kept),
            citations_total=citations_total,
            citations_dropped=citations_total - kept_model_citations,
            citations_added=sum(1 for c in checks if c.added),
        )


def summarize_verification(records: Iterable[Mapping[str, Any] | None]) -> dict[str, Any] | None:
    """Totals over many answers' `verification` dicts (an evaluation run): drop rates, fallbacks and their reasons.

    Returns None when no answer carried one (the extractive answerer), so offline runs report nothing extra.
    """
    rows = [r for r in records if r is not None]
    if not rows:
        return None
    sentences = sum(int(r.get("sentences_total", 0)) for r in rows)
    dropped = sum(int(r.get("sentences_dropped", 0)) for r in rows)
    citations = sum(int(r.get("citations_total", 0)) for r in rows)
    citations_dropped = sum(int(r.get("citations_dropped", 0)) for r in rows)
    reasons: dict[str, int] = {}
    for r in rows:
        reasons[str(r.get("reason"))] = reasons.get(str(r.get("reason")), 0) + 1
    fallbacks = sum(1 for r in rows if r.get("fallback"))
    return {
        "answers": len(rows),
        "sentences_total": sentences,
        "sentences_dropped": dropped,
        "sentence_drop_rate": dropped / sentences if sentences else None,
        "citations_total": citations,
        "citations_dropped": citations_dropped,
        "citation_drop_rate": citations_dropped / citations if citations else None,
        "citations_added": sum(int(r.get("citations_added", 0)) for r in rows),
        "fallbacks": fallbacks,
        "fallback_rate": fallbacks / len(rows),
        "reasons": dict(sorted(reasons.items())),
    }
