"""Each metric on small hand-made cases whose values are worked out by hand in the comments."""

from __future__ import annotations

import math

import pytest

from evaluation import metrics as m


def test_fold_text_maps_typographic_quotes_whitespace_and_case() -> None:
    assert m.fold_text("Ukraine’s  “Irreversible”\u00a0path…") == 'ukraine\'s "irreversible" path...'
    assert m.fold_text("A\n\tB", case=False) == "A B"


def test_contains_phrase_respects_word_edges() -> None:
    assert m.contains_phrase("Some nations, including the UK, approved", "UK")
    assert not m.contains_phrase("Ukraine approved", "UK")  # not inside a word
    assert not m.contains_phrase("sixty points", "six")
    assert m.contains_phrase("It rose 76% to $1.13bn.", "76%")
    assert m.contains_phrase("would save £6m a year", "£6m")
    assert m.contains_phrase("he said “we need to lift all the limitations”", "LIFT ALL THE LIMITATIONS")
    assert m.contains_phrase("There’s no doubt", "there's no doubt")  # typographic apostrophe folded
    assert not m.contains_phrase("anything", "")


def test_hit_and_mrr_rank_distinct_articles_within_k() -> None:
    retrieved = ["a", "a", "b", "gold", "c"]
    assert m.hit_at_k("gold", retrieved, 5) == 1.0
    assert m.hit_at_k("gold", retrieved, 3) == 0.0  # gold is the 4th chunk
    # distinct articles of the top 5 chunks: a, b, gold -> rank 3
    assert m.mrr_at_k("gold", retrieved, 5) == pytest.approx(1 / 3)
    assert m.mrr_at_k("gold", retrieved, 3) == 0.0
    assert m.mrr_at_k("a", retrieved, 5) == 1.0


def test_evidence_recall_folds_quotes_and_whitespace() -> None:
    evidence = "“The right to self defense includes also the right,” Mr. Stoltenberg said."
    chunk = 'Intro.\n"The right to self defense   includes also the right," Mr. Stoltenberg said. More.'
    assert m.evidence_recall(evidence, ["unrelated", chunk]) == 1.0
    assert m.evidence_recall(evidence, ["unrelated", "Mr. Stoltenberg said."]) == 0.0
    assert m.evidence_recall(evidence, []) == 0.0


def test_accuracy_needs_one_must_contain_string() -> None:
    assert m.accuracy("They promised 40 Billion euros [1].", ["40 billion", "forty billion"]) == 1.0
    assert m.accuracy("They promised a lot [1].", ["40 billion"]) == 0.0


def test_token_f1_known_values() -> None:
    # prediction tokens: at least 40 billion euros (the "the"/"a" articles are dropped, markers removed)
    # reference tokens: 40 billion euros next year -> common 3; P = 3/5, R = 3/5, F1 = 0.6
    assert m.token_f1("At least 40 billion euros [1].", "40 billion euros next year") == pytest.approx(0.6)
    assert m.token_f1("The United States.", "United States") == 1.0
    assert m.token_f1("nothing in common", "totally different") == 0.0
    # numbers keep their inner punctuation: "1.13bn" is one token, unlike "1" "13bn"
    assert m.normalize_tokens("jumped to $1.13bn, or 464,000") == ["jumped", "to", "1.13bn", "or", "464,000"]


def test_citation_metrics() -> None:
    assert m.cites_article(["x", "gold"], "gold") == 1.0
    assert m.cites_article(["x"], "gold") == 0.0
    assert m.citation_precision(["gold", "x", "gold", "gold"], "gold") == 0.75
    assert m.citation_precision([], "gold") is None


def test_quote_faithfulness_is_exact_substring_of_the_right_article() -> None:
    texts = {"a": "He said it is “crazy” that forces cannot retaliate.", "b": "Other text."}
    cites = [
        ("a", "He said it is “crazy” that forces cannot retaliate."),  # verbatim
        ("a", 'He said it is "crazy" that forces cannot retaliate.'),  # straight quotes: not verbatim
        ("b", "He said"),  # wrong article
        ("missing", "anything"),  # article not in the store
    ]
    assert m.quote_faithfulness(cites, texts.get) == 0.25
    assert m.quote_faithfulness([], texts.get) is None
    assert not m.quote_is_verbatim("", "abc")


def test_split_claims_cuts_at_markers() -> None:
    claims = m.split_claims("Mr. Stoltenberg said A [1]. B and C [2][3] Then D.")
    assert claims == [
        m.Claim("Mr. Stoltenberg said A", (1,)),
        m.Claim("B and C", (2, 3)),
        m.Claim("Then D.", ()),
    ]
    assert m.split_claims("“Quote.” [1] [2]") == [m.Claim("“Quote.”", (1, 2))]
    assert m.split_claims("") == []


