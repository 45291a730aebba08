"""manage.py import_transcripts: files and folders, one line per file, a summary, an honest exit."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command

from speeches.models import SourceFile, Speech, SpeechStatus

pytestmark = pytest.mark.django_db

GOOD = "各位代表：\n\n现在，我代表国务院，向大会报告政府工作。\n"
OTHER = "同志们：\n\n这次会议的主要任务是总结经验，部署明年的工作。\n"


def run(*args):
    out = io.StringIO()
    try:
        call_command("import_transcripts", *map(str, args), stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "in" / "sub").mkdir()
    (tmp_path / "in" / "sub" / "b.md").write_bytes(OTHER.encode("gb18030"))
    (tmp_path / "in" / "notes.tsv").write_text("ignored", encoding="utf-8")
    return tmp_path / "in"


def test_folder_imports_every_transcript_as_draft(folder):
    out, error = run(folder)
    assert error is None
    speeches = list(Speech.objects.order_by("pk"))
    assert [s.paragraphs.first().text for s in speeches] == ["各位代表：", "同志们："]
    assert {s.status for s in speeches} == {SpeechStatus.DRAFT}
    lines = out.splitlines()
    assert lines[0] == f"{folder / 'a.txt'}: 新建 #{speeches[0].pk} a（2 段）"
    assert lines[1].startswith(f"{folder / 'sub' / 'b.md'}: 新建 #{speeches[1].pk} ")
    assert lines[-1] == "共 2 个文件：新建 2，重复 0，失败 0"
    # Not a terminal: no progress bar drawn into the output.
    assert "\r" not in out and "%|" not in out


def test_publish_and_duplicates(folder):
    run(folder / "a.txt", "--publish")
    first = Speech.objects.get()
    assert first.status == SpeechStatus.PUBLISHED
    out, error = run(folder / "a.txt")
    assert error is None
    assert f"duplicate of {first.pk}" in out
    assert out.splitlines()[-1] == "共 1 个文件：新建 0，重复 1，失败 0"
    assert Speech.objects.count() == 1


def test_dry_run_saves_nothing(folder):
    out, error = run(folder, "--dry-run")
    assert error is None
    assert "可以导入" in out and "试运行" in out.splitlines()[-1]
    assert not Speech.objects.exists() and not SourceFile.objects.exists()


def test_bad_files_are_reported_and_skipped_and_the_exit_is_non_zero(folder, tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "junk.txt").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "a.exe").write_bytes(b"MZ")
    out, error = run(
        tmp_path / "empty.txt", folder / "a.txt", tmp_path / "junk.txt", tmp_path / "a.exe"
    )
    assert error is not None and "3 个文件导入失败" in str(error)
    lines = out.splitlines()
    assert lines[0] == f"{tmp_path / 'empty.txt'}: 失败：文件是空的（0 字节）。"
    assert "新建 #" in lines[1]
    assert "失败：这不是文本文件" in lines[2]
    assert "失败：不支持“.exe”文件" in lines[3]
    assert lines[-1] == "共 4 个文件：新建 1，重复 0，失败 3"
    assert Speech.objects.count() == 1


def test_metadata_tsv_overrides_detection(folder, tmp_path):
    tsv = tmp_path / "index.tsv"
    tsv.write_text(
        "file\ttitle\tspeaker\tdate\toccasion\tnotes\n"
        "a.txt\t1954年政府工作报告\t周恩来\t1954-09-23\t第一届全国人民代表大会第一次会议\tx\n",
        encoding="utf-8",
    )
    out, error = run(folder / "a.txt", "--metadata", tsv)
    assert error is None
    speech = Speech.objects.get()
    assert (speech.title, speech.speaker.name, speech.kind) == (
        "1954年政府工作报告",
        "周恩来",
        "工作报告",
    )
    assert (speech.date, speech.date_precision) == (datetime.date(1954, 9, 23), "day")
    assert (speech.event.name, speech.event.year) == ("第一届全国人民代表大会第一次会议", 1954)


def test_a_missing_path_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="找不到"):
        call_command("import_transcripts", str(tmp_path / "nope.txt"), stdout=io.StringIO())


def test_a_file_over_the_size_limit_is_skipped(folder, settings):
    settings.ARCHIVE_UPLOAD_MAX_BYTES = 10
    out, error = run(folder / "a.txt")
    assert error is not None
    assert "失败：文件太大" in out
