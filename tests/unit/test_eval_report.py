"""The HTML report: self-contained, failures first, every piece of text escaped."""

from __future__ import annotations

import base64
import re
from typing import Any

from evaluation.dataset import Question
from evaluation.metrics import SUPPORT_THRESHOLD
from evaluation.report import format_value, render_report
from evaluation.runner import summarize_run
from evaluation.scoring import Outcome


def outcome(qid: str, kind: str, passed: bool, text: str, reasons: list[str], line: int) -> Outcome:
    question = Question(qid, f"Question {qid}?", None, (), None, None, "unanswerable", line)
    if kind != "unanswerable":
        question = Question(qid, f"Question {qid}?", "ref", ("ref",), "doc", "ev", kind, line)  # type: ignore[arg-type]
    answer: dict[str, Any] = {
        "question": question.question,
        "answer": text,
        "abstained": False,
        "citations": [{"n": 1, "article_id": "doc", "quote": "a <b>quoted</b> line", "title": "", "source": ""}],
        "timings_ms": {"total": 100.0 * line},
    }
    scores: dict[str, float | None] = {"accuracy": 1.0 if passed else 0.0, "pass": 1.0 if passed else 0.0}
    return Outcome(question, answer, ["doc"], scores, passed, reasons)


def test_report_is_self_contained_escaped_and_lists_failures_first() -> None:
    outcomes = [
        outcome("good", "fact", True, "fine [1]", [], 1),
        outcome("evil", "quote", False, "<script>alert('x')</script> [1]", ["answer has none of: '<img>'"], 2),
        outcome("decl", "unanswerable", False, "answered", ["answered a question the articles do not answer"], 3),
    ]
    summary = summarize_run(outcomes, dataset="d.jsonl", collection="c", k=5, answerer="extractive")
    html = render_report(summary, outcomes)

    # self-contained: no external resources, two embedded PNG charts that decode as PNG
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 2
    assert all(base64.b64decode(data).startswith(b"\x89PNG") for data in images)
    assert "<style>" in html

    # escaped: text from answers, quotes and reasons cannot inject markup
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "a &lt;b&gt;quoted&lt;/b&gt; line" in html
    assert "&lt;img&gt;" in html

    # failures first, in dataset order, then passes
    order = [m for m in re.findall(r"<code>(good|evil|decl)</code>", html)]
    assert order[:3] == ["evil", "decl", "good"]
    assert "3 questions, 2 failing" in html
    # per-kind table rows and the support threshold stated
    for kind in ("fact", "quote", "unanswerable", "overall"):
        assert f"<th>{kind}</th>" in html
    assert f"&gt;= {SUPPORT_THRESHOLD:g}" in html


def test_format_value() -> None:
    assert format_value("accuracy", 0.8333) == "83.3%"
    assert format_value("token_f1", 0.41234) == "0.412"
    assert format_value("latency_p95_ms", 1234.4) == "1234 ms"
    assert format_value("support", None) == "–"
