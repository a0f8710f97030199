"""A fake Discord, over real sockets, for testing the unmodified discord.py client.

Discord itself cannot exist in a test, so this module plays it: an aiohttp server on 127.0.0.1 (a free port) that
speaks the parts of Discord's wire protocol the bot uses.

* REST (`/api/v10/...`): login (`/users/@me`, `/oauth2/applications/@me`), `/gateway/bot`, command sync (bulk
  overwrite, global and per guild), interaction callbacks (with `with_response=1`), followups and edits of the
  original response through the webhook routes, channel messages (send, edit, delete, fetch, history), typing,
  threads started from a message, and a CDN route that serves attachments.
* Gateway (websocket): HELLO, IDENTIFY -> READY + GUILD_CREATE, HEARTBEAT -> HEARTBEAT_ACK, dispatch of
  MESSAGE_CREATE / INTERACTION_CREATE / THREAD_CREATE, RESUME -> replay of missed events + RESUMED, and the ability
  to drop the connection (cleanly with a close code, or abruptly) to prove that the client resumes.

Every REST call is recorded (`FakeDiscord.calls`) with its decoded JSON payload, so tests assert on what a user would
see: interaction callbacks, followups, `allowed_mentions`, thread creation, command sync.

Discord's rules that a user meets, enforced here as Discord does:
* the 3-second deadline: an interaction not acknowledged within `interaction_deadline_s` of its dispatch is gone
  (a late callback gets 404 "Unknown interaction", 10062) and is listed by `unanswered()`;
* `default_member_permissions`: a member lacking them is not offered the command (`invoke_command` raises
  `CommandHidden`) unless the server's admins allowed one of the member's roles (`allow_command`); Administrator
  and the owner always may;
* mentions: `<@id>`, `<@&id>`, `@everyone`/`@here` in a user's message fill `mentions` / `mention_roles` /
  `mention_everyone` (channel mentions are read from the text, as by the real client);
* the message content intent: without it in IDENTIFY, a server message that does not mention the bot arrives with
  empty content (and no embeds, attachments or components); DMs and mentions keep their text. Quirks of the real client
that this server honours: JSON responses carry a content type of exactly `application/json` (anything else is read
as text), a 429 needs a `Via` header or the client takes it for a Cloudflare ban, and interaction callbacks are sent
with `?with_response=1` and expect the callback resource back.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

DISCORD_EPOCH_MS = 1420070400000
EPHEMERAL = 1 << 6
LOADING = 1 << 7

# Option types of application commands (Discord's numbering).
OPT_SUB_COMMAND, OPT_STRING, OPT_INTEGER, OPT_BOOLEAN, OPT_ATTACHMENT = 1, 3, 4, 5, 11

# Interaction types and callback types.
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE = 1, 2, 3, 4
CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_DEFERRED_UPDATE, CB_UPDATE, CB_AUTOCOMPLETE = 4, 5, 6, 7, 8

# Permission bits used by tests.
PERM_VIEW_CHANNEL = 1 << 10
PERM_SEND_MESSAGES = 1 << 11
PERM_MANAGE_GUILD = 1 << 5
PERM_ADMINISTRATOR = 1 << 3
PERM_EMBED_LINKS = 1 << 14
PERM_READ_HISTORY = 1 << 16
PERM_USE_COMMANDS = 1 << 31
PERM_CREATE_PUBLIC_THREADS = 1 << 35
PERM_SEND_IN_THREADS = 1 << 38
INTENT_MESSAGE_CONTENT = 1 << 15
MEMBER_DEFAULT = PERM_VIEW_CHANNEL | PERM_SEND_MESSAGES | PERM_READ_HISTORY | PERM_USE_COMMANDS | PERM_SEND_IN_THREADS


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """discord.py only parses JSON when the content type is exactly `application/json` (no charset)."""
    hdrs = {"Content-Type": "application/json"}
    hdrs.update(headers or {})
    return web.Response(body=json.dumps(data).encode(), status=status, headers=hdrs)


def _error(status: int, message: str, code: int = 0) -> web.Response:
    return _json_response({"message": message, "code": code}, status=status)


def message_limit_problems(body: dict[str, Any] | None) -> list[str]:
    """What Discord would reject in a message body (it answers 400 "Invalid Form Body" and nothing is shown)."""
    body = body or {}
    problems = []
    if len(body.get("content") or "") > 2000:
        problems.append(f"content has {len(body['content'])} > 2000 characters")
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        problems.append(f"{len(embeds)} > 10 embeds")
    total = 0
    for i, embed in enumerate(embeds):
        title, description = embed.get("title") or "", embed.get("description") or ""
        footer = (embed.get("footer") or {}).get("text") or ""
        author = (embed.get("author") or {}).get("name") or ""
        fields = embed.get("fields") or []
        if len(title) > 256:
            problems.append(f"embed {i}: title {len(title)} > 256")
        if len(description) > 4096:
            problems.append(f"embed {i}: description {len(description)} > 4096")
        if len(footer) > 2048:
            problems.append(f"embed {i}: footer {len(footer)} > 2048")
        if len(fields) > 25:
            problems.append(f"embed {i}: {len(fields)} > 25 fields")
        total += len(title) + len(description) + len(footer) + len(author)
        for j, fld in enumerate(fields):
            if not fld.get("name") or len(fld["name"]) > 256:
                problems.append(f"embed {i} field {j}: name length {len(fld.get('name') or '')} not in 1..256")
            if not fld.get("value") or len(fld["value"]) > 1024:
                problems.append(f"embed {i} field {j}: value length {len(fld.get('value') or '')} not in 1..1024")
            total += len(fld.get("name") or "") + len(fld.get("value") or "")
    if total > 6000:
        problems.append(f"embeds total {total} > 6000 characters")
    if not body.get("content") and not embeds and "components" not in body and "flags" not in body:
        problems.append("empty message")
    return problems


@dataclass
class Call:
    """One REST request the client made, decoded: `json` is the JSON body (or multipart `payload_json`)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    files: dict[str, bytes] = field(default_factory=dict)
    status: int = 0
    at: float = field(default_factory=time.monotonic)

    def matches(self, method: str, pattern: str) -> bool:
        return self.method == method and re.fullmatch(pattern, self.path) is not None


