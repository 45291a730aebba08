"""parse_transcript: the seed file becomes the fixture record; other layouts become clean paragraphs."""

import datetime
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from speeches.importing.errors import TranscriptImportError
from speeches.importing.parsing import parse_transcript

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "seed.json"
CJK = re.compile("[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")


def cjk(text):
    return "".join(CJK.findall(text))


def fixture_records():
    records = json.loads(FIXTURE.read_text(encoding="utf-8"))
    by_model = {}
    for record in records:
        by_model.setdefault(record["model"], []).append(record)
    return by_model


def test_seed_file_parses_to_exactly_the_fixture_record(seed_path):
    records = fixture_records()
    speech = records["speeches.speech"][0]["fields"]
    event = records["speeches.event"][0]["fields"]
    paragraphs = sorted(records["speeches.paragraph"], key=lambda r: r["fields"]["position"])

    parsed = parse_transcript(seed_path.read_text(encoding="utf-8"))

    assert parsed.title == speech["title"]
    assert parsed.subtitle == speech["subtitle"]
    assert parsed.kind == speech["kind"]
    assert parsed.column == speech["column"]
    assert parsed.position == speech["position"]
    assert parsed.date.isoformat() == speech["date"]
    assert parsed.date_precision == speech["date_precision"]
    assert parsed.speaker == records["speeches.person"][0]["fields"]["name"]
    assert parsed.organization == records["speeches.organization"][0]["fields"]["name"]
    assert (parsed.event_name, parsed.event_series, parsed.event_year, parsed.event_city) == (
        event["name"],
        event["series"],
        event["year"],
        event["city"],
    )
    assert parsed.paragraphs == [p["fields"]["text"] for p in paragraphs]
    assert [i in parsed.headings for i in range(len(paragraphs))] == [
        p["fields"]["is_heading"] for p in paragraphs
    ]


def test_seed_with_crlf_and_cr_line_endings_parses_the_same(seed_path):
    text = seed_path.read_text(encoding="utf-8")
    expected = parse_transcript(text)
    assert parse_transcript(text.replace("\n", "\r\n")) == expected
    assert parse_transcript(text.replace("\n", "\r")) == expected


@pytest.mark.parametrize(
    "relayout",
    [
        lambda t: "\n".join(line for line in t.split("\n") if line),
        lambda t: "\n".join(line.strip() for line in t.split("\n") if line.strip()),
        lambda t: "\n\n".join(line.strip() for line in t.split("\n") if line.strip()),
    ],
    ids=["single-spaced", "no-trailing-spaces", "double-spaced-no-trailing-spaces"],
)
def test_wrapped_seed_without_its_markers_parses_the_same(seed_path, relayout):
    # Other PDF tools keep neither the blank lines nor the trailing spaces: a paragraph then
    # ends where a line ending a sentence is shorter than the printed width.
    text = seed_path.read_text(encoding="utf-8")
    expected = parse_transcript(text)
    parsed = parse_transcript(relayout(text))
    assert parsed.paragraphs == expected.paragraphs
    assert (parsed.title, parsed.speaker) == (expected.title, expected.speaker)


def test_layout_spaces_in_header_lines_are_not_kept_in_fields(seed_path):
    """A PDF's text layer can widen the gap between a Latin run and a CJK run (2024  上海)."""
    lines = seed_path.read_text(encoding="utf-8").splitlines()
    header = [re.sub(r" (?=\S)", "  ", line) if i < 8 else line for i, line in enumerate(lines)]
    parsed = parse_transcript("\n".join(header))
    speech = fixture_records()["speeches.speech"][0]["fields"]
    assert (parsed.title, parsed.subtitle) == (speech["title"], speech["subtitle"])
    assert parsed.event_name == fixture_records()["speeches.event"][0]["fields"]["name"]
    assert parsed.speaker == "周宇"
    assert parsed.header_lines[2] == header[5].strip(), "header lines stay as printed"


def test_one_paragraph_per_line():
    parsed = parse_transcript("同志们：\n今天我们在这里开会。\n会议开得很成功。\n")
    assert parsed.paragraphs == ["同志们：", "今天我们在这里开会。", "会议开得很成功。"]


