"""The `newsdesk` command: JSON shapes, exit codes, batch questions; and one run of the real installed script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_runner import run
from tests.paths import SAMPLE, SAMPLE_DIR

pytestmark = pytest.mark.usefixtures("uses_session_model")


def test_ingest_ask_json_articles_forget(isolated_env: Path) -> None:
    code, out, _ = run("ingest", str(SAMPLE_DIR))
    assert code == 0 and "added 1" in out and "chunks" in out

    code, out, _ = run("ask", "--json", "What did Stoltenberg say about self-defense?")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"question", "answer", "abstained", "citations", "timings_ms"}
    assert set(data["timings_ms"]) == {"retrieve", "answer", "total"}
    [cite, *_] = data["citations"]
    assert set(cite) == {"n", "article_id", "title", "source", "chunk_id", "quote"}
    assert "legitimate military targets" in cite["quote"] and data["abstained"] is False

    code, out, _ = run("ask", "What did Stoltenberg say about self-defense?")
    assert code == 0 and "Sources" in out and "[1]" in out and "legitimate military targets" in out

    code, out, _ = run("articles", "--json")
    [row] = json.loads(out)
    assert row["article_id"] == "zelenskyy-nato-strikes" and row["chunks"] >= 3 and row["ingested_at"]

    code, out, _ = run("forget", "zelenskyy-nato-strikes")
    assert code == 0
    code, out, _ = run("articles", "--json")
    assert json.loads(out) == []
    code, _, err = run("forget", "zelenskyy-nato-strikes")
    assert code == 1 and "no article" in err


def test_failures_exit_one_and_name_the_input(isolated_env: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.md"
    empty.write_text("")
    code, out, err = run("ingest", str(empty), str(tmp_path / "nope.txt"), str(SAMPLE))
    assert code == 1
    assert f"{empty}: empty file" in err and "nope.txt: no such file or folder" in err
    assert "added 1" in out and "failed 2" in out


def test_bad_question_and_bad_collection(isolated_env: Path) -> None:
    code, _, err = run("ask", "   ")
    assert code == 2 and "empty" in err
    code, _, err = run("ask", "hello?", "--collection", "../etc")
    assert code == 1 and "invalid collection name" in err


def test_questions_file_writes_one_result_per_line(isolated_env: Path, tmp_path: Path) -> None:
    run("ingest", str(SAMPLE))
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"id": "a", "question": "How much money did NATO promise Ukraine for next year?"})
        + "\n"
        + json.dumps({"id": "b", "question": "What is the capital of France?"})
        + "\n"
    )
    results = tmp_path / "r.jsonl"
    code, _, _ = run("ask", "--questions", str(questions), "--out", str(results))
    assert code == 0
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"]
    assert "40 billion" in rows[0]["answer"] and rows[0]["citations"]
    assert rows[1]["abstained"] is True and rows[1]["citations"] == []
