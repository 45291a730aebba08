"""The admin upload flow: upload or paste, preview with detection status, correct, save."""

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from speeches.models import SourceFile, Speech, SpeechStatus
from speeches.tests.factories import make_staff, review_data, seed_copy, upload

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
    response = upload(client, seed_copy(seed_path))
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
    assert "相似度 100%" in page  # the whole copy is in the seed but for a few characters
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
    preview = upload(client, seed_copy(seed_path), name="卷首语.txt")
    response = client.post(SAVE, {**review_data(preview), "save_anyway": "on", "_draft": "1"})
    speech = Speech.objects.exclude(pk=seed.pk).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:speeches_speech_change", args=[speech.pk])
    assert speech.status == SpeechStatus.DRAFT
    assert (speech.speaker, speech.organization, speech.event) == (
        seed.speaker,
        seed.organization,
        seed.event,
    )
    assert list(speech.paragraphs.values_list("text", flat=True)) == [
        *seed.paragraphs.values_list("text", flat=True)[:7],
        "预祝峰会圆满成功！",
    ]
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


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def test_the_seed_text_leads_to_the_fixture_record_which_keeps_it_as_its_original(
    seed, editor, client, seed_path
):
    # The fixture holds no original; an upload of exactly its text is that address again.
    response = upload(client, seed_path.read_bytes(), name="卷首语.txt")
    assert response["Location"] == reverse("admin:speeches_speech_change", args=[seed.pk])
    assert messages_of(client.get(response["Location"])) == [
        f"正文与已有讲稿《{seed.title}》完全相同，没有新建记录；此文件已存为它的原始文件。"
    ]
    source = SourceFile.objects.get()
    assert (source.speech, source.original_name, source.uploaded_by) == (seed, "卷首语.txt", editor)
    assert (Path(settings.MEDIA_ROOT) / source.stored_path).read_bytes() == seed_path.read_bytes()
    # From now on the same bytes are caught by their digest, and pasted text by its text.
    again = client.post(
        UPLOAD, {"file": SimpleUploadedFile("b.txt", seed_path.read_bytes())}, follow=True
    )
    assert messages_of(again) == [f"同样的文件已经导入过，对应讲稿《{seed.title}》。"]
    pasted = client.post(
        UPLOAD, {"text": seed_path.read_text(encoding="utf-8").replace("\n", "\r\n")}, follow=True
    )
    assert pasted.redirect_chain[-1][0] == reverse("admin:speeches_speech_change", args=[seed.pk])
    assert messages_of(pasted) == [f"正文与已有讲稿《{seed.title}》完全相同，没有新建记录。"]
    assert Speech.objects.count() == SourceFile.objects.count() == 1


def test_a_copy_of_a_kept_address_is_not_saved_without_confirmation(
    seed, editor, client, seed_path
):
    preview = upload(client, seed_copy(seed_path))
    page = preview.content.decode()
    change = reverse("admin:speeches_speech_change", args=[seed.pk])
    assert f'<a class="button" href="{change}">打开已有讲稿</a>' in page
    assert f'form="review-form" name="replace" value="{seed.pk}"' in page
    assert 'name="save_anyway"' in page

    refused = client.post(SAVE, {**review_data(preview), "_publish": "1"})
    assert refused.status_code == 200
    assert f"正文与已有讲稿《{seed.title}》（#{seed.pk}，100%）几乎相同，没有保存。" in (
        refused.content.decode()
    )
    assert Speech.objects.count() == 1

    client.post(SAVE, {**review_data(preview), "save_anyway": "on", "_publish": "1"})
    assert Speech.objects.published().filter(title=seed.title).count() == 2


def test_a_distant_near_duplicate_asks_no_confirmation(seed, editor, client, seed_path):
    text = seed_path.read_text(encoding="utf-8").replace("轴承", "齿轮")
    preview = upload(client, text.encode())
    assert "相似度" in preview.content.decode()
    assert 'name="save_anyway"' not in preview.content.decode()
    client.post(SAVE, {**review_data(preview), "_draft": "1"})
    assert Speech.objects.count() == 2


def test_replacing_the_text_keeps_the_record_its_fields_and_the_new_original(
    seed, editor, client, seed_path
):
    fields = Speech.objects.values().get(pk=seed.pk)
    preview = upload(client, seed_copy(seed_path), name="另一来源.txt")
    response = client.post(SAVE, {**review_data(preview, title="不会用到"), "replace": seed.pk})
    assert response["Location"] == reverse("admin:speeches_speech_change", args=[seed.pk])
    assert Speech.objects.count() == 1
    speech = Speech.objects.get()
    kept = {k: v for k, v in fields.items() if k != "updated_at"}
    assert {k: v for k, v in Speech.objects.values().get().items() if k != "updated_at"} == kept
    assert speech.updated_at > fields["updated_at"]
    texts = list(speech.paragraphs.values_list("text", flat=True))
    assert len(texts) == 8 and texts[-1] == "预祝峰会圆满成功！"
    source = SourceFile.objects.get()
    assert (source.speech, source.original_name) == (seed, "另一来源.txt")
    # Readers get the new text at the same address.
    assert "预祝峰会圆满成功！" in client.get(seed.get_absolute_url()).content.decode()


def test_replacing_needs_the_change_permission(seed, client, seed_path):
    adder = make_staff("adder", "add_speech", "view_speech")
    client.force_login(adder)
    preview = upload(client, seed_copy(seed_path))
    response = client.post(SAVE, {**review_data(preview), "replace": seed.pk})
    assert response.status_code == 403
    assert seed.paragraphs.last().text == "预祝 2024 上海国际轴承峰会圆满成功！"
    assert not SourceFile.objects.exists()


def test_a_kind_the_source_does_not_name_is_missing_and_must_be_chosen(editor, client):
    response = client.post(UPLOAD, {"text": "年会纪要\n\n各位朋友：\n\n今天我们在这里聚会。\n"})
    rows = {row["label"]: row["detected"] for row in response.context["rows"]}
    assert rows["类型"] is False
    assert response.context["form"].initial["kind"] == ""
    assert '<option value="" selected>（请选择）</option>' in response.content.decode()
    refused = client.post(SAVE, {**review_data(response), "_draft": "1"})
    assert "原文没有写明类型，请选择一个。" in refused.content.decode()
    client.post(SAVE, {**review_data(response, kind="致辞"), "_draft": "1"})
    assert Speech.objects.get().kind == "致辞"


@pytest.mark.parametrize("gap", ["\n", "\n\n"])
def test_a_byline_right_under_the_title_is_read_as_speaker_position_and_organization(
    editor, client, gap
):
    text = gap.join(
        [
            "推动行业高质量发展",
            "某某协会会长  张三",
            "2024年5月10日",
            "各位代表：",
            "今天我们召开年会。",
        ]
    )
    response = client.post(UPLOAD, {"text": text})
    rows = {row["label"]: row["value"] for row in response.context["rows"]}
    assert (rows["标题"], rows["讲者"], rows["时任职务"], rows["代表机构"], rows["日期"]) == (
        "推动行业高质量发展",
        "张三",
        "会长",
        "某某协会",
        "2024-05-10",
    )
