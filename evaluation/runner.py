"""Run a dataset through the same chain `newsdesk ask` uses and write `results.jsonl`, `metrics.json`, `report.html`.

The runner only talks to the public parts of `Services` (ingestor, chain, store.get_article/list_articles,
embedder), so what it measures is what a user gets. One failing question is recorded as a failure with its error
and the run goes on: a long evaluation must not be lost to one bad input.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from evaluation import metrics
from evaluation.dataset import Question
from evaluation.report import render_report
from evaluation.scoring import ChunkLike, Outcome, score_question
from retrieval.verification import summarize_verification

if TYPE_CHECKING:
    from newsdesk.services import Services

log = logging.getLogger(__name__)
FORMAT_VERSION = 1


class EvalError(RuntimeError):
    """The evaluation cannot start (nothing to evaluate against); the message says what to do."""


@dataclass
class EvalRun:
    """A finished run: the `metrics.json` object, every question's outcome, and where the files went."""

    summary: dict[str, Any]
    outcomes: list[Outcome]
    out_dir: Path


def default_out_dir(base: Path = Path("eval-runs"), now: datetime | None = None) -> Path:
    """`eval-runs/<YYYYmmdd-HHMMSS>/`, so runs sort by time and never overwrite each other."""
    return base / (now or datetime.now()).strftime("%Y%m%d-%H%M%S")


def _answerer_name(svc: Services) -> str:
    provider = svc.settings.llm_provider
    return "extractive" if provider == "none" else f"{provider}:{svc.settings.llm_model or 'default'}"


def _ingest(svc: Services, paths: Sequence[str], collection: str, console: Console) -> None:
    report = svc.ingestor.ingest(list(paths), collection=collection)
    console.print(f"[bold]ingest[/] into [cyan]{collection}[/]: {report.summary()}")
    for failure in report.failed:
        console.print(f"  [red]failed[/] {failure.source}: {failure.reason}")
    if report.failed and not (report.added or report.updated or report.unchanged):
        raise EvalError(f"nothing could be ingested from {', '.join(paths)}")


def _check_collection(svc: Services, questions: Sequence[Question], collection: str, console: Console) -> None:
    present = {a.article_id for a in svc.store.list_articles(collection)}
    if not present:
        raise EvalError(
            f"collection {collection!r} has no articles: pass --ingest PATH (e.g. --ingest examples/articles)"
        )
    missing = sorted({q.doc_id for q in questions if q.doc_id and q.doc_id not in present})
    if missing:
        shown = ", ".join(missing[:8]) + (" ..." if len(missing) > 8 else "")
        console.print(
            f"[yellow]warning[/]: {len(missing)} article(s) the dataset refers to are not in {collection!r}: {shown}"
        )


def _ask(svc: Services, question: Question, collection: str, k: int) -> tuple[dict[str, Any], list[ChunkLike]]:
    """Answer one question exactly as `newsdesk ask --json` would, and return the chunks retrieval found."""
    try:
        result = svc.chain.invoke({"question": question.question, "collection": collection, "k": k})
        # The chunks the answerer saw, from the same call: retrieval is not run a second time.
        answer = result.to_dict()
        chunks: list[ChunkLike] = list(result.chunks)
    except Exception as exc:  # noqa: BLE001 - any failure of one question is recorded, not fatal
        log.exception("question %s failed", question.id)
        empty: dict[str, Any] = {
            "question": question.question,
            "answer": "",
            "abstained": False,
            "citations": [],
            "timings_ms": {},
            "error": f"{type(exc).__name__}: {exc}",
        }
        return empty, []
    return answer, chunks


def run_eval(
    svc: Services,
    questions: Sequence[Question],
    *,
    dataset: str,
    out_dir: Path,
    collection: str | None = None,
    k: int | None = None,
    ingest: Sequence[str] = (),
    console: Console | None = None,
    progress: bool = True,
) -> EvalRun:
    """Ingest (optional), answer and score every question, write the three output files, return the run."""
    console = console or Console(stderr=True)
    collection = collection or svc.settings.collection
    k = k or svc.settings.top_k
    if ingest:
        _ingest(svc, ingest, collection, console)
    _check_collection(svc, questions, collection, console)

    texts: dict[str, str | None] = {}

    def article_text(article_id: str) -> str | None:
        if article_id not in texts:
            article = svc.store.get_article(collection, article_id)
            texts[article_id] = article.text if article is not None else None
        return texts[article_id]

    embed: Callable[[list[str]], Sequence[Sequence[float]]] = svc.embedder.embed_documents
    outcomes: list[Outcome] = []
    bar = Progress(
        TextColumn("[bold]eval[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
        disable=not progress,
    )
    with bar:
        task = bar.add_task("", total=len(questions))
        for question in questions:
            bar.update(task, description=question.id)
            answer, chunks = _ask(svc, question, collection, k)
            outcomes.append(score_question(question, answer, chunks, k, article_text, embed))
            bar.advance(task)

    summary = summarize_run(outcomes, dataset=dataset, collection=collection, k=k, answerer=_answerer_name(svc))
    write_run(out_dir, summary, outcomes)
    return EvalRun(summary, outcomes, out_dir)


def _by_split(outcomes: Sequence[Outcome]) -> dict[str, dict[str, float | None]]:
    """Overall figures per split, for datasets whose questions carry one (empty otherwise)."""
    groups: dict[str, list[Outcome]] = {}
    for o in outcomes:
        if o.question.split:
            groups.setdefault(o.question.split, []).append(o)
    out: dict[str, dict[str, float | None]] = {}
    for name in ("train", "dev", "test"):
        group = groups.get(name)
        if group:
            out[name] = metrics.aggregate(
                [o.scores for o in group], [o.question.kind for o in group], [o.latency_ms for o in group]
            ).overall
    return out


def summarize_run(outcomes: Sequence[Outcome], **settings: Any) -> dict[str, Any]:
    """The `metrics.json` object: run settings, overall and per-kind numbers, and each question's scores."""
    aggregated = metrics.aggregate(
        [o.scores for o in outcomes], [o.question.kind for o in outcomes], [o.latency_ms for o in outcomes]
    )
    return {
        "format": FORMAT_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **settings,
        "n_questions": len(outcomes),
        "support_rule": metrics.SUPPORT_RULE,
        # LLM mode: how many sentences and citations verification removed, and how often it fell back (else None).
        "verification": summarize_verification(o.answer.get("verification") for o in outcomes),
        "overall": aggregated.overall,
        "by_kind": aggregated.by_kind,
        # Tuned on train, chosen on dev: only the test split's figures are a result (see docs/evaluation.md).
        "by_split": _by_split(outcomes),
        "questions": [o.to_dict() for o in outcomes],
    }


def write_run(out_dir: Path, summary: dict[str, Any], outcomes: Sequence[Outcome]) -> None:
    """Write `results.jsonl` (the `ask --json` object plus `id`), `metrics.json` and `report.html`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "results.jsonl").open("w", encoding="utf-8") as handle:
        for o in outcomes:
            handle.write(json.dumps({"id": o.question.id, **o.answer}, ensure_ascii=False) + "\n")
    (out_dir / "metrics.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out_dir / "report.html").write_text(render_report(summary, outcomes), encoding="utf-8")
