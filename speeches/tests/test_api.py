import datetime
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
        "speaker": {"id": seed.speaker_id, "name": "周宇", "position": "理事长"},
        "organization": {"id": seed.organization_id, "name": "中国轴承工业协会"},
        "event": {
            "id": seed.event_id,
            "name": "2024 上海国际轴承峰会",
            "series": "上海国际轴承峰会",
            "year": 2024,
            "city": "上海",
        },
        "date": "2024",
        "date_precision": "year",
        "column": "卷首语",
        "paragraphs": [p.text for p in seed.paragraphs.all()],
        "keywords": [],
        "related": [],
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


def titles(client, query):
    response = client.get(f"/api/v1/speeches?{query}")
    assert response.status_code == 200, response.content
    return [r["title"] for r in response.json()["results"]]


def test_speech_list_json_takes_the_filters_of_the_list_page(client, seed):
    make_speech(title="甲", speaker="周宇", date=datetime.date(2023, 5, 1), kind="讲话")
    make_speech(title="乙", speaker="王五", date=datetime.date(2023, 6, 1), kind="报告")
    make_speech(title="丙", speaker="周宇", date=datetime.date(2022, 1, 1), event="某会议")
    speaker, event = seed.speaker_id, seed.event_id
    assert titles(client, "") == [seed.title, "乙", "甲", "丙"]
    assert titles(client, f"speaker={speaker}") == [seed.title, "甲", "丙"]
    assert titles(client, f"speaker={speaker}&year=2023") == ["甲"]
    assert titles(client, f"speaker={speaker}&sort=date") == ["丙", "甲", seed.title]
    assert titles(client, "kind=报告") == ["乙"]
    assert titles(client, f"event={event}") == [seed.title]
    assert titles(client, f"organization={seed.organization_id}") == [seed.title]
    # The ids a speech's JSON gives are the ones the filters take.
    first = client.get(f"/api/v1/speeches?speaker={speaker}").json()["results"][0]
    assert (first["speaker"]["id"], first["event"]["id"]) == (speaker, event)
    assert first["organization"]["id"] == seed.organization_id


def test_speech_list_json_pages_keep_the_filters(client, settings, seed):
    settings.ARCHIVE_PAGE_SIZE = 1
    make_speech(title="甲", speaker="周宇", date=datetime.date(2023, 5, 1))
    make_speech(title="乙", speaker="王五", date=datetime.date(2023, 6, 1))
    data = client.get(f"/api/v1/speeches?speaker={seed.speaker_id}&sort=date").json()
    assert data["count"] == 2 and [r["title"] for r in data["results"]] == ["甲"]
    assert data["next"] == (
        f"http://testserver/api/v1/speeches?sort=date&speaker={seed.speaker_id}&page=2"
    )
    second = client.get(data["next"]).json()
    assert [r["title"] for r in second["results"]] == [seed.title] and second["next"] is None
    assert second["previous"].endswith(f"speaker={seed.speaker_id}&page=1")


@pytest.mark.parametrize(
    "query, names",
    [
        ("speaker=abc", "speaker"),
        ("year=2024&kind=nonsense", "kind"),
        ("event=-1&sort=random", "event、sort"),
    ],
)
def test_speech_list_json_refuses_filters_it_cannot_read(client, seed, query, names):
    response = client.get(f"/api/v1/speeches?{query}")
    assert response.status_code == 400
    assert response.json() == {"detail": f"无法识别的筛选条件：{names}。"}
