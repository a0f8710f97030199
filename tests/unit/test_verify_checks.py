"""The contradiction checks one by one: polarity, roles, substitutions, invented clauses (no model needed).

Each case is an error a scripted model made in words close to its source, where embeddings and word overlap say
"paraphrase"; the paired true rewording must pass the same check.
"""

from __future__ import annotations

import pytest

from retrieval.clauses import unsupported_clause, unsupported_consequence
from retrieval.polarity import conflict
from retrieval.roles import crossed, swapped
from retrieval.substitutions import substituted


@pytest.mark.parametrize(
    ("claim", "source"),
    [
        ("A huge amount of rugby was played.", '"There was not a huge amount of rugby played."'),
        ("X is clearly the favourite to win.", "There is no clear favourite to win."),
        ("He is competing with the backing of Lottery funding.", "He is competing without Lottery funding."),
        ("Roddick explained the reason for the split.", "Roddick did not give a reason for the split."),
        ("The council did not approve the budget.", "The council approved the budget on Tuesday."),
        (
            "Crystal Cruises has committed to the technology.",
            "Crystal Cruises has not yet committed to the technology.",
        ),
        ("The BPI found no shortage of independent music to download.", "The BPI found a lack of independent music."),
    ],
)
def test_flipped_polarity_is_a_conflict(claim: str, source: str) -> None:
    assert conflict(claim, source)


@pytest.mark.parametrize(
    ("claim", "source"),
    [
        # A negated side clause the claim leaves out.
        ("Federer beat Roddick to win Wimbledon.", "Federer, who has not had a coach since May, beat Roddick."),
        # Both negate the same thing, in another order.
        (
            "Shevchenko's absence would not make United's task any easier.",
            "His side's task would not be made any easier by the absence of Shevchenko.",
        ),
        ("OutKast did not score a UK hit until 2001.", "It took until 2001 for the pair to score a UK hit."),
        ("There is no doubt Ukraine may use the weapons.", "There is no doubt that Ukraine may use the weapons."),
        ("Nobody was hurt in the floods.", "Emergency services said no one was injured."),
        (
            "He was perhaps less driven by politics than he believed.",
            '"Maybe I wasn\'t as driven by politics," he said.',
        ),
    ],
)
def test_same_polarity_in_other_words_is_no_conflict(claim: str, source: str) -> None:
    assert conflict(claim, source) is None


@pytest.mark.parametrize(
    ("claim", "source"),
    [
        ("Roddick beat Federer in the final.", "Federer, who has no coach, beat Roddick in the final."),
        (
            "Martin Corry delivered a superb cross-kick for Healey to score.",
            "Healey delivered a superb cross-kick for Martin Corry to score.",
        ),
        (
            "Mr Tyndall, from Burnley, made a speech in Brighton.",
            "Mr Tyndall, from Brighton, made a speech in Burnley.",
        ),
        ("At the premiere Meryl Streep grabbed Carrey.", "The actor grabbed co-star Meryl Streep."),
    ],
)
def test_names_that_trade_roles_are_caught(claim: str, source: str) -> None:
    assert swapped(claim, source)


@pytest.mark.parametrize(
    ("claim", "source"),
    [
        ("Federer was beaten by Roddick in the final.", "Roddick beat Federer in the final."),
        ("Roddick lost to Federer in the final.", "Federer beat Roddick in the final."),
        ("SonyBMG will release One Night next week.", "One Night will be released next week, says SonyBMG."),
        ("Chelsea beat Arsenal 2-1 on Sunday, Wenger said.", "Wenger said Chelsea beat Arsenal 2-1 on Sunday."),
    ],
)
def test_same_roles_in_another_order_are_no_swap(claim: str, source: str) -> None:
    assert swapped(claim, source) is None


