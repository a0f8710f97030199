"""Fit the extractive answerer's sentence selector and its abstention threshold, reproducibly.

    python -m evaluation.train_selector --dataset evaluation/datasets/bbc_bank.jsonl \
        --corpus ../shared/corpora/bbc-news-2225.jsonl --out retrieval/models/selector.json

Steps: ingest the corpus into a scratch data dir (idempotent, cached between runs), retrieve the top k chunks for
every question of the bank exactly as `newsdesk ask` does, turn each candidate sentence into the features of
`retrieval.sentence_features`, and label it positive when it is from the gold article and holds the asked-for
fact (a `must_contain` string) or is an evidence sentence. Models are fitted on the **train** split only; the
model family and its settings are chosen on **dev** (top-1 "answer contains the fact"); the abstention threshold
is set on dev (the highest that falsely declines at most 5% of answerable dev questions); **test** is only
reported. Gradient-boosted trees (LightGBM, a training-time dependency only) are exported as plain arrays so the
answerer evaluates them with numpy, without importing LightGBM at run time. Seeds are fixed: the same inputs give
the same file.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.dataset import Question, load_corpus_texts, load_dataset, resolve_locators
from evaluation.metrics import contains_phrase, fold_text
from retrieval.answer_shape import MAX_WORDS, ShapePolicy, shape
from retrieval.answerability import QUESTION_FEATURES, QUESTION_MONOTONE, LinearModel, declines, question_row
from retrieval.question import analyse
from retrieval.selector import SCHEMA_VERSION, Gate, TreeModel, abstain_threshold
from retrieval.sentence_features import FEATURE_NAMES, MONOTONE, Candidate, build_candidates, featurize, one_line
from retrieval.types import RetrievedChunk

SEED = 20261203
MAX_FALSE_DECLINES = 0.05


@dataclass
class Retrieved:
    """One question with what retrieval returned for it (cached, so features can be recomputed cheaply)."""

    question: Question
    chunks: list[RetrievedChunk]
    vector: np.ndarray


@dataclass
class Rows:
    question: Question
    x: np.ndarray
    y: np.ndarray
    cands: list[Candidate]
    chunks: list[RetrievedChunk]


def retrieve_all(
    questions: Sequence[Question], data_dir: Path, corpus: Path, k: int, collection: str = "default"
) -> list[Retrieved]:
    """Ingest the corpus (idempotent) and retrieve for every question, as `newsdesk ask` would."""
    from newsdesk.services import Services
    from newsdesk.settings import Settings

    svc = Services(Settings(NEWSDESK_DATA_DIR=data_dir))
    try:
        from retrieval.retriever import QueryVectors, retrieve_chunks

        svc.ingestor.ingest([str(corpus)], collection=collection)
        vectors = QueryVectors(svc.embedder)  # what the chain uses, without building an answerer
        out = []
        for q in questions:
            search = " ".join(q.question.split())
            chunks = retrieve_chunks(svc.store, vectors, collection, search, k)
            out.append(Retrieved(q, chunks, np.asarray(vectors.get(search), dtype=np.float32)))
        return out
    finally:
        svc.close()


def is_positive(question: Question, text: str, article_id: str) -> bool:
    if not question.answerable or article_id not in question.gold_articles:
        return False
    folded = fold_text(text)
    for part in question.evidence_parts:
        evidence = fold_text(part)
        if evidence and (evidence in folded or (len(folded) > 30 and folded in evidence)):
            return True
    return any(contains_phrase(text, m) for m in question.must_contain)


def rows_for(item: Retrieved) -> Rows:
    info = analyse(item.question.question)
    cands = build_candidates(item.chunks, set())
    for c in cands:
        c.similarity = float(c.vector @ item.vector) if c.vector is not None else 0.0
    authors = {c.article_id: c.author for c in item.chunks if c.author}
    x = featurize(info, cands, item.chunks, authors)
    y = np.array([is_positive(item.question, c.text, c.chunk.article_id) for c in cands], dtype=np.float32)
    return Rows(item.question, x, y, cands, item.chunks)


def _stack(rows: Sequence[Rows]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.concatenate([r.x for r in rows]) if rows else np.zeros((0, len(FEATURE_NAMES)))
    y = np.concatenate([r.y for r in rows]) if rows else np.zeros(0)
    groups = np.array([len(r.y) for r in rows])
    return x, y, groups


BAGS = 5  # models averaged (different seeds and row/feature samples): a steadier choice on news not seen


def fit_trees(rows: Sequence[Rows], params: dict[str, Any]) -> TreeModel:
    """`BAGS` boosted models on bootstrap-like samples, merged into one by averaging their logits.

    `objective: lambdarank` fits a ranker instead of a classifier: it learns which sentence of a question's candidates
    answers, rather than whether each one does in isolation. It picks better (dev top-1 58.3% against 55.3%, three
    seeds each) but declines worse, so on dev accuracy the grid keeps the binary objective (docs/evaluation.md).
    Only questions with at least one positive sentence inform a ranking. Its scores are then put on a probability
    scale (`platt`), so the abstention threshold, the answerability model and the answer shape read it as they read
    a classifier."""
    params = {k: v for k, v in params.items() if k != "subsample"}
    monotone = [MONOTONE.get(name, 0) for name in FEATURE_NAMES]
    if params.get("objective") == "lambdarank":
        ranked = [r for r in rows if len(r.y) and r.y.any()]
        x, y, groups = _stack(ranked)
        ranker = bagged_trees(x, y, list(FEATURE_NAMES), monotone, params, groups=groups)
        x_all, y_all, _ = _stack([r for r in rows if len(r.y)])
        return platt(ranker, x_all, y_all)
    x, y, _ = _stack([r for r in rows if len(r.y)])
    return bagged_trees(x, y, list(FEATURE_NAMES), monotone, params)


def platt(model: TreeModel, x: np.ndarray, y: np.ndarray) -> TreeModel:
    """Scale a ranker's summed tree outputs into P(answers) = sigmoid(a * score + b), with a and b fitted by logistic
    regression on the training rows; folded into the trees (every leaf times a, bias b), so the file format and
    the answerer stay the same."""
    from sklearn.linear_model import LogisticRegression

    p = np.clip(model.predict(x), 1e-12, 1.0 - 1e-12)
    raw = np.log(p / (1.0 - p))
    fitted = LogisticRegression(C=1e6, max_iter=1000).fit(raw[:, None], y)
    a, b = float(fitted.coef_[0][0]), float(fitted.intercept_[0])
    trees = [replace(t, value=t.value * a) for t in model.trees]
    return TreeModel(model.features, trees, bias=model.bias * a + b)


def bagged_trees(
    x: np.ndarray,
    y: np.ndarray,
    features: list[str],
    monotone: list[int],
    params: dict[str, Any],
    groups: np.ndarray | None = None,
) -> TreeModel:
    """`BAGS` monotone-constrained LightGBM models with fixed seeds, merged into one by averaging their logits:
    one recipe for the sentence selector and the question-level decline model, so both refit exactly. With
    `groups` (candidates per question, in row order) and `objective: lambdarank` the models are rankers."""
    import lightgbm as lgb

    params = dict(params)
    objective = params.pop("objective", "binary")
    estimator = lgb.LGBMRanker if objective == "lambdarank" else lgb.LGBMClassifier
    fit_args: dict[str, Any] = {"group": groups} if objective == "lambdarank" else {}
    if objective == "lambdarank":
        params.setdefault("lambdarank_truncation_level", 5)  # only the top of each question's ranking matters
    merged: TreeModel | None = None
    for bag in range(BAGS):
        model = estimator(
            objective=objective,
            monotone_constraints=monotone,
            random_state=SEED + bag,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            deterministic=True,
            force_row_wise=True,
            n_jobs=1,
            verbose=-1,
            **params,
        )
        model.fit(x, y.astype(np.int64) if fit_args else y, **fit_args)
        part = TreeModel.from_lightgbm(model.booster_.dump_model(), features)
        for tree in part.trees:
            tree.value = tree.value / BAGS
        merged = part if merged is None else TreeModel(merged.features, merged.trees + part.trees)
    assert merged is not None
    return merged


def evaluate(model: TreeModel, rows: Sequence[Rows], threshold: float | None = None) -> dict[str, float]:
    """Top-1 "holds the fact" over answerable questions; declines at `threshold` when given."""
    answerable = [r for r in rows if r.question.answerable]
    unanswerable = [r for r in rows if not r.question.answerable]
    top_ok = declined_ans = declined_un = 0
    for r in rows:
        probs = model.predict(r.x) if len(r.y) else np.zeros(0)
        best = float(probs.max()) if len(probs) else 0.0
        declined = threshold is not None and best < threshold
        if r.question.answerable:
            if len(probs) and not declined and r.y[int(np.argmax(probs))] > 0:
                top_ok += 1
            declined_ans += declined
        else:
            declined_un += declined
    out = {
        "top1_fact": top_ok / max(len(answerable), 1),
        "reachable": sum(1 for r in answerable if r.y.any()) / max(len(answerable), 1),
        "n_answerable": float(len(answerable)),
        "n_unanswerable": float(len(unanswerable)),
    }
    if threshold is not None:
        out["false_declines"] = declined_ans / max(len(answerable), 1)
        out["correct_declines"] = declined_un / max(len(unanswerable), 1)
    return out


def ratings(model: TreeModel, r: Rows) -> np.ndarray:
    return model.predict(r.x) if len(r.y) else np.zeros(0)


def declined(model: TreeModel, r: Rows, probs: np.ndarray) -> bool:
    """The answerer's own decision (`retrieval.answerability.declines`) for one question's rows."""
    return declines(model, analyse(r.question.question), r.cands, r.x, probs, r.chunks)


def answer_figures(model: TreeModel, rows: Sequence[Rows], policy: ShapePolicy) -> dict[str, float]:
    """What `newsdesk eval` would report for the answers these rows give (declining as the answerer does, with the
    model's threshold or answerability model): fact contained, declines, words."""
    ok = false_declines = correct_declines = 0
    words: list[int] = []
    answerable = [r for r in rows if r.question.answerable]
    for r in rows:
        probs = ratings(model, r)
        no = declined(model, r, probs)
        if not r.question.answerable:
            correct_declines += no
            continue
        if no:
            false_declines += 1
            continue
        quotes = shape(r.question.question, r.cands, probs, policy)
        text = " ".join(one_line(q.text) for q in quotes)
        words.append(len(text.split()))
        right_article = any(q.cand.chunk.article_id in r.question.gold_articles for q in quotes)
        ok += right_article and any(contains_phrase(text, m) for m in r.question.must_contain)
    unanswerable = len(rows) - len(answerable)
    return {
        "fact": ok / max(len(answerable), 1),
        "false_declines": false_declines / max(len(answerable), 1),
        "correct_declines": correct_declines / max(unanswerable, 1),
        "within_60_words": sum(1 for w in words if w <= MAX_WORDS) / max(len(words), 1),
    }


def calibrate(model: TreeModel, dev: Sequence[Rows]) -> float:
    best = [float(ratings(model, r).max()) if len(r.y) else 0.0 for r in dev]
    return abstain_threshold(
        [b for b, r in zip(best, dev, strict=True) if r.question.answerable],
        [b for b, r in zip(best, dev, strict=True) if not r.question.answerable],
        MAX_FALSE_DECLINES,
    )


def dev_accuracy(model: TreeModel, dev: Sequence[Rows]) -> float:
    """Share of dev questions handled right (fact quoted, or declined when unanswerable) at the calibrated threshold:
    the criterion that picks the model's settings, so answering and declining are chosen together."""
    model.abstain_below = calibrate(model, dev)
    figures = answer_figures(model, dev, ShapePolicy())
    n_answerable = sum(1 for r in dev if r.question.answerable)
    right = figures["fact"] * n_answerable + figures["correct_declines"] * (len(dev) - n_answerable)
    return right / max(len(dev), 1)


# --- the question-level answerability model ----------------------------------------------------------------------
FOLDS = 5


def article_of(r: Rows) -> str:
    return r.question.about or r.question.doc_id or r.question.id


def out_of_fold(rows: Sequence[Rows], params: dict[str, Any]) -> list[np.ndarray]:
    """The selector's ratings of each train question from a model fitted without that question's article (folds by
    article), so the answerability model learns how the selector rates articles it has never seen."""
    articles = sorted({article_of(r) for r in rows})
    order = np.random.default_rng(SEED).permutation(len(articles))
    fold = {a: int(order[i] % FOLDS) for i, a in enumerate(articles)}
    out: list[np.ndarray] = [np.zeros(0)] * len(rows)
    for k in range(FOLDS):
        model = fit_trees([r for r in rows if fold[article_of(r)] != k], params)
        for i, r in enumerate(rows):
            if fold[article_of(r)] == k:
                out[i] = ratings(model, r)
    return out


def question_matrix(rows: Sequence[Rows], probs: Sequence[np.ndarray]) -> np.ndarray:
    return np.array(
        [
            question_row(analyse(r.question.question), r.cands, r.x, p, r.chunks)
            if len(r.y)
            else np.zeros(len(QUESTION_FEATURES))
            for r, p in zip(rows, probs, strict=True)
        ]
    ).reshape(len(rows), len(QUESTION_FEATURES))


def fit_gate(x: np.ndarray, y: np.ndarray, spec: dict[str, Any]) -> Gate:
    """Logistic regression (scikit-learn) or bagged monotone trees (LightGBM) for P(answerable)."""
    if spec["kind"] == "logistic":
        from sklearn.linear_model import LogisticRegression

        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        scale[scale < 1e-9] = 1.0
        fitted = LogisticRegression(C=spec["C"], max_iter=5000).fit((x - mean) / scale, y)
        return LinearModel(list(QUESTION_FEATURES), mean, scale, fitted.coef_[0].copy(), float(fitted.intercept_[0]))
    return bagged_trees(
        x,
        y,
        list(QUESTION_FEATURES),
        [QUESTION_MONOTONE.get(name, 0) for name in QUESTION_FEATURES],
        {k: v for k, v in spec.items() if k != "kind"},
    )


def calibrate_gate(gate: Gate, x: np.ndarray, answerable: np.ndarray) -> float:
    scores = gate.predict(x) if len(x) else np.zeros(0)
    return abstain_threshold(list(scores[answerable]), list(scores[~answerable]), MAX_FALSE_DECLINES)


GATES: tuple[dict[str, Any], ...] = (
    {"kind": "logistic", "C": 0.01},
    {"kind": "logistic", "C": 0.03},
    {"kind": "logistic", "C": 0.1},
    {"kind": "gbdt", "n_estimators": 150, "learning_rate": 0.03, "num_leaves": 7, "min_child_samples": 40},
    {"kind": "gbdt", "n_estimators": 300, "learning_rate": 0.02, "num_leaves": 4, "min_child_samples": 30},
)


def choose_gate(
    model: TreeModel, train: Sequence[Rows], dev: Sequence[Rows], params: dict[str, Any]
) -> tuple[Gate, dict[str, Any], dict[str, dict[str, float]]]:
    """Fit every `GATES` entry on train (out-of-fold ratings), calibrate each on dev (<= 5% false declines), keep
    the one that handles the most dev questions right (fact quoted, or declined when unanswerable): declining an
    answerable question the selector would get wrong costs less than declining one it gets right. Ties: the
    earlier, simpler entry."""
    x_train = question_matrix(train, out_of_fold(train, params))
    y_train = np.array([r.question.answerable for r in train])
    x_dev = question_matrix(dev, [ratings(model, r) for r in dev])
    y_dev = np.array([r.question.answerable for r in dev])
    best: tuple[float, Gate, dict[str, Any]] | None = None
    tried: dict[str, dict[str, float]] = {}
    for spec in GATES:
        gate = fit_gate(x_train, y_train.astype(np.float64), spec)
        gate.abstain_below = calibrate_gate(gate, x_dev, y_dev)
        model.answerability = gate
        figures = answer_figures(model, dev, ShapePolicy())
        right = figures["fact"] * y_dev.sum() + figures["correct_declines"] * (~y_dev).sum()
        tried[str(spec)] = {**figures, "handled_right": float(right / max(len(dev), 1))}
        sys.stderr.write(f"  gate {spec}: " + ", ".join(f"{k} {v:.3f}" for k, v in tried[str(spec)].items()) + "\n")
        if best is None or right > best[0] + 1e-9:
            best = (right, gate, spec)
    model.answerability = None
    assert best is not None
    return best[1], best[2], tried


SHAPES: tuple[ShapePolicy, ...] = tuple(
    ShapePolicy(second_ratio=ratio, anaphora=anaphora, why_reason=why)
    for ratio in (2.0, 0.75, 0.45, 0.3, 0.2)
    for anaphora in (True, False)
    for why in (True, False)
)


GRID: tuple[dict[str, Any], ...] = tuple(
    {"objective": objective, "n_estimators": n, "learning_rate": lr, "num_leaves": leaves, "min_child_samples": mcs}
    for objective in ("binary", "lambdarank")
    for n, lr in ((100, 0.05), (250, 0.03))
    for leaves in (15,)
    for mcs in (20, 60)
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, required=True, action="append", help="question bank(s) with splits")
    parser.add_argument(
        "--corpus", type=Path, required=True, help="article JSONL that resolves locators and is ingested"
    )
    parser.add_argument("--data-dir", type=Path, default=Path(".newsdesk-train"), help="scratch store for the corpus")
    parser.add_argument("--cache", type=Path, default=None, help="pickle of retrieval results (reused when present)")
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument(
        "--extra-dev",
        nargs=2,
        action="append",
        default=[],
        metavar=("DATASET", "ARTICLES"),
        help="a dev-only question set asked of its own small collection (e.g. the sample article), so the model and "
        "threshold are chosen for small collections too",
    )
    parser.add_argument("--out", type=Path, required=True, help="where to write the fitted selector (JSON)")
    args = parser.parse_args(argv)

    questions: list[Question] = []
    texts = load_corpus_texts(args.corpus)
    for path in args.dataset:
        questions += resolve_locators(load_dataset(path), texts)
    if args.cache and args.cache.exists():
        retrieved: list[Retrieved] = pickle.loads(args.cache.read_bytes())
        known = {r.question.question: r for r in retrieved}  # keyed by the text: retrieval depends on nothing else
        todo = [q for q in questions if q.question not in known]
        if todo:
            retrieved += retrieve_all(todo, args.data_dir, args.corpus, args.k)
        by_text = {r.question.question: r for r in retrieved}
        retrieved = [Retrieved(q, by_text[q.question].chunks, by_text[q.question].vector) for q in questions]
    else:
        retrieved = retrieve_all(questions, args.data_dir, args.corpus, args.k)
    if args.cache:
        args.cache.write_bytes(pickle.dumps(retrieved))

    for n, (extra, articles) in enumerate(args.extra_dev):
        extra_questions = [replace(q, split="dev") for q in load_dataset(extra)]
        retrieved += retrieve_all(extra_questions, args.data_dir, Path(articles), args.k, collection=f"extra-dev-{n}")
    rows = [rows_for(r) for r in retrieved]
    split = {name: [r for r in rows if r.question.split == name] for name in ("train", "dev", "test")}
    # Users also ask a collection of one or two articles. Each train question is therefore seen a second time as
    # if only its top-ranked article were ingested, so the model (and its decline threshold) holds for small
    # collections too, where every candidate comes from one article.
    split["train"] += [
        rows_for(Retrieved(r.question, single, r.vector))
        for r in retrieved
        if r.question.split == "train"
        and (single := [c for c in r.chunks if c.article_id == r.chunks[0].article_id]) != r.chunks
    ]
    log = sys.stderr.write
    log(f"questions: { {k: len(v) for k, v in split.items()} }\n")

    best: tuple[float, dict[str, Any], TreeModel] | None = None
    for params in GRID:
        model = fit_trees(split["train"], params)
        score = dev_accuracy(model, split["dev"])
        log(f"  dev accuracy {score:.3f}  {params}\n")
        if best is None or score > best[0] + 1e-9:
            best = (score, params, model)
    assert best is not None
    _, params, model = best
    threshold = calibrate(model, split["dev"])
    model.abstain_below = threshold  # the fallback decision, and what `selection_figures` report
    report = {name: evaluate(model, split[name], threshold) for name in ("train", "dev", "test")}
    plain = {name: answer_figures(model, split[name], ShapePolicy()) for name in ("train", "dev", "test")}
    gate, gate_spec, gates_tried = choose_gate(model, split["train"], split["dev"], params)
    model.answerability = gate
    shapes = []
    for policy in SHAPES:
        figures = answer_figures(model, split["dev"], policy)
        shapes.append((figures["fact"] if figures["within_60_words"] >= 0.95 else -1.0, policy.second_ratio, policy))
        log(f"  dev shape {policy}: " + ", ".join(f"{k} {v:.3f}" for k, v in figures.items()) + "\n")
    policy = max(shapes, key=lambda t: (t[0], t[1]))[2]
    answers = {name: answer_figures(model, split[name], policy) for name in ("train", "dev", "test")}
    for name, figures in answers.items():
        log(f"{name} answers ({policy}): " + ", ".join(f"{k} {v:.3f}" for k, v in figures.items()) + "\n")
    for name, figures in report.items():
        log(f"{name}: " + ", ".join(f"{k} {v:.3f}" for k, v in figures.items()) + "\n")
    gate.meta = {"chosen_on": "dev", "spec": gate_spec, "dev_figures_by_spec": gates_tried, "folds": FOLDS}
    model.meta = {
        "schema": SCHEMA_VERSION,
        "chosen_on": "dev",
        "params": params,
        "seed": SEED,
        "k": args.k,
        "datasets": [str(p) for p in args.dataset],
        "extra_dev": [list(pair) for pair in args.extra_dev],
        "selection_figures": report,
        "answer_figures": answers,
        "answer_figures_without_answerability": plain,
        "shape": {"second_ratio": policy.second_ratio, "anaphora": policy.anaphora, "why_reason": policy.why_reason},
        "shape_figures_dev": {
            str(p): answer_figures(model, split["dev"], p)
            for p in (
                policy,
                ShapePolicy(2.0, policy.anaphora, policy.why_reason),
                ShapePolicy(policy.second_ratio, not policy.anaphora, policy.why_reason),
                ShapePolicy(policy.second_ratio, policy.anaphora, not policy.why_reason),
            )
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(model.to_dict(), separators=(",", ":")) + "\n", encoding="utf-8")
    log(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB), decline below {gate.abstain_below:.3f}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
