"""The learned sentence selector: its numpy tree evaluator, its calibrated threshold and the file we ship."""

from __future__ import annotations

import json

import numpy as np
import pytest

from retrieval.selector import DEFAULT_MODEL, SelectorError, TreeModel, abstain_threshold, load_selector
from retrieval.sentence_features import FEATURE_NAMES

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
