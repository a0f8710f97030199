"""Sentence-level checking of an LLM's cited answer against the passages it was given.

Our promise is that every cited claim was checked against its source before anyone sees it. A language model's draft
is split into sentences; each sentence keeps only the citations that (1) point at a passage that exists and (2) hold a
sentence that supports the claim. Support means:

* the best-matching sentence of the cited chunk (or, failing that, two sentences at most PAIR_REACH apart, with a
  higher bar)
  scores above a calibrated threshold on `SEMANTIC_WEIGHT * cosine + (1 - SEMANTIC_WEIGHT) * lexical overlap`,
  where the cosine is between all-MiniLM-L6-v2 embeddings and the overlap is the share of the claim's content-word
  stems found in it;
* the best-matching sentence (or pair) does not contradict the claim in ways the score cannot see
  (`contradiction`): every number, parsed with its scale and unit (`retrieval.numbers`), is stated by the sentence
  that supports its part of the claim; polarity agrees both ways (`retrieval.polarity` by word windows,
  `retrieval.negation` by which predicate the parse puts under a negation); names keep their roles around the verbs
  claim and source share (`retrieval.syntax` from a dependency parse, `retrieval.roles` by word order, vetoed where
  the parse disagrees); no name or word of a mutually exclusive class is substituted in the same place of the parse
  (`retrieval.substitutions`, `retrieval.syntax.same_slot`, `retrieval.syntax.renamed`); and no clause of the claim
  is absent from the source (`retrieval.clauses`). Only the best-scoring sentence is tried: when it contradicts
  the claim, a lesser sentence that happens to hold the wrong number is no support;
* every name (capitalised word) in the claim appears in the cited chunk or its article's title (a sentence saying
  "he said" is supported by a chunk that names him a sentence earlier; dates, acronyms of common nouns and the
  generic words of a name whose distinctive part is there are no names: `_unnamed_words`), and words the claim
  puts in quotation marks appear in the supporting sentence as written;
* the sentence is more than an article's headline repeated (true, but never an answer).

Sentences with no surviving citation are dropped. A sentence the model forgot to cite, or cited only with numbers
that do not exist, is checked against every passage and, when one supports it, gets that citation (counted as
`citations_added`; the bad numbers still count as dropped). Surviving citations are
renumbered 1..n in order of appearance, and each carries the verbatim supporting sentence as its `quote`.

Calibration: the threshold was first chosen on hand-made claims (`tests/integration/test_llm_verification.py`: true
paraphrases score 0.57-0.98, topical made-up claims 0.17-0.46), then lowered to 0.46 on the train split of the
labelled set, where rewordings score from 0.45 and the contradiction checks, not the score, catch fabrications
(which share most words with their source). The contradiction checks were tuned on the train
split of the labelled verification set (`evaluation/datasets/verification.jsonl`, see docs/verification.md),
chosen on its dev split and measured on its test split. A drop reason compares each score with its own bar ("best
sentence scored 0.41 < 0.46; best two sentences scored 0.55 < 0.61").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from ingest.sentences import split_sentences
from newsdesk.text import CALENDAR_WORDS, CAPITALISED_WORD, DAY_NAMES, MONTH_NAMES
from retrieval.answer import Citation
from retrieval.clauses import unsupported_clause, unsupported_consequence
from retrieval.negation import denied, polarity_flip, speakers
from retrieval.numbers import number_problem
from retrieval.parsing import shared_parser
from retrieval.polarity import conflict as polarity_conflict
from retrieval.polarity import polarities
from retrieval.roles import crossed, swapped
from retrieval.substitutions import substituted
from retrieval.syntax import crossed_clauses, one_name, renamed, role_swap, roles_agree, same_slot
from retrieval.types import RetrievedChunk
from retrieval.words import STOPWORDS, abbreviates, content_stems, fold, same_entity
from retrieval.words import WORD as _WORD

SEMANTIC_WEIGHT = 0.5
THRESHOLD = 0.46
# Two sentences hold more words, so they overlap more with anything; they must clear a higher bar.
PAIR_MARGIN = 0.15
# Two sentences may support a claim together when at most PAIR_REACH - 1 sentences lie between them: models join
# what an article says a few sentences apart ("The February 1974 election ..." and "Labour emerged with ...").
PAIR_REACH = 3
PAIR_GAIN = 0.1
# A "sentence" with fewer content words is not a claim ("Yes.", "HACKED."): one shared word would score as support.
MIN_CONTENT_WORDS = 2
CLAUSES_SEE_PASSAGE = True
NUMBER_REASON = "number: "
# What a second sentence can supply when the best one lacks it: a number, a clause, a negation.
_PAIR_MAY_MEND = (NUMBER_REASON, "invented: ", "the claim is negated")

# [1], [1, 2], [1][2], [1-3]; also tolerate "[Passage 2]" and "[Source 2]", which small models like to write.
_CITATION = re.compile(r"\[\s*(?:passage|source|doc(?:ument)?)?\s*(\d+(?:\s*(?:,|;|-|–|and)\s*\d+)*)\s*\]", re.I)
_LEADING_MARKERS = re.compile(r"^(?:\s*\[\s*(?:passage|source|doc(?:ument)?)?\s*[\d\s,;–-]+\])+[\s.]*", re.I)
_LIST_PREFIX = re.compile(r"^\s*(?:[-*•]+|\d+[.)])\s+")
_LABEL_PREFIX = re.compile(r"^\s*\**\s*(?:final\s+)?answer\s*\**\s*:\s*\**\s*", re.I)
_NAME = CAPITALISED_WORD
_QUOTED = re.compile(r"[\"“”]([^\"“”]{3,}?)[\"“”]")
_DECLINE = re.compile(
    r"\b(?:passages?|articles?|context|texts?|sources?|documents?)\b.{0,60}?"
    r"\b(?:do(?:es)?\s*n[o']?t|not|no|neither)\b.{0,40}?"
    r"\b(?:answer|say|mention|contain|provide|include|specify|state|discuss|address)"
    r"|\b(?:cannot|can['’]t|unable to)\s+(?:answer|determine|find|tell|say)"
    r"|\bnot\s+(?:enough|sufficient)\s+information|\bno\s+(?:relevant\s+)?information\b",
    re.I,
)


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


# Names news writes in more than one way: "British troops" are "UK troops", the "Liberal Democrats" the "Lib Dems".
# Never "us" as an alias: the haystack is lower case, and the pronoun would support "America".
_ALIASES: dict[str, frozenset[str]] = {
    name: frozenset(others.split())
    for name, others in {
        "british": "uk britain britons", "britain": "uk british", "uk": "britain british", "britons": "uk british",
        "english": "england", "scottish": "scotland", "welsh": "wales", "irish": "ireland",
        "england": "english", "scotland": "scottish scots", "wales": "welsh", "ireland": "irish",
        "american": "usa america", "america": "usa american", "us": "america american usa",
        "usa": "america american", "democrats": "dems", "dems": "democrats", "liberal": "lib", "lib": "liberal",
        "tory": "conservative conservatives tories", "tories": "conservative conservatives tory",
        "conservative": "tory tories", "conservatives": "tory tories",
        "oscar": "academy", "oscars": "academy", "academy": "oscar oscars",
    }.items()
}  # fmt: skip


def _one_entity(claim: str, source: str, context: str, a: str, b: str) -> bool:
    """Folded name `a` of the claim and `b` of the source name one entity: an alias ("America", "US"), an
    abbreviation of the other side's words ("DWP" for "Department for Work and Pensions"; not "Unison" for "PCS",
    although the passage spells PCS out), or parts of one name in the passage ("Heath", "Edward")."""
    if b in _ALIASES.get(a, frozenset()) or a in _ALIASES.get(b, frozenset()):
        return True
    if abbreviates(a, _without(source, a)) or abbreviates(b, _without(claim, b)):
        return True
    acronym = any(re.search(rf"\b{re.escape(n.upper())}\b", f"{claim}\n{source}") for n in (a, b))
    return not acronym and same_entity(a, b, context)


def _without(text: str, name: str) -> str:
    return re.sub(rf"\b{re.escape(name)}\b", " ", text, flags=re.I)


_DEMONYM_ENDINGS = ("ians", "ian", "ans", "an", "ese", "ish", "is", "i")


def _name_supported(name: str, haystack_words: set[str]) -> bool:
    """Exact word, or a shared stem for demonyms and small spelling slips ("Ukrainian"/"Ukraine", "Zelensky")."""
    if name in haystack_words or f"{name}s" in haystack_words or f"{name}'s" in haystack_words:
        return True  # "MP" for "MPs", "Uefa" for "Uefa's"
    if _ALIASES.get(name, frozenset()) & haystack_words:
        return True
    if name.endswith("s") and name[:-1] in haystack_words:
        return True  # "Lib Dems" for "the Lib Dem plan"
    for suffix in _DEMONYM_ENDINGS:  # "Iranian" for "Iran", "Chinese" for "China"
        base = name.removesuffix(suffix)
        if (
            base != name
            and len(base) >= 4
            and any(w.startswith(base) for w in haystack_words if len(w) <= len(base) + 2)
        ):
            return True
    if len(name) < 5:
        return False
    prefix = name[: max(5, len(name) - 3)]
    return any(
        word.startswith(prefix) or (len(word) >= 5 and name.startswith(word[: max(5, len(word) - 3)]))
        for word in haystack_words
    )


_FIRST_NAME = re.compile(r"\b([A-Z][a-z]+)\s+([A-Z][a-z]+(?:-[A-Z][a-z]+)?)\b(?!\s+[A-Z])")


def _first_names(claim: str, passage: str) -> set[str]:
    """First names the model added to a surname the passage gives ("Jo Pavey" for "Pavey"): a model's knowledge,
    not an invention. Only one word before a surname the passage writes capitalised and never lower case (so not
    "Trusted Computing Group" for "group"), and only when the passage does not give another first name to it."""
    exempt: set[str] = set()
    for match in _FIRST_NAME.finditer(claim):
        first, surname = match.group(1), match.group(2)
        if match.start() == 0 and first.lower() in STOPWORDS:
            continue
        written = re.findall(rf"\b{re.escape(surname)}\b", passage, flags=re.I)
        if written and all(w == surname for w in written) and not re.search(rf"\b[A-Z][a-z]+\s+{surname}\b", passage):
            exempt.add(fold(first))
    return exempt


# Capitalised words of an institution's name that say what kind of thing it is, not which one: "the University of
# Michigan" is "Michigan", "the New York Public Library" is "the New York library", "the Games" are the Olympics.
# Words that tell one institution from another ("Arts" Council, "Foreign" Office, "Royal" Institution) are not here.
GENERIC_NAME_WORDS = frozenset(
    "university college school library museum gallery public council games institute hospital centre center "
    "stadium theatre act bill court committee commission agency authority".split()
)
# Capitalised words that tell no one apart: titles ("Mayor John Smith" is named by "Smith"), and the "Royal" of the
# "Royal Institution" or "Royal Society".
_UNDISTINCTIVE = frozenset("mr mrs ms dr sir lord lady mayor president minister professor new royal national".split())
# Acronyms of common nouns, no names: "PC activity" for "computer activity".
_COMMON_ACRONYMS = frozenset({"pc", "pcs", "tv", "cd", "cds", "dvd", "dvds", "ceo"})
_NAME_RUN = re.compile(r"[A-Z][\w'’&.-]*(?:\s+(?:(?:of|for|and|the|de|&)\s+)?[A-Z][\w'’&.-]*)*")
_NAME_PART = re.compile(r"[A-Z][\w'’&.-]*")


_RELATIVE_MONTH = re.compile(rf"\b(?:{'|'.join(sorted(MONTH_NAMES))}|month)\b", re.I)
_RELATIVE_DAY = re.compile(rf"\b(?:{'|'.join(sorted(DAY_NAMES))}|yesterday|today|tomorrow|week|weekend)\b", re.I)


def _dated(word: str, passage: str) -> bool:
    """The passage dates something in the unit `word` names (a month, a day), so a date in the claim restates or
    changes a date the passage gives (the number and substitution checks compare those), rather than adding one:
    "in December" for "last month" is a restatement, "in November" with no date of that kind in the passage is an
    invented detail."""
    return bool((_RELATIVE_DAY if word in DAY_NAMES else _RELATIVE_MONTH).search(passage))


# Countries a model spells out where news writes the short form (capitals only: "us" is also a pronoun).
_SPELLED_OUT = (
    (r"United\s+States", r"\b(?:US|U\.S\.|USA|America)\b"),
    (r"\bAmerican\b", r"\b(?:US|U\.S\.|USA)\b"),
    (r"United\s+Kingdom", r"\b(?:UK|U\.K\.|Britain)\b"),
)


def _unnamed_words(claim: str, passage: str) -> set[str]:
    """Capitalised claim words that name nothing the passage must hold (folded): month and day names of a date
    (the number and substitution checks compare dates; "May" in "Theresa May" is still a name), acronyms of common
    nouns, and generic words of an institution's name ("University", "Public") when a distinctive part of the name
    is in the passage, capitalised ("Michigan"), or when the generic word stands alone ("pulled out of the Games").
    Only generic words are excused, never a name's distinctive part: "Mayor John Smith said" still needs "Smith"."""
    exempt = {w for w in _COMMON_ACRONYMS if re.search(rf"\b{w.upper()}\b", claim)}
    for spelled, short in _SPELLED_OUT:
        if re.search(spelled, claim) and re.search(short, passage):
            exempt.update(fold(w) for w in re.findall(r"[A-Z][a-z]+", spelled))
    for token in shared_parser().parse(claim):
        if token.lower_ in CALENDAR_WORDS and token.ent_type_ == "DATE" and _dated(token.lower_, passage):
            exempt.add(token.lower_)
    for run in _NAME_RUN.finditer(claim):
        words = [re.sub(r"['’]s$", "", w).strip(".'’") for w in _NAME_PART.findall(run.group(0))]
        generic = [fold(w) for w in words if fold(w) in GENERIC_NAME_WORDS]
        if not generic:
            continue
        distinctive = [w for w in words if fold(w) not in GENERIC_NAME_WORDS | STOPWORDS | _UNDISTINCTIVE]
        if any(re.search(rf"\b{re.escape(w)}\b", passage) for w in distinctive):
            exempt.update(generic)  # written as the passage writes a name: capitalised
        elif (
            not distinctive
            and len(generic) == len([w for w in words if fold(w) not in STOPWORDS]) == 1
            and (claim[: run.start()].rstrip().lower().endswith("the") or fold(words[0]) == "the")
        ):
            exempt.update(generic)  # "the Games", "the Council": a reference back, not a new name
    return exempt


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


