"""Who may change a server's articles: members with Manage Server (Administrator implies it), or the role named by
`NEWSDESK_INGEST_ROLE`.

Discord hides `/ingest` and `/forget` from members without Manage Server (`default_member_permissions`), and a
server's admins can grant them to a role under Server Settings > Integrations; this check is the server-side guard
that holds whatever a server's overrides say.
"""

from __future__ import annotations

import discord


def can_manage(interaction: discord.Interaction, ingest_role: str | None) -> bool:
    """For a slash command: Manage Server in this channel, or a role with the configured name."""
    if interaction.guild is None:
        return False
    if interaction.permissions.manage_guild:
        return True
    return has_role(interaction.user, ingest_role)


def member_can_manage(author: discord.Member | discord.User, ingest_role: str | None) -> bool:
    """For a message: the author's server permissions (a DM author is never a manager)."""
    if not isinstance(author, discord.Member):
        return False
    return author.guild_permissions.manage_guild or has_role(author, ingest_role)


def has_role(user: discord.Member | discord.User, role_name: str | None) -> bool:
    roles = getattr(user, "roles", [])
    return bool(role_name) and any(role.name == role_name for role in roles)
