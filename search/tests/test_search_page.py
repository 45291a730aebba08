"""What a reader sees on the results page and on an address opened from a result (?hl=…)."""

import csv
import datetime
import io
import re
from html import unescape
from urllib.parse import quote, unquote_plus

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from search import service
from search.engine.cache import cache
from search.presenters import FACET_OPTIONS
from search.queue import drain
from speeches import services
from speeches.models import SpeechStatus
from speeches.tests.factories import make_speech

SEARCH = reverse("search:search")


def page(client, **params):
    response = client.get(SEARCH, params)
    assert response.status_code == 200
    return response.content.decode()


def text(html):
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", html)))


def section(html, css_class):
    """The element with this class, up to its closing tag (no nesting of the same tag)."""
    m = re.search(rf'<(\w+)[^>]* class="{css_class}"[^>]*>.*?</\1>', html, re.S)
    assert m, f"no .{css_class}"
    return m.group()


def facet(html, name):
    return section(html, f"facet facet-{name}")


def links(html):
    return [unescape(href) for href in re.findall(r'href="([^"]*)"', html)]


@pytest.fixture
def years(search_index):
    """Twenty addresses with 轴承, one a year from 1954 on (the 1950s included: dates before
    1970), each by a speaker of its own."""
    speeches = [
        make_speech(
            title=f"第{n}篇",
            speaker=f"讲者{n:02d}",
            date=datetime.date(1954 + 3 * n, 5, 1),
            paragraphs=[f"轴承第{n}段。"],
        )
        for n in range(20)
    ]
    drain()
    return speeches


# -- facets (item 8) ---------------------------------------------------------------------


def test_every_year_is_shown_and_other_facets_show_more(client, years):
    html = page(client, q="轴承")
    year_links = re.findall(r">(\d{4})</a>", facet(html, "year"))
    assert year_links == [str(1954 + 3 * n) for n in reversed(range(20))]
    speakers = facet(html, "speaker")
    assert len(re.findall(r"<li", speakers)) == FACET_OPTIONS
    assert "更多（还有 5 项）" in text(speakers)

    (more,) = [u for u in links(speakers) if "more=speaker" in u]
    assert more.endswith("#facet-speaker")
    speakers = facet(client.get(SEARCH + more.split("#")[0]).content.decode(), "speaker")
    assert len(re.findall(r"<li", speakers)) == 20
    assert "收起" in text(speakers) and "更多" not in text(speakers)


# -- results: one short snippet, the rest on demand, 命中 N 处 (item 9) ---------------------


def cards(html):
    return re.findall(r'<article class="speech-card">.*?</article>', html, re.S)


def test_one_snippet_is_shown_the_others_behind_more_and_the_hits_counted(client, search_index):
    speech = make_speech(
        paragraphs=["轴承一，轴承二。", "没有那个词。", "轴承三。", "轴承四，轴承五，轴承六。"]
    )
    drain()
    (card,) = cards(page(client, q="軸承"))
    shown, more = card.split('<details class="more-snippets">')
    assert len(re.findall(r"<li>", shown)) == 1
    assert "另 2 段" in text(more) and len(re.findall(r"<li>", more)) == 2
    assert "命中 6 处" in text(card)
    marked = f"{speech.get_absolute_url()}?hl={quote('軸承')}"
    assert f"{marked}#hl-1" in links(card)
    assert {f"{marked}#p{n}" for n in (1, 3, 4)} <= set(links(card))


def test_hits_are_counted_as_the_address_page_marks_them(client, seed):
    for q in [
        "新质生产力",
        "质生产",
        "轴承 产业",
        "軸承",
        "发展",
        "“高质量发展”",
        "十四五 OR 汶川",
    ]:
        (hit,) = service.search(query=q).hits
        address = client.get(seed.get_absolute_url(), {"hl": q}).content.decode()
        marks = re.findall(r'<mark id="hl-(\d+)">', address)
        assert hit.occurrences > 0
        assert marks == [str(n) for n in range(1, hit.occurrences + 1)], q


def test_hits_of_text_edited_since_indexing_are_counted_afresh(seed):
    shown = service.search(query="新质生产力").hits[0].snippets[0].paragraph
    paragraph = seed.paragraphs.get(position=shown)
    paragraph.text = "新质生产力，" * 40
    paragraph.save()  # not indexed yet: the snippet's paragraph no longer folds as indexed
    cache.clear()
    (hit,) = service.search(query="新质生产力").hits
    marked = Client().get(seed.get_absolute_url(), {"hl": "新质生产力"}).content.decode()
    assert hit.occurrences == marked.count('<mark id="hl-') > 40


# -- help, the query as read, chips, one search box (item 10) ------------------------------


