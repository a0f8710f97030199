"""Load and validate evaluation datasets (JSON Lines, one question a line).

The format is shared with `newsdesk ask --questions` and documented in `evaluation/README.md`:
`{"id", "question", "answer", "must_contain", "doc_id", "evidence", "kind"}`. A dataset is hand-written, so every
mistake is reported with its file and line number, all at once, before any question is asked: a typo found after
ten minutes of ingesting is ten minutes lost.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, cast

from evaluation.locators import Locator, LocatorError
from evaluation.splits import SPLITS, split_of

Kind = Literal["fact", "quote", "number", "date", "paraphrase", "multi", "unanswerable"]
KINDS: tuple[Kind, ...] = ("fact", "quote", "number", "date", "paraphrase", "multi", "unanswerable")
FIELDS = ("id", "question", "answer", "must_contain", "doc_id", "evidence", "kind")
# Optional: `evidence_at` (locators instead of verbatim evidence, for corpora that must not enter the repository),
# `split` (train/dev/test, by article), `near_miss` (an unanswerable question about a topic the corpus does cover),
# `about` (the article an unanswerable question was written from, which decides its split).
# `also_in`: other article ids that hold the same evidence verbatim (the corpus has near-identical copies of some
# stories; citing a copy is right too).
OPTIONAL_FIELDS = ("evidence_at", "split", "near_miss", "about", "also_in")
MAX_REPORTED_ERRORS = 20


class DatasetError(ValueError):
    """A dataset that cannot be used; `problems` lists one message per bad line ("FILE:LINE: what is wrong")."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = problems[:MAX_REPORTED_ERRORS]
        more = len(problems) - len(shown)
        text = "\n".join(shown) + (f"\n... and {more} more problems" if more > 0 else "")
        super().__init__(text)


