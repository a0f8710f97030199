"""int8 ONNX embeddings of the bundled all-MiniLM-L6-v2: the same vectors as the torch path, 2-3x faster on a CPU.

Nothing is downloaded. On first use the bundled safetensors weights are exported with `torch.onnx.export`, the
graph's attention/LayerNorm/GELU are fused by onnxruntime's BERT optimizer, and the weights are quantized to int8
(dynamic, per channel, which this CPU's VNNI instructions run fastest; one sensitive MatMul stays fp32, so cosine to
fp32 stays >= 0.98 on every sentence measured). The result is cached in NEWSDESK_MODEL_CACHE (the user's cache
directory by default), so later processes only load a 23 MB file and never import torch.

The build runs in a child Python process: importing torch and transformers would otherwise stay in the memory of a
long-running bot for its whole life. A file lock serialises concurrent builders and the file appears by atomic
rename, so two processes starting at once never see or write a half-built model; a manifest with the file's SHA-256
detects a truncated or corrupted cache, which is then rebuilt.

At run time texts are tokenized with `tokenizers` (the model's own tokenizer.json), truncated to 256 tokens like
sentence-transformers does, sorted by length and batched so padding stays small, then mean pooled and L2 normalised.
Dynamic quantization scales activations per batch, so a text embedded alone and within a batch differ slightly
(cosine about 0.98-0.99, the same distance as to the fp32 vectors).

Throughput (measured on BBC sentences, 2-core Xeon with VNNI/AMX, see docs/benchmarks.md): small batches of about
`BATCH_TOKENS` tokens, each run single-threaded, with one batch per core in flight at once, embed about 12,500
tokens per CPU-second (16,000 with the unfused LayerNorm of `build_int8_model`); one batch of 64 texts split over
two intra-op threads manages about 9,000 and
degrades badly on a busy machine, where a thread waiting at every operator's barrier for a descheduled partner
wastes its time slice. Small batches also keep a batch's activations in the CPU cache (256-text batches are half
as fast per token). `InferenceSession.run` releases the GIL, so plain Python threads give the parallelism.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

log = logging.getLogger(__name__)

MAX_TOKENS = 256
BATCH_TOKENS = 512  # padded tokens per model call (texts x longest text); see the module docstring
BUILD_VERSION = 3  # bump when the export/optimize/quantize recipe changes, so old caches are not reused
_INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask, which containers and `taskset` narrow), else all."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class OnnxBuildError(RuntimeError):
    """The int8 model could not be built from the bundled weights (the message carries the builder's error)."""


def _model_fingerprint(model_path: Path) -> str:
    """Identifies the source weights cheaply: config, size and the head and tail of the safetensors file.

    Hashing all 90 MB on every start would cost a few hundred milliseconds; the head holds the tensor index and
    the tail the last layers, so a different checkpoint of the same size still changes the fingerprint.
    """
    digest = hashlib.sha256(f"v{BUILD_VERSION}".encode())
    digest.update((model_path / "config.json").read_bytes())
    weights = model_path / "model.safetensors"
    size = weights.stat().st_size
    digest.update(str(size).encode())
    with weights.open("rb") as fh:
        digest.update(fh.read(1 << 20))
        fh.seek(max(0, size - (1 << 20)))
        digest.update(fh.read(1 << 20))
    return digest.hexdigest()[:16]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fp32_nodes(model: Any) -> list[str]:
    """MatMuls kept in fp32: the first layer's feed-forward output, whose GELU activations have the widest range.

    Measured on 2,221 BBC sentences: quantizing it too costs the worst sentence's cosine to fp32 0.979 (mean
    0.992); keeping it fp32 gives 0.985 (mean 0.994) for about 6% more time. No other single layer helps as much.
    """
    return [n.name for n in model.graph.node if n.op_type == "MatMul" and "layer.0/output/dense" in n.name]


def build_int8_model(model_path: Path, out_path: Path) -> None:
    """Export, fuse and quantize `model_path` into `out_path` (written elsewhere first, then renamed into place).

    Runs in a separate process (see `OnnxEmbedder`); imports torch and transformers, which the serving process
    never needs. Eager attention is exported because onnxruntime's optimizer fuses that pattern into its
    `Attention` kernel, which the SDPA export path does not get.
    """
    import tempfile
    import warnings

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer
    from onnxruntime.transformers.fusion_options import FusionOptions
    from transformers import AutoConfig, AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    logging.getLogger("onnxruntime").setLevel(logging.ERROR)
    logging.getLogger().setLevel(logging.ERROR)  # quantize_dynamic warns about pre-processing via the root logger

    config = AutoConfig.from_pretrained(str(model_path), local_files_only=True)
    model = AutoModel.from_pretrained(str(model_path), local_files_only=True, attn_implementation="eager")
    model.eval()

    class _Encoder(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> Any:
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_path.parent, prefix=".build-") as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        fused = Path(tmp) / "fused.onnx"
        int8 = Path(tmp) / "int8.onnx"
        sample = torch.ones((2, 16), dtype=torch.long)
        axes = {"batch": 0, "seq": 1}
        dynamic_axes = {name: {v: k for k, v in axes.items()} for name in (*_INPUT_NAMES, "last_hidden_state")}
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _Encoder(model),
                (sample, sample, torch.zeros_like(sample)),
                str(fp32),
                input_names=list(_INPUT_NAMES),
                output_names=["last_hidden_state"],
                dynamic_axes=dynamic_axes,
                opset_version=17,
                dynamo=False,
            )
        fusion = FusionOptions("bert")
        # Residual add + LayerNorm stay two ops: onnxruntime's fused SkipLayerNormalization kernel took 29% of the
        # int8 model's time on one core; unfused, the model runs about 30% faster with the same vectors.
        fusion.enable_skip_layer_norm = False
        fusion.enable_bias_skip_layer_norm = False
        optimized = optimizer.optimize_model(
            str(fp32),
            model_type="bert",
            num_heads=int(config.num_attention_heads),
            hidden_size=int(config.hidden_size),
            opt_level=1,
            optimization_options=fusion,
        )
        optimized.save_model_to_file(str(fused))
        quantize_dynamic(
            str(fused),
            str(int8),
            weight_type=QuantType.QInt8,
            per_channel=True,
            nodes_to_exclude=_fp32_nodes(onnx.load(str(fused))),
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},  # fused ops have no inferred output type
        )
        os.replace(int8, out_path)