def test_the_empty_search_page_shows_the_syntax_card_with_examples(client, seed):
    html = page(client)
    card = section(html, "syntax-card")
    examples = {unquote_plus(q) for q in re.findall(r'href="\?q=([^"]*)"', card)}
    assert {"质生产", "“高质量发展”", "新冠肺炎 OR 汶川", "speaker:周宇"} <= examples
    assert "OR" in text(card) and "speaker:周宇" in text(card)
    assert seed.title in page(client, q="质生产")


def test_a_search_that_finds_nothing_shows_the_syntax_card(client, seed):
    html = page(client, q="不存在的词语")
    assert "没有找到相关讲稿" in html and 'class="syntax-card"' in html


def test_the_query_is_read_back_with_its_or(client, seed):
    html = page(client, q="新冠肺炎 OR 汶川 轴承 -钢铁")
    understood = text(section(html, "search-understood"))
    assert understood.startswith("检索词：新冠肺炎 或 汶川 轴承")
    words = text(section(page(client, q="新冠肺炎 OR 汶川", match="words"), "search-understood"))
    assert words.startswith("检索词：新冠 / 肺炎 或 汶川")
    assert "不含“钢铁”" in understood


def test_a_chosen_facet_is_a_chip_that_removes_it(client, years):
    html = page(client, q="轴承", year="1957")
    chips = section(html, "chips")
    assert "年份：1957" in text(chips)
    assert links(chips) == [f"?q={quote('轴承')}"]
    assert len(cards(html)) == 1
    assert len(cards(page(client, q="轴承"))) == 20


def test_a_chip_names_a_speaker_even_where_nothing_is_left(client, years):
    speaker = years[3].speaker
    html = page(client, q="轴承", speaker=str(speaker.pk), year="1954")
    assert "没有找到相关讲稿" in html
    assert "讲者：讲者03" in text(section(html, "chips"))


@pytest.mark.parametrize("url", ["/", SEARCH, f"{SEARCH}?q=轴承"])
def test_a_page_has_one_search_box(client, seed, url):
    html = client.get(url).content.decode()
    assert html.count('type="search"') == 1


# -- oldest first (item 12) -------------------------------------------------------------------


def test_sort_oldest_first_puts_undated_last(client, seed):
    old = make_speech(date=datetime.date(1954, 9, 15), paragraphs=["轴承工业的起步。"])
    newer = make_speech(date=datetime.date(2023, 5, 1), paragraphs=["轴承。"])
    undated = make_speech(date=None, paragraphs=["轴承的年代不详。"])
    drain()
    found = service.search(query="轴承", sort="oldest").hits
    assert [h.speech.pk for h in found] == [old.pk, newer.pk, seed.pk, undated.pk]
    newest = service.search(query="轴承", sort="date").hits
    assert [h.speech.pk for h in newest] == [seed.pk, newer.pk, old.pk, undated.pk]
    html = page(client, q="轴承", sort="oldest")
    assert "<strong>最早在前</strong>" in html
    assert re.findall(r'<h3 class="speech-card__title"><a href="([^"]+)"', html)[0] == (
        old.get_absolute_url()
    )


# -- the address opened from a result: ?hl= (item 11) ---------------------------------------


