"""`newsdesk eval verification`: the citation verifier on the labelled (claim, passage) set.

Mounted by the evaluation CLI with `register(eval_app)`. It resolves the set's locators from the corpus file (the
BBC corpus is never in the repository), runs every claim through the same verifier LLM answers go through, and
prints per kind how many true claims were kept and how many false ones were shown, per split. Only the test split's
figures are a result: the checks were tuned on train and chosen on dev.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from evaluation.context import settings_from
from evaluation.splits import SPLITS
from evaluation.verification_set import (
    DATASET,
    VerificationSetError,
    below_floors,
    describe_errors,
    format_table,
    load_corpus,
    load_pairs,
    make_verifier,
    passes,
    score,
)


def verification(
    ctx: typer.Context,
    corpus: Annotated[Path, typer.Option("--corpus", help="The articles JSONL the set's locators point into.")],
    dataset: Annotated[Path, typer.Option("--dataset", help="The labelled pairs (JSON Lines).")] = DATASET,
    split: Annotated[str | None, typer.Option("--split", help="Only this split: train, dev or test.")] = None,
    show_errors: Annotated[bool, typer.Option("--show-errors", help="List every wrong verdict.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the figures as JSON here.")] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 unless test meets the bar (<=5% shown, <=10% per kind, >=95% kept).")
    ] = False,
    floors: Annotated[
        Path | None,
        typer.Option(
            "--floors",
            help="Exit 1 when test falls below these regression floors (JSON: min_true_kept, max_false_shown).",
        ),
    ] = None,
) -> None:
    """Measure the citation verifier: true claims kept and false claims shown, per kind and split."""
    if split is not None and split not in SPLITS:
        raise typer.BadParameter(f"--split must be one of {', '.join(SPLITS)}")
    try:
        pairs = load_pairs(dataset)
    except (OSError, VerificationSetError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if split is not None:
        pairs = [p for p in pairs if p.split == split]
    if not corpus.is_file():
        typer.echo(f"error: corpus file not found: {corpus}", err=True)
        raise typer.Exit(2)
    articles = load_corpus(corpus, {p.passage.doc for p in pairs})
    missing = sorted({p.passage.doc for p in pairs} - articles.keys())
    if missing:
        typer.echo(f"error: {len(missing)} articles of the set are not in {corpus} (e.g. {missing[0]})", err=True)
        raise typer.Exit(2)
    summaries, outcomes = score(make_verifier(settings_from(ctx)), pairs, articles)
    if show_errors:
        for line in describe_errors(outcomes):
            typer.echo(line)
    for name, summary in summaries.items():
        typer.echo(format_table(summary, name))
        typer.echo("")
    if out is not None:
        out.write_text(json.dumps(summaries, indent=2) + "\n", encoding="utf-8")
    target = summaries.get("test") if split in (None, "test") else None
    if check and (target is None or not passes(target)):
        typer.echo("verification set: below the bar on the test split", err=True)
        raise typer.Exit(1)
    if floors is not None:
        problems = below_floors(target or {}, json.loads(floors.read_text(encoding="utf-8"))["min_max"])
        for problem in problems:
            typer.echo(f"verification set, test split: {problem}", err=True)
        if problems or target is None:
            raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `verification` to the evaluation sub-app (`newsdesk eval verification`)."""
    app.command("verification")(verification)
