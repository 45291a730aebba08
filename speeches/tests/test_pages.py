"""Every public page, rendered through the real URLconf and templates."""

import datetime
import re

import pytest
from django.urls import reverse

from speeches import services
from speeches.models import DatePrecision, Organization, SpeechStatus

from .factories import make_speech

pytestmark = pytest.mark.django_db


def text_of(response):
    return re.sub(r"\s+", " ", response.content.decode())


def test_home_shows_counts_latest_events_and_speakers(client, seed):
    make_speech(title="一份草稿", status=SpeechStatus.DRAFT)
    page = text_of(client.get("/"))
    assert "收录 1 篇讲稿，1 个会议活动，1 位讲者，1 个机构。" in page
    assert seed.title in page
    assert "2024 上海国际轴承峰会" in page
    assert "周宇" in page
    assert 'action="/search/"' in page and 'name="q"' in page
    assert "一份草稿" not in page


def test_speech_page_shows_the_whole_record(client, seed):
    response = client.get(f"/speeches/{seed.pk}/")
    page = text_of(response)
    assert response.status_code == 200
    assert "<title>发展新质生产力与轴承产业新机遇 · 讲稿库</title>" in page
    assert (
        '<meta name="description" content="发展新质生产力与轴承产业新机遇——2024 上海国际轴承峰会致辞'
        in page
    )
    assert "——2024 上海国际轴承峰会致辞" in page
    assert "周宇</a>，理事长" in page and "中国轴承工业协会" in page
    assert '<time datetime="2024" itemprop="dateCreated">2024年</time>' in page
    assert "卷首语" in page and "致辞" in page
    for n in range(1, 9):
        assert f'id="p{n}"' in page and f'href="#p{n}"' in page
    assert 'id="p9"' not in page
    assert "新的的市场需求" in page
    assert "引用" in page and f"http://testserver/speeches/{seed.pk}/" in page
    assert 'media="print"' in page


def test_speech_page_links_previous_and_next_of_the_same_event(client, seed):
    later = make_speech(title="闭幕致辞", event=seed.event.name, date=datetime.date(2024, 6, 1))
    make_speech(title="别的会议", event="另一会议", date=datetime.date(2024, 3, 1))
    page = text_of(client.get(f"/speeches/{seed.pk}/"))
    assert f'<a rel="next" href="/speeches/{later.pk}/">闭幕致辞 →</a>' in page
    assert 'rel="prev"' not in page
    assert f'<a rel="prev" href="/speeches/{seed.pk}/">' in text_of(
        client.get(f"/speeches/{later.pk}/")
    )


def import_session(title, occasion, date):
    """An address imported as the bulk import does, with the occasion and date its TSV gives."""
    return services.import_transcript(
        data=f"{title}\n\n各位代表：\n\n{title}的正文。\n".encode(),
        filename=f"{date}.txt",
        metadata={"title": title, "event": occasion, "date": date},
        status=SpeechStatus.PUBLISHED,
    ).speech


@pytest.fixture
def sessions(db):
    """Three sessions of one congress, whose names sort by code point as 第一次, 第三次, 第二次,
    and a party congress between two of them in the same year."""
    return [
        import_session("1988年政府工作报告", "第七届全国人民代表大会第一次会议", "1988-03-25"),
        import_session("1989年政府工作报告", "第七届全国人民代表大会第二次会议", "1989-03-20"),
        import_session("1990年政府工作报告", "第七届全国人民代表大会第三次会议", "1990-03-20"),
        import_session(
            "沿着有中国特色的社会主义道路前进", "中国共产党第十三次全国代表大会", "1987-10-25"
        ),
        import_session("1987年政府工作报告", "第六届全国人民代表大会第五次会议", "1987-03-25"),
    ]


