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


def test_generic_words_of_an_institution_and_dates_are_not_invented_names() -> None:
    library = "The New York library is allowing Google to include books no longer covered by copyright."
    assert "name not in passage" not in name_reason("The New York Public Library is letting Google in.", library)
    michigan = "It will take six years to digitise the full collection at Michigan, which holds seven million volumes."
    assert "name not in passage" not in name_reason("The University of Michigan's collection is large.", michigan)
    # The distinctive part of a name must be there: another city's library, another council, an invented mayor.
    assert "name not in passage: leicester" in name_reason(
        "The Leicester Public Library is letting Google in.", library
    )
    assert "name not in passage: arts" in name_reason(
        "Kinnock chaired the Arts Council.", "Kinnock was made chairman of the British Council."
    )
    assert "name not in passage" in name_reason("Mayor John Smith said the New York library was open.", library)
    jobs = "According to US Labor Department figures, 157,000 new jobs were added last month."
    assert "name not in passage" not in name_reason("The US added 157,000 jobs in December.", jobs)
    # A month changed is a substitution, caught by the parse checks.
    assert verdict(
        "The US added 157,000 jobs in November.", "The US added 157,000 jobs in December, the department said."
    )
    assert verdict("The US added 157,000 jobs in December.", "The US added 157,000 jobs in December, it said.") is None
    # A date the passage gives in no form is an invented detail, not a restatement.
    shows = "The singer told reporters in Rome that he did not like having cameras around the house."
    assert "name not in passage: thursday" in name_reason(
        "The singer told reporters in Rome on Thursday that he did not like cameras around the house.", shows
    )
    added = name_reason("The US added 157,000 jobs in November.", "The US added jobs.")
    assert "name not in passage: november" in added


@pytest.mark.parametrize(
    ("false", "true", "source"),
    [
        (  # a negated main clause, about the same thing in other words
            "Microsoft also offers a version of the tool for Apple machines running Word.",
            "No version of the tool for Apple machines running Word is available.",
            "A tool for Apple machines running Word is not available.",
        ),
        (  # a quoted "No" reversed; "had not ruled it out" is a yes
            "Asked whether he would stand for the leadership again, Hague said he had not ruled it out.",
            "Asked whether he would stand for the leadership again, Hague ruled it out.",
            'Asked if he would stand for the leadership again, Mr Hague replied: "No. Definitely not."',
        ),
        (  # "winner" is one who won
            "The Aviator earned a best director nomination for previous Oscar winner Martin Scorsese.",
            "The Aviator earned a best director nomination for Martin Scorsese, who has never won an Oscar.",
            "The Aviator has scored a best director nomination for Martin Scorsese, who has never won an Oscar.",
        ),
        (
            "Hill said that when she started out in 1974 there were already plenty of women in the industry.",
            "Hill said that when she started out in 1974 there were very few women in the industry.",
            '"Back when I started in 1974, there were very few women in the industry," she said in 2003.',
        ),
    ],
)
def test_a_claim_that_affirms_what_its_source_denies_is_dropped(false: str, true: str, source: str) -> None:
    assert verdict(false, source)
    assert verdict(true, source) is None


def test_a_denial_by_the_person_the_claim_quotes_in_the_next_sentence_is_caught() -> None:
    passage = (
        "Privacy advocates are concerned that monitoring at work is damaging to the relationship between employers "
        'and their staff. "That is not the case," said Tim Ellsmore, managing director of 3ami.'
    )
    first = split_sentences(passage)[0]
    span = _Span(first[0], first[1], (first,))
    false = "Tim Ellsmore of 3ami agreed that monitoring at work harms the relationship between employers and staff."
    assert contradiction(false, passage, span, passage)
    true = "Privacy advocates fear that monitoring at work harms the relationship between employers and staff."
    assert contradiction(true, passage, span, passage) is None


