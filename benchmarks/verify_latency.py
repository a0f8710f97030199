"""What checking an LLM draft costs: the citation verifier on drafts built from the labelled verification set.

Each draft is four claims of train and dev pairs cited to five of their passages (a fixed seed picks them), checked
exactly as an LLM answer is: once with texts the parser and the embedder have not seen, once again with both
memoised. Prints the median and p90 per draft. The BBC corpus resolves the set's locators.

`python -m benchmarks.verify_latency --corpus bbc-news-2225.jsonl [--drafts 20]`
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

from evaluation.verification_set import load_corpus, load_pairs, make_verifier, pair_chunk


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--drafts", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    pairs = [p for p in load_pairs() if p.split in ("train", "dev")]
    articles = load_corpus(args.corpus, {p.passage.doc for p in pairs})
    verifier = make_verifier()
    verifier.verify("Load the models first [1].", [pair_chunk(pairs[0], articles)])
    rng = random.Random(args.seed)
    drafts = []
    for _ in range(args.drafts):
        group = rng.sample(pairs, 5)
        draft = " ".join(f"{p.claim.rstrip('.')} [{i + 1}]." for i, p in enumerate(group[:4]))
        drafts.append((draft, [pair_chunk(p, articles) for p in group]))
    for label in ("first time", "seen before"):
        times = []
        for draft, chunks in drafts:
            started = time.perf_counter()
            verifier.verify(draft, chunks)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p90 = times[max(0, int(0.9 * len(times)) - 1)]
        print(f"{label}: median {statistics.median(times):.0f} ms, p90 {p90:.0f} ms over {len(times)} drafts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
