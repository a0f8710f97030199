"""Fitting the sentence selector: the ranking objective picks each question's answer and still rates on a
probability scale (the decline threshold and the answerability model read it as a probability), reproducibly."""

from __future__ import annotations

import numpy as np

from evaluation.dataset import Question
from evaluation.train_selector import Rows, fit_trees
from retrieval.sentence_features import FEATURE_NAMES

PARAMS = {"objective": "lambdarank", "n_estimators": 30, "learning_rate": 0.1, "num_leaves": 4, "min_child_samples": 5}


def _questions(n: int, seed: int) -> list[Rows]:
    """Questions of 8 candidate sentences each; the answer has the highest word overlap, plus noise everywhere."""
    rng = np.random.default_rng(seed)
    lex = FEATURE_NAMES.index("lex")
    rows = []
    for q in range(n):
        x = rng.normal(0.0, 1.0, size=(8, len(FEATURE_NAMES))).astype(np.float32)
        y = np.zeros(8, dtype=np.float32)
        answer = int(rng.integers(8))
        y[answer] = 1.0
        x[:, lex] = rng.uniform(0.0, 0.5, size=8)
        x[answer, lex] = rng.uniform(0.6, 1.0)
        question = Question(f"q{q}", f"Question {q}?", "answer", ("answer",), "a", None, "fact", split="train")
        rows.append(Rows(question, x, y, [], []))
    return rows


def test_a_ranker_picks_the_answer_and_rates_on_a_probability_scale() -> None:
    model = fit_trees(_questions(60, seed=1), PARAMS)
    held_out = _questions(20, seed=2)
    picked = [r.y[int(np.argmax(model.predict(r.x)))] for r in held_out]
    assert sum(picked) >= 18  # the answer sentence is chosen for unseen questions
    probs = np.concatenate([model.predict(r.x) for r in held_out])
    assert ((probs > 0) & (probs < 1)).all()
    answers = np.concatenate([r.y for r in held_out]) > 0
    # Calibrated: about one sentence in eight answers, so the ratings average near 1/8, answers rated far higher.
    assert 0.05 < probs.mean() < 0.25 and probs[answers].mean() > 3 * probs[~answers].mean()


def test_fitting_twice_gives_the_same_model() -> None:
    rows = _questions(40, seed=3)
    a, b = fit_trees(rows, PARAMS), fit_trees(rows, PARAMS)
    assert a.to_dict() == b.to_dict()
