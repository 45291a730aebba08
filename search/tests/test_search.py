import datetime
import re
from html import unescape
from pathlib import Path

import pytest
from django.urls import reverse
from whoosh.query import TermRange

from search import service
from search.drift import check
from search.engine import snippets
from search.engine.cache import cache
from search.queue import drain
from speeches import services
from speeches.models import SpeechStatus
from speeches.tests.factories import make_speech

FOUND_BY = [
    "新质生产力",
    "轴承",
    "轴承产业",
    "工业母机",
    "低空经济",
    "十四五",
    "“高质量发展”",
    "周宇",
    "軸承",
    "新質生產力",
    "speaker:周宇",
    "year:2024",
    "质生产",
    "承产业",
    "业母机",
    "轴",
    "2024 年",
    "event:轴承峰会",
    "org:中国轴承工业协会",
    "org:轴承协会",
    "year:2015-2024 轴承",
    "轴承 OR 不存在的词",
]


@pytest.fixture
def other(seed):
    speech = make_speech(
        title="航空航天材料的新进展",
        speaker="李四",
        event="2023 材料大会",
        paragraphs=["航空航天材料需要高质量的轴承钢。", "传统工艺依然重要。"],
    )
    drain()
    return speech


def ids(q, **kwargs):
    return [hit.speech.pk for hit in service.search(query=q, **kwargs).hits]


@pytest.mark.parametrize("q", FOUND_BY)
def test_seed_is_found(seed, q):
    assert seed.pk in ids(q)


@pytest.mark.parametrize(
    "q",
    [
        "轴承 -新质生产力",
        "speaker:张三",
        "year:2023",
        "“轴承高质量”",
        "event:不存在的会",
        "不存在词",
    ],
)
def test_seed_is_not_found(seed, q):
    assert seed.pk not in ids(q)


def test_words_match_in_any_order_phrases_only_exactly(other, seed):
    assert set(ids("轴承 传统工艺")) == {other.pk}
    assert set(ids("传统工艺 轴承")) == {other.pk}
    assert set(ids("高质量")) == {seed.pk, other.pk}
    assert set(ids("“高质量发展”")) == {seed.pk}
    assert set(ids("新质生产力 OR 传统工艺")) == {seed.pk, other.pk}
    assert set(ids("-传统工艺 轴承")) == {seed.pk}


def test_snippets_mark_whole_words_and_link_to_paragraphs(seed):
    hit = service.search(query="质生产").hits[0]
    assert 1 <= len(hit.snippets) <= 3
    for snippet in hit.snippets:
        assert snippet.url == f"{seed.get_absolute_url()}#p{snippet.paragraph}"
        assert "<mark>新质生产力</mark>" in snippet.html
        assert "<mark>质生产</mark>" not in snippet.html
    para = seed.paragraphs.get(position=hit.snippets[0].paragraph)
    assert "新质生产力" in para.text


def test_snippets_take_words_from_the_index_and_mark_them_as_it_cut_them(search_index, monkeypatch):
    law = "依照《中华人民共和国全国人民代表大会和地方各级人民代表大会选举法》执行。"
    make_speech(paragraphs=["总则。", law])
    drain()
    monkeypatch.setattr(snippets, "_words", _no_jieba)  # the cutting done when reading afresh
    (hit,) = service.search(query="人民代表大会").hits
    (snippet,) = hit.snippets
    assert snippet.paragraph == 2
    # jieba cuts the whole law's name as one word: marked whole, as the index holds it.
    assert (
        "《<mark>中华人民共和国全国人民代表大会</mark>和地方各级<mark>人民代表大会</mark>"
        in snippet.html
    )


def test_snippets_of_text_edited_since_indexing_are_cut_afresh(seed):
    shown = service.search(query="新质生产力").hits[0].snippets[0].paragraph
    paragraph = seed.paragraphs.get(position=shown)
    paragraph.text = "改过的一段：" + "新质生产力，" * 5
    paragraph.save()  # not indexed yet: the index holds the paragraph as it was
    cache.clear()
    (snippet,) = [
        s for s in service.search(query="新质生产力").hits[0].snippets if s.paragraph == shown
    ]
    assert snippet.html == "改过的一段：" + "<mark>新质生产力</mark>，" * 5


def _no_jieba(*args):
    raise AssertionError("snippets of indexed text ran jieba")


