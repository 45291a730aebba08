"""import_transcript: the seed in any form becomes the fixture record; nothing is lost or half-saved."""

import datetime
import hashlib
import io
import json
from pathlib import Path

import docx
import pytest
from django.conf import settings

from speeches import services
from speeches.importing.errors import TranscriptImportError
from speeches.importing.parsing import parse_transcript
from speeches.models import Event, Organization, Person, SourceFile, Speech, SpeechStatus
from speeches.tests.factories import seed_copy

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "seed.json"
pytestmark = pytest.mark.django_db


def fixture_record():
    records = json.loads(FIXTURE.read_text(encoding="utf-8"))
    one = {r["model"]: r["fields"] for r in records if r["model"] != "speeches.paragraph"}
    paragraphs = sorted(
        (r["fields"] for r in records if r["model"] == "speeches.paragraph"),
        key=lambda f: f["position"],
    )
    return one, paragraphs


def assert_is_the_fixture_record(speech):
    one, paragraphs = fixture_record()
    expected = one["speeches.speech"]
    for name in ("title", "subtitle", "kind", "position", "column", "date_precision"):
        assert getattr(speech, name) == expected[name], name
    assert speech.date.isoformat() == expected["date"]
    assert speech.speaker.name == one["speeches.person"]["name"]
    assert speech.organization.name == one["speeches.organization"]["name"]
    event = one["speeches.event"]
    assert (speech.event.name, speech.event.series, speech.event.year, speech.event.city) == (
        event["name"],
        event["series"],
        event["year"],
        event["city"],
    )
    assert_same_paragraphs(speech, paragraphs)


def assert_same_paragraphs(speech, paragraphs):
    stored = list(speech.paragraphs.values("position", "text", "is_heading"))
    assert stored == [{k: p[k] for k in ("position", "text", "is_heading")} for p in paragraphs]


def originals():
    root = Path(settings.MEDIA_ROOT) / "originals"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_seed_file_imports_to_exactly_the_fixture_record(seed_path):
    result = services.import_transcript(data=seed_path.read_bytes(), filename=seed_path.name)
    assert result.created
    assert_is_the_fixture_record(result.speech)
    assert result.speech.status == SpeechStatus.DRAFT
    assert result.encoding == "utf-8"


def test_gb18030_reencoding_with_crlf_imports_to_the_same_record(seed_path):
    text = seed_path.read_text(encoding="utf-8").replace("\n", "\r\n")
    result = services.import_transcript(data=text.encode("gb18030"), filename="seed-gbk.txt")
    assert result.source_file.encoding == "gb18030"
    assert_is_the_fixture_record(result.speech)


def test_docx_of_the_seed_paragraphs_imports_to_the_same_paragraphs():
    _, paragraphs = fixture_record()
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph["text"])
    out = io.BytesIO()
    document.save(out)
    result = services.import_transcript(data=out.getvalue(), filename="seed.docx")
    assert result.source_file.encoding == "docx"
    assert_same_paragraphs(result.speech, paragraphs)


def test_original_bytes_are_kept_with_their_facts(seed_path, django_user_model):
    user = django_user_model.objects.create_user("editor")
    data = seed_path.read_bytes()
    result = services.import_transcript(data=data, filename="卷首语.txt", uploaded_by=user)
    source = SourceFile.objects.get()
    assert (source.sha256, source.size, source.encoding) == (
        hashlib.sha256(data).hexdigest(),
        len(data),
        "utf-8",
    )
    assert (source.original_name, source.uploaded_by, source.speech) == (
        "卷首语.txt",
        user,
        result.speech,
    )
    assert source.uploaded_at is not None
    stored = Path(settings.MEDIA_ROOT) / source.stored_path
    assert stored.read_bytes() == data
    assert Path(settings.MEDIA_ROOT).resolve() in stored.resolve().parents


