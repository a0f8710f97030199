"""The shared spaCy parser: real pipeline, memoised, clear error when the pipeline is missing."""

from __future__ import annotations

import pytest

from retrieval.parsing import Parser, ParserUnavailable, shared_parser


def test_parses_who_did_what_to_whom() -> None:
    doc = shared_parser().parse("Smith resigned after leaking the plan to Jones.")
    subjects = [t.text for t in doc if t.dep_ == "nsubj"]
    assert subjects == ["Smith"]
    assert [t.text for t in doc if t.dep_ == "pobj" and t.head.head.text == "leaking"] == ["Jones"]


def test_names_people_and_places() -> None:
    doc = shared_parser().parse("Tony Blair met union leaders in London on Tuesday.")
    entities = {e.text: e.label_ for e in doc.ents}
    assert entities["Tony Blair"] == "PERSON"
    assert entities["London"] == "GPE"


def test_negation_is_attached_to_its_verb() -> None:
    doc = shared_parser().parse("The council did not approve the repair.")
    neg = [t for t in doc if t.dep_ == "neg"]
    assert [t.head.lemma_ for t in neg] == ["approve"]


def test_same_text_is_parsed_once_and_batches_keep_order() -> None:
    parser = Parser(cache_size=2)
    first = parser.parse("Prices rose.")
    assert parser.parse("Prices rose.") is first
    docs = parser.parse_many(["A fell.", "Prices rose.", "A fell."])
    assert [d.text for d in docs] == ["A fell.", "Prices rose.", "A fell."]
    assert len(parser._memo) <= 2


def test_missing_pipeline_is_a_clear_error() -> None:
    with pytest.raises(ParserUnavailable, match="NEWSDESK_SPACY_MODEL"):
        Parser("no_such_spacy_pipeline").parse("Hello.")


def test_the_configured_pipeline_is_the_one_shared() -> None:
    from retrieval.parsing import DEFAULT_MODEL, use_model

    try:
        use_model("no_such_spacy_pipeline")
        with pytest.raises(ParserUnavailable, match="no_such_spacy_pipeline"):
            shared_parser().parse("Hello.")
    finally:
        use_model(DEFAULT_MODEL)
    assert shared_parser().parse("Hello.").text == "Hello."
