"""A tiny deterministic embedder for the unit layer: hashed bags of word stems, no model, no torch, no onnxruntime.

It keeps what the rest of newsdesk relies on (normalised vectors, a `dimension`, token counts in the real model's
tokenizer so chunk sizes match production) and what retrieval tests notice (texts sharing words are close), while
loading in milliseconds. Semantic quality is the integration layer's business.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
from langchain_core.embeddings import Embeddings

from newsdesk.settings import bundled_model_path
from retrieval.embeddings import TokenCounter
from retrieval.stemming import porter_stem

_WORD = re.compile(r"\w+")


class TinyEmbedder(Embeddings):
    """Feature-hashed, signed bag of Porter stems (plus stem bigrams), L2-normalised."""

    backend = "tiny"

    def __init__(self, dimension: int = 384) -> None:
        self.dimension = dimension
        self._tokens = TokenCounter(bundled_model_path())  # tokenizer.json only: fast, and the real token counts

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dimension, dtype=np.float32)
        stems = [porter_stem(w) for w in _WORD.findall(text.lower())]
        features = stems + [f"{a} {b}" for a, b in zip(stems, stems[1:], strict=False)]
        for feature in features:
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            slot = int.from_bytes(digest[:4], "little") % self.dimension
            vec[slot] += 1.0 if digest[4] & 1 else -1.0
        norm = float(np.linalg.norm(vec))
        if norm == 0.0:
            vec[0] = 1.0
            return vec
        return vec / norm

    def embed_array(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts])

    def count_tokens(self, texts: list[str]) -> list[int]:
        return self._tokens.count(texts)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_array([text])[0].tolist()
