"""What a finished `newsdesk ingest` stored, and the tokens its model read (counted afterwards, not timed).

`python -m benchmarks.ingest_stats DATA_DIR COLLECTION RECORD.txt RESULT.json`; RECORD.txt holds the texts the
embedder was given (see `benchmarks.newsdesk_cli`). Tokens are counted as the model reads them: with [CLS] and
[SEP], truncated at 256.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    data_dir, collection, record, result = Path(argv[0]), argv[1], Path(argv[2]), Path(argv[3])
    from tokenizers import Tokenizer

    from newsdesk.settings import Settings
    from retrieval.store import ArticleStore

    settings = Settings(data_dir=data_dir)
    tok = Tokenizer.from_file(str(settings.model_path / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    texts: list[str] = []
    calls = 0
    with record.open(encoding="utf-8") as fh:
        for line in fh:
            calls += 1
            texts.extend(json.loads(line))
    lengths = [len(e.ids) for e in tok.encode_batch(texts)] if texts else []

    store = ArticleStore(settings)
    infos = store.list_articles(collection)
    cat = store.catalogue(collection)
    chunk_chars = article_chars = 0
    for info in infos:
        article = store.get_article(collection, info.article_id)
        article_chars += len(article.text) if article else 0
        rows = store.get_chunks(collection, cat.chunk_ids_of(info.article_id))
        chunk_chars += sum(len(r.text) for r in rows.values())
    stats = {
        "articles": len(infos),
        "chunks": store.count_chunks(collection),
        "vectors": store.vector_count(collection),
        "embedded_texts": len(texts),
        "embed_calls": calls,
        "embedded_tokens": sum(min(n, 256) for n in lengths),
        "truncated_texts": sum(1 for n in lengths if n > 256),
        "duplicated_text_ratio": round(max(0.0, chunk_chars / max(1, article_chars) - 1), 4),
    }
    store.close()
    result.write_text(json.dumps(stats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