@pytest.mark.parametrize(
    ("claim", "source"),
    [
        ("He was charged under the Terrorism Act.", "He was charged under the Public Order Act."),
        ("Sales had started to slow.", "Sales were accelerating."),
        ("About 10,000 phones are stolen every week.", "About 10,000 phones are stolen every month."),
        ("Vodafone offers a free syncing service.", "O2 also offers a free syncing service."),
        ("Profits fell sharply in the last quarter.", "Profits rose sharply in the last quarter."),
        ("Google's pages will link to the online store eBay.", "Google's pages will link to the online store Amazon."),
        ("Shadow health secretary Tim Collins said so.", "Tim Collins, the shadow education secretary, said so."),
    ],
)
def test_a_substituted_word_is_caught(claim: str, source: str) -> None:
    assert substituted(claim, source)


def test_one_entity_by_two_names_is_no_substitution() -> None:
    passage = "Prime Minister Edward Heath met Jeremy Thorpe."
    assert (
        substituted("Heath told the nation he was resigning.", "Sir Edward told the nation he was resigning.", passage)
        is None
    )
    department = "A Department for Work and Pensions spokeswoman said the award was deserved."
    assert substituted("A DWP spokeswoman said the award was deserved.", department, department) is None


def test_an_invented_consequence_is_caught_and_a_rewording_is_not() -> None:
    source = "The company has been accused of distributing illegal drugs to elite athletes."
    assert unsupported_clause(
        "The company was accused of supplying illegal drugs to athletes, which led to its closure by regulators.",
        source,
    )
    assert unsupported_clause("The company stands accused of giving illegal drugs to elite athletes.", source) is None


@pytest.mark.parametrize(
    ("claim", "source"),
    [
        (
            "Million Dollar Baby has 11 nominations while The Aviator has seven.",
            "Million Dollar Baby has seven nominations while The Aviator has 11.",
        ),
        (
            "Brent crude gained $1.64 to $47.10, while US light crude rose $1.32 to $44.45.",
            "US light crude rose $1.64 to $47.10, while Brent crude gained $1.32 to $44.45.",
        ),
        (
            "Bruce Willis's family comedy The Pacifier fell to second, while Vin Diesel's movie Hostage opened fourth.",
            "Vin Diesel's family comedy The Pacifier fell to second. New Bruce Willis movie Hostage opened fourth.",
        ),
        (
            "Rijkaard says Frisk greeted him and apologised.",
            '"Frisk says Rijkaard greeted him and apologised," Gaillard said.',
        ),
        (
            "It was good to have Gethin's experience alongside Mefin.",
            "It is good to have Mefin's experience and Gethin.",
        ),
    ],
)
def test_names_or_figures_bound_to_other_words_are_caught(claim: str, source: str) -> None:
    assert crossed(claim, source)


@pytest.mark.parametrize(
    ("claim", "source"),
    [
        ("The tries went to Murphy and Stringer.", "The tries went to Stringer and Murphy."),
        ("Ericsson made a 10.8bn kronor loss in 2003.", "Ericsson made a loss of 10.8bn kronor in 2003."),
        ("SonyBMG will release One Night next week.", "One Night will be released next week by SonyBMG."),
        (
            "Venus Williams could face Davenport in the quarter-finals.",
            "Davenport could meet Venus Williams in the quarter-finals.",
        ),
    ],
)
def test_the_same_bindings_in_another_order_are_no_swap(claim: str, source: str) -> None:
    assert crossed(claim, source) is None


def test_a_cause_the_source_does_not_state_is_invented() -> None:
    source = "The company has been accused of distributing illegal drugs to elite athletes."
    assert unsupported_consequence("It was accused of supplying drugs to athletes, which led to its closure.", source)
    assert unsupported_consequence("Canada began a moratorium, a move which prompted Germany to act.", source)
    forced = "Protests over water charges forced the government to cancel the contract."
    assert unsupported_consequence("Mass protests forced the government to cancel the contract.", forced) is None
    assert unsupported_consequence("The company was accused of supplying drugs to athletes.", source) is None
