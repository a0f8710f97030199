"""Numbers a model restates or gets wrong: parsed with scale and unit, compared by value (no model needed)."""

from __future__ import annotations

import pytest

from retrieval.numbers import number_problem, quantities, unstated


@pytest.mark.parametrize(
    ("claim", "source"),
    [
        ("Profits rose 76 per cent.", "Profits jumped 76%."),
        ("It made $1.13 billion.", "It made $1.13bn."),
        ("Two thousand lorries queued.", "2,000 lorries queued."),
        ("Half of all street crime involves a mobile.", "50% of total street crime involves a mobile."),
        ("There will be 2bn handsets.", "There will be two billion handsets."),
        ("A third of voters agreed.", "One-third of voters agreed."),
        ("The trumpet could fetch half a million dollars.", "The trumpet could fetch $500,000."),
        ("It cost 12 million dollars.", "It cost $12 million."),
        ("South Africa visit seven days later.", "South Africa visit a week later."),  # the same span, other units
        ("The ban lasted 12 months.", "The ban lasted a year."),
        ("It was shot with a 40cm lens.", "It was shot with a 400 mm lens."),
        ("She wrote the 1970s horror classic.", "She wrote the 70s horror classic."),
        ("Just one in three schools met it.", "Only a third of schools met it."),
        ("Rates rose by one and a quarter percentage points.", "Rates rose 1.25 percentage points."),
        ("Nine out of 10 separations involve no court.", "90% of separations involve no court."),
        ("She won four grand slams in a row.", "She won her fourth consecutive grand slam."),
        ("He served more than four decades.", "He served over 40 years."),
        ("Venus Williams is the eighth seed.", "Eighth-seeded Venus Williams."),
        ("Nadal won the first singles match.", "Nadal won the opening singles."),
        ("Sophie Scholl was twenty-one.", "Scholl, 21, was arrested."),
    ],
)
def test_equal_values_written_differently_are_supported(claim: str, source: str) -> None:
    assert unstated(claim, source) == [], quantities(claim)


@pytest.mark.parametrize(
    ("claim", "source"),
    [
        ("About 58 million people own one.", "About 58% of people own one."),  # unit: a share is not a count
        ("Five million people watched.", "Eight million people watched."),
        ("Sales rose tenfold.", "Sales rose fourfold."),
        ("Sales doubled.", "Sales tripled."),
        ("A quarter of voters agreed.", "A third of voters agreed."),
        ("He is the eleventh man arrested.", "He is the twelfth man arrested."),
        ("It cost £5bn.", "It cost £5m."),
        ("It cost 12 million euros.", "It cost 12 million dollars."),
        ("The ban lasted 3 weeks.", "The ban lasted 3 days."),
        ("The ban lasted eight days.", "The ban lasted a week."),
        ("The ban lasted 12 days.", "The ban lasted a year."),  # days and months do not convert
        ("It was shot with a 40cm lens.", "It was shot with a 40 mm lens."),
        ("She wrote the 1980s horror classic.", "She wrote the 70s horror classic."),
        ("One in four schools met it.", "A third of schools met it."),
        ("It is a 10-minute drive.", "It is a 10-mile drive."),
        ("The six-date tour was cancelled.", "The five-date tour was cancelled."),
        ("Profits reached £2.1bn.", "Profits reached £1.2bn."),
    ],
)
def test_a_changed_value_or_unit_is_not_supported(claim: str, source: str) -> None:
    assert unstated(claim, source), (quantities(claim), quantities(source))


def test_words_that_look_like_numbers_are_not_numbers() -> None:
    assert quantities("One of the biggest investors said no one knew.") == []
    assert quantities("It took a year and a half.") == []  # a duration, not a share called "half"
    assert [q.kind for q in quantities("They won the second half.")] == ["ordinal"]


def test_with_two_sentences_each_number_must_come_from_the_sentence_about_it() -> None:
    first = "It is estimated that 53% of over 65s own a mobile."
    second = "About 80% of teenagers send a text message every day."
    assert number_problem("Intervoice says 80% of people over 65 own a mobile.", [first, second])
    assert number_problem("About 80% of teenagers text every day, and 53% of over 65s own a mobile.", [first, second])
    assert number_problem("Over 65s own a mobile.", [first, second]) is None


def test_a_hyphenated_compound_says_which_sentence_a_number_comes_from() -> None:
    first = "After recovering from a trapped nerve, the 31-year-old is relishing his role."
    second = '"I had six weeks out but I have resumed my form," he said.'
    assert number_problem("The 31-year-old missed six weeks with a trapped nerve.", [first, second]) is None
    assert number_problem("The 31-year-old missed nine weeks with a trapped nerve.", [first, second])