@pytest.mark.parametrize(
    ("false", "true", "source"),
    [
        (  # what is said of two parties, traded between two clauses (and two sentences)
            "Werner Seifert is due to meet Clara Furse on Friday, while Jean-Francois Theodore meets her on Thursday.",
            "Werner Seifert is due to meet Clara Furse on Thursday, while Jean-Francois Theodore meets her on Friday.",
            "Euronext chief Jean-Francois Theodore is scheduled to meet Clara Furse on Friday. Deutsche Boerse chief "
            "Werner Seifert is meeting Ms Furse on Thursday.",
        ),
        (
            "Rivals such as Napster use the AAC format, while Apple uses MP3.",
            "Rivals such as Napster use the MP3 format, while Apple uses AAC.",
            "The rivals use the MP3 format or Microsoft's WMA format while Apple uses AAC.",
        ),
        (  # the two sides of a comparison traded
            "Etzioni suggests failed states such as Iran pose less of a problem than rogue states.",
            "Etzioni suggests rogue states such as Iran pose less of a problem than failed states.",
            'He suggests so-called rogue states such as Iran are less of a problem than "failed and failing states".',
        ),
        (
            "He asked how the richest 20% of society could be paying more of their income than the poorest 20%.",
            "He asked how the poorest 20% of society could be paying more of their income than the richest 20%.",
            "How was it right that the poorest 20% of society were still paying more of their income than the "
            "richest 20%, he asked.",
        ),
        (  # "respectively" pairs the members of two lists in order
            "Mike Tomlinson carried out a government review of health, while Derek Wanless led one on education.",
            "Derek Wanless carried out a government review of health, while Mike Tomlinson led one on education.",
            "The knighthoods go to Derek Wanless and Mike Tomlinson, who undertook major government reviews on "
            "health and education respectively.",
        ),
        (  # the objects of two verbs traded
            "The council closed the library and opened a gym.",
            "The council closed a gym and opened the library.",
            "The council opened the library and closed a gym.",
        ),
        (  # "him" is the named subject of the clause above its own
            "Wes Brown embarrassed Shaun Wright-Phillips near the touchline.",
            "Shaun Wright-Phillips embarrassed Wes Brown near the touchline.",
            "Wes Brown also found Wright-Phillips to be a difficult opponent when the tricky winger embarrassed him "
            "near the touchline.",
        ),
        (  # two nouns trade prepositions of direction
            "Craig said broadband was shifting power from individuals into the hands of institutions.",
            "Craig said broadband was shifting power from institutions into the hands of individuals.",
            "\"Broadband is putting the 'me' in media as it shifts power from institutions and into the hands of the "
            'individual," said John Craig.',
        ),
        (  # a description hung on the other name
            "Likhovtseva, who was given a point penalty for swearing in the third set, needed nine match points "
            "before seeing off Sfar.",
            "Likhovtseva needed nine match points before seeing off Sfar, who was given a point penalty for swearing.",
            "Likhovtseva needed nine match points before seeing off Sfar, who got a point penalty for swearing in the "
            "third set.",
        ),
        (  # agent and patient reversed through another verb
            "In a Radio Times interview, Sacha Baron Cohen attacked Victoria Wood for her brand of humour.",
            "In a Radio Times interview, Victoria Wood attacked Sacha Baron Cohen for his brand of humour.",
            "In an interview published in the Radio Times, Victoria Wood slated comedian Sacha Baron Cohen for his "
            "character's brand of humour.",
        ),
    ],
)
def test_parties_that_trade_what_is_said_of_them_are_a_swap(false: str, true: str, source: str) -> None:
    assert verdict(false, source)
    assert verdict(true, source) is None


def test_a_refusal_in_other_words_and_quoted_words_keep_their_polarity() -> None:
    offer = "The LSE rejected Deutsche Boerse's proposed offer in December, saying it undervalued the business."
    assert (
        verdict("The LSE turned down Deutsche Boerse's offer in December as undervaluing the business.", offer) is None
    )
    assert verdict("The LSE accepted Deutsche Boerse's offer in December.", offer)
    # A negation ends where someone's quoted words begin, but not at a scare-quoted word.
    trusted = 'Labour had gone from a party not trusted with the economy to "the only party trusted with the economy".'
    assert verdict('Labour had become "the only party trusted with the economy".', trusted) is None
    trained = 'Unlike rival software, Opera does not have to be "trained" to recognise a voice.'
    assert verdict("Opera has to be trained to recognise a voice.", trained)
    assert verdict("Opera does not need training to recognise a voice.", trained) is None


def test_a_verb_that_means_not_and_a_refusal_in_either_voice_are_no_flip() -> None:
    projects = "Only 22 of the 30 projects targeted for having not carried out impact assessments have complied."
    assert verdict("22 of the 30 projects targeted for skipping impact assessments have complied.", projects) is None
    town = "The news that the conference is not to gather in Blackpool will be seen as a blow in the resort."
    assert verdict("Losing the conference will be seen as a blow in Blackpool.", town) is None
    board = "The information was public as Mr Davis' offer had already been rejected by Vivendi's board."
    assert verdict("The information was public, since the board had turned down Mr Davis' offer.", board) is None
    # The flip itself is still caught.
    assert verdict("The news that the conference is to gather in Blackpool will be seen as a blow.", town)


