"""The LLM answerer: the model drafts, verification checks every cited sentence, the extractive answer catches falls.

Whatever happens on the model's side (timeout, refused connection, 429 or 5xx after bounded retries, empty or
unusable output, an answer verification cannot support), the user gets the extractive answer plus a short `note`,
never a stack trace. `Answer.verification` records what verification removed and whether we fell back, for
`newsdesk ask --json` and the evaluation's results.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelRateLimitError,
    ModelTimeoutError,
)
from langchain_core.messages import BaseMessage
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from newsdesk.redaction import RedactSecrets, settings_secrets
from newsdesk.settings import Settings
from retrieval.answer import ABSTAIN_TEXT, Answer, Turn
from retrieval.answerers import Answerer  # the fallback is any answerer (the extractive one)
from retrieval.llm.judge import UNAVAILABLE_NOTE, JudgeError, JudgePair, LLMJudge
from retrieval.llm.prompt import answer_messages, rewrite_messages
from retrieval.llm.providers import make_chat_model
from retrieval.types import RetrievedChunk
from retrieval.verification import CitationVerifier, VerificationResult, content_stems

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel

log = logging.getLogger(__name__)

_RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def is_retryable(exc: BaseException) -> bool:
    """429, 5xx and refused connections are worth another try; timeouts are not (the user already waited)."""
    if isinstance(exc, ModelTimeoutError):
        return False
    if isinstance(exc, ModelRateLimitError | ModelAPIError | ModelConnectionError):
        return True
    return _status(exc) in _RETRY_STATUS


@dataclass(frozen=True)
class Failure:
    """Why the model gave no usable draft: a short machine `reason` and a one-line `note` for the user."""

    reason: str
    note: str


def describe_failure(exc: BaseException, timeout_s: float) -> Failure:
    """Turn a provider exception into a reason and a note; the traceback only goes to the log."""
    status = _status(exc)
    if isinstance(exc, ModelTimeoutError) or "timeout" in type(exc).__name__.lower():
        return Failure("timeout", f"The language model did not answer within {timeout_s:g} s")
    if isinstance(exc, ModelRateLimitError) or status == 429:
        return Failure("rate_limited", "The language model is rate-limited right now")
    if isinstance(exc, ModelAPIError) or (status is not None and status >= 500):
        return Failure("server_error", f"The language model server failed (HTTP {status or '5xx'})")
    if isinstance(exc, ModelConnectionError) or "connect" in type(exc).__name__.lower():
        return Failure("connection", "The language model server could not be reached")
    if isinstance(exc, ModelAuthenticationError) or status in (401, 403):
        return Failure("auth", "The language model rejected the API key")
    return Failure(f"error: {type(exc).__name__}", "The language model call failed")


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome is not None else None
    log.info("LLM call failed (attempt %d: %s); retrying", state.attempt_number, error)


FALLBACK_SUFFIX = "; this is the extractive answer."


class LLMAnswerer:
    """Answers with a chat model, verifies every cited sentence, and falls back to `fallback` when it must."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embeddings,
        fallback: Answerer,
        chat_model: BaseChatModel | None = None,
        verifier: CitationVerifier | None = None,
        judge: LLMJudge | None = None,
        max_attempts: int = 3,
        backoff_s: float = 0.5,
        min_kept_fraction: float = 0.5,
    ) -> None:
        self.settings = settings
        self.fallback = fallback
        # Provider errors can echo the API key ("Incorrect API key provided: sk-..."): this logger never writes it.
        if not any(isinstance(f, RedactSecrets) for f in log.filters):
            log.addFilter(RedactSecrets(settings_secrets(settings)))
        else:
            next(f for f in log.filters if isinstance(f, RedactSecrets)).add(settings_secrets(settings))
        # Built now so a misconfiguration (missing extra or key) shows at startup, not on the first question.
        self.model = chat_model if chat_model is not None else make_chat_model(settings)
        self.verifier = verifier or CitationVerifier(embedder)
        if judge is None and settings.verify_judge == "llm":
            # Its own client, so its own timeout: a slow judge must not hold the answer for the full LLM timeout.
            judge_settings = settings.model_copy(update={"llm_timeout_s": settings.verify_judge_timeout_s})
            judge = LLMJudge(make_chat_model(judge_settings))
        self.judge = judge
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.min_kept_fraction = min_kept_fraction
        self.name = f"llm:{settings.llm_provider}"

    # --- calling the model -----------------------------------------------------------------------------------------
    def _retrying(self) -> dict[str, Any]:
        return {
            "stop": stop_after_attempt(self.max_attempts),
            "wait": wait_exponential_jitter(
                multiplier=self.backoff_s, max=8 * self.backoff_s, jitter=self.backoff_s / 2
            ),
            "retry": retry_if_exception(is_retryable),
            "reraise": True,
            "before_sleep": _log_retry,
        }

    def complete(self, messages: list[BaseMessage]) -> str:
        """The model's text for `messages`, retrying 429/5xx/refused connections with backoff (bounded)."""
        for attempt in Retrying(**self._retrying()):
            with attempt:
                message = self.model.invoke(messages)
        return message.text

    # --- answering -------------------------------------------------------------------------------------------------
    def answer(
        self,
        question: str,
        chunks: list[RetrievedChunk],
        history: list[Turn] | None = None,
        question_vector: np.ndarray | None = None,
    ) -> Answer:
        """A verified LLM answer, or the extractive one with a note; never raises for model failures."""
        if not chunks:
            return self._fall_back(question, chunks, history, question_vector, reason="no_passages", note=None)
        try:
            draft = self.complete(answer_messages(question, chunks))
        except Exception as exc:  # any provider failure becomes a fallback; details go to the log
            failure = describe_failure(exc, self.settings.llm_timeout_s)
            log.warning("LLM answer failed (%s): %s", failure.reason, exc, exc_info=log.isEnabledFor(logging.DEBUG))
            return self._fall_back(question, chunks, history, question_vector, failure.reason, failure.note)
        return self.finalize(question, chunks, draft, history, question_vector)

    def finalize(
        self,
        question: str,
        chunks: list[RetrievedChunk],
        draft: str,
        history: list[Turn] | None = None,
        question_vector: np.ndarray | None = None,
    ) -> Answer:
        """Verify a finished draft (from `answer` or a stream) and build the answer the user sees."""
        if not draft.strip():
            empty = "The language model returned an empty answer"
            return self._fall_back(question, chunks, history, question_vector, "empty_output", empty)
        result = self.verifier.verify(draft, chunks)
        result, judge_status = self._judge(result, chunks)
        for check in result.checks:
            if not check.kept:
                log.info("verification dropped %r: %s", check.claim, check.reason)
        if result.declined:
            return Answer(
                question=question,
                answer=ABSTAIN_TEXT,
                abstained=True,
                verification=self._record(result, fallback=False, reason="declined", judge=judge_status),
            )
        kept = result.sentences_kept
        if kept == 0 or kept < self.min_kept_fraction * result.sentences_total:
            # The fallback is the extractive answerer, which declines on its own below its calibrated threshold:
            # nothing is added to its answer here, so no unrelated quote can reach the user through this path.
            reason = "no_sentence_supported" if kept == 0 else "too_few_sentences_supported"
            unverified = "The language model's answer could not be verified against the articles"
            return self._fall_back(question, chunks, history, question_vector, reason, unverified, result, judge_status)
        asked = content_stems(question)
        shown = content_stems(" ".join([result.text, *(c.quote for c in result.citations)]))
        if asked and not asked & shown:
            # True sentences that share not one word with the question do not answer it.
            off_topic = "The language model's answer did not address the question"
            return self._fall_back(
                question, chunks, history, question_vector, "off_topic", off_topic, result, judge_status
            )
        notes: list[str] = []
        if result.sentences_dropped:
            dropped = result.sentences_dropped
            notes.append(f"Removed {dropped} sentence{'s' if dropped > 1 else ''} the articles do not support.")
        if judge_status == "unavailable":
            notes.append(UNAVAILABLE_NOTE)
        return Answer(
            question=question,
            answer=result.text,
            abstained=False,
            citations=result.citations,
            verification=self._record(result, fallback=False, reason="verified", judge=judge_status),
            note=" ".join(notes) or None,
        )

    def _judge(self, result: VerificationResult, chunks: Sequence[RetrievedChunk]) -> tuple[VerificationResult, str]:
        """Ask the judge about every kept sentence and drop the ones it calls unsupported.

        Returns the result and the judge's status: "off", "ok" or "unavailable" (then the result is unchanged).
        """
        if self.judge is None:
            return result, "off"
        kept = [i for i, check in enumerate(result.checks) if check.kept]
        if not kept:
            return result, "ok"
        pairs = [
            JudgePair(
                result.checks[i].claim,
                " ".join(chunks[s.chunk_index].text[s.start : s.end] for s in result.checks[i].supports),
            )
            for i in kept
        ]
        try:
            verdicts = self.judge.judge(pairs)
        except JudgeError as exc:
            log.warning("verification judge unavailable; the deterministic checks stand: %s", exc)
            return result, "unavailable"
        rejected = [i for i, ok in zip(kept, verdicts, strict=True) if not ok]
        if rejected:
            result = self.verifier.drop(result, rejected, "the judge found it unsupported", chunks)
        return result, "ok"

    def _record(
        self, result: VerificationResult | None, fallback: bool, reason: str, judge: str = "off"
    ) -> dict[str, Any]:
        counts = (
            result.counts()
            if result is not None
            else {
                "sentences_total": 0,
                "sentences_dropped": 0,
                "citations_total": 0,
                "citations_dropped": 0,
                "citations_added": 0,
            }
        )
        record = {**counts, "fallback": fallback, "reason": reason}
        if judge != "off":
            record["judge"] = judge
        return record

    def _fall_back(
        self,
        question: str,
        chunks: list[RetrievedChunk],
        history: list[Turn] | None,
        question_vector: np.ndarray | None,
        reason: str,
        note: str | None,
        result: VerificationResult | None = None,
        judge: str = "off",
    ) -> Answer:
        answer = self.fallback.answer(question, chunks, history, question_vector)
        answer.verification = self._record(result, fallback=True, reason=reason, judge=judge)
        if note is not None:
            answer.note = note + FALLBACK_SUFFIX
        if judge == "unavailable":
            answer.note = f"{answer.note} {UNAVAILABLE_NOTE}" if answer.note else UNAVAILABLE_NOTE
        return answer

    # --- follow-up questions ---------------------------------------------------------------------------------------
    def rewrite_question(self, question: str, history: list[Turn]) -> str:
        """A standalone version of a follow-up question, or "" when the model could not give a usable one.

        The chain uses its offline heuristic when this returns "", so a failing model never blocks a follow-up.
        """
        if not history:
            return question
        try:
            text = self.complete(rewrite_messages(question, history))
        except Exception as exc:
            log.warning("LLM question rewrite failed: %s", exc)
            return ""
        return clean_rewrite(text, question, history, self.settings.max_question_chars)

    # --- streaming -------------------------------------------------------------------------------------------------
    async def astream_draft(self, question: str, chunks: list[RetrievedChunk]) -> AsyncIterator[str]:
        """Yield the unverified draft as it grows (each item is the whole text so far).

        Meant for showing progress only: the verified `finalize(question, chunks, draft)` must replace it. Errors
        before the first token are retried like `answer`; any failure ends the stream quietly (the draft so far,
        possibly empty, then goes through `finalize`, which falls back to the extractive answer).
        """
        async for item in self._astream(question, chunks):
            if isinstance(item, str):
                yield item

    async def astream_answer(
        self,
        question: str,
        chunks: list[RetrievedChunk],
        history: list[Turn] | None = None,
        question_vector: np.ndarray | None = None,
    ) -> AsyncIterator[str | Answer]:
        """Yield draft texts as they grow, then the verified `Answer` as the last item (always exactly one)."""
        draft = ""
        failure: Failure | None = None
        async for item in self._astream(question, chunks):
            if isinstance(item, Failure):
                failure = item
            else:
                draft = item
                yield item
        if not chunks:
            final = await asyncio.to_thread(
                self._fall_back, question, chunks, history, question_vector, "no_passages", None
            )
        elif failure is not None and not draft.strip():
            final = await asyncio.to_thread(
                self._fall_back, question, chunks, history, question_vector, failure.reason, failure.note
            )
        else:
            final = await asyncio.to_thread(self.finalize, question, chunks, draft, history, question_vector)
        yield final

    async def _astream(self, question: str, chunks: Sequence[RetrievedChunk]) -> AsyncIterator[str | Failure]:
        if not chunks:
            return
        messages = answer_messages(question, chunks)
        text = ""
        attempt = 0
        while True:
            attempt += 1
            try:
                async for piece in self.model.astream(messages):
                    delta = piece.text
                    if delta:
                        text += delta
                        yield text
                return
            except Exception as exc:
                # Once text was shown, a retry would start the draft over: stop instead and verify what arrived.
                if text or attempt >= self.max_attempts or not is_retryable(exc):
                    failure = describe_failure(exc, self.settings.llm_timeout_s)
                    log.warning("LLM stream failed (%s): %s", failure.reason, exc)
                    yield failure
                    return
                await asyncio.sleep(min(self.backoff_s * 2 ** (attempt - 1), 8 * self.backoff_s))


def clean_rewrite(text: str, question: str, history: Sequence[Turn], max_chars: int) -> str:
    """The first line of the model's rewrite, unless it is empty, far too long, or about something else."""
    line = next((ln.strip() for ln in text.strip().splitlines() if ln.strip()), "")
    for prefix in ("standalone question:", "question:", "rewritten question:"):
        if line.lower().startswith(prefix):
            line = line[len(prefix) :].strip()
    line = line.strip("\"'“”*` ")
    if not line or len(line) > max_chars or len(line) > 3 * len(question) + 200:
        return ""
    context = content_stems(question) | {s for turn in history[-3:] for s in content_stems(turn.question)}
    if context and not content_stems(line) & context:
        return ""  # shares nothing with the conversation: the model answered or wandered off
    return line
