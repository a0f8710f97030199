"""What a newcomer meets first: fast, clear errors that load no model, `info`, `--version`, help, untruncated ids.

The error paths run the real console entry point in a fresh interpreter and then look at `sys.modules`: a
mistake that needs no model must not import onnxruntime, torch or Chroma (that is what made every error cost
13-16 s before).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsdesk import __version__, cli
from newsdesk.services import Services
from newsdesk.settings import Settings
from tests.paths import ROOT, SAMPLE

runner = CliRunner()
HEAVY = ("torch", "sentence_transformers", "onnxruntime", "chromadb", "transformers")

PROBE = f"""
import sys
from newsdesk import cli
sys.argv = ["newsdesk", *sys.argv[1:]]
try:
    cli.main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
heavy = [m for m in {HEAVY!r} if m in sys.modules]
print("PROBE", code, ",".join(heavy) or "-")
"""


def probe(*args: str, cwd: Path) -> tuple[int, list[str], str]:
    """Run `newsdesk ARGS` in a fresh interpreter: exit code, heavy modules it imported, stderr."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("PROBE"))
    _, code, heavy = line.split(" ", 2)
    return int(code), [] if heavy == "-" else heavy.split(","), proc.stderr


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli.app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["ask", "  "], 2, "the question is empty"),
        (["ask", "What did Stoltenberg say?"], 1, "no articles in collection 'default' yet"),
        (["ask", "--questions", "missing.jsonl"], 2, "missing.jsonl: no such file"),
        (["ingest", "no-such-file.txt"], 1, "no-such-file.txt: no such file or folder"),
        (["ingest", "notes.pdf"], 1, "notes.pdf"),
        (["ask", "hello?", "--collection", "../etc"], 1, "invalid collection name"),
    ],
)
def test_mistakes_that_need_no_model_load_none(
    args: list[str], code: int, message: str, isolated_env: Path, tmp_path: Path
) -> None:
    work = Path.cwd()
    (work / "notes.pdf").write_bytes(b"%PDF-1.4")
    got, heavy, stderr = probe(*args, cwd=work)
    assert (got, message in stderr) == (code, True), stderr
    assert heavy == [], f"{args} imported {heavy}"


def test_empty_collection_says_how_to_ingest(isolated_env: Path) -> None:
    code, _, err = run("ask", "Who wrote the article?", "--collection", "news")
    assert code == 1
    assert "no articles in collection 'news' yet" in err and "newsdesk ingest" in err and str(isolated_env) in err


def test_info_and_version(isolated_env: Path, embedder: object, monkeypatch: pytest.MonkeyPatch) -> None:
    svc = Services(Settings(), embedder=embedder)  # type: ignore[arg-type]
    assert svc.ingestor.ingest([str(SAMPLE)], "news").ok
    svc.close()
    code, out, _ = run("info", "--json", "--collection", "news")
    assert code == 0
    info = json.loads(out)
    assert info["data_dir"] == str(isolated_env.resolve()) and info["collection"] == "news"
    assert info["articles"] == 1 and info["collections"] == ["news"] and info["embedding_backend"] == "onnx"
    code, out, _ = run("info")
    assert code == 0 and "articles:" in out and "default" in out
    code, out, _ = run("--version")
    assert code == 0 and out.strip() == f"newsdesk {__version__}"


def test_data_dir_defaults_to_the_users_data_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The same store from every working directory (was `.newsdesk/` of the current one)."""
    monkeypatch.delenv("NEWSDESK_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert Settings().data_dir == tmp_path / "xdg" / "newsdesk"


def test_articles_never_truncates_ids(isolated_env: Path, embedder: object, tmp_path: Path) -> None:
    long_id = "a-rather-long-article-identifier-that-forget-needs-whole-2024-07-11"
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        json.dumps({"id": long_id, "title": "A title " * 8, "text": "The council approved the bridge on Monday."})
        + "\n"
    )
    svc = Services(Settings(), embedder=embedder)  # type: ignore[arg-type]
    assert svc.ingestor.ingest([str(feed)]).ok
    svc.close()
    result = CliRunner().invoke(cli.app, ["articles"], env={"COLUMNS": "80"})
    assert result.exit_code == 0 and long_id in result.stdout


def test_help_shows_flags_as_flags_and_every_option_is_explained() -> None:
    for command in ("ask", "chat", "ingest", "articles", "info"):
        code, out, _ = run(command, "--help")
        assert code == 0 and "<bool>" not in out
        options = [line for line in out.splitlines() if line.lstrip().startswith("-")]
        assert all(len(line.split("  ")) > 1 for line in options), out  # no option without help text
    _, chat_help, _ = run("chat", "--help")
    assert "empty line" in chat_help.lower() and "exit" in chat_help and "Ctrl-D" in chat_help


def test_eval_is_mounted(isolated_env: Path) -> None:
    code, out, _ = run("eval", "--help")
    assert code == 0 and "dataset" in out.lower()


def test_private_url_refusal_names_the_setting() -> None:
    from ingest.fetch import FetchError, check_url

    with pytest.raises(FetchError, match="NEWSDESK_ALLOW_PRIVATE_URLS=true"):
        check_url("http://127.0.0.1:9/x", allow_private=False)


def test_the_readme_has_no_pasteable_placeholders() -> None:
    """Example lines with made-up names are marked as such, so nobody pastes them and gets an error."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 300
    for placeholder in ("example.org/some-story", "feed.jsonl", "questions.jsonl"):
        for line in readme.splitlines():
            if placeholder in line:
                assert "placeholder" in line or "your" in line.lower(), line