class CommandHidden(PermissionError):
    """Discord does not offer this command to this member (`default_member_permissions` and no override)."""


@dataclass
class FakeInteraction:
    """An interaction the fake dispatched, with everything the bot answered to it."""

    id: int
    token: str
    type: int
    payload: dict[str, Any]
    channel_id: int
    guild_id: int | None
    callback: dict[str, Any] | None = None
    original: dict[str, Any] | None = None
    followups: list[dict[str, Any]] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)
    created_at: float = field(default_factory=time.monotonic)  # when it was dispatched
    callback_at: float | None = None
    followup_at: list[float] = field(default_factory=list)
    late: bool = False  # the bot answered after the deadline (Discord had already told the user it failed)

    @property
    def deferred(self) -> bool:
        return self.callback is not None and self.callback["type"] == CB_DEFERRED_MESSAGE

    @property
    def ephemeral_callback(self) -> bool:
        data = (self.callback or {}).get("data") or {}
        return bool(int(data.get("flags", 0)) & EPHEMERAL)

    @property
    def content(self) -> str:
        """What the user finally sees in the interaction's own message: the last edit, else the callback's text."""
        for edit in reversed(self.edits):
            if edit.get("content") is not None:
                return str(edit["content"])
        data = (self.callback or {}).get("data") or {}
        return str(data.get("content") or "")


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    roles: list[dict[str, Any]] = field(default_factory=list)
    channels: list[dict[str, Any]] = field(default_factory=list)
    members: dict[int, dict[str, Any]] = field(default_factory=dict)
    threads: list[dict[str, Any]] = field(default_factory=list)
    # Server Settings > Integrations: command name -> role ids allowed to use it despite default_member_permissions
    command_overrides: dict[str, set[str]] = field(default_factory=dict)

    @property
    def everyone_role(self) -> dict[str, Any]:
        return self.roles[0]

    def role(self, name: str) -> dict[str, Any]:
        return next(r for r in self.roles if r["name"] == name)

    def channel(self, name: str) -> dict[str, Any]:
        return next(c for c in self.channels if c["name"] == name)


