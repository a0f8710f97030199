"""The `newsdesk` command line: parse arguments, call the package API, print. Nothing else lives here.

Every command is a fresh process, so start-up is part of every answer's latency. Heavy libraries (Chroma, LangChain,
onnxruntime) are imported inside commands, the model is loaded on first real use (`LazyEmbedder`), and mistakes
that need no model (an empty question, a missing file, an empty collection) are caught before any of that.
"""

from __future__ import annotations

import time

_STARTED = time.perf_counter()  # process start, near enough: times printed to users include start-up

import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING, Annotated  # noqa: E402

import typer  # noqa: E402
from rich.console import Console  # noqa: E402

from evaluation.cli import eval_app  # noqa: E402  (part of newsdesk: a broken import must fail loudly)
from newsdesk import __version__  # noqa: E402
from newsdesk.settings import Settings  # noqa: E402

if TYPE_CHECKING:
    from newsdesk.services import Services
    from retrieval.answer import Answer

app = typer.Typer(
    name="newsdesk",
    help="Answer questions about news articles with citations you can check. Offline by default.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: flags show as `--json`, not `--json <bool>`
)
feedback_app = typer.Typer(
    help="Reader feedback collected by the Discord bot.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(feedback_app, name="feedback")
app.add_typer(eval_app, name="eval")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

CollectionOpt = Annotated[
    str | None, typer.Option("--collection", "-c", help="Collection to use (default: NEWSDESK_COLLECTION, 'default').")
]
KOpt = Annotated[int | None, typer.Option("-k", help="Chunks to retrieve per question (default: NEWSDESK_TOP_K, 5).")]
INGEST_HINT = "newsdesk ingest FILE_OR_FOLDER_OR_URL (the repository's sample: newsdesk ingest examples/articles)"


def _services() -> Services:
    from newsdesk.services import Services

    return Services(_settings())


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", markup=True)
    return typer.Exit(code)


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:  # pydantic's ValidationError names the variable and what is wrong with it
        raise _fail(f"invalid settings: {exc}") from exc


def _check_collection(svc: Services, collection: str | None) -> str:
    """The collection's name, or a clear error when it is invalid or holds no articles (no model is loaded)."""
    from retrieval.errors import StoreUnavailable

    name = collection or svc.settings.collection
    try:
        count = svc.store.count_articles(name)
    except (StoreUnavailable, ValueError) as exc:
        raise _fail(str(exc)) from exc
    if count == 0:
        raise _fail(f"no articles in collection {name!r} yet (data dir {svc.settings.data_dir}): {INGEST_HINT}")
    return name


def _version(value: bool) -> None:
    if value:
        out.print(f"newsdesk {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
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
    report.seconds = time.perf_counter() - _STARTED  # what the user waited, start-up included
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
    question: Annotated[str | None, typer.Argument(metavar="QUESTION", help="The question.")] = None,
    collection: CollectionOpt = None,
    k: KOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")] = False,
    questions: Annotated[
        Path | None,
        typer.Option("--questions", help='Answer every question of a JSONL file (one {"id", "question"} a line).'),
    ] = None,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Where --questions writes results (JSONL; default: stdout).")
    ] = None,
) -> None:
    """Answer a question from the ingested articles, with numbered, quoted sources."""
    from retrieval.errors import BadQuestion, StoreUnavailable

    if (question is None) == (questions is None):
        raise _fail("give a QUESTION or --questions FILE (one of them)", 2)
    if question is not None and not question.strip():
        raise _fail("the question is empty", 2)
    if questions is not None and not questions.is_file():
        raise _fail(f"{questions}: no such file", 2)
    svc = _services()
    try:
        name = _check_collection(svc, collection)
        if questions is not None:
            _ask_file(svc, questions, out_path, name, k)
            return
        assert question is not None
        answer = svc.chain.invoke({"question": question, "collection": name, "k": k}).answer
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
                question = str(row.get("question", ""))
                result = svc.chain.invoke({"question": question, "collection": collection, "k": k}).to_dict()
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
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list instead of a table.")] = False,
) -> None:
    """List the ingested articles: id (what `forget` takes), title, source, chunks, when ingested."""
    from rich.table import Table

    svc = _services()
    name = collection or svc.settings.collection
    try:
        rows = svc.store.list_articles(name)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    finally:
        svc.close()
    if as_json:
        out.print(json.dumps([r.to_dict() for r in rows], ensure_ascii=False), markup=False)
        return
    if not rows:
        out.print(f"No articles in collection {name!r} yet. Add some: {INGEST_HINT}")
        return
    table = Table()
    table.add_column("id", no_wrap=True, min_width=max(len(r.article_id) for r in rows))  # ids are never cut
    table.add_column("title", overflow="fold")
    table.add_column("source", overflow="fold")
    table.add_column("chunks", justify="right")
    table.add_column("ingested at")
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
    name = collection or svc.settings.collection
    try:
        removed = svc.store.forget(name, article_id)
    except (StoreUnavailable, ValueError) as exc:
        raise _fail(str(exc)) from exc
    finally:
        svc.close()
    if not removed:
        raise _fail(f"no article {article_id!r} in collection {name!r} (see: newsdesk articles)")
    out.print(f"forgot {article_id}")


