from collections import Counter

import pytest

from search.engine.analysis import (
    _GRAM_CHAR,
    BigramAnalyzer,
    CharAnalyzer,
    JiebaAnalyzer,
    _is_word,
    bigrams,
    code_points,
    fold,
    fold_with_map,
    jieba_words,
)


def test_fold_traditional_to_simplified():
    assert fold("軸承") == "轴承"
    assert fold("新質生產力") == "新质生产力"


def test_fold_full_width_and_case():
    assert fold("２０２４") == "2024"
    assert fold("ＡＩ") == "ai"
    assert fold("Made In China") == "made in china"


def test_fold_drops_spaces_between_chinese_and_digits_only():
    assert fold("2024 年") == "2024年"
    assert fold("截止 2024 年 9月底") == "截止2024年9月底"
    assert fold("政府工作报\n告") == "政府工作报告"
    assert fold("big data 中心") == "big data 中心"


def test_fold_drops_zero_width_spaces():
    assert fold("轴\u200b承") == "轴承"


def test_fold_is_per_character_so_substrings_fold_like_their_whole():
    text = "乾淨的乾隆年間，發展"
    folded = fold(text)
    for i in range(len(text)):
        for j in range(i + 1, len(text) + 1):
            assert fold(text[i:j]) in folded


def test_fold_with_map_points_back_at_original_characters():
    text = "截止 ２０２４ 年軸\u200b承"
    folded, offsets = fold_with_map(text)
    assert folded == fold(text) == "截止2024年轴承"
    assert [text[i] for i in offsets] == list("截止２０２４年軸承")


def test_jieba_tokens_are_numbered_by_token_without_overlap():
    tokens = [(t.text, t.pos) for t in JiebaAnalyzer()("发展新质生产力与轴承产业", positions=True)]
    assert [pos for _, pos in tokens] == list(range(len(tokens)))
    assert "".join(text for text, _ in tokens) == "发展新质生产力与轴承产业"


def test_jieba_analyzer_folds_and_skips_punctuation():
    assert [t.text for t in JiebaAnalyzer()("軸承，產業！")] == ["轴承", "产业"]


def test_analyzers_honour_tokenize_false():
    for analyzer in (JiebaAnalyzer(), BigramAnalyzer(), CharAnalyzer()):
        assert [t.text for t in analyzer("新質生產力", tokenize=False)] == ["新质生产力"]


def test_jieba_chars_point_into_the_original_text():
    text = "軸承 產業"
    for t in JiebaAnalyzer()(text, chars=True):
        assert fold(text[t.startchar : t.endchar]) == t.text


def test_bigrams_leave_a_gap_between_runs_and_cover_digits():
    grams = [(g, pos) for g, pos, _ in bigrams("轴承，承产 1000多")]
    assert grams == [("轴承", 0), ("承产", 3), ("10", 6), ("00", 7), ("00", 8), ("0多", 9)]


def test_jieba_words_have_offsets_into_folded_text():
    folded = fold("2024年上海国际轴承峰会")
    for word, start, end in jieba_words(folded):
        assert folded[start:end] == word


TEXTS = [
    "發展新質生產力，推动轴承产业高质量发展！",
    "截止 2024 年 9月底，ＡＩ与 Made-In_China 2025：10000多家企业。",
    "\n¶\n第一章　总则\n¶\n第一条 为了……制定本法。",
    "𠀀𠀁丂 ⅫⅣ ①② αβγ ÀÉ ß 十四五 x",
    "",
    "轴",
]


@pytest.mark.parametrize("text", TEXTS)
def test_the_rebuilds_counts_are_what_the_analyzers_yield(text):
    """search.bulk counts terms without Token objects: it must count exactly these."""
    folded = fold(text)
    for analyzer in (JiebaAnalyzer(), BigramAnalyzer(), CharAnalyzer()):
        expected = Counter(t.text for t in analyzer(text))
        if hasattr(analyzer, "counted_codes"):
            numbers, occurrences = analyzer.counted_codes(code_points(folded))
            assert list(numbers) == sorted(numbers)
            terms = map(analyzer.term_of, numbers.tolist())
            found = dict(zip(terms, occurrences.tolist(), strict=True))
        else:
            found = analyzer.counts(folded)
        assert found == expected, analyzer


def test_run_characters_are_gram_run_characters_everywhere():
    """The rebuild's table of run characters (str.isalnum) is GRAM_RUN's [^\\W_]."""
    table = _is_word()
    differ = [c for c in range(len(table)) if bool(_GRAM_CHAR.match(chr(c))) != table[c]]
    assert not differ and len(table) == 0x110000
