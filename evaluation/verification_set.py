"""The labelled citation-verification set: (claim, cited passage) pairs, stored as locators, and its scorer.

Why a separate set: the answer-quality questions measure what the whole chain says; this set measures the one
promise that matters most with an LLM, that a cited sentence the passage does not support never reaches the user.
Each pair is a sentence a model might write, the passage it cites (a stretch of a BBC article) and the sentence(s)
it is, or pretends to be, based on, labelled `supported` or `unsupported` with the kind of error it makes.

The BBC corpus must not enter the repository, so passages and support sentences are locators
(`evaluation.locators`) resolved from the corpus file at run time; claims are reworded by their writers and are
stored as text. Pairs are split train/dev/test by article (`evaluation.splits`): checks are tuned on train, chosen on
dev, and only the test split's figures are reported as the result.

    python -m evaluation.verification_set convert RAW.jsonl [RAW.jsonl ...] --corpus CORPUS.jsonl --out FILE
    python -m evaluation.verification_set score --corpus CORPUS.jsonl [--split test] [--show-errors]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.locators import Locator, LocatorError
from evaluation.splits import SPLITS, split_of
from retrieval.types import RetrievedChunk
from retrieval.verification import CitationVerifier, SentenceCheck

DATASET = Path(__file__).parent / "datasets" / "verification.jsonl"
SUPPORTED_KINDS = ("paraphrase", "condensed", "two_sentence", "number_restated")
UNSUPPORTED_KINDS = (
    "swapped_roles",
    "contradiction",
    "wrong_number",
    "number_unit",
    "number_neighbour",
    "number_words",
    "negation",
    "invented_detail",
    "invented_consequence",
)
KINDS = SUPPORTED_KINDS + UNSUPPORTED_KINDS


class VerificationSetError(ValueError):
    """A malformed pair (with its line), or a raw pair whose passage is not verbatim in its article."""


@dataclass(frozen=True)
class Pair:
    """One labelled pair; `passage` and `support` are locators into the corpus, never text."""

    id: str
    claim: str
    label: str
    kind: str
    passage: Locator
    support: tuple[Locator, ...]
    split: str

    @property
    def supported(self) -> bool:
        return self.label == "supported"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "claim": self.claim,
            "label": self.label,
            "kind": self.kind,
            "passage": self.passage.to_dict(),
            "support": [s.to_dict() for s in self.support],
            "split": self.split,
        }


@dataclass(frozen=True)
class Article:
    title: str
    text: str


def load_corpus(path: str | Path, ids: Iterable[str] | None = None) -> dict[str, Article]:
    """`id` -> title and text from an article JSONL corpus (titles matter: a chunk's title counts as context)."""
    wanted = set(ids) if ids is not None else None
    articles: dict[str, Article] = {}
    with Path(path).open(encoding="utf-8") as handle:
        for raw in handle:
            if not raw.strip():
                continue
            obj = json.loads(raw)
            if wanted is None or obj["id"] in wanted:
                articles[obj["id"]] = Article(str(obj.get("title") or ""), str(obj["text"]))
    return articles


# --- converting the writers' raw files -------------------------------------------------------------------------------
def pair_id(doc_id: str, claim: str) -> str:
    """Stable across re-conversions: the article and a hash of the claim (a reworded claim is a new pair)."""
    return f"{doc_id}:{hashlib.sha256(claim.encode('utf-8')).hexdigest()[:8]}"


def convert_raw(records: Iterable[Mapping[str, Any]], texts: Mapping[str, str]) -> list[Pair]:
    """Raw writer records (`claim`, `doc_id`, `passage` text, `support` texts, `label`, `kind`) to locator pairs.

    Support sentences are located inside the passage (the first occurrence after the passage start), so a sentence
    that occurs twice in an article points at the copy the writer cited.
    """
    pairs: list[Pair] = []
    problems: list[str] = []
    seen: set[str] = set()
    for n, rec in enumerate(records, start=1):
        doc, claim = str(rec["doc_id"]), str(rec["claim"]).strip()
        text = texts.get(doc)
        if text is None:
            problems.append(f"record {n}: unknown article {doc!r}")
            continue
        passage = Locator.find(doc, text, rec["passage"])
        if passage is None:
            problems.append(f"record {n}: passage not verbatim in {doc}")
            continue
        support: list[Locator] = []
        for sentence in rec["support"]:
            offset = text.find(sentence, passage.start, passage.end)
            if offset < 0:
                problems.append(f"record {n}: support sentence not inside the passage: {sentence[:50]!r}")
                break
            support.append(Locator.of(doc, text, offset, offset + len(sentence)))
        else:
            if rec["kind"] not in KINDS or rec["label"] not in ("supported", "unsupported"):
                problems.append(f"record {n}: bad label/kind {rec['label']}/{rec['kind']}")
                continue
            pid = pair_id(doc, claim)
            if pid in seen:
                continue  # the same claim written twice: keep the first
            seen.add(pid)
            pairs.append(Pair(pid, claim, rec["label"], rec["kind"], passage, tuple(support), split_of(doc)))
    if problems:
        raise VerificationSetError(problems[0] if len(problems) == 1 else "; ".join(problems[:10]))
    return pairs


def parse_pairs(lines: Iterable[str], source: str = "<pairs>") -> list[Pair]:
    """Pairs from the repository file's lines; every malformed line is an error naming its line number."""
    pairs: list[Pair] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
            pair = Pair(
                id=str(obj["id"]),
                claim=str(obj["claim"]),
                label=str(obj["label"]),
                kind=str(obj["kind"]),
                passage=Locator.from_dict(obj["passage"]),
                support=tuple(Locator.from_dict(s) for s in obj["support"]),
                split=str(obj["split"]),
            )
        except (json.JSONDecodeError, KeyError, TypeError, LocatorError) as exc:
            raise VerificationSetError(f"{source}:{number}: {exc}") from None
        if pair.kind not in KINDS or pair.label not in ("supported", "unsupported") or pair.split not in SPLITS:
            raise VerificationSetError(f"{source}:{number}: bad label, kind or split")
        pairs.append(pair)
    return pairs


def load_pairs(path: str | Path = DATASET) -> list[Pair]:
    with Path(path).open(encoding="utf-8") as handle:
        return parse_pairs(handle, str(path))


# --- scoring ---------------------------------------------------------------------------------------------------------
class CachedEmbedder:
    """Memoises sentence vectors: the set repeats passages, and tuning re-scores it many times."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._cache: dict[str, list[float]] = {}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            for text, vector in zip(missing, self._inner.embed_documents(missing), strict=True):
                self._cache[text] = list(np.asarray(vector, dtype=np.float32))
        return [self._cache[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


@dataclass
class Outcome:
    pair: Pair
    shown: bool
    check: SentenceCheck | None


@dataclass
class Tally:
    """Counts for one group of pairs: true claims kept and false claims shown."""

    true_total: int = 0
    true_kept: int = 0
    false_total: int = 0
    false_shown: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> [shown, total]

    def add(self, outcome: Outcome) -> None:
        counts = self.by_kind.setdefault(outcome.pair.kind, [0, 0])
        counts[0] += int(outcome.shown)
        counts[1] += 1
        if outcome.pair.supported:
            self.true_total += 1
            self.true_kept += int(outcome.shown)
        else:
            self.false_total += 1
            self.false_shown += int(outcome.shown)

    def summary(self) -> dict[str, Any]:
        shown = self.true_kept + self.false_shown
        caught = self.false_total - self.false_shown
        dropped = caught + self.true_total - self.true_kept
        return {
            "pairs": self.true_total + self.false_total,
            "true_kept": _rate(self.true_kept, self.true_total),
            "false_shown": _rate(self.false_shown, self.false_total),
            # Of the sentences shown to users, how many are true; of the fabrications, how many were caught.
            "precision_shown": _rate(self.true_kept, shown),
            "fabrication_recall": _rate(caught, self.false_total),
            "fabrication_precision": _rate(caught, dropped),
            "by_kind": {
                kind: {"n": total, "shown": _rate(shown_, total)}
                for kind in KINDS
                if kind in self.by_kind
                for shown_, total in [self.by_kind[kind]]
            },
        }


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def pair_chunk(pair: Pair, articles: Mapping[str, Article]) -> RetrievedChunk:
    """The cited passage as a retrieved chunk of its article (title included, as retrieval gives it)."""
    texts = {doc: a.text for doc, a in articles.items()}
    text = pair.passage.resolve(texts)
    article = articles[pair.passage.doc]
    return RetrievedChunk(
        chunk_id=f"{pair.passage.doc}#{pair.passage.start}",
        article_id=pair.passage.doc,
        title=article.title,
        source=pair.passage.doc,
        text=text,
        start=pair.passage.start,
        end=pair.passage.end,
        position=0,
    )


def cited_draft(claim: str) -> str:
    """The claim as a model writes it, citing passage [1] before its full stop."""
    claim = claim.strip()
    body = claim[:-1] if claim[-1:] in ".!?" else claim
    return f"{body} [1]."


def judge_pairs(
    verifier: CitationVerifier, pairs: Sequence[Pair], articles: Mapping[str, Article]
) -> Iterator[Outcome]:
    """Run every pair through the verifier exactly as an LLM answer's sentence would be."""
    for pair in pairs:
        result = verifier.verify(cited_draft(pair.claim), [pair_chunk(pair, articles)])
        check = result.checks[0] if result.checks else None
        yield Outcome(pair, bool(check and check.kept), check)


def score(
    verifier: CitationVerifier, pairs: Sequence[Pair], articles: Mapping[str, Article]
) -> tuple[dict[str, Any], list[Outcome]]:
    """Figures overall and per split (each with per-kind rates), and every pair's outcome."""
    outcomes = list(judge_pairs(verifier, pairs, articles))
    tallies: dict[str, Tally] = {"all": Tally()}
    for outcome in outcomes:
        tallies["all"].add(outcome)
        tallies.setdefault(outcome.pair.split, Tally()).add(outcome)
    order = ["all", *(s for s in SPLITS if s in tallies)]
    return {name: tallies[name].summary() for name in order}, outcomes


def passes(summary: Mapping[str, Any], overall: float = 0.05, per_kind: float = 0.10, kept: float = 0.95) -> bool:
    """The issue's bar: false claims shown <= 5% overall and <= 10% per kind, true claims kept >= 95%."""
    unsupported = [v["shown"] for k, v in summary["by_kind"].items() if k in UNSUPPORTED_KINDS]
    return (
        (summary["false_shown"] or 0.0) <= overall
        and all((s or 0.0) <= per_kind for s in unsupported)
        and (summary["true_kept"] or 0.0) >= kept
    )


def below_floors(summary: Mapping[str, Any], floors: Mapping[str, Any]) -> list[str]:
    """Regression floors (`evaluation/thresholds-verification.json`): what falls below them, empty when nothing.
    Floors sit under the measured test figures to catch a change that makes the verifier worse; they are not the
    issue's bar (`passes`)."""
    problems = []
    if summary.get("true_kept") is not None and summary["true_kept"] < floors.get("min_true_kept", 0.0):
        problems.append(f"true kept {summary['true_kept']:.1%} < {floors['min_true_kept']:.1%}")
    if summary.get("false_shown") is not None and summary["false_shown"] > floors.get("max_false_shown", 1.0):
        problems.append(f"false shown {summary['false_shown']:.1%} > {floors['max_false_shown']:.1%}")
    return problems


def format_table(summary: Mapping[str, Any], title: str) -> str:
    """A Markdown table: per kind, n and the rate that matters (kept for true kinds, shown for false ones)."""
    lines = [f"**{title}**: {summary['pairs']} pairs", "", "| kind | label | n | rate |", "|---|---|---:|---:|"]
    for kind, row in summary["by_kind"].items():
        supported = kind in SUPPORTED_KINDS
        what = "true kept" if supported else "false shown"
        lines.append(f"| {kind} | {what} | {row['n']} | {_pct(row['shown'])} |")
    lines.append(f"| **all true** | true kept | | **{_pct(summary['true_kept'])}** |")
    lines.append(f"| **all false** | false shown | | **{_pct(summary['false_shown'])}** |")
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def describe_errors(outcomes: Iterable[Outcome]) -> Iterator[str]:
    """One line per wrong verdict: a false claim shown, or a true claim dropped with the reason."""
    for o in outcomes:
        if o.shown != o.pair.supported:
            what = "SHOWN" if o.shown else f"DROPPED ({o.check.reason if o.check else 'no claim'})"
            yield f"{o.pair.split:5s} {o.pair.kind:20s} {what}: {o.pair.claim}"


def make_verifier(settings: Any = None) -> CitationVerifier:
    """The verifier `newsdesk` uses, with the configured embedding model (memoised across the set's pairs)."""
    from newsdesk.settings import Settings
    from retrieval.embeddings import make_embedder

    embedder = CachedEmbedder(make_embedder(settings if settings is not None else Settings()))
    return CitationVerifier(embedder)  # type: ignore[arg-type]


def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.verification_set")
    sub = parser.add_subparsers(dest="command", required=True)
    conv = sub.add_parser("convert", help="raw writer files -> the repository file (locators, no article text)")
    conv.add_argument("raw", nargs="+", type=Path)
    conv.add_argument("--corpus", required=True, type=Path)
    conv.add_argument("--out", type=Path, default=DATASET)
    sc = sub.add_parser("score", help="run the verifier on the set")
    sc.add_argument("--corpus", required=True, type=Path)
    sc.add_argument("--dataset", type=Path, default=DATASET)
    sc.add_argument("--split", choices=SPLITS)
    sc.add_argument("--show-errors", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "convert":
        records = [json.loads(line) for path in args.raw for line in path.open(encoding="utf-8") if line.strip()]
        articles = load_corpus(args.corpus, {str(r["doc_id"]) for r in records})
        pairs = convert_raw(records, {doc: a.text for doc, a in articles.items()})
        with args.out.open("w", encoding="utf-8") as handle:
            for pair in pairs:
                handle.write(json.dumps(pair.to_dict(), ensure_ascii=False) + "\n")
        sys.stdout.write(f"wrote {len(pairs)} pairs to {args.out}\n")
        return 0
    pairs = load_pairs(args.dataset)
    if args.split:
        pairs = [p for p in pairs if p.split == args.split]
    articles = load_corpus(args.corpus, {p.passage.doc for p in pairs})
    summaries, outcomes = score(make_verifier(), pairs, articles)
    if args.show_errors:
        for line in describe_errors(outcomes):
            sys.stdout.write(line + "\n")
    for name, summary in summaries.items():
        sys.stdout.write(format_table(summary, name) + "\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(_main())
