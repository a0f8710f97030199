"""Mention codes in questions: pings and addressing dropped, mentions inside the sentence shown as names."""

from __future__ import annotations

from bot.mentions import Kind, readable_question

NAMES: dict[tuple[str, int], str] = {("user", 42): "alice", ("role", 7): "Town Council", ("channel", 9): "news"}


def resolve(kind: Kind, object_id: int) -> str | None:
    return NAMES.get((kind, object_id))


def test_pings_and_addressing_mentions_are_dropped() -> None:
    question = "@everyone <@&123> what did the council vote?"
    assert readable_question(question, resolve) == "what did the council vote?"
    assert readable_question("<@&7>, <@42>: what did the council vote? @here", resolve) == "what did the council vote?"
    assert readable_question("<@!1> what is new?", resolve, bot_id=1) == "what is new?"


def test_mentions_inside_the_sentence_become_names_or_vanish() -> None:
    assert readable_question("what did <@42> say in <#9>?", resolve) == "what did @alice say in #news?"
    assert readable_question("did <@&7> approve it?", resolve) == "did @Town Council approve it?"
    assert readable_question("did <@555> approve it?", resolve) == "did approve it?"  # unknown: dropped
    assert readable_question("what did <@1> say?", resolve, bot_id=1) == "what did say?"


def test_other_codes_become_readable_and_nothing_raw_is_left() -> None:
    text = readable_question("is <:party:123> about </ask:99> real? @everyone", resolve)
    assert text == "is :party: about /ask real?"
    assert "<" not in text
    assert readable_question("@everyone <@&1> @here", resolve) == ""
    assert readable_question("", resolve) == ""