def test_a_unit_alone_does_not_borrow_a_number_from_the_neighbouring_sentence() -> None:
    first = 'Manufacturers will continue to face "serious challenges" over the next two years, the BCC said.'
    second = "Exports picked up to their best levels in eight years."
    assert number_problem("Manufacturers face serious challenges over the next eight years.", [first, second])
    first = "The Liberal Democrats came second in 2001, just under 6,000 votes behind Labour."
    second = "Oona King had a 10,000-vote majority in 2001."
    assert number_problem("The Liberal Democrats came second, 10,000 votes behind Labour.", [first, second])


def test_spans_of_time_and_pairs_in_words_are_numbers() -> None:
    assert number_problem("It is a quarter of a century since the bombings began.", ["It is 25 years since."]) is None
    assert number_problem("It is half a century since the bombings began.", ["It is 25 years since."])
    assert number_problem("A pair of breaks created two tries.", ["Two breaks set up two tries."]) is None


def test_a_brand_that_starts_with_a_digit_is_no_number() -> None:
    assert number_problem("3ami built the system.", ["The system came from security firm 3ami."]) is None
    assert number_problem("It reached 10mph.", ["It reached 12mph."])


def test_ordinals_sums_as_adjectives_points_and_rates_news_writes() -> None:
    """ "a third win" is the third win, not a share; "a billion-dollar dent" is $1bn; a rate keeps its period."""
    assert (
        number_problem("Wales are unbeaten after their 3rd Six Nations win.", ["Wales are unbeaten after a third win."])
        is None
    )
    assert number_problem("A third of voters backed it.", ["A quarter of voters backed it."])
    assert number_problem("Cut by a third in 2004.", ["Cut by a third in 2004."]) is None
    assert (
        number_problem("It will cost about a billion dollars.", ["It will put a billion-dollar dent in its accounts."])
        is None
    )
    assert number_problem("It will cost about $2bn.", ["It will put a billion-dollar dent in its accounts."])
    assert (
        number_problem("Rates rose by 0.27 of a percentage point.", ["Rates rose by 0.27 percentage points."]) is None
    )
    assert number_problem("It charges $12 a week.", ["It charges a flat fee of $12 a month."])
    assert number_problem("It charges 12 dollars per month.", ["It charges a flat fee of $12 a month."]) is None


def test_a_share_written_two_out_of_16_states_both_counts() -> None:
    ballet = ["Only two out of 16 principal dancers at the Royal Ballet are British."]
    assert number_problem("Just 2 of the Royal Ballet's 16 principal dancers are British.", ballet) is None
    assert number_problem("Just 3 of the Royal Ballet's 16 principal dancers are British.", ballet)


def test_a_qualified_figure_holds_when_the_source_figure_makes_it_true() -> None:
    market = ["57% of the consumer electronics market is made up of female buyers."]
    assert number_problem("More than half of the market is made up of female buyers.", market) is None
    assert number_problem("More than 60% of the market is made up of female buyers.", market)
    assert number_problem("Almost 50% voted yes.", ["49.7% voted yes."]) is None
    assert number_problem("Almost half voted yes.", ["Almost 70% voted yes."])
    assert number_problem("About 3,000 visits are made.", ["Some 2,700 visits are made."])
    # A bound of the source supports only a word fraction, never another figure, a multiple or a year.
    assert number_problem("More than 600 sites were visited.", ["More than 900 sites were visited."])
    assert number_problem("Drugs are more than twenty times cheaper.", ["Drugs are more than ten times cheaper."])
    assert number_problem("He served for more than five decades.", ["Elected in 1945, he served more than 40 years."])


def test_currencies_after_a_nationality_and_half_a_year() -> None:
    assert number_problem("Fosters paid A$4.17 a share.", ["Fosters paid 4.17 Australian dollars per share."]) is None
    assert number_problem("He faces a ban of half a year.", ["He faces a ban of six months."]) is None
    assert number_problem("He faces a ban of half a year.", ["He faces a ban of eight months."])


def test_data_sizes_keep_their_unit_and_convert_within_it() -> None:
    assert number_problem("An hour would use about 7.2GB of data.", ["An hour would use about 7.2MB of data."])
    assert number_problem("An hour would use about 7.2 megabytes.", ["An hour would use about 7.2MB of data."]) is None
    assert number_problem("The phone holds 2GB.", ["The phone holds 2,000MB."]) is None