def test_identical_bytes_point_to_the_existing_record(seed_path):
    first = services.import_transcript(data=seed_path.read_bytes(), filename="a.txt")
    again = services.import_transcript(data=seed_path.read_bytes(), filename="b.txt")
    assert again.duplicate_of == first.speech
    assert not again.created
    assert Speech.objects.count() == SourceFile.objects.count() == 1


def test_existing_people_organizations_and_events_are_matched(seed, seed_path):
    result = services.import_transcript(data=seed_path.read_bytes(), filename="a.txt")
    speech = result.speech
    assert (speech.speaker, speech.organization, speech.event) == (
        seed.speaker,
        seed.organization,
        seed.event,
    )
    assert Person.objects.count() == Organization.objects.count() == Event.objects.count() == 1
    # The fixture's own record is the same address: flagged before saving, with its similarity.
    assert [(s, round(score, 2)) for s, score in result.near_duplicates] == [(seed, 1.0)]


def test_organization_is_matched_by_short_name(seed):
    text = "致辞\n\n——年会致辞\n\n轴承协会秘书长 王五\n\n各位：\n\n欢迎大家。\n"
    result = services.import_transcript(data=text.encode(), filename="a.txt")
    assert result.speech.organization == seed.organization
    assert result.speech.speaker.name == "王五"


def test_a_near_duplicate_is_flagged_but_an_unrelated_speech_is_not(seed, seed_path):
    # Another copy with a word changed throughout: about a fifth of its phrases differ.
    text = seed_path.read_text(encoding="utf-8").replace("轴承", "齿轮")
    result = services.import_transcript(data=text.encode(), filename="a.txt", dry_run=True)
    assert [s for s, _ in result.near_duplicates] == [seed]
    assert 0.5 < result.near_duplicates[0][1] < 0.95
    other = "各位代表：\n\n今年经济社会发展的主要预期目标是国内生产总值增长百分之五左右。\n" * 3
    assert services.import_transcript(data=other.encode(), filename="b.txt").near_duplicates == []


def test_metadata_overrides_detection(seed_path):
    metadata = {
        "title": "2024年政府工作报告",
        "speaker": "李强",
        "date": "2024-03-05",
        "event": "第十四届全国人民代表大会第二次会议",
    }
    speech = services.import_transcript(
        data=seed_path.read_bytes(), filename="a.txt", metadata=metadata
    ).speech
    assert (speech.title, speech.speaker.name, speech.kind) == (
        "2024年政府工作报告",
        "李强",
        "工作报告",
    )
    assert (speech.date, speech.date_precision) == (datetime.date(2024, 3, 5), "day")
    assert (speech.event.name, speech.event.year) == ("第十四届全国人民代表大会第二次会议", 2024)


def test_dry_run_creates_and_stores_nothing(seed_path):
    result = services.import_transcript(data=seed_path.read_bytes(), filename="a.txt", dry_run=True)
    assert result.fields["title"] == "发展新质生产力与轴承产业新机遇"
    assert result.speech is None
    assert not Speech.objects.exists() and not SourceFile.objects.exists() and not originals()


def test_a_failure_while_saving_leaves_no_partial_record(seed_path, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "replace_paragraphs", broken)
    with pytest.raises(RuntimeError):
        services.import_transcript(data=seed_path.read_bytes(), filename="a.txt")
    for model in (Speech, Person, Organization, Event, SourceFile):
        assert not model.objects.exists(), model
    # The bytes themselves are kept: an upload is never lost.
    assert [p.read_bytes() for p in originals()] == [seed_path.read_bytes()]


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"", "empty.txt"),
        (b" \n\t\r\n", "blank.txt"),
        (bytes(range(256)) * 8, "junk.txt"),
        (b"\xff\x81\x30\x89\x38\xfe" * 5 + b"\xff", "undecodable.txt"),
        ("正文。".encode(), "speech.exe"),
        ("正文。".encode(), "../../etc/passwd.txt"),
        (b"not a zip", "a.docx"),
    ],
    ids=["empty", "whitespace", "binary", "undecodable", "extension", "path", "docx"],
)
def test_bad_input_creates_nothing(data, filename):
    with pytest.raises(TranscriptImportError):
        services.import_transcript(data=data, filename=filename)
    assert not Speech.objects.exists() and not SourceFile.objects.exists() and not originals()


