"""The `newsdesk` command line: parse arguments, call the package API, print. Nothing else lives here.

Heavy libraries (torch, Chroma, LangChain) are imported inside commands, so `newsdesk --help` stays fast.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from newsdesk.settings import Settings

if TYPE_CHECKING:
    from newsdesk.services import Services
    from retrieval.answer import Answer

app = typer.Typer(
    name="newsdesk",
    help="Answer questions about news articles with citations you can check. Offline by default.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
feedback_app = typer.Typer(help="Reader feedback collected by the Discord bot.", no_args_is_help=True)
app.add_typer(feedback_app, name="feedback")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

CollectionOpt = Annotated[str | None, typer.Option("--collection", "-c", help="Collection (default from settings).")]


def _services() -> Services:
    from newsdesk.services import Services

    return Services(Settings())


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", markup=True)
    return typer.Exit(code)


@app.callback()
def _root(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more.")] = False) -> None:
    from newsdesk.redaction import install_redaction, settings_secrets

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        install_redaction(settings_secrets(Settings()))  # keys never reach stderr, whatever logs them
    except ValueError:
        pass  # invalid settings are reported by the command that reads them


@app.command()
def ingest(
    inputs: Annotated[list[str], typer.Argument(help="Files, folders, http(s) URLs, or - for stdin.")],
    collection: CollectionOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Load, clean, chunk and embed articles into the knowledge base (idempotent)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from retrieval.errors import StoreUnavailable

    svc = _services()
    try:
        with Progress(
            TextColumn("ingesting"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[chunks]} chunks"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=as_json or not err.is_terminal,
        ) as progress:
            task = progress.add_task("ingest", total=None, chunks=0)
            report = svc.ingestor.ingest(
                inputs, collection, progress=lambda n, r: progress.update(task, completed=n, chunks=r.chunks)
            )
    except (StoreUnavailable, ValueError) as exc:
        raise _fail(str(exc)) from exc
    finally:
        svc.close()
    if as_json:
        out.print_json(json.dumps(report.to_dict()))
    else:
        for failure in report.failed:
            err.print(f"[red]failed[/red] {failure.source}: {failure.reason}", markup=True)
        out.print(report.summary())
    if report.failed:
        raise typer.Exit(1)


def _print_answer(answer: Answer) -> None:
    out.print(answer.answer)
    if answer.note:
        out.print(f"[dim]({answer.note})[/dim]")
    if answer.citations:
        out.print("\n[bold]Sources[/bold]")
        for c in answer.citations:
            out.print(f"[{c.n}] [bold]{c.title}[/bold] — {c.source}", markup=True)
            out.print("    > " + " ".join(c.quote.split()), markup=False)


@app.command()
def ask(
    question: Annotated[str | None, typer.Argument(help="The question.")] = None,
    collection: CollectionOpt = None,
    k: Annotated[int | None, typer.Option("-k", help="Chunks to retrieve.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    questions: Annotated[
        Path | None, typer.Option("--questions", help="Answer every question of a JSONL file.")
    ] = None,
    out_path: Annotated[Path | None, typer.Option("--out", help="Where --questions writes results (JSONL).")] = None,
) -> None:
    """Answer a question from the ingested articles, with numbered, quoted sources."""
    from retrieval.errors import BadQuestion, StoreUnavailable

    if (question is None) == (questions is None):
        raise _fail("give a QUESTION or --questions FILE (one of them)", 2)
    svc = _services()
    try:
        if questions is not None:
            _ask_file(svc, questions, out_path, collection, k)
            return
        assert question is not None
        answer = svc.chain.ask(question, collection=collection, k=k)
    except BadQuestion as exc:
        raise _fail(str(exc), 2) from exc
    except (StoreUnavailable, ValueError) as exc:
        raise _fail(str(exc)) from exc
    finally:
        svc.close()
    if as_json:
        out.print(json.dumps(answer.to_dict(), ensure_ascii=False), markup=False)
    else:
        _print_answer(answer)


def _ask_file(svc: Services, path: Path, out_path: Path | None, collection: str | None, k: int | None) -> None:
    from rich.progress import track

    from retrieval.errors import BadQuestion

    try:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, json.JSONDecodeError) as exc:
        raise _fail(f"cannot read {path}: {exc}") from exc
    sink = out_path.open("w", encoding="utf-8") if out_path else sys.stdout
    try:
        for row in track(rows, description="asking", console=err, transient=True, disable=not err.is_terminal):
            try:
                result = svc.chain.ask(str(row.get("question", "")), collection=collection, k=k).to_dict()
            except BadQuestion as exc:
                result = {"question": row.get("question"), "error": str(exc)}
            sink.write(json.dumps({"id": row.get("id"), **result}, ensure_ascii=False) + "\n")
    finally:
        if out_path:
            sink.close()
    if out_path:
        err.print(f"wrote {len(rows)} answers to {out_path}")


@app.command()
def articles(
    collection: CollectionOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the ingested articles."""
    from rich.table import Table

    svc = _services()
    name = collection or svc.settings.collection
    try:
        rows = svc.store.list_articles(name)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        out.print(json.dumps([r.to_dict() for r in rows], ensure_ascii=False), markup=False)
        return
    if not rows:
        out.print(f"No articles in collection {name!r} yet. Try: newsdesk ingest examples/articles")
        return
    table = Table("id", "title", "source", "chunks", "ingested at")
    for r in rows:
        table.add_row(r.article_id, r.title, r.url or r.source, str(r.chunks), r.ingested_at)
    out.print(table)


