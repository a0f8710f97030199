"""The verification set's file format, converter and scorer, on a small hand-written article (no model, no corpus).

The real set's passages are locators into the BBC corpus, which is not in the repository; these tests build the
same records over inline text, so they run anywhere.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation.locators import Locator
from evaluation.splits import split_of
from evaluation.verification_set import (
    Article,
    VerificationSetError,
    convert_raw,
    format_table,
    load_corpus,
    parse_pairs,
    passes,
    score,
)
from retrieval.types import RetrievedChunk
from retrieval.verification import CitationVerifier
from tests.tiny_embedder import TinyEmbedder

TEXT = (
    "Council backs bike lanes\n\n"
    "The city council approved a budget of 12 million dollars for new bicycle lanes on Tuesday. "
    "Mayor Ana Ruiz said the lanes would be finished by 2026. "
    "Opposition councillors voted against the plan, calling it too expensive."
)
PASSAGE = TEXT[TEXT.index("The city") :]
RAW = [
    {
        "claim": "The council approved 12 million dollars for bike lanes on Tuesday.",
        "doc_id": "local-001",
        "passage": PASSAGE,
        "support": ["The city council approved a budget of 12 million dollars for new bicycle lanes on Tuesday."],
        "label": "supported",
        "kind": "paraphrase",
    },
    {
        "claim": "The council approved 21 million dollars for bike lanes on Tuesday.",
        "doc_id": "local-001",
        "passage": PASSAGE,
        "support": ["The city council approved a budget of 12 million dollars for new bicycle lanes on Tuesday."],
        "label": "unsupported",
        "kind": "wrong_number",
    },
]


def test_conversion_stores_locators_not_article_text() -> None:
    pairs = convert_raw(RAW, {"local-001": TEXT})
    assert [p.label for p in pairs] == ["supported", "unsupported"]
    stored = json.dumps([p.to_dict() for p in pairs])
    assert "Mayor Ana Ruiz" not in stored  # the passage is not copied, only located
    first = pairs[0]
    assert first.passage.resolve({"local-001": TEXT}) == PASSAGE
    assert first.support[0].resolve({"local-001": TEXT}) == RAW[0]["support"][0]  # type: ignore[index]
    assert first.split == split_of("local-001") and first.id.startswith("local-001:")
    again = parse_pairs(json.dumps(p.to_dict()) for p in pairs)
    assert again == pairs


def test_conversion_refuses_text_that_is_not_in_the_article() -> None:
    bad = dict(RAW[0], passage="The city council rejected the budget.")
    with pytest.raises(VerificationSetError, match="record 1: passage not verbatim"):
        convert_raw([bad], {"local-001": TEXT})
    with pytest.raises(VerificationSetError, match="unknown article"):
        convert_raw([dict(RAW[0], doc_id="nope")], {"local-001": TEXT})


def test_malformed_lines_name_their_line() -> None:
    good = json.dumps(convert_raw(RAW[:1], {"local-001": TEXT})[0].to_dict())
    with pytest.raises(VerificationSetError, match=":2:"):
        parse_pairs([good, json.dumps({**json.loads(good), "kind": "guess"})], "set.jsonl")
    with pytest.raises(VerificationSetError, match=":1:"):
        parse_pairs(["{not json"], "set.jsonl")


def test_a_changed_corpus_is_caught_by_the_hash() -> None:
    (pair, _) = convert_raw(RAW, {"local-001": TEXT})
    with pytest.raises(ValueError, match="hash"):
        pair.passage.resolve({"local-001": TEXT.replace("12 million", "13 million")})


def test_scores_count_true_kept_and_false_shown_per_kind(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(json.dumps({"id": "local-001", "title": "Council backs bike lanes", "text": TEXT}) + "\n")
    articles = load_corpus(corpus)
    assert articles == {"local-001": Article("Council backs bike lanes", TEXT)}
    pairs = convert_raw(RAW, {"local-001": TEXT})
    summaries, outcomes = score(CitationVerifier(TinyEmbedder()), pairs, articles)  # type: ignore[arg-type]
    overall = summaries["all"]
    assert overall["true_kept"] == 1.0 and overall["false_shown"] == 0.0
    assert overall["by_kind"] == {"paraphrase": {"n": 1, "shown": 1.0}, "wrong_number": {"n": 1, "shown": 0.0}}
    assert passes(overall)
    wrong = next(o for o in outcomes if o.pair.kind == "wrong_number")
    assert wrong.check is not None and "'21 million dollars' is not in the supporting sentence" in (
        wrong.check.reason or ""
    )
    table = format_table(overall, "all")
    assert "| wrong_number | false shown | 1 | 0.0% |" in table and "| paraphrase | true kept | 1 | 100.0% |" in table


def test_the_bar_is_per_kind_as_well_as_overall() -> None:
    summary = {
        "true_kept": 0.97,
        "false_shown": 0.04,
        "by_kind": {"paraphrase": {"n": 30, "shown": 0.97}, "negation": {"n": 10, "shown": 0.2}},
    }
    assert not passes(summary)  # 4% overall, but one kind at 20%
    summary["by_kind"]["negation"]["shown"] = 0.1
    assert passes(summary)


def test_a_drop_reason_compares_each_score_with_its_own_bar() -> None:
    """The old message compared a two-sentence score with the one-sentence threshold ("0.63 < 0.52")."""
    verifier = CitationVerifier(TinyEmbedder())  # type: ignore[arg-type]
    chunk = RetrievedChunk("c1", "a1", "Local news", "a1.txt", PASSAGE, 0, len(PASSAGE), 0)
    result = verifier.verify("Pigeons nest under the old railway bridge every spring [1].", [chunk])
    reason = result.checks[0].reason or ""
    single, pair = reason.removeprefix("[1]: ").split("; ")
    assert single.startswith("best sentence scored ") and single.endswith(f"< {verifier.threshold:.2f}")
    assert pair.startswith("best two sentences scored ") and pair.endswith(f"< {verifier.threshold + 0.15:.2f}")


def test_locators_round_trip() -> None:
    loc = Locator.find("local-001", TEXT, "Mayor Ana Ruiz said the lanes would be finished by 2026.")
    assert loc is not None and Locator.from_dict(loc.to_dict()) == loc


def test_regression_floors_catch_a_worse_verifier() -> None:
    from evaluation.verification_set import below_floors

    floors = {"min_true_kept": 0.85, "max_false_shown": 0.17}
    assert below_floors({"true_kept": 0.86, "false_shown": 0.15}, floors) == []
    assert below_floors({"true_kept": 0.80, "false_shown": 0.20}, floors) == [
        "true kept 80.0% < 85.0%",
        "false shown 20.0% > 17.0%",
    ]
    shipped = json.loads((Path(__file__).parents[2] / "evaluation" / "thresholds-verification.json").read_text())
    assert 0 < shipped["min_max"]["min_true_kept"] < 1 and 0 < shipped["min_max"]["max_false_shown"] < 1
