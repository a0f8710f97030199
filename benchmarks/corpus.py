"""Benchmark inputs: a JSONL corpus (id, title, text), a small generated one for the smoke run, and questions.

The smoke corpus is generated from the sample article the project ships, shuffled into many short articles, so CI
needs nothing outside the repository. Questions are made from the corpus itself (titles and sentences), so they
have real answers in the collection and none is repeated (the query-vector cache never hides embedding cost).
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks.procs import ROOT
from newsdesk.text import FUNCTION_WORDS, REPORTING_WORDS

SAMPLE_ARTICLE = ROOT / "examples" / "articles" / "zelenskyy-nato-strikes.txt"
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{3,}")
_STOP = FUNCTION_WORDS | REPORTING_WORDS


@dataclass(frozen=True)
class CorpusArticle:
    article_id: str
    title: str
    text: str


def read_corpus(path: Path, limit: int | None = None) -> list[CorpusArticle]:
    out: list[CorpusArticle] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            obj = json.loads(line)
            out.append(CorpusArticle(str(obj["id"]), str(obj.get("title") or obj["id"]), str(obj["text"])))
            if limit and len(out) >= limit:
                break
    return out


def write_corpus(articles: list[CorpusArticle], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for a in articles:
            fh.write(json.dumps({"id": a.article_id, "title": a.title, "text": a.text}, ensure_ascii=False) + "\n")
    return path


def sentences_of(text: str) -> list[str]:
    from ingest.sentences import split_sentences

    return [text[s:e] for s, e in split_sentences(text) if len(text[s:e].split()) >= 4]


def generate_smoke_corpus(n_articles: int = 40, seed: int = 0) -> list[CorpusArticle]:
    """Short articles of shuffled sample-article sentences in paragraphs, like a small news feed."""
    rng = random.Random(seed)
    pool = sentences_of(SAMPLE_ARTICLE.read_text(encoding="utf-8"))
    out = []
    for i in range(n_articles):
        picked = rng.sample(pool, k=min(len(pool), rng.randint(8, 20)))
        paragraphs = [" ".join(picked[j : j + 3]) for j in range(0, len(picked), 3)]
        title = " ".join(_WORD.findall(picked[0])[:8]).capitalize() or f"Article {i}"
        out.append(CorpusArticle(f"smoke-{i:03d}", title, "\n\n".join(paragraphs)))
    return out


def make_questions(articles: list[CorpusArticle], n: int, seed: int = 1) -> list[str]:
    """Distinct questions in the shapes users ask: about a story (its title) or a detail (words of a sentence)."""
    rng = random.Random(seed)
    questions: dict[str, None] = {}
    attempts = 0
    while len(questions) < n and attempts < n * 50:
        attempts += 1
        art = rng.choice(articles)
        if rng.random() < 0.4:
            q = f"What happened: {art.title.rstrip('.?!')}?"
        else:
            sents = sentences_of(art.text)
            if not sents:
                continue
            words = [w for w in _WORD.findall(rng.choice(sents)) if w.lower() not in _STOP]
            if len(words) < 3:
                continue
            start = rng.randrange(0, max(1, len(words) - 4))
            topic = " ".join(words[start : start + rng.randint(3, 5)])
            q = rng.choice(["What did they say about {}?", "Who is involved in {}?", "What is known about {}?"])
            q = q.format(topic)
        questions.setdefault(q, None)
    return list(questions)


def iter_sentences(articles: list[CorpusArticle]) -> Iterator[str]:
    for a in articles:
        yield from sentences_of(a.text)


def convert_bbc_folder(root: Path) -> Iterator[dict[str, str]]:
    """The raw BBC News dataset (`<root>/<category>/NNN.txt`, title on the first line) as corpus rows.

    Ids are `bbc-<category>-NNN`, the ones `evaluation/datasets/bbc.jsonl` refers to. The raw files are Latin-1.
    """
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in sorted(folder.glob("*.txt")):
            raw = path.read_bytes().decode("latin-1").replace("\r\n", "\n")
            title, _, body = raw.strip().partition("\n")
            yield {
                "id": f"bbc-{folder.name}-{path.stem}",
                "category": folder.name,
                "title": title.strip(),
                "text": body.strip(),
            }


def _main(argv: list[str]) -> int:
    """`python -m benchmarks.corpus BBC_FOLDER > corpus.jsonl`."""
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        sys.stderr.write("usage: python -m benchmarks.corpus BBC_FOLDER > bbc-news-2225.jsonl\n")
        return 2
    for row in convert_bbc_folder(Path(argv[0])):
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