@pytest.fixture
def stored_seed(seed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.touch(speech=seed)
    return seed


def test_hl_marks_the_query_as_search_finds_it(client, stored_seed):
    url = stored_seed.get_absolute_url()
    exact = re.findall(
        r'<mark id="hl-\d+">([^<]+)</mark>', client.get(url, {"hl": "軸承產業"}).content.decode()
    )
    assert exact and all("轴承产业" in w for w in exact)  # traditional, as typed: as it stands
    html = client.get(url, {"hl": "軸承 產業"}).content.decode()  # two strings: each marked
    marked = re.findall(r'<mark id="hl-(\d+)">([^<]+)</mark>', html)
    count = len(marked)
    assert [n for n, _ in marked] == [str(n) for n in range(1, count + 1)]
    # Whole words, as in the snippets: 上海国际轴承峰会 (a word of the vocabulary), 轴承产业,
    # 产业链, 新兴产业 …
    assert marked[0][1] == "上海国际轴承峰会"
    assert all("轴承" in w or "产业" in w for _, w in marked)
    assert {"轴承", "产业链"} <= {w for _, w in marked}
    nav = text(section(html, "hl-nav"))
    assert f"在正文中命中 {count} 处" in nav
    assert f'href="#hl-{count}" data-step="-1"' in html and 'href="#hl-1" data-step="1"' in html
    assert '<meta name="robots" content="noindex">' in html
    assert f'<link rel="canonical" href="http://testserver{url}">' in html
    assert "js/mark-nav.js" in html


def test_hl_pages_are_neither_the_stored_page_nor_cached(client, stored_seed):
    url = stored_seed.get_absolute_url()
    plain = client.get(url).content.decode()
    assert "<mark" not in plain and "hl-nav" not in plain
    assert "<mark" in client.get(url, {"hl": "新质生产力"}).content.decode()
    assert client.get(url).content.decode() == plain
    other = client.get(url, {"hl": "十四五"}).content.decode()
    assert '<mark id="hl-1">十四五</mark>' in other and "新质生产力</mark>" not in other


def test_hl_escapes_the_text_it_marks(client, search_index):
    speech = make_speech(paragraphs=["<script>alert(1)</script> 轴承 & 钢"])
    drain()
    html = client.get(speech.get_absolute_url(), {"hl": "轴承"}).content.decode()
    assert '&lt;script&gt;alert(1)&lt;/script&gt; <mark id="hl-1">轴承</mark> &amp; 钢' in html


@pytest.mark.parametrize("hl", ["speaker:周宇", "-轴承", " "])
def test_hl_with_nothing_to_mark_is_the_plain_page(client, stored_seed, hl):
    html = client.get(stored_seed.get_absolute_url(), {"hl": hl}).content.decode()
    assert "<mark" not in html and "hl-nav" not in html
    assert stored_seed.title in html


def test_hl_of_a_word_not_in_the_body_says_so(client, stored_seed):
    html = client.get(stored_seed.get_absolute_url(), {"hl": "汶川"}).content.decode()
    assert "正文中没有“汶川”" in text(section(html, "hl-nav"))
    assert "mark-nav.js" not in html


def test_hl_never_shows_a_draft(client, search_index):
    draft = make_speech(status=SpeechStatus.DRAFT, paragraphs=["轴承。"])
    assert client.get(draft.get_absolute_url(), {"hl": "轴承"}).status_code == 404


def test_hl_follows_an_unindexed_edit(client, seed):
    services.replace_paragraphs(speech=seed, texts=["全新的一段：轴承，轴承。"])  # not drained
    html = client.get(seed.get_absolute_url(), {"hl": "轴承"}).content.decode()
    assert re.findall(r'<mark id="hl-(\d+)">轴承</mark>', html) == ["1", "2"]


def test_render_pages_stores_pages_without_marks(seed):
    call_command("render_pages", verbosity=0)
    assert "<mark" not in Client().get(seed.get_absolute_url()).content.decode()


def test_repeated_filters_read_back_as_alternatives(seed, client):
    page = client.get(
        reverse("search:search"), {"q": "轴承 speaker:周宇 speaker:李鹏 year:2024 year:1954"}
    )
    text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", page.content.decode())))
    assert "讲者：周宇 / 李鹏" in text and "年份：2024 / 1954" in text
    assert page.context["outcome"].count == 1


def test_syntax_that_is_not_ours_is_reported(seed, client):
    page = client.get(reverse("search:search"), {"q": "轴承~2 text:产业"})
    assert page.context["notice"].count("不是本站的检索语法") == 2
    assert page.context["outcome"].count == 1


def test_the_result_list_exports_as_csv_in_its_order_and_inert(client, seed):
    hostile = make_speech(title='=HYPERLINK("http://x")', paragraphs=["@SUM(1) 轴承"])
    plain = make_speech(title="轴承研究", paragraphs=["轴承。轴承。"])
    drain()
    html = page(client, q="轴承")
    assert 'href="?q=%E8%BD%B4%E6%89%BF&amp;format=csv"' in html
    response = client.get(SEARCH, {"q": "轴承", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert rows[0][:3] == ["id", "title", "subtitle"]
    expected = [h.speech.pk for h in service.search(query="轴承", page_size=1000).hits]
    assert [int(r[0]) for r in rows[1:]] == expected and len(expected) == 3
    by_id = {int(r[0]): r for r in rows[1:]}
    assert by_id[hostile.pk][1] == '\'=HYPERLINK("http://x")'
    assert by_id[hostile.pk][11] == "'@SUM(1) 轴承"
    assert by_id[plain.pk][9] == "2" and by_id[seed.pk][5] == "周宇"


def test_a_name_typed_in_pinyin_is_suggested(client, seed):
    html = page(client, q="zhouyu")
    line = text(section(html, "name-suggestions"))
    assert line == "您是不是要找：周宇（讲者）"
    assert f'href="{seed.speaker.get_absolute_url()}"' in section(html, "name-suggestions")
    assert "name-suggestions" not in page(client, q="轴承")


@pytest.mark.parametrize(
    "query",
    ["", "q=发展", "q=发展&year=2020&page=3", "year=2020&q=a+b&kind=speech&more=year",
     "q=%26x&speaker=1&speaker=2&sort=date"],
)  # fmt: skip
def test_a_facets_links_are_the_page_link_with_that_key_changed(rf, query):
    from search.views import _Linker

    link = _Linker(rf.get("/search/?" + query))
    for key in ("year", "q", "kind", "speaker", "sort", "more", "page"):
        setting = link.setting(key)
        for value in ("", None, "2021", "a b&c", "中文"):
            assert setting(value) == link(**{key: value})
