import pytest

from search.engine.query.syntax import MAX_QUERY_CHARS, MAX_TERMS, parse


def test_words_are_split_by_jieba_and_must_all_match():
    q = parse("轴承产业")
    assert q.tokens == ["轴承", "产业"]
    assert len(q.groups) == 1 and q.groups[0][0].pieces == ["轴承", "产业"]


def test_quotes_of_three_kinds_make_exact_phrases():
    for raw in ('"高质量发展"', "“高质量发展”", "「高质量发展」"):
        q = parse(raw)
        assert [t.quoted for t in q.positive_terms] == [True]
        assert q.positive_terms[0].pieces == ["高质量发展"]


def test_minus_excludes_and_or_joins():
    q = parse("轴承 -新质生产力 航空 OR 航天")
    assert [t.pieces for t in q.excluded] == [["新质生产力"]]
    assert [[t.text for t in g] for g in q.groups] == [["轴承"], ["航空", "航天"]]


def test_a_negated_filter_is_dropped_not_applied():
    q = parse("轴承 -speaker:周宇 -2024年 -year:2015")
    assert (q.speaker, q.years, q.excluded) == ("", None, [])
    assert [[t.text for t in g] for g in q.groups] == [["轴承"]]


def test_fields_and_years():
    q = parse("speaker:周宇 org:中国轴承工业协会 event:轴承峰会 year:2015-2024")
    assert (q.speaker, q.org, q.event, q.years) == (
        "周宇",
        "中国轴承工业协会",
        "轴承峰会",
        (2015, 2024),
    )
    assert parse("year:2024").years == (2024, 2024)
    assert parse("2024年 轴承").years == (2024, 2024)
    assert parse("２０２４年").years == (2024, 2024)
    assert parse("讲者：周宇").speaker == "周宇"
    assert parse("year:2024-2015").years == (2015, 2024)


def test_traditional_query_is_folded():
    assert parse("軸承").tokens == ["轴承"]


@pytest.mark.parametrize(
    "raw",
    [
        '"未闭合',
        "“未闭合",
        "「",
        "OR",
        "-",
        "- -",
        "*",
        "?",
        "a:b:c",
        "year:abc",
        "speaker:",
        "\x00\x07轴承\u200b",
        "<script>alert(1)</script>",
        "（）【】",
        "",
    ],
)
def test_bad_input_never_raises(raw):
    q = parse(raw)
    assert isinstance(q.tokens, list)


def test_unbalanced_quote_runs_to_the_end():
    assert parse('轴承 "新质生产').positive_terms[1].pieces == ["新质生产"]


def test_long_queries_are_capped():
    q = parse("轴承" * 500)
    assert q.truncated and len(q.raw) == MAX_QUERY_CHARS
    many = parse(" ".join(f"词{i}" for i in range(50)))
    assert len(many.positive_terms) == MAX_TERMS


def test_control_characters_are_dropped():
    assert parse("轴\x00承\n产业").raw == "轴承 产业"
