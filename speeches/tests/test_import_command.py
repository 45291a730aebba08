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


KIND_TSV = (
    "file\ttitle\tdate\toccasion\tdoc_type\tkind\n"
    # The corpus's doc_type, for titles that do not say what they are.
    "a.txt\t为提前实现全国农业发展纲要而奋斗（1960年）\t1960-04-06\t\tgovernment_work_report\t\n"
    "b.txt\t全面开创社会主义现代化建设的新局面\t1982-09-01\t\tcpc_congress_report\t\n"
    # A kind column wins over doc_type.
    "c.txt\t开幕词\t2024\t\tgovernment_work_report\t致辞\n"
    # No column says it: the title does, before a "——" subtitle or in a closing note.
    "d.txt\t1978年政府工作报告——团结起来，为建设社会主义的现代化强国而奋斗\t1978\t\t\t\n"
    "e.txt\t关于“九五”计划纲要的报告（1996年政府工作报告）\t1996\t\t\t\n"
    "f.txt\t某文\t2024\t\tpoem\t\n"
)


def test_metadata_kind_comes_from_a_kind_or_doc_type_column_or_the_title(tmp_path):
    for n, name in enumerate("abcdef"):
        (tmp_path / f"{name}.txt").write_text(f"{GOOD}第{n}份。\n", encoding="utf-8")
    (tmp_path / "index.tsv").write_text(KIND_TSV, encoding="utf-8")
    out, error = run(tmp_path, "--metadata", tmp_path / "index.tsv")
    kinds = dict(Speech.objects.values_list("source_files__original_name", "kind"))
    assert kinds == {
        "a.txt": "工作报告",
        "b.txt": "报告",
        "c.txt": "致辞",
        "d.txt": "工作报告",
        "e.txt": "工作报告",
    }
    # An unknown kind fails that file, with the kinds it could have said.
    assert error is not None and "1 个文件导入失败" in str(error)
    failed = next(line for line in out.splitlines() if line.startswith(f"{tmp_path / 'f.txt'}:"))
    assert "失败：类型“poem”无法识别" in failed and "工作报告" in failed
    assert "government_work_report" in failed


def test_a_session_of_a_congress_is_an_event_of_its_series(folder, tmp_path):
    tsv = tmp_path / "index.tsv"
    tsv.write_text(
        "file\ttitle\tdate\toccasion\n"
        "a.txt\t2023年政府工作报告\t2023-03-05\t第十四届全国人民代表大会第一次会议\n"
        "b.md\t党代会报告\t2022-10-16\t中国共产党第二十次全国代表大会\n",
        encoding="utf-8",
    )
    run(folder, "--metadata", tsv)
    events = {s.event.name: (s.event.series, s.event.year) for s in Speech.objects.all()}
    assert events == {
        "第十四届全国人民代表大会第一次会议": ("全国人民代表大会", 2023),
        "中国共产党第二十次全国代表大会": ("中国共产党全国代表大会", 2022),
    }


def test_a_missing_path_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="找不到"):
        call_command("import_transcripts", str(tmp_path / "nope.txt"), stdout=io.StringIO())


def test_a_file_over_the_size_limit_is_skipped(folder, settings):
    settings.ARCHIVE_UPLOAD_MAX_BYTES = 10
    out, error = run(folder / "a.txt")
    assert error is not None
    assert "失败：文件太大" in out
