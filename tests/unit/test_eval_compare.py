"""`newsdesk eval compare` and thresholds: deltas side by side, and exit codes CI can rely on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from evaluation.cli import eval_app
from evaluation.compare import RunError, load_thresholds, regressions, threshold_failures
from tests.paths import ROOT

runner = CliRunner()


def write_run(folder: Path, **overall: float | None) -> Path:
    folder.mkdir(parents=True)
    data: dict[str, Any] = {"overall": {"accuracy": 0.9, "false_abstention": 0.0, "latency_p95_ms": 100.0, **overall}}
    (folder / "metrics.json").write_text(json.dumps(data), encoding="utf-8")
    return folder


def test_compare_prints_both_runs_and_passes_within_the_allowed_drop(tmp_path: Path) -> None:
    a = write_run(tmp_path / "a", accuracy=0.90, support=0.80)
    b = write_run(tmp_path / "b", accuracy=0.88, support=0.95)
    result = runner.invoke(eval_app, ["compare", str(a), str(b), "--max-drop", "0.05"])
    assert result.exit_code == 0, result.output
    assert "90.0%" in result.output and "88.0%" in result.output
    assert "-2.0 pts" in result.output and "+15.0 pts" in result.output


def test_compare_fails_when_a_guarded_metric_drops_too_much(tmp_path: Path) -> None:
    a = write_run(tmp_path / "a", accuracy=0.90)
    b = write_run(tmp_path / "b", accuracy=0.80)
    result = runner.invoke(eval_app, ["compare", str(a), str(b / "metrics.json"), "--max-drop", "0.05"])
    assert result.exit_code == 1
    assert "accuracy: went from 0.9 to 0.8" in result.output


def test_compare_fail_under_and_lower_is_better_metrics(tmp_path: Path) -> None:
    a = write_run(tmp_path / "a", false_abstention=0.0)
    b = write_run(tmp_path / "b", false_abstention=0.2, accuracy=0.95)
    # accuracy rose, but is below the floor
    result = runner.invoke(eval_app, ["compare", str(a), str(b), "-m", "accuracy", "--fail-under", "0.97"])
    assert result.exit_code == 1 and "below --fail-under 0.97" in result.output
    # a rise in false abstention is a drop in quality
    result = runner.invoke(eval_app, ["compare", str(a), str(b), "-m", "false_abstention", "--max-drop", "0.1"])
    assert result.exit_code == 1 and "false_abstention" in result.output
    result = runner.invoke(eval_app, ["compare", str(a), str(b), "-m", "false_abstention", "--max-drop", "0.25"])
    assert result.exit_code == 0


def test_compare_bad_inputs_are_clear_errors(tmp_path: Path) -> None:
    a = write_run(tmp_path / "a")
    result = runner.invoke(eval_app, ["compare", str(a), str(tmp_path / "missing")])
    assert result.exit_code == 2 and "no such metrics file" in result.output
    (tmp_path / "junk.json").write_text("[1]", encoding="utf-8")
    result = runner.invoke(eval_app, ["compare", str(a), str(tmp_path / "junk.json")])
    assert result.exit_code == 2 and "must be a JSON object" in result.output
    result = runner.invoke(eval_app, ["compare", str(a), str(a), "-m", "bogus"])
    assert result.exit_code == 2 and "unknown metric" in result.output


def test_regressions_ignore_metrics_missing_from_the_baseline() -> None:
    a = {"overall": {"accuracy": None}}
    b = {"overall": {"accuracy": 0.5}}
    assert regressions(a, b, ["accuracy"], max_drop=0.0) == []
    assert regressions(b, {"overall": {}}, ["accuracy"]) == ["accuracy: missing in the new run"]


def test_thresholds_floors_and_ceilings(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"note": "x", "min": {"accuracy": 0.8}, "max": {"false_abstention": 0.1}}))
    limits = load_thresholds(path)
    assert threshold_failures({"accuracy": 0.85, "false_abstention": 0.0}, limits) == []
    problems = threshold_failures({"accuracy": 0.75, "false_abstention": None}, limits)
    assert problems == [
        "accuracy = 75.0% is below the floor 80.0%",
        "false_abstention = – is above the ceiling 10.0%",
    ]
    path.write_text(json.dumps({"min": {"acuracy": 0.8}}))
    with pytest.raises(RunError, match="unknown metric 'acuracy'"):
        load_thresholds(path)


@pytest.mark.parametrize("name", ["thresholds.json", "thresholds-sample.json"])
def test_shipped_thresholds_files_are_valid(name: str) -> None:
    limits = load_thresholds(ROOT / "evaluation" / name)
    assert limits["min"], "the CI floors must not be empty"