@dataclass(frozen=True)
class _Span:
    """A candidate support: one sentence, or two adjacent ones (`parts` holds each sentence's own span)."""

    start: int
    end: int
    parts: tuple[tuple[int, int], ...]

    @property
    def is_pair(self) -> bool:
        return len(self.parts) > 1

    def text(self, chunk_text: str) -> str:
        """The sentences' own words (without any sentence between two that are not adjacent)."""
        return " ".join(chunk_text[s:e] for s, e in self.parts)


def contradiction(claim: str, text: str, span: _Span, context: str = "") -> str | None:
    """Why the span of `text` cannot support the claim although it may score like support, or None.

    Each check targets an error embeddings and word overlap do not see: numbers (each in the sentence that supports
    its part of the claim), quoted words, polarity, swapped roles and substituted words.
    """
    sentences = [text[s:e] for s, e in span.parts]
    joined = span.text(text)
    reason = number_problem(claim, sentences)
    if reason:
        return NUMBER_REASON + reason
    claim_quotes = quoted(claim)
    if claim_quotes:
        folded = " ".join(fold(joined).split())
        if not all(q in folded for q in claim_quotes):
            return "quoted words not in the passage"
    # Roles per sentence too: in two sentences a name can sit on both sides of the verb and hide the swap.
    views = sentences if len(sentences) == 1 else [*sentences, joined]
    swap = next((r for r in (role_swap(claim, view) or _order_swap(claim, view, context) for view in views) if r), None)
    return (
        polarity_conflict(claim, joined)
        or polarity_flip(claim, joined)
        or denied(claim, joined)
        or _neighbour_negates(claim, text, span)
        or _prefixed("swapped roles: ", swap or crossed_clauses(claim, context or joined))
        or _prefixed("substitution: ", substituted(claim, joined, context, partial(same_slot, claim, joined)))
        or _prefixed(
            "substitution: ", renamed(claim, joined, partial(_one_entity, claim, joined, f"{context}\n{joined}"))
        )
        or _prefixed("invented: ", unsupported_clause(claim, joined, context if CLAUSES_SEE_PASSAGE else ""))
        or _prefixed("invented consequence: ", unsupported_consequence(claim, joined))
    )


