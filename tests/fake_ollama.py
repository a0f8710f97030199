"""A fake Ollama server for tests: real HTTP on 127.0.0.1, the same scripting as tests/fake_openai.py.

The real `langchain-ollama` client (and the `ollama` package under it) talks to it as to `ollama serve`:
`POST /api/chat`, answered as one JSON object, or, when `"stream"` is true or missing (Ollama's default), as
newline-delimited JSON, one `{"message": {"content": piece}, "done": false}` per piece and a last object with
`"done": true` and the token counts. Errors are Ollama's `{"error": "..."}` with the HTTP status.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.fake_openai import FakeOpenAI, Reply, _split_keep_space


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class FakeOllama(FakeOpenAI):
    """The server; `base_url` is what `LLM_BASE_URL` should be."""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_post("/api/chat", self._chat_api)
        app.router.add_get("/api/tags", self._tags)

    async def _tags(self, request: web.Request) -> web.Response:
        return web.json_response({"models": [{"name": "llama3.2:latest", "model": "llama3.2:latest"}]})

    async def _chat_api(self, request: web.Request) -> web.StreamResponse:
        body, reply = await self._read(request)
        if body is None:
            return web.json_response({"error": "invalid JSON"}, status=400)
        if reply.status != 200:
            return web.json_response({"error": f"scripted {reply.status}"}, status=reply.status)
        if not body.get("model"):
            return web.json_response({"error": "model is required"}, status=400)
        model = body["model"]
        if body.get("stream", True):
            return await self._stream(request, reply, model)
        return web.json_response(
            {**self._final(model, len(reply.text.split())), "message": {"role": "assistant", "content": reply.text}}
        )

    def _final(self, model: str, tokens: int) -> dict[str, Any]:
        return {
            "model": model,
            "created_at": _now(),
            "done": True,
            "done_reason": "stop",
            "total_duration": 1_000_000,
            "load_duration": 1_000,
            "prompt_eval_count": 10,
            "prompt_eval_duration": 1_000,
            "eval_count": tokens,
            "eval_duration": 1_000,
        }

    async def _stream(self, request: web.Request, reply: Reply, model: str) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        pieces = _split_keep_space(reply.text)
        for piece in pieces:
            if reply.chunk_delay:
                await asyncio.sleep(reply.chunk_delay)
            line = {"model": model, "created_at": _now(), "message": {"role": "assistant", "content": piece}}
            await response.write((json.dumps({**line, "done": False}) + "\n").encode())
        last = {**self._final(model, len(pieces)), "message": {"role": "assistant", "content": ""}}
        await response.write((json.dumps(last) + "\n").encode())
        await response.write_eof()
        return response
