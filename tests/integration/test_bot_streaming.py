"""Streamed LLM answers in Discord (`NEWSDESK_STREAM=1`): the real bot against the fake Discord and the fake OpenAI.

The fake model streams its reply slowly, word by word, so the bot has a growing draft to show. What a user sees is
checked through what reached the fake Discord: one message, edited with partial drafts no more often than once every
1.5 s (the fake's own request timestamps), then edited into the verified answer with its sources and buttons; on
failures, the extractive answer with a note in the same place, and never an unverified draft left behind.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from bot import streaming
from retrieval.answer import Answer
from retrieval.llm.answerer import LLMAnswerer
from tests.bot_world import GUILD_A, SELF_DEFENSE, StartWorld, World
from tests.fake_discord import FakeDiscord, FakeInteraction
from tests.fake_openai import FakeOpenAI, Reply

GOOD = "Stoltenberg said the right to self defense includes the right to strike legitimate military targets in Russia"
QUOTE = "strike legitimate military targets"
MADE_UP = "Ukraine-will-receive-ninety-new-fighter-jets-from-NATO-allies-before-the-summer-the-minister-announced."


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_script(llm: FakeOpenAI) -> None:
    llm.reset()


async def streaming_world(start: StartWorld, llm: FakeOpenAI) -> World:
    w = await start(stream=True, llm_provider="openai", llm_base_url=llm.base_url, llm_timeout_s=5.0)
    answerer = w.services.chain.answerer
    assert isinstance(answerer, LLMAnswerer)
    answerer.backoff_s = 0.05  # the real retry schedule, only shorter
    return w


def citing(template: str, chunk_delay: float) -> Any:
    """A slow streamed reply: `template` with {n} set to the number the prompt gave the passage holding QUOTE."""

    def respond(body: dict[str, Any]) -> Reply:
        prompt = body["messages"][-1]["content"]
        for match in re.finditer(r'<passage id="(\d+)"[^>]*>\n(.*?)\n</passage>', prompt, re.S):
            if QUOTE in match.group(2):
                return Reply(text=template.format(n=match.group(1)), chunk_delay=chunk_delay)
        raise AssertionError("no passage holds the quote")

    return respond


def webhook_calls(fake: FakeDiscord, interaction: FakeInteraction) -> list[Any]:
    """The followups and edits of one interaction's messages, in order (not the "thinking…" callback)."""
    path = re.compile(rf"/webhooks/\d+/{re.escape(interaction.token)}(/messages/[^/]+)?")
    return [c for c in fake.calls if c.method in ("POST", "PATCH") and path.fullmatch(c.path)]


def assert_paced(calls: list[Any]) -> None:
    gaps = [b.at - a.at for a, b in zip(calls, calls[1:], strict=False)]
    assert gaps and min(gaps) >= streaming.EDIT_INTERVAL_S, gaps


def sources_text(body: dict[str, Any]) -> str:
    return "\n".join(f["value"] for embed in body.get("embeds") or [] for f in embed.get("fields") or [])


def has_buttons(body: dict[str, Any]) -> bool:
    ids = [c.get("custom_id", "") for row in body.get("components") or [] for c in row["components"]]
    return [i.split(":")[1] for i in ids] == ["src", "up", "down"]


async def final_edit(w: World, interaction: FakeInteraction) -> dict[str, Any]:
    await w.fake.wait_until(lambda: any(e.get("embeds") for e in interaction.edits), timeout=60)
    return next(e for e in interaction.edits if e.get("embeds"))


@pytest.mark.asyncio
async def test_ask_shows_paced_drafts_then_the_verified_answer(start_world: StartWorld, llm: FakeOpenAI) -> None:
    w = await streaming_world(start_world, llm)
    llm.respond_with(citing(GOOD + " [{n}]. NATO will send ninety new jets to Ukraine next week [{n}].", 0.15))
    interaction = await w.ask(SELF_DEFENSE)
    final = await final_edit(w, interaction)

    calls = webhook_calls(w.fake, interaction)
    assert [c.method for c in calls] == ["POST"] + ["PATCH"] * (len(calls) - 1)  # one message, then only edits
    drafts = [c.json["content"] for c in calls if c.json.get("content")]
    assert len(drafts) >= 3, drafts  # the first words at once, then growing drafts as the model writes
    assert all(d.startswith(streaming.DRAFT_HEADER) for d in drafts)
    texts = [d.removeprefix(streaming.DRAFT_HEADER) for d in drafts]
    assert all(b.startswith(a) and len(b) > len(a) for a, b in zip(texts, texts[1:], strict=False))  # growing
    assert GOOD.startswith(texts[0]) and texts[-1].startswith(GOOD[:60])  # the model's own words, unverified
    assert_paced(calls)  # the final edit included
    assert calls[-1].json is final and final["content"] is None  # the draft text is gone

    # The verified answer: the made-up sentence is dropped, the kept one cites the article's own words.
    (embed,) = final["embeds"]
    assert embed["description"] == GOOD + " [1]." and embed["title"] == f"❓ {SELF_DEFENSE}"
    assert QUOTE in sources_text(final) and "Removed 1 sentence" in embed["footer"]["text"]
    assert has_buttons(final)
    assert len(interaction.followups) == 1  # no second message: the draft became the answer
    assert llm.requests[-1]["stream"] is True


