"""A fake OpenAI-compatible chat server for tests: real HTTP on 127.0.0.1, scripted replies.

Paid LLM APIs cannot exist in CI, so the tests drive the real `langchain-openai` client against this server. It
speaks the wire protocol the client expects: `POST /v1/chat/completions` answered either as one JSON object or, when
the request has `"stream": true`, as server-sent events (`data: {chunk}` ... `data: [DONE]`). Replies are scripted
per test (a queue, or a function of the request), and can be errors (429, 500), slow, or empty. Every request body
is recorded so tests can check what the model was sent.

The server runs its own event loop in a daemon thread, so synchronous code (the answerer) and async code (the
streaming API) can both talk to it.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Reply:
    """One scripted reply.

    `text` is the assistant message; `status` other than 200 sends an OpenAI-style error body instead; `delay` waits
    before the response starts (a slow or hung model); `chunk_delay` waits between streamed pieces; `raw` sends
    these bytes verbatim as the body (malformed responses).
    """

    text: str = ""
    status: int = 200
    delay: float = 0.0
    chunk_delay: float = 0.0
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


Responder = Callable[[dict[str, Any]], Reply]


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


class FakeOpenAI:
    """The server. Use as a context manager; `base_url` is what `LLM_BASE_URL` should be set to."""

    def __init__(self, default: Reply | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._queue: deque[Reply] = deque()
        self._responder: Responder | None = None
        self._default = default or Reply(text="")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._sock = _free_socket()
        self.port: int = self._sock.getsockname()[1]
        self._lock = threading.Lock()

    # --- scripting -------------------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *replies: Reply | str) -> None:
        """Queue replies, answered in order; when the queue is empty the responder or the default answers."""
        with self._lock:
            for reply in replies:
                self._queue.append(Reply(text=reply) if isinstance(reply, str) else reply)

    def respond_with(self, responder: Responder | None) -> None:
        """Answer every request (after the queue is used up) with `responder(request_body)`."""
        self._responder = responder

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            self.headers.clear()
        self._responder = None

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        if self._responder is not None:
            return self._responder(body)
        return self._default

    # --- HTTP ------------------------------------------------------------------------------------------------------
    async def _chat(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return web.json_response(
                {"error": {"message": "invalid JSON", "type": "invalid_request_error"}}, status=400
            )
        with self._lock:
            self.requests.append(body)
            self.headers.append(dict(request.headers))
        reply = self._next_reply(body)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.raw is not None:
            return web.Response(body=reply.raw, status=reply.status, content_type="application/json")
        if reply.status != 200:
            kind = "rate_limit_error" if reply.status == 429 else "server_error"
            return web.json_response(
                {"error": {"message": f"scripted {reply.status}", "type": kind, "code": None, "param": None}},
                status=reply.status,
                headers=reply.headers,
            )
        model = body.get("model", "fake-model")
        created = int(time.time())
        if body.get("stream"):
            return await self._stream(request, reply, model, created, body)
        return web.json_response(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply.text},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": len(reply.text.split()), "total_tokens": 10},
            },
            headers=reply.headers,
        )

    async def _stream(
        self, request: web.Request, reply: Reply, model: str, created: int, body: dict[str, Any]
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)

        def chunk(delta: dict[str, Any], finish: str | None) -> bytes:
            payload = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }
            return f"data: {json.dumps(payload)}\n\n".encode()

        await response.write(chunk({"role": "assistant", "content": ""}, None))
        # Stream word by word, keeping whitespace, so the client sees many small deltas.
        pieces = [piece for piece in _split_keep_space(reply.text)]
        for piece in pieces:
            if reply.chunk_delay:
                await asyncio.sleep(reply.chunk_delay)
            await response.write(chunk({"content": piece}, None))
        await response.write(chunk({}, "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [],
                "usage": {"prompt_tokens": 10, "completion_tokens": len(pieces), "total_tokens": 10 + len(pieces)},
            }
            await response.write(f"data: {json.dumps(usage)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "fake-model", "object": "model"}]})

    # --- lifecycle -------------------------------------------------------------------------------------------------
    def _add_routes(self, app: web.Application) -> None:
        """The endpoints; the fake Anthropic and Ollama servers (same scripting, other wire formats) replace them."""
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)

    async def _read(self, request: web.Request) -> tuple[dict[str, Any] | None, Reply]:
        """The request body (None if it is not JSON), recorded with its headers, and the reply scripted for it."""
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return None, Reply(status=400)
        with self._lock:
            self.requests.append(body)
            self.headers.append(dict(request.headers))
        reply = self._next_reply(body)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        return body, reply

    def start(self) -> FakeOpenAI:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            app = web.Application()
            self._add_routes(app)
            self._runner = web.AppRunner(app, shutdown_timeout=0.5)
            loop.run_until_complete(self._runner.setup())
            loop.run_until_complete(web.SockSite(self._runner, self._sock).start())
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-openai", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake OpenAI server did not start")
        return self

    async def _shutdown(self) -> None:
        assert self._runner is not None
        await self._runner.cleanup()
        current = asyncio.current_task()
        pending = [task for task in asyncio.all_tasks() if task is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None and self._runner is not None:
            # Cleanup cancels requests still being answered (slow replies) before the loop stops.
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._sock.close()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _split_keep_space(text: str) -> list[str]:
    """Split into words with their following whitespace, so joining the pieces gives `text` back."""
    pieces: list[str] = []
    current = ""
    for char in text:
        if current and not char.isspace() and current[-1].isspace():
            pieces.append(current)
            current = ""
        current += char
    if current:
        pieces.append(current)
    return pieces
