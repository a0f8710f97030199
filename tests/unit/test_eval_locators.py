"""Question sets over a corpus that must not enter the repository: locators, splits, `newsdesk eval check`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation.build_bank import convert, near_copies
from evaluation.dataset import DatasetError, parse_dataset, resolve_locators, select_split
from evaluation.locators import Locator, LocatorError
from evaluation.splits import split_of

TEXT = "The council met on Monday. It voted 7 to 2 to approve the repair. Ms Lee and Mr Ode voted against."
TEXTS = {"art-1": TEXT, "art-1-copy": TEXT.replace("Monday", "Tuesday"), "art-2": "Nothing to see here at all."}


def _raw(**over: object) -> dict[str, object]:
    row: dict[str, object] = {
        "question": "Who voted against the repair?",
        "answer": "Ms Lee and Mr Ode.",
        "must_contain": ["Ms Lee"],
        "doc_id": "art-1",
        "evidence": ["Ms Lee and Mr Ode voted against."],
        "kind": "fact",
        "near_miss": False,
        "about": "art-1",
    }
    row.update(over)
    return row


def test_a_locator_resolves_to_its_sentence_and_refuses_an_edited_corpus() -> None:
    loc = Locator.find("art-1", TEXT, "It voted 7 to 2 to approve the repair.")
    assert loc is not None and loc.resolve(TEXTS) == "It voted 7 to 2 to approve the repair."
    edited = {"art-1": TEXT.replace("7 to 2", "8 to 1")}
    with pytest.raises(LocatorError, match="hash"):
        loc.resolve(edited)
    with pytest.raises(LocatorError, match="not in the corpus"):
        loc.resolve({})
    assert Locator.find("art-1", TEXT, "A sentence that is not there.") is None


def test_splits_are_by_article_fixed_and_roughly_sixty_twenty_twenty() -> None:
    ids = [f"bbc-x-{i:03d}" for i in range(2000)]
    splits = [split_of(i) for i in ids]
    assert splits == [split_of(i) for i in ids]  # deterministic
    share = {s: splits.count(s) / len(ids) for s in ("train", "dev", "test")}
    assert 0.55 < share["train"] < 0.65 and 0.16 < share["dev"] < 0.24 and 0.16 < share["test"] < 0.24


def test_converted_questions_hold_no_article_text_and_resolve_back() -> None:
    lines = convert(
        [
            _raw(),
            _raw(
                question="When did the council meet?",
                kind="date",
                evidence=["The council met on Monday."],
                must_contain=["Monday"],
            ),
        ],
        TEXTS,
    )
    dumped = "".join(json.dumps(line) for line in lines)
    assert "voted against" not in dumped.replace("Who voted against the repair?", "")
    assert all(line["evidence"] is None and line["split"] == split_of("art-1") for line in lines)
    questions = resolve_locators(parse_dataset([json.dumps(line) for line in lines]), TEXTS)
    assert questions[0].evidence == "Ms Lee and Mr Ode voted against."
    assert questions[0].also_in == ("art-1-copy",)  # the re-filed copy of the story counts as the right article
    assert questions[1].also_in == ()  # the copy says Tuesday: it does not hold this evidence


def test_unanswerable_questions_take_the_split_of_the_article_they_were_written_from() -> None:
    lines = convert(
        [
            _raw(
                question="How much did the repair cost?",
                answer=None,
                must_contain=[],
                doc_id=None,
                evidence=[],
                kind="unanswerable",
                near_miss=True,
                about="art-2",
            )
        ],
        TEXTS,
    )
    (q,) = parse_dataset([json.dumps(lines[0])])
    assert q.split == split_of("art-2") and q.near_miss and not q.answerable


def test_a_wrong_split_or_a_locator_into_another_article_is_reported_with_its_line() -> None:
    (line,) = convert([_raw()], TEXTS)
    wrong = {"train": "dev", "dev": "test", "test": "train"}[line["split"]]
    bad_split = {**line, "split": wrong}
    elsewhere = {**line, "evidence_at": [{**line["evidence_at"][0], "doc": "art-2"}]}
    with pytest.raises(DatasetError) as err:
        parse_dataset([json.dumps(bad_split), json.dumps({**elsewhere, "id": "other"})], source="bank.jsonl")
    assert "bank.jsonl:1" in str(err.value) and "disagrees with the split" in str(err.value)
    assert "bank.jsonl:2" in str(err.value) and "must point into `doc_id`" in str(err.value)


def test_select_split_keeps_one_split() -> None:
    lines = convert(
        [
            _raw(),
            _raw(
                question="Q2?",
                doc_id="art-2",
                about="art-2",
                evidence=["Nothing to see here at all."],
                must_contain=["Nothing"],
            ),
        ],
        TEXTS,
    )
    questions = parse_dataset([json.dumps(line) for line in lines])
    for name in ("train", "dev", "test"):
        assert all(q.split == name for q in select_split(questions, name))
    assert len(select_split(questions, None)) == 2


def test_near_copies_needs_every_evidence_sentence() -> None:
    assert near_copies("art-1", TEXTS, ["It voted 7 to 2 to approve the repair."]) == ["art-1-copy"]
    assert near_copies("art-1", TEXTS, ["The council met on Monday."]) == []


def test_eval_check_verifies_every_locator(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from newsdesk.cli import app

    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"id": k, "title": k, "text": v}) + "\n" for k, v in TEXTS.items()))
    bank = tmp_path / "bank.jsonl"
    bank.write_text("".join(json.dumps(line) + "\n" for line in convert([_raw()], TEXTS)))
    runner = CliRunner()
    ok = runner.invoke(app, ["eval", "check", str(bank), "--corpus", str(corpus)])
    assert ok.exit_code == 0, ok.output
    assert "located by offsets and hash" in ok.output
    corpus.write_text(json.dumps({"id": "art-1", "title": "t", "text": TEXT.replace("Ms Lee", "Ms Lea")}) + "\n")
    bad = runner.invoke(app, ["eval", "check", str(bank), "--corpus", str(corpus)])
    assert bad.exit_code == 1 and "does not match its hash" in bad.output


def test_check_accepts_two_located_sentences_across_a_paragraph_break() -> None:
    """`newsdesk eval check` checks each located sentence; joined, they are not a substring of the article."""
    from evaluation.dataset import check_evidence

    texts = {"art-3": "The council met on Monday.\n\nMs Lee and Mr Ode voted against."}
    row = _raw(
        doc_id="art-3", about="art-3", evidence=["The council met on Monday.", "Ms Lee and Mr Ode voted against."]
    )
    questions = parse_dataset([json.dumps(line) for line in convert([row], texts)])
    assert check_evidence(questions, texts) == []
    edited = {"art-3": texts["art-3"].replace("Ode", "Odd")}
    assert any("hash" in problem for problem in check_evidence(questions, edited))
