"""What the sentence selector sees: one row of numbers per candidate sentence of the retrieved chunks.

The extractive answerer quotes one sentence (sometimes two). Which one is a learned decision (see
`retrieval/selector.py` and `evaluation/train_selector.py`); this module only turns (question, retrieved chunks)
into features the store already has or can compute cheaply: no model call beyond the question's own vector, because
sentence vectors are stored at ingest. The same function builds the training rows and the rows seen at answer
time, so what was fitted is exactly what runs.

Feature families (names in `FEATURE_NAMES`):
- similarity: cosine to the question, its gap to the best candidate, its rank; the neighbours' cosines;
- words: IDF-weighted coverage of the question's terms, sentence-level BM25, how much of the sentence is new
  relative to the question (a sentence that restates the question does not answer it), coverage by the sentence
  with its neighbours, overlap with the headline (ledes restate headlines);
- answer type: what the question asks for (a figure, a date, a name, a speaker's words, a reason, the author)
  and whether the sentence holds it outside the question's own words;
- attribution: the sentence carries the asked-about speaker's words (named with a speech verb, "he said" after
  them, or inside a quotation they opened);
- place: the chunk's fused rank and scores, the article's rank. Not the sentence's position in its article: the
  question writers were asked to favour facts beyond the first two sentences, so a position prior learned from
  the bank would be an artifact of how it was written (dropping it cost about 2.6 dev points in an early
  experiment; keeping it made the answerer skip a one-sentence story's only answer);
- question-level evidence for abstention: names of the question missing from everything retrieved.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from ingest.sentences import split_sentences
from newsdesk.text import CALENDAR_WORDS, QUERY_STOPWORDS
from retrieval.heuristic_score import FRAMING_STEMS, STOP_STEMS, heuristic_scores
from retrieval.numbers import quantities
from retrieval.question import QuestionInfo
from retrieval.stemming import porter_stem
from retrieval.types import RetrievedChunk

_SPEECH = re.compile(
    r"\b(?:said|says|say|told|tells|added|adds|noted|notes|stated|states|argued|argues|warned|warns|explained|"
    r"according to|insisted|claimed|declared|announced|acknowledged|described|urged|called|calls|replied|"
    r"joked|admitted|wrote|asked|believes|thinks|insists|maintained|revealed|suggested|commented)\b",
    re.IGNORECASE,
)
_PRONOUN_SPEECH = re.compile(
    r"\b(?:he|she|they)\s+(?:\w+\s+)?(?:said|says|told|added|noted|argued|warned|explained|insisted|claimed|"
    r"declared|replied|admitted|wrote)\b|\b(?:said|says|added|told)\s+(?:he|she)\b",
    re.IGNORECASE,
)
_NUMBERISH = re.compile(
    r"\d|\b(?:million|billion|trillion|thousand|hundred|percent|per cent|half|third|quarter|dozen|two|three|four|"
    r"five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|doubled|tripled|fold)\b|[%£$€¥]",
    re.IGNORECASE,
)
_DATEISH = re.compile(
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|"
    r"jun|jul|aug|sep|sept|oct|nov|dec|monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|"
    r"tomorrow|last week|next week|last year|next year|last month|next month|(?:19|20)\d\d)\b",
    re.IGNORECASE,
)
_REASON = re.compile(
    r"\b(?:because|due to|owing to|as a result|after|amid|following|in order to|so that|so as to|since|thanks to|"
    r"blamed|caused|led to|aimed at|reason|in a bid to|to help|to avoid|designed to|means|fears?|concerns?)\b",
    re.IGNORECASE,
)
_ANAPHORIC_START = re.compile(
    r"^[\"“‘']?(?:he|she|it|they|this|that|these|those|its|their|his|her|there|most notable|some of|many of|"
    r"in other words|but|and|however|also|such|the move|the decision|the deal|the company|the firm)\b",
    re.IGNORECASE,
)
_PROPER = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:[A-Z][a-z]+)*\b|\b[A-Z]{2,}\b")
# Retrieval drops these as function words, but for choosing a sentence they carry the question's point: "who voted
# AGAINST", "which member is MOST notable", "what happened BEFORE the vote", "who did NOT attend".
_POINT_WORDS = frozenset(
    "against most more few before after not no only over under up down off out between during again once same own "
    "until below above".split()
)
# Words by which a question points at the text itself ("the NATO chief mentioned in the article"): an answer never
# needs to repeat them.
_META_WORDS = frozenset("article articles mention mentioned mentions".split())
_SELECTOR_STOPWORDS = (QUERY_STOPWORDS - _POINT_WORDS) | _META_WORDS
_YEAR = re.compile(r"(?:19|20)\d\d")
_DIGITS = re.compile(r"\d[\d,.:/-]*\d|\d")
_QUOTE_CHARS = ("“", '"', "”", "‘")
_WORD = re.compile(r"[\w’']+")
_SPACES = re.compile(r"\s+")
_WHY = re.compile(r"^\s*(?:why|for what reason|what (?:was|is|were|are) the reason)", re.IGNORECASE)
_HOW = re.compile(r"^\s*how\b(?!\s+(?:much|many|big|large|long|old|far|high|low|fast|often))", re.IGNORECASE)
# The same stem lists as the previous answerer (whose score is one of the features), kept in one place.
_STOP_STEMS = STOP_STEMS
GENERIC_STEMS = FRAMING_STEMS

FEATURE_NAMES: tuple[str, ...] = (
    "cos",
    "cos_gap",
    "cos_rank",
    "cos_prev",
    "cos_next",
    "lex_prev",
    "lex_next",
    "bm25_prev",
    "bm25_next",
    "prev_is_top_lex",
    "next_is_top_lex",
    "prev_new_names",
    "cos_in_article_gap",
    "lex",
    "lex_gap",
    "bm25",
    "bm25_gap",
    "novelty",
    "window_cover",
    "title_overlap",
    "n_words",
    "q_terms",
    "wants_number",
    "new_number",
    "wants_date",
    "has_date",
    "wants_person",
    "new_names",
    "wants_speaker",
    "attributed",
    "speaker_named",
    "speech_verb",
    "quoted",
    "wants_reason",
    "reason_cue",
    "wants_how",
    "wants_author",
    "has_author",
    "anaphoric",
    "chunk_rank",
    "article_rank",
    "chunk_score",
    "chunk_dense",
    "chunk_lexical_rank",
    "article_best_cos",
    "names_missing",
    "topic_missing",
    "type_match",
    "type_match_lex_rank",
    "new_quantities",
    "has_currency",
    "heuristic",
    "heuristic_gap",
    "heuristic_rank",
)

# Features whose effect on "this sentence answers" has a known direction; the trees are constrained to respect it,
# which keeps a model fitted on a few hundred questions from learning accidents of its training articles.
MONOTONE: dict[str, int] = {
    "cos": 1,
    "lex": 1,
    "bm25": 1,
    "window_cover": 1,
    "type_match": 1,
    "attributed": 1,
    "cos_gap": -1,
    "lex_gap": -1,
    "bm25_gap": -1,
    "names_missing": -1,
    "topic_missing": -1,
    "type_match_lex_rank": -1,
    "heuristic": 1,
    "heuristic_gap": -1,
}


def question_stems(text: str) -> list[str]:
    """The question's content stems for sentence choice, in order, without duplicates (see `_POINT_WORDS`)."""
    out: dict[str, None] = {}
    for raw in _WORD.findall(text.lower()):
        word = raw.strip("'’").replace("’", "'").removesuffix("'s")
        if len(word) >= 2 and word not in _SELECTOR_STOPWORDS and "'" not in word:
            out.setdefault(porter_stem(word), None)
    return list(out)