def test_paragraphs_separated_by_blank_lines_join_stray_breaks():
    text = "各位代表：\n\n现在，我代表国务院，向大会作政府工作报\n告，请予审议。\n\n谢谢大家。\n"
    assert parse_transcript(text).paragraphs == [
        "各位代表：",
        "现在，我代表国务院，向大会作政府工作报告，请予审议。",
        "谢谢大家。",
    ]


def test_full_width_indent_starts_a_paragraph():
    text = (
        "\u3000\u3000第一段的开头在这里，文字很长很长很长很长很长很长很长很长很长，\n"
        "第一段的结尾。\n"
        "\u3000\u3000第二段。\n"
    )
    assert parse_transcript(text).paragraphs == [
        "第一段的开头在这里，文字很长很长很长很长很长很长很长很长很长，第一段的结尾。",
        "第二段。",
    ]


def test_numbered_headings_are_their_own_paragraphs_and_marked():
    text = (
        "各位代表：\n\n一、过去一年工作回顾\n\n我们做了很多工作。\n\n"
        "（一）稳定经济增长\n\n经济运行总体平稳。\n\n二、今年工作安排\n\n继续努力。\n"
    )
    parsed = parse_transcript(text)
    assert parsed.paragraphs[1] == "一、过去一年工作回顾"
    assert [parsed.paragraphs[i] for i in parsed.headings] == [
        "一、过去一年工作回顾",
        "（一）稳定经济增长",
        "二、今年工作安排",
    ]


def test_header_of_a_congress_report():
    text = (
        "决胜全面建成小康社会\n\n为夺取新时代中国特色社会主义伟大胜利\n\n"
        "——在中国共产党第十九次全国代表大会上的报告\n\n（2017年10月18日）\n\n"
        "习\u3000近\u3000平\n\n同志们：\n\n现在，我代表第十八届中央委员会向大会作报告。\n"
    )
    parsed = parse_transcript(text)
    assert parsed.title == "决胜全面建成小康社会 为夺取新时代中国特色社会主义伟大胜利"
    assert parsed.subtitle == "在中国共产党第十九次全国代表大会上的报告"
    assert parsed.kind == "报告"
    assert parsed.event_name == "中国共产党第十九次全国代表大会"
    assert parsed.event_year == 2017
    assert parsed.speaker == "习近平"
    assert (parsed.date, parsed.date_precision) == (datetime.date(2017, 10, 18), "day")
    assert parsed.paragraphs == ["同志们：", "现在，我代表第十八届中央委员会向大会作报告。"]


def test_byline_with_position_and_name_on_separate_lines():
    text = (
        "政府工作报告\n\n——2023年3月5日在第十四届全国人民代表大会第一次会议上\n\n"
        "国务院总理\u3000\n\n李克强\n\n各位代表：\n\n本届政府任期即将结束。\n"
    )
    parsed = parse_transcript(text)
    assert (parsed.organization, parsed.position, parsed.speaker) == ("国务院", "总理", "李克强")
    assert parsed.kind == "工作报告"
    assert (parsed.date, parsed.date_precision) == (datetime.date(2023, 3, 5), "day")
    assert parsed.event_name == "第十四届全国人民代表大会第一次会议"


@pytest.mark.parametrize("gap", ["\n", "\n\n", "\n \n\n"])
def test_byline_right_under_the_title_is_not_part_of_the_title(gap):
    lines = [
        "推动行业高质量发展",
        "某某协会会长  张三",
        "2024年5月10日",
        "各位代表：",
        "今天召开年会。",
    ]
    parsed = parse_transcript(gap.join(lines))
    assert parsed.title == "推动行业高质量发展"
    assert (parsed.organization, parsed.position, parsed.speaker) == ("某某协会", "会长", "张三")
    assert (parsed.date, parsed.date_precision) == (datetime.date(2024, 5, 10), "day")
    assert parsed.paragraphs == ["各位代表：", "今天召开年会。"]


