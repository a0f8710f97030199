"""The benchmark command still works end to end (CI's smoke run): every section measured, both tables written.

This checks that the numbers are present and consistent with each other, not that they are fast: speed is what
the full run on a real corpus reports.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import ROOT


def test_smoke_benchmark_measures_every_section(tmp_path: Path, model_cache: Path) -> None:
    out = tmp_path / "bench"
    proc = subprocess.run(
        # the run's int8 model (tests/integration/conftest.py): one build per test run
        [sys.executable, "-m", "benchmarks.run", "--smoke", "--out", str(out), "--model-cache", str(model_cache)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())

    assert results["smoke"] is True
    articles = results["corpus"]["articles"]
    ours, naive = results["ingest"][0], results["ingest"][-1]
    assert ours["pipeline"].startswith("newsdesk") and naive["pipeline"].startswith("naive")
    for row in (ours, naive):
        assert row["articles"] == articles  # both pipelines stored the whole corpus
        assert row["vectors"] == row["chunks"] > 0
        assert row["embedded_tokens"] > 0 and row["embedded_tokens_per_s"] > 0
        assert row["wall_s"] > 0 and row["cpu_s"] > 0 and row["peak_rss_mb"] > 50
        # derived from the unrounded wall time, so compare with a tolerance
        assert row["chunks_per_s"] == pytest.approx(row["chunks"] / row["wall_s"], rel=0.01)
    assert ours["failed"] == 0 and ours["duplicated_text_ratio"] == 0  # newsdesk chunks never repeat text
    assert results["ingest_speedup_wall"] == pytest.approx(naive["wall_s"] / ours["wall_s"], rel=0.01)

    for workload in results["embedding"]["workloads"].values():
        assert workload["cosine_onnx_vs_torch"]["min"] >= 0.98
        for backend in ("torch", "onnx"):
            assert 0 < workload["backends"][backend]["efficiency"] < 10
    assert results["embedding"]["ceiling_gflops"] > 1

    sizes = [row["chunks"] for row in results["ask"]]
    assert sizes == [300, 1500]
    for row in [*results["ask"], results["ask_real_corpus"]]:
        assert row["questions"] == 8
        for stage in ("retrieve", "answer", "total"):
            assert 0 < row["ms"][stage]["p50"] <= row["ms"][stage]["p95"]
        assert row["ms"]["total"]["p50"] >= row["ms"]["retrieve"]["p50"]
        assert row["peak_rss_mb"] > 50
    assert results["ask_real_corpus"]["chunks"] == ours["chunks"]
    assert 0 < results["cli_help"]["median_s"] < 30
    oneshot = results["oneshot"]
    assert 0 < oneshot["empty_question"]["median_s"] < oneshot["ask"]["median_s"]  # an error loads no model
    assert results["onnx_build"]["reused"] is True

    assert [t["met"] for t in results["targets"]] == [None] * 9  # speed targets only judge full runs
    table = (out / "results.md").read_text()
    for heading in ("**Ingestion**", "**Embedding efficiency**", "**Asking**", "**Targets**"):
        assert heading in table
    assert "naive LangChain" in table and "| synthetic | 1,500 |" in table
