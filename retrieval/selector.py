"""The learned sentence selector: gradient-boosted trees over `retrieval.sentence_features`, evaluated with numpy.

The trees are fitted by `evaluation/train_selector.py` (LightGBM, training only) and shipped as plain arrays in a
small versioned JSON file, `retrieval/models/selector.json`. Evaluating them needs no LightGBM: each tree is walked
level by level for all candidate sentences at once, which costs well under a millisecond for a few dozen
candidates. The file also carries the abstention threshold calibrated on the dev split, so the model and the point
at which it declines always travel together. Since schema 2 the file also carries the question-level
answerability model (`retrieval/answerability.py`) and its own decline threshold; a schema-1 file (no such model)
still loads, and then the answerer declines on the best sentence's rating alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

SCHEMA_VERSION = 2
READABLE_SCHEMAS = (1, 2)
DEFAULT_MODEL = Path(__file__).parent / "models" / "selector.json"


class Gate(Protocol):
    """A question-level model: P(the retrieved articles answer the question), declined below `abstain_below`."""

    abstain_below: float
    meta: dict[str, Any]

    def predict(self, x: np.ndarray) -> np.ndarray: ...

    def to_dict(self) -> dict[str, Any]: ...


class SelectorError(RuntimeError):
    """A selector file that cannot be used (missing, another schema, features this code does not compute)."""


@dataclass
class Tree:
    feature: np.ndarray  # -1 marks a leaf
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray

    def predict(self, x: np.ndarray) -> np.ndarray:
        node = np.zeros(len(x), dtype=np.int64)
        rows = np.arange(len(x))
        while True:
            feat = self.feature[node]
            inner = feat >= 0
            if not inner.any():
                return self.value[node]
            go_left = x[rows, np.where(inner, feat, 0)] <= self.threshold[node]
            node = np.where(inner, np.where(go_left, self.left[node], self.right[node]), node)


@dataclass
class TreeModel:
    """A binary classifier: sigmoid of a sum of regression trees; `predict` gives P(sentence answers)."""

    features: list[str]
    trees: list[Tree]
    bias: float = 0.0
    abstain_below: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)
    answerability: Gate | None = None

    def predict(self, x: np.ndarray) -> np.ndarray:
        """P(answers) for each row; all trees are walked together, one numpy step per tree level."""
        x = np.asarray(x, dtype=np.float64)
        if not len(x) or not self.trees:
            return np.full(len(x), 1.0 / (1.0 + np.exp(-self.bias)))
        feature, threshold, left, right, value, roots = self._packed()
        node = np.broadcast_to(roots, (len(x), len(roots))).copy()
        rows = np.arange(len(x))[:, None]
        while True:
            feat = feature[node]
            inner = feat >= 0
            if not inner.any():
                break
            go_left = x[rows, np.where(inner, feat, 0)] <= threshold[node]
            node = np.where(inner, np.where(go_left, left[node], right[node]), node)
        raw = self.bias + value[node].sum(axis=1)
        return 1.0 / (1.0 + np.exp(-raw))

    def _packed(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every tree's nodes in one set of arrays (child indices shifted), built once."""
        cached = self.__dict__.get("_packed_arrays")
        if cached is None or cached[0] != len(self.trees):
            offsets = np.cumsum([0] + [len(t.feature) for t in self.trees[:-1]])
            arrays = (
                np.concatenate([t.feature for t in self.trees]),
                np.concatenate([t.threshold for t in self.trees]),
                np.concatenate([t.left + o for t, o in zip(self.trees, offsets, strict=True)]),
                np.concatenate([t.right + o for t, o in zip(self.trees, offsets, strict=True)]),
                np.concatenate([t.value for t in self.trees]),
                offsets.astype(np.int64),
            )
            cached = (len(self.trees), arrays)
            self.__dict__["_packed_arrays"] = cached
        return cached[1]

    # --- (de)serialisation ------------------------------------------------------------------------------------------
    @classmethod
    def from_lightgbm(cls, dump: Mapping[str, Any], features: list[str]) -> TreeModel:
        """Flatten LightGBM's `dump_model()` (numerical `<=` splits only, which is all our features need)."""
        return cls(features=features, trees=[_flatten(info["tree_structure"]) for info in dump["tree_info"]])

    def to_dict(self) -> dict[str, Any]:
        out = self._to_dict()
        if self.answerability is not None:
            out["answerability"] = self.answerability.to_dict()
        return out

    def _to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "kind": "gbdt-binary",
            "features": self.features,
            "bias": self.bias,
            "abstain_below": round(self.abstain_below, 6),
            "meta": self.meta,
            "trees": [
                {
                    "feature": t.feature.tolist(),
                    "threshold": [round(v, 7) for v in t.threshold.tolist()],
                    "left": t.left.tolist(),
                    "right": t.right.tolist(),
                    "value": [round(v, 7) for v in t.value.tolist()],
                }
                for t in self.trees
            ],
        }

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any], expected_features: Sequence[str]) -> TreeModel:
        if obj.get("schema") not in READABLE_SCHEMAS or obj.get("kind") != "gbdt-binary":
            raise SelectorError(f"selector schema {obj.get('schema')!r}/{obj.get('kind')!r} is not supported")
        if list(obj["features"]) != list(expected_features):
            raise SelectorError("the selector was fitted on other features than this code computes: re-train it")
        trees = [
            Tree(
                np.array(t["feature"], dtype=np.int64),
                np.array(t["threshold"], dtype=np.float64),
                np.array(t["left"], dtype=np.int64),
                np.array(t["right"], dtype=np.int64),
                np.array(t["value"], dtype=np.float64),
            )
            for t in obj["trees"]
        ]
        model = cls(list(obj["features"]), trees, float(obj["bias"]), float(obj["abstain_below"]), dict(obj["meta"]))
        if "answerability" in obj:
            model.answerability = _load_gate(obj["answerability"])
        return model


