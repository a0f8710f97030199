"""Render `report.html`: one self-contained page (inline CSS, charts as PNG data URIs) that opens offline.

Every piece of text from questions, answers and articles goes through `html.escape`: articles come from strangers
and an answer quoting `<script>` must show it, not run it.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from evaluation.metrics import SUPPORT_RULE
from evaluation.scoring import Outcome

LABELS: dict[str, str] = {
    "pass": "pass rate",
    "accuracy": "accuracy",
    "answer_has_fact": "answer has the fact",
    "token_f1": "token F1",
    "hit_at_k": "hit@k",
    "mrr_at_k": "MRR@k",
    "evidence_recall_at_k": "evidence recall@k",
    "cited_right_article": "cited right article",
    "citation_precision": "citation precision",
    "quote_faithfulness": "quote faithfulness",
    "support": "support",
    "correct_abstention": "correct abstention",
    "false_abstention": "false abstention",
    "latency_p50_ms": "latency p50",
    "latency_p95_ms": "latency p95",
}
DEFINITIONS: dict[str, str] = {
    "pass": "share of questions that pass every check below that applies to them",
    "answer_has_fact": "answerable questions only: the answer contains one of must_contain (as for accuracy); the "
    "headline figure for answer quality",
    "accuracy": "answerable: the answer contains one of must_contain (folded case and quotes, whole words) and did "
    "not decline; unanswerable: it declined",
    "token_f1": "token overlap F1 between the answer (markers removed) and the reference answer",
    "hit_at_k": "the gold article is among the top k retrieved chunks",
    "mrr_at_k": "1 / rank of the gold article among the distinct articles of the top k chunks",
    "evidence_recall_at_k": "the gold evidence sentence lies inside one of the top k chunks",
    "cited_right_article": "answered questions whose citations include the gold article",
    "citation_precision": "share of an answer's citations that point at the gold article",
    "quote_faithfulness": "share of cited quotes found verbatim in their article's cleaned text",
    "support": "share of answer claims supported by the quotes they cite: " + SUPPORT_RULE,
    "correct_abstention": "unanswerable questions declined",
    "false_abstention": "answerable questions declined (lower is better)",
    "latency_p50_ms": "median of timings_ms.total",
    "latency_p95_ms": "95th percentile of timings_ms.total",
}
TABLE_METRICS = (
    "pass",
    "accuracy",
    "answer_has_fact",
    "token_f1",
    "hit_at_k",
    "mrr_at_k",
    "evidence_recall_at_k",
    "cited_right_article",
    "quote_faithfulness",
    "support",
    "correct_abstention",
    "false_abstention",
    "latency_p50_ms",
    "latency_p95_ms",
)

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1280px;
color:#1d2330;padding:0 16px}
h1{font-size:22px;margin-bottom:4px}
h2{font-size:17px;margin-top:28px;border-bottom:1px solid #dde2ea;padding-bottom:4px}
.meta{color:#5b6577}.cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}
.card{border:1px solid #dde2ea;border-radius:8px;padding:8px 12px;min-width:120px;background:#f8fafc}
.card b{display:block;font-size:20px}.card span{color:#5b6577;font-size:12px}
table{border-collapse:collapse;width:100%;margin:8px 0}th,td{border:1px solid #dde2ea;padding:5px 7px;
vertical-align:top;text-align:left}th{background:#f1f4f8;font-weight:600}td.num{text-align:right;white-space:nowrap}
tr.fail td:first-child{border-left:4px solid #c0392b}tr.pass td:first-child{border-left:4px solid #27ae60}
.status-fail{color:#c0392b;font-weight:600}.status-pass{color:#1e8449;font-weight:600}
.cite{color:#38465c;font-size:13px;margin-top:4px}.reason{color:#a03224}ul{margin:2px 0;padding-left:18px}
.charts{display:flex;flex-wrap:wrap;gap:16px}.charts img{border:1px solid #dde2ea;border-radius:6px;max-width:100%}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px}dt{font-weight:600}dd{margin:0;color:#38465c}
"""


