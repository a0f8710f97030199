"""Streamed LLM answers in Discord: a draft message edited as the model writes, then replaced by the verified answer.

Only with `NEWSDESK_STREAM=1` and an LLM configured (otherwise the bot answers in one go); the drafts and the verified
answer come from `QAChain.astream`, the same chain every other answer comes from. The model's draft is unverified,
so it is shown plainly labelled as a draft and never outlives the answer: the same message is edited into the
verified answer (embed, sources, buttons) or, if answering failed, into the extractive answer with its note, or the
error reply. Discord allows a few edits per message per few seconds, so the
draft is edited at most once every `EDIT_INTERVAL_S` (measured between requests actually made, final edit included).
A draft that cannot be edited (Discord error) stops being updated; one that cannot be replaced is deleted and the
answer is sent as a new message, so a user never sees an unverified draft as the last word.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

import discord

from bot import render
from bot.answering import Reply, answer_reply, error_reply, record_blocking
from bot.views import answer_view
from retrieval.answer import Draft as AnswerDraft
from retrieval.answer import QAResult, Turn

if TYPE_CHECKING:
    from bot.app import Bot
    from bot.workers import Ticket
    from newsdesk.settings import Settings

log = logging.getLogger(__name__)

NONE = discord.AllowedMentions.none()
EDIT_INTERVAL_S = 1.5
DRAFT_HEADER = "✍️ *Draft, still being written; the sources are checked before the final answer.*\n\n"

Sender = Callable[..., Awaitable[discord.Message]]


def enabled(settings: Settings) -> bool:
    """Stream only when asked to and an LLM is configured (the extractive answerer has nothing to stream)."""
    return settings.stream and settings.llm_provider != "none"


def draft_content(text: str) -> str:
    """The draft as message content: labelled, and cut with an ellipsis to fit Discord's 2,000 characters."""
    return DRAFT_HEADER + render.shorten(text, render.CONTENT_LIMIT - len(DRAFT_HEADER))


class Draft:
    """The one message that shows the growing draft and is finally edited into the reply.

    `send(**kwargs)` posts a new message where the answer belongs (a followup of `/ask`, or the thread or channel of
    a mention) and returns it; `first` are extra keyword arguments for the first message only (a reply reference).
    """

    def __init__(
        self,
        send: Sender,
        *,
        first: dict[str, Any] | None = None,
        interval_s: float = EDIT_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._send = send
        self._first = dict(first or {})
        self.interval_s = interval_s
        self._clock = clock
        self.message: discord.Message | None = None
        self._shown = ""
        self._last_request = -math.inf
        self._stuck = False  # an edit failed: stop updating; `finish` still tries to replace it

    async def _pace(self) -> None:
        """Wait until `interval_s` has passed since the last request to Discord finished."""
        wait = self._last_request + self.interval_s - self._clock()
        if wait > 0:
            await asyncio.sleep(wait)

    async def _post(self, **kwargs: Any) -> discord.Message:
        try:
            message = await self._send(**kwargs, **self._first)
        finally:
            self._last_request = self._clock()
        self._first = {}
        return message

    async def show(self, text: str) -> None:
        """Show the draft so far (sends the message the first time, edits it after); never raises Discord errors."""
        if self._stuck or not text.strip():
            return
        content = draft_content(text)
        if content == self._shown:
            return
        try:
            if self.message is None:
                self.message = await self._post(content=content, allowed_mentions=NONE)
            else:
                await self._pace()
                try:
                    await self.message.edit(content=content, allowed_mentions=NONE)
                finally:
                    self._last_request = self._clock()
        except discord.HTTPException:
            log.warning("could not show the answer draft; the answer will replace it when ready", exc_info=True)
            self._stuck = True
            return
        self._shown = content

    async def finish(self, reply: Reply) -> None:
        """Replace the draft with the reply's first message and send the rest; with no draft, send it all.

        Raises `discord.HTTPException` only when the reply itself could not be sent; the draft is gone by then.
        """
        pages = _pages(reply)
        if self.message is not None:
            try:
                await self._pace()
                await self.message.edit(**_replacing(pages[0]))
                pages = pages[1:]
            except discord.HTTPException:
                log.warning("could not replace the answer draft; deleting it and sending the answer", exc_info=True)
                await self.discard()
            finally:
                self._last_request = self._clock()
        for kwargs in pages:
            await self._post(**kwargs)

    async def discard(self) -> None:
        """Delete the draft message (best effort)."""
        message, self.message = self.message, None
        if message is not None:
            try:
                await message.delete()
            except discord.HTTPException:
                log.warning("could not delete the answer draft %s", message.id, exc_info=True)


def _pages(reply: Reply) -> list[dict[str, Any]]:
    """The reply as keyword arguments for one `send` per message; buttons go on the last one."""
    if not reply.ok:
        return [{"content": reply.text or "", "allowed_mentions": NONE}]
    pages: list[dict[str, Any]] = [{"embeds": embeds, "allowed_mentions": NONE} for embeds in reply.embeds]
    if reply.answer_id and pages:
        pages[-1]["view"] = answer_view(reply.answer_id, sources=reply.has_sources)
    return pages


def _replacing(page: dict[str, Any]) -> dict[str, Any]:
    """Edit arguments that turn the draft into `page`: the draft's text and anything else not in `page` go."""
    if "embeds" in page:
        return {"content": None, "view": None, **page}
    return {"embeds": [], "view": None, **page}


# ------------------------------------------------------------------------------------------------ answering
async def _stream(bot: Bot, draft: Draft, question: str, collection: str, history: list[Turn] | None) -> QAResult:
    """The chain's own stream: its drafts go to `draft` (throttled), its verified result is returned."""
    from retrieval.llm.streaming import throttled  # the LLM package is only imported when an LLM is configured

    chain = await asyncio.to_thread(lambda: bot.services.chain)
    source = chain.astream({"question": question, "collection": collection, "history": history})
    drafts = cast(  # an async generator, so it can be closed early
        AsyncGenerator[Any, None],
        throttled(source, EDIT_INTERVAL_S, is_final=lambda item: isinstance(item, QAResult)),
    )
    result: QAResult | None = None
    async with contextlib.aclosing(source), contextlib.aclosing(drafts):
        async for item in drafts:
            if isinstance(item, QAResult):
                result = item
            elif isinstance(item, AnswerDraft):
                await draft.show(item.text)
    if result is None:
        raise RuntimeError("the answer stream ended without a verified answer")
    return result


async def answer_streaming(
    bot: Bot,
    ticket: Ticket,
    draft: Draft,
    *,
    question: str,
    collection: str,
    user_id: int,
    guild_id: int | None,
    channel_id: int | None,
    history: list[Turn] | None = None,
) -> Reply:
    """Like `answering.answer_question`, showing the draft in `draft` meanwhile; the caller then `draft.finish`es.

    Never raises (except on cancellation): failures become the same replies as without streaming.
    """
    try:
        async with ticket.hold():
            result = await _stream(bot, draft, question, collection, history)
            urls, answer_id = await asyncio.to_thread(
                record_blocking, bot, result, collection, guild_id, channel_id, user_id
            )
    except Exception as exc:
        return error_reply(exc, collection)
    return answer_reply(result.answer, urls, answer_id)
