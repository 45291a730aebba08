"""haystack is the adapter: SearchQuerySet, its filters, facets, narrowing, highlighting,
more_like_this and haystack's own SearchView answer through the engine, with what the
archive's pages show."""

import pytest
from django.template import engines
from django.test import RequestFactory
from haystack.forms import SearchForm
from haystack.generic_views import SearchView
from haystack.query import SearchQuerySet

from search import service
from search.queue import drain
from speeches.models import SpeechKind
from speeches.tests.factories import make_speech


@pytest.fixture
def archive(seed):
    made = [
        make_speech(
            title="轴承钢报告", kind=SpeechKind.REPORT, paragraphs=["轴承钢。轴承钢。轴承。"]
        ),
        make_speech(title="齿轮箱", kind=SpeechKind.SPEECH, paragraphs=["齿轮箱与轴承产业。"]),
        make_speech(title="风电", kind=SpeechKind.SPEECH, paragraphs=["风电整机。"]),
    ]
    drain()
    return [seed, *made]


def _pks(results):
    return [int(r.pk) for r in results]


@pytest.mark.parametrize("q", ["轴承", "轴承 产业", "轴承 OR 风电", "“轴承钢”", "轴承 -钢"])
def test_filter_content_lists_what_the_page_lists(archive, q):
    page = service.search(query=q)
    found = SearchQuerySet().filter(content=q)
    assert found.count() == page.count > 0
    assert _pks(found) == [h.speech.pk for h in page.hits]
    assert [r.score for r in found] == [h.score for h in page.hits]


def test_filters_on_keyword_fields_exclusions_and_alternatives(archive):
    seed, steel, gears, _wind = archive
    assert _pks(SearchQuerySet().filter(content="轴承", kind=SpeechKind.SPEECH)) == [gears.pk]
    assert _pks(SearchQuerySet().filter(content="轴承").narrow("kind:报告")) == [steel.pk]
    excluded = SearchQuerySet().filter(content="轴承").exclude(content="钢")
    assert set(_pks(excluded)) == {seed.pk, gears.pk}
    assert _pks(SearchQuerySet().filter(content="齿轮箱")) == [gears.pk]
    assert SearchQuerySet().filter(content="不存在的词").count() == 0


def test_facets_are_the_pages_facet_counts(archive):
    facets = SearchQuerySet().filter(content="轴承").facet("kind").facet("year").facet_counts()
    page = service.search(query="轴承").facets
    for name in ("kind", "year"):
        expected = [(o["value"], o["count"]) for o in page[name]]
        assert facets["fields"][name] == expected and expected


def test_all_and_highlight(archive):
    assert sorted(_pks(SearchQuerySet().all())) == sorted(s.pk for s in archive)
    hit = SearchQuerySet().filter(content="新质生产力").highlight()[0]
    assert int(hit.pk) == archive[0].pk
    assert "<mark>新质生产力</mark>" in hit.highlighted["text"][0]


def test_more_like_this_finds_the_related_address_not_itself(archive):
    seed, steel, gears, wind = archive
    like = _pks(SearchQuerySet().more_like_this(steel))
    assert steel.pk not in like and like[0] == gears.pk  # 轴承 and the same factory names
    assert like.index(gears.pk) < like.index(wind.pk) if wind.pk in like else like


def test_haystacks_search_form_and_view(archive, settings):
    found = SearchForm({"q": "齿轮箱"}).search()
    assert _pks(found) == [archive[2].pk]
    template = engines["django"].from_string(
        "{% for r in page_obj.object_list %}[{{ r.pk }}]{% endfor %} {{ paginator.count }}"
    )
    view = SearchView.as_view(template_name="unused.html")
    request = RequestFactory().get("/", {"q": "轴承"})
    response = view(request)
    response.template_name = None  # rendered here with a template of this test's own
    body = template.render(response.context_data)
    expected = [h.speech.pk for h in service.search(query="轴承").hits]
    assert body == "".join(f"[{pk}]" for pk in expected) + f" {len(expected)}"
