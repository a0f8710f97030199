"""Targets from the performance issue, checked against measured results, and the markdown table."""

from __future__ import annotations

from typing import Any


def _target(name: str, value: float, limit: float, op: str, unit: str = "", applies: bool = True) -> dict[str, Any]:
    met = value >= limit if op == ">=" else value <= limit
    margin = value / limit if limit else 0.0
    return {
        "target": name,
        "value": value,
        "limit": f"{op} {limit:g}{unit}",
        "met": bool(met) if applies else None,
        "margin": round(margin, 2),
    }


def evaluate_targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    """`met` is None where a target does not apply (speed targets on a smoke run)."""
    full = not r["smoke"]
    ours = r["ingest"][0]
    large = r["ask"][-1]
    return [
        _target("ingest speedup vs naive (wall)", r["ingest_speedup_wall"], 2.5, ">=", "x", full),
        _target("ingest wall time, whole corpus", ours["wall_s"], 100, "<=", " s", full),
        _target(f"ask p50 at {large['chunks']:,} chunks", large["ms"]["total"]["p50"], 100, "<=", " ms", full),
        _target(f"ask p95 at {large['chunks']:,} chunks", large["ms"]["total"]["p95"], 250, "<=", " ms", full),
        _target("ask p50 ratio large/small", r["ask_ratio_p50"], 1.5, "<=", "", full),
        _target(f"warm asking RSS at {large['chunks']:,} chunks", large["peak_rss_mb"], 1536, "<=", " MB", full),
        _target("`newsdesk --help` wall (median)", r["cli_help"]["median_s"], 1.0, "<=", " s", full),
        _target("one-shot `newsdesk ask` wall (median)", r["oneshot"]["ask"]["median_s"], 3.0, "<=", " s", full),
        _target(
            "`newsdesk ask ''` error wall (median)", r["oneshot"]["empty_question"]["median_s"], 1.0, "<=", " s", full
        ),
    ]


def _ms(row: dict[str, Any], key: str) -> str:
    m = row["ms"][key]
    return f"{m['p50']:.0f} / {m['p95']:.0f}"