def test_sessions_of_a_congress_link_across_the_series(client, sessions):
    r1987, r1988, r1989, r1990 = sessions[4], sessions[0], sessions[1], sessions[2]
    assert {s.event.series for s in (r1987, r1988, r1989, r1990)} == {"全国人民代表大会"}
    assert sessions[3].event.series == "中国共产党全国代表大会"
    page = text_of(client.get(f"/speeches/{r1989.pk}/"))
    assert (
        f'<a rel="prev" href="/speeches/{r1988.pk}/">← 1988年政府工作报告（第七届全国人民代表大会第一次会议）</a>'
        in page
    )
    assert (
        f'<a rel="next" href="/speeches/{r1990.pk}/">1990年政府工作报告（第七届全国人民代表大会第三次会议） →</a>'
        in page
    )
    # From one term to the next, and never into another series.
    page = text_of(client.get(f"/speeches/{r1988.pk}/"))
    assert f'rel="prev" href="/speeches/{r1987.pk}/"' in page
    assert "沿着有中国特色的社会主义道路前进" not in page


def test_events_are_listed_by_date_and_grouped_by_series(client, sessions):
    def order(page, names):
        return sorted(names, key=page.index)

    sessions_of_the_7th = [f"第七届全国人民代表大会第{n}次会议" for n in "一二三"]
    events = text_of(client.get("/events/"))
    assert order(events, sessions_of_the_7th) == sessions_of_the_7th[::-1]
    # In 1987 the party congress (October) came after the session of March.
    in_1987 = ["中国共产党第十三次全国代表大会", "第六届全国人民代表大会第五次会议"]
    assert order(events, in_1987) == in_1987
    assert (
        '<a href="/events/?series=%E5%85%A8%E5%9B%BD%E4%BA%BA%E6%B0%91%E4%BB%A3%E8%A1%A8%E5%A4%A7%E4%BC%9A">全国人民代表大会</a> <span class="count">4</span>'
        in events
    )
    choices = text_of(client.get("/speeches/"))
    assert order(choices, sessions_of_the_7th) == sessions_of_the_7th[::-1]
    series = client.get("/events/", {"series": "全国人民代表大会"})
    page = text_of(series)
    assert "<h1>全国人民代表大会</h1>" in page and "中国共产党第十三次全国代表大会" not in page
    assert order(page, sessions_of_the_7th) == sessions_of_the_7th[::-1]
    assert client.get("/events/", {"series": "没有的系列"}).status_code == 404


def test_an_event_page_links_its_series_and_the_sessions_around_it(client, sessions):
    second = sessions[1].event
    page = text_of(client.get(second.get_absolute_url()))
    assert '<dd><a href="/events/?series=' in page and ">全国人民代表大会</a></dd>" in page
    assert (
        f'<a href="{sessions[0].event.get_absolute_url()}">← 第七届全国人民代表大会第一次会议</a>'
        in page
    )
    assert (
        f'<a href="{sessions[2].event.get_absolute_url()}">第七届全国人民代表大会第三次会议 →</a>'
        in page
    )


def test_unknown_ids_and_drafts_are_real_404_pages(client, seed):
    draft = make_speech(title="未发布的草稿", status=SpeechStatus.DRAFT)
    for url in [f"/speeches/{draft.pk}/", "/speeches/999999/", "/events/999/", "/years/0/"]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "未找到页面" in response.content.decode()
        assert "未发布的草稿" not in response.content.decode()


def test_a_year_without_addresses_says_so_and_links_the_nearest_years(client, seed):
    make_speech(title="一九六四年的讲话", date=datetime.date(1964, 12, 21))
    make_speech(title="一九六九年的讲话", date=datetime.date(1969, 4, 1))
    make_speech(title="一九六六年的草稿", date=datetime.date(1966, 5, 1), status=SpeechStatus.DRAFT)
    response = client.get("/years/1966/")
    page = text_of(response)
    assert response.status_code == 200
    assert "1966年没有收录讲稿。" in page and "一九六六年的草稿" not in page
    assert 'href="/years/1964/">1964年</a>、<a href="/years/1969/">1969年</a>' in page
    # A year with addresses links its neighbours too.
    assert '<a href="/years/1964/">← 1964年</a>' in text_of(client.get("/years/1969/"))
    # Outside the archive's years the page is not one of the archive's, but still shows the way.
    for url, nearest in [("/years/1800/", "/years/1964/"), ("/years/2100/", "/years/2024/")]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert f'href="{nearest}"' in text_of(response) and "没有收录讲稿" in text_of(response)


