"""The vocabulary (术语表): jieba learns a term without a restart, the addresses holding it are
re-indexed through the queue, and bad terms are refused with a message.

These run in one process (the test client is the web worker, drain() the indexer); the same
with gunicorn's workers and run_indexer as processes is test_vocabulary_processes.py.
"""

import re

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from whoosh import query as wq

from search import service, vocabulary
from search.engine import analysis
from search.engine.analysis import jieba_tokenizer, jieba_tokens, jieba_words
from search.models import IndexTask, VocabularyStamp, VocabularyTerm
from search.queue import backend, drain
from speeches.tests.factories import make_speech

TERM = "轴承行业"  # in the seed address 15 times; jieba's own dictionary cuts it 轴承 / 行业
ADD = reverse("admin:search_vocabularyterm_add")


@pytest.fixture(autouse=True)
def _jieba_as_it_was():
    """jieba's words belong to the process: a test's change must not outlive its rollback."""
    words = analysis.extra_words()
    yield
    analysis.set_extra_words(words)
    vocabulary.forget()


@pytest.fixture
def other(seed):
    speech = make_speech(
        title="航空航天材料的新进展",
        speaker="李四",
        paragraphs=["航空航天材料需要高质量的轴承钢。", "轴承与行业标准。"],
    )
    drain()
    return speech


def cut(text):
    return [w for w, _, _ in jieba_words(text)]


def queued():
    return sorted(IndexTask.objects.values_list("speech_id", flat=True))


def indexed_with_word(word):
    """The speech ids the index holds `word` for as a jieba word (field text)."""
    hits = backend().searcher().search(wq.Term("text", word), limit=None)
    return sorted(int(hit["django_id"]) for hit in hits)


def understood(response):
    """The page's 检索词 line, as a reader sees it."""
    html = response.content.decode()
    line = re.search(r'<p class="search-understood">(.*?)</p>', html, re.S).group(1)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", line)).strip()


# -- the engine: words added to and taken from the loaded jieba ----------------------------


def test_taking_a_word_away_gives_back_jiebas_own_cut_exactly():
    tokenizer = jieba_tokenizer()
    before = (dict(tokenizer.FREQ), tokenizer.total, cut("发展人工智能与轴承行业"))
    words = analysis.extra_words()
    # 人工智能 is a word of jieba's own: taking it away must restore jieba's frequency.
    assert analysis.set_extra_words([*words, TERM, "人工智能"])
    assert cut("发展人工智能与轴承行业") == ["发展", "人工智能", "与", TERM]

    assert analysis.set_extra_words(words)
    assert (tokenizer.FREQ, tokenizer.total) == before[:2]
    assert cut("发展人工智能与轴承行业") == before[2] == ["发展", "人工智能", "与", "轴承", "行业"]


def test_the_cut_depends_on_the_words_alone_not_on_the_order_of_changes():
    tokenizer = jieba_tokenizer()
    words = analysis.extra_words()
    analysis.set_extra_words([*words, "工业母", TERM])
    analysis.set_extra_words([*words, "工业母", TERM, "承行"])
    analysis.set_extra_words([*words, TERM, "承行", "工业母"])  # no change
    one_way = (dict(tokenizer.FREQ), tokenizer.total)
    analysis.set_extra_words(words)
    analysis.set_extra_words([*words, "承行"])
    analysis.set_extra_words([*words, "承行", TERM, "工业母"])
    assert (dict(tokenizer.FREQ), tokenizer.total) == one_way


def test_a_change_reaches_text_cut_just_before_it():
    """The last cut is remembered (indexing asks twice): a change must not serve it again."""
    text = "轴承行业的发展"
    assert "轴承" in jieba_tokens(text)
    analysis.set_extra_words([*analysis.extra_words(), "轴承行业"])
    assert jieba_tokens(text)[0] == "轴承行业"
    assert analysis.is_one_word("轴承行业")


def test_words_are_folded_and_a_repeat_is_no_change():
    words = analysis.extra_words()
    assert analysis.set_extra_words([*words, "軸承行業"])
    assert "轴承行业" in analysis.extra_words()
    assert not analysis.set_extra_words([*words, "轴承行业", " "])