def test_spelled_out_countries_nothing_as_a_negation_and_traded_slots() -> None:
    trade = "Egypt and Israel have signed a trade protocol with the US, allowing goods free access to its markets."
    assert "name not in passage" not in name_reason("Egypt and Israel signed a protocol with the United States.", trade)
    granted = '"Scotland are a hard side, so we are not taking anything for granted," said Johnson.'
    assert verdict("Johnson said Wales were taking nothing for granted.", granted) is None
    assert verdict("Johnson said Wales were taking everything for granted.", granted)
    bid = "Defence lawyers argued against the bid by Associated Press to have the jurors' answers made public."
    assert verdict("Associated Press argued against the bid by defence lawyers to have the answers made public.", bid)
    assert verdict("Defence lawyers opposed the bid by Associated Press to have the answers made public.", bid) is None
    staff = "Pressure was placed on staff to be efficient, rather than to do a thorough examination of an application."
    assert verdict("Staff were pressed to examine applications thoroughly rather than to be efficient.", staff)
    peg = "The government keeps the yuan pegged close to a rate of 8.28 to the US dollar."
    assert verdict("The yuan is pegged close to 8.28 to the euro.", peg)
    assert verdict("The yuan is pegged close to 8.28 to the dollar.", peg) is None


def test_never_on_an_adverb_unlikely_and_opposed_for_supported() -> None:
    courts = '"We know the challenge because the courts have never before overturned a White Paper," said Sanders.'
    assert verdict("Sanders said the courts had overturned White Papers before.", courts)
    assert verdict("Sanders said the courts had never overturned a White Paper.", courts) is None
    record = "The success of the film could help produce record box office revenue for 2004, said Dergarabedian."
    assert verdict("Dergarabedian said the film was unlikely to produce record box office revenue.", record)
    bill = "The bill, which ministers claim will tackle crime, is expected to be opposed by the Liberal Democrats."
    assert verdict("The bill is expected to be supported by the Liberal Democrats.", bill)
    assert verdict("The Liberal Democrats are expected to oppose the bill.", bill) is None


def test_unable_for_not_able_and_names_written_another_way() -> None:
    yukos = "Yukos filed for bankruptcy in the US because it feared it would not be able to do so in Russia."
    assert verdict("Yukos feared it would be unable to file for bankruptcy in Russia.", yukos) is None
    assert verdict(
        "Yukos feared it would be unable to file for bankruptcy in the US.", "Yukos was able to file in the US."
    )
    assert "name not in passage" not in name_reason("The American court could declare Yukos bankrupt.", yukos)
    seats = "Howard said Scottish and Welsh voters had proportionately more MPs at Westminster."
    assert "name not in passage" not in name_reason("Howard said Scotland and Wales have more MPs.", seats)
    act = "The Freedom of Information Act gives the public a right of access to information."
    assert "name not in passage" not in name_reason("The Act gives the public a right of access.", act)
    assert "name not in passage: data" in name_reason("The Data Protection Act gives the public a right.", act)


def test_owners_of_the_subject_contrasts_after_favour_and_injuries() -> None:
    shares = "Southcorp's shares rose 12% to A$4.76 on news of the offer but Foster's shares fell 3.7% to A$5.44."
    assert verdict("Foster's shares rose 12% on news of the offer, while Southcorp's shares fell 3.7%.", shares)
    assert verdict("Southcorp's shares rose 12% on news of the offer, while Foster's shares fell 3.7%.", shares) is None
    critics = "It has had vocal critics who say it could favour large over small firms."
    assert verdict("Critics say the directive could favour small over large firms.", critics)
    assert verdict("Critics say the directive could favour large firms over small ones.", critics) is None
    injuries = (
        "Lewis Moody and Martin Corry could both return after missing the game with hamstring and shoulder problems."
    )
    assert verdict(
        "Moody and Corry could both return after missing the game with hamstring and knee problems.", injuries
    )


def test_refusals_no_one_less_and_un_words_keep_their_polarity() -> None:
    refuse = "On the anniversary, police offer Edwards' parents the chance to sign a death certificate. They refuse."
    assert verdict("Edwards' parents refused a police offer to sign a death certificate.", refuse) is None
    law = 'The new law is "so poorly drafted" no-one can define the offence, pro-hunt MPs say.'
    assert verdict("Pro-hunt MPs say the law is so badly drafted that nobody can define the offence.", law) is None
    assert verdict("Pro-hunt MPs say the law is so well drafted that everyone can define the offence.", law)
    wow = 'Some delegates complained that the showcase lacked as much "wow factor" as in previous years.'
    assert verdict('Some delegates complained that the show had less "wow factor" than in earlier years.', wow) is None
    need = 'Professor Woodhead has said there is no need for such a "massive upheaval".'
    assert verdict("Professor Woodhead has argued that such a massive upheaval is unneeded.", need) is None


def test_names_that_trade_a_light_verb_and_another_are_a_swap() -> None:
    bid = "Birmingham have confirmed Blackburn made a bid for Robbie Savage - but Karen Brady has called it derisory."
    assert verdict("Blackburn have confirmed that Birmingham made a bid for Robbie Savage.", bid)
    assert verdict("Birmingham have confirmed that Blackburn made a bid for Robbie Savage.", bid) is None