_ORDER_NAMES = re.compile(r"^(\S+) and (\S+) trade places")


def _order_swap(claim: str, source: str, context: str) -> str | None:
    """The word-order role checks (`retrieval.roles`), vetoed where the parse reads the names' roles as agreeing
    or the two "names" are parts of one ("Sylvester Stallone's mother")."""
    reason = swapped(claim, source)
    if reason:
        match = _ORDER_NAMES.match(reason)
        if match:
            first, second = match.groups()
            if one_name(claim, first, second) or one_name(source, first, second):
                return None
            if roles_agree(claim, source, [first, second]):
                return None
        return reason
    return crossed(claim, source, context)


NEIGHBOUR_FLIPS = 2


def _neighbour_negates(claim: str, text: str, span: _Span) -> str | None:
    """A sentence next to the support that negates what the claim affirms: "Scotland Yard confirmed that Sizzla
    was one of them" from "... examining lyrics by eight artists. It would not confirm that Sizzla was among
    them." Only a sentence that negates several of the claim's words counts (one shared word is a coincidence)."""
    spans = split_sentences(text)
    inside = [n for n, (s, e) in enumerate(spans) if s >= span.start and e <= span.end]
    if not inside:
        return None
    claim_pol = polarities(claim)
    for n in (inside[0] - 1, inside[-1] + 1):
        if not 0 <= n < len(spans):
            continue
        source_pol = polarities(text[spans[n][0] : spans[n][1]])
        flipped = [
            s for s in claim_pol.keys() & source_pol.keys() if source_pol[s] == {True} and claim_pol[s] == {False}
        ]
        if len(flipped) >= NEIGHBOUR_FLIPS:
            return f"the next sentence negates what the claim affirms ({sorted(flipped)[0]})"
        # The claim names someone the support does not, and the sentence that names them denies it: "Ellsmore
        # agreed that monitoring harms ..." from "Advocates say monitoring harms ... 'That is not the case,' said
        # Ellsmore."
        neighbour = text[spans[n][0] : spans[n][1]]
        unsupported_names = names(claim) - set(_WORD.findall(fold(span.text(text))))
        speaking = unsupported_names & speakers(neighbour) if unsupported_names else set()
        if speaking and denied(claim, neighbour):
            return f"the next sentence, by {sorted(speaking)[0]}, denies what the claim affirms"
    return None


