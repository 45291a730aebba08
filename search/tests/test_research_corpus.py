"""Term trends and the concordance over the 68 addresses of ../shared/corpus, against counts
made here from the texts."""

from collections import defaultdict

import pytest

from search import research
from search.engine.analysis import fold
from speeches.models import Speech

from .test_corpus import corpus_index, corpus_speeches  # noqa: F401

pytestmark = [pytest.mark.corpus, pytest.mark.slow]

# 改革: two characters, counted from its bigram's postings; the others in the texts.
TERMS = ("社会主义", "改革开放", "高质量发展", "改革", "新質生產力")
# One character each, counted from their postings in `chars`: in nearly every address.
CHARACTERS = ("党", "國", "民")


def ground_truth(ids, terms=TERMS):
    """{term: {year: [occurrences, addresses, characters]}} and {term: {speaker: [occ, chars]}}."""
    years = {t: defaultdict(lambda: [0, 0, 0]) for t in terms}
    speakers = {t: defaultdict(lambda: [0, 0]) for t in terms}
    for speech in Speech.objects.filter(pk__in=ids).select_related("speaker"):
        bodies = [fold(p.text) for p in speech.paragraphs.all()]
        chars = sum(len(b) for b in bodies)
        for term in terms:
            count = sum(b.count(fold(term)) for b in bodies)
            row = years[term][speech.date.year]
            row[0], row[1], row[2] = row[0] + count, row[1] + bool(count), row[2] + chars
            by = speakers[term][speech.speaker.name]
            by[0], by[1] = by[0] + count, by[1] + chars
    return years, speakers


def test_trends_and_concordance_agree_with_the_texts(corpus_index):  # noqa: F811
    years, speakers = ground_truth(corpus_index)
    outcome = research.trends(query=",".join(TERMS))
    assert [t.term for t in outcome.terms] == list(TERMS)
    for term, trend in zip(TERMS, outcome.terms, strict=True):
        assert {p.year: [p.count, p.addresses, p.chars] for p in trend.years} == years[term]
        assert trend.total == sum(row[0] for row in years[term].values())
        best = max(
            (round(occ * 10_000 / chars, 2), occ, name)
            for name, (occ, chars) in speakers[term].items()
            if occ
        )
        assert (trend.speakers[0].per_10k, trend.speakers[0].count) == best[:2]
        lines = research.concordance(query=term, page_size=10)
        assert lines.count == trend.total
    assert outcome.terms[0].total > 1000  # 社会主义: the corpus is long enough to mean something


def test_single_characters_agree_with_the_texts(corpus_index):  # noqa: F811
    years, _speakers = ground_truth(corpus_index, CHARACTERS)
    for term, trend in zip(
        CHARACTERS, research.trends(query=",".join(CHARACTERS)).terms, strict=True
    ):
        assert {p.year: [p.count, p.addresses, p.chars] for p in trend.years} == years[term]
        assert research.concordance(query=term, page_size=10).count == trend.total > 1000


@pytest.mark.parametrize("sort", ["date", "oldest"])
def test_concordance_pages_in_date_order_hold_every_line_of_the_texts_once(corpus_index, sort):  # noqa: F811
    """Date order cuts only the addresses of the page shown and skips the others by their
    counts: every page together must still be every line, in order, each once."""
    term = "改革开放"
    truth = []
    for speech in Speech.objects.published():
        for paragraph in speech.paragraphs.all():
            truth += [(speech.date, speech.pk, paragraph.position)] * fold(paragraph.text).count(
                term
            )
    first = research.concordance(query=term, sort=sort, page_size=37)
    paged = []
    for page in range(1, first.num_pages + 1):
        lines = research.concordance(query=term, sort=sort, page=page, page_size=37).lines
        assert len(lines) == 37 or page == first.num_pages
        paged += [(line.speech.date, line.speech.pk, line.paragraph) for line in lines]
    assert first.count == len(paged) == len(truth) > 500
    assert sorted(paged) == sorted(truth)
    dates = [date for date, _, _ in paged]
    assert dates == sorted(dates, reverse=sort == "date")
    by_address = defaultdict(list)
    for at, (_, pk, position) in enumerate(paged):
        by_address[pk].append((at, position))
    for found in by_address.values():  # one address's lines together, in text order
        assert [at for at, _ in found] == list(range(found[0][0], found[0][0] + len(found)))
        assert [p for _, p in found] == sorted(p for _, p in found)
    export = research.concordance(query=term, sort=sort, limit=len(truth) + 10).lines
    assert [(line.speech.date, line.speech.pk, line.paragraph) for line in export] == paged