def test_over_the_size_limit_creates_nothing(settings):
    settings.ARCHIVE_UPLOAD_MAX_BYTES = 10
    with pytest.raises(TranscriptImportError, match="文件太大"):
        services.import_transcript(data="各位代表：正文。".encode(), filename="a.txt")
    assert not Speech.objects.exists() and not originals()


def test_markup_is_stored_as_plain_text():
    text = '各位：\n\n<script>alert("x")</script>\n\n<b onmouseover="x()">正文</b>。\n'
    speech = services.import_transcript(data=text.encode(), filename="a.txt").speech
    assert list(speech.paragraphs.values_list("text", flat=True)) == [
        "各位：",
        '<script>alert("x")</script>',
        '<b onmouseover="x()">正文</b>。',
    ]


def test_reimporting_bytes_of_a_deleted_speech_reattaches_the_original(seed_path):
    first = services.import_transcript(data=seed_path.read_bytes(), filename="a.txt")
    first.speech.delete()
    again = services.import_transcript(data=seed_path.read_bytes(), filename="a.txt")
    assert again.created and again.source_file.pk == first.source_file.pk
    assert SourceFile.objects.get().speech == again.speech


def test_untitled_text_takes_its_title_from_the_file_name():
    speech = services.import_transcript(
        data="各位：\n\n谢谢。\n".encode(), filename="年会讲话.md"
    ).speech
    assert speech.title == "年会讲话"
    assert speech.kind == "讲话"


def test_docx_with_a_byline_right_under_the_title():
    document = docx.Document()
    for line in (
        "推动行业高质量发展",
        "某某协会会长  张三",
        "",
        "2024年5月10日",
        "各位代表：",
        "今天召开年会。",
    ):
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    speech = services.import_transcript(data=out.getvalue(), filename="byline.docx").speech
    assert speech.title == "推动行业高质量发展"
    assert (speech.organization.name, speech.position, speech.speaker.name) == (
        "某某协会",
        "会长",
        "张三",
    )
    assert speech.date_iso == "2024-05-10"
    assert list(speech.paragraphs.values_list("text", flat=True)) == [
        "各位代表：",
        "今天召开年会。",
    ]


def test_replacing_a_text_keeps_the_address_and_adds_the_original(seed, seed_path):
    copy = seed_copy(seed_path)
    paragraphs = parse_transcript(copy.decode()).paragraphs
    speech = services.replace_text(
        speech=seed, data=copy, filename="copy.txt", paragraphs=paragraphs
    )
    assert speech.pk == seed.pk and speech.title == seed.title
    assert list(speech.paragraphs.values_list("text", flat=True)) == paragraphs
    assert SourceFile.objects.get().speech == seed
    # The same bytes again change nothing; another address cannot take them.
    services.replace_text(speech=seed, data=copy, filename="copy.txt", paragraphs=paragraphs)
    assert SourceFile.objects.count() == 1
    other = services.import_transcript(
        data="各位：\n\n另一篇。\n".encode(), filename="o.txt"
    ).speech
    with pytest.raises(TranscriptImportError, match="不能用来替换别的讲稿"):
        services.replace_text(speech=other, data=copy, filename="c.txt", paragraphs=paragraphs)


def test_a_same_address_copy_is_refused_unless_allowed(seed, seed_path):
    with pytest.raises(TranscriptImportError, match="几乎相同，没有保存"):
        services.import_transcript(
            data=seed_copy(seed_path), filename="a.txt", allow_same_address=False
        )
    assert Speech.objects.count() == 1 and not SourceFile.objects.exists()
    # The bulk command's default: saved, with the near-duplicate named.
    result = services.import_transcript(data=seed_copy(seed_path), filename="a.txt")
    assert result.created and [s for s, _ in result.near_duplicates] == [seed]