def format_value(name: str, value: float | None) -> str:
    """Rates as percentages, F1/MRR as decimals, latencies in ms; a dash where the metric does not apply."""
    if value is None:
        return "–"
    if name.endswith("_ms"):
        return f"{value:.0f} ms"
    if name in ("token_f1", "mrr_at_k"):
        return f"{value:.3f}"
    return f"{100 * value:.1f}%"


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def latency_histogram(latencies: Sequence[float]) -> str:
    """A histogram of `timings_ms.total` as a PNG data URI (built on `Figure`, so no GUI backend is involved)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.6, 3.2))
    ax = fig.subplots()
    if latencies:
        ax.hist(latencies, bins=min(20, max(5, len(latencies) // 2)), color="#3b6fb6", edgecolor="white")
    ax.set_title("Latency per question (timings_ms.total)")
    ax.set_xlabel("ms")
    ax.set_ylabel("questions")
    return _png(fig)


def accuracy_bars(by_kind: Mapping[str, Mapping[str, float | None]], overall: Mapping[str, float | None]) -> str:
    """Accuracy per kind plus overall, as a PNG data URI."""
    from matplotlib.figure import Figure

    names = [*by_kind, "overall"]
    values = [100 * (by_kind[k].get("accuracy") or 0.0) for k in by_kind] + [100 * (overall.get("accuracy") or 0.0)]
    fig = Figure(figsize=(5.6, 3.2))
    ax = fig.subplots()
    bars = ax.bar(names, values, color=["#3b6fb6"] * len(by_kind) + ["#1d2330"])
    ax.bar_label(bars, labels=[f"{v:.0f}%" for v in values], fontsize=8)
    ax.set_ylim(0, 110)
    ax.set_ylabel("accuracy %")
    ax.set_title("Accuracy per kind")
    ax.tick_params(axis="x", labelrotation=20)
    return _png(fig)


def _cards(overall: Mapping[str, float | None]) -> str:
    return "".join(
        f'<div class="card"><b>{escape(format_value(m, overall.get(m)))}</b><span>{escape(LABELS[m])}</span></div>'
        for m in TABLE_METRICS
    )


def _split_section(by_split: Mapping[str, Mapping[str, float | None]]) -> str:
    """Per-split figures; the selector was fitted on train and chosen on dev, so only test is a result."""
    if not by_split:
        return ""
    head = "".join(f"<th>{escape(name)}</th>" for name in by_split)
    rows = []
    for m in TABLE_METRICS:
        cells = "".join(f'<td class="num">{escape(format_value(m, v.get(m)))}</td>' for v in by_split.values())
        rows.append(f"<tr><th>{escape(LABELS[m])}</th>{cells}</tr>")
    note = "<p>Tuned on train, chosen on dev: only the test column is a result.</p>"
    return f"<h2>Per split</h2>{note}<table><tr><th>metric</th>{head}</tr>{''.join(rows)}</table>"


def _quoted(quote: str) -> str:
    """The quote in typographic marks, unless it already opens with one (no doubled “)."""
    text = quote.strip()
    if text[:1] in "“\"‘'":
        return text
    return f"“{text}”"


def _kind_table(by_kind: Mapping[str, Mapping[str, float | None]], overall: Mapping[str, float | None]) -> str:
    head = "".join(f"<th>{escape(LABELS[m])}</th>" for m in TABLE_METRICS)
    rows = []
    for kind, values in [*by_kind.items(), ("overall", overall)]:
        n = int(values.get("n") or 0)
        cells = "".join(f'<td class="num">{escape(format_value(m, values.get(m)))}</td>' for m in TABLE_METRICS)
        rows.append(f"<tr><th>{escape(kind)}</th><td class='num'>{n}</td>{cells}</tr>")
    return f"<table><tr><th>kind</th><th>n</th>{head}</tr>{''.join(rows)}</table>"


def _question_row(outcome: Outcome) -> str:
    q, a = outcome.question, outcome.answer
    status = "pass" if outcome.passed else "fail"
    cites = "".join(
        f"<li>[{escape(str(c.get('n')))}] <code>{escape(str(c.get('article_id')))}</code>: "
        f"{escape(_quoted(str(c.get('quote', ''))))}</li>"
        for c in a.get("citations") or []
    )
    cites_html = f'<div class="cite"><ul>{cites}</ul></div>' if cites else ""
    reasons = "".join(f'<li class="reason">{escape(r)}</li>' for r in outcome.reasons)
    expected = (
        f"<div class='cite'>expected: {escape(q.answer or '')} · must contain: "
        f"{escape(' | '.join(q.must_contain))} · article: <code>{escape(q.doc_id or '')}</code></div>"
        if q.answerable
        else "<div class='cite'>expected: decline (the articles do not answer this)</div>"
    )
    s = outcome.scores
    latency = outcome.latency_ms
    numbers = (
        f"acc {format_value('accuracy', s.get('accuracy'))}<br>F1 {format_value('token_f1', s.get('token_f1'))}"
        f"<br>hit {format_value('hit_at_k', s.get('hit_at_k'))}<br>"
        f"{'–' if latency is None else f'{latency:.0f} ms'}"
    )
    return (
        f'<tr class="{status}"><td><code>{escape(q.id)}</code><br>{escape(q.kind)}</td>'
        f'<td class="status-{status}">{status}</td>'
        f"<td>{escape(q.question)}{expected}</td>"
        f"<td>{escape(str(a.get('answer') or ''))}{cites_html}</td>"
        f"<td><ul>{reasons}</ul></td><td class='num'>{numbers}</td></tr>"
    )


def render_report(summary: Mapping[str, Any], outcomes: Sequence[Outcome]) -> str:
    """The whole page for one run; `summary` is the `metrics.json` object (overall, by_kind, run settings)."""
    overall: Mapping[str, float | None] = summary["overall"]
    by_kind: Mapping[str, Mapping[str, float | None]] = summary["by_kind"]
    latencies = [o.latency_ms for o in outcomes if o.latency_ms is not None]
    ordered = sorted(outcomes, key=lambda o: (o.passed, o.question.line))
    failures = sum(1 for o in outcomes if not o.passed)
    meta = " · ".join(
        escape(f"{label}: {summary.get(key)}")
        for key, label in (
            ("dataset", "dataset"),
            ("collection", "collection"),
            ("k", "k"),
            ("answerer", "answerer"),
            ("created", "run at"),
        )
        if summary.get(key) is not None
    )
    definitions = "".join(f"<dt>{escape(LABELS[m])}</dt><dd>{escape(DEFINITIONS[m])}</dd>" for m in LABELS)
    rows = "".join(_question_row(o) for o in ordered)
    title = escape(f"newsdesk evaluation: {summary.get('dataset', '')}")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>{CSS}</style></head><body>
<h1>newsdesk evaluation</h1>
<div class="meta">{meta} · {len(outcomes)} questions, {failures} failing</div>
<h2>Summary</h2><div class="cards">{_cards(overall)}</div>
{_split_section(summary.get("by_split") or {})}<h2>Per kind</h2>{_kind_table(by_kind, overall)}
<div class="charts"><img alt="latency histogram" src="{latency_histogram(latencies)}">
<img alt="accuracy per kind" src="{accuracy_bars(by_kind, overall)}"></div>
<h2>Questions (failures first)</h2>
<table><tr><th>id</th><th>result</th><th>question</th><th>answer and citations</th><th>why</th><th>scores</th></tr>
{rows}</table>
<h2>Metric definitions</h2><dl>{definitions}</dl>
</body></html>
"""
