import datetime
import re

import pytest

from speeches.models import Paragraph, Speech

pytestmark = pytest.mark.django_db


def test_every_model_has_a_working_admin(boss, seed):
    for name in [
        "organization",
        "person",
        "event",
        "speech",
        "paragraph",
        "sourcefile",
        "archivestamp",
    ]:
        listing = boss.get(f"/admin/speeches/{name}/")
        assert listing.status_code == 200, name
    assert "周宇" in boss.get("/admin/speeches/speech/").content.decode()
    filtered = boss.get("/admin/speeches/speech/?status__exact=draft").content.decode()
    assert "发展新质生产力与轴承产业新机遇" not in filtered
    found = boss.get("/admin/speeches/speech/?q=周宇").content.decode()
    assert "发展新质生产力与轴承产业新机遇" in found


def test_autocomplete_finds_speakers(boss, seed):
    response = boss.get(
        "/admin/autocomplete/",
        {"term": "周", "app_label": "speeches", "model_name": "speech", "field_name": "speaker"},
    )
    assert [r["text"] for r in response.json()["results"]] == ["周宇"]


def test_body_is_edited_as_one_text_area_split_on_blank_lines(boss, seed):
    form = boss.get(f"/admin/speeches/speech/{seed.pk}/change/").content.decode()
    assert "各位来宾，各位朋友：\n\n两年一届" in form
    data = {
        "title": seed.title,
        "subtitle": seed.subtitle,
        "kind": seed.kind,
        "status": "published",
        "speaker": seed.speaker_id,
        "position": seed.position,
        "organization": seed.organization_id,
        "event": seed.event_id,
        "column": seed.column,
        "date": "2024-01-01",
        "date_precision": "year",
        "body": "第一段。\r\n\r\n第二段，\r\n续行。\r\n\r\n\r\n第三段 with Latin。",
    }
    response = boss.post(f"/admin/speeches/speech/{seed.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(Paragraph.objects.filter(speech=seed).values_list("text", flat=True)) == [
        "第一段。",
        "第二段，\n续行。",
        "第三段 with Latin。",
    ]


def test_empty_body_is_refused_and_nothing_is_lost(boss, seed):
    data = {"title": seed.title, "kind": seed.kind, "status": "published", "body": "  \n\n "}
    response = boss.post(f"/admin/speeches/speech/{seed.pk}/change/", data)
    assert response.status_code == 200
    assert "正文不能为空" in response.content.decode()
    assert seed.paragraphs.count() == 8


def test_publish_and_unpublish_actions(boss, seed, client):
    boss.post("/admin/speeches/speech/", {"action": "unpublish", "_selected_action": [seed.pk]})
    assert Speech.objects.get(pk=seed.pk).status == "draft"
    assert client.get(f"/speeches/{seed.pk}/").status_code == 404
    assert "draft-notice" in boss.get(f"/speeches/{seed.pk}/").content.decode()
    boss.post("/admin/speeches/speech/", {"action": "publish", "_selected_action": [seed.pk]})
    assert Speech.objects.get(pk=seed.pk).status == "published"
    assert client.get(f"/speeches/{seed.pk}/").status_code == 200


def test_the_admin_is_titled_for_the_archive(boss):
    page = boss.get("/admin/").content.decode()
    assert "<title>讲稿、讲者与会议活动 | 讲稿库管理</title>" in page
    assert "Django" not in page.split("<body", 1)[1].split("</header>", 1)[0]


def test_change_list_shows_dates_at_their_precision_and_the_speaker_in_one_column(boss, seed):
    from speeches.models import DatePrecision

    from .factories import make_speech

    make_speech(title="月份讲稿", date=datetime.date(2023, 5, 1), precision=DatePrecision.MONTH)
    page = boss.get("/admin/speeches/speech/").content.decode()
    cells = dict(
        re.findall(
            r'<a href="/admin/speeches/speech/\d+/change/">([^<]+)</a></th>'
            r'.*?<td class="field-date_shown[^"]*">([^<]+)</td>',
            page,
        )
    )
    assert cells == {"发展新质生产力与轴承产业新机遇": "2024年", "月份讲稿": "2023年5月"}
    assert "2024年1月1日" not in page and "2023年5月1日" not in page
    assert '<td class="field-byline">周宇（中国轴承工业协会理事长）</td>' in page
