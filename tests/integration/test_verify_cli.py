"""`newsdesk eval verification` end to end: a corpus file, a set of locator pairs, the real verifier and model.

The pairs are hand-written over the bundled sample article (the BBC corpus is not in the repository): two true
rewordings and three realistic fabrications, of kinds the verifier must catch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from evaluation.splits import split_of
from evaluation.verification_set import convert_raw
from evaluation.verify_cli import register
from newsdesk.settings import Settings
from tests.paths import SAMPLE

DOC = "zelenskyy-nato-strikes"
SELF_DEFENSE = (
    "“The right to self defense includes also the right to strike legitimate military targets on the territory of "
    "Russia,” Mr. Stoltenberg said."
)
AGREED = (
    "NATO Secretary General Jens Stoltenberg agreed, and said that decisions to strike Russian military assets in "
    "Russian territory should be left to Ukrainian leadership."
)
PAIRS = [
    ("Stoltenberg said self-defence includes the right to strike legitimate military targets in Russia.",
     SELF_DEFENSE, "supported", "paraphrase"),
    ("Stoltenberg said decisions on striking Russian military assets should be left to Ukraine's leaders.",
     AGREED, "supported", "paraphrase"),
    ("Stoltenberg said decisions on striking Russian military assets should not be left to Ukrainian leadership.",
     AGREED, "unsupported", "negation"),
    ("Stoltenberg said self-defence does not include the right to strike military targets in Russia.",
     SELF_DEFENSE, "unsupported", "negation"),
    ("NATO Secretary General Jens Stoltenberg disagreed and said decisions to strike should be left to Moscow.",
     AGREED, "unsupported", "contradiction"),
]  # fmt: skip


def _files(tmp_path: Path) -> tuple[Path, Path]:
    text = SAMPLE.read_text(encoding="utf-8")
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(json.dumps({"id": DOC, "title": text.split("\n", 1)[0], "text": text}) + "\n", encoding="utf-8")
    raw = [
        {"claim": c, "doc_id": DOC, "passage": f"{AGREED}\n\n{SELF_DEFENSE}", "support": [s], "label": lab, "kind": k}
        for c, s, lab, k in PAIRS
    ]
    dataset = tmp_path / "verification.jsonl"
    dataset.write_text("".join(json.dumps(p.to_dict()) + "\n" for p in convert_raw(raw, {DOC: text})))
    return corpus, dataset


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """newsdesk eval"""

    register(app)
    return app


def test_the_command_prints_true_kept_and_false_shown_per_kind(tmp_path: Path, onnx_build: Any) -> None:
    corpus, dataset = _files(tmp_path)
    settings = Settings(data_dir=tmp_path / "data", model_cache_dir=onnx_build.cache)
    out = tmp_path / "figures.json"
    result = CliRunner().invoke(
        _app(),
        ["verification", "--corpus", str(corpus), "--dataset", str(dataset), "--out", str(out), "--show-errors"],
        obj=settings,
    )
    assert result.exit_code == 0, result.output
    assert "| paraphrase | true kept | 2 | 100.0% |" in result.output
    assert "| negation | false shown | 2 | 0.0% |" in result.output
    assert "| contradiction | false shown | 1 | 0.0% |" in result.output
    figures = json.loads(out.read_text())
    assert figures["all"]["true_kept"] == 1.0 and figures["all"]["false_shown"] == 0.0
    assert split_of(DOC) in figures  # per split too


def test_missing_inputs_are_one_clear_line(tmp_path: Path) -> None:
    corpus, dataset = _files(tmp_path)
    result = CliRunner().invoke(
        _app(), ["verification", "--corpus", str(tmp_path / "nope.jsonl"), "--dataset", str(dataset)]
    )
    assert result.exit_code == 2 and "corpus file not found" in result.output
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"id": "something-else", "title": "t", "text": "x"}) + "\n")
    result = CliRunner().invoke(_app(), ["verification", "--corpus", str(other), "--dataset", str(dataset)])
    assert result.exit_code == 2 and "not in" in result.output and DOC in result.output
