"""The feedback store and its export as evaluation questions (read back with the project's own dataset loader)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from bot.feedback import FeedbackStore, export_feedback, feedback_path
from evaluation.dataset import DatasetError, load_dataset
from newsdesk.settings import Settings
from retrieval.answer import ABSTAIN_TEXT, Answer, Citation

QUOTE = "“The right to self defense includes also the right to strike legitimate military targets,” he said."


def _answer(question: str, *, abstained: bool = False) -> Answer:
    if abstained:
        return Answer(question=question, answer=ABSTAIN_TEXT, abstained=True)
    return Answer(
        question=question,
        answer=f"{QUOTE} [1] Ukraine may hit targets in Russia. [2]",
        abstained=False,
        citations=[
            Citation(1, "nato-article", "NATO summit", "nato.txt", "nato-article:3", QUOTE),
            Citation(2, "nato-article", "NATO summit", "nato.txt", "nato-article:4", "Ukraine may hit targets."),
        ],
    )


def _record(store: FeedbackStore, question: str, user: int = 313131313131313131, **kwargs: bool) -> str:
    return store.record_answer(
        guild_id=1, channel_id=2, user_id=user, collection="guild-1", answer=_answer(question, **kwargs), urls={}
    )


def test_votes_are_stored_per_user_with_hashed_ids(settings: Settings) -> None:
    store = FeedbackStore.open(settings)
    answer_id = _record(store, "What did Stoltenberg say?")
    assert store.vote(answer_id, 123456789012345678, 1)
    assert store.vote(answer_id, 123456789012345678, -1)  # changing one's mind replaces the vote
    assert store.vote(answer_id, 987654321098765432, -1)
    assert not store.vote("0" * 16, 1, 1)  # unknown answer
    stored = store.get(answer_id)
    assert stored is not None and (stored.up, stored.down) == (0, 2)
    assert stored.citations[0].quote == QUOTE and stored.guild_id == "1"
    store.close()
    # Nothing in the database file holds a raw Discord id.
    raw = feedback_path(settings).read_bytes()
    db = sqlite3.connect(feedback_path(settings))
    dump = "\n".join(db.iterdump())
    db.close()
    for user_id in ("123456789012345678", "987654321098765432", "313131313131313131"):
        assert user_id.encode() not in raw
        assert f"'{user_id}'" not in dump


def test_hashes_are_salted_per_installation(tmp_path: Path) -> None:
    a = FeedbackStore(tmp_path / "a.sqlite3")
    b = FeedbackStore(tmp_path / "b.sqlite3")
    assert a.hash_user(5) != b.hash_user(5)
    assert a.hash_user(5) == FeedbackStore(tmp_path / "a.sqlite3").hash_user(5)  # stable across restarts


def test_export_writes_a_valid_dataset_and_a_review_file(settings: Settings, tmp_path: Path) -> None:
    store = FeedbackStore.open(settings)
    good = _record(store, "What did Stoltenberg say about self-defense?")
    bad = _record(store, "Who hosted the summit?")
    unanswerable = _record(store, "Who won the football?", abstained=True)
    _record(store, "A question nobody voted on")
    store.vote(good, 1, 1)
    store.vote(good, 2, 1)
    store.vote(bad, 1, -1)
    store.vote(unanswerable, 3, 1)
    store.close()

    out = tmp_path / "exports" / "feedback.jsonl"
    result = export_feedback(settings, out)
    assert (result.questions, result.to_review) == (2, 1)

    questions = {q.question: q for q in load_dataset(out)}  # the evaluation loader accepts it as is
    fact = questions["What did Stoltenberg say about self-defense?"]
    assert fact.kind == "fact" and fact.doc_id == "nato-article" and fact.evidence == QUOTE
    assert QUOTE in fact.must_contain and "[1]" not in (fact.answer or "")
    assert questions["Who won the football?"].kind == "unanswerable"

    review_lines = [json.loads(line) for line in result.review_path.read_text(encoding="utf-8").splitlines()]
    assert [r["question"] for r in review_lines] == ["Who hosted the summit?"]
    assert review_lines[0]["review"]["down"] == 1 and QUOTE in review_lines[0]["review"]["bot_answer"]
    try:
        load_dataset(result.review_path)
    except DatasetError as exc:
        assert "review" in str(exc)  # deliberately not usable until a person has reviewed it
    else:
        raise AssertionError("the review file must not load as a dataset")
    assert "user" not in out.read_text(encoding="utf-8") + result.review_path.read_text(encoding="utf-8")


def test_export_with_no_feedback_yet(settings: Settings, tmp_path: Path) -> None:
    result = export_feedback(settings, tmp_path / "empty.jsonl")
    assert (result.questions, result.to_review) == (0, 0)
    assert (tmp_path / "empty.jsonl").read_text() == ""