def _new_names(text: str, question_words: set[str]) -> set[str]:
    names = {m.group(0).lower() for m in _PROPER.finditer(text)}
    return names - question_words - CALENDAR_WORDS  # capitalised, but no name a "who" asks for


def stems_of(text: str) -> list[str]:
    return [porter_stem(w.strip("'’").removesuffix("’s").removesuffix("'s")) for w in _WORD.findall(text)]


def one_line(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


@dataclass
class Candidate:
    """One sentence of a retrieved chunk, with the vector stored at ingest (or embedded now)."""

    chunk: RetrievedChunk
    rank: int  # the chunk's fused rank
    index: int  # sentence number within its chunk
    start: int  # offsets into the chunk text
    end: int
    text: str
    stem_list: list[str]
    vector: np.ndarray | None = None
    similarity: float = 0.0

    @property
    def stems(self) -> frozenset[str]:
        return frozenset(self.stem_list)


def build_candidates(chunks: list[RetrievedChunk], exclude: set[str]) -> list[Candidate]:
    out: list[Candidate] = []
    for rank, chunk in enumerate(chunks):
        spans = chunk.sentences or split_sentences(chunk.text)
        vectors = chunk.sentence_vectors if chunk.sentences else None
        for i, (s, e) in enumerate(spans):
            text = chunk.text[s:e]
            if one_line(text) in exclude or len(text) < 3:
                continue
            vec = vectors[i].astype(np.float32) if vectors is not None and i < len(vectors) else None
            out.append(Candidate(chunk, rank, i, s, e, text, stems_of(text), vec))
    return out


def speaker_turns(speaker: str, cands: list[Candidate]) -> set[int]:
    """Indices of candidates that carry the speaker's words.

    Walks each article's retrieved sentences in reading order, tracking who is speaking: a sentence naming the
    speaker with a speech verb starts their turn, "he said" keeps it, another name with a speech verb ends it;
    sentences inside a quotation opened during the speaker's turn are theirs too ("We have a strong army.").
    """
    attributed: set[int] = set()
    order = sorted(range(len(cands)), key=lambda i: (cands[i].chunk.article_id, cands[i].chunk.start + cands[i].start))
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
            turn = speaker in stems_of(c.chunk.title) and bool(_PRONOUN_SPEECH.search(c.text))
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


def names_missing(info: QuestionInfo, chunks: list[RetrievedChunk]) -> bool:
    """True when a name the question is about (France, Macron, Germany) appears in no retrieved chunk or title."""
    names = [n for n in info.names if n.lower() not in {"mr", "mrs", "ms", "dr"}]
    if not names:
        return False
    haystack: set[str] = set()
    compact = ""
    for c in chunks:
        haystack |= set(stems_of(c.text)) | set(stems_of(c.title))
        compact += " " + (c.title + " " + c.text).lower().replace(" ", "")
    return any(not (set(stems_of(n)) <= haystack) and n.lower() not in compact for n in names)


def topic_missing(info: QuestionInfo, chunks: list[RetrievedChunk]) -> float:
    """Share of the question's topic words (beyond names and framing verbs) found in no retrieved chunk."""
    topic = [s for s in info.stems if s not in info.name_stems and s not in _STOP_STEMS | GENERIC_STEMS]
    if not topic:
        return 0.0
    haystack: set[str] = set()
    for c in chunks:
        haystack |= set(stems_of(c.text))
    return sum(1 for s in topic if s not in haystack) / len(topic)


def _new_figures(text: str, question: str) -> int:
    return sum(1 for d in _DIGITS.findall(text) if not _YEAR.fullmatch(d) and d not in question)


def featurize(
    info: QuestionInfo,
    cands: list[Candidate],
    chunks: list[RetrievedChunk],
    authors: dict[str, str],
) -> np.ndarray:
    """The (candidates x FEATURE_NAMES) matrix; candidates must already carry `similarity`."""
    n = len(cands)
    x = np.zeros((n, len(FEATURE_NAMES)), dtype=np.float32)
    if not n:
        return x
    col = {name: i for i, name in enumerate(FEATURE_NAMES)}
    speaker = porter_stem(info.speaker.lower()) if info.speaker else None
    q_stems = question_stems(info.text)
    if speaker:  # "what did X call Putin": X and "call" are handled by attribution; Putin is the content
        content_q = [s for s in q_stems if s != speaker and s not in GENERIC_STEMS] or q_stems
    else:
        content_q = q_stems
    question_set = set(q_stems) | set(info.stems) | _STOP_STEMS
    question_words = {w.lower().strip("'’") for w in _WORD.findall(info.text)}

    # IDF over the candidate sentences: what distinguishes sentences here, not in the whole collection.
    df = Counter(s for c in cands for s in c.stems)
    idf = {s: math.log(1 + (n - df.get(s, 0) + 0.5) / (df.get(s, 0) + 0.5)) for s in content_q}
    weights = {s: idf[s] * (2.0 if s in info.name_stems else 1.0) for s in content_q}
    total = sum(weights.values()) or 1.0
    avg_len = sum(len(c.stem_list) for c in cands) / n

    by_chunk: dict[int, dict[int, Candidate]] = {}
    for c in cands:
        by_chunk.setdefault(id(c.chunk), {})[c.index] = c
    attributed = speaker_turns(speaker, cands) if speaker else set()
    article_order: list[str] = []
    for chunk in chunks:
        if chunk.article_id not in article_order:
            article_order.append(chunk.article_id)
    article_best: dict[str, float] = {}
    for c in cands:
        article_best[c.chunk.article_id] = max(article_best.get(c.chunk.article_id, -1.0), c.similarity)
    missing_names = float(names_missing(info, chunks))
    missing_topic = topic_missing(info, chunks)
    why = bool(_WHY.search(info.text))
    how = bool(_HOW.search(info.text))

    sims = np.array([c.similarity for c in cands], dtype=np.float32)
    order = np.argsort(-sims)
    sim_rank = np.empty(n, dtype=np.float32)
    sim_rank[order] = np.arange(n, dtype=np.float32)
    lex = np.zeros(n, dtype=np.float32)
    bm25 = np.zeros(n, dtype=np.float32)
    for i, c in enumerate(cands):
        lex[i] = sum(w for s, w in weights.items() if s in c.stems) / total
        tf = Counter(c.stem_list)
        norm = 1.2 * (0.25 + 0.75 * len(c.stem_list) / (avg_len or 1.0))
        bm25[i] = sum(idf[s] * tf[s] * 2.2 / (tf[s] + norm) for s in content_q if s in tf)

    position = {id(c): i for i, c in enumerate(cands)}
    asked_quantities = quantities(info.text)
    top_lex = float(lex.max()) - 1e-6
    for i, c in enumerate(cands):
        row = x[i]
        row[col["cos"]] = c.similarity
        row[col["cos_gap"]] = sims.max() - c.similarity
        row[col["cos_rank"]] = math.log1p(sim_rank[i])
        neighbours = by_chunk[id(c.chunk)]
        prev, nxt = neighbours.get(c.index - 1), neighbours.get(c.index + 1)
        row[col["cos_prev"]] = prev.similarity if prev else 0.0
        row[col["cos_next"]] = nxt.similarity if nxt else 0.0
        # The sentence that restates the question often introduces the one that answers it (or follows it).
        pi, ni = position.get(id(prev), -1), position.get(id(nxt), -1)
        row[col["lex_prev"]] = lex[pi] if pi >= 0 else 0.0
        row[col["lex_next"]] = lex[ni] if ni >= 0 else 0.0
        row[col["bm25_prev"]] = bm25[pi] if pi >= 0 else 0.0
        row[col["bm25_next"]] = bm25[ni] if ni >= 0 else 0.0
        row[col["prev_is_top_lex"]] = pi >= 0 and lex[pi] >= top_lex
        row[col["next_is_top_lex"]] = ni >= 0 and lex[ni] >= top_lex
        row[col["prev_new_names"]] = min(len(_new_names(prev.text, question_words)), 4) if prev else 0
        row[col["cos_in_article_gap"]] = article_best[c.chunk.article_id] - c.similarity
        row[col["lex"]] = lex[i]
        row[col["lex_gap"]] = lex.max() - lex[i]
        row[col["bm25"]] = bm25[i]
        row[col["bm25_gap"]] = bm25.max() - bm25[i]
        content = [s for s in c.stems if s not in _STOP_STEMS]
        row[col["novelty"]] = (sum(1 for s in content if s not in question_set) / len(content)) if content else 0.0
        window = set(c.stems) | (prev.stems if prev else set()) | (nxt.stems if nxt else set())
        row[col["window_cover"]] = sum(w for s, w in weights.items() if s in window) / total
        title = set(stems_of(c.chunk.title)) - _STOP_STEMS
        row[col["title_overlap"]] = (sum(1 for s in content if s in title) / len(content)) if content else 0.0
        row[col["n_words"]] = math.log1p(len(c.stem_list))
        row[col["q_terms"]] = len(content_q)
        row[col["wants_number"]] = info.wants_number
        row[col["new_number"]] = min(_new_figures(c.text, info.text), 3) + 0.5 * bool(_NUMBERISH.search(c.text))
        row[col["wants_date"]] = info.wants_date
        row[col["has_date"]] = bool(_DATEISH.search(c.text))
        row[col["wants_person"]] = info.wants_person
        new_names = _new_names(c.text, question_words)
        row[col["new_names"]] = min(len(new_names), 4)
        row[col["wants_speaker"]] = speaker is not None
        row[col["attributed"]] = i in attributed
        row[col["speaker_named"]] = bool(speaker and speaker in c.stems)
        row[col["speech_verb"]] = bool(_SPEECH.search(c.text))
        row[col["quoted"]] = any(q in c.text for q in _QUOTE_CHARS)
        row[col["wants_reason"]] = why
        row[col["reason_cue"]] = bool(_REASON.search(c.text))
        row[col["wants_how"]] = how
        row[col["wants_author"]] = info.wants_author
        author = authors.get(c.chunk.article_id)
        row[col["has_author"]] = bool(author and author.lower() in c.text.lower())
        row[col["anaphoric"]] = bool(_ANAPHORIC_START.match(c.text))
        row[col["chunk_rank"]] = c.rank
        row[col["article_rank"]] = article_order.index(c.chunk.article_id)
        row[col["chunk_score"]] = c.chunk.score
        row[col["chunk_dense"]] = c.chunk.dense_score if c.chunk.dense_score is not None else 0.0
        row[col["chunk_lexical_rank"]] = c.chunk.lexical_rank if c.chunk.lexical_rank is not None else 50
        row[col["article_best_cos"]] = article_best[c.chunk.article_id]
        row[col["names_missing"]] = missing_names
        row[col["topic_missing"]] = missing_topic
        # Figures in words as well as digits ("four million pounds"), parsed with their units by the verifier's parser.
        found = [q for q in quantities(c.text) if not (q.kind == "count" and _YEAR.fullmatch(q.text.strip()))]
        new = [q for q in found if not any(q.matches(asked) for asked in asked_quantities)]
        row[col["new_quantities"]] = min(len(new), 3)
        row[col["has_currency"]] = any(q.currency for q in found)
        # Does the sentence hold what the question asks for, outside the question's own words?
        asked = [
            (info.wants_number, row[col["new_number"]] >= 1 or row[col["new_quantities"]] >= 1),
            (info.wants_date, bool(row[col["has_date"]])),
            (info.wants_person and not info.wants_number, row[col["new_names"]] >= 1),
            (speaker is not None, i in attributed),
            (why, bool(row[col["reason_cue"]])),
        ]
        wanted = [has for asks, has in asked if asks]
        row[col["type_match"]] = (sum(wanted) / len(wanted)) if wanted else 0.5
    old = heuristic_scores(
        info,
        [c.text for c in cands],
        [c.stems for c in cands],
        sims,
        [c.rank for c in cands],
        attributed,
        [bool(x[i, col["has_author"]]) for i in range(n)],
    )
    old_rank = np.empty(n, dtype=np.float32)
    old_rank[np.argsort(-old)] = np.arange(n, dtype=np.float32)
    x[:, col["heuristic"]] = old
    x[:, col["heuristic_gap"]] = old.max() - old
    x[:, col["heuristic_rank"]] = np.log1p(old_rank)
    # Among the sentences that hold the asked-for type, how this one ranks by word overlap (0 = best).
    matching = [i for i in range(n) if x[i, col["type_match"]] >= 1]
    ranked = sorted(matching, key=lambda i: -lex[i])
    for r, i in enumerate(ranked):
        x[i, col["type_match_lex_rank"]] = math.log1p(r)
    for i in range(n):
        if i not in matching:
            x[i, col["type_match_lex_rank"]] = math.log1p(n)
    return x