@pytest.mark.asyncio
async def test_failing_streams_end_with_the_extractive_answer(start_world: StartWorld, llm: FakeOpenAI) -> None:
    w = await streaming_world(start_world, llm)

    # 1. A long made-up answer streams in: the drafts are cut to fit Discord, then verification rejects it all.
    word = "-".join([MADE_UP] * 8)  # ~850 characters the fake streams as one piece, four pieces 0.8 s apart
    llm.script(Reply(text=" ".join([word] * 4), chunk_delay=0.8))
    first = await w.ask(SELF_DEFENSE)
    final = await final_edit(w, first)
    drafts = [e["content"] for e in first.edits if e.get("content")]
    assert drafts and all(len(d) <= 2000 for d in drafts) and drafts[-1].endswith("…")  # 2,550 characters, cut
    assert_paced(webhook_calls(w.fake, first))
    assert "could not be verified" in final["embeds"][-1]["footer"]["text"]
    assert MADE_UP not in str(final) and "fighter" not in str(final)
    assert QUOTE in sources_text(final) and has_buttons(final)  # the extractive answer, with its sources
    assert len(first.followups) == 1  # in place of the draft, not below it

    # 2. The model server fails (HTTP 500, retried): no draft was ever shown, the extractive answer comes at once.
    llm.script(*[Reply(status=500)] * 3)
    second = await w.ask(SELF_DEFENSE, user=w.bob)
    (followup,) = await w.answered(second)
    assert second.edits == [] and not followup.get("content")
    assert "HTTP 500" in followup["embeds"][-1]["footer"]["text"] and QUOTE in sources_text(followup)
    assert has_buttons(followup)

    # 3. The bot is still answering, with a streamed, verified answer.
    llm.respond_with(citing(GOOD + " [{n}].", 0.02))
    third = await w.ask(SELF_DEFENSE, user=w.manager)
    assert (await final_edit(w, third))["embeds"][0]["description"] == GOOD + " [1]."


@pytest.mark.asyncio
async def test_mention_streams_into_one_thread_message(start_world: StartWorld, llm: FakeOpenAI) -> None:
    w = await streaming_world(start_world, llm)
    llm.respond_with(citing(GOOD + " [{n}].", 0.2))
    channel = w.channel(w.a)
    question = await w.fake.user_message(channel, w.alice, SELF_DEFENSE, guild=w.a, mention_bot=True)
    thread = int(question["id"])
    await w.fake.wait_until(lambda: any(m.get("embeds") for m in w.bot_messages(thread)), timeout=60)

    (message,) = w.bot_messages(thread)  # one message: the draft, edited into the answer
    sent = w.fake.find_calls("POST", rf"/channels/{thread}/messages")
    edits = w.fake.find_calls("PATCH", rf"/channels/{thread}/messages/{message['id']}")
    assert len(sent) == 1 and sent[0].json["content"].startswith(streaming.DRAFT_HEADER)
    assert len(edits) >= 2 and any(e.json.get("content", "").startswith(streaming.DRAFT_HEADER) for e in edits[:-1])
    assert_paced([*sent, *edits])
    assert all(c.json["allowed_mentions"]["parse"] == [] for c in [*sent, *edits])
    assert message["content"] is None or message["content"] == ""
    assert message["embeds"][0]["description"] == GOOD + " [1]." and has_buttons(message)
    assert w.bot_messages(channel) == []

    # The answer is timed like the chain's own answers (and streaming is used directly through the module's API).
    llm.respond_with(citing(GOOD + " [{n}].", 0.05))
    target = w.bot.get_channel(thread)
    assert target is not None
    reply = await streaming.answer_streaming(
        w.bot,
        w.bot.work.admit(),
        streaming.Draft(target.send),  # type: ignore[union-attr]
        question=SELF_DEFENSE,
        collection=f"guild-{GUILD_A}",
        user_id=int(w.alice["id"]),
        guild_id=GUILD_A,
        channel_id=thread,
    )
    assert isinstance(reply.answer, Answer) and reply.answer.answer == GOOD + " [1]."
    timings = reply.answer.timings_ms
    assert set(timings) == {"retrieve", "first_draft", "answer", "total"}
    assert 0 < timings["first_draft"] < timings["answer"] < timings["total"]
    assert abs(timings["total"] - timings["retrieve"] - timings["answer"]) < 1


@pytest.mark.asyncio
async def test_a_draft_deleted_by_a_moderator_still_gets_the_answer(start_world: StartWorld, llm: FakeOpenAI) -> None:
    w = await streaming_world(start_world, llm)
    llm.respond_with(citing(GOOD + " [{n}].", 0.2))
    channel = w.channel(w.a)
    question = await w.fake.user_message(channel, w.alice, SELF_DEFENSE, guild=w.a, mention_bot=True)
    thread = int(question["id"])
    await w.fake.wait_until(lambda: w.bot_messages(thread), timeout=60)
    w.fake.messages[thread].clear()  # the draft is deleted while the model is still writing
    await w.fake.wait_until(lambda: w.bot_messages(thread), timeout=60)
    (message,) = w.bot_messages(thread)
    assert message["embeds"][0]["description"] == GOOD + " [1]." and has_buttons(message)
    assert len(w.fake.find_calls("POST", rf"/channels/{thread}/messages")) == 2  # the draft, then the answer anew
