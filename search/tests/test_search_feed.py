"""/feeds/search.atom?q=…: the newest addresses a search finds, as an Atom feed a reader follows."""

import datetime
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from search import service
from search.queue import drain
from speeches.models import Person, SpeechStatus
from speeches.tests.factories import make_speech

ATOM = "{http://www.w3.org/2005/Atom}"


def feed(client, **params):
    response = client.get(reverse("search:feed"), params)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    return ET.fromstring(response.content)


def titles(root):
    return [entry.findtext(f"{ATOM}title") for entry in root.findall(f"{ATOM}entry")]


@pytest.fixture
def archive(seed):
    """The seed (2024) and two more addresses on bearings, one older and one newer, another on
    something else, and a draft on bearings."""
    make_speech(
        title="轴承标准化工作报告",
        speaker="李明",
        date=datetime.date(2022, 3, 10),
        paragraphs=["过去一年，轴承标准化工作稳步推进。"],
    )
    make_speech(
        title="高端轴承的攻关",
        speaker="王芳",
        date=datetime.date(2025, 6, 1),
        paragraphs=["各位代表：", "我们要在高端轴承领域攻克关键核心技术。"],
    )
    make_speech(title="数字化转型", speaker="王芳", paragraphs=["数字化转型注入新动能。"])
    make_speech(title="轴承草稿", paragraphs=["轴承的草稿。"], status=SpeechStatus.DRAFT)
    drain()
    return seed


def test_the_feed_lists_what_the_search_finds_newest_first(client, archive):
    root = feed(client, q="轴承")
    assert titles(root) == ["高端轴承的攻关", archive.title, "轴承标准化工作报告"]
    found = service.search(query="轴承", sort="date", page_size=30, facets=False)
    assert titles(root) == [hit.speech.title for hit in found.hits]
    assert root.findtext(f"{ATOM}title") == "讲稿库 · 检索“轴承”"
    link = root.find(f"{ATOM}link[@rel='alternate']").get("href")
    assert link == "http://testserver/search/?q=%E8%BD%B4%E6%89%BF"
    # Each entry shows the paragraphs that matched, linked at their anchors.
    summary = root.find(f"{ATOM}entry/{ATOM}summary")
    assert summary.get("type") == "html"
    newest = found.hits[0].speech
    assert f'<a href="http://testserver/speeches/{newest.pk}/#p2">§2</a>' in summary.text
    assert "高端<mark>轴承</mark>领域" in summary.text
    assert summary.text.startswith("<p>王芳 · 2025年6月1日</p>")


def test_filters_narrow_the_feed_as_they_narrow_the_page(client, archive):
    wang = Person.objects.get(name="王芳")
    assert titles(feed(client, q="轴承", speaker=wang.pk)) == ["高端轴承的攻关"]
    assert titles(feed(client, q="轴承", year="2024")) == [archive.title]


def test_drafts_and_withdrawn_addresses_never_appear(client, archive):
    archive.status = SpeechStatus.DRAFT
    archive.save()  # not indexed yet: the hit is dropped all the same
    found = titles(feed(client, q="轴承"))
    assert found == ["高端轴承的攻关", "轴承标准化工作报告"]


@pytest.mark.parametrize(
    "q", ["", "   ", "\x00\x01轴承\x0b", "x" * 5000, '"未闭合', "speaker:", "-轴承"]
)
def test_any_query_gives_a_feed(client, archive, q):
    root = feed(client, q=q)
    assert root.tag == f"{ATOM}feed"
    assert "\x01" not in root.findtext(f"{ATOM}title")


def test_the_results_page_announces_its_feed(client, archive):
    page = client.get(reverse("search:search"), {"q": "轴承", "year": "2024"}).content.decode()
    head = page.split("</head>", 1)[0]
    assert (
        '<link rel="alternate" type="application/atom+xml" title="检索“轴承”的新讲稿（Atom）" '
        'href="/feeds/search.atom?q=%E8%BD%B4%E6%89%BF&amp;year=2024">'
    ) in head
    assert (
        'application/atom+xml" title="检索'
        not in client.get(reverse("search:search")).content.decode()
    )


def test_the_feed_is_rate_limited_as_search_is(client, archive, settings):
    settings.ARCHIVE_SEARCH_RATE = "2/60"
    codes = [client.get(reverse("search:feed"), {"q": "轴承"}).status_code for _ in range(2)]
    refused = client.get(reverse("search:search"), {"q": "轴承"})
    assert codes == [200, 200] and refused.status_code == 429
    assert client.get(reverse("search:feed"), {"q": "轴承"}).status_code == 429
