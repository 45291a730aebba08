"""Another haystack engine is a settings change: with haystack's stock Whoosh engine named in
HAYSTACK_CONNECTIONS (standing in for Elasticsearch 7, which this machine has not), the
search page, its filters, facets and sorting, the queue, the rebuild and the drift check
answer through SearchQuerySet; the research pages say they need the archive's own engine."""

import pytest
from django.core.management import call_command
from haystack import connections
from haystack.backends.whoosh_backend import WhooshSearchBackend

from search import drift, rebuild, service
from search.backend import ChineseWhooshSearchBackend
from search.queue import drain
from speeches.models import SpeechKind
from speeches.tests.factories import make_speech


@pytest.fixture
def archive(seed):
    made = [
        make_speech(title="ABB report", kind=SpeechKind.REPORT, paragraphs=["Bearing steel. 轴承"]),
        make_speech(title="SKF speech", kind=SpeechKind.SPEECH, paragraphs=["Bearing steel."]),
    ]
    drain()
    return [seed, *made]


@pytest.fixture
def stock_whoosh(archive, tmp_path):
    """The settings of another engine, its index written by rebuild_search_index."""
    saved = connections.connections_info["default"]
    connections.connections_info["default"] = {
        "ENGINE": "haystack.backends.whoosh_backend.WhooshEngine",
        "PATH": str(tmp_path / "stock_whoosh"),
    }
    connections.reload("default")
    call_command("rebuild_search_index", verbosity=0)
    yield archive
    connections.connections_info["default"] = saved
    connections.reload("default")


def ids(outcome):
    return [hit.speech.pk for hit in outcome.hits]


def test_the_engine_in_settings_answers(stock_whoosh):
    assert type(service.backend()) is WhooshSearchBackend
    assert not isinstance(service.backend(), ChineseWhooshSearchBackend)
    seed, abb, skf = stock_whoosh
    found = service.search(query="bearing")
    assert sorted(ids(found)) == sorted([abb.pk, skf.pk]) and found.count == 2
    # Its reading, not ours: stock Whoosh matches the fields' jieba words (our analyzers,
    # which it takes from the fields), so a string that is no jieba word is not found,
    # where the archive's engine finds every occurrence (README: what it gives up).
    assert sorted(ids(service.search(query="轴承"))) == sorted([seed.pk, abb.pk])
    assert service.search(query="质生").count == 0


def test_the_query_syntax_the_engine_can_take(stock_whoosh):
    seed, abb, skf = stock_whoosh
    assert ids(service.search(query="steel -report")) == [skf.pk]
    assert sorted(ids(service.search(query="abb OR skf"))) == sorted([abb.pk, skf.pk])
    assert ids(service.search(query="轴承 year:2024")) == [seed.pk]
    assert ids(service.search(query="轴承 year:2000-2023")) == [abb.pk]
    assert ids(service.search(query='"bearing steel" skf')) == [skf.pk]


def test_snippets_are_cut_from_the_database(stock_whoosh):
    _seed, abb, _skf = stock_whoosh
    hit = next(h for h in service.search(query="steel").hits if h.speech.pk == abb.pk)
    assert "<mark>steel</mark>" in hit.snippets[0].html.lower() and hit.occurrences == 1


def test_filters_facets_and_sorting_go_to_the_engine(stock_whoosh):
    _seed, abb, skf = stock_whoosh
    narrowed = service.search(query="bearing", filters=service.Filters(kind=SpeechKind.REPORT))
    assert ids(narrowed) == [abb.pk]
    facets = service.search(query="bearing").facets
    assert {(o["value"], o["label"], o["count"]) for o in facets["kind"]} == {
        (SpeechKind.REPORT, str(SpeechKind.REPORT.label), 1),
        (SpeechKind.SPEECH, str(SpeechKind.SPEECH.label), 1),
    }
    everything = service.search(query="", everything=True).facets
    assert [(o["label"], o["count"]) for o in everything["speaker"]] == [("张三", 2), ("周宇", 1)]
    oldest = service.search(query="bearing", sort="oldest")
    newest = service.search(query="bearing", sort="date")
    assert ids(oldest) == ids(newest)[::-1] or len({h.speech.date for h in oldest.hits}) == 1


def test_name_filters_resolve_in_the_database_and_narrow_the_engine(stock_whoosh):
    seed, _abb, _skf = stock_whoosh
    speaker = seed.speaker.name
    assert ids(service.search(query=f"speaker:{speaker[:2]}", everything=True)) == [seed.pk]
    assert service.search(query="bearing speaker:没有这个人").count == 0


def test_the_page_and_the_api_answer_through_it(stock_whoosh, client):
    _seed, abb, skf = stock_whoosh
    page = client.get("/search/", {"q": "steel"})
    assert page.status_code == 200
    html = page.content.decode()
    assert abb.get_absolute_url() in html and skf.get_absolute_url() in html
    data = client.get("/api/v1/search", {"q": "steel"}).json()
    assert data["count"] == 2
    feed = client.get("/feeds/search.atom", {"q": "skf"}).content.decode()
    assert skf.get_absolute_url() in feed and abb.get_absolute_url() not in feed


def test_the_queue_and_drift_follow_the_database(stock_whoosh):
    _seed, abb, skf = stock_whoosh
    assert drift.check().total == 0
    skf.delete()
    abb.title = "ABB bearing steel report"
    abb.save()
    drain()
    assert ids(service.search(query="bearing")) == [abb.pk]
    assert drift.check().total == 0
    assert rebuild.rebuild() == 2  # the seed and ABB's


def test_research_pages_say_they_need_the_archives_engine(stock_whoosh, client):
    for path in ("/trends/", "/concordance/"):
        response = client.get(path, {"q": "bearing"})
        assert response.status_code == 200
        assert "只能由本站自带的检索引擎计算" in response.content.decode()