def test_snippets_escape_html(search_index):
    make_speech(paragraphs=["<script>alert(1)</script> 轴承 & 钢"])
    drain()
    html = service.search(query="轴承").hits[0].snippets[0].html
    assert "<script>" not in html and "&lt;script&gt;" in html and "<mark>轴承</mark>" in html


def test_traditional_text_is_found_by_simplified_query_and_shown_as_stored(search_index):
    speech = make_speech(paragraphs=["發展新質生產力，軸承產業迎來機遇。"])
    drain()
    hit = service.search(query="轴承产业").hits[0]
    assert hit.speech.pk == speech.pk
    assert "<mark>軸承產業</mark>" in hit.snippets[0].html


def test_facets_count_and_follow_filters(other, seed):
    outcome = service.search(query="轴承")
    years = {o["value"]: o["count"] for o in outcome.facets["year"]}
    assert years == {"2024": 1, "2023": 1}
    speakers = {o["label"]: o["count"] for o in outcome.facets["speaker"]}
    assert speakers == {"周宇": 1, "李四": 1}
    filtered = service.search(query="轴承", filters=service.Filters(year="2023"))
    assert [h.speech.pk for h in filtered.hits] == [other.pk]
    assert {o["label"] for o in filtered.facets["speaker"]} == {"李四"}
    both = service.Filters(year="2023", speaker=str(seed.speaker_id))
    assert service.search(query="轴承", filters=both).count == 0


def test_sort_by_date_and_pagination(other, seed):
    assert ids("轴承", sort="date") == [seed.pk, other.pk]
    first = service.search(query="轴承", page_size=1)
    second = service.search(query="轴承", page=2, page_size=1)
    assert first.count == second.count == 2
    assert {first.hits[0].speech.pk, second.hits[0].speech.pk} == {seed.pk, other.pk}
    undated = make_speech(date=None, paragraphs=["轴承的年代不详。"])
    drain()
    assert ids("轴承", sort="date") == [seed.pk, other.pk, undated.pk]  # undated last


def test_no_results_suggest_fewer_words_and_no_quotes(seed):
    outcome = service.search(query="“轴承 不存在的词”")
    assert outcome.count == 0
    assert {s["kind"] for s in outcome.suggestions} == {"substring"}
    outcome = service.search(query="轴承 不存在的词")
    assert {"q": "轴承", "kind": "fewer"} in outcome.suggestions