def test_people_events_and_organizations_named_only_by_drafts_are_not_public(client, seed):
    draft = make_speech(
        status=SpeechStatus.DRAFT,
        speaker="未公开讲者",
        event="未公开会议",
        organization="未公开机构",
    )
    pages = [
        f"/people/{draft.speaker.pk}/",
        f"/events/{draft.event.pk}/",
        f"/organizations/{draft.organization.pk}/",
    ]
    assert [client.get(url).status_code for url in pages] == [404, 404, 404]
    draft.status = SpeechStatus.PUBLISHED
    draft.save()
    assert [client.get(url).status_code for url in pages] == [200, 200, 200]


def test_an_event_s_organizer_page_is_public_without_addresses_of_its_own(client, seed):
    organizer = Organization.objects.create(name="只办会的机构")
    seed.event.organizer = organizer
    seed.event.save()
    event_page = client.get(f"/events/{seed.event.pk}/").content.decode()
    assert f'href="/organizations/{organizer.pk}/"' in event_page
    page = client.get(f"/organizations/{organizer.pk}/")
    assert page.status_code == 200 and "只办会的机构" in page.content.decode()


def test_made_up_query_parameters_do_not_multiply_cached_pages(client, seed):
    from django.core.cache import cache

    def entries():
        return len(cache._cache)  # LocMemCache: how many pages are held

    client.get("/speeches/?year=2024")
    client.get(f"/speeches/{seed.pk}/")
    held = entries()
    for n in range(5):
        assert "发展新质生产力" in client.get(f"/speeches/?year=2024&junk={n}").content.decode()
        assert f"junk={n}" not in client.get(f"/speeches/{seed.pk}/?junk={n}").content.decode()
    assert entries() == held
    assert client.get("/speeches/?year=2023").content != client.get("/speeches/?year=2024").content


def test_drafts_never_appear_in_lists(client, seed):
    make_speech(title="秘密草稿", status=SpeechStatus.DRAFT, event=seed.event.name)
    for url in [
        "/",
        "/speeches/",
        f"/events/{seed.event.pk}/",
        f"/people/{seed.speaker.pk}/",
        "/years/2024/",
        "/api/v1/speeches",
    ]:
        assert "秘密草稿" not in client.get(url).content.decode(), url


def test_list_filters_combine(client, seed):
    make_speech(title="甲", speaker="周宇", date=datetime.date(2023, 5, 1), kind="讲话")
    make_speech(title="乙", speaker="王五", date=datetime.date(2023, 6, 1), kind="讲话")
    make_speech(
        title="丙",
        speaker="周宇",
        date=datetime.date(2022, 1, 1),
        precision=DatePrecision.YEAR,
        kind="讲话",
    )
    pk = seed.speaker.pk

    def titles(query):
        page = client.get(f"/speeches/?{query}").content.decode()
        return re.findall(r'class="speech-card__title"><a href="/speeches/\d+/">([^<]+)<', page)

    assert titles("") == [seed.title, "乙", "甲", "丙"]
    assert titles(f"speaker={pk}") == [seed.title, "甲", "丙"]
    assert titles(f"speaker={pk}&year=2023") == ["甲"]
    assert titles(f"speaker={pk}&kind=讲话&sort=date") == ["丙", "甲"]
    assert titles(f"event={seed.event.pk}") == [seed.title]
    assert titles(f"organization={seed.organization.pk}") == [seed.title]
    assert titles("year=abc&kind=nonsense") == titles("")


def test_list_sorts_by_date_and_paginates(client, settings, db):
    settings.ARCHIVE_PAGE_SIZE = 2
    for day in range(1, 6):
        make_speech(title=f"第{day}篇", date=datetime.date(2020, 1, day))
    first = client.get("/speeches/").content.decode()
    assert first.index("第5篇") < first.index("第4篇") and "第3篇" not in first
    assert "第 1 / 3 页" in first and 'rel="next" href="?page=2"' in first
    oldest = client.get("/speeches/?sort=date&page=1").content.decode()
    assert "第1篇" in oldest and "sort=date&amp;page=2" in oldest
    assert client.get("/speeches/?page=999").status_code == 200


