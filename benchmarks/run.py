"""`python -m benchmarks.run --corpus PATH --out DIR [--smoke]`: newsdesk against the naive pipeline, side by side.

Every measured step runs in its own child process of this one (see `benchmarks.procs`), on the same input in the
same run: ingestion (newsdesk vs the tutorial pipeline), embedding efficiency against this machine's matmul
ceiling, warm `ask` latency at two collection sizes, and `newsdesk --help` start time. Results go to
`DIR/results.json` and `DIR/results.md`; `--smoke` runs everything on a small generated corpus at small sizes, to
check that the benchmark still works (CI), not to measure speed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.corpus import generate_smoke_corpus, make_questions, read_corpus, write_corpus
from benchmarks.procs import ROOT, ProcResult, child_env, python_module, run_measured, use_model_cache
from benchmarks.report import docs_page, evaluate_targets, markdown

COLLECTION = "bench"


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def machine_info() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    flags = ""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "avx512_vnni": "avx512_vnni" in flags,
        "python": platform.python_version(),
        "commit": commit,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def load() -> float:
    return round(os.getloadavg()[0], 2)


def proc_summary(p: ProcResult) -> dict[str, float]:
    return {"wall_s": round(p.wall_s, 2), "cpu_s": round(p.cpu_s, 2), "peak_rss_mb": round(p.peak_rss_mb, 1)}


def newsdesk_cmd() -> list[str]:
    """The installed `newsdesk` script next to this Python, else `python -m newsdesk`."""
    script = Path(sys.executable).parent / "newsdesk"
    return [str(script)] if script.exists() else python_module("newsdesk")


def default_backend() -> str:
    from newsdesk.settings import Settings

    return str(Settings.model_fields["embedding_backend"].default)


def newsdesk_env(data_dir: Path, backend: str) -> dict[str, str]:
    """The default backend is not set at all, so the first row measures newsdesk exactly as installed."""
    extra = {"NEWSDESK_DATA_DIR": str(data_dir), "NEWSDESK_COLLECTION": COLLECTION}
    if backend != default_backend():
        extra["NEWSDESK_EMBEDDING_BACKEND"] = backend
    return child_env(extra)


def bench_help(work: Path, repeats: int) -> dict[str, Any]:
    walls = []
    for _ in range(repeats):
        p = run_measured([*newsdesk_cmd(), "--help"], child_env(), work).check("newsdesk --help")
        walls.append(p.wall_s)
    return {"median_s": round(statistics.median(walls), 3), "max_s": round(max(walls), 3), "runs": len(walls)}


def bench_oneshot(data: Path, work: Path, backend: str, question: str, repeats: int) -> dict[str, Any]:
    """What a user waits for one `newsdesk ask` in a fresh process (start-up, model load, answer), and for an error
    that needs no model (an empty question). Medians over `repeats` runs, after one unmeasured warm-up of the OS
    file cache."""
    env = newsdesk_env(data, backend)
    out: dict[str, Any] = {}
    for name, args, codes in (("ask", [question], (0,)), ("empty_question", [""], (2,))):
        run_measured([*newsdesk_cmd(), "ask", *args], env, work).check(f"newsdesk ask ({name})", ok_codes=codes)
        walls = [
            run_measured([*newsdesk_cmd(), "ask", *args], env, work).check(name, ok_codes=codes).wall_s
            for _ in range(repeats)
        ]
        out[name] = {"median_s": round(statistics.median(walls), 3), "max_s": round(max(walls), 3), "runs": repeats}
    return out


def ingest_rates(articles: int, chunks: int, tokens: int, wall: float) -> dict[str, float]:
    return {
        "articles_per_s": round(articles / wall, 2),
        "chunks_per_s": round(chunks / wall, 2),
        "embedded_tokens_per_s": round(tokens / wall, 1),
    }


def bench_newsdesk_ingest(corpus: Path, work: Path, models: Path, backend: str) -> dict[str, Any]:
    data = work / f"ingest-newsdesk-{backend}"
    shutil.rmtree(data, ignore_errors=True)
    before = load()
    record = work / f"embedded-{backend}.txt"
    cmd = python_module("benchmarks.newsdesk_cli", str(record), "ingest", str(corpus), "--json")
    p = run_measured(cmd, newsdesk_env(data, backend), work)
    p.check("newsdesk ingest", ok_codes=(0, 1))
    report = json.loads(p.stdout)
    stats_file = work / f"stats-{backend}.json"
    run_measured(
        python_module("benchmarks.ingest_stats", str(data), COLLECTION, str(record), str(stats_file)), child_env(), work
    ).check("ingest stats")
    stats = json.loads(stats_file.read_text())
    return {
        "pipeline": f"newsdesk ingest ({'default settings: ' if backend == default_backend() else ''}{backend})",
        **proc_summary(p),
        **stats,
        "failed": len(report["failed"]),
        "in_process_s": report["seconds"],
        **ingest_rates(stats["articles"], stats["chunks"], stats["embedded_tokens"], p.wall_s),
        "load_before": before,
        "load_after": load(),
        "data_dir": str(data),
    }


def bench_naive_ingest(corpus: Path, work: Path) -> dict[str, Any]:
    persist = work / "ingest-naive"
    shutil.rmtree(persist, ignore_errors=True)
    result = work / "naive.json"
    before = load()
    p = run_measured(python_module("benchmarks.naive", str(corpus), str(persist), str(result)), child_env(), work)
    p.check("naive pipeline")
    stats = json.loads(result.read_text())
    return {
        "pipeline": "naive LangChain (1000/200 chars, HuggingFaceEmbeddings, Chroma.from_documents)",
        **proc_summary(p),
        **stats,
        **ingest_rates(stats["articles"], stats["chunks"], stats["embedded_tokens"], p.wall_s),
        "load_before": before,
        "load_after": load(),
    }


def bench_ceiling(corpus: Path, work: Path, models: Path, n_articles: int) -> dict[str, Any]:
    data = work / "ceiling"
    result = work / "ceiling.json"
    p = run_measured(
        python_module("benchmarks.ceiling", str(corpus), str(data), str(n_articles), str(result)), child_env(), work
    ).check("embedding ceiling")
    return {**json.loads(result.read_text()), "wall_s": round(p.wall_s, 1), "load": load()}


def bench_asking(
    source: Path, work: Path, models: Path, backend: str, sizes: list[int], questions: list[str], warmup: int
) -> list[dict[str, Any]]:
    """Latency at each size of a synthetic collection grown from the ingested corpus `source` (a data dir)."""
    data = work / "ask-data"
    shutil.rmtree(data, ignore_errors=True)
    qfile = work / "questions.json"
    qfile.write_text(json.dumps(questions))
    rows = []
    for size in sorted(sizes):
        log(f"growing the synthetic collection to {size:,} chunks")
        grow = run_measured(
            python_module("benchmarks.synthetic", str(source), COLLECTION, str(data), COLLECTION, str(size), backend),
            child_env(),
            work,
        ).check("synthetic collection")
        log(f"asking at {size:,} chunks")
        rows.append({**ask_once(data, work, backend, qfile, warmup, f"ask-{size}"), "setup_s": round(grow.wall_s, 1)})
    return rows


def ask_once(data: Path, work: Path, backend: str, qfile: Path, warmup: int, name: str) -> dict[str, Any]:
    result = work / f"{name}.json"
    before = load()
    p = run_measured(
        python_module("benchmarks.asking", str(data), COLLECTION, backend, str(qfile), str(warmup), str(result)),
        child_env(),
        work,
    ).check(f"ask ({name})")
    return {**json.loads(result.read_text()), **proc_summary(p), "load_before": before, "load_after": load()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, help="JSONL corpus (id, title, text); optional with --smoke")
    parser.add_argument("--out", type=Path, required=True, help="folder for results.json, results.md and work data")
    parser.add_argument("--smoke", action="store_true", help="small generated corpus and sizes (checks, not speed)")
    parser.add_argument(
        "--backend", default=None, choices=["onnx", "torch"], help="newsdesk embedding backend (default: newsdesk's)"
    )
    parser.add_argument("--with-torch", action="store_true", help="also ingest with newsdesk's torch fp32 backend")
    parser.add_argument("--sizes", default=None, help="collection sizes for asking, e.g. 10000,100000")
    parser.add_argument("--questions", type=int, default=None, help="timed questions per size")
    parser.add_argument(
        "--repeats", type=int, default=1, help="ingest runs per pipeline, alternating; the fastest of each is kept"
    )
    parser.add_argument(
        "--model-cache", type=Path, help="reuse the int8 model already built in this folder (the build is not timed)"
    )
    parser.add_argument("--docs", type=Path, help="also rewrite this page (docs/benchmarks.md) from the results")
    args = parser.parse_args(argv)
    if not args.smoke and not args.corpus:
        parser.error("--corpus is required (or use --smoke)")
    args.backend = args.backend or default_backend()

    out: Path = args.out.resolve()
    work = out / "work"
    work.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in (args.sizes or ("300,1500" if args.smoke else "10000,100000")).split(",")]
    n_questions = args.questions or (8 if args.smoke else 100)
    warmup = 2 if args.smoke else 5
    started = time.perf_counter()

    if args.smoke:
        source = read_corpus(args.corpus, limit=20) if args.corpus else generate_smoke_corpus(20)
        corpus = write_corpus(source, work / "smoke-corpus.jsonl")
    else:
        corpus = args.corpus.resolve()
        source = read_corpus(corpus)
    results: dict[str, Any] = {
        "smoke": args.smoke,
        "machine": machine_info(),
        "corpus": {"path": str(corpus), "articles": len(source), "chars": sum(len(a.text) for a in source)},
        "load_at_start": load(),
    }

    log("building the int8 ONNX model from the bundled weights" + (" (or reusing it)" if args.model_cache else ""))
    models = args.model_cache.resolve() if args.model_cache else work / "models"
    if not args.model_cache:
        shutil.rmtree(models, ignore_errors=True)
    build = run_measured([sys.executable, "-c", BUILD_SNIPPET, str(models)], child_env(), work).check(
        "ONNX model build"
    )
    results["onnx_build"] = {**proc_summary(build), "reused": bool(args.model_cache)}
    use_model_cache(models)

    log("timing `newsdesk --help`")
    results["cli_help"] = bench_help(work, repeats=3 if args.smoke else 7)

    # Alternate the pipelines and keep each one's fastest run: load from other work on a shared machine comes and
    # goes, and alternating exposes both to it alike.
    backends = [args.backend, *(["torch"] if args.with_torch else [])]
    runs: dict[str, list[dict[str, Any]]] = {}
    for attempt in range(1, args.repeats + 1):
        for backend in backends:
            log(f"[{attempt}/{args.repeats}] ingesting {len(source)} articles with newsdesk ({backend})")
            runs.setdefault(backend, []).append(bench_newsdesk_ingest(corpus, work, models, backend))
        log(f"[{attempt}/{args.repeats}] ingesting with the naive LangChain pipeline")
        runs.setdefault("naive", []).append(bench_naive_ingest(corpus, work))
    best = {name: min(rows, key=lambda row: row["wall_s"]) for name, rows in runs.items()}
    for name, rows in runs.items():
        best[name]["runs_wall_s"] = [row["wall_s"] for row in rows]
    ingest = [best[b] for b in backends]
    naive = best["naive"]
    ingest.append(naive)
    results["ingest"] = ingest
    results["ingest_speedup_wall"] = round(naive["wall_s"] / ingest[0]["wall_s"], 2)
    results["ingest_speedup_cpu"] = round(naive["cpu_s"] / ingest[0]["cpu_s"], 2)

    log("embedding throughput against the matmul ceiling")
    results["embedding"] = bench_ceiling(corpus, work, models, 4 if args.smoke else 150)

    questions = make_questions(source, n_questions + warmup)
    ingested = Path(ingest[0]["data_dir"])
    results["ask"] = bench_asking(ingested, work, models, args.backend, sizes, questions, warmup)
    log("asking on the ingested corpus")
    real = ask_once(ingested, work, args.backend, work / "questions.json", warmup, "ask-real")
    results["ask_real_corpus"] = real
    log("timing one-shot `newsdesk ask` (fresh process each) and an error path")
    results["oneshot"] = bench_oneshot(ingested, work, args.backend, questions[0], 3 if args.smoke else 7)
    small, large = results["ask"][0], results["ask"][-1]
    results["ask_ratio_p50"] = round(large["ms"]["total"]["p50"] / small["ms"]["total"]["p50"], 2)
    results["ask_ratio_p95"] = round(large["ms"]["total"]["p95"] / small["ms"]["total"]["p95"], 2)
    results["load_at_end"] = load()
    results["benchmark_s"] = round(time.perf_counter() - started, 1)
    results["targets"] = evaluate_targets(results)

    (out / "results.json").write_text(json.dumps(results, indent=2))
    (out / "results.md").write_text(markdown(results))
    if args.docs:
        args.docs.write_text(docs_page(results))
        log(f"rewrote {args.docs}")
    log(f"wrote {out / 'results.json'} and {out / 'results.md'} in {results['benchmark_s']} s")
    print((out / "results.md").read_text())
    return 0


BUILD_SNIPPET = """
import sys
from pathlib import Path
from newsdesk.settings import bundled_model_path
from retrieval.onnx_embedder import OnnxEmbedder
OnnxEmbedder(bundled_model_path(), Path(sys.argv[1]))
"""

if __name__ == "__main__":
    raise SystemExit(main())
