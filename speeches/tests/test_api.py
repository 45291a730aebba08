import json

import pytest

from speeches.models import SpeechStatus

from .factories import make_speech

pytestmark = pytest.mark.django_db


def test_speech_detail_json(client, seed):
    response = client.get(f"/api/v1/speeches/{seed.pk}")
    assert response["Content-Type"] == "application/json"
    data = json.loads(response.content)
    assert data == {
        "id": seed.pk,
        "title": "发展新质生产力与轴承产业新机遇",
        "subtitle": "2024 上海国际轴承峰会致辞",
        "kind": "致辞",
        "speaker": {"name": "周宇", "position": "理事长"},
        "organization": {"name": "中国轴承工业协会"},
        "event": {
            "name": "2024 上海国际轴承峰会",
            "series": "上海国际轴承峰会",
            "year": 2024,
            "city": "上海",
        },
        "date": "2024",
        "date_precision": "year",
        "column": "卷首语",
        "paragraphs": [p.text for p in seed.paragraphs.all()],
        "url": f"http://testserver/speeches/{seed.pk}/",
    }
    assert len(data["paragraphs"]) == 8


def test_speech_detail_json_404_for_drafts_and_unknown(client, db):
    draft = make_speech(status=SpeechStatus.DRAFT)
    for pk in (draft.pk, 999999):
        response = client.get(f"/api/v1/speeches/{pk}")
        assert response.status_code == 404
        assert json.loads(response.content) == {"detail": "未找到该讲稿。"}


def test_speech_list_json_paginates_published_only(client, settings, seed):
    settings.ARCHIVE_PAGE_SIZE = 2
    for n in range(3):
        make_speech(title=f"公开{n}")
    make_speech(title="草稿", status=SpeechStatus.DRAFT)
    first = json.loads(client.get("/api/v1/speeches").content)
    assert first["count"] == 4
    assert first["previous"] is None
    assert first["next"] == "http://testserver/api/v1/speeches?page=2"
    assert len(first["results"]) == 2
    assert set(first["results"][0]) >= {"id", "title", "url", "speaker", "date"}
    second = json.loads(client.get("/api/v1/speeches?page=2").content)
    assert second["next"] is None and second["previous"].endswith("page=1")
    titles = [r["title"] for r in first["results"] + second["results"]]
    assert sorted(titles) == sorted(["公开0", "公开1", "公开2", seed.title])