@dataclass(frozen=True)
class Question:
    """One evaluation question. For `kind == "unanswerable"`, `answer`, `doc_id` and `evidence` are None."""

    id: str
    question: str
    answer: str | None
    must_contain: tuple[str, ...]
    doc_id: str | None
    evidence: str | None
    kind: Kind
    line: int = 0
    locators: tuple[Locator, ...] = ()
    split: str | None = None
    near_miss: bool = False
    about: str | None = None
    also_in: tuple[str, ...] = ()
    # The evidence sentences one by one (a "multi" answer spans two); `evidence` is them joined by a space.
    evidence_parts: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        return self.kind != "unanswerable"

    @property
    def gold_articles(self) -> frozenset[str]:
        """The article that answers the question and any verbatim copy of it in the corpus."""
        return frozenset(([self.doc_id] if self.doc_id else []) + list(self.also_in))

    @property
    def needs_corpus(self) -> bool:
        """True while the evidence is only a locator, not yet resolved from the corpus file."""
        return bool(self.locators) and self.evidence is None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "question": self.question,
            "answer": self.answer,
            "must_contain": list(self.must_contain),
            "doc_id": self.doc_id,
            "evidence": None if self.locators else self.evidence,
            "kind": self.kind,
        }
        if self.locators:
            out["evidence_at"] = [loc.to_dict() for loc in self.locators]
        if self.split is not None:
            out["split"] = self.split
        if self.near_miss:
            out["near_miss"] = True
        if self.about is not None:
            out["about"] = self.about
        if self.also_in:
            out["also_in"] = list(self.also_in)
        return out


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _validate(obj: object, where: str) -> tuple[Question | None, list[str]]:
    """Check one parsed line; return the question, or None and the reasons it is unusable."""
    if not isinstance(obj, dict):
        return None, [f"{where}: expected a JSON object, got {type(obj).__name__}"]
    problems: list[str] = []
    missing = [name for name in FIELDS if name not in obj]
    if missing:
        problems.append(f"{where}: missing field(s) {', '.join(missing)}")
    unknown = sorted(set(obj) - set(FIELDS) - set(OPTIONAL_FIELDS))
    if unknown:
        problems.append(
            f"{where}: unknown field(s) {', '.join(unknown)} (expected {', '.join(FIELDS + OPTIONAL_FIELDS)})"
        )
    if problems:
        return None, problems

    qid, question, kind = obj["id"], obj["question"], obj["kind"]
    answer, must, doc_id, evidence = obj["answer"], obj["must_contain"], obj["doc_id"], obj["evidence"]
    locators: list[Locator] = []
    raw_locators = obj.get("evidence_at") or []
    if not isinstance(raw_locators, list):
        problems.append(f"{where}: `evidence_at` must be a list of locators")
        raw_locators = []
    for raw in raw_locators:
        try:
            locators.append(Locator.from_dict(raw))
        except LocatorError as exc:
            problems.append(f"{where}: {exc}")
    split, near_miss, about = obj.get("split"), obj.get("near_miss", False), obj.get("about")
    if split is not None and split not in SPLITS:
        problems.append(f"{where}: `split` must be one of {', '.join(SPLITS)}, got {split!r}")
    if not isinstance(near_miss, bool):
        problems.append(f"{where}: `near_miss` must be true or false")
    if about is not None and not _is_text(about):
        problems.append(f"{where}: `about` must be an article id")
    also_in = obj.get("also_in") or []
    if not isinstance(also_in, list) or not all(_is_text(a) for a in also_in):
        problems.append(f"{where}: `also_in` must be a list of article ids")
        also_in = []
    home = doc_id if isinstance(doc_id, str) else about
    if split is not None and isinstance(home, str) and split in SPLITS and split_of(home) != split:
        problems.append(f"{where}: `split` {split!r} disagrees with the split of article {home!r} ({split_of(home)})")
    if not _is_text(qid):
        problems.append(f"{where}: `id` must be a non-empty string")
    if not _is_text(question):
        problems.append(f"{where}: `question` must be a non-empty string")
    if kind not in KINDS:
        problems.append(f"{where}: `kind` must be one of {', '.join(KINDS)}, got {kind!r}")
    if not isinstance(must, list) or not all(_is_text(m) for m in must):
        problems.append(f"{where}: `must_contain` must be a list of non-empty strings")
    if kind == "unanswerable":
        for name, value in (("answer", answer), ("doc_id", doc_id), ("evidence", evidence)):
            if value is not None:
                problems.append(f"{where}: `{name}` must be null for an unanswerable question")
        if isinstance(must, list) and must:
            problems.append(f"{where}: `must_contain` must be empty for an unanswerable question")
        if obj.get("evidence_at"):
            problems.append(f"{where}: `evidence_at` must be absent for an unanswerable question")
    elif kind in KINDS:
        for name, value in (("answer", answer), ("doc_id", doc_id)):
            if not _is_text(value):
                problems.append(f"{where}: `{name}` must be a non-empty string for a {kind} question")
        if not locators and not _is_text(evidence):
            problems.append(f"{where}: `evidence` (a verbatim sentence) or `evidence_at` (locators) is required")
        if locators and evidence is not None:
            problems.append(f"{where}: give `evidence` or `evidence_at`, not both")
        if any(loc.doc != doc_id for loc in locators):
            problems.append(f"{where}: every `evidence_at` locator must point into `doc_id` {doc_id!r}")
        if isinstance(must, list) and not must:
            problems.append(f"{where}: `must_contain` needs at least one string for a {kind} question")
    if problems:
        return None, problems
    return (
        Question(
            id=qid.strip(),
            question=question,
            answer=answer,
            must_contain=tuple(must),
            doc_id=doc_id,
            evidence=evidence,
            kind=cast(Kind, kind),
            locators=tuple(locators),
            split=split,
            near_miss=near_miss,
            about=about,
            also_in=tuple(also_in),
            evidence_parts=(evidence,) if isinstance(evidence, str) else (),
        ),
        [],
    )


def parse_dataset(lines: Iterable[str], source: str = "<dataset>") -> list[Question]:
    """Parse dataset lines; blank lines are skipped. Raises `DatasetError` listing every bad line."""
    questions: list[Question] = []
    problems: list[str] = []
    first_line: dict[str, int] = {}
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        where = f"{source}:{number}"
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        question, errors = _validate(obj, where)
        problems.extend(errors)
        if question is None:
            continue
        if question.id in first_line:
            problems.append(f"{where}: duplicate id {question.id!r} (first used on line {first_line[question.id]})")
            continue
        first_line[question.id] = number
        questions.append(Question(**{**question.__dict__, "line": number}))
    if not questions and not problems:
        problems.append(f"{source}: no questions (the file is empty)")
    if problems:
        raise DatasetError(problems)
    return questions


