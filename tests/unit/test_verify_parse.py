"""The checks that read a dependency parse (real spaCy en_core_web_sm, no mocks): who did what to whom, which
predicate a negation governs, and which place a substituted word stands in.

Each error is one a scripted model made in its source's own words, so embeddings and word overlap call it a
paraphrase; the true rewording next to it must pass the same check, because a true sentence dropped is as much a
failure as a false one shown.
"""

from __future__ import annotations

import pytest

from ingest.sentences import split_sentences
from retrieval.negation import polarity_flip
from retrieval.numbers import number_problem, quantities
from retrieval.syntax import renamed, role_swap
from retrieval.types import RetrievedChunk
from retrieval.verification import CitationVerifier, _Span, contradiction
from tests.tiny_embedder import TinyEmbedder


def verdict(claim: str, source: str) -> str | None:
    """What the verifier says of `claim` supported by `source` (one sentence, or two used together)."""
    spans = split_sentences(source)
    span = _Span(spans[0][0], spans[-1][1], tuple(spans))
    return contradiction(claim, source, span, source)


@pytest.mark.parametrize(
    ("false", "true", "source"),
    [
        (
            "Roddick beat Federer to win the Wimbledon title.",
            "Federer beat Roddick to win the Wimbledon title.",
            "Federer, who has not had a coach since he split from Lundgren, beat Roddick to win the Wimbledon title.",
        ),
        (
            "Renny Harlin was replaced by Paul Schrader.",
            "Paul Schrader was replaced by Renny Harlin.",
            "Schrader was replaced by director Renny Harlin, who made a new version of the film.",
        ),
        (
            "Harold Bloom was at a Manhattan library to honour Crown Prince Frederik.",
            "Crown Prince Frederik was at a Manhattan library to honour Harold Bloom.",
            "The pair were at a Manhattan library to honour US literary critic Harold Bloom.",
        ),
        (
            "The lawyer said the comedian was likely to sue her client.",
            "The lawyer said her client was likely to sue the comedian.",
            "The unidentified woman's lawyer said her client was likely to sue the comedian.",
        ),
        (
            "Ireland made the game safe when Murphy latched onto an inside pass from Hickie.",
            "Ireland made the game safe when Hickie latched onto an inside pass from Murphy.",
            "They made the game safe when Hickie latched onto an inside pass from Murphy and crossed.",
        ),
    ],
)
def test_names_that_trade_roles_are_dropped_and_the_true_reading_kept(false: str, true: str, source: str) -> None:
    assert role_swap(false, source)
    assert (verdict(false, source) or "").startswith("swapped roles")
    assert role_swap(true, source) is None


@pytest.mark.parametrize(
    ("claim", "source"),
    [
        # Passive for active: the agent is the same.
        ("Roddick was beaten by Federer in the final.", "Federer beat Roddick in the final."),
        # Symmetric: working with someone is someone working with you.
        ("Carpenter worked with Smith on the album.", "Smith worked with Carpenter on the album."),
        # A misparsed participle ("the actor nominated for ...") moves no one.
        (
            "Dan O'Herlihy, the Irish actor nominated for best actor at the 1955 Oscars, has died.",
            "Irish actor Dan O'Herlihy, who was nominated for best actor at the 1955 Oscars, has died.",
        ),
        # Word order says "traded around 'run'"; the parse says TAV runs it in both.
        (
            "The army shut Tehran's new airport, run by TAV, hours after it opened.",
            "Consortium TAV was chosen to build and run Tehran's new airport, but the army closed it hours after it "
            "opened.",
        ),
    ],
)
def test_rewordings_that_keep_the_roles_pass(claim: str, source: str) -> None:
    assert role_swap(claim, source) is None
    assert not (verdict(claim, source) or "").startswith("swapped roles")


@pytest.mark.parametrize(
    ("claim", "source"),
    [
        (
            "The referee is expected to include the incidents in his report.",
            "The referee is not expected to include any of the incidents in his report.",
        ),
        (
            "England have already named a replacement skipper.",
            "England have yet to name a replacement skipper.",
        ),
        ("A version of the tool is available for Apple machines.", "A tool for Apple machines is not available."),
        ("Hague has ruled out a return to the front bench.", "Mr Hague does not rule out a return to the front bench."),
    ],
)
def test_a_negation_on_the_shared_predicate_is_a_flip_either_way(claim: str, source: str) -> None:
    assert polarity_flip(claim, source)
    assert polarity_flip(source, claim)


