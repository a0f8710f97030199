"""Questions as people meant them: Discord's mention codes turned into readable text before anything else sees them.

A Discord message or slash-command option carries mentions as codes (`<@123>`, `<@&456>`, `<#789>`) and pings as
`@everyone` / `@here`. Left in, they are noise words for retrieval ("@everyone <@&123> what did the council vote?"
was declined while "what did the council vote?" was answered) and raw codes in thread names and embed titles.

`readable_question` drops what only addresses people: `@everyone`, `@here`, the bot's own mention anywhere, and the
run of mentions before and after the question ("@everyone @Town what did the council vote? @here"). A mention inside
the sentence is part of it ("what did <@42> say?") and becomes the name Discord gave (`@alice`, `@Town`, `#news`),
or is dropped when the name is unknown. Custom emoji become `:name:`, command mentions `/name`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import discord

Kind = Literal["user", "role", "channel"]
Resolver = Callable[[Kind, int], str | None]

_TOKEN = re.compile(
    r"<@!?(?P<user>\d+)>"
    r"|<@&(?P<role>\d+)>"
    r"|<#(?P<channel>\d+)>"
    r"|</(?P<command>[\w-]+(?: [\w-]+){0,2}):\d+>"
    r"|<a?:(?P<emoji>\w+):\d+>"
    r"|(?P<ping>@(?:everyone|here))\b"
)
_SEPARATOR = re.compile(r"[\s,;:]*")
_PREFIX = {"user": "@", "role": "@", "channel": "#"}


def readable_question(text: str, resolve: Resolver | None = None, *, bot_id: int | None = None) -> str:
    """`text` without pings or addressing mentions, inner mentions as names; whitespace collapsed."""
    pieces: list[tuple[str, bool]] = []  # (text, is an addressing candidate: a mention or a separator)
    pos = 0
    for match in _TOKEN.finditer(text or ""):
        if match.start() > pos:
            pieces.extend(_split_separators(text[pos : match.start()]))
        pieces.append((_render(match, resolve, bot_id), match.lastgroup in ("user", "role", "channel", "ping")))
        pos = match.end()
    pieces.extend(_split_separators((text or "")[pos:]))
    start, end = 0, len(pieces)
    while start < end and pieces[start][1]:
        start += 1
    while end > start and pieces[end - 1][1]:
        end -= 1
    return " ".join("".join(piece for piece, _ in pieces[start:end]).split())


def _split_separators(text: str) -> list[tuple[str, bool]]:
    """Plain text as pieces; whitespace and `,;:` at its edges count as part of an addressing run."""
    lead = _SEPARATOR.match(text)
    head = lead.group(0) if lead else ""
    rest = text[len(head) :]
    tail_len = len(rest) - len(rest.rstrip(" \t\r\n,;:"))
    body, tail = rest[: len(rest) - tail_len], rest[len(rest) - tail_len :]
    out: list[tuple[str, bool]] = []
    if head:
        out.append((head, True))
    if body:
        out.append((body, False))
    if tail:
        out.append((tail, True))
    return out


def _render(match: re.Match[str], resolve: Resolver | None, bot_id: int | None) -> str:
    kind = match.lastgroup
    if kind == "ping":
        return " "
    if kind == "command":
        return "/" + match["command"]
    if kind == "emoji":
        return f":{match['emoji']}:"
    assert kind in ("user", "role", "channel")
    object_id = int(match[kind])
    if kind == "user" and object_id == bot_id:
        return " "
    name = resolve(kind, object_id) if resolve is not None else None  # type: ignore[arg-type]
    return f"{_PREFIX[kind]}{' '.join(name.split())}" if name and name.strip() else " "


def message_resolver(message: discord.Message) -> Resolver:
    """Names from what Discord sent with the message (its mentions) and the server's cached roles and channels."""
    users = {user.id: user.display_name for user in message.mentions}
    roles = {role.id: role.name for role in message.role_mentions}
    channels = {channel.id: getattr(channel, "name", None) for channel in message.channel_mentions}
    guild = message.guild

    def resolve(kind: Kind, object_id: int) -> str | None:
        if kind == "user":
            return users.get(object_id) or _guild_name(guild, kind, object_id)
        if kind == "role":
            return roles.get(object_id) or _guild_name(guild, kind, object_id)
        return channels.get(object_id) or _guild_name(guild, kind, object_id)

    return resolve


def interaction_resolver(interaction: discord.Interaction) -> Resolver:
    """Names for a slash command's text: Discord resolves no mentions inside a string option, so they come from
    the interaction's own `resolved` data when present, else the server's cache (roles, channels, known members)."""
    raw: Any = dict(interaction.data or {}).get("resolved")
    resolved: dict[str, Any] = raw if isinstance(raw, dict) else {}
    guild = interaction.guild
    client = interaction.client

    def resolve(kind: Kind, object_id: int) -> str | None:
        data = (resolved.get(f"{kind}s") or {}).get(str(object_id))
        if isinstance(data, dict):
            name = data.get("global_name") or data.get("username") or data.get("name")
            if kind == "user":
                member = (resolved.get("members") or {}).get(str(object_id)) or {}
                name = member.get("nick") or name
            if name:
                return str(name)
        if kind == "user" and interaction.user.id == object_id:
            return interaction.user.display_name
        name = _guild_name(guild, kind, object_id)
        if name is None and kind == "user":
            user = client.get_user(object_id)
            name = user.display_name if user is not None else None
        return name

    return resolve


def _guild_name(guild: discord.Guild | None, kind: Kind, object_id: int) -> str | None:
    if guild is None:
        return None
    if kind == "user":
        member = guild.get_member(object_id)
        return member.display_name if member is not None else None
    if kind == "role":
        role = guild.get_role(object_id)
        return role.name if role is not None else None
    channel = guild.get_channel_or_thread(object_id)
    return getattr(channel, "name", None) if channel is not None else None
