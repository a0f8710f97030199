"""A fake Anthropic Messages API for tests: real HTTP on 127.0.0.1, the same scripting as tests/fake_openai.py.

The real `langchain-anthropic` client (and the `anthropic` SDK under it) talks to it as to api.anthropic.com:
`POST /v1/messages` with the API key (`x-api-key`, or `Authorization: Bearer`) and `anthropic-version`. It answers
with one `message` object or, for `"stream": true`, with Anthropic's server-sent events (`message_start`,
`content_block_start`, `content_block_delta` ... `message_stop`). Errors carry Anthropic's error body,
`{"type": "error", "error": {"type": ..., "message": ...}}`, with the status the SDK maps to its exceptions
(401 authentication_error, 429 rate_limit_error, 5xx api_error).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from tests.fake_openai import FakeOpenAI, Reply, _split_keep_space

API_KEY = "sk-ant-test-key"

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def _error(status: int, message: str) -> web.Response:
    kind = _ERROR_TYPES.get(status, "api_error")
    return web.json_response({"type": "error", "error": {"type": kind, "message": message}}, status=status)


class FakeAnthropic(FakeOpenAI):
    """The server; `base_url` is what `LLM_BASE_URL` should be (the SDK adds `/v1/messages`)."""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/messages", self._messages)

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        # The SDK sends the key as `x-api-key` or, in newer versions, as a bearer token.
        if API_KEY not in (request.headers.get("x-api-key"), request.headers.get("Authorization", "")[7:]):
            return _error(401, "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return _error(400, "anthropic-version header is required")
        body, reply = await self._read(request)
        if body is None:
            return _error(400, "invalid JSON")
        if reply.status != 200:
            return _error(reply.status, f"scripted {reply.status}")
        if not isinstance(body.get("max_tokens"), int) or not body.get("messages"):
            return _error(400, "max_tokens and messages are required")
        model = body.get("model", "claude-fake")
        if body.get("stream"):
            return await self._stream(request, reply, model)
        return web.json_response(
            {
                "id": "msg_fake",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [{"type": "text", "text": reply.text}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 10, "output_tokens": len(reply.text.split())},
            }
        )

    async def _stream(self, request: web.Request, reply: Reply, model: str) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)

        async def event(name: str, data: dict[str, Any]) -> None:
            await response.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())

        pieces = _split_keep_space(reply.text)
        message = {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 1},
        }
        await event("message_start", {"type": "message_start", "message": message})
        block = {"type": "text", "text": ""}
        await event("content_block_start", {"type": "content_block_start", "index": 0, "content_block": block})
        await event("ping", {"type": "ping"})
        for piece in pieces:
            if reply.chunk_delay:
                await asyncio.sleep(reply.chunk_delay)
            delta = {"type": "text_delta", "text": piece}
            await event("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta})
        await event("content_block_stop", {"type": "content_block_stop", "index": 0})
        await event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": len(pieces)},
            },
        )
        await event("message_stop", {"type": "message_stop"})
        await response.write_eof()
        return response