class FakeDiscord:
    """The fake server. Use `async with FakeDiscord() as fake:`; then point the bot at `api_base`/`gateway_url`."""

    def __init__(
        self, *, token: str | None = None, heartbeat_interval_ms: int = 41250, interaction_deadline_s: float = 3.0
    ) -> None:
        self.token = token or "fake-" + secrets.token_urlsafe(24)
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.interaction_deadline_s = interaction_deadline_s
        # The Message Content intent is privileged: off in the Developer Portal, IDENTIFY asking for it gets 4014.
        self.message_content_enabled = True
        self._ids = itertools.count(1)
        self.app_id = self.snowflake()
        self.bot_user = self._user_payload(self.app_id, "newsdesk", bot=True)
        self.owner = self.make_user("owner")
        self.guilds: dict[int, Guild] = {}
        self.dm_channels: dict[int, dict[str, Any]] = {}
        self.messages: dict[int, list[dict[str, Any]]] = {}
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.interactions: dict[str, FakeInteraction] = {}
        self.attachments: dict[int, tuple[str, bytes, str]] = {}
        self.calls: list[Call] = []
        self.unhandled: list[Call] = []
        self.invalid: list[tuple[Call, list[str]]] = []  # bodies rejected as Discord would (limits)
        # Gateway state.
        self.identifies = 0
        self.resumes = 0
        self.heartbeats = 0
        self.identify_payloads: list[dict[str, Any]] = []
        self.intents = 0  # of the last IDENTIFY
        self.session_id: str | None = None
        self._seq = 0
        self._event_log: list[dict[str, Any]] = []
        self._ws: web.WebSocketResponse | None = None
        self._ws_tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._rate_limits: list[tuple[str, str, float]] = []

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("GET", "/gateway", self._gateway)
        app.router.add_route("GET", "/cdn/attachments/{id}/{filename}", self._cdn)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # ------------------------------------------------------------------ world building
    def snowflake(self) -> int:
        return ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (next(self._ids) & 0x3FFFFF)

    @staticmethod
    def _user_payload(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
        return {
            "id": str(user_id),
            "username": name,
            "global_name": name,
            "discriminator": "0",
            "avatar": None,
            "bot": bot,
            "flags": 0,
            "public_flags": 0,
        }

    def make_user(self, name: str, *, bot: bool = False) -> dict[str, Any]:
        return self._user_payload(self.snowflake(), name, bot=bot)

    def add_guild(self, name: str, guild_id: int | None = None) -> Guild:
        """A guild with an @everyone role, a #general channel, the owner and the bot as members."""
        gid = guild_id or self.snowflake()
        guild = Guild(id=gid, name=name, owner_id=int(self.owner["id"]))
        guild.roles.append(self._role_payload(gid, "@everyone", MEMBER_DEFAULT, position=0))
        self.add_channel(guild, "general")
        self.add_member(guild, self.owner, permissions=PERM_ADMINISTRATOR)
        self.add_member(
            guild, self.bot_user, permissions=MEMBER_DEFAULT | PERM_EMBED_LINKS | PERM_CREATE_PUBLIC_THREADS
        )
        self.guilds[gid] = guild
        return guild

    @staticmethod
    def _role_payload(role_id: int, name: str, permissions: int, position: int) -> dict[str, Any]:
        return {
            "id": str(role_id),
            "name": name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": position,
            "permissions": str(permissions),
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }

    def add_role(self, guild: Guild, name: str, permissions: int = 0) -> dict[str, Any]:
        role = self._role_payload(self.snowflake(), name, permissions, position=len(guild.roles))
        guild.roles.append(role)
        return role

    async def create_role(self, guild: Guild, name: str, permissions: int = 0) -> dict[str, Any]:
        """A role created while the bot is connected: Discord tells the bot with GUILD_ROLE_CREATE."""
        role = self.add_role(guild, name, permissions)
        await self.dispatch("GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": role})
        return role

    def add_channel(self, guild: Guild, name: str) -> dict[str, Any]:
        channel = {
            "id": str(self.snowflake()),
            "type": 0,
            "guild_id": str(guild.id),
            "name": name,
            "position": len(guild.channels),
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }
        guild.channels.append(channel)
        self.messages[int(channel["id"])] = []
        return channel

    def add_member(
        self, guild: Guild, user: dict[str, Any], *, roles: list[dict[str, Any]] | None = None, permissions: int = 0
    ) -> dict[str, Any]:
        """Add a member; `permissions` adds a personal role carrying those bits (how admins grant them)."""
        role_ids = [r["id"] for r in roles or []]
        if permissions:
            role_ids.append(self.add_role(guild, f"perm-{user['username']}", permissions)["id"])
        member = {
            "user": user,
            "nick": None,
            "avatar": None,
            "banner": None,
            "roles": role_ids,
            "joined_at": _now_iso(),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        guild.members[int(user["id"])] = member
        return member

    def member_permissions(self, guild: Guild, user_id: int) -> int:
        if user_id == guild.owner_id:
            return (1 << 53) - 1
        member = guild.members[user_id]
        perms = int(guild.everyone_role["permissions"])
        for role in guild.roles:
            if role["id"] in member["roles"]:
                perms |= int(role["permissions"])
        if perms & PERM_ADMINISTRATOR:
            return (1 << 53) - 1
        return perms

    def _guild_create_payload(self, guild: Guild) -> dict[str, Any]:
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(guild.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "max_members": 500000,
            "vanity_url_code": None,
            "features": [],
            "roles": guild.roles,
            "emojis": [],
            "stickers": [],
            "channels": guild.channels,
            "threads": guild.threads,
            "members": list(guild.members.values()),
            "member_count": len(guild.members),
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "joined_at": _now_iso(),
            "large": False,
            "unavailable": False,
            "lazy": True,
            "application_id": None,
            "premium_progress_bar_enabled": False,
        }

    def add_attachment(self, filename: str, data: bytes, content_type: str = "text/plain") -> dict[str, Any]:
        """Register a file on the fake CDN and return its attachment payload (as Discord resolves it)."""
        att_id = self.snowflake()
        self.attachments[att_id] = (filename, data, content_type)
        url = f"{self.base_url}/cdn/attachments/{att_id}/{filename}"
        return {
            "id": str(att_id),
            "filename": filename,
            "size": len(data),
            "url": url,
            "proxy_url": url,
            "content_type": content_type,
            "ephemeral": True,
        }

    # ------------------------------------------------------------------ waiting
    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_until(self, predicate: Callable[[], Any], timeout: float = 20.0) -> Any:
        """Wait until `predicate()` is truthy (re-checked after every request and gateway event); return it."""

        async def _wait() -> Any:
            async with self._changed:
                while True:
                    value = predicate()
                    if value:
                        return value
                    await self._changed.wait()

        return await asyncio.wait_for(_wait(), timeout)

    async def wait_for_call(self, method: str, pattern: str, *, after: int = 0, timeout: float = 20.0) -> Call:
        """The first recorded call (from index `after`) matching `method` and the path regex `pattern`."""

        def find() -> Call | None:
            return next((c for c in self.calls[after:] if c.matches(method, pattern)), None)

        result: Call = await self.wait_until(find, timeout)
        return result

    def find_calls(self, method: str, pattern: str) -> list[Call]:
        return [c for c in self.calls if c.matches(method, pattern)]

    def message_sends(self) -> list[Call]:
        """Every call that makes the bot say something: messages, callbacks with a message, followups, edits."""
        patterns = [
            ("POST", r"/channels/\d+/messages"),
            ("PATCH", r"/channels/\d+/messages/\d+"),
            ("POST", r"/interactions/\d+/[^/]+/callback"),
            ("POST", r"/webhooks/\d+/[^/]+"),
            ("PATCH", r"/webhooks/\d+/[^/]+/messages/[^/]+"),
        ]
        out = []
        for call in self.calls:
            if not any(call.matches(m, p) for m, p in patterns):
                continue
            if "callback" in call.path and call.json.get("type") not in (CB_MESSAGE, CB_UPDATE):
                continue
            out.append(call)
        return out

    def unanswered(self) -> list[FakeInteraction]:
        """Interactions the bot did not acknowledge in time (or not at all): each one a user saw fail."""
        now = time.monotonic()
        return [
            i
            for i in self.interactions.values()
            if i.late
            or (i.callback is None and now - i.created_at > self.interaction_deadline_s)
            or (i.callback_at is not None and i.callback_at - i.created_at > self.interaction_deadline_s)
        ]

    def allow_command(self, guild: Guild, name: str, role: dict[str, Any]) -> None:
        """An admin lets `role` use `/name` (Server Settings > Integrations), whatever its default permissions."""
        guild.command_overrides.setdefault(name, set()).add(str(role["id"]))

    def offered(self, command: dict[str, Any], guild: Guild | None, user: dict[str, Any]) -> bool:
        """Whether Discord shows (and lets run) `command` to `user` here, as its permission rules say."""
        required = command.get("default_member_permissions")
        if guild is None:
            return required in (None, "") and command.get("dm_permission", True) is not False
        if required in (None, ""):
            return True
        perms = self.member_permissions(guild, int(user["id"]))
        if perms & PERM_ADMINISTRATOR or int(user["id"]) == guild.owner_id:
            return True
        if int(required) != 0 and perms & int(required) == int(required):
            return True
        allowed = guild.command_overrides.get(command["name"], set())
        return any(role_id in allowed for role_id in guild.members[int(user["id"])]["roles"])

    def rate_limit_next(self, method: str, pattern: str, retry_after: float = 0.2) -> None:
        """Answer the next matching request with a 429 (with `Via`, as Discord sends), to test the client's retry."""
        self._rate_limits.append((method, pattern, retry_after))

    # ------------------------------------------------------------------ gateway
    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        if self._ws is not None and not self._ws.closed:
            await self._ws.close(code=4000)
        self._ws = ws
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}, "s": None, "t": None})
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                await self._on_gateway_message(ws, json.loads(msg.data))
        finally:
            if self._ws is ws:
                self._ws = None
            await self._notify()
        return ws

    async def _on_gateway_message(self, ws: web.WebSocketResponse, payload: dict[str, Any]) -> None:
        op, data = payload.get("op"), payload.get("d")
        if op == 1:  # HEARTBEAT
            self.heartbeats += 1
            await ws.send_json({"op": 11, "d": None, "s": None, "t": None})
        elif op == 2:  # IDENTIFY
            if data["token"] != self.token:
                await ws.close(code=4004, message=b"Authentication failed.")
                return
            if not self.message_content_enabled and int(data.get("intents", 0)) & (1 << 15):
                await ws.close(code=4014, message=b"Disallowed intent(s).")
                return
            self.identifies += 1
            self.identify_payloads.append(data)
            self.intents = int(data.get("intents", 0))
            self.session_id = secrets.token_hex(16)
            self._seq = 0
            self._event_log.clear()
            ready = {
                "v": 10,
                "user": self.bot_user,
                "guilds": [{"id": str(g), "unavailable": True} for g in self.guilds],
                "session_id": self.session_id,
                "resume_gateway_url": self.gateway_url,
                "shard": data.get("shard", [0, 1]),
                "application": {"id": str(self.app_id), "flags": 0},
                "private_channels": [],
                "relationships": [],
                "user_settings": {},
                "presences": [],
                "geo_ordered_rtc_regions": [],
                "guild_join_requests": [],
            }
            await self._send_event(ws, "READY", ready)
            for guild in self.guilds.values():
                await self._send_event(ws, "GUILD_CREATE", self._guild_create_payload(guild))
        elif op == 6:  # RESUME
            if data["token"] != self.token or data["session_id"] != self.session_id:
                await ws.send_json({"op": 9, "d": False, "s": None, "t": None})
                return
            self.resumes += 1
            missed = [e for e in self._event_log if e["s"] > int(data["seq"] or 0)]
            for event in missed:
                await ws.send_json(event)
            await self._send_event(ws, "RESUMED", {})
        await self._notify()

    async def _send_event(self, ws: web.WebSocketResponse | None, name: str, data: dict[str, Any]) -> None:
        self._seq += 1
        event = {"op": 0, "t": name, "s": self._seq, "d": data}
        if name not in ("READY", "RESUMED"):
            self._event_log.append(event)
        if ws is not None and not ws.closed:
            await ws.send_json(event)

    async def dispatch(self, name: str, data: dict[str, Any]) -> None:
        """Send a gateway event; while disconnected it is kept and replayed when the client RESUMEs."""
        await self._send_event(self._ws, name, data)

    @property
    def connected(self) -> bool:
        return self._ws is not None and not self._ws.closed

    async def wait_ready(self, timeout: float = 20.0) -> None:
        await self.wait_until(lambda: self.connected and self.session_id is not None, timeout)

    async def drop_connection(self, *, abrupt: bool = False, code: int = 4000) -> None:
        """Break the gateway connection: a close frame with `code`, or (abrupt) the TCP connection just vanishes."""
        ws = self._ws
        assert ws is not None, "no gateway connection to drop"
        self._ws = None
        if abrupt:
            request_transport = ws._req.transport if ws._req is not None else None  # noqa: SLF001
            if request_transport is not None:
                request_transport.abort()
        else:
            await ws.close(code=code)
        await self._notify()

    # ------------------------------------------------------------------ user actions
    def _member_for_event(self, guild: Guild, user: dict[str, Any]) -> dict[str, Any]:
        member = dict(guild.members[int(user["id"])])
        member.pop("user", None)
        return member

    def _message_payload(
        self,
        channel_id: int,
        author: dict[str, Any],
        content: str,
        *,
        guild_id: int | None,
        mentions: list[dict[str, Any]] | None = None,
        embeds: list[dict[str, Any]] | None = None,
        components: list[dict[str, Any]] | None = None,
        flags: int = 0,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "id": str(self.snowflake()),
            "type": 0,
            "channel_id": str(channel_id),
            "author": author,
            "content": content,
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": mentions or [],
            "mention_roles": [],
            "mention_channels": [],
            "attachments": [],
            "embeds": embeds or [],
            "reactions": [],
            "pinned": False,
            "components": components or [],
            "flags": flags,
        }
        if guild_id is not None:
            message["guild_id"] = str(guild_id)
        message.update(extra or {})
        return message

    async def user_message(
        self,
        channel_id: int,
        user: dict[str, Any],
        content: str,
        *,
        guild: Guild | None = None,
        mention_bot: bool = False,
    ) -> dict[str, Any]:
        """A user posts in a channel (guild text channel, thread or DM): stored and sent as MESSAGE_CREATE."""
        if mention_bot:
            content = f"<@{self.app_id}> {content}"
        message = self._message_payload(channel_id, user, content, guild_id=guild.id if guild else None)
        mentioned_ids = list(dict.fromkeys(re.findall(r"<@!?(\d+)>", content)))
        mentions = []
        for uid in mentioned_ids:
            target = self.bot_user if int(uid) == self.app_id else None
            if guild is not None and int(uid) in guild.members:
                target = guild.members[int(uid)]["user"]
                mention = dict(target, member=self._member_for_event(guild, target))
                mentions.append(mention)
            elif target is not None:
                mentions.append(dict(target))
        message["mentions"] = mentions
        if guild is not None:
            role_ids = {r["id"] for r in guild.roles}
            message["mention_roles"] = [r for r in dict.fromkeys(re.findall(r"<@&(\d+)>", content)) if r in role_ids]
        message["mention_everyone"] = bool(re.search(r"@(everyone|here)\b", content))
        self.messages.setdefault(channel_id, []).append(message)
        event = dict(message)
        if guild is not None:
            event["member"] = self._member_for_event(guild, user)
            bot_mentioned = str(self.app_id) in mentioned_ids
            if not self.intents & INTENT_MESSAGE_CONTENT and not bot_mentioned:
                # Discord's rule: without the intent, no text of server messages that do not mention the app.
                event.update(content="", embeds=[], attachments=[], components=[])
        await self.dispatch("MESSAGE_CREATE", event)
        return message

    def dm_channel(self, user: dict[str, Any]) -> dict[str, Any]:
        uid = int(user["id"])
        if uid not in self.dm_channels:
            channel = {"id": str(self.snowflake()), "type": 1, "recipients": [user], "last_message_id": None}
            self.dm_channels[uid] = channel
            self.messages[int(channel["id"])] = []
        return self.dm_channels[uid]

    def _find_command(self, name: str, guild_id: int | None) -> dict[str, Any]:
        for scope in (guild_id, None):
            for command in self.commands.get(scope, []):
                if command["name"] == name:
                    return command
        raise KeyError(f"command /{name} was never synced (scopes: {list(self.commands)})")

    def _channel_payload(self, channel_id: int, guild: Guild | None) -> dict[str, Any]:
        if guild is None:
            return next(c for c in self.dm_channels.values() if int(c["id"]) == channel_id)
        for channel in guild.channels + guild.threads:
            if int(channel["id"]) == channel_id:
                return channel
        raise KeyError(channel_id)

    def _interaction_base(
        self, itype: int, data: dict[str, Any], *, user: dict[str, Any], channel_id: int, guild: Guild | None
    ) -> dict[str, Any]:
        iid = self.snowflake()
        token = "itoken-" + secrets.token_urlsafe(32)
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.app_id),
            "type": itype,
            "data": data,
            "channel_id": str(channel_id),
            "channel": self._channel_payload(channel_id, guild),
            "token": token,
            "version": 1,
            "locale": "en-US",
            "app_permissions": str(MEMBER_DEFAULT | PERM_EMBED_LINKS | PERM_CREATE_PUBLIC_THREADS),
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild.id) if guild else "0"},
            "context": 0 if guild else 1,
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if guild is not None:
            member = dict(guild.members[int(user["id"])])
            member["permissions"] = str(self.member_permissions(guild, int(user["id"])))
            payload["guild_id"] = str(guild.id)
            payload["guild_locale"] = "en-US"
            payload["guild"] = {"id": str(guild.id), "locale": "en-US", "features": []}
            payload["member"] = member
        else:
            payload["user"] = user
        return payload

    async def _dispatch_interaction(self, payload: dict[str, Any], guild: Guild | None) -> FakeInteraction:
        interaction = FakeInteraction(
            id=int(payload["id"]),
            token=payload["token"],
            type=payload["type"],
            payload=payload,
            channel_id=int(payload["channel_id"]),
            guild_id=guild.id if guild else None,
        )
        self.interactions[interaction.token] = interaction
        await self.dispatch("INTERACTION_CREATE", payload)
        return interaction

    def _command_options(
        self, schema: list[dict[str, Any]], options: dict[str, Any], resolved: dict[str, Any], focused: str | None
    ) -> list[dict[str, Any]]:
        out = []
        for name, value in options.items():
            spec = next((o for o in schema if o["name"] == name), None)
            if spec is None:
                raise KeyError(f"option {name!r} is not in the synced command ({[o['name'] for o in schema]})")
            option: dict[str, Any] = {"name": name, "type": spec["type"]}
            if spec["type"] == OPT_ATTACHMENT:
                resolved.setdefault("attachments", {})[value["id"]] = value
                option["value"] = value["id"]
            else:
                option["value"] = value
            if name == focused:
                option["focused"] = True
            out.append(option)
        return out

    async def invoke_command(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user: dict[str, Any],
        channel_id: int,
        guild: Guild | None = None,
        focused: str | None = None,
    ) -> FakeInteraction:
        """A user runs `/name option:value` (or, with `focused`, types into an autocompleted option).

        Raises `CommandHidden` when Discord would not offer the command to this member at all."""
        command = self._find_command(name, guild.id if guild else None)
        if not self.offered(command, guild, user):
            raise CommandHidden(f"Discord does not offer /{name} to {user['username']} (default_member_permissions)")
        resolved: dict[str, Any] = {}
        data: dict[str, Any] = {
            "id": command["id"],
            "name": name,
            "type": 1,
            "options": self._command_options(command.get("options", []), options or {}, resolved, focused),
        }
        if guild is not None:
            data["guild_id"] = str(guild.id)
        if resolved:
            data["resolved"] = resolved
        itype = AUTOCOMPLETE if focused else APPLICATION_COMMAND
        payload = self._interaction_base(itype, data, user=user, channel_id=channel_id, guild=guild)
        return await self._dispatch_interaction(payload, guild)

    async def click_button(
        self, message: dict[str, Any], custom_id: str, *, user: dict[str, Any], guild: Guild | None = None
    ) -> FakeInteraction:
        """A user clicks the button `custom_id` on a message the bot sent."""
        ids = [c.get("custom_id") for row in message.get("components", []) for c in row.get("components", [])]
        if custom_id not in ids:
            raise KeyError(f"no button {custom_id!r} on the message (buttons: {ids})")
        data = {"custom_id": custom_id, "component_type": 2}
        payload = self._interaction_base(
            MESSAGE_COMPONENT, data, user=user, channel_id=int(message["channel_id"]), guild=guild
        )
        payload["message"] = message
        return await self._dispatch_interaction(payload, guild)

    async def wait_response(self, interaction: FakeInteraction, *, followups: int = 0, timeout: float = 30.0) -> None:
        """Wait for the interaction's callback and at least `followups` followup messages."""
        await self.wait_until(
            lambda: interaction.callback is not None and len(interaction.followups) >= followups, timeout
        )

    # ------------------------------------------------------------------ REST
    async def _cdn(self, request: web.Request) -> web.StreamResponse:
        att = self.attachments.get(int(request.match_info["id"]))
        if att is None:
            return web.Response(status=404, text="not found")
        filename, data, content_type = att
        return web.Response(body=data, headers={"Content-Type": content_type})

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body, files = await self._read_body(request)
        call = Call(request.method, path, dict(request.query), body, dict(request.headers), files)
        self.calls.append(call)
        try:
            if request.headers.get("Authorization") != f"Bot {self.token}" and not path.startswith("/webhooks/"):
                if not path.startswith("/interactions/"):
                    response = _error(401, "401: Unauthorized")
                    call.status = response.status
                    return response
            for i, (method, pattern, retry_after) in enumerate(self._rate_limits):
                if call.matches(method, pattern):
                    del self._rate_limits[i]
                    response = _json_response(
                        {"message": "You are being rate limited.", "retry_after": retry_after, "global": False},
                        status=429,
                        headers={"Via": "1.1 google", "Retry-After": str(retry_after)},
                    )
                    call.status = 429
                    return response
            for method, pattern, handler in self._routes():
                match = re.fullmatch(pattern, path)
                if match and method == request.method:
                    response = await handler(call, *match.groups())
                    break
            else:
                self.unhandled.append(call)
                response = _error(404, f"404: Not Found ({request.method} {path})")
            call.status = response.status
            return response
        finally:
            await self._notify()

    @staticmethod
    async def _read_body(request: web.Request) -> tuple[Any, dict[str, bytes]]:
        if not request.can_read_body:
            return None, {}
        if request.content_type.startswith("multipart/"):
            payload: Any = None
            files: dict[str, bytes] = {}
            reader = await request.multipart()
            async for part in reader:
                if part.name == "payload_json":  # type: ignore[union-attr]
                    payload = json.loads(await part.text())  # type: ignore[union-attr]
                else:
                    files[part.filename or part.name or "file"] = await part.read()  # type: ignore[union-attr]
            return payload, files
        raw = await request.read()
        return (json.loads(raw) if raw else None), {}

    def _routes(self) -> list[tuple[str, str, Callable[..., Awaitable[web.Response]]]]:
        return [
            ("GET", r"/users/@me", self._r_me),
            ("GET", r"/oauth2/applications/@me", self._r_application),
            ("GET", r"/gateway/bot", self._r_gateway_bot),
            ("GET", r"/gateway", self._r_gateway_bot),
            ("PUT", r"/applications/(\d+)/commands", self._r_sync_global),
            ("PUT", r"/applications/(\d+)/guilds/(\d+)/commands", self._r_sync_guild),
            ("GET", r"/applications/(\d+)/commands", self._r_get_global),
            ("POST", r"/interactions/(\d+)/([^/]+)/callback", self._r_callback),
            ("POST", r"/webhooks/(\d+)/([^/]+)", self._r_followup),
            ("GET", r"/webhooks/(\d+)/([^/]+)/messages/([^/]+)", self._r_webhook_get),
            ("PATCH", r"/webhooks/(\d+)/([^/]+)/messages/([^/]+)", self._r_webhook_edit),
            ("DELETE", r"/webhooks/(\d+)/([^/]+)/messages/([^/]+)", self._r_webhook_delete),
            ("POST", r"/channels/(\d+)/typing", self._r_typing),
            ("POST", r"/channels/(\d+)/messages", self._r_send),
            ("GET", r"/channels/(\d+)/messages", self._r_history),
            ("GET", r"/channels/(\d+)/messages/(\d+)", self._r_get_message),
            ("PATCH", r"/channels/(\d+)/messages/(\d+)", self._r_edit_message),
            ("DELETE", r"/channels/(\d+)/messages/(\d+)", self._r_delete_message),
            ("POST", r"/channels/(\d+)/messages/(\d+)/threads", self._r_thread_from_message),
            ("POST", r"/users/@me/channels", self._r_create_dm),
        ]

    def _invalid(self, call: Call, problems: list[str]) -> web.Response:
        self.invalid.append((call, problems))
        return _json_response({"message": "Invalid Form Body", "code": 50035, "errors": problems}, status=400)

    async def _r_me(self, call: Call) -> web.Response:
        return _json_response(self.bot_user)

    async def _r_application(self, call: Call) -> web.Response:
        return _json_response(
            {
                "id": str(self.app_id),
                "name": "newsdesk",
                "icon": None,
                "description": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": self.owner,
                "verify_key": secrets.token_hex(32),
                "team": None,
                "flags": 0,
                "summary": "",
                "rpc_origins": [],
                "bot": self.bot_user,
                "interactions_endpoint_url": None,
            }
        )

    async def _r_gateway_bot(self, call: Call) -> web.Response:
        return _json_response(
            {
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1},
            }
        )

    def _store_commands(self, scope: int | None, payload: list[dict[str, Any]]) -> list[dict[str, Any]]:
        stored = []
        for command in payload:
            command = dict(command)
            command.setdefault("type", 1)
            if command.get("default_member_permissions") is not None:  # Discord stores and returns it as a string
                command["default_member_permissions"] = str(command["default_member_permissions"])
            command["id"] = str(self.snowflake())
            command["application_id"] = str(self.app_id)
            command["version"] = str(self.snowflake())
            if scope is not None:
                command["guild_id"] = str(scope)
            stored.append(command)
        self.commands[scope] = stored
        return stored

    async def _r_sync_global(self, call: Call, app_id: str) -> web.Response:
        return _json_response(self._store_commands(None, call.json))

    async def _r_sync_guild(self, call: Call, app_id: str, guild_id: str) -> web.Response:
        return _json_response(self._store_commands(int(guild_id), call.json))

    async def _r_get_global(self, call: Call, app_id: str) -> web.Response:
        return _json_response(self.commands.get(None, []))

    def _bot_message(self, channel_id: int, guild_id: int | None, body: dict[str, Any], **extra: Any) -> dict[str, Any]:
        message = self._message_payload(
            channel_id,
            self.bot_user,
            body.get("content") or "",
            guild_id=guild_id,
            embeds=body.get("embeds"),
            components=body.get("components"),
            flags=int(body.get("flags") or 0),
            extra=extra,
        )
        self.messages.setdefault(channel_id, []).append(message)
        return message

    async def _r_callback(self, call: Call, iid: str, token: str) -> web.Response:
        interaction = self.interactions.get(token)
        if interaction is None or str(interaction.id) != iid:
            return _error(404, "Unknown interaction", 10062)
        if interaction.callback is not None:
            return _error(400, "Interaction has already been acknowledged.", 40060)
        if time.monotonic() - interaction.created_at > self.interaction_deadline_s:
            interaction.late = True  # Discord has shown "The application did not respond"; the token is gone
            return _error(404, "Unknown interaction", 10062)
        ctype, data = call.json["type"], call.json.get("data") or {}
        if ctype in (CB_MESSAGE, CB_UPDATE) and (problems := message_limit_problems(data)):
            return self._invalid(call, problems)
        interaction.callback = call.json
        interaction.callback_at = time.monotonic()
        resource: dict[str, Any] | None = None
        user = interaction.payload.get("member", {}).get("user") or interaction.payload.get("user")
        meta = {"id": iid, "type": interaction.type, "name": interaction.payload["data"].get("name", ""), "user": user}
        if ctype == CB_MESSAGE:
            interaction.original = self._bot_message(
                interaction.channel_id, interaction.guild_id, data, interaction=meta
            )
            resource = {"type": ctype, "message": interaction.original}
        elif ctype == CB_DEFERRED_MESSAGE:
            flags = int(data.get("flags") or 0) | LOADING
            interaction.original = self._bot_message(
                interaction.channel_id, interaction.guild_id, {"flags": flags}, interaction=meta
            )
            resource = {"type": ctype, "message": interaction.original}
        elif ctype == CB_UPDATE:
            message = interaction.payload["message"]
            message.update({k: v for k, v in data.items() if k in ("content", "embeds", "components")})
            resource = {"type": ctype, "message": message}
        interaction_info = {
            "id": iid,
            "type": interaction.type,
            "response_message_id": interaction.original["id"] if interaction.original else None,
            "response_message_loading": ctype == CB_DEFERRED_MESSAGE,
            "response_message_ephemeral": bool(int(data.get("flags") or 0) & EPHEMERAL),
        }
        if call.query.get("with_response") in ("1", "true", "True"):
            out: dict[str, Any] = {"interaction": interaction_info}
            if resource is not None:
                out["resource"] = resource
            return _json_response(out)
        return web.Response(status=204)

    async def _r_followup(self, call: Call, app_id: str, token: str) -> web.Response:
        interaction = self.interactions.get(token)
        if interaction is None:
            return _error(404, "Unknown Webhook", 10015)
        if interaction.callback is None:
            return _error(400, "Interaction has not been acknowledged", 40060)
        if problems := message_limit_problems(call.json):
            return self._invalid(call, problems)
        message = self._bot_message(interaction.channel_id, interaction.guild_id, call.json or {}, webhook_id=app_id)
        interaction.followups.append(call.json or {})
        interaction.followup_at.append(time.monotonic())
        return _json_response(message)

    def _webhook_message(self, interaction: FakeInteraction, message_id: str) -> dict[str, Any] | None:
        if message_id == "@original":
            return interaction.original
        for message in self.messages.get(interaction.channel_id, []):
            if message["id"] == message_id:
                return message
        return None

    async def _r_webhook_get(self, call: Call, app_id: str, token: str, message_id: str) -> web.Response:
        interaction = self.interactions.get(token)
        message = self._webhook_message(interaction, message_id) if interaction else None
        return _json_response(message) if message else _error(404, "Unknown Message", 10008)

    async def _r_webhook_edit(self, call: Call, app_id: str, token: str, message_id: str) -> web.Response:
        interaction = self.interactions.get(token)
        message = self._webhook_message(interaction, message_id) if interaction else None
        if interaction is None or message is None:
            return _error(404, "Unknown Message", 10008)
        body = call.json or {}
        if problems := message_limit_problems({**body, "flags": 0}):
            return self._invalid(call, problems)
        message.update({k: v for k, v in body.items() if k in ("content", "embeds", "components")})
        message["flags"] = int(message.get("flags", 0)) & ~LOADING
        message["edited_timestamp"] = _now_iso()
        interaction.edits.append(body)
        return _json_response(message)

    async def _r_webhook_delete(self, call: Call, app_id: str, token: str, message_id: str) -> web.Response:
        return web.Response(status=204)

    async def _r_typing(self, call: Call, channel_id: str) -> web.Response:
        return web.Response(status=204)

    def _guild_of_channel(self, channel_id: int) -> Guild | None:
        for guild in self.guilds.values():
            if any(int(c["id"]) == channel_id for c in guild.channels + guild.threads):
                return guild
        return None

    async def _r_send(self, call: Call, channel_id: str) -> web.Response:
        cid = int(channel_id)
        if cid not in self.messages:
            return _error(404, "Unknown Channel", 10003)
        guild = self._guild_of_channel(cid)
        body = call.json or {}
        if problems := message_limit_problems(body):
            return self._invalid(call, problems)
        extra: dict[str, Any] = {}
        if body.get("message_reference"):
            extra["message_reference"] = body["message_reference"]
        message = self._bot_message(cid, guild.id if guild else None, body, **extra)
        return _json_response(message)

    async def _r_history(self, call: Call, channel_id: str) -> web.Response:
        messages = list(self.messages.get(int(channel_id), []))
        limit = int(call.query.get("limit", 50))
        if "after" in call.query:
            after = int(call.query["after"])
            picked = [m for m in messages if int(m["id"]) > after][:limit]
        else:
            before = int(call.query.get("before", 1 << 63))
            picked = [m for m in messages if int(m["id"]) < before][-limit:]
        return _json_response(list(reversed(picked)))  # Discord returns newest first

    def _find_message(self, channel_id: int, message_id: int) -> dict[str, Any] | None:
        return next((m for m in self.messages.get(channel_id, []) if int(m["id"]) == message_id), None)

    async def _r_get_message(self, call: Call, channel_id: str, message_id: str) -> web.Response:
        message = self._find_message(int(channel_id), int(message_id))
        return _json_response(message) if message else _error(404, "Unknown Message", 10008)

    async def _r_edit_message(self, call: Call, channel_id: str, message_id: str) -> web.Response:
        message = self._find_message(int(channel_id), int(message_id))
        if message is None:
            return _error(404, "Unknown Message", 10008)
        message.update({k: v for k, v in (call.json or {}).items() if k in ("content", "embeds", "components")})
        message["edited_timestamp"] = _now_iso()
        return _json_response(message)

    async def _r_delete_message(self, call: Call, channel_id: str, message_id: str) -> web.Response:
        message = self._find_message(int(channel_id), int(message_id))
        if message is None:
            return _error(404, "Unknown Message", 10008)
        self.messages[int(channel_id)].remove(message)
        return web.Response(status=204)

    async def _r_thread_from_message(self, call: Call, channel_id: str, message_id: str) -> web.Response:
        cid, mid = int(channel_id), int(message_id)
        guild = self._guild_of_channel(cid)
        message = self._find_message(cid, mid)
        if guild is None or message is None:
            return _error(404, "Unknown Message", 10008)
        if message.get("thread"):
            return _error(400, "A thread has already been created for this message", 160004)
        body = call.json or {}
        thread = {
            "id": str(mid),  # Discord gives a thread started from a message the message's id
            "type": 11,
            "guild_id": str(guild.id),
            "parent_id": str(cid),
            "owner_id": str(self.app_id),
            "name": body["name"],
            "last_message_id": None,
            "message_count": 0,
            "member_count": 1,
            "total_message_sent": 0,
            "rate_limit_per_user": body.get("rate_limit_per_user") or 0,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": body.get("auto_archive_duration") or 1440,
                "archive_timestamp": _now_iso(),
                "locked": False,
            },
        }
        message["thread"] = thread
        guild.threads.append(thread)
        self.messages[mid] = []
        await self.dispatch("THREAD_CREATE", dict(thread, newly_created=True))
        return _json_response(thread, status=201)

    async def _r_create_dm(self, call: Call) -> web.Response:
        user_id = int((call.json or {})["recipient_id"])
        for uid, channel in self.dm_channels.items():
            if uid == user_id:
                return _json_response(channel)
        return _error(404, "Unknown User", 10013)