@app.command()
def forget(
    article_id: Annotated[str, typer.Argument(help="The article id (see `newsdesk articles`).")],
    collection: CollectionOpt = None,
) -> None:
    """Remove an article and every chunk and vector of it."""
    from retrieval.errors import StoreUnavailable

    svc = _services()
    try:
        removed = svc.store.forget(collection or svc.settings.collection, article_id)
    except (StoreUnavailable, ValueError) as exc:
        raise _fail(str(exc)) from exc
    if not removed:
        raise _fail(f"no article {article_id!r} in this collection")
    out.print(f"forgot {article_id}")


@app.command()
def chat(collection: CollectionOpt = None, k: Annotated[int | None, typer.Option("-k")] = None) -> None:
    """Talk with the knowledge base; follow-up questions use the earlier turns. Ctrl-D or `exit` ends it."""
    from retrieval.answer import Turn
    from retrieval.errors import BadQuestion, StoreUnavailable

    svc = _services()
    history: list[Turn] = []
    out.print("Ask about the ingested articles. Empty line or Ctrl-D to quit.")
    while True:
        try:
            question = input("> ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not question or question.lower() in {"exit", "quit"}:
            break
        try:
            answer = svc.chain.ask(question, collection=collection, k=k, history=history[-4:])
        except (BadQuestion, StoreUnavailable) as exc:
            err.print(str(exc))
            continue
        _print_answer(answer)
        out.print()
        history.append(Turn(question, answer.answer, tuple(c.chunk_id for c in answer.citations)))


DEMO_QUESTION = "What did Stoltenberg say about self-defense?"


@app.command()
def demo() -> None:
    """Ingest the bundled sample article and answer a question about it."""
    svc = _services()
    sample = Path(__file__).resolve().parent.parent / "examples" / "articles"
    if sample.is_relative_to(Path.cwd()):
        sample = sample.relative_to(Path.cwd())  # citations show a short path when run from the repository
    if not sample.exists():
        raise _fail(f"sample articles not found at {sample}")
    started = time.perf_counter()
    report = svc.ingestor.ingest([str(sample)])
    out.print(f"[dim]ingest: {report.summary()}[/dim]")
    out.print(f"[bold]Q:[/bold] {DEMO_QUESTION}")
    answer = svc.chain.ask(DEMO_QUESTION)
    _print_answer(answer)
    out.print(f"[dim]({(time.perf_counter() - started):.1f} s including model load)[/dim]")


@app.command()
def bot() -> None:
    """Run the Discord bot (needs DISCORD_TOKEN)."""
    from bot.runner import run_bot

    raise typer.Exit(run_bot(Settings()))


@feedback_app.command("export")
def feedback_export(
    out_path: Annotated[Path, typer.Option("--out", help="JSONL file of evaluation questions.")],
) -> None:
    """Write collected feedback as evaluation questions (the dataset format of `newsdesk eval`)."""
    from bot.feedback import export_feedback

    result = export_feedback(Settings(), out_path)
    out.print(
        f"wrote {result.questions} questions to {result.path}; {result.to_review} to review in {result.review_path}"
    )


def _mount_eval() -> None:
    try:
        from evaluation.cli import eval_app
    except ImportError:  # evaluation not built yet
        return
    app.add_typer(eval_app, name="eval")


_mount_eval()


def main() -> None:
    app()
