"""The real bot (unmodified discord.py client, real model, real Chroma) against a fake Discord over real sockets.

Each test gets its own fake Discord, data dir and bot. The model is loaded once per session (`embedder` in
conftest) and the two servers' starting articles are ingested once into a template data dir that every test copies,
so a test costs seconds, not a fresh ingest. After every test, every message the bot sent is checked: it pings
nobody (`allowed_mentions`), Discord would have accepted it (the fake rejects bodies over the limits like Discord
does), and the client called no route the fake does not know.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading
from pathlib import Path
from typing import Any

import pytest

from bot.feedback import export_feedback
from evaluation.dataset import load_dataset
from retrieval.answer import Answer, Citation, Turn
from retrieval.types import RetrievedChunk
from tests.bot_world import A_QUOTE, BRIDGE, GUILD_A, GUILD_B, LIBRARY, SELF_DEFENSE, StartWorld, World
from tests.fake_discord import (
    CB_AUTOCOMPLETE,
    CB_DEFERRED_MESSAGE,
    CB_MESSAGE,
    CB_UPDATE,
    EPHEMERAL,
    CommandHidden,
)
from tests.paths import SAMPLE


def _embeds_text(body: dict[str, Any]) -> str:
    """What the answer says: descriptions and fields (not the title, which repeats the question)."""
    parts = []
    for embed in body.get("embeds") or []:
        parts += [embed.get("description") or ""]
        parts += [f["name"] + "\n" + f["value"] for f in embed.get("fields") or []]
    return "\n".join(parts)


def _button_ids(body: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in body.get("components") or [] for c in row["components"]]


# ------------------------------------------------------------------------------------------------ tests
@pytest.mark.asyncio
async def test_login_identify_and_command_sync(start_world: StartWorld) -> None:
    w = await start_world()
    fake = w.fake
    login = fake.find_calls("GET", r"/users/@me")
    assert login and login[0].headers["Authorization"] == f"Bot {fake.token}"
    assert fake.identifies == 1
    intents = fake.identify_payloads[0]["intents"]
    assert intents & (1 << 15), "message content intent (questions by mention, thread follow-ups)"
    assert intents & 1 and intents & (1 << 9) and intents & (1 << 12)  # guilds, guild messages, DMs
    for guild_id in (GUILD_A, GUILD_B):
        names = {c["name"] for c in fake.commands[guild_id]}
        assert names == {"ask", "ingest", "articles", "forget"}
    ingest = next(c for c in fake.commands[GUILD_A] if c["name"] == "ingest")
    assert {o["name"]: o["type"] for o in ingest["options"]} == {"url": 3, "file": 11}
    forget = next(c for c in fake.commands[GUILD_A] if c["name"] == "forget")
    assert forget["options"][0]["autocomplete"] is True
    # Admin commands are shown only to members with Manage Server (1 << 5) unless a server grants them to a role.
    permissions = {c["name"]: c["default_member_permissions"] for c in fake.commands[GUILD_A]}
    assert permissions == {"ask": None, "articles": None, "ingest": "32", "forget": "32"}
    assert w.bot.allowed_mentions is not None and w.bot.allowed_mentions.to_dict() == {"parse": []}


@pytest.mark.asyncio
async def test_ask_defers_then_answers_with_embed_and_sources(start_world: StartWorld) -> None:
    w = await start_world()
    interaction = await w.ask(SELF_DEFENSE)
    (followup,) = await w.answered(interaction)
    assert interaction.callback == {"type": CB_DEFERRED_MESSAGE}  # public "thinking…", sent before any work
    callback_index = next(i for i, c in enumerate(w.fake.calls) if c.path.endswith("/callback"))
    followup_index = next(i for i, c in enumerate(w.fake.calls) if c.path.startswith("/webhooks/"))
    assert callback_index < followup_index
    (embed,) = followup["embeds"]
    assert embed["title"] == f"❓ {SELF_DEFENSE}"
    assert A_QUOTE in embed["description"] and "[1]" in embed["description"]
    sources = embed["fields"][0]
    assert sources["name"] == "Sources"
    assert sources["value"].startswith("**[1]** Zelenskyy Calls on NATO Allies")
    assert A_QUOTE in sources["value"]
    assert A_QUOTE in SAMPLE.read_text(encoding="utf-8")  # quotes are the article's own words
    ids = _button_ids(followup)
    assert [i.split(":")[1] for i in ids] == ["src", "up", "down"]


@pytest.mark.asyncio
async def test_abstention_says_so_without_sources(start_world: StartWorld) -> None:
    w = await start_world()
    (followup,) = await w.answered(await w.ask("Who won the 1966 football World Cup final?"))
    (embed,) = followup["embeds"]
    assert "do not answer" in embed["description"]
    assert not embed.get("fields")
    # No Sources button (there are none to show); the votes stay, for the feedback export's unanswerable questions.
    assert [i.split(":")[1] for i in _button_ids(followup)] == ["up", "down"]


@pytest.mark.asyncio
async def test_mention_answers_in_a_thread_and_follow_ups_use_the_thread(start_world: StartWorld) -> None:
    w = await start_world()
    channel = w.channel(w.a)
    question = await w.fake.user_message(channel, w.alice, SELF_DEFENSE, guild=w.a, mention_bot=True)
    thread_id = int(question["id"])  # a thread started from a message has the message's id
    await w.fake.wait_until(lambda: w.bot_messages(thread_id), timeout=60)
    thread_call = w.fake.find_calls("POST", rf"/channels/{channel}/messages/{thread_id}/threads")
    assert thread_call and thread_call[0].json["name"] == SELF_DEFENSE
    first = w.bot_messages(thread_id)[0]
    assert A_QUOTE in _embeds_text(first)
    assert w.bot_messages(channel) == []  # the channel itself stays quiet

    # A follow-up in the thread, without mentioning the bot, is answered with the thread's earlier turn as context.
    follow_up = "What more did he say about Ukraine's weapons?"
    history_calls = len(w.fake.find_calls("GET", rf"/channels/{thread_id}/messages"))
    await w.fake.user_message(thread_id, w.alice, follow_up, guild=w.a)
    await w.fake.wait_until(lambda: len(w.bot_messages(thread_id)) >= 2, timeout=60)
    assert len(w.fake.find_calls("GET", rf"/channels/{thread_id}/messages")) > history_calls  # read the thread
    shown = w.bot_messages(thread_id)[1]["embeds"][0]["description"]

    # What the chain says with that earlier turn, and without it: the bot's reply is the former.
    collection = f"guild-{GUILD_A}"
    (stored,) = [a for a in w.bot.feedback.all() if a.question == SELF_DEFENSE]
    earlier = Turn(stored.question, stored.answer, tuple(c.chunk_id for c in stored.citations))
    with_history = await asyncio.to_thread(w.services.chain.ask, follow_up, collection, None, [earlier])
    without = await asyncio.to_thread(w.services.chain.ask, follow_up, collection)
    assert with_history.answer != without.answer  # the question really depends on the context...
    assert shown == with_history.answer  # ...and the bot answered it in context


@pytest.mark.asyncio
async def test_thread_history_is_rebuilt_from_discord(start_world: StartWorld) -> None:
    w = await start_world()
    channel = w.channel(w.a)
    question = await w.fake.user_message(channel, w.alice, SELF_DEFENSE, guild=w.a, mention_bot=True)
    thread_id = int(question["id"])
    await w.fake.wait_until(lambda: w.bot_messages(thread_id), timeout=60)
    thread = w.bot.get_channel(thread_id)
    later = await w.fake.user_message(thread_id, w.bob, "and then?", guild=w.a)
    await w.fake.wait_until(lambda: len(w.bot_messages(thread_id)) >= 2, timeout=60)
    assert thread is not None
    message = await thread.fetch_message(int(later["id"]))  # type: ignore[union-attr]
    turns = await w.bot.get_cog("AskCog").thread_history(thread, before=message)  # type: ignore[union-attr]
    assert len(turns) == 1 and isinstance(turns[0], Turn)
    assert turns[0].question == SELF_DEFENSE and A_QUOTE in turns[0].answer and turns[0].cited_chunk_ids


@pytest.mark.asyncio
async def test_servers_are_isolated(start_world: StartWorld) -> None:
    w = await start_world()
    bridge_q = "How much will the cycling bridge cost?"
    in_b = (await w.answered(await w.ask(bridge_q, guild=w.b)))[0]
    assert "4.2 million euros" in _embeds_text(in_b)
    in_a = (await w.answered(await w.ask(bridge_q, guild=w.a)))[0]
    assert "4.2 million" not in _embeds_text(in_a) and "Riverside" not in _embeds_text(in_a)
    nato_in_b = (await w.answered(await w.ask(SELF_DEFENSE, guild=w.b, user=w.bob)))[0]
    assert "Stoltenberg" not in _embeds_text(nato_in_b) and "Zelenskyy" not in _embeds_text(nato_in_b)
    assert "do not answer" in _embeds_text(nato_in_b)


@pytest.mark.asyncio
async def test_dms_decline_politely_or_use_the_dm_collection(start_world: StartWorld) -> None:
    w = await start_world(discord_guild_ids=[])  # global commands: the only ones Discord offers in DMs
    assert {c["name"] for c in w.fake.commands[None]} == {"ask", "ingest", "articles", "forget"}
    dm = int(w.fake.dm_channel(w.alice)["id"])
    interaction = await w.fake.invoke_command("ask", {"question": SELF_DEFENSE}, user=w.alice, channel_id=dm)
    await w.fake.wait_response(interaction)
    assert interaction.callback is not None and interaction.callback["type"] == CB_MESSAGE
    assert (
        interaction.ephemeral_callback and "direct messages are not enabled" in interaction.callback["data"]["content"]
    )
    await w.fake.user_message(dm, w.alice, "hello, what is new?")
    await w.fake.wait_until(lambda: w.bot_messages(dm), timeout=30)
    assert "direct messages are not enabled" in w.bot_messages(dm)[0]["content"]

    w2 = await start_world(dm_collection=f"guild-{GUILD_B}")
    dm2 = int(w2.fake.dm_channel(w2.alice)["id"])
    await w2.fake.user_message(dm2, w2.alice, "How much will the cycling bridge cost?")
    await w2.fake.wait_until(lambda: w2.bot_messages(dm2), timeout=60)
    assert "4.2 million euros" in _embeds_text(w2.bot_messages(dm2)[0])


def _public_messages(w: World, channel: int) -> list[dict[str, Any]]:
    """What everyone in the channel sees from the bot (not ephemeral messages, not "thinking…" placeholders)."""
    return [m for m in w.bot_messages(channel) if not int(m.get("flags") or 0) & EPHEMERAL]


@pytest.mark.asyncio
async def test_ingest_needs_manage_server_or_the_ingest_role(start_world: StartWorld) -> None:
    w = await start_world(ingest_role="Librarian")
    collection = f"guild-{GUILD_A}"
    before = {a.article_id for a in w.services.store.list_articles(collection)}
    attachment = w.fake.add_attachment("harbour-museum.txt", LIBRARY.encode())
    channel = w.channel(w.a)

    # Discord itself does not offer the admin commands to a plain member (default_member_permissions).
    with pytest.raises(CommandHidden):
        await w.fake.invoke_command("ingest", {"file": attachment}, user=w.alice, channel_id=channel, guild=w.a)

    # A server's admins may open /ingest to a role in Discord's settings; the bot still checks its own rule.
    helpers = await w.fake.create_role(w.a, "Helpers")
    helper = w.fake.make_user("helper")
    w.fake.add_member(w.a, helper, roles=[helpers])
    w.fake.allow_command(w.a, "ingest", helpers)
    refused = await w.fake.invoke_command("ingest", {"file": attachment}, user=helper, channel_id=channel, guild=w.a)
    await w.fake.wait_response(refused)
    assert refused.ephemeral_callback and "Manage Server" in refused.content and "Librarian" in refused.content
    await asyncio.sleep(0.2)
    assert {a.article_id for a in w.services.store.list_articles(collection)} == before
    assert not w.fake.find_calls("GET", r"/cdn/.*")  # the file was not even downloaded

    allowed = await w.fake.invoke_command("ingest", {"file": attachment}, user=w.manager, channel_id=channel, guild=w.a)
    await w.fake.wait_until(lambda: len(allowed.edits) >= 2, timeout=60)
    assert allowed.deferred and allowed.ephemeral_callback  # "thinking…", then progress and result: admin only
    assert "Ingesting" in allowed.edits[0]["content"]  # the progress message...
    summary = allowed.content  # ...becomes the summary
    assert "added 1" in summary and "harbour-museum" in summary
    assert _public_messages(w, channel) == []  # nothing was posted for the whole channel
    after = {a.article_id for a in w.services.store.list_articles(collection)}
    assert after - before == {"harbour-museum"}

    # The role named by NEWSDESK_INGEST_ROLE is enough, without Manage Server, once Discord offers it the command.
    role = await w.fake.create_role(w.a, "Librarian")
    librarian = w.fake.make_user("librarian")
    w.fake.add_member(w.a, librarian, roles=[role])
    other = w.fake.add_attachment("bridge-copy.md", BRIDGE.encode())
    with pytest.raises(CommandHidden):
        await w.fake.invoke_command("ingest", {"file": other}, user=librarian, channel_id=channel, guild=w.a)
    w.fake.allow_command(w.a, "ingest", role)
    by_role = await w.fake.invoke_command("ingest", {"file": other}, user=librarian, channel_id=channel, guild=w.a)
    await w.fake.wait_until(lambda: "added" in by_role.content, timeout=60)
    assert "added 1" in by_role.content and by_role.ephemeral_callback

    question = "What is the centrepiece of the new maritime gallery?"
    answer = (await w.answered(await w.ask(question, user=w.bob)))[0]
    assert "lighthouse lens" in _embeds_text(answer)  # the new article is used at once


@pytest.mark.asyncio
async def test_ingest_url_jsonl_articles_paging_and_forget(start_world: StartWorld) -> None:
    w = await start_world(allow_private_urls=True)  # the "web page" is served by the fake on 127.0.0.1
    channel, collection = w.channel(w.a), f"guild-{GUILD_A}"
    html = (
        "<html><head><title>Harbour Museum Reopens</title></head><body><nav>Home | News</nav><article>"
        + "".join(f"<p>{p}</p>" for p in LIBRARY.split("\n\n")[1:])
        + "</article><script>track()</script></body></html>"
    )
    page = w.fake.add_attachment("museum.html", html.encode(), content_type="text/html")
    by_url = await w.fake.invoke_command("ingest", {"url": page["url"]}, user=w.manager, channel_id=channel, guild=w.a)
    await w.fake.wait_until(lambda: len(by_url.edits) >= 2, timeout=60)
    assert "added 1" in by_url.content, by_url.edits
    answer = (await w.answered(await w.ask("What is the centrepiece of the new maritime gallery?")))[0]
    assert f"]({page['url']})" in answer["embeds"][0]["fields"][0]["value"]  # the source title links to the page

    lines = [
        json.dumps({"id": f"brief-{i:02d}", "title": f"Brief {i}", "text": f"Brief number {i} is short news."})
        for i in range(11)
    ]
    jsonl = w.fake.add_attachment("briefs.jsonl", "\n".join(lines).encode(), content_type="application/jsonl")
    bulk = await w.fake.invoke_command("ingest", {"file": jsonl}, user=w.manager, channel_id=channel, guild=w.a)
    await w.fake.wait_until(lambda: len(bulk.edits) >= 2, timeout=60)
    assert "added 11" in bulk.content, bulk.edits

    listing = await w.fake.invoke_command("articles", user=w.alice, channel_id=channel, guild=w.a)
    await w.fake.wait_response(listing)
    assert listing.ephemeral_callback
    first_page = listing.callback["data"]["embeds"][0]  # type: ignore[index]
    assert first_page["title"] == "13 articles in this server" and first_page["footer"]["text"] == "Page 1/2"
    message = listing.original
    assert message is not None
    next_id = [c["custom_id"] for row in message["components"] for c in row["components"] if c.get("label") == "Next"]
    assert next_id
    page_two = await w.fake.click_button(message, next_id[0], user=w.alice, guild=w.a)
    await w.fake.wait_response(page_two)
    assert page_two.callback["type"] == CB_UPDATE  # type: ignore[index]
    assert page_two.callback["data"]["embeds"][0]["footer"]["text"] == "Page 2/2"  # type: ignore[index]

    typed = await w.fake.invoke_command(
        "forget", {"article": "museum"}, user=w.manager, channel_id=channel, guild=w.a, focused="article"
    )
    await w.fake.wait_response(typed)
    assert typed.callback["type"] == CB_AUTOCOMPLETE  # type: ignore[index]
    choices = typed.callback["data"]["choices"]  # type: ignore[index]
    assert len(choices) == 1 and "Harbour Museum" in choices[0]["name"]
    article_id = choices[0]["value"]

    with pytest.raises(CommandHidden):  # Discord offers /forget to members with Manage Server only
        await w.fake.invoke_command("forget", {"article": article_id}, user=w.alice, channel_id=channel, guild=w.a)
    assert article_id in {a.article_id for a in w.services.store.list_articles(collection)}
    done = await w.fake.invoke_command("forget", {"article": article_id}, user=w.manager, channel_id=channel, guild=w.a)
    await w.fake.wait_until(lambda: "Removed" in done.content, timeout=30)
    assert done.deferred and done.ephemeral_callback
    assert article_id not in {a.article_id for a in w.services.store.list_articles(collection)}


@pytest.mark.asyncio
async def test_buttons_show_sources_and_store_feedback(start_world: StartWorld, tmp_path: Path) -> None:
    w = await start_world()
    interaction = await w.ask(SELF_DEFENSE)
    await w.answered(interaction)
    message = w.bot_messages(w.channel(w.a))[-1]
    src, up, down = _button_ids(message)

    sources = await w.fake.click_button(message, src, user=w.bob, guild=w.a)
    await w.fake.wait_response(sources)
    assert sources.ephemeral_callback
    embed = sources.callback["data"]["embeds"][0]  # type: ignore[index]
    assert embed["title"].startswith("[1] Zelenskyy Calls on NATO Allies")
    assert A_QUOTE in embed["description"].replace("\\", "")

    for user, button in ((w.alice, up), (w.bob, up), (w.manager, down), (w.manager, up)):
        vote = await w.fake.click_button(message, button, user=user, guild=w.a)
        await w.fake.wait_response(vote)
        assert vote.ephemeral_callback and "Thanks" in vote.callback["data"]["content"]  # type: ignore[index]
    (stored,) = w.bot.feedback.all()
    assert (stored.up, stored.down) == (3, 0)  # the manager changed their mind: one vote per person
    assert stored.question == SELF_DEFENSE and stored.guild_id == str(GUILD_A)

    result = export_feedback(w.settings, tmp_path / "feedback.jsonl")
    (question,) = load_dataset(result.path)
    assert question.question == SELF_DEFENSE and question.doc_id == "zelenskyy-nato-strikes"
    assert any(A_QUOTE in m for m in question.must_contain)


@pytest.mark.asyncio
async def test_rate_limits_answer_with_a_friendly_ephemeral_message(start_world: StartWorld) -> None:
    w = await start_world(user_cooldown_s=120, guild_rate_per_minute=2)
    first = await w.ask(SELF_DEFENSE, user=w.alice)
    await w.answered(first)
    again = await w.ask(SELF_DEFENSE, user=w.alice)
    await w.fake.wait_response(again)
    assert again.callback["type"] == CB_MESSAGE and again.ephemeral_callback  # type: ignore[index]
    assert "You can ask again in" in again.callback["data"]["content"]  # type: ignore[index]
    await w.answered(await w.ask(SELF_DEFENSE, user=w.bob))  # someone else may still ask
    third = await w.ask(SELF_DEFENSE, user=w.manager)  # but the server's budget (2 a minute) is spent
    await w.fake.wait_response(third)
    assert third.ephemeral_callback and "This server has asked a lot" in third.callback["data"]["content"]  # type: ignore[index]
    other_server = await w.ask("How much will the cycling bridge cost?", user=w.manager, guild=w.b)
    await w.answered(other_server)


class VerboseAnswerer:
    """A real but wordy answering policy: every retrieved chunk, in full, each with its citation."""

    def answer(self, question: str, chunks: list[RetrievedChunk], history: list[Turn] | None, *rest: Any) -> Answer:
        citations = [Citation(i, c.article_id, c.title, c.source, c.chunk_id, c.text) for i, c in enumerate(chunks, 1)]
        text = " ".join(f"{c.text} [{i}]" for i, c in enumerate(chunks, 1))
        return Answer(question=question, answer=text, abstained=False, citations=citations)


@pytest.mark.asyncio
async def test_a_long_answer_is_split_within_discord_limits(start_world: StartWorld) -> None:
    w = await start_world(top_k=12)
    w.services.chain.answerer = VerboseAnswerer()  # type: ignore[assignment]
    chunks = w.services.chain.retrieve(SELF_DEFENSE, collection=f"guild-{GUILD_A}", k=12)
    full_text = " ".join(c.text for c in chunks)
    assert len(full_text) > 4096  # longer than one embed can hold
    interaction = await w.ask(SELF_DEFENSE)
    await w.fake.wait_until(lambda: interaction.followups and _button_ids(interaction.followups[-1]), timeout=60)
    descriptions = "".join(e.get("description") or "" for f in interaction.followups for e in f["embeds"])
    shown = "".join(descriptions.replace("\\", "").split())
    assert all("".join(c.text.split()) in shown for c in chunks)  # nothing lost
    embeds = [e for f in interaction.followups for e in f["embeds"]]
    assert len(embeds) >= 2
    assert all(len(e.get("description") or "") <= 4096 for e in embeds)
    assert w.fake.invalid == []  # and Discord accepted every message


@pytest.mark.asyncio
async def test_mention_codes_are_cleaned_answered_like_the_plain_question_and_ping_nobody(
    start_world: StartWorld,
) -> None:
    w = await start_world()
    role = await w.fake.create_role(w.a, "everyone-in-town")
    shout = f"@everyone <@&{role['id']}> <@{w.bob['id']}> What did Stoltenberg say about self-defense? @here"
    plain = (await w.answered(await w.ask(SELF_DEFENSE, user=w.bob)))[0]
    via_slash = (await w.answered(await w.ask(shout)))[0]
    assert _embeds_text(via_slash) == _embeds_text(plain) and A_QUOTE in _embeds_text(via_slash)
    assert via_slash["embeds"][0]["title"] == f"❓ {SELF_DEFENSE}"  # readable: no codes, no pings

    channel = w.channel(w.a)
    question = await w.fake.user_message(channel, w.alice, shout, guild=w.a, mention_bot=True)
    thread_id = int(question["id"])
    await w.fake.wait_until(lambda: w.bot_messages(thread_id), timeout=60)
    (thread_call,) = w.fake.find_calls("POST", rf"/channels/{channel}/messages/{thread_id}/threads")
    assert thread_call.json["name"] == SELF_DEFENSE
    in_thread = w.bot_messages(thread_id)[0]
    assert _embeds_text(in_thread) == _embeds_text(plain)
    assert in_thread["embeds"][0]["title"] == f"❓ {SELF_DEFENSE}"

    # A mention inside the sentence is part of the question: it becomes the name Discord gave.
    inner = f"<@{w.fake.app_id}> what did <#{channel}> hear about <@&{role['id']}>?"
    asked = await w.fake.user_message(channel, w.alice, inner, guild=w.a)
    await w.fake.wait_until(lambda: w.bot_messages(int(asked["id"])), timeout=60)
    (named,) = w.fake.find_calls("POST", rf"/channels/{channel}/messages/{asked['id']}/threads")
    assert named.json["name"] == "what did #general hear about @everyone-in-town?"

    for call in w.fake.message_sends():  # nothing pings anyone (also checked for every test by the fixture)
        body = call.json.get("data", call.json) if "callback" in call.path else call.json
        assert body["allowed_mentions"].get("parse") == []
        assert "<@" not in json.dumps([e.get("title") for e in body.get("embeds") or []])


@pytest.mark.asyncio
async def test_busy_reply_when_the_queue_is_full_and_heartbeats_keep_going(start_world: StartWorld) -> None:
    w = await start_world(max_concurrent_answers=1, max_queued_answers=0, heartbeat_interval_ms=300)
    gate = threading.Event()
    real = w.services.chain.answerer

    class Slow:
        def answer(self, *args: Any) -> Answer:
            gate.wait(30)
            return real.answer(*args)

    w.services.chain.answerer = Slow()  # type: ignore[assignment]
    slow = await w.ask(SELF_DEFENSE, user=w.alice)
    await w.fake.wait_response(slow)  # deferred, now blocked in the worker
    beats = w.fake.heartbeats
    busy = await w.ask(SELF_DEFENSE, user=w.bob)
    await w.fake.wait_response(busy, timeout=10)
    assert busy.ephemeral_callback and "try again" in busy.callback["data"]["content"]  # type: ignore[index]
    await asyncio.sleep(1.2)
    assert w.fake.heartbeats >= beats + 2  # the blocked answer does not stall the gateway
    gate.set()
    (followup,) = await w.answered(slow)
    assert A_QUOTE in _embeds_text(followup)
    w.services.chain.answerer = real
    await w.answered(await w.ask(SELF_DEFENSE, user=w.bob))  # room again


@pytest.mark.asyncio
async def test_answerer_failure_apologises_with_an_error_id_and_the_bot_survives(start_world: StartWorld) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        w = await start_world()
        real = w.services.chain.answerer
        token = w.fake.token

        class Exploding:
            calls = 0

            def answer(self, *args: Any) -> Answer:
                Exploding.calls += 1
                if Exploding.calls == 1:
                    raise RuntimeError(f"upstream refused request with header Authorization: Bot {token}")
                return real.answer(*args)

        w.services.chain.answerer = Exploding()  # type: ignore[assignment]
        (failed,) = await w.answered(await w.ask(SELF_DEFENSE))
        assert "Sorry, something went wrong" in failed["content"]
        error_id = failed["content"].split("error id `")[1].split("`")[0]
        (ok,) = await w.answered(await w.ask(SELF_DEFENSE, user=w.bob))  # the bot is still answering
        assert A_QUOTE in _embeds_text(ok)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    log = stream.getvalue()
    assert f"error {error_id}" in log and "Traceback" in log and "RuntimeError" in log  # full trace, same id
    assert token not in log and "[REDACTED]" in log  # ...and never the token
    assert token not in failed["content"]


@pytest.mark.asyncio
async def test_dropped_gateway_is_resumed_without_losing_events(start_world: StartWorld) -> None:
    w = await start_world()
    fake = w.fake
    session = fake.session_id
    await fake.drop_connection(code=4000)
    pending = await w.ask(SELF_DEFENSE)  # sent while the bot is disconnected: replayed on RESUME
    await fake.wait_until(lambda: fake.resumes == 1, timeout=30)
    await w.answered(pending)
    await fake.drop_connection(abrupt=True)  # the TCP connection just vanishes
    await fake.wait_until(lambda: fake.resumes == 2, timeout=60)
    await w.answered(await w.ask(SELF_DEFENSE, user=w.bob))
    assert fake.identifies == 1 and fake.session_id == session  # resumed the session, never re-identified


@pytest.mark.asyncio
async def test_empty_question_gets_a_hint(start_world: StartWorld) -> None:
    w = await start_world()
    interaction = await w.ask("   ")
    await w.fake.wait_response(interaction)
    assert interaction.ephemeral_callback and "Please write a question" in interaction.callback["data"]["content"]  # type: ignore[index]
    await w.fake.user_message(w.channel(w.a), w.alice, "", guild=w.a, mention_bot=True)
    await w.fake.wait_until(lambda: len(w.bot_messages(w.channel(w.a))) == 2, timeout=30)
    assert "Ask me a question" in w.bot_messages(w.channel(w.a))[-1]["content"]


@pytest.mark.asyncio
async def test_an_unreachable_chroma_server_gets_a_short_unavailable_reply(start_world: StartWorld) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on: the Chroma server is down
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    w = await start_world(chroma_host="127.0.0.1", chroma_port=port)
    (followup,) = await w.answered(await w.ask(SELF_DEFENSE))
    assert followup["content"] == "The knowledge base is unavailable right now. Please try again in a minute."
    assert "embeds" not in followup or not followup["embeds"]


@pytest.mark.asyncio
async def test_the_bot_answers_again_when_the_chroma_server_comes_back(start_world: StartWorld, tmp_path: Path) -> None:
    """A real `chroma run` server stopped while the bot runs: a short reply; restarted: answers, no bot restart."""
    from tests.servers import ChromaServer

    server = ChromaServer(tmp_path / "chroma-server")
    await asyncio.to_thread(server.start)
    try:
        w = await start_world(chroma_host="127.0.0.1", chroma_port=server.port)
        collection = f"guild-{GUILD_A}"
        # the template's vectors live in an embedded store: put the article on the server
        await asyncio.to_thread(w.services.store.forget, collection, "zelenskyy-nato-strikes")
        report = await asyncio.to_thread(w.services.ingestor.ingest, [str(SAMPLE)], collection)
        assert report.added == ["zelenskyy-nato-strikes"], report.failed
        (before,) = await w.answered(await w.ask(SELF_DEFENSE))
        assert A_QUOTE in _embeds_text(before)

        await asyncio.to_thread(server.stop)
        (down,) = await w.answered(await w.ask(SELF_DEFENSE, user=w.bob))
        assert down["content"] == "The knowledge base is unavailable right now. Please try again in a minute."

        await asyncio.to_thread(server.start)
        (back,) = await w.answered(await w.ask(SELF_DEFENSE, user=w.manager))
        assert A_QUOTE in _embeds_text(back)
    finally:
        await asyncio.to_thread(server.stop)