def load_dataset(path: str | Path) -> list[Question]:
    """Read and validate a dataset file; a missing or undecodable file is a `DatasetError` too."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError([f"{path}: no such file"]) from None
    except UnicodeDecodeError as exc:
        raise DatasetError([f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    except OSError as exc:
        raise DatasetError([f"{path}: cannot read ({exc.strerror})"]) from None
    return parse_dataset(text.splitlines(), source=str(path))


def check_evidence(questions: Iterable[Question], texts: Mapping[str, str]) -> list[str]:
    """Check that each answerable question's article exists and holds its `evidence` verbatim.

    `texts` maps article ids to article text (the corpus as loaded, or the store's cleaned text). Returns one
    problem per question, empty when the dataset is consistent. Also flags `must_contain` strings that appear
    neither in the evidence nor in the reference answer, a sign of a typo that no answer could ever match.
    """
    from evaluation.metrics import contains_phrase, fold_text

    problems: list[str] = []
    for q in questions:
        where = f"line {q.line} ({q.id})"
        if q.locators:
            try:
                q = resolve_one(q, texts)
            except LocatorError as exc:
                problems.append(f"{where}: {exc}")
                continue
        if not q.answerable or q.doc_id is None or q.evidence is None:
            continue
        text = texts.get(q.doc_id)
        if text is None:
            problems.append(f"{where}: article {q.doc_id!r} not found")
            continue
        # Each evidence sentence on its own: two located sentences are joined by a space that the article may
        # write as a paragraph break.
        for part in q.evidence_parts or (q.evidence,):
            if part not in text:
                hint = " (matches after folding quotes/whitespace)" if fold_text(part) in fold_text(text) else ""
                problems.append(f"{where}: evidence is not verbatim in {q.doc_id}{hint}: {part[:80]!r}")
        reference = f"{q.evidence} {q.answer or ''}"
        if not any(contains_phrase(reference, m) for m in q.must_contain):
            problems.append(f"{where}: no must_contain string occurs in the evidence or the reference answer")
    return problems


def load_corpus_texts(path: str | Path, ids: Iterable[str] | None = None) -> dict[str, str]:
    """Read `id` -> `text` from an article JSONL corpus (only `ids` when given), for `check_evidence`."""
    wanted = set(ids) if ids is not None else None
    texts: dict[str, str] = {}
    with Path(path).open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise DatasetError([f"{path}:{number}: not valid JSON ({exc.msg})"]) from None
            if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not isinstance(obj.get("text"), str):
                raise DatasetError([f"{path}:{number}: expected an object with string `id` and `text`"])
            if wanted is None or obj["id"] in wanted:
                texts[obj["id"]] = obj["text"]
    return texts


def resolve_one(question: Question, texts: Mapping[str, str]) -> Question:
    """The question with its `evidence_at` locators resolved to sentences (hash-checked)."""
    if not question.locators:
        return question
    parts = tuple(loc.resolve(texts) for loc in question.locators)
    return replace(question, evidence=" ".join(parts), evidence_parts=parts)


def resolve_locators(questions: Iterable[Question], texts: Mapping[str, str]) -> list[Question]:
    """Resolve every locator from the corpus texts; all failures are reported at once as a `DatasetError`."""
    out: list[Question] = []
    problems: list[str] = []
    for q in questions:
        try:
            out.append(resolve_one(q, texts))
        except LocatorError as exc:
            problems.append(f"line {q.line} ({q.id}): {exc}")
    if problems:
        raise DatasetError(problems)
    return out


def select_split(questions: Iterable[Question], split: str | None) -> list[Question]:
    """Only the questions of one split (all of them when `split` is None)."""
    return [q for q in questions if split is None or q.split == split]
