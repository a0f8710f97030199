"""Cogs: `ask` (questions: /ask, mentions, threads, DMs) and `library` (/ingest, /articles, /forget)."""
