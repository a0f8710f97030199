"""Build the BBC question bank from hand-written question files: evidence becomes locators, questions get splits.

Question writers work from the corpus file and copy each evidence sentence verbatim into a working file that stays
outside the repository. This turns such files into `evaluation/datasets/bbc_bank.jsonl`, which holds only
locators (article id, offsets, hash) so no sentence of the corpus enters the repository, and assigns every
question the split of its article (`evaluation.splits.split_of`; unanswerable questions use the article they were
written from, `about`).

    python -m evaluation.build_bank --corpus ../shared/corpora/bbc-news-2225.jsonl \
        --out evaluation/datasets/bbc_bank.jsonl raw1.jsonl ...
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from evaluation.dataset import load_corpus_texts, parse_dataset
from evaluation.locators import Locator
from evaluation.splits import split_of

_TOKEN = re.compile(r"\w+")


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _TOKEN.findall(text.lower())
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def near_copies(
    doc: str,
    texts: Mapping[str, str],
    evidence: list[str],
    min_share: float = 0.8,
    cache: dict[str, set[tuple[str, ...]]] | None = None,
) -> list[str]:
    """Other articles that are copies of `doc` for this question: each evidence sentence's word trigrams are (at
    least `min_share`) in them. The corpus holds re-filed versions of some stories with small edits ("12 hour's"
    / "12 hours'"), and quoting a copy answers the question just as well."""
    wanted = [_shingles(e) for e in evidence]
    out = []
    for other, text in texts.items():
        if other == doc:
            continue
        grams = None
        for sentence in wanted:
            if not sentence:
                continue
            if grams is None:
                grams = cache.get(other) if cache is not None else None
                if grams is None:
                    grams = _shingles(text)
                    if cache is not None:
                        cache[other] = grams
            if len(sentence & grams) < min_share * len(sentence):
                break
        else:
            if grams is not None:
                out.append(other)
    return sorted(out)


def convert(rows: Iterable[Mapping[str, Any]], texts: Mapping[str, str], prefix: str = "bbcq") -> list[dict[str, Any]]:
    """Dataset lines (with locators and splits) for raw question rows whose `evidence` is a list of sentences."""
    out: list[dict[str, Any]] = []
    shingles: dict[str, set[tuple[str, ...]]] = {}
    for number, row in enumerate(rows, start=1):
        doc = row.get("doc_id")
        about = row.get("about") or doc
        locators: list[dict[str, Any]] = []
        for sentence in row.get("evidence") or []:
            loc = Locator.find(str(doc), texts.get(str(doc), ""), sentence)
            if loc is None:
                raise ValueError(f"question {number}: evidence not verbatim in {doc}: {sentence[:60]!r}")
            locators.append(loc.to_dict())
        locators.sort(key=lambda loc: int(loc["start"]))
        # The corpus holds near-identical copies of some stories: an answer quoting the copy is just as right.
        evidence = list(row.get("evidence") or [])
        copies = near_copies(str(doc), texts, evidence, cache=shingles) if evidence else []
        line: dict[str, Any] = {
            "id": f"{prefix}{number:03d}",
            "question": row["question"],
            "answer": row.get("answer"),
            "must_contain": list(row.get("must_contain") or []),
            "doc_id": doc,
            "evidence": None,
            "kind": row["kind"],
            "split": split_of(str(about)),
            "about": about,
        }
        if locators:
            line["evidence_at"] = locators
        if locators and copies:
            line["also_in"] = copies
        if row.get("near_miss"):
            line["near_miss"] = True
        out.append(line)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("raw", nargs="+", type=Path, help="hand-written question files (evidence as sentences)")
    parser.add_argument("--corpus", type=Path, required=True, help="the BBC corpus JSONL (id, text)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--prefix", default="bbcq", help="question id prefix")
    args = parser.parse_args(argv)
    texts = load_corpus_texts(args.corpus)
    lines: list[dict[str, Any]] = []
    for path in args.raw:  # ids are "<prefix>-<file stem>-<line>", stable while writers append to their files
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        lines += convert(rows, texts, f"{args.prefix}-{path.stem}-")
    parse_dataset([json.dumps(line) for line in lines], source=str(args.out))  # validates before writing
    args.out.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    counts: dict[str, int] = {}
    for line in lines:
        counts[line["split"]] = counts.get(line["split"], 0) + 1
    sys.stdout.write(f"{args.out}: {len(lines)} questions; by split {counts}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