# ---------------------------------------------------------------------- running a client against the fake
@contextlib.asynccontextmanager
async def running(client: Any, fake: FakeDiscord, *, timeout: float = 30.0) -> AsyncIterator[Any]:
    """Start a discord.py client (logged in with the fake's token) and wait until it is ready; close it after.

    A client with `wait_until_serving` (the newsdesk bot: warmed up and its commands registered) is waited for
    until then, so a test's first command finds the commands synced."""
    task = asyncio.create_task(client.start(fake.token), name="discord-client")
    try:
        waiter = getattr(client, "wait_until_serving", None) or client.wait_until_ready
        ready = asyncio.create_task(waiter())
        done, _ = await asyncio.wait({ready, task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            ready.cancel()
            task.result()  # raises the start-up error
            raise RuntimeError("the client stopped before it was ready")
        if ready not in done:
            ready.cancel()
            raise TimeoutError("the client did not become ready")
        yield client
    finally:
        await client.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(task, 10)


class FakeInThread:
    """A `FakeDiscord` on its own event loop in a background thread.

    Real Discord is another machine: its work never runs on the bot's event loop. Load tests that measure how long
    the bot's loop is blocked use this, so only the bot's own callbacks are measured. `await ft.run(coro)` runs a
    coroutine of the fake (e.g. `fake.invoke_command(...)`) on the fake's loop.
    """

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="fake-discord", daemon=True)

    def start(self) -> FakeDiscord:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.fake.start(), self.loop).result(30)
        return self.fake

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.close(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(30)
        self.loop.close()

    async def run(self, coro: Awaitable[Any]) -> Any:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))  # type: ignore[arg-type]
