"""Dataset loading: good files load, every mistake is reported with its line, shipped datasets are consistent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evaluation.dataset import DatasetError, check_evidence, load_corpus_texts, load_dataset, parse_dataset
from tests.paths import ROOT

SAMPLE_ARTICLE = ROOT / "examples" / "articles" / "zelenskyy-nato-strikes.txt"
DATASETS = ROOT / "evaluation" / "datasets"

GOOD: dict[str, Any] = {
    "id": "q1",
    "question": "What did Stoltenberg say about self-defense?",
    "answer": "It includes striking legitimate military targets.",
    "must_contain": ["legitimate military targets"],
    "doc_id": "zelenskyy-nato-strikes",
    "evidence": "Most notable among them is the United States.",
    "kind": "quote",
}
UNANSWERABLE: dict[str, Any] = {
    "id": "q2",
    "question": "What is the capital of France?",
    "answer": None,
    "must_contain": [],
    "doc_id": None,
    "evidence": None,
    "kind": "unanswerable",
}


def lines(*objects: object) -> list[str]:
    return [o if isinstance(o, str) else json.dumps(o) for o in objects]


def test_parses_answerable_and_unanswerable_and_skips_blank_lines() -> None:
    questions = parse_dataset(lines(GOOD, "", UNANSWERABLE))
    assert [q.id for q in questions] == ["q1", "q2"]
    assert questions[0].must_contain == ("legitimate military targets",)
    assert questions[0].answerable and not questions[1].answerable
    assert questions[1].line == 3  # line numbers count the blank line
    assert questions[0].to_dict() == GOOD


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ({k: v for k, v in GOOD.items() if k != "evidence"}, "missing field(s) evidence"),
        ({**GOOD, "must_contains": ["x"]}, "unknown field(s) must_contains"),
        ({**GOOD, "kind": "trivia"}, "`kind` must be one of"),
        ({**GOOD, "must_contain": "legitimate"}, "`must_contain` must be a list"),
        ({**GOOD, "must_contain": []}, "needs at least one string"),
        ({**GOOD, "doc_id": None}, "`doc_id` must be a non-empty string for a quote question"),
        ({**GOOD, "question": "  "}, "`question` must be a non-empty string"),
        ({**UNANSWERABLE, "doc_id": "x"}, "`doc_id` must be null for an unanswerable question"),
        ({**UNANSWERABLE, "must_contain": ["Paris"]}, "`must_contain` must be empty"),
    ],
)
def test_each_mistake_is_reported_with_file_and_line(bad: object, message: str) -> None:
    with pytest.raises(DatasetError) as info:
        parse_dataset(lines(GOOD, bad), source="mine.jsonl")
    assert "mine.jsonl:2: " in str(info.value)
    assert message in str(info.value)


def test_all_problems_are_reported_at_once_and_duplicates_name_the_first_line() -> None:
    with pytest.raises(DatasetError) as info:
        parse_dataset(lines(GOOD, "{oops", GOOD, {**UNANSWERABLE, "kind": "nope"}), source="d.jsonl")
    problems = info.value.problems
    assert len(problems) == 3
    assert problems[0].startswith("d.jsonl:2: not valid JSON")
    assert "d.jsonl:3: duplicate id 'q1' (first used on line 1)" in problems[1]
    assert problems[2].startswith("d.jsonl:4: ")


def test_empty_missing_and_binary_files_are_clear_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="no questions"):
        load_dataset(empty)
    with pytest.raises(DatasetError, match="no such file"):
        load_dataset(tmp_path / "missing.jsonl")
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(DatasetError, match="not UTF-8"):
        load_dataset(binary)


def test_check_evidence_finds_missing_articles_non_verbatim_evidence_and_impossible_must_contain() -> None:
    text = "He said it is “crazy” that forces cannot retaliate. Most notable among them is the United States."
    ok = {**GOOD, "evidence": "He said it is “crazy” that forces cannot retaliate.", "must_contain": ["crazy"]}
    straight = {**ok, "id": "q3", "evidence": 'He said it is "crazy" that forces cannot retaliate.'}
    elsewhere = {**ok, "id": "q4", "doc_id": "other-article"}
    impossible = {**ok, "id": "q5", "must_contain": ["Paris"]}
    questions = parse_dataset(lines(ok, UNANSWERABLE, straight, elsewhere, impossible))
    problems = check_evidence(questions, {"zelenskyy-nato-strikes": text})
    assert len(problems) == 3
    assert "line 3 (q3): evidence is not verbatim" in problems[0] and "after folding" in problems[0]
    assert "line 4 (q4): article 'other-article' not found" in problems[1]
    assert "line 5 (q5): no must_contain string" in problems[2]


def test_load_corpus_texts_reads_only_wanted_ids(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(
        json.dumps({"id": "a", "title": "A", "text": "alpha"}) + "\n" + json.dumps({"id": "b", "text": "beta"}) + "\n",
        encoding="utf-8",
    )
    assert load_corpus_texts(corpus, ["b"]) == {"b": "beta"}
    assert load_corpus_texts(corpus) == {"a": "alpha", "b": "beta"}
    corpus.write_text('{"id": 1}\n', encoding="utf-8")
    with pytest.raises(DatasetError, match="corpus.jsonl:1"):
        load_corpus_texts(corpus)


def test_shipped_sample_dataset_is_valid_and_its_evidence_is_verbatim() -> None:
    questions = load_dataset(DATASETS / "sample.jsonl")
    kinds = [q.kind for q in questions]
    assert len(questions) >= 20
    assert kinds.count("unanswerable") >= 4
    assert {"fact", "quote", "number", "paraphrase"} <= set(kinds)
    text = SAMPLE_ARTICLE.read_text(encoding="utf-8")
    assert check_evidence(questions, {"zelenskyy-nato-strikes": text}) == []


def test_shipped_bbc_dataset_is_valid() -> None:
    questions = load_dataset(DATASETS / "bbc.jsonl")
    kinds = [q.kind for q in questions]
    assert len(questions) >= 40
    assert kinds.count("unanswerable") >= 6
    assert {"fact", "quote", "number", "paraphrase"} <= set(kinds)
    assert all(q.doc_id.startswith("bbc-") for q in questions if q.doc_id)


@pytest.mark.parametrize("name", ["bbc_bank.jsonl", "bbc_bank_more_train.jsonl"])
def test_shipped_question_banks_parse_and_store_locators_not_text(name: str) -> None:
    """The BBC corpus must not enter the repository: answerable bank questions carry locators, never sentences."""
    questions = load_dataset(DATASETS / name)
    assert len(questions) >= 600
    assert all(q.evidence is None for q in questions)
    assert all(q.locators for q in questions if q.answerable)
    unanswerable = [q for q in questions if not q.answerable]
    assert len(unanswerable) >= 0.15 * len(questions)
    if name == "bbc_bank_more_train.jsonl":
        assert {q.split for q in questions} == {"train"}
