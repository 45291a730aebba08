"""The seed address, as fixtures/ records it, is exactly the printed record."""

import datetime

import pytest

from speeches.models import Paragraph


def test_seed_metadata(seed):
    assert seed.title == "发展新质生产力与轴承产业新机遇"
    assert seed.subtitle == "2024 上海国际轴承峰会致辞"
    assert seed.kind == "致辞"
    assert seed.speaker.name == "周宇"
    assert seed.position == "理事长"
    assert seed.organization.name == "中国轴承工业协会"
    assert seed.column == "卷首语"
    assert (seed.event.name, seed.event.series, seed.event.year, seed.event.city) == (
        "2024 上海国际轴承峰会",
        "上海国际轴承峰会",
        2024,
        "上海",
    )
    assert seed.date == datetime.date(2024, 1, 1)
    assert seed.date_precision == "year"
    assert seed.date_display == "2024年"
    assert seed.is_published


def test_seed_paragraphs_are_the_printed_text(seed, seed_path):
    texts = [p.text for p in seed.paragraphs.all()]
    assert len(texts) == 8
    assert texts[0] == "各位来宾，各位朋友："
    assert texts[-1] == "预祝 2024 上海国际轴承峰会圆满成功！"
    assert "带来了新的的市场需求" in texts[3]
    assert "截止 2024 年 9月底" in texts[2]
    # Lines broken mid-sentence are joined with no space between Chinese characters.
    assert "繁华的国际都市，让大家在美丽的黄浦江畔" in texts[1]
    assert all(t == t.strip() and "\n" not in t for t in texts)
    # No printed character of the body is lost or added: compare with the raw file, spaces aside.
    raw = seed_path.read_text(encoding="utf-8")
    body = raw[raw.index("各位来宾") :]
    assert "".join(texts).replace(" ", "") == "".join(body.split())


@pytest.mark.django_db
def test_paragraph_positions_are_numbered_from_one(seed):
    assert list(Paragraph.objects.filter(speech=seed).values_list("position", flat=True)) == list(
        range(1, 9)
    )