@app.command()
def reindex(collection: CollectionOpt = None) -> None:
    """Rebuild the local catalogue and lexical index of a collection from Chroma (no model, no re-embedding).

    Not needed in normal use: every process catches its catalogue up with Chroma by itself."""
    from retrieval.errors import StoreUnavailable

    svc = _services()
    name = collection or svc.settings.collection
    try:
        report = svc.store.reindex(name)
    except (StoreUnavailable, ValueError) as exc:
        raise _fail(str(exc)) from exc
    finally:
        svc.close()
    retry = f"; {len(report.retry)} incomplete in Chroma, left out" if report.retry else ""
    out.print(f"rebuilt {name!r} from Chroma: {len(report.added)} articles in {report.seconds:.1f} s{retry}")


@app.command()
def chat(collection: CollectionOpt = None, k: KOpt = None) -> None:
    """Talk with the knowledge base; follow-ups use the earlier turns. An empty line, `exit` or Ctrl-D ends it."""
    from retrieval.answer import Turn
    from retrieval.errors import BadQuestion, StoreUnavailable

    svc = _services()
    collection = _check_collection(svc, collection)
    history: list[Turn] = []
    out.print("Ask about the ingested articles. An empty line, `exit` or Ctrl-D ends the chat.")
    while True:
        try:
            question = input("> ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not question or question.lower() in {"exit", "quit"}:
            break
        try:
            answer = svc.chain.invoke(
                {"question": question, "collection": collection, "k": k, "history": history[-4:]}
            ).answer
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
    report.seconds = time.perf_counter() - _STARTED  # start-up and (first time) building the model included
    out.print(f"[dim]ingest: {report.summary()}[/dim]")
    out.print(f"[bold]Q:[/bold] {DEMO_QUESTION}")
    answer = svc.chain.invoke(DEMO_QUESTION).answer
    _print_answer(answer)
    svc.close()
    out.print(
        f"[dim]({(time.perf_counter() - started):.1f} s for ingest and answer;"
        f" {(time.perf_counter() - _STARTED):.1f} s with start-up)[/dim]"
    )


@app.command()
def bot(
    sync: Annotated[
        bool,
        typer.Option("--sync", help="Register the slash commands with Discord even if they did not change."),
    ] = False,
) -> None:
    """Run the Discord bot (needs DISCORD_TOKEN)."""
    from bot.runner import run_bot

    raise typer.Exit(run_bot(_settings(), sync=sync))


@feedback_app.command("export")
def feedback_export(
    out_path: Annotated[Path, typer.Option("--out", help="JSONL file of evaluation questions.")],
) -> None:
    """Write collected feedback as evaluation questions (the dataset format of `newsdesk eval`)."""
    from bot.feedback import export_feedback

    result = export_feedback(_settings(), out_path)
    out.print(
        f"wrote {result.questions} questions to {result.path}; {result.to_review} to review in {result.review_path}"
    )


@app.command()
def info(
    collection: CollectionOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Where newsdesk keeps its data, and what it would use: collection, backend, LLM, article count."""
    from retrieval.errors import StoreUnavailable

    svc = _services()
    settings = svc.settings
    name = collection or settings.collection
    try:
        count: int | str = svc.store.count_articles(name)
        collections = svc.store.collections()
    except (StoreUnavailable, ValueError) as exc:
        raise _fail(str(exc)) from exc
    finally:
        svc.close()
    rows = {
        "version": __version__,
        "data_dir": str(settings.data_dir.resolve()),
        "collection": name,
        "articles": count,
        "collections": collections,
        "chroma": f"server {settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else "embedded",
        "embedding_backend": settings.embedding_backend,
        "model_cache": str(settings.model_cache_dir),
        "llm_provider": settings.llm_provider,
    }
    if as_json:
        out.print(json.dumps(rows, ensure_ascii=False), markup=False)
        return
    for key, value in rows.items():
        shown = ", ".join(value) or "(none)" if isinstance(value, list) else value
        out.print(f"{key + ':':<19} {shown}", markup=False)


def main() -> None:
    app()
