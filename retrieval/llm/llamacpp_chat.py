"""A minimal LangChain chat model over llama-cpp-python's in-process `Llama` (for `LLM_PROVIDER=llamacpp`).

langchain-community's ChatLlamaCpp would pull in a very large package for about forty lines; this adapter keeps the
in-process option light. The model is loaded on first use and calls are serialised, because one `Llama` context is
not safe to share between threads. There is no timeout in-process: a local model is bounded by `LLM_MAX_TOKENS`.
It passes LangChain's standard chat-model unit tests (tests/unit/test_standard_chat_model.py): standard parameters,
`ls_*` tracing parameters, `LLM_MODEL_PATH` from the environment, serialisation.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LangSmithParams
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, convert_to_openai_messages
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.utils import from_env
from pydantic import Field, PrivateAttr


class LlamaCppChat(BaseChatModel):
    """Chat completions from a local GGUF file through llama.cpp's own chat template."""

    model_path: str = Field(default_factory=from_env("LLM_MODEL_PATH"))
    max_tokens: int = 400
    temperature: float = 0.0
    stop: list[str] | None = None
    n_ctx: int = 4096
    streaming: bool = False

    _llama: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "llamacpp-inprocess"

    @property
    def model_name(self) -> str:
        """The GGUF file's name without `.gguf`: what traces and `ls_model_name` show."""
        return Path(self.model_path).stem

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["retrieval", "llm", "llamacpp_chat"]

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "max_tokens": self.max_tokens, "temperature": self.temperature}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider="llamacpp",
            ls_model_name=kwargs["model"] if isinstance(kwargs.get("model"), str) else self.model_name,
            ls_model_type="chat",
            ls_temperature=kwargs.get("temperature", self.temperature),
            ls_max_tokens=kwargs.get("max_tokens", self.max_tokens),
        )
        if stop or self.stop:
            params["ls_stop"] = stop or self.stop
        return params

    def _model(self) -> Any:
        if self._llama is None:
            from llama_cpp import Llama

            self._llama = Llama(model_path=self.model_path, n_ctx=self.n_ctx, verbose=False)
        return self._llama

    def _request(self, messages: list[BaseMessage], stop: list[str] | None) -> dict[str, Any]:
        return {
            "messages": convert_to_openai_messages(messages),
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "stop": stop if stop is not None else self.stop,
        }

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        with self._lock:
            result = self._model().create_chat_completion(**self._request(messages, stop))
        text = result["choices"][0]["message"].get("content") or ""
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        with self._lock:
            for part in self._model().create_chat_completion(stream=True, **self._request(messages, stop)):
                delta = part["choices"][0]["delta"].get("content") or ""
                if delta:
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                    if run_manager is not None:
                        run_manager.on_llm_new_token(delta, chunk=chunk)
                    yield chunk
