"""RSS and Atom feeds of the latest published addresses."""

import datetime
import email.utils
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from speeches.models import DatePrecision, SpeechStatus

from .factories import make_speech

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"


def rss_items(client):
    response = client.get(reverse("speeches:feed_rss"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/rss+xml; charset=utf-8"
    return ET.fromstring(response.content).findall("channel/item")


def atom_entries(client):
    response = client.get(reverse("speeches:feed_atom"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    return ET.fromstring(response.content).findall(f"{ATOM}entry")


@pytest.fixture
def archive(seed):
    """The seed address, a newer and an undated one published, and a newer draft."""
    newer = make_speech(
        title="制造业的下一个十年",
        speaker="李四",
        event="2025 装备大会",
        date=datetime.date(2025, 3, 8),
        paragraphs=["同志们：", "长" * 500, "第三段。"],
    )
    undated = make_speech(title="无日期的讲话", speaker=None, date=None)
    draft = make_speech(
        title="尚未发布的草稿", status=SpeechStatus.DRAFT, date=datetime.date(2026, 1, 1)
    )
    return {"seed": seed, "newer": newer, "undated": undated, "draft": draft}


def test_rss_lists_published_addresses_newest_first(client, archive):
    items = rss_items(client)
    assert [item.findtext("title") for item in items] == [
        "制造业的下一个十年",
        "发展新质生产力与轴承产业新机遇",
        "无日期的讲话",
    ]
    seed = archive["seed"]
    item = items[1]
    assert item.findtext("link") == f"http://testserver/speeches/{seed.pk}/"
    assert item.findtext("guid") == item.findtext("link")
    assert item.findtext(f"{DC}creator") == "周宇"
    # A year-only date is the first day of that year, in the archive's time zone.
    published = email.utils.parsedate_to_datetime(item.findtext("pubDate"))
    assert published.isoformat() == "2024-01-01T00:00:00+08:00"
    assert {c.text for c in item.findall("category")} == {"致辞", "2024 上海国际轴承峰会"}


def test_description_names_speaker_and_event_and_summarises_the_opening(client, archive):
    description = rss_items(client)[1].findtext("description")
    assert description.startswith(
        "<p>周宇（中国轴承工业协会理事长） · 2024 上海国际轴承峰会 · 2024年</p>"
    )
    assert "<p>——2024 上海国际轴承峰会致辞</p>" in description
    # Plain text: the salutation and the start of the body, cut short.
    summary = description.rsplit("<p>", 1)[1].removesuffix("</p>")
    assert summary.startswith("各位来宾，各位朋友： 两年一届的上海国际轴承峰会再一次")
    assert len(summary) <= 200 and "<" not in summary


def test_a_long_opening_is_truncated(client, archive):
    description = rss_items(client)[0].findtext("description")
    summary = description.rsplit("<p>", 1)[1].removesuffix("</p>")
    assert summary.startswith("同志们： 长长长") and len(summary) <= 200
    assert "第三段" not in summary


def test_atom_has_the_same_entries_with_html_summaries(client, archive):
    entries = atom_entries(client)
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        item.findtext("title") for item in rss_items(client)
    ]
    first = entries[0]
    assert first.find(f"{ATOM}link").get("href") == (
        f"http://testserver/speeches/{archive['newer'].pk}/"
    )
    assert first.findtext(f"{ATOM}author/{ATOM}name") == "李四"
    assert first.findtext(f"{ATOM}published") == "2025-03-08T00:00:00+08:00"
    summary = first.find(f"{ATOM}summary")
    assert summary.get("type") == "html" and "李四 · 2025 装备大会 · 2025年3月8日" in summary.text


def test_drafts_and_unpublished_addresses_never_appear(client, archive):
    archive["seed"].status = SpeechStatus.DRAFT
    archive["seed"].save()
    for response in (
        client.get(reverse("speeches:feed_rss")),
        client.get(reverse("speeches:feed_atom")),
    ):
        text = response.content.decode()
        assert "尚未发布的草稿" not in text and "发展新质生产力" not in text
        assert "制造业的下一个十年" in text


def test_feed_queries_do_not_grow_with_the_items(client, seed, django_assert_max_num_queries):
    for n in range(12):
        make_speech(title=f"讲稿{n}", event=f"会议{n}", date=datetime.date(2020, 1, n + 1))
    with django_assert_max_num_queries(4):
        items = rss_items(client)
    assert len(items) == 13


def test_feed_is_limited_to_the_latest(client, db):
    from speeches import feeds

    for n in range(feeds.FEED_ITEMS + 2):
        make_speech(
            title=f"讲稿{n}", date=datetime.date(2000 + n, 1, 1), precision=DatePrecision.YEAR
        )
    titles = [item.findtext("title") for item in rss_items(client)]
    assert len(titles) == feeds.FEED_ITEMS and titles[0] == f"讲稿{feeds.FEED_ITEMS + 1}"


def test_every_page_announces_and_links_the_feeds(client, seed):
    page = client.get(reverse("speeches:speech", args=[seed.pk])).content.decode()
    rss, atom = reverse("speeches:feed_rss"), reverse("speeches:feed_atom")
    assert f'type="application/rss+xml" title="讲稿库 · 最新讲稿（RSS）" href="{rss}"' in page
    assert f'type="application/atom+xml" title="讲稿库 · 最新讲稿（Atom）" href="{atom}"' in page
    footer = page.split('<footer class="site-footer">', 1)[1]
    assert f'<a href="{rss}">RSS</a>' in footer and f'<a href="{atom}">Atom</a>' in footer