class OnnxEmbedder(Embeddings):
    """int8 onnxruntime backend with the `Embedder` interface of `retrieval.embeddings`; safe to share across threads.

    `cache_dir` holds the built model. `threads` is how many batches run at once, each on one core (default: every
    CPU this process may use); `batch_size` caps the texts per batch, `batch_tokens` its padded size.
    """

    backend = "onnx"

    def __init__(
        self,
        model_path: Path,
        cache_dir: Path,
        batch_size: int = 64,
        threads: int | None = None,
        batch_tokens: int = BATCH_TOKENS,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.model_path = Path(model_path)
        self.cache_dir = Path(cache_dir)
        self._target_path: Path | None = None
        self._batch_size = max(1, batch_size)
        self._batch_tokens = max(1, batch_tokens)
        self.threads = max(1, threads or available_cpus())
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        config = json.loads((self.model_path / "config.json").read_text(encoding="utf-8"))
        self.dimension = int(config.get("hidden_size", 384))

        self._tokenizer = Tokenizer.from_file(str(self.model_path / "tokenizer.json"))
        # tokenizer.json ships with fixed 128-token padding/truncation; sentence-transformers uses 256 and no padding.
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        self._counter = Tokenizer.from_file(str(self.model_path / "tokenizer.json"))
        self._counter.no_truncation()
        self._counter.no_padding()

        self.onnx_path = self.ensure_model()
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # One core per call; parallelism comes from running `self.threads` batches at once (module docstring).
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(self.onnx_path),
            options,
            providers=["CPUExecutionProvider"],
            # would fuse the residual Add + LayerNormalization back into the slow kernel (see build_int8_model)
            disabled_optimizers=["SkipLayerNormFusion"],
        )
        # InferenceSession.run and Tokenizer.encode_batch are thread-safe, and nothing here mutates after __init__
        # except the lazily created pool (under a lock), so threads share one embedder.
        self._feeds_type_ids = "token_type_ids" in {i.name for i in self._session.get_inputs()}

    # --- cache ---------------------------------------------------------------------------------------------------
    @property
    def _target(self) -> Path:
        if self._target_path is None:
            name = f"{self.model_path.name}-{_model_fingerprint(self.model_path)}-int8.onnx"
            self._target_path = self.cache_dir / name
        return self._target_path

    def _manifest(self, target: Path) -> Path:
        return target.with_suffix(".json")

    def _is_valid(self, target: Path) -> bool:
        """The cached file is complete: it exists and matches the size and hash recorded when it was built."""
        manifest = self._manifest(target)
        if not target.is_file() or not manifest.is_file():
            return False
        try:
            meta = json.loads(manifest.read_text(encoding="utf-8"))
            return bool(target.stat().st_size == meta["size"] and _sha256(target) == meta["sha256"])
        except (OSError, ValueError, KeyError, TypeError):
            return False

    def ensure_model(self) -> Path:
        """The path of a valid int8 model, building it (once, under a file lock) when missing or damaged."""
        from filelock import FileLock

        target = self._target
        if self._is_valid(target):
            return target
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with FileLock(str(target) + ".lock", timeout=600):
            if self._is_valid(target):  # another process built it while we waited
                return target
            # A warning so that it shows without --verbose: the first command is about a minute slower, once.
            log.warning(
                "building the int8 ONNX embedding model from the bundled weights (first use only, about a minute;"
                " cached in %s)",
                self.cache_dir,
            )
            for stale in (target, self._manifest(target)):
                stale.unlink(missing_ok=True)
            self._build_in_child(target)
            meta = {"size": target.stat().st_size, "sha256": _sha256(target), "source": str(self.model_path)}
            tmp_manifest = self._manifest(target).with_suffix(".json.tmp")
            tmp_manifest.write_text(json.dumps(meta), encoding="utf-8")
            os.replace(tmp_manifest, self._manifest(target))
        return target

    def _build_in_child(self, target: Path) -> None:
        package_root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        env.setdefault("HF_HUB_OFFLINE", "1")
        cmd = [sys.executable, "-m", "retrieval.onnx_embedder", str(self.model_path), str(target)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not target.is_file():
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
            raise OnnxBuildError(f"building the ONNX model from {self.model_path} failed: {tail}")

    # --- embedding -----------------------------------------------------------------------------------------------
    def count_tokens(self, texts: list[str]) -> list[int]:
        """Model tokens per text without special tokens or truncation (the unit chunk budgets are written in)."""
        if not texts:
            return []
        return [len(enc.ids) for enc in self._counter.encode_batch(texts, add_special_tokens=False)]

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """Normalised float32 vectors, shape (len(texts), dimension), in the order of `texts`.

        Batches are cut from the texts sorted by (length, text), so the same texts always form the same batches
        whatever their order (dynamic quantization scales per batch), and run `self.threads` at a time.
        """
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        lengths = [len(e.ids) for e in encodings]
        order = sorted(range(len(texts)), key=lambda i: (lengths[i], texts[i]))
        batches = self._batches(order, lengths)

        def run(idx: list[int]) -> None:
            out[idx] = self._embed_batch([encodings[j].ids for j in idx])

        if len(batches) == 1 or self.threads == 1:
            for idx in batches:
                run(idx)
        else:
            for _ in self._executor().map(run, batches):  # re-raises a batch's error here
                pass
        return out

    def _batches(self, order: list[int], lengths: list[int]) -> list[list[int]]:
        """Consecutive runs of `order` (ascending length) of at most `batch_size` texts and `batch_tokens` padded
        tokens; a text longer than the budget gets a batch of its own."""
        batches: list[list[int]] = []
        current: list[int] = []
        for j in order:
            if current and (len(current) >= self._batch_size or (len(current) + 1) * lengths[j] > self._batch_tokens):
                batches.append(current)
                current = []
            current.append(j)
        batches.append(current)
        return batches

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            with self._pool_lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="onnx-embed")
        return self._pool

    def _embed_batch(self, rows: list[list[int]]) -> np.ndarray:
        """Mean-pooled, normalised vectors of one batch of token id lists (padded here to the longest)."""
        width = max(len(r) for r in rows)
        ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = r
            mask[i, : len(r)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if self._feeds_type_ids:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        weights = mask.astype(np.float32)
        pooled = np.einsum("bsh,bs->bh", hidden, weights) / np.maximum(weights.sum(axis=1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.maximum(norms, 1e-12), dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_array([text])[0].tolist()


def _main(argv: list[str]) -> int:
    """`python -m retrieval.onnx_embedder MODEL_DIR OUT.onnx`: the child process that builds the model."""
    if len(argv) != 2:
        sys.stderr.write("usage: python -m retrieval.onnx_embedder MODEL_DIR OUT.onnx\n")
        return 2
    build_int8_model(Path(argv[0]), Path(argv[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
