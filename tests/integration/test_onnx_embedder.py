"""The int8 ONNX embedder: built locally from the bundled weights, close to the fp32 model, cached safely.

The model is built once per run, by two processes racing on the run's empty cache (as two `newsdesk` commands
started together would; `onnx_build` in tests/integration/conftest.py); these tests check that race and reuse its
result or copies of it.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ingest.sentences import split_sentences
from newsdesk.settings import bundled_model_path
from retrieval.embeddings import TorchEmbedder
from retrieval.onnx_embedder import OnnxEmbedder
from tests.model_build import RaceBuild
from tests.paths import SAMPLE


def sample_sentences() -> list[str]:
    text = SAMPLE.read_text(encoding="utf-8")
    sentences = [text[s:e] for s, e in split_sentences(text)]
    return [s for s in sentences if len(s.split()) >= 3]


@pytest.fixture(scope="module")
def cache_dir(onnx_build: RaceBuild) -> Path:
    return onnx_build.cache


def test_two_processes_racing_on_an_empty_cache_build_once(onnx_build: RaceBuild) -> None:
    """The run's model cache was filled by two processes started at once (tests/integration/conftest.py): both got
    a model, the same vectors, and exactly one of them built it."""
    assert onnx_build.returncodes == [0, 0], [err[-2000:] for _, err in onnx_build.outputs]
    assert onnx_build.outputs[0][0] == onnx_build.outputs[1][0]  # same vector from both
    builds = sum(err.count("building the int8 ONNX embedding model") for _, err in onnx_build.outputs)
    assert builds == 1
    assert len(list(onnx_build.cache.glob("*.onnx"))) == 1
    assert not [p for p in onnx_build.cache.iterdir() if p.name.startswith(".build-")]  # no half-built leftovers


@pytest.fixture(scope="module")
def onnx(cache_dir: Path) -> OnnxEmbedder:
    return OnnxEmbedder(bundled_model_path(), cache_dir)


@pytest.fixture(scope="module")
def torch_model() -> Iterator[TorchEmbedder]:
    yield TorchEmbedder(bundled_model_path())


def test_int8_vectors_match_the_fp32_model_on_real_sentences(onnx: OnnxEmbedder, torch_model: TorchEmbedder) -> None:
    sentences = sample_sentences()
    assert len(sentences) >= 30
    fast = onnx.embed_array(sentences)
    ref = torch_model.embed_array(sentences)
    assert fast.shape == ref.shape == (len(sentences), 384) and fast.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-4)
    cosine = (fast * ref).sum(axis=1)
    assert cosine.min() >= 0.98, sentences[int(cosine.argmin())]
    # Retrieval sees the same neighbours: each sentence's nearest other sentence agrees for nearly all of them.
    near_fast = np.argsort(-(fast @ fast.T), axis=1)[:, 1]
    near_ref = np.argsort(-(ref @ ref.T), axis=1)[:, 1]
    assert (near_fast == near_ref).mean() >= 0.9


def test_long_texts_are_truncated_like_sentence_transformers(onnx: OnnxEmbedder, torch_model: TorchEmbedder) -> None:
    long_text = " ".join(sample_sentences())  # ~1,000 tokens: both models read only the first 256
    assert onnx.count_tokens([long_text])[0] > 800
    cos = float(onnx.embed_array([long_text])[0] @ torch_model.embed_array([long_text])[0])
    assert cos >= 0.98


def test_order_batching_and_interfaces_agree(onnx: OnnxEmbedder, torch_model: TorchEmbedder) -> None:
    texts = sample_sentences()[:40]  # several batches, cut from the texts sorted by (length, text)
    forward = onnx.embed_array(texts)
    backward = onnx.embed_array(texts[::-1])
    # the same texts form the same batches in any order, and results come back in the caller's order
    np.testing.assert_allclose(forward, backward[::-1], atol=1e-5)
    # int8 activations are scaled per batch, so a text alone and in a batch differ slightly, never by much.
    assert float(np.dot(onnx.embed_query(texts[3]), forward[3])) >= 0.98
    assert np.allclose(onnx.embed_query(texts[3]), onnx.embed_array([texts[3]])[0], atol=1e-6)
    docs = onnx.embed_documents(texts)
    assert isinstance(docs[0][0], float) and np.allclose(docs, forward, atol=1e-5)
    assert onnx.embed_array([]).shape == (0, 384) and onnx.embed_documents([]) == []
    assert onnx.count_tokens(texts) == torch_model.count_tokens(texts)


def test_batches_run_in_parallel_give_the_vectors_of_one_thread(cache_dir: Path) -> None:
    texts = sample_sentences() * 3  # enough for many batches
    parallel = OnnxEmbedder(bundled_model_path(), cache_dir, threads=2)
    serial = OnnxEmbedder(bundled_model_path(), cache_dir, threads=1)
    np.testing.assert_allclose(parallel.embed_array(texts), serial.embed_array(texts), atol=1e-6)


def test_threads_can_share_one_embedder(onnx: OnnxEmbedder) -> None:
    texts = sample_sentences()
    groups = [texts[i::4] for i in range(4)]
    expected = [onnx.embed_array(g) for g in groups]
    got: list[np.ndarray | None] = [None] * 4

    def work(i: int) -> None:
        for _ in range(3):
            got[i] = onnx.embed_array(groups[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for want, have in zip(expected, got, strict=True):
        assert have is not None and np.allclose(want, have, atol=1e-5)


def test_cached_model_is_reused_not_rebuilt(cache_dir: Path, onnx: OnnxEmbedder) -> None:
    [model_file] = cache_dir.glob("*.onnx")
    before = model_file.stat()
    again = OnnxEmbedder(bundled_model_path(), cache_dir)
    after = model_file.stat()
    assert again.onnx_path == model_file
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert np.allclose(again.embed_query("reuse"), onnx.embed_query("reuse"))


def test_truncated_cache_file_is_rebuilt(
    cache_dir: Path, onnx: OnnxEmbedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "cache"
    shutil.copytree(cache_dir, broken)
    [model_file] = broken.glob("*.onnx")
    good_size = model_file.stat().st_size
    with model_file.open("r+b") as fh:  # a copy interrupted halfway
        fh.truncate(good_size // 2)

    # The export itself is what the race test above runs for real; here the child build is replaced by copying its
    # result, so the run builds once while the detect -> lock -> discard -> build -> manifest path still runs.
    [good_file] = cache_dir.glob("*.onnx")
    calls: list[Path] = []

    def copy_build(self: OnnxEmbedder, target: Path) -> None:
        calls.append(target)
        shutil.copy2(good_file, target)

    monkeypatch.setattr(OnnxEmbedder, "_build_in_child", copy_build)
    rebuilt = OnnxEmbedder(bundled_model_path(), broken)
    assert calls == [model_file]
    assert rebuilt.onnx_path == model_file and model_file.stat().st_size == good_size
    texts = sample_sentences()[:10]
    assert np.allclose(rebuilt.embed_array(texts), onnx.embed_array(texts), atol=1e-5)

    # Same size but damaged bytes are caught too (the manifest's hash), without loading garbage.
    data = bytearray(model_file.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = bytes(64)
    model_file.write_bytes(bytes(data))
    assert not rebuilt._is_valid(model_file)
