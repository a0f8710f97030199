"""Embedding efficiency: tokens/s of each backend against what this machine's cores can do.

The ceiling is a large fp32 matrix product's FLOP/s (numpy and torch, the better one), measured in this run, so a
busy or throttled machine lowers the ceiling and the throughput together. The model's work per token is counted
from its config: per layer 4*h^2 (Q, K, V, output projections) + 2*h*i (feed-forward) multiply-adds, plus 2*L*h
for attention scores and context at the workload's mean length L; one multiply-add is two FLOPs. int8 kernels can
exceed the fp32 ceiling (VNNI does 4 int8 multiply-adds per fp32 lane), so the onnx ratio may pass 1.

`python -m benchmarks.ceiling CORPUS.jsonl DATA_DIR N_ARTICLES RESULT.json`
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np


def matmul_flops(n: int = 2048, repeats: int = 5) -> dict[str, float]:
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    b = np.random.default_rng(1).random((n, n), dtype=np.float32)
    out: dict[str, float] = {}
    best = 0.0
    a @ b
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        best = max(best, 2 * n**3 / (time.perf_counter() - t))
    out["numpy_gflops"] = best / 1e9
    import torch

    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    best = 0.0
    ta @ tb
    for _ in range(repeats):
        t = time.perf_counter()
        ta @ tb
        best = max(best, 2 * n**3 / (time.perf_counter() - t))
    out["torch_gflops"] = best / 1e9
    out["ceiling_gflops"] = max(out["numpy_gflops"], out["torch_gflops"])
    return out


def model_flops_per_token(config: dict[str, int], mean_len: float) -> float:
    h, i, layers = config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"]
    macs = layers * (4 * h * h + 2 * h * i + 2 * mean_len * h)
    return 2.0 * macs


def measure(texts: list[str], models: dict[str, Any], count: Any, config: dict[str, int], ceiling: float) -> dict:
    """Tokens/s of each backend on `texts`, the FLOP/s that is, its share of `ceiling`, and cosine between them."""
    tokens = sum(min(n + 2, 256) for n in count(texts))
    mean_len = tokens / max(1, len(texts))
    per_token = model_flops_per_token(config, mean_len)
    backends: dict[str, dict[str, float]] = {}
    vectors = {}
    for name, model in models.items():
        model.embed_array(texts[:16])
        t = time.perf_counter()
        vectors[name] = model.embed_array(texts)
        seconds = time.perf_counter() - t
        tps = tokens / seconds
        backends[name] = {
            "texts_per_s": round(len(texts) / seconds, 1),
            "tokens_per_s": round(tps, 1),
            "achieved_gflops": round(tps * per_token / 1e9, 2),
            "efficiency": round(tps * per_token / (ceiling * 1e9), 3),
        }
    cosine = (vectors["torch"] * vectors["onnx"]).sum(axis=1)
    return {
        "texts": len(texts),
        "tokens": tokens,
        "mean_tokens": round(mean_len, 1),
        "model_mflops_per_token": round(per_token / 1e6, 2),
        "ceiling_tokens_per_s": round(ceiling * 1e9 / per_token, 1),
        "backends": backends,
        "onnx_speedup": round(backends["onnx"]["tokens_per_s"] / backends["torch"]["tokens_per_s"], 2),
        "cosine_onnx_vs_torch": {"min": round(float(cosine.min()), 4), "mean": round(float(cosine.mean()), 4)},
    }


def main(argv: list[str]) -> int:
    corpus, data_dir, n_articles, result = Path(argv[0]), Path(argv[1]), int(argv[2]), Path(argv[3])
    from benchmarks.corpus import read_corpus
    from ingest.chunking import chunk_article
    from ingest.cleaning import clean_article
    from ingest.models import RawArticle
    from ingest.pipeline import content_hash
    from ingest.sentences import split_sentences
    from newsdesk.settings import Settings
    from retrieval.embeddings import TorchEmbedder
    from retrieval.onnx_embedder import OnnxEmbedder

    settings = Settings(data_dir=data_dir)
    config = json.loads((settings.model_path / "config.json").read_text())
    onnx = OnnxEmbedder(settings.model_path, settings.model_cache_dir, batch_size=settings.embedding_batch_size)
    torch_model = TorchEmbedder(settings.model_path, batch_size=settings.embedding_batch_size)
    chunks: list[str] = []
    sentences: list[str] = []
    for a in read_corpus(corpus, limit=n_articles):
        art = clean_article(RawArticle(a.article_id, a.text, source=a.article_id, title=a.title, pre_extracted=True))
        chunks.extend(c.text for c in chunk_article(art, content_hash(art), settings.chunk_tokens, onnx.count_tokens))
        sentences.extend(art.text[s:e] for s, e in split_sentences(art.text))
    ceiling = matmul_flops()
    models = {"torch": torch_model, "onnx": onnx}
    out = {
        **{k: round(v, 1) for k, v in ceiling.items()},
        "workloads": {
            name: measure(texts, models, onnx.count_tokens, config, ceiling["ceiling_gflops"])
            for name, texts in (("chunks", chunks), ("sentences", sentences))
        },
    }
    result.write_text(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
