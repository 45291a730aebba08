import pytest

from search.engine.query.syntax import MAX_QUERY_CHARS, MAX_TERMS, parse


def test_an_unquoted_string_is_matched_as_it_stands():
    q = parse("轴承产业")
    assert q.tokens == ["轴承产业"] and q.match == "exact"
    assert len(q.groups) == 1 and q.groups[0][0].phrase == "轴承产业"


def test_in_the_words_reading_words_are_split_by_jieba_and_must_all_match():
    q = parse("轴承产业", match="words")
    assert q.tokens == ["轴承", "产业"]
    assert len(q.groups) == 1 and q.groups[0][0].pieces == ["轴承", "产业"]
    assert q.groups[0][0].phrase == ""


@pytest.mark.parametrize(
    ("raw", "phrase", "parts"),
    [
        ("“9.9%”", "9.9%", ["9"]),
        ('"PM 2.5"', "pm2.5", ["pm2", "5"]),
        ("M 2", "m", ["m"]),
        ("“made in china”", "made in china", ["made", "in", "china"]),
        ("人工智能+", "人工智能+", ["人工智能"]),
        ("“，”", ",", []),
    ],
)
def test_phrases_keep_their_punctuation_and_drop_whitespace(raw, phrase, parts):
    (term, *_rest) = parse(raw).positive_terms
    assert (term.phrase, term.pieces) == (phrase, parts)


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
    q = parse("轴承 -speaker:周宇 -year:2015")
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
    assert parse("year:２０２４年").years == (2024, 2024)
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


@pytest.mark.parametrize("raw", ['-"粤港澳大湾区"', "-“粤港澳大湾区”", "－「粤港澳大湾区」"])
def test_a_minus_before_quotes_excludes_the_phrase(raw):
    q = parse(f"发展 {raw}")
    assert [t.pieces for t in q.excluded] == [["粤港澳大湾区"]]
    assert [[t.text for t in g] for g in q.groups] == [["发展"]]


def test_repeated_filters_are_alternatives():
    q = parse("speaker:李鹏 speaker:朱镕基 year:2024 year:1954 org:国务院")
    assert (q.speakers, q.year_ranges, q.orgs) == (
        ["李鹏", "朱镕基"],
        [(2024, 2024), (1954, 1954)],
        ["国务院"],
    )
    assert q.speaker == "李鹏 / 朱镕基" and q.years_label == "2024 / 1954"
    either = parse("经济 speaker:李鹏 OR speaker:朱镕基 改革")
    assert either.speakers == ["李鹏", "朱镕基"]
    assert [[t.text for t in g] for g in either.groups] == [["经济"], ["改革"]]


@pytest.mark.parametrize("raw", ["2020年 小康社会", "２０３５年", "2035年"])
def test_a_bare_year_is_text_not_a_filter(raw):
    q = parse(raw)
    assert q.year_ranges == [] and q.positive_terms
    assert "年" in "".join(p for t in q.positive_terms for p in t.pieces)


def test_an_exclusion_alone_is_a_query():
    q = parse("-轴承")
    assert not q.is_empty and q.groups == [] and [t.pieces for t in q.excluded] == [["轴承"]]


def test_lowercase_or_is_or():
    assert [[t.text for t in g] for g in parse("新冠 or 汶川").groups] == [["新冠", "汶川"]]


@pytest.mark.parametrize(
    ("raw", "ignored", "terms"),
    [
        ("轴承~2", ["~2"], ["轴承"]),
        ("轴承^3 产业", ["^3"], ["轴承", "产业"]),
        ("text:轴承", ["text:"], ["轴承"]),
        ("~2", ["~2"], []),
    ],
)
def test_lucene_operators_and_unknown_fields_are_dropped_and_reported(raw, ignored, terms):
    q = parse(raw)
    assert q.ignored == ignored
    assert [t.text for t in q.positive_terms] == terms


def test_a_tilde_year_range_is_still_a_range():
    assert (
        parse("year:2015~2020").year_ranges == [(2015, 2020)]
        and not parse("year:2015~2020").ignored
    )


@pytest.mark.parametrize(
    ("raw", "unit"),
    [
        ("改革 同段 开放", "paragraph"),
        ("改革 /p 开放", "paragraph"),
        ("改革 同句 开放", "sentence"),
        ("改革 /S 开放", "sentence"),
    ],
)
def test_same_paragraph_and_same_sentence_pair_two_strings(raw, unit):
    (group,) = parse(raw).groups
    (near,) = group
    assert (near.first.phrase, near.second.phrase, near.unit) == ("改革", "开放", unit)
    assert parse(raw).tokens == [f"改革 {'同段' if unit == 'paragraph' else '同句'} 开放"]


def test_same_paragraph_binds_closer_than_or_and_needs_two_sides():
    q = parse("经济 OR 改革 同段 开放")
    assert [[t.label for t in g] for g in q.groups] == [["经济", "改革 同段 开放"]]
    assert [t.label for g in parse("同段 开放").groups for t in g] == ["开放"]
    assert [t.label for g in parse("开放 同段").groups for t in g] == ["开放"]