def test_results_page(client, seed):
    response = client.get(reverse("search:search"), {"q": "轴承产业"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "检索词：轴承产业" in re.sub(r"<[^>]+>", "", html)
    assert seed.title in html and "周宇" in html
    assert f'href="{seed.get_absolute_url()}?hl=%E8%BD%B4%E6%89%BF%E4%BA%A7%E4%B8%9A#p' in html
    assert "<mark>轴承产业</mark>" in html


def test_results_page_facet_links_filter(client, seed, other):
    page = reverse("search:search")
    html = client.get(page, {"q": "轴承"}).content.decode()
    assert other.title in html and seed.title in html
    link = re.search(r'<a href="(\?[^"]*year=2023[^"]*)"', html).group(1)
    filtered = client.get(page + unescape(link)).content.decode()
    assert other.title in filtered and seed.title not in filtered
    assert 'aria-current="true">2023</a>' in filtered


def test_no_results_page(client, seed):
    html = client.get(reverse("search:search"), {"q": "轴承 -新质生产力"}).content.decode()
    assert "没有找到相关讲稿" in html and seed.title not in html


@pytest.mark.parametrize(
    "q",
    [
        '"未闭合',
        "“",
        "OR",
        "-",
        "*",
        "?",
        "a" * 5000,
        "\x00\x1b轴承",
        "<script>alert(1)</script>",
        "year:99999999999",
        "speaker:",
        "轴承 OR",
        "OR 轴承",
        "((",
        "轴承*",
        "轴?",
    ],
)
def test_bad_queries_never_fail(client, seed, q):
    for name in ("search:search", "search:api"):
        response = client.get(reverse(name), {"q": q, "page": "x", "sort": "nonsense"})
        assert response.status_code == 200
    assert "<script>alert" not in client.get(reverse("search:search"), {"q": q}).content.decode()


def test_bad_queries_still_find_what_they_contain(seed):
    assert seed.pk in ids("\x00\x1b轴承")
    assert seed.pk in ids('"轴承')
    assert seed.pk in ids("轴承 OR")
    assert ids("*") == ids("?") == ids("OR") == []


def test_api_with_no_match_is_on_page_one(client, seed):
    data = client.get(reverse("search:api"), {"q": "轴承 year:1900"}).json()
    assert (data["count"], data["page"], data["num_pages"], data["results"]) == (0, 1, 1, [])


def test_api(client, seed):
    data = client.get(reverse("search:api"), {"q": "轴承产业", "sort": "date"}).json()
    assert data["query"] == "轴承产业"
    assert data["tokens"] == ["轴承产业"] and data["match"] == "exact"
    assert (data["fallback"], data["broader"]) == (False, 0)
    assert data["count"] == 1
    result = data["results"][0]
    assert result["id"] == seed.pk and result["title"] == seed.title
    assert result["url"].endswith(seed.get_absolute_url())
    assert result["score"] > 0
    assert result["snippets"][0]["paragraph"] >= 1 and "<mark>" in result["snippets"][0]["html"]
    assert data["facets"]["speaker"][0] == {
        "value": str(seed.speaker_id),
        "label": "周宇",
        "count": 1,
    }


def test_api_results_carry_what_a_card_shows_with_ids(client, seed):
    result = client.get(reverse("search:api"), {"q": "轴承产业"}).json()["results"][0]
    assert {k: result[k] for k in ("date", "date_precision", "kind", "subtitle")} == {
        "date": "2024",
        "date_precision": "year",
        "kind": "致辞",
        "subtitle": "2024 上海国际轴承峰会致辞",
    }
    assert result["speaker"] == {"id": seed.speaker_id, "name": "周宇", "position": "理事长"}
    assert result["organization"] == {"id": seed.organization_id, "name": "中国轴承工业协会"}
    assert result["event"] == {"id": seed.event_id, "name": "2024 上海国际轴承峰会"}
    # The ids are the ones the speeches API filters by.
    listed = client.get("/api/v1/speeches", {"speaker": result["speaker"]["id"]}).json()
    assert [r["id"] for r in listed["results"]] == [seed.pk]


def test_api_links_the_next_and_previous_pages(client, settings, seed):
    settings.ARCHIVE_PAGE_SIZE = 1
    others = [
        make_speech(title=f"轴承第{n}篇", paragraphs=[f"轴承产业第{n}段。"]) for n in range(2)
    ]
    drain()
    first = client.get(reverse("search:api"), {"q": "轴承", "sort": "date"}).json()
    assert first["count"] == 3 and first["previous"] is None
    assert first["next"] == "http://testserver/api/v1/search?q=%E8%BD%B4%E6%89%BF&sort=date&page=2"
    seen = [first["results"][0]["id"]]
    data = first
    while data["next"]:
        data = client.get(data["next"]).json()
        seen.append(data["results"][0]["id"])
    assert sorted(seen) == sorted([seed.pk, *(o.pk for o in others)])
    assert data["page"] == 3 and data["previous"].endswith("sort=date&page=2")


def test_opensearch(client):
    response = client.get(reverse("search:opensearch"))
    assert response["Content-Type"].startswith("application/opensearchdescription+xml")
    assert "/search/?q={searchTerms}" in response.content.decode()


def test_publish_unpublish_delete_follow_the_queue(seed):
    services.unpublish(speech=seed)
    # The index keeps it until the indexer runs, but pages never show a draft.
    assert service.matching_ids("轴承") == {seed.pk} and ids("轴承") == []
    drain()
    assert service.matching_ids("轴承") == set()
    services.publish(speech=seed)
    drain()
    assert ids("轴承") == [seed.pk]
    services.replace_paragraphs(speech=seed, texts=["全新的正文：风电齿轮箱。"])
    drain()
    assert ids("轴承 -周宇") == [] and ids("齿轮箱") == [seed.pk]
    seed.delete()
    drain()
    assert ids("齿轮箱") == []
    assert check().total == 0


def test_a_body_change_queues_one_task_however_many_paragraphs(seed):
    from search.models import IndexTask

    drain()
    services.replace_paragraphs(speech=seed, texts=[f"第{n}段，风电齿轮箱。" for n in range(50)])
    assert IndexTask.objects.count() == 1
    drain()
    assert ids("风电齿轮箱") == [seed.pk]


def test_a_paragraph_edited_in_the_admin_is_searchable(seed, admin_client):
    paragraph = seed.paragraphs.get(position=8)
    response = admin_client.post(
        f"/admin/speeches/paragraph/{paragraph.pk}/change/",
        {"speech": seed.pk, "position": 8, "text": "预祝风电齿轮箱论坛圆满成功！"},
    )
    assert response.status_code == 302
    drain()
    assert ids("风电齿轮箱论坛") == [seed.pk]


def test_renaming_a_speaker_reindexes_their_speeches(seed):
    seed.speaker.name = "周新宇"
    seed.speaker.save()
    drain()
    assert ids("周新宇") == [seed.pk] and ids("speaker:周新宇") == [seed.pk]


def test_searching_before_any_index_exists_finds_nothing_and_creates_nothing(search_index):
    from search.connection import backend

    make_speech(paragraphs=["轴承"])
    assert service.search(query="轴承").count == 0
    assert not Path(backend().path).exists()
    drain()
    assert service.search(query="轴承").count == 1


def test_drafts_are_never_indexed(search_index):
    make_speech(status=SpeechStatus.DRAFT, paragraphs=["草稿里的轴承。"])
    drain()
    assert ids("轴承") == []


def test_drift_is_reported_and_repaired(seed):
    from search.connection import backend
    from search.drift import repair

    with backend().writer_lock():
        backend().apply(None, delete=[f"speeches.speech.{seed.pk}"])
    drift = check()
    assert drift.missing == [seed.pk]
    repair(drift)
    drain()
    assert check().total == 0 and ids("轴承") == [seed.pk]


def test_haystack_searchqueryset_all_and_highlight(seed):
    from haystack.query import SearchQuerySet

    assert [r.pk for r in SearchQuerySet().all()] == [str(seed.pk)]
    hit = SearchQuerySet().filter(content="轴承").highlight()[0]
    assert "<mark>轴承</mark>" in hit.highlighted["text"][0]


def test_a_run_read_in_the_texts_once_answers_narrower_and_wider_searches_alike(search_index):
    """The documents found holding a run are kept with the candidates they were read among:
    a narrower search (a filter) reuses them, a wider one reads the others, and every
    answer is the one the texts give."""

    made = {
        (year, holds): make_speech(
            title=f"{year}年报告",
            date=datetime.date(year, 3, 5),
            paragraphs=["行政管理的改革。" if holds else "政府管理与行政。"],
        ).pk
        for year in (2019, 2020, 2021)
        for holds in (True, False)
    }
    drain()
    cache.clear()

    def expected(*years):
        return {pk for (year, holds), pk in made.items() if holds and year in years}

    assert service.matching_ids("政管理 year:2020") == expected(2020)
    assert service.matching_ids("“政管理” year:2020-2021") == expected(2020, 2021)
    assert service.matching_ids("政管理") == expected(2019, 2020, 2021)
    assert service.matching_ids("政管理 year:2019") == expected(2019)
    assert service.matching_ids("“政管理”") == expected(2019, 2020, 2021)


def test_a_year_range_is_read_from_the_terms_once_per_index_generation(search_index, monkeypatch):
    """The years in a range are kept with the index generation: searches with the filter
    walk the term index once, and an address of a year new to the index is found after it is
    indexed."""
    walked, expanded = [], TermRange.expanded_terms
    monkeypatch.setattr(
        TermRange,
        "expanded_terms",
        lambda self, *a, **k: walked.append(1) or expanded(self, *a, **k),
    )
    first = make_speech(title="轴承报告", date=datetime.date(2019, 3, 5), paragraphs=["轴承。"])
    drain()
    cache.clear()
    assert service.matching_ids("轴承 year:2019-2021") == {first.pk}
    assert service.matching_ids("轴承 year:2019-2021") == {first.pk}
    assert service.search(query="轴承 year:2019-2021", page=2).count == 1
    assert len(walked) == 1
    later = make_speech(title="轴承报告", date=datetime.date(2021, 3, 5), paragraphs=["轴承。"])
    drain()
    assert service.matching_ids("轴承 year:2019-2021") == {first.pk, later.pk}
    assert len(walked) == 2