def test_a_title_line_ending_in_position_and_kind_stays_in_the_title():
    text = (
        "中国轴承工业协会\n第八届理事会理事长工作报告\n\n各位代表：\n\n现在我代表理事会作报告。\n"
    )
    parsed = parse_transcript(text)
    assert parsed.title == "中国轴承工业协会 第八届理事会理事长工作报告"
    assert (parsed.position, parsed.speaker, parsed.kind) == ("", "", "工作报告")


@pytest.mark.parametrize(
    ("line", "date", "precision"),
    [
        ("2024年11月20日", datetime.date(2024, 11, 20), "day"),
        ("（2024年11月）", datetime.date(2024, 11, 1), "month"),
        ("２０２４年３月５日", datetime.date(2024, 3, 5), "day"),
    ],
)
def test_date_line(line, date, precision):
    parsed = parse_transcript(f"在年会上的讲话\n\n{line}\n\n各位朋友：\n\n谢谢大家。\n")
    assert (parsed.date, parsed.date_precision) == (date, precision)
    assert parsed.paragraphs == ["各位朋友：", "谢谢大家。"]


def test_closing_date_line_is_the_date_not_a_paragraph():
    parsed = parse_transcript("各位朋友：\n\n谢谢大家。\n\n2024年11月20日\n")
    assert parsed.paragraphs == ["各位朋友：", "谢谢大家。"]
    assert parsed.date == datetime.date(2024, 11, 20)
    assert parsed.footer_lines == ["2024年11月20日"]


def test_joining_rules_for_latin_words_numbers_and_zero_width_characters():
    text = (
        "这一段由 PDF 复制而来，每一行都在句子中间断开，断开的地方不能\n\n"
        "多出空格。英文单词 bearing\n\n"
        "industry 和数字 2024\n\n"
        "2025 之间要保留一个空格，零\u200b宽字符要去掉。 \n\n"
        "第二段保留全角标点“，”和全角数字２０２４，不做转换。 \n"
    )
    assert parse_transcript(text).paragraphs == [
        "这一段由 PDF 复制而来，每一行都在句子中间断开，断开的地方不能多出空格。"
        "英文单词 bearing industry 和数字 2024 2025 之间要保留一个空格，零宽字符要去掉。",
        "第二段保留全角标点“，”和全角数字２０２４，不做转换。",
    ]


def test_markup_is_kept_as_plain_text():
    text = '各位来宾：\n\n<script>alert("x")</script>\n\n<p onclick="x()">正文。</p>\n'
    assert parse_transcript(text).paragraphs == [
        "各位来宾：",
        '<script>alert("x")</script>',
        '<p onclick="x()">正文。</p>',
    ]


@pytest.mark.parametrize("text", ["", "   \n\n\u3000\t\r\n ", "\u200b\ufeff\n"])
def test_nothing_to_import_is_refused(text):
    with pytest.raises(TranscriptImportError, match="没有任何文字"):
        parse_transcript(text)


def test_a_lone_title_line_is_kept_as_the_body():
    parsed = parse_transcript("发展新质生产力\n")
    assert parsed.paragraphs == ["发展新质生产力"]
    assert parsed.title == ""


# Property-based: whatever comes in, a record or the import error, and no CJK lost.

line_pieces = st.sampled_from(
    ["", " ", "\u3000\u3000", "——", "一、", "（二）", "2024年11月20日", "理事长", "。", "，",
     "：", "\u200b", "\r\n", "\n", "\r", "\n\n", "abc", "12", "“", "”", "周宇", "卷首语"]
)  # fmt: skip
transcripts = st.lists(st.one_of(line_pieces, st.text(max_size=30)), max_size=40).map("".join)


def _check(text):
    try:
        parsed = parse_transcript(text)
    except TranscriptImportError:
        assert not cjk(text)
        return
    assert parsed.paragraphs and all(p.strip() for p in parsed.paragraphs)
    assert cjk(parsed.source_text()) == cjk(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transcripts)
def test_random_text_gives_a_record_or_the_import_error_and_keeps_cjk(text):
    _check(text)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["utf-8", "gb18030", "big5", "latin-1"]))
def test_random_bytes_decoded_any_way_give_a_record_or_the_import_error(data, encoding):
    _check(data.decode(encoding, errors="replace"))