@pytest.mark.parametrize(
    ("claim", "source"),
    [
        # The negation governs a side clause the claim leaves out.
        ("Federer beat Roddick.", "Federer, who has not had a coach since May, beat Roddick."),
        # Both negate, in other words.
        (
            "Ferguson said Shevchenko's absence would not make United's task any easier.",
            "Ferguson said his side's task would not be made any easier by the absence of Shevchenko.",
        ),
        # "Did not ... until" affirms.
        ("OutKast did not score their first UK hit until 2001.", "It took until 2001 for them to score a UK hit."),
        # A title is no negation.
        ("Swank won in 1999 for Boys Don't Cry.", "She previously won in 1999 for Boys Don't Cry."),
    ],
)
def test_agreeing_polarity_is_no_flip(claim: str, source: str) -> None:
    assert polarity_flip(claim, source) is None
    assert not (verdict(claim, source) or "").startswith("the source")


def test_a_substituted_word_in_the_same_place_is_dropped_and_one_elsewhere_kept() -> None:
    source = (
        "She said reports of a slump in pre-Christmas sales were related to the growing popularity of internet sales."
    )
    false = "She said reports of a slump in sales were related to the falling popularity of internet sales."
    assert (verdict(false, source) or "").startswith("substitution")
    true = "She said reports of a slump in sales were related to the rising popularity of internet sales."
    assert verdict(true, source) is None
    pair = (
        "Williams will not quit even if his side slump to defeat by Italy at Murrayfield. That would leave the Scots "
        "as favourites to win the Wooden Spoon for the second year running."
    )
    combined = "A defeat by Italy at Murrayfield would make Scotland favourites for the Wooden Spoon for a second year."
    assert not (verdict(combined, pair) or "").startswith("substitution")


def test_a_thing_named_by_another_name_is_dropped_and_an_abbreviation_kept() -> None:
    source = "PCS leader Mark Serwotka warned last week that there could be further walkouts."
    false = "Unison leader Mark Serwotka warned last week that there could be walkouts."
    assert renamed(false, source)
    assert (verdict(false, source) or "").startswith("substitution")
    dwp = "A Department for Work and Pensions spokeswoman said the award reflects his career."
    assert verdict("A DWP spokeswoman said the award reflected his career.", dwp) is None


def test_numbers_written_the_way_news_writes_them() -> None:
    assert [q.value for q in quantities("by its 7pm GMT closing time")] == [
        q.value for q in quantities("by its closing time of 1900 GMT")
    ]
    assert [q.value for q in quantities("England's last two Six Nations games")] == [2]  # "Six Nations" is a name
    assert quantities("A Five spokesman said") == []
    pair = [
        "Sania Mirza beat US Open champion Svetlana Kuznetsova at the Dubai Championships on Tuesday.",
        "The 18-year-old Indian won 6-4 6-2 in front of a delirious crowd.",
    ]
    claim = "Eighteen-year-old Sania Mirza beat Svetlana Kuznetsova 6-4 6-2 at the Dubai Championships on Tuesday."
    assert number_problem(claim, pair) is None
    assert number_problem(claim.replace("6-2", "6-3"), pair)  # a score changed is still caught


def name_reason(claim: str, passage: str) -> str:
    verifier = CitationVerifier(TinyEmbedder())  # type: ignore[arg-type]
    chunk = RetrievedChunk("c1", "a1", "Story", "bbc", passage, 0, len(passage), 0, 1.0)
    result = verifier.verify(f"{claim} [1]", [chunk])
    return result.checks[0].reason or ""


def test_names_a_model_writes_in_full_or_as_a_demonym_are_in_the_passage() -> None:
    iran = "Iran's parliament voted by a large majority to cut Turkcell's stake from 70% to 49%."
    assert "name not in passage" not in name_reason(
        "The Iranian parliament voted to cut Turkcell's stake to 49%.", iran
    )
    pavey = "The 32-year-old will race alongside Olympic finalist Pavey in the women's 8km race."
    assert "name not in passage" not in name_reason("Yelling will race alongside Jo Pavey in the 8km race.", pavey)
    # A name the passage never gives is still an invention.
    assert "name not in passage" in name_reason("Yelling will race alongside Jo Smith in the 8km race.", pavey)
