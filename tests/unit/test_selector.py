"""The learned sentence selector: its numpy tree evaluator, its calibrated threshold and the file we ship."""

from __future__ import annotations

import json

import numpy as np
import pytest

from retrieval.answerability import QUESTION_FEATURES, LinearModel, declines, question_row
from retrieval.question import analyse
from retrieval.selector import DEFAULT_MODEL, SelectorError, TreeModel, abstain_threshold, load_selector
from retrieval.sentence_features import FEATURE_NAMES, build_candidates, featurize
from retrieval.types import RetrievedChunk

# A LightGBM-style dump: x0 <= 0.5 ? (x1 <= 2 ? -1 : 1) : 3, plus a second tree adding 0.5 when x1 > 10.
DUMP = {
    "tree_info": [
        {
            "tree_structure": {
                "split_feature": 0,
                "threshold": 0.5,
                "decision_type": "<=",
                "left_child": {
                    "split_feature": 1,
                    "threshold": 2.0,
                    "decision_type": "<=",
                    "left_child": {"leaf_value": -1.0},
                    "right_child": {"leaf_value": 1.0},
                },
                "right_child": {"leaf_value": 3.0},
            }
        },
        {
            "tree_structure": {
                "split_feature": 1,
                "threshold": 10.0,
                "decision_type": "<=",
                "left_child": {"leaf_value": 0.0},
                "right_child": {"leaf_value": 0.5},
            }
        },
    ]
}


def _sigmoid(v: float) -> float:
    return 1 / (1 + np.exp(-v))


def test_trees_are_walked_like_lightgbm_for_every_row_at_once() -> None:
    model = TreeModel.from_lightgbm(DUMP, ["a", "b"])
    x = np.array([[0.0, 1.0], [0.5, 2.0], [0.0, 5.0], [0.9, 0.0], [0.9, 11.0], [0.2, 12.0]])
    expected = [_sigmoid(v) for v in (-1.0, -1.0, 1.0, 3.0, 3.5, 1.5)]
    assert np.allclose(model.predict(x), expected)


def test_a_saved_model_loads_back_to_the_same_predictions() -> None:
    model = TreeModel.from_lightgbm(DUMP, ["a", "b"])
    model.abstain_below = 0.3
    again = TreeModel.from_dict(json.loads(json.dumps(model.to_dict())), ["a", "b"])
    x = np.random.default_rng(0).uniform(-1, 12, size=(50, 2))
    assert np.allclose(again.predict(x), model.predict(x)) and again.abstain_below == 0.3
    with pytest.raises(SelectorError, match="other features"):
        TreeModel.from_dict(model.to_dict(), ["a", "c"])


def test_threshold_declines_at_most_the_allowed_share_of_answerable_questions() -> None:
    answerable = [i / 100 for i in range(1, 101)]  # 100 questions
    unanswerable = [0.01, 0.02, 0.5]
    t = abstain_threshold(answerable, unanswerable, 0.05)
    assert sum(s < t for s in answerable) <= 5
    assert sum(s < t for s in answerable) == 5  # and it uses the whole allowance
    assert sum(s < t for s in unanswerable) == 2


def test_the_shipped_selector_matches_this_code_and_records_how_it_was_chosen() -> None:
    model = load_selector()
    assert model.features == list(FEATURE_NAMES)
    assert 0 < model.abstain_below < 1
    meta = model.meta
    assert meta["chosen_on"] == "dev" and {"train", "dev", "test"} <= set(meta["answer_figures"])
    assert DEFAULT_MODEL.stat().st_size < 1_000_000  # a small versioned file, not model weights
    rows = np.zeros((3, len(FEATURE_NAMES)))
    assert model.predict(rows).shape == (3,)


def _gate(threshold: float) -> LinearModel:
    """P(answerable) rising with the best sentence's rating only: the other question features weigh nothing."""
    n = len(QUESTION_FEATURES)
    coef = np.zeros(n)
    coef[QUESTION_FEATURES.index("p1")] = 10.0
    return LinearModel(list(QUESTION_FEATURES), np.zeros(n), np.ones(n), coef, -5.0, threshold)