def _prefixed(prefix: str, reason: str | None) -> str | None:
    return prefix + reason if reason else None


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
    def _candidates(self, chunk: RetrievedChunk) -> tuple[list[_Span], list[tuple[int, int]]]:
        """Sentence spans of the chunk, then adjacent pairs (which remember where each sentence ends), then pairs a
        sentence or two apart. The last are not embedded again: their vector is the mean of their two sentences'
        (returned as pairs of indices into the singles), so looking further costs no model time."""
        spans = split_sentences(chunk.text)
        singles = [_Span(s, e, ((s, e),)) for s, e in spans]
        pairs = [_Span(spans[i][0], spans[i + 1][1], (spans[i], spans[i + 1])) for i in range(len(spans) - 1)]
        gapped = [(i, j) for i in range(len(spans)) for j in range(i + 2, min(len(spans), i + 1 + PAIR_REACH))]
        far = [_Span(spans[i][0], spans[j][1], (spans[i], spans[j])) for i, j in gapped]
        return singles + pairs + far, gapped

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
        candidates: list[_Span],
        vectors: np.ndarray,
    ) -> tuple[Support | None, str]:
        """The best span of the chunk that supports the claim, or None and the reason it failed.

        Spans are tried best score first, one sentence before two: the first one that clears its bar and passes
        every contradiction check supports the claim. When none does, the reason is the best-scoring span's.
        """
        if len(content_stems(claim)) < MIN_CONTENT_WORDS:
            return None, "too short to be a claim"
        haystack = set(_WORD.findall(fold(f"{chunk.title}\n{chunk.text}")))
        context = f"{chunk.title}\n{chunk.text}"
        missing = [
            name
            for name in sorted(names(claim) - _first_names(claim, context))
            if not _name_supported(name, haystack) and not abbreviates(name, context)
        ]
        if missing:  # only then look for capitalised words that name nothing (it parses the claim)
            unnamed = _unnamed_words(claim, context)
            missing = [name for name in missing if name not in unnamed]
        if missing:
            return None, f"name not in passage: {missing[0]}"
        scored = [
            (self._combine(float(claim_vector @ vector), claim, span.text(chunk.text)), span)
            for span, vector in zip(candidates, vectors, strict=True)
        ]
        bars = {False: self.threshold, True: self.threshold + PAIR_MARGIN}
        failure: str | None = None
        contradicted: tuple[int, int] | None = None  # the best sentence, when it cleared its bar and contradicts
        contradicted_score = 0.0
        for is_pair in (False, True):  # prefer one sentence; two only when one is not enough
            # A swap or a substitution in the best sentence is mended by a second sentence only when the claim is
            # plainly about both (the pair scores well above the sentence): else it is about that one sentence.
            mendable = not failure or failure.split(": ", 1)[1].startswith(_PAIR_MAY_MEND)
            ranked = sorted((c for c in scored if c[1].is_pair == is_pair), key=lambda c: -c[0])
            for score, span in ranked:
                if score < bars[is_pair] or (is_pair and not mendable and score < contradicted_score + PAIR_GAIN):
                    break
                if is_pair and contradicted is not None and contradicted not in span.parts:
                    continue  # the claim is about the sentence that contradicts it: others are no support
                reason = contradiction(claim, chunk.text, span, context)
                if reason is None:
                    return Support(chunk_index, span.start, span.end, score), ""
                if not is_pair:
                    contradicted, contradicted_score = span.parts[0], score
                label = "two sentences" if is_pair else "sentence"
                failure = f"{failure}; " if failure else ""
                failure += f"best {label} ({score:.2f}): {reason}"
                # Only the best-matching sentence is tried: when it contradicts the claim, the claim is about what
                # it says, and a lesser sentence that happens to share the wrong number is no support. Pairs go on
                # while a pair only lacks a number (another pair may hold it, in the sentence about it).
                if not (is_pair and reason.startswith(NUMBER_REASON)):
                    break
        if failure:
            return None, failure
        parts = []
        for is_pair, label in ((False, "best sentence"), (True, "best two sentences")):
            top = max((sc for sc, span in scored if span.is_pair == is_pair), default=None)
            if top is not None:
                parts.append(f"{label} scored {top:.2f} < {bars[is_pair]:.2f}")
        return None, "; ".join(parts) or "no sentence of the passage supports it"

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
        planned = {i: self._candidates(chunks[i]) for i in sorted(needed)}
        candidates = {i: spans for i, (spans, _) in planned.items()}
        texts = [check.claim for check in checks]
        embedded = {i: len(spans) - len(gapped) for i, (spans, gapped) in planned.items()}
        for i, spans in candidates.items():
            texts.extend(span.text(chunks[i].text) for span in spans[: embedded[i]])
        vectors = np.asarray(self._embedder.embed_documents(texts), dtype=np.float32) if texts else np.zeros((0, 1))
        claim_vectors = vectors[: len(checks)]
        chunk_vectors: dict[int, np.ndarray] = {}
        offset = len(checks)
        for i, (_spans, gapped) in planned.items():
            own = vectors[offset : offset + embedded[i]]
            offset += embedded[i]
            if gapped:
                far = np.stack([own[a] + own[b] for a, b in gapped])
                far /= np.maximum(np.linalg.norm(far, axis=1, keepdims=True), 1e-12)
                own = np.concatenate([own, far.astype(np.float32)])
            chunk_vectors[i] = own

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

    def drop(
        self, result: VerificationResult, indices: Iterable[int], reason: str, chunks: Sequence[RetrievedChunk]
    ) -> VerificationResult:
        """`result` with the kept checks at `indices` (into `result.checks`) dropped for `reason`, renumbered."""
        for i in indices:
            check = result.checks[i]
            check.supports = []
            check.added = False
            check.reason = reason
        return self._assemble(result.checks, chunks, declined=result.declined)

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