# -- a term added in the admin -------------------------------------------------------------


def test_a_term_added_in_the_admin_is_one_word_at_once_and_its_addresses_are_reindexed(
    admin_client, seed, other
):
    page, words = reverse("search:search"), {"q": TERM, "match": "words"}
    assert understood(admin_client.get(page, words)) == "检索词：轴承 / 行业"
    # The exact reading offers the words reading, which finds `other` too.
    assert admin_client.get(reverse("search:api"), {"q": TERM}).json()["broader"] == 1
    assert indexed_with_word(TERM) == []
    stamp = vocabulary.version()

    response = admin_client.post(ADD, {"term": TERM, "synonyms": "", "note": "轴承的行业"})

    assert response.status_code == 302
    term = VocabularyTerm.objects.get(term=TERM)
    assert term.added_by.username == "admin" and term.added_at
    assert vocabulary.version() != stamp
    # Exactly the address holding the word; `other` holds 轴承 and 行业 apart.
    assert queued() == [seed.pk]
    messages = admin_client.get(reverse("admin:search_vocabularyterm_changelist"))
    assert "1 篇讲稿已排队重新索引" in messages.content.decode()
    # The page answered from its cache before the change now cuts the query anew.
    response = admin_client.get(page, words)
    assert understood(response) == "检索词：轴承行业"
    html = response.content.decode()
    assert seed.title in html and other.title not in html
    # One word: the words reading finds no more than the exact one, and is not offered.
    assert admin_client.get(reverse("search:api"), {"q": TERM}).json()["broader"] is None

    drain()
    assert indexed_with_word(TERM) == [seed.pk]
    api = admin_client.get(reverse("search:api"), words).json()
    assert api["tokens"] == [TERM] and [r["id"] for r in api["results"]] == [seed.pk]


def test_substrings_of_a_new_term_are_found_before_and_after_the_reindex(admin_client, seed):
    substrings = {TERM[i:j] for i in range(len(TERM)) for j in range(i + 1, len(TERM) + 1)}
    admin_client.post(ADD, {"term": TERM})
    for piece in substrings:
        assert seed.pk in service.matching_ids(piece), piece  # the index still cut it apart
    drain()
    for piece in substrings:
        assert seed.pk in service.matching_ids(piece), piece


def test_a_term_deleted_in_the_admin_is_cut_apart_again(admin_client, seed):
    admin_client.post(ADD, {"term": TERM})
    drain()
    term = VocabularyTerm.objects.get(term=TERM)

    response = admin_client.post(
        reverse("admin:search_vocabularyterm_delete", args=[term.pk]), {"post": "yes"}
    )

    assert response.status_code == 302 and not VocabularyTerm.objects.filter(term=TERM).exists()
    assert queued() == [seed.pk]
    api = admin_client.get(reverse("search:api"), {"q": TERM, "match": "words"}).json()
    assert api["tokens"] == ["轴承", "行业"]
    drain()
    assert indexed_with_word(TERM) == []


def test_an_edited_term_reindexes_the_words_it_gained_and_lost(admin_client, seed, other):
    admin_client.post(ADD, {"term": "航空航天材料"})
    drain()
    term = VocabularyTerm.objects.get(term="航空航天材料")
    change = reverse("admin:search_vocabularyterm_change", args=[term.pk])

    admin_client.post(change, {"term": TERM, "synonyms": "", "note": ""})

    assert queued() == sorted([seed.pk, other.pk])
    drain()
    assert indexed_with_word(TERM) == [seed.pk] and indexed_with_word("航空航天材料") == []


@pytest.mark.parametrize(
    ("term", "message"),
    [
        ("", "这个字段是必填项"),
        ("   ", "这个字段是必填项"),
        ("轴" * 31, "30"),
        ("<b>轴承</b>", "不能含有 HTML 标记"),
        ("&lt;轴承", "不能含有 HTML 标记"),
        ("轴承 行业", "有空格"),
        ("轴承-行业", "只能由汉字、字母和数字组成"),
        ("新質生產力", "术语表中已有“新质生产力”"),
    ],
)
def test_bad_terms_are_refused_with_a_message(admin_client, db, term, message):
    stamp, count = vocabulary.version(), VocabularyTerm.objects.count()

    response = admin_client.post(ADD, {"term": term, "synonyms": ""})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert (vocabulary.version(), VocabularyTerm.objects.count()) == (stamp, count)