def _load_gate(obj: Mapping[str, Any]) -> Gate:
    """The answerability model: logistic regression, or trees over `QUESTION_FEATURES` (same format as above)."""
    from retrieval.answerability import QUESTION_FEATURES, LinearModel

    if list(obj["features"]) != list(QUESTION_FEATURES):
        raise SelectorError("the answerability model was fitted on other question features: re-train it")
    if obj.get("kind") == "logistic":
        return LinearModel.from_dict(obj)
    return TreeModel.from_dict({**obj, "schema": SCHEMA_VERSION}, QUESTION_FEATURES)


def _flatten(root: Mapping[str, Any]) -> Tree:
    """One LightGBM tree (nested dicts) as parallel arrays; a leaf points at itself."""
    feature: list[int] = []
    threshold: list[float] = []
    left: list[int] = []
    right: list[int] = []
    value: list[float] = []
    stack: list[tuple[Mapping[str, Any], int, bool]] = [(root, -1, False)]
    while stack:
        node, parent, is_right = stack.pop()
        index = len(feature)
        if parent >= 0:
            (right if is_right else left)[parent] = index
        left.append(index)
        right.append(index)
        if "leaf_value" in node:
            feature.append(-1)
            threshold.append(0.0)
            value.append(float(node["leaf_value"]))
            continue
        if node.get("decision_type", "<=") != "<=":
            raise SelectorError(f"unsupported split {node.get('decision_type')!r}")
        feature.append(int(node["split_feature"]))
        threshold.append(float(node["threshold"]))
        value.append(0.0)
        stack.append((node["right_child"], index, True))
        stack.append((node["left_child"], index, False))
    return Tree(
        np.array(feature, dtype=np.int64),
        np.array(threshold, dtype=np.float64),
        np.array(left, dtype=np.int64),
        np.array(right, dtype=np.int64),
        np.array(value, dtype=np.float64),
    )


def load_selector(path: Path | None = None) -> TreeModel:
    from retrieval.sentence_features import FEATURE_NAMES

    path = path or DEFAULT_MODEL
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SelectorError(f"no selector file at {path}") from None
    return TreeModel.from_dict(obj, FEATURE_NAMES)


def abstain_threshold(answerable: Sequence[float], unanswerable: Sequence[float], max_false: float) -> float:
    """The highest decline threshold that declines at most `max_false` of the answerable questions.

    Questions are declined when their best sentence scores below the threshold; raising it declines more
    unanswerable questions and, past some point, answerable ones too. Ties are resolved towards answering.
    """
    if not answerable:
        return 0.0
    scores = sorted(answerable)
    allowed = int(max_false * len(scores))  # answerable questions we may decline
    # Declining those strictly below scores[allowed] declines at most `allowed` of them.
    candidate = scores[allowed]
    return float(candidate) - 1e-9 if allowed < len(scores) else float(scores[-1])
