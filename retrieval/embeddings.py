"""Sentence embeddings from the bundled all-MiniLM-L6-v2, behind LangChain's `Embeddings` interface.

One model per process: `Services` builds it once and hands it to the ingestor, the retriever and the answerer.
Vectors are L2-normalised so cosine similarity is a dot product. Loading never touches the network
(`HF_HUB_OFFLINE=1` is set before sentence-transformers is imported).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np
from langchain_core.embeddings import Embeddings

from newsdesk.settings import Settings

MAX_TOKENS = 256


class TokenCounter:
    """Counts model tokens with the model's own fast tokenizer (no special tokens), for chunk budgets."""

    def __init__(self, model_path: Path) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()

    def count(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        return [len(enc.ids) for enc in self._tokenizer.encode_batch(texts, add_special_tokens=False)]


class Embedder(Protocol):
    """What the rest of newsdesk needs from an embedding backend (every backend is also a LangChain `Embeddings`)."""

    dimension: int
    backend: str

    def embed_array(self, texts: list[str]) -> np.ndarray: ...

    def count_tokens(self, texts: list[str]) -> list[int]: ...

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


class TorchEmbedder(Embeddings):
    """fp32 sentence-transformers on the CPU: the reference backend."""

    backend = "torch"

    def __init__(self, model_path: Path, batch_size: int = 64) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()

        self._model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True)
        self._model.max_seq_length = MAX_TOKENS
        self._batch_size = batch_size
        self._lock = threading.Lock()
        self._tokens = TokenCounter(model_path)
        self.dimension = int(self._model.get_embedding_dimension() or 384)

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """Normalised float32 vectors, shape (len(texts), dimension); sentence-transformers sorts by length."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:  # torch intra-op threads already use every core; serialise callers
            vectors = self._model.encode(
                texts,
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def count_tokens(self, texts: list[str]) -> list[int]:
        return self._tokens.count(texts)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_array([text])[0].tolist()


class LazyEmbedder(Embeddings):
    """An `Embedder` that builds the real one on first use, so a command that ends early never loads a model.

    `newsdesk ingest missing.txt` or an empty question must answer in well under a second; with this, the model is
    loaded only when a text is really counted or embedded. Thread-safe: concurrent first calls build it once.
    """

    def __init__(self, factory: Callable[[], Embedder]) -> None:
        self._factory = factory
        self._inner: Embedder | None = None
        self._lock = threading.Lock()

    @property
    def inner(self) -> Embedder:
        if self._inner is None:
            with self._lock:
                if self._inner is None:
                    self._inner = self._factory()
        return self._inner

    @property
    def loaded(self) -> bool:
        return self._inner is not None

    @property
    def dimension(self) -> int:  # type: ignore[override]
        return self.inner.dimension

    @property
    def backend(self) -> str:
        return self.inner.backend

    def embed_array(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_array(texts)

    def count_tokens(self, texts: list[str]) -> list[int]:
        return self.inner.count_tokens(texts)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def make_embedder(settings: Settings) -> Embedder:
    """The configured backend: `onnx` (the default: int8, built locally on first use), `torch` (fp32), or `auto`.

    `auto` falls back to torch when the int8 model cannot be built; `onnx` fails loudly instead.
    """
    backend = settings.embedding_backend
    if backend in ("onnx", "auto"):
        try:
            from retrieval.onnx_embedder import OnnxBuildError, OnnxEmbedder

            return OnnxEmbedder(  # type: ignore[return-value]
                settings.model_path,
                cache_dir=settings.model_cache_dir,
                batch_size=settings.embedding_batch_size,
                threads=settings.embedding_threads,
            )
        except (ImportError, OnnxBuildError) as exc:
            if backend == "onnx":
                raise
            import logging

            logging.getLogger(__name__).warning("int8 ONNX embedder unavailable (%s); using torch fp32", exc)
    return TorchEmbedder(settings.model_path, batch_size=settings.embedding_batch_size)  # type: ignore[return-value]
