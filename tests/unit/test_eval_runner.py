"""`newsdesk eval` end to end on the sample article: the real model, the real store, the real chain."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from evaluation import metrics
from evaluation.cli import eval_app
from newsdesk.services import Services
from tests.paths import SAMPLE, SAMPLE_DIR

runner = CliRunner()
ASK_KEYS = {"question", "answer", "abstained", "citations", "timings_ms"}


def write_dataset(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


MISSION: dict[str, Any] = {
    "id": "m1",
    "question": "What did Stoltenberg say about self-defense?",
    "answer": "The right to self defense includes the right to strike legitimate military targets in Russia.",
    "must_contain": ["legitimate military targets"],
    "doc_id": "zelenskyy-nato-strikes",
    "evidence": "“The right to self defense includes also the right to strike legitimate military targets on the "
    "territory of Russia,” Mr. Stoltenberg said.",
    "kind": "quote",
}
OFF_TOPIC: dict[str, Any] = {
    "id": "u1",
    "question": "What is the capital of France? <script>alert(1)</script>",
    "answer": None,
    "must_contain": [],
    "doc_id": None,
    "evidence": None,
    "kind": "unanswerable",
}
IMPOSSIBLE: dict[str, Any] = {**MISSION, "id": "x1", "must_contain": ["a string no answer contains"], "kind": "fact"}


def test_eval_ingests_answers_scores_and_writes_three_files(services: Services, tmp_path: Path) -> None:
    dataset = write_dataset(tmp_path / "d.jsonl", [MISSION, OFF_TOPIC, IMPOSSIBLE])
    out = tmp_path / "run"
    args = ["--dataset", str(dataset), "--ingest", str(SAMPLE_DIR), "--out", str(out), "--no-progress", "-k", "4"]
    result = runner.invoke(eval_app, args, obj=services)
    assert result.exit_code == 0, result.output
    assert "2 of 3 questions failing" not in result.output  # the mission question and the decline both pass
    assert "1 of 3 questions failing" in result.output
    assert "report:" in result.output

    # results.jsonl: the `ask --json` object plus the question's id, in dataset order
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in lines] == ["m1", "u1", "x1"]
    assert all(ASK_KEYS <= set(r) for r in lines)
    mission = lines[0]
    assert not mission["abstained"]
    assert "legitimate military targets" in mission["answer"]
    assert any(c["article_id"] == "zelenskyy-nato-strikes" for c in mission["citations"])
    assert lines[1]["abstained"] and lines[1]["citations"] == []

    # metrics.json: overall and per kind, with each question's scores and reasons
    data = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert data["k"] == 4 and data["collection"] == "default" and data["answerer"] == "extractive"
    overall = data["overall"]
    assert overall["hit_at_k"] == 1.0 and overall["evidence_recall_at_k"] == 1.0
    assert overall["quote_faithfulness"] == 1.0
    assert overall["correct_abstention"] == 1.0 and overall["false_abstention"] == 0.0
    assert overall["accuracy"] == 2 / 3
    assert set(data["by_kind"]) == {"quote", "unanswerable", "fact"}
    assert data["by_kind"]["fact"]["accuracy"] == 0.0
    assert overall["latency_p50_ms"] > 0
    failing = {q["id"]: q["reasons"] for q in data["questions"] if not q["passed"]}
    assert list(failing) == ["x1"]
    assert failing["x1"] == ["answer has none of: 'a string no answer contains'"]

    # report.html: self-contained, escaped, failures first
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("data:image/png;base64,") == 2
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert html.index("<code>x1</code>") < html.index("<code>m1</code>")

    # re-running with --ingest is idempotent, and a thresholds file that is not met fails the command
    limits = tmp_path / "limits.json"
    limits.write_text(json.dumps({"min": {"accuracy": 0.9}, "max": {"false_abstention": 0.0}}), encoding="utf-8")
    args = ["-d", str(dataset), "-i", str(SAMPLE_DIR), "-o", str(tmp_path / "run2"), "--no-progress", "-k", "4"]
    args += ["--thresholds", str(limits)]
    again = runner.invoke(eval_app, args, obj=services)
    assert again.exit_code == 1, again.output
    assert "unchanged 1" in again.output
    assert "accuracy = 66.7% is below the floor 90.0%" in again.output


def test_eval_on_an_empty_collection_says_to_ingest(services: Services, tmp_path: Path) -> None:
    dataset = write_dataset(tmp_path / "d.jsonl", [MISSION])
    result = runner.invoke(eval_app, ["--dataset", str(dataset), "--out", str(tmp_path / "r")], obj=services)
    assert result.exit_code == 1
    assert "has no articles: pass --ingest PATH" in result.output
    assert not (tmp_path / "r").exists()


def test_a_bad_dataset_is_rejected_before_any_work(services: Services, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(MISSION) + "\n" + json.dumps({**MISSION, "kind": "trivia"}) + "\n", encoding="utf-8")
    result = runner.invoke(eval_app, ["--dataset", str(bad), "--ingest", str(SAMPLE)], obj=services)
    assert result.exit_code == 2
    assert f"{bad}:2: `kind` must be one of" in result.output
    assert services.store.list_articles("default") == []  # nothing was ingested


def test_check_command_verifies_evidence_against_the_store(services: Services, tmp_path: Path) -> None:
    services.ingestor.ingest([str(SAMPLE)], collection="default")
    good = write_dataset(tmp_path / "good.jsonl", [MISSION, OFF_TOPIC])
    result = runner.invoke(eval_app, ["check", str(good)], obj=services)
    assert result.exit_code == 0, result.output
    wrong = write_dataset(tmp_path / "wrong.jsonl", [{**MISSION, "evidence": "Stoltenberg said nothing at all."}])
    result = runner.invoke(eval_app, ["check", str(wrong)], obj=services)
    assert result.exit_code == 1
    assert "line 1 (m1): evidence is not verbatim in zelenskyy-nato-strikes" in result.output


def test_support_threshold_separates_paraphrase_from_unrelated_claims(services: Services) -> None:
    """With the real model: a faithful paraphrase clears the stated threshold, a made-up claim does not."""
    quote = (
        "“The right to self defense includes also the right to strike legitimate military targets on the "
        "territory of Russia,” Mr. Stoltenberg said."
    )
    embed = services.embedder.embed_documents
    paraphrase = "Stoltenberg said self defense includes the right to strike legitimate military targets in Russia [1]"
    made_up = "Zelenskyy announced that Ukraine will host the next Olympic Games in Kyiv [1]"
    good, bad = metrics.support(f"{paraphrase} {made_up}", {1: quote}, embed)
    assert good.supported and good.score >= metrics.SUPPORT_THRESHOLD
    assert not bad.supported and bad.score < metrics.SUPPORT_THRESHOLD