def test_event_person_organization_and_year_pages_list_their_addresses(client, seed):
    other = make_speech(title="别人的讲话", speaker="王五", date=datetime.date(2019, 1, 1))
    pages = {
        f"/events/{seed.event.pk}/": ["上海国际轴承峰会", "上海", "中国轴承工业协会"],
        f"/people/{seed.speaker.pk}/": ["周宇", "理事长"],
        f"/organizations/{seed.organization.pk}/": ["中国轴承工业协会"],
        "/years/2024/": ["2024年"],
        "/events/": ["2024 上海国际轴承峰会"],
        "/people/": ["周宇", "王五"],
    }
    for url, expected in pages.items():
        page = text_of(client.get(url))
        for fragment in expected:
            assert fragment in page, (url, fragment)
        if url not in ("/people/", "/events/"):
            assert seed.title in page, url
            assert other.title not in page, url


def test_staff_see_edit_link_public_does_not(client, seed, superuser):
    assert "编辑" not in text_of(client.get(f"/speeches/{seed.pk}/"))
    client.force_login(superuser)
    assert f"/admin/speeches/speech/{seed.pk}/change/" in text_of(
        client.get(f"/speeches/{seed.pk}/")
    )


def test_transcript_html_is_shown_inert(client, db):
    speech = make_speech(title="<script>alert(1)</script>", paragraphs=['<b onclick="x()">粗</b>'])
    page = client.get(f"/speeches/{speech.pk}/").content.decode()
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<b onclick="x()">' not in page


def test_pages_work_without_javascript_and_on_a_phone(client, seed):
    page = client.get(f"/speeches/{seed.pk}/").content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    # The only script is an enhancement loaded with defer; the paragraph links are plain anchors.
    assert page.count("<script") == 1 and "defer" in page


def test_address_page_links_the_uploaded_original_for_staff_only(client, seed_path, superuser):
    from speeches import services

    result = services.import_transcript(
        data=seed_path.read_bytes(), filename="seed.txt", status="published"
    )
    url = f"/speeches/{result.speech.pk}/"
    download = reverse("admin:speeches_sourcefile_download", args=[result.source_file.pk])
    assert download not in client.get(url).content.decode()
    client.force_login(superuser)
    page = client.get(url).content.decode()
    assert f'href="{download}"' in page and "原始文件：seed.txt" in page
    assert b"".join(client.get(download).streaming_content) == seed_path.read_bytes()


def test_editing_one_paragraph_shows_at_once_despite_the_page_cache(client, seed, boss):
    url = f"/speeches/{seed.pk}/"
    assert "新的的市场需求" in client.get(url).content.decode()
    paragraph = seed.paragraphs.get(position=4)
    response = boss.post(
        f"/admin/speeches/paragraph/{paragraph.pk}/change/",
        {"speech": seed.pk, "position": 4, "text": "改过的第四段。"},
    )
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "改过的第四段。" in page and "新的的市场需求" not in page


def test_readers_see_a_change_on_the_next_request_despite_the_page_cache(client, seed):
    from speeches import services

    assert seed.title in client.get("/").content.decode()
    assert client.get(f"/speeches/{seed.pk}/").status_code == 200
    services.unpublish(speech=seed)
    assert seed.title not in client.get("/").content.decode()
    assert client.get(f"/speeches/{seed.pk}/").status_code == 404
    services.publish(speech=seed)
    later = make_speech(title="新加的一篇")
    assert later.title in client.get("/").content.decode()
    later.delete()
    assert later.title not in client.get("/").content.decode()


def test_renaming_an_event_shows_on_cached_pages_at_once(client, seed):
    url = f"/speeches/{seed.pk}/"
    assert "2024 上海国际轴承峰会" in client.get(url).content.decode()
    event = seed.event
    event.name = "2024 上海国际轴承峰会（第十届）"
    event.save()
    assert "2024 上海国际轴承峰会（第十届）" in client.get(url).content.decode()
    assert "2024 上海国际轴承峰会（第十届）" in client.get("/").content.decode()
