"""Atom feeds of one speaker's, event's or organization's addresses, linked from their pages, and
the sitemap of what readers can open."""

import datetime
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from speeches.models import SpeechStatus

from .factories import make_speech

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def atom(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    return ET.fromstring(response.content)


def entry_titles(feed):
    return [entry.findtext(f"{ATOM}title") for entry in feed.findall(f"{ATOM}entry")]


@pytest.fixture
def archive(seed):
    """Beside the seed (周宇 for 中国轴承工业协会 at 2024 上海国际轴承峰会): a later address by the
    same speaker elsewhere, another speaker's at the same summit, and drafts by both."""
    later = make_speech(
        title="轴承产业的下一个十年",
        speaker="周宇",
        organization="中国轴承工业协会",
        event="2025 装备大会",
        date=datetime.date(2025, 3, 8),
    )
    other = make_speech(
        title="峰会闭幕致辞", speaker="李四", event=seed.event.name, date=datetime.date(2024, 6, 1)
    )
    make_speech(
        title="周宇的草稿", speaker="周宇", event=seed.event.name, status=SpeechStatus.DRAFT
    )
    return {"seed": seed, "later": later, "other": other}


def test_a_speaker_s_feed_lists_their_published_addresses_newest_first(client, archive):
    seed = archive["seed"]
    feed = atom(client, reverse("speeches:feed_person", args=[seed.speaker.pk]))
    assert feed.findtext(f"{ATOM}title") == "讲稿库 · 周宇的讲稿"
    assert entry_titles(feed) == ["轴承产业的下一个十年", seed.title]
    link = feed.find(f"{ATOM}link[@rel='alternate']").get("href")
    assert link == f"http://testserver/people/{seed.speaker.pk}/"
    first = feed.find(f"{ATOM}entry")
    assert first.find(f"{ATOM}link").get("href") == (
        f"http://testserver/speeches/{archive['later'].pk}/"
    )
    assert first.findtext(f"{ATOM}author/{ATOM}name") == "周宇"


def test_an_event_s_and_an_organization_s_feeds(client, archive):
    seed = archive["seed"]
    event = atom(client, reverse("speeches:feed_event", args=[seed.event.pk]))
    assert event.findtext(f"{ATOM}title") == "讲稿库 · 2024 上海国际轴承峰会的讲稿"
    assert entry_titles(event) == ["峰会闭幕致辞", seed.title]
    organization = atom(client, reverse("speeches:feed_organization", args=[seed.organization.pk]))
    assert entry_titles(organization) == ["轴承产业的下一个十年", seed.title]


def test_each_page_announces_and_links_its_feed(client, archive):
    seed = archive["seed"]
    pages = {
        seed.speaker.get_absolute_url(): ("feed_person", seed.speaker.pk, "周宇的讲稿（Atom）"),
        seed.event.get_absolute_url(): (
            "feed_event",
            seed.event.pk,
            "2024 上海国际轴承峰会的讲稿（Atom）",
        ),
        seed.organization.get_absolute_url(): (
            "feed_organization",
            seed.organization.pk,
            "中国轴承工业协会的讲稿（Atom）",
        ),
    }
    for url, (name, pk, title) in pages.items():
        page = client.get(url).content.decode()
        feed = reverse(f"speeches:{name}", args=[pk])
        head = page.split("</head>", 1)[0]
        assert (
            f'<link rel="alternate" type="application/atom+xml" title="{title}" href="{feed}">'
            in head
        ), url
        assert f'<a href="{feed}" type="application/atom+xml">订阅新讲稿（Atom）</a>' in page, url


def test_records_named_only_by_drafts_and_unknown_ids_have_no_feed(client, seed):
    draft = make_speech(
        title="草稿讲话",
        speaker="王五",
        organization="草稿协会",
        event="草稿会议",
        status=SpeechStatus.DRAFT,
    )
    urls = [
        reverse("speeches:feed_person", args=[draft.speaker.pk]),
        reverse("speeches:feed_event", args=[draft.event.pk]),
        reverse("speeches:feed_organization", args=[draft.organization.pk]),
        "/feeds/people/999999.atom",
        "/feeds/events/99999999999999999999.atom",
        "/feeds/organizations/abc.atom",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "未找到页面" in response.content.decode() and "草稿" not in response.content.decode()


def test_a_control_character_in_a_title_leaves_the_feeds_readable(client, db):
    speech = make_speech(title="轴承\x01讲话\x0b", event="峰会", paragraphs=["正文\x08。"])
    for url in [
        reverse("speeches:feed_atom"),
        reverse("speeches:feed_rss"),
        reverse("speeches:feed_event", args=[speech.event.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "轴承讲话" in ET.tostring(ET.fromstring(response.content), encoding="unicode")


# -- sitemap and robots.txt -------------------------------------------------------------------------


def test_the_sitemap_lists_published_addresses_and_the_pages_listing_them(client, archive):
    draft = make_speech(title="草稿", speaker="王五", event="草稿会议", status=SpeechStatus.DRAFT)
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response["Content-Type"] == "application/xml"
    root = ET.fromstring(response.content)
    entries = {u.findtext(f"{SITEMAP}loc"): u.findtext(f"{SITEMAP}lastmod") for u in root}
    seed, later, other = archive["seed"], archive["later"], archive["other"]
    expected = {
        "/", "/speeches/", "/events/", "/people/",
        *(s.get_absolute_url() for s in (seed, later, other)),
        seed.speaker.get_absolute_url(), other.speaker.get_absolute_url(),
        seed.event.get_absolute_url(), later.event.get_absolute_url(),
        seed.organization.get_absolute_url(),
        "/years/2024/", "/years/2025/",
    }  # fmt: skip
    assert set(entries) == {f"http://testserver{path}" for path in expected}
    assert draft.get_absolute_url() not in response.content.decode()
    assert entries[f"http://testserver{seed.get_absolute_url()}"] == "2024-11-20"


@pytest.mark.parametrize("page", ["0", "2", "abc", "-1"])
def test_a_sitemap_page_that_does_not_exist_is_a_404_page(client, seed, page):
    response = client.get("/sitemap.xml", {"p": page})
    assert response.status_code == 404
    assert "未找到页面" in response.content.decode()


def test_robots_txt_points_to_the_sitemap(client, db):
    response = client.get("/robots.txt")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert "Sitemap: http://testserver/sitemap.xml" in lines
    assert "Disallow: /admin/" in lines and lines[0] == "User-agent: *"