def test_synonyms_are_cleaned_and_a_cycle_is_harmless(admin_client, seed):
    response = admin_client.post(
        ADD, {"term": TERM, "synonyms": "轴承业、轴承行业\n轴承业，軸承產業；\n"}
    )
    assert response.status_code == 302
    assert VocabularyTerm.objects.get(term=TERM).synonym_list() == ["轴承业", "軸承產業"]
    # Each names the other: nothing follows synonyms, so nothing loops.
    admin_client.post(ADD, {"term": "轴承业", "synonyms": TERM})
    admin_client.post(ADD, {"term": "轴承产业", "synonyms": "轴承行业、轴承业"})
    drain()
    vocabulary.refresh()
    assert {TERM, "轴承业", "轴承产业"} <= set(analysis.extra_words())
    assert cut("轴承行业和轴承产业") == [TERM, "和", "轴承产业"]
    assert service.search(query=TERM, match="words").count == 1

    bad = admin_client.post(ADD, {"term": "轴承钢", "synonyms": "好、<i>钢</i>"})
    assert "同义词：术语不能含有 HTML 标记" in bad.content.decode()


def test_a_process_that_missed_a_change_catches_up_before_it_cuts(seed):
    """Another process (the command, a second worker) changed the vocabulary: this one has
    only the stamp to tell it."""
    vocabulary.refresh()
    VocabularyTerm.objects.create(term=TERM)  # the signal bumps the stamp, as anywhere
    assert TERM not in analysis.extra_words()
    assert vocabulary.refresh() == VocabularyStamp.objects.get().changed_at
    assert TERM in analysis.extra_words()


# -- the command ---------------------------------------------------------------------------


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command("vocabulary", *args, stdout=out)
    return out.getvalue()


def test_command_adds_lists_and_removes(seed, other):
    out = run("add", TERM, "航空航天材料", "--synonyms", "轴承业", "--note", "测试")
    assert "已添加“轴承行业”：1 篇讲稿排队重新索引。" in out
    assert "已添加“航空航天材料”：1 篇讲稿排队重新索引。" in out
    assert queued() == sorted([seed.pk, other.pk])
    assert f"{TERM}\t轴承业\t测试" in run("list").splitlines()

    drain()
    out = run("remove", TERM)
    assert "已删除“轴承行业”：1 篇讲稿排队重新索引。" in out
    assert not VocabularyTerm.objects.filter(term=TERM).exists()
    assert "航空航天材料" in run("list")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "   "), "术语不能为空"),
        (("add", "轴" * 31), "术语最多 30 个字，这里有 31 个"),
        (("add", "<script>"), "不能含有 HTML 标记"),
        (("add", "轴承行业", "轴承 行业"), "有空格"),
        (("add", "新質生產力"), "术语表中已有“新质生产力”"),
        (("remove", "轴承行业"), "术语表中没有“轴承行业”"),
        (("remove", "新质生产力", "不存在的词"), "术语表中没有“不存在的词”"),
    ],
)
def test_command_refuses_bad_input_and_changes_nothing(db, args, message):
    before = list(VocabularyTerm.objects.values_list("term", "synonyms"))
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert list(VocabularyTerm.objects.values_list("term", "synonyms")) == before
    assert not IndexTask.objects.exists()


def test_the_seeded_vocabulary_holds_the_seed_addresss_terms(seed):
    stored = set(VocabularyTerm.objects.values_list("term", flat=True))
    seed_terms = {"新质生产力", "工业母机", "低空经济", "高端装备", "中国轴承工业协会"}
    assert seed_terms | {"上海国际轴承峰会", "十四五"} <= stored and len(stored) >= 40
    vocabulary.forget()
    vocabulary.refresh()
    assert cut("上海国际轴承峰会与中国轴承工业协会") == [
        "上海国际轴承峰会",
        "与",
        "中国轴承工业协会",
    ]
    assert indexed_with_word("新质生产力") == [seed.pk]