def test_lexical_overlap_counts_content_words() -> None:
    # content words of the claim: stoltenberg, backed, strikes -> 2 of 3 in the evidence
    assert m.lexical_overlap("Stoltenberg backed the strikes", "Mr. Stoltenberg said strikes are lawful") == (
        pytest.approx(2 / 3)
    )
    assert m.lexical_overlap("he said it", "anything") == 1.0  # no content words: nothing to contradict


def test_support_combines_cosine_and_overlap_against_the_threshold() -> None:
    vectors = {
        "Stoltenberg strongly backed strikes": [1.0, 0.0],
        "Putin is tired": [1.0, 0.0],
        "Stoltenberg backed strikes on Russia": [0.6, 0.8],
    }

    def embed(texts: list[str]) -> list[list[float]]:
        return [vectors[t] for t in texts]

    quotes = {1: "Stoltenberg backed strikes on Russia"}
    judged = m.support("Stoltenberg strongly backed strikes [1] Putin is tired [1] Also this.", quotes, embed)
    # claim 1: cosine 0.6, overlap 3/4 (not "strongly") -> 0.5*0.6 + 0.5*0.75 = 0.675 >= 0.6: supported
    assert judged[0].score == pytest.approx(0.675) and judged[0].supported
    # claim 2: cosine 0.6, overlap 0/2 (putin, tired) -> 0.3 < 0.6: unsupported
    assert judged[1].score == pytest.approx(0.3) and not judged[1].supported
    # claim 3 cites nothing: 0
    assert judged[2].score == 0.0 and not judged[2].supported
    assert m.support_rate(judged) == pytest.approx(1 / 3)
    assert m.support_rate([]) is None
    # a marker that names no citation counts as unsupported
    assert not m.support("Stoltenberg strongly backed strikes [7]", quotes, embed)[0].supported


def test_cosine() -> None:
    assert m.cosine([1, 0], [0, 1]) == 0.0
    assert m.cosine([3, 4], [3, 4]) == pytest.approx(1.0)
    assert m.cosine([0, 0], [1, 1]) == 0.0


def test_abstention_rates() -> None:
    # (answerable, abstained): 2 unanswerable of which 1 declined; 4 answerable of which 1 declined
    outcomes = [(False, True), (False, False), (True, False), (True, True), (True, False), (True, False)]
    assert m.abstention_rates(outcomes) == {"correct_abstention": 0.5, "false_abstention": 0.25}
    assert m.abstention_rates([(True, False)]) == {"correct_abstention": None, "false_abstention": 0.0}


def test_percentile_interpolates_like_numpy() -> None:
    values = [10.0, 20.0, 30.0, 40.0]
    assert m.percentile(values, 50) == 25.0  # between 20 and 30
    assert m.percentile(values, 95) == pytest.approx(38.5)  # rank 2.85 -> 30 + 0.85 * 10
    assert m.percentile([7.0], 95) == 7.0
    assert m.percentile([], 50) is None
    with pytest.raises(ValueError):
        m.percentile(values, 101)


def test_aggregate_overall_and_per_kind_skip_metrics_that_do_not_apply() -> None:
    rows = [
        {"accuracy": 1.0, "hit_at_k": 1.0, "correct_abstention": None},
        {"accuracy": 0.0, "hit_at_k": 0.0, "correct_abstention": None},
        {"accuracy": 1.0, "hit_at_k": None, "correct_abstention": 1.0},
    ]
    result = m.aggregate(rows, ["fact", "fact", "unanswerable"], [100.0, 300.0, None])
    assert result.overall["accuracy"] == pytest.approx(2 / 3)
    assert result.overall["hit_at_k"] == 0.5
    assert result.overall["correct_abstention"] == 1.0
    assert result.overall["latency_p50_ms"] == 200.0
    assert result.by_kind["fact"]["accuracy"] == 0.5
    assert result.by_kind["unanswerable"]["hit_at_k"] is None
    assert result.by_kind["unanswerable"]["latency_p95_ms"] is None
    assert result.by_kind["fact"]["n"] == 2
    assert math.isclose(result.by_kind["fact"]["latency_p95_ms"] or 0, 290.0)
    with pytest.raises(ValueError):
        m.aggregate(rows, ["fact"], [1.0])


def test_support_of_a_verbatim_claim_needs_no_embedding() -> None:
    def refuse(texts: list[str]) -> list[list[float]]:
        raise AssertionError(f"embedding asked for {texts}")

    quotes = {1: "“The right to self defense includes also the right,” Mr. Stoltenberg said."}
    judged = m.support('"The right to self defense includes also the right," [1]', quotes, refuse)
    assert judged[0].supported and judged[0].score == 1.0
