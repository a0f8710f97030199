"""Answer one question for Discord: the blocking chain call in a worker thread, then what to send.

Both front doors (the `/ask` command and a mention or thread message) come through `answer_question`, so they answer,
record and fail the same way. Failures never escape: a bad question gets a hint, an unreachable knowledge base a
"try again later", and anything unexpected an apology with a short error id while the full traceback goes to the log
under that id.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import discord

from bot import render
from retrieval.answer import Answer, QAResult, Turn
from retrieval.errors import BadQuestion, StoreUnavailable

if TYPE_CHECKING:
    from bot.app import Bot
    from bot.workers import Ticket

log = logging.getLogger(__name__)

NOT_IN_DMS = (
    "I answer questions inside servers; direct messages are not enabled for this bot. "
    "Please ask me in a server channel with /ask or by mentioning me."
)
BUSY = "I'm answering a lot of questions right now. Please try again in a moment."
UNAVAILABLE = "The knowledge base is unavailable right now. Please try again in a minute."
EMPTY_QUESTION = "Please write a question, for example: `/ask question: What did the minister announce?`"


def apology(error_id: str) -> str:
    return (
        f"Sorry, something went wrong while answering (error id `{error_id}`). Please try again; if it keeps "
        "happening, give this id to the server's admins."
    )


def new_error_id() -> str:
    return uuid.uuid4().hex[:8]


@dataclass
class Reply:
    """What to send: either `embeds` (one list per message) with the buttons of `answer_id`, or a short `text`."""

    embeds: list[list[discord.Embed]] = field(default_factory=list)
    answer_id: str | None = None
    text: str | None = None
    answer: Answer | None = None

    @property
    def ok(self) -> bool:
        return self.answer is not None

    @property
    def has_sources(self) -> bool:
        """Whether the answer cites anything (its Sources button would show something)."""
        return self.answer is not None and bool(self.answer.citations)


def record_blocking(
    bot: Bot,
    result: QAResult,
    collection: str,
    guild_id: int | None,
    channel_id: int | None,
    user_id: int,
) -> tuple[dict[str, str | None], str]:
    """Runs in a worker thread: record the answer for its buttons, with the cited articles' URLs from the chain."""
    urls = result.urls
    answer_id = bot.feedback.record_answer(
        guild_id=guild_id,
        channel_id=channel_id,
        user_id=user_id,
        collection=collection,
        answer=result.answer,
        urls=urls,
    )
    return urls, answer_id


def _ask_blocking(
    bot: Bot,
    question: str,
    collection: str,
    history: list[Turn] | None,
    guild_id: int | None,
    channel_id: int | None,
    user_id: int,
) -> tuple[Answer, dict[str, str | None], str]:
    """Runs in a worker thread: answer (the chain also gives the sources' URLs), record it for its buttons."""
    result = bot.services.chain.invoke({"question": question, "collection": collection, "history": history})
    urls, answer_id = record_blocking(bot, result, collection, guild_id, channel_id, user_id)
    return result.answer, urls, answer_id


def error_reply(exc: Exception, collection: str) -> Reply:
    """What the user sees when answering failed: a hint, "try again later", or an apology with an error id."""
    if isinstance(exc, BadQuestion):
        return Reply(text=f"I can't answer that: {exc}. {EMPTY_QUESTION}")
    if isinstance(exc, StoreUnavailable):
        log.warning("knowledge base unavailable while answering in collection %s", collection, exc_info=exc)
        return Reply(text=UNAVAILABLE)
    error_id = new_error_id()
    log.error("error %s while answering in collection %s", error_id, collection, exc_info=exc)
    return Reply(text=apology(error_id))


def answer_reply(answer: Answer, urls: dict[str, str | None], answer_id: str) -> Reply:
    """The answer rendered as embeds (titled with the question), with the buttons of `answer_id`."""
    title = "❓ " + render.shorten(" ".join(answer.question.split()), render.TITLE_LIMIT - 2)
    return Reply(embeds=render.answer_messages(answer, urls, title=title), answer_id=answer_id, answer=answer)


async def answer_question(
    bot: Bot,
    ticket: Ticket,
    *,
    question: str,
    collection: str,
    user_id: int,
    guild_id: int | None,
    channel_id: int | None,
    history: list[Turn] | None = None,
) -> Reply:
    """Answer through the work queue (the `ticket` was admitted by the caller) and render the reply."""
    try:
        answer, urls, answer_id = await ticket.run(
            _ask_blocking, bot, question, collection, history, guild_id, channel_id, user_id
        )
    except Exception as exc:
        return error_reply(exc, collection)
    return answer_reply(answer, urls, answer_id)
