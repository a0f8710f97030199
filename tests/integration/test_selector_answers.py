"""The learned sentence choice on news it was not fitted on: the sentence that answers beats the one that restates."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ingest.models import RawArticle
from newsdesk.services import Services
from newsdesk.settings import Settings
from tests.paths import SAMPLE

# A local news page written for this test (not from any training set): the lede restates the question's words,
# the answer is further down.
BRIDGE_VOTE = """Councillors have approved the repair of the Mill Lane footbridge after a heated debate.

The council voted 7 to 2 on Thursday to approve the £1.4m repair, closing the bridge for four months from March.

Council leader Ann Hale said the bridge was "a lifeline for the east of the town" and could not be left to decay.

Councillors Peter Marsh and Joan Okafor voted against, arguing that a new bridge would be cheaper to maintain.

Work is expected to start in the spring, with a temporary ferry for pedestrians.
"""


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory, embedder: object) -> Iterator[Services]:
    svc = Services(Settings(data_dir=tmp_path_factory.mktemp("selector")), embedder=embedder)  # type: ignore[arg-type]
    svc.ingestor.ingest([str(SAMPLE)], "default")
    report = svc.ingestor.ingest_raw(
        [
            RawArticle(
                article_id="bridge-vote", text=BRIDGE_VOTE, source="local/bridge.txt", title="Bridge repair approved"
            )
        ],
        "default",
    )
    assert report.added == ["bridge-vote"]
    yield svc
    svc.close()


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who voted against the repair?", "Peter Marsh"),
        ("How long will the footbridge be closed?", "four months"),
        ("What did Ann Hale say about the bridge?", "lifeline"),
        ("Which NATO member is most notable for restricting Kyiv's use of aid?", "United States"),
        ("What did Stoltenberg say about self-defense?", "legitimate military targets"),
    ],
)
def test_the_answering_sentence_is_quoted_not_the_one_restating_the_question(
    loaded: Services, question: str, expected: str
) -> None:
    answer = loaded.chain.ask(question)
    assert not answer.abstained, question
    assert expected in answer.answer, answer.answer
    assert len(answer.answer.split()) <= 70  # one sentence, at most two (plus the citation markers)
    for citation in answer.citations:
        article = loaded.store.get_article("default", citation.article_id)
        assert article is not None and citation.quote in article.text  # verbatim


def test_a_question_about_something_else_is_declined(loaded: Services) -> None:
    answer = loaded.chain.ask("Who won the 2022 FIFA World Cup final?")
    assert answer.abstained and not answer.citations
