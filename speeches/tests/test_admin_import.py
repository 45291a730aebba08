"""The admin upload flow: upload or paste, preview with detection status, correct, save."""

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from speeches.models import SourceFile, Speech, SpeechStatus
from speeches.tests.factories import review_data, upload

pytestmark = pytest.mark.django_db
UPLOAD = reverse("admin:speeches_speech_import")
SAVE = reverse("admin:speeches_speech_import_save")


@pytest.fixture
def editor(editor, client):
    """The editor (speeches/tests/conftest.py), logged in on `client`."""
    client.force_login(editor)
    return editor


def test_only_staff_who_may_add_speeches_can_upload(client, django_user_model):
    assert client.get(UPLOAD).status_code == 302  # to the admin login
    viewer = django_user_model.objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_speech"))
    client.force_login(viewer)
    assert client.get(UPLOAD).status_code == 403
    assert client.post(SAVE, {}).status_code == 403


def test_change_list_links_the_upload(editor, client):
    page = client.get(reverse("admin:speeches_speech_changelist")).content.decode()
    assert f'href="{UPLOAD}"' in page and "导入讲稿文件" in page


def test_preview_shows_detection_matches_and_near_duplicates(seed, editor, client, seed_path):
    response = upload(client, seed_path.read_bytes())
    assert response.status_code == 200
    page = response.content.decode()
    rows = {row["label"]: row for row in response.context["rows"]}
    assert rows["标题"]["value"] == "发展新质生产力与轴承产业新机遇" and rows["标题"]["detected"]
    assert all(row["detected"] for row in rows.values())
    assert page.count("检测到") == len(rows) and "缺失" not in page.split("段落预览")[0]
    # Existing people, organizations and events are offered, not duplicated.
    assert [(m["label"], m["existing"]) for m in response.context["matches"]] == [
        ("讲者", seed.speaker),
        ("代表机构", seed.organization),
        ("会议活动", seed.event),
    ]
    assert page.count("使用已有记录") == 3
    assert "相似度 100%" in page
    assert len(response.context["paragraphs"]) == 8
    # Previewing saves no record, but the upload's bytes are already kept.
    assert Speech.objects.count() == 1 and not SourceFile.objects.exists()


def test_missing_fields_are_shown_as_missing(editor, client):
    response = client.post(UPLOAD, {"text": "各位朋友：\n\n今天我们在这里聚会。\n"})
    rows = {row["label"]: row["detected"] for row in response.context["rows"]}
    assert rows == dict.fromkeys(rows, False)
    assert response.content.decode().count("缺失") == len(rows)


def test_save_as_draft_keeps_the_original_and_links_existing_records(
    seed, editor, client, seed_path
):
    preview = upload(client, seed_path.read_bytes(), name="卷首语.txt")
    response = client.post(SAVE, {**review_data(preview), "_draft": "1"})
    speech = Speech.objects.exclude(pk=seed.pk).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:speeches_speech_change", args=[speech.pk])
    assert speech.status == SpeechStatus.DRAFT
    assert (speech.speaker, speech.organization, speech.event) == (
        seed.speaker,
        seed.organization,
        seed.event,
    )
    assert list(speech.paragraphs.values_list("text", flat=True)) == list(
        seed.paragraphs.values_list("text", flat=True)
    )
    source = SourceFile.objects.get()
    assert (source.speech, source.uploaded_by, source.original_name) == (
        speech,
        editor,
        "卷首语.txt",
    )


def test_staff_corrections_are_saved_and_published(editor, client, seed_path):
    preview = upload(client, seed_path.read_bytes())
    data = review_data(
        preview,
        title="新标题",
        speaker="周 宇",
        subtitle="",
        date="2024-11-20",
        body="第一段。\n\n二、小标题\n\n第二段。",
        _publish="1",
    )
    client.post(SAVE, data)
    speech = Speech.objects.get()
    assert (speech.title, speech.subtitle, speech.speaker.name) == ("新标题", "", "周 宇")
    assert speech.status == SpeechStatus.PUBLISHED
    assert speech.date_iso == "2024-11-20"
    assert list(speech.paragraphs.values_list("text", "is_heading")) == [
        ("第一段。", False),
        ("二、小标题", True),
        ("第二段。", False),
    ]


def test_invalid_corrections_show_the_preview_again(editor, client, seed_path):
    preview = upload(client, seed_path.read_bytes())
    response = client.post(SAVE, review_data(preview, title="", date="去年"))
    assert response.status_code == 200
    assert "日期“去年”无法识别" in response.content.decode()
    assert not Speech.objects.exists()


def test_a_forged_upload_reference_is_refused(editor, client, seed_path):
    preview = upload(client, seed_path.read_bytes())
    response = client.post(SAVE, review_data(preview, sha256="../../../etc/passwd"), follow=True)
    assert "找不到上传的原始文件" in response.content.decode()
    assert not Speech.objects.exists()


def test_pasted_markup_is_shown_inert(editor, client):
    response = client.post(
        UPLOAD, {"text": '各位：\n\n<script>alert("x")</script>\n\n<b onclick="x()">正文</b>。'}
    )
    page = response.content.decode()
    assert "<script>alert" not in page and "<b onclick" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "a.txt", "文件是空的"),
        (bytes(range(256)) * 4, "a.txt", "这不是文本文件"),
        (b"x", "a.exe", "不支持"),
    ],
)
def test_bad_upload_gets_a_chinese_message_and_creates_nothing(editor, client, data, name, message):
    response = upload(client, data, name=name)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Speech.objects.exists() and not SourceFile.objects.exists()


def test_file_and_text_together_are_refused(editor, client):
    response = client.post(UPLOAD, {"file": SimpleUploadedFile("a.txt", b"x"), "text": "y"})
    assert "二选一" in response.content.decode()


def test_identical_bytes_lead_to_the_existing_speech(editor, client, seed_path):
    client.post(SAVE, {**review_data(upload(client, seed_path.read_bytes())), "_draft": "1"})
    speech = Speech.objects.get()
    response = upload(client, seed_path.read_bytes(), name="again.txt")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:speeches_speech_change", args=[speech.pk])
    assert Speech.objects.count() == 1


def test_staff_can_download_the_original(editor, client, seed_path):
    client.post(SAVE, {**review_data(upload(client, seed_path.read_bytes())), "_draft": "1"})
    editor.user_permissions.add(Permission.objects.get(codename="view_sourcefile"))
    source = SourceFile.objects.get()
    url = reverse("admin:speeches_sourcefile_download", args=[source.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == seed_path.read_bytes()
    assert "attachment" in response["Content-Disposition"]
    client.logout()
    assert client.get(url).status_code == 302


def test_upload_over_the_size_limit_is_refused(editor, client, settings):
    settings.ARCHIVE_UPLOAD_MAX_BYTES = 10
    response = upload(client, "各位代表：正文。".encode())
    assert "文件太大" in response.content.decode()
    assert not SourceFile.objects.exists()
