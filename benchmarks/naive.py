"""The pipeline a tutorial would write, as the baseline: split by characters, embed with HuggingFaceEmbeddings,
`Chroma.from_documents`. Same bundled model, same corpus, its own process (run by `benchmarks.run`).

`python -m benchmarks.naive CORPUS.jsonl PERSIST_DIR RESULT.json`
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    corpus, persist, result = (Path(a) for a in argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from newsdesk.settings import bundled_model_path

    model_path = str(bundled_model_path())
    docs = []
    with corpus.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                obj = json.loads(line)
                meta = {"id": obj["id"], "title": obj.get("title", "")}
                docs.append(Document(page_content=obj["text"], metadata=meta))
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    chunks = splitter.split_documents(docs)
    embeddings = HuggingFaceEmbeddings(model_name=model_path)
    store = Chroma.from_documents(chunks, embeddings, persist_directory=str(persist), collection_name="naive")
    count = store._collection.count()
    seconds = time.perf_counter() - started

    # Not timed: what the model actually read (sentence-transformers truncates at 256 tokens incl. [CLS]/[SEP]).
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    lengths = [len(e.ids) for e in tok.encode_batch([c.page_content for c in chunks])]
    embedded = sum(min(n, 256) for n in lengths)
    chars = sum(len(c.page_content) for c in chunks)
    source_chars = sum(len(d.page_content) for d in docs)
    result.write_text(
        json.dumps(
            {
                "articles": len(docs),
                "chunks": len(chunks),
                "vectors": count,
                "embedded_tokens": embedded,
                "truncated_chunks": sum(1 for n in lengths if n > 256),
                "duplicated_text_ratio": round(max(0.0, chars / max(1, source_chars) - 1), 4),
                "in_process_s": seconds,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
