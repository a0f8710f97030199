"""`newsdesk eval`: a typer sub-app the main CLI mounts (`app.add_typer(eval_app, name="eval")`).

Thin by design: parse options, build `Services` from the one `Settings`, call `evaluation.runner`, print. The main
CLI may put its `Settings` in `ctx.obj` (or an object with a `settings` attribute); otherwise they are read from the
environment and `.env` here, at the entry point, as everywhere else in newsdesk.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from evaluation.compare import (
    RunError,
    compare_table,
    load_metrics,
    load_thresholds,
    regressions,
    threshold_failures,
)
from evaluation.context import settings_from
from evaluation.dataset import (
    DatasetError,
    Question,
    check_evidence,
    load_corpus_texts,
    load_dataset,
    resolve_locators,
    select_split,
)
from evaluation.metrics import ALL_METRICS
from evaluation.report import TABLE_METRICS, format_value
from evaluation.verify_cli import register as register_verification

if TYPE_CHECKING:
    from newsdesk.services import Services

DATASETS_DIR = Path(__file__).parent / "datasets"
SAMPLE_DATASET = DATASETS_DIR / "sample.jsonl"

eval_app = typer.Typer(
    help="Measure answer quality on a question set: retrieval, answers, citations, abstention, latency.",
    no_args_is_help=False,
    rich_markup_mode=None,
)


def _consoles() -> tuple[Console, Console]:
    """stdout for results, stderr for progress and errors; long lines are not wrapped, so they stay greppable."""
    return Console(highlight=False, soft_wrap=True), Console(stderr=True, highlight=False, soft_wrap=True)


def _services(ctx: typer.Context) -> tuple[Services, bool]:
    """The `Services` to use and whether this command owns (and so must close) them.

    A caller that already holds `Services` (a test, or a front end with the model loaded) passes them as `obj`.
    """
    from newsdesk.services import Services

    obj = ctx.find_root().obj
    if isinstance(obj, Services):
        return obj, False
    return Services(settings_from(ctx)), True


SHORT_LABELS = {
    "pass": "pass",
    "accuracy": "accuracy",
    "answer_has_fact": "has the fact",
    "token_f1": "token F1",
    "hit_at_k": "hit@k",
    "mrr_at_k": "MRR@k",
    "evidence_recall_at_k": "evidence@k",
    "cited_right_article": "right article",
    "quote_faithfulness": "quotes verbatim",
    "support": "support",
    "correct_abstention": "correct declines",
    "false_abstention": "false declines",
    "latency_p50_ms": "latency p50",
    "latency_p95_ms": "latency p95",
}
SHORT_KINDS = {"paraphrase": "paraphr.", "unanswerable": "unansw."}


def _cell(metric: str, value: float | None) -> str:
    return format_value(metric, value).replace(" ms", "ms")


def summary_table(summary: Mapping[str, Any]) -> Table:
    """The compact terminal summary: one row per metric, one column for overall and one per kind (fits 80 columns)."""
    by_kind: Mapping[str, Mapping[str, float | None]] = summary["by_kind"]
    table = Table(
        title=f"{summary.get('dataset')}: {summary.get('n_questions')} questions, k={summary.get('k')}",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("metric", no_wrap=True)
    table.add_column("overall", justify="right", style="bold", no_wrap=True)
    for kind in by_kind:
        label = SHORT_KINDS.get(kind, kind)
        table.add_column(f"{label}\n({int(by_kind[kind].get('n') or 0)})", justify="right", no_wrap=True)
    for metric in TABLE_METRICS:
        table.add_row(
            SHORT_LABELS[metric],
            _cell(metric, summary["overall"].get(metric)),
            *(_cell(metric, by_kind[kind].get(metric)) for kind in by_kind),
        )
    return table


def load_with_corpus(dataset: Path, corpus: Path | None) -> list[Question]:
    """Load DATASET and resolve its evidence locators from CORPUS; a locator dataset without a corpus is an error."""
    questions = load_dataset(dataset)
    if not any(q.needs_corpus for q in questions):
        return questions
    if corpus is None:
        raise DatasetError(
            [
                f"{dataset} stores its evidence as locators into a corpus that is not in the repository: pass "
                "--corpus PATH (the BBC corpus, bbc-news-2225.jsonl; docs/evaluation.md says where to get it)"
            ]
        )
    if not corpus.is_file():
        raise DatasetError([f"{corpus}: no such corpus file"])
    return resolve_locators(questions, load_corpus_texts(corpus, {q.doc_id for q in questions if q.doc_id}))


def split_table(summary: Mapping[str, Any]) -> Table:
    """Train / dev / test side by side: the selector is fitted on train and chosen on dev; test is the result."""
    by_split: Mapping[str, Mapping[str, float | None]] = summary["by_split"]
    table = Table(title="per split (only test is a result)", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("metric", no_wrap=True)
    for name, values in by_split.items():
        table.add_column(f"{name}\n({int(values.get('n') or 0)})", justify="right", no_wrap=True)
    for metric in TABLE_METRICS:
        table.add_row(SHORT_LABELS[metric], *(_cell(metric, values.get(metric)) for values in by_split.values()))
    return table


@eval_app.callback(invoke_without_command=True)
def run(
    ctx: typer.Context,
    dataset: Annotated[
        Path, typer.Option("--dataset", "-d", help="Questions, JSON Lines (see evaluation/README.md).")
    ] = SAMPLE_DATASET,
    ingest: Annotated[
        list[str] | None,
        typer.Option("--ingest", "-i", help="Ingest this file, folder or URL first (repeatable; idempotent)."),
    ] = None,
    collection: Annotated[str | None, typer.Option("--collection", "-c", help="Collection to ask.")] = None,
    k: Annotated[int | None, typer.Option("-k", "--top-k", min=1, max=50, help="Chunks to retrieve.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output folder [default: eval-runs/<timestamp>/].")
    ] = None,
    thresholds: Annotated[
        Path | None,
        typer.Option("--thresholds", help="JSON floors/ceilings (evaluation/thresholds*.json); exit 1 when missed."),
    ] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
    corpus: Annotated[
        Path | None,
        typer.Option("--corpus", help="Article JSONL (id, text) that resolves the dataset's evidence locators."),
    ] = None,
    split: Annotated[
        str | None, typer.Option("--split", help="Only this split: train, dev or test [default: every question].")
    ] = None,
) -> None:
    """Run every question of DATASET through the same chain as `newsdesk ask` and write a report."""
    if ctx.invoked_subcommand is not None:
        return
    from evaluation.runner import EvalError, default_out_dir, run_eval

    out_console, err_console = _consoles()
    try:
        questions = select_split(load_with_corpus(dataset, corpus), split)
        if not questions:
            raise DatasetError([f"{dataset}: no questions in split {split!r}"])
        limits = load_thresholds(thresholds) if thresholds else None
    except (DatasetError, RunError) as exc:
        err_console.print(f"[red]error[/]: {exc}", markup=True, highlight=False)
        raise typer.Exit(2) from None
    out_dir = out or default_out_dir()
    svc, owned = _services(ctx)
    try:
        result = run_eval(
            svc,
            questions,
            dataset=str(dataset),
            out_dir=out_dir,
            collection=collection,
            k=k,
            ingest=ingest or (),
            console=err_console,
            progress=progress,
        )
    except EvalError as exc:
        err_console.print(f"[red]error[/]: {exc}", highlight=False)
        raise typer.Exit(1) from None
    finally:
        if owned:
            svc.close()
    out_console.print(summary_table(result.summary))
    if result.summary.get("by_split"):
        out_console.print(split_table(result.summary))
    failing = sum(1 for o in result.outcomes if not o.passed)
    out_console.print(f"{failing} of {len(result.outcomes)} questions failing; report: {out_dir / 'report.html'}")
    if limits is not None:
        problems = threshold_failures(result.summary["overall"], limits)
        for problem in problems:
            err_console.print(f"[red]below threshold[/]: {problem}", highlight=False)
        if problems:
            raise typer.Exit(1)
        err_console.print(f"[green]all thresholds of {thresholds} met[/]")


@eval_app.command()
def compare(
    run_a: Annotated[Path, typer.Argument(help="Baseline run folder (or its metrics.json).")],
    run_b: Annotated[Path, typer.Argument(help="New run folder (or its metrics.json).")],
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", "-m", help=f"Guarded metric (repeatable; default accuracy): {', '.join(ALL_METRICS)}"),
    ] = None,
    max_drop: Annotated[
        float | None, typer.Option("--max-drop", help="Fail when a guarded metric gets worse by more than this.")
    ] = None,
    fail_under: Annotated[
        float | None, typer.Option("--fail-under", help="Fail when a guarded metric of RUN_B is below this.")
    ] = None,
) -> None:
    """Print RUN_A and RUN_B side by side; exit 1 when a guarded metric regressed."""
    out_console, err_console = _consoles()
    chosen = metric or ["accuracy"]
    unknown = [m for m in chosen if m not in ALL_METRICS]
    if unknown:
        err_console.print(f"[red]error[/]: unknown metric(s) {', '.join(unknown)}; known: {', '.join(ALL_METRICS)}")
        raise typer.Exit(2)
    try:
        a, b = load_metrics(run_a), load_metrics(run_b)
    except RunError as exc:
        err_console.print(f"[red]error[/]: {exc}", highlight=False)
        raise typer.Exit(2) from None
    out_console.print(compare_table(a, b, str(run_a), str(run_b)))
    problems = regressions(a, b, chosen, max_drop=max_drop, fail_under=fail_under)
    for problem in problems:
        err_console.print(f"[red]regression[/]: {problem}", highlight=False)
    if problems:
        raise typer.Exit(1)


@eval_app.command()
def check(
    ctx: typer.Context,
    dataset: Annotated[Path, typer.Argument(help="Questions file to check.")],
    corpus: Annotated[
        Path | None, typer.Option("--corpus", help="Article JSONL (id, text) to check against, instead of the store.")
    ] = None,
    collection: Annotated[str | None, typer.Option("--collection", "-c", help="Collection to check against.")] = None,
) -> None:
    """Validate DATASET and check each evidence sentence is verbatim in its article."""
    out_console, err_console = _consoles()
    try:
        questions = load_dataset(dataset)
        ids = {q.doc_id for q in questions if q.doc_id} | {loc.doc for q in questions for loc in q.locators}
        if corpus is not None:
            if not corpus.is_file():
                raise DatasetError([f"{corpus}: no such corpus file"])
            texts = load_corpus_texts(corpus, ids)
        else:
            svc, owned = _services(ctx)
            try:
                name = collection or svc.settings.collection
                texts = {}
                for article_id in ids:
                    article = svc.store.get_article(name, article_id)
                    if article is not None:
                        texts[article_id] = article.text
            finally:
                if owned:
                    svc.close()
    except DatasetError as exc:
        err_console.print(f"[red]error[/]: {exc}", highlight=False)
        raise typer.Exit(2) from None
    problems = check_evidence(questions, texts)
    for problem in problems:
        err_console.print(f"[red]problem[/]: {problem}", highlight=False)
    if problems:
        raise typer.Exit(1)
    located = sum(1 for q in questions if q.locators)
    detail = f" ({located} located by offsets and hash)" if located else ""
    out_console.print(
        f"{dataset}: {len(questions)} questions, every evidence sentence is verbatim in its article{detail}"
    )


register_verification(eval_app)  # `newsdesk eval verification`: the citation verifier on its labelled set