def markdown(r: dict[str, Any]) -> str:
    m = r["machine"]
    lines = [
        f"Measured {m['date']} on {m['cpu']} ({m['cores']} cores, avx512_vnni: {m['avx512_vnni']}), commit "
        f"{m['commit'] or '?'}, corpus {r['corpus']['articles']:,} articles; load average {r['load_at_start']} at "
        f"start, {r['load_at_end']} at end{' (smoke run: sizes too small for the targets)' if r['smoke'] else ''}.",
        "",
        "**Ingestion** (each pipeline in its own process; wall time includes start-up and model load)",
        "",
        "| pipeline | wall s | CPU s | peak RSS MB | articles/s | chunks | chunks/s | embedded tokens | tokens/s |"
        " duplicated text |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in r["ingest"]:
        lines.append(
            f"| {row['pipeline']} | {row['wall_s']:.1f} | {row['cpu_s']:.1f} | {row['peak_rss_mb']:.0f} |"
            f" {row['articles_per_s']:.1f} | {row['chunks']:,} | {row['chunks_per_s']:.1f} |"
            f" {row['embedded_tokens']:,} | {row['embedded_tokens_per_s']:,.0f} | {row['duplicated_text_ratio']:.0%} |"
        )
    lines += [
        "",
        f"Speed-up over the naive pipeline: **{r['ingest_speedup_wall']}x** wall time, {r['ingest_speedup_cpu']}x CPU"
        f" time. "
        + (
            "The int8 model was reused from --model-cache (build not timed)."
            if r["onnx_build"].get("reused")
            else f"Building the int8 model once (first use): {r['onnx_build']['wall_s']:.1f} s."
        ),
        "",
    ]
    e = r["embedding"]
    lines += [
        f"**Embedding efficiency** (fp32 matmul ceiling measured in this run: {e['ceiling_gflops']} GFLOP/s)",
        "",
        "| workload | texts | mean tokens | MFLOP/token | ceiling tokens/s | backend | tokens/s | GFLOP/s |"
        " share of ceiling | cosine int8 vs fp32 (min / mean) |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for wname, w in e["workloads"].items():
        cos = w["cosine_onnx_vs_torch"]
        for name, b in w["backends"].items():
            lines.append(
                f"| {wname} | {w['texts']:,} | {w['mean_tokens']} | {w['model_mflops_per_token']} |"
                f" {w['ceiling_tokens_per_s']:,.0f} | {name} | {b['tokens_per_s']:,.0f} | {b['achieved_gflops']} |"
                f" {b['efficiency']:.2f} | {cos['min']} / {cos['mean']} |"
            )
    speedups = ", ".join(f"{k} {w['onnx_speedup']}x" for k, w in e["workloads"].items())
    lines += [
        "",
        f"int8 ONNX over torch fp32: {speedups}. int8 can pass the fp32 ceiling (VNNI: 4 int8 multiply-adds per lane).",
        "",
        "**Asking** (warm process, offline answerer; ms p50 / p95)",
        "",
        "| collection | chunks | retrieve | answer | total | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    rows = [("synthetic", row) for row in r["ask"]] + [("ingested corpus", r["ask_real_corpus"])]
    for label, row in rows:
        lines.append(
            f"| {label} | {row['chunks']:,} | {_ms(row, 'retrieve')} | {_ms(row, 'answer')} | {_ms(row, 'total')} |"
            f" {row['peak_rss_mb']:.0f} |"
        )
    lines += [
        "",
        f"Latency ratio largest/smallest synthetic size: p50 {r['ask_ratio_p50']}, p95 {r['ask_ratio_p95']}."
        f" `newsdesk --help`: {r['cli_help']['median_s']:.2f} s median. One-shot `newsdesk ask` in a fresh process"
        f" (start-up and model load included): {r['oneshot']['ask']['median_s']:.2f} s median; an empty question"
        f" (an error that needs no model): {r['oneshot']['empty_question']['median_s']:.2f} s.",
        "",
        "**Targets**",
        "",
        "| target | measured | limit | met |",
        "|---|---:|---:|:---:|",
    ]
    for t in r["targets"]:
        met = "n/a" if t["met"] is None else ("yes" if t["met"] else "**no**")
        lines.append(f"| {t['target']} | {t['value']} | {t['limit']} | {met} |")
    return "\n".join(lines) + "\n"


DOCS_INTRO = """# Benchmarks

`make bench` runs everything side by side in one process tree (each measured step in its own child process),
writes `bench-runs/bbc/results.json` and `results.md`, and rewrites this page from them (so the numbers below are
always those of the last full run, with its date and commit). `make bench-smoke` checks that the benchmark still
works on a small generated corpus (CI runs it inside the test suite); its numbers mean nothing.

```bash
make bench                                                    # about 15 minutes on 2 cores
python -m benchmarks.run --corpus PATH/TO/bbc-news-2225.jsonl --out bench-runs/bbc --repeats 2 --docs docs/benchmarks.md
```

It measures ingestion (newsdesk against the tutorial pipeline: `RecursiveCharacterTextSplitter(1000, 200)` +
`HuggingFaceEmbeddings` on the same bundled model + `Chroma.from_documents`), embedding throughput against this
machine's ceiling (a large fp32 matmul's FLOP/s divided by the model's FLOPs per token), warm `ask` latency at
10,000 and 100,000 chunks (synthetic chunks built from corpus sentences, stored through the same store API),
one-shot `newsdesk ask` in a fresh process, peak RSS, and `newsdesk --help` start time.

## The corpus

The BBC News dataset of D. Greene and P. Cunningham ("Practical Solutions to the Problem of Diagonal Dominance in
Kernel Document Clustering", ICML 2006): 2,225 stories from 2004-2005 in five categories, about 5 MB. All rights
in the articles are the BBC's, so it is not in this repository. Get the raw dataset ("BBC", 2,225 documents) from
the authors' page (University College Dublin, Machine Learning Group datasets) and convert its folders
(`bbc/<category>/NNN.txt`, first line the title) into the JSON Lines file the bench and `evaluation/datasets/bbc.jsonl`
use:

```bash
python -m benchmarks.corpus bbc/ > bbc-news-2225.jsonl   # ids like bbc-business-001, as the BBC question set expects
make bench BBC_CORPUS=bbc-news-2225.jsonl
```

Developers of this project have the converted file at `../shared/corpora/bbc-news-2225.jsonl`, which is
`make bench`'s default.
"""


def docs_page(r: dict[str, Any]) -> str:
    """docs/benchmarks.md: how to run, where the corpus comes from, then the last run's tables."""
    return DOCS_INTRO + "\n## Last run\n\n" + markdown(r)
