"""The shared text rules (newsdesk/text.py): markers, folding, names, and one stopword core for every consumer."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.corpus import convert_bbc_folder
from newsdesk import text
from retrieval.catalogue import STOPWORDS as CATALOGUE_STOPWORDS
from retrieval.catalogue import query_terms


def test_markers_are_stripped_and_read_in_order() -> None:
    answer = "NATO pledged 40 billion euros [2]. Stoltenberg spoke [1][2] and later [1, 3]."
    assert text.strip_markers(answer) == "NATO pledged 40 billion euros. Stoltenberg spoke and later."
    assert text.marker_numbers(answer) == [2, 1, 2]
    assert [m.group() for m in text.MARKER_RUN.finditer("a [1] [2] b [3]")] == [" [1] [2]", " [3]"]


def test_folding_makes_typographic_text_comparable() -> None:
    assert text.fold_punctuation("The UK’s  “right” — ok…") == 'the uk\'s "right" - ok...'
    assert text.fold_punctuation("Mr. Stoltenberg", case=False) == "Mr. Stoltenberg"
    assert text.fold("Zelénskyy’s – plan") == "zelenskyy's - plan"


def test_name_patterns() -> None:
    assert [m.group() for m in text.NAME_TOKEN.finditer("Did the U.S. and Jean-Luc agree in May?")] == [
        "Did",
        "U.S",
        "Jean-Luc",
        "May",
    ]
    assert [m.group() for m in text.CAPITALISED_WORD.finditer("Kyiv's allies met NATO")] == ["Kyiv's", "NATO"]
    assert text.BYLINE_NAME_WORD.match("Thornebrooke") and text.BYLINE_NAME_WORD.match("von")
    assert not text.BYLINE_NAME_WORD.match("yesterday")


def test_every_stopword_list_shares_the_function_word_core() -> None:
    for words in (text.QUERY_STOPWORDS, text.CLAIM_STOPWORDS):
        assert text.FUNCTION_WORDS <= words
    assert CATALOGUE_STOPWORDS is text.QUERY_STOPWORDS
    assert query_terms("What did the article say about Stoltenberg's remarks?") == ["stoltenberg", "remarks"]


def test_the_raw_bbc_dataset_converts_to_the_corpus_format(tmp_path: Path) -> None:
    folder = tmp_path / "bbc" / "business"
    folder.mkdir(parents=True)
    (folder / "001.txt").write_bytes(
        "Ad sales boost profit\n\nQuarterly profits jumped 76% to £600m.\n".encode("latin-1")
    )
    [row] = list(convert_bbc_folder(tmp_path / "bbc"))
    assert row == {
        "id": "bbc-business-001",
        "category": "business",
        "title": "Ad sales boost profit",
        "text": "Quarterly profits jumped 76% to £600m.",
    }
    assert json.loads(json.dumps(row, ensure_ascii=False)) == row