def test_the_answerability_model_travels_in_the_selector_file_and_old_files_still_load() -> None:
    model = TreeModel.from_lightgbm(DUMP, ["a", "b"])
    model.answerability = _gate(0.4)
    again = TreeModel.from_dict(json.loads(json.dumps(model.to_dict())), ["a", "b"])
    assert again.answerability is not None and again.answerability.abstain_below == 0.4
    row = np.random.default_rng(1).uniform(0, 1, size=(4, len(QUESTION_FEATURES)))
    assert np.allclose(again.answerability.predict(row), model.answerability.predict(row))
    old = {**model.to_dict(), "schema": 1}
    del old["answerability"]
    assert TreeModel.from_dict(old, ["a", "b"]).answerability is None


def _chunk(text: str, article: str = "a1", title: str = "Council votes on the bridge repair") -> RetrievedChunk:
    return RetrievedChunk("c-" + article, article, title, "test", text, 0, len(text), 0, score=1.0, dense_score=0.5)


def _rows(question: str, chunks: list[RetrievedChunk]) -> tuple:
    cands = build_candidates(chunks, set())
    for n, c in enumerate(cands):
        c.similarity = 0.5 - 0.01 * n
    info = analyse(question)
    x = featurize(info, cands, chunks, {})
    return info, cands, x


def test_question_features_see_when_the_thing_asked_about_is_nowhere_in_the_article() -> None:
    chunks = [_chunk("The council voted 7 to 2 on Thursday to approve the repair. Ann Lee and Tom Hart voted against.")]
    info, cands, x = _rows("Who voted against the bridge repair?", chunks)
    asked = question_row(info, cands, x, np.array([0.2, 0.7]), chunks)
    info, cands, x = _rows("What salary will the bridge engineer be paid?", chunks)
    missing = question_row(info, cands, x, np.array([0.2, 0.7]), chunks)
    col = QUESTION_FEATURES.index
    assert asked[col("article_cover")] > missing[col("article_cover")]
    assert missing[col("article_missing")] > asked[col("article_missing")]
    assert asked[col("p1")] == pytest.approx(0.7) and asked[col("margin")] == pytest.approx(0.5)


def test_the_answerer_declines_when_the_answerability_model_says_so_unless_a_sentence_matches_exactly() -> None:
    chunks = [
        _chunk("The council voted 7 to 2 on Thursday to approve the repair. Ann Lee and Tom Hart voted against."),
        _chunk("The ferry will run every hour.", article="a2", title="Ferry timetable"),
    ]
    info, cands, x = _rows("Why did the council approve the bridge repair?", chunks)
    selector = TreeModel(list(FEATURE_NAMES), [])
    selector.answerability = _gate(0.5)  # declines when P(answerable) = sigmoid(10 * p1 - 5) < 0.5, i.e. p1 < 0.5
    assert declines(selector, info, cands, x, np.array([0.1, 0.3, 0.0]), chunks)
    assert not declines(selector, info, cands, x, np.array([0.1, 0.8, 0.0]), chunks)
    exact = x.copy()
    exact[1, FEATURE_NAMES.index("cos")], exact[1, FEATURE_NAMES.index("lex")] = 0.9, 1.0
    assert not declines(selector, info, cands, exact, np.array([0.1, 0.3, 0.0]), chunks)  # STRONG_MATCH
    one = chunks[:1]  # one story holding every word of the question: ONE_STORY answers
    info, cands, x = _rows("Why did the council approve the bridge repair?", one)
    assert not declines(selector, info, cands, x, np.array([0.1, 0.3]), one)


def test_the_shipped_selector_declines_with_a_question_level_model_calibrated_on_dev() -> None:
    gate = load_selector().answerability
    assert gate is not None and 0 < gate.abstain_below < 1
    assert gate.meta["chosen_on"] == "dev"


def test_a_question_about_what_a_named_person_said_is_declined_when_that_person_is_nowhere_retrieved() -> None:
    chunks = [_chunk('"The alliance has truly become stronger," Stoltenberg said. Leaders met in Washington.')]
    selector = TreeModel(list(FEATURE_NAMES), [])
    selector.answerability = _gate(0.0)  # the model alone would answer anything
    info, cands, x = _rows("What did Emmanuel Macron say about the alliance?", chunks)
    assert declines(selector, info, cands, x, np.array([0.9, 0.1]), chunks)
    info, cands, x = _rows("What did Jens Stoltenberg say about the alliance?", chunks)
    assert not declines(selector, info, cands, x, np.array([0.9, 0.1]), chunks)
    # "NATO" is not a full name: the model decides
    info, cands, x = _rows("According to NATO, how strong is the alliance?", chunks)
    assert not declines(selector, info, cands, x, np.array([0.9, 0.1]), chunks)
