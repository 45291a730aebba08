"""Relevance and recall over the 68 addresses of ../shared/corpus, indexed once for this module."""

import csv
import datetime
import math
import random
import re

import pytest
from whoosh import query as wq

from conftest import point_index_at
from search import rebuild, service
from search.documents import searchable_text
from search.engine import collect, evaluation
from search.engine.analysis import CJK_RUN, fold
from search.engine.cache import cache
from search.engine.evaluation import Evaluation
from search.engine.query import build_plan
from search.engine.query.plan import Run
from search.engine.query.syntax import parse
from search.models import IndexTask
from speeches.models import Event, Paragraph, Person, Speech, SpeechKind, SpeechStatus
from speeches.services import replace_paragraphs, split_paragraphs

pytestmark = [pytest.mark.corpus, pytest.mark.slow]

SUBSTRINGS = 500
# Characters that are query syntax; a pasted substring holding one means something else.
SYNTAX = set('"“”「」『』＂-－:：')


@pytest.fixture(scope="module")
def corpus_speeches(corpus_dir, django_db_setup, django_db_blocker, tmp_path_factory):
    """{speech pk: file name}, with the index built once; rows removed afterwards."""
    from haystack import connections

    old_path = connections.connections_info["default"]["PATH"]
    with django_db_blocker.unblock():
        files = _import(corpus_dir)
        IndexTask.objects.all().delete()
        point_index_at(tmp_path_factory.mktemp("corpus_index"))
        rebuild.rebuild(workers=1)
    yield files
    with django_db_blocker.unblock():
        Speech.objects.filter(pk__in=files).delete()
        Person.objects.filter(speeches__isnull=True).delete()
        Event.objects.filter(speeches__isnull=True).delete()
        IndexTask.objects.all().delete()
    point_index_at(old_path)


@pytest.fixture
def corpus_index(corpus_speeches, db):
    return corpus_speeches


def _import(corpus_dir):
    files = {}
    with open(corpus_dir / "speeches" / "index.tsv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            text = (corpus_dir / "speeches" / row["file"]).read_text(encoding="utf-8")
            speech = Speech.objects.create(
                title=row["title"],
                kind=SpeechKind.WORK_REPORT
                if row["doc_type"] == "government_work_report"
                else SpeechKind.REPORT,
                speaker=Person.objects.get_or_create(name=row["speaker"], note="")[0],
                event=Event.objects.get_or_create(name=row["occasion"])[0],
                date=datetime.date.fromisoformat(row["date"]),
                date_precision="day",
                status=SpeechStatus.PUBLISHED,
            )
            replace_paragraphs(speech=speech, texts=split_paragraphs(text))
            files[speech.pk] = row["file"]
    return files


def _seeds(corpus_dir):
    with open(corpus_dir / "relevance_seeds.tsv", encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))[1:]
    for query, _, docs in rows:
        counts = {d.split(":")[0]: int(d.split(":")[1]) for d in docs.split()}
        yield query, counts


def test_relevance_seeds_find_every_listed_file(corpus_index, corpus_dir):
    missing = {}
    for query, counts in _seeds(corpus_dir):
        outcome = service.search(query=query, page_size=100, facets=False)
        found = {corpus_index[hit.speech.pk] for hit in outcome.hits}
        if set(counts) - found:
            missing[query] = sorted(set(counts) - found)
    assert missing == {}


def test_relevance_seeds_rank_the_dominant_file_in_top_3(corpus_index, corpus_dir):
    checked, misranked = 0, {}
    for query, counts in _seeds(corpus_dir):
        top_file, top = max(counts.items(), key=lambda kv: kv[1])
        if top * 2 <= sum(counts.values()):
            continue  # no file holds most of the occurrences
        checked += 1
        hits = service.search(query=query, page_size=3, facets=False).hits
        ranked = [corpus_index[hit.speech.pk] for hit in hits]
        if top_file not in ranked:
            misranked[query] = (top_file, ranked)
    assert checked >= 3
    assert misranked == {}


def test_random_substrings_have_full_recall(corpus_index):
    rng = random.Random(20241125)
    paragraphs = list(
        Paragraph.objects.filter(speech_id__in=corpus_index).values_list("speech_id", "text")
    )
    misses, drawn = [], 0
    while drawn < SUBSTRINGS:
        speech_id, text = rng.choice(paragraphs)
        length = rng.randint(1, 8)
        start = rng.randrange(max(1, len(text) - length + 1))
        sub = text[start : start + length]
        if not CJK_RUN.search(sub) or SYNTAX & set(sub) or sub.strip() in ("OR",):
            continue
        drawn += 1
        if speech_id not in service.matching_ids(sub):
            misses.append((speech_id, sub))
    assert misses == []


def test_traditional_and_simplified_find_the_same_addresses(corpus_index):
    assert service.matching_ids("經濟特區") == service.matching_ids("经济特区") != set()


def test_snippets_on_the_corpus_mark_whole_words(corpus_index):
    outcome = service.search(query="治理整顿", page_size=5, facets=False)
    assert outcome.count == 7
    for hit in outcome.hits:
        assert hit.snippets and all("<mark>治理整顿</mark>" in s.html for s in hit.snippets)


def test_facets_and_filters_on_the_corpus(corpus_index):
    outcome = service.search(query="一带一路 year:2015-2019")
    years = {o["value"] for o in outcome.facets["year"]}
    assert years and years <= {"2015", "2016", "2017", "2018", "2019"}
    assert outcome.count == sum(o["count"] for o in outcome.facets["year"])
    speaker = service.search(query="speaker:周恩来")
    assert speaker.count > 0 and {h.speech.speaker.name for h in speaker.hits} == {"周恩来"}


def _fresh(**kwargs):
    cache.clear()  # a cached outcome would hide the path under test
    return service.search(**kwargs)


def test_pages_follow_on_across_the_reranked_best(corpus_index, monkeypatch):
    monkeypatch.setattr(collect, "RERANK", 5)
    whole = [h.speech.pk for h in _fresh(query="经济发展", page_size=12).hits]
    pages = [_fresh(query="经济发展", page=n, page_size=3).hits for n in (1, 2, 3, 4)]
    assert [h.speech.pk for hits in pages for h in hits] == whole
    assert len(set(whole)) == 12


def test_intact_bonus_is_what_the_run_would_add(corpus_index, monkeypatch):
    """In the words reading, the bonus is checked at a few documents, not by a Run query: it
    must score the same."""
    q = "经济的发展"  # its bigrams also occur apart, in 经济的… and …的发展
    plan = build_plan(parse(q, match="words"))
    assert [run.text for run in plan.rerank.children] == [q]
    searcher = service.backend().searcher()

    def scores(query):
        found = searcher.search(query, limit=None)
        return {docnum: score for score, docnum in found.top_n}

    plain = scores(plan.whoosh())
    run = Run(q).whoosh()
    with_run = scores(wq.AndMaybe(plan.matched.whoosh(), wq.Or([plan.rank.whoosh(), run])))
    zero = dict.fromkeys(plain, 0.0)
    rescored = collect.rescored(Evaluation(searcher), plan, list(plain), zero)
    bonus = {d: b for d, b in rescored.items() if b}
    apart = set(searcher.docs_for_query(run.child)) - set(searcher.docs_for_query(run))
    assert bonus and apart & set(plain) and not apart & set(bonus)
    for docnum, score in plain.items():
        assert with_run[docnum] == pytest.approx(score + bonus.get(docnum, 0.0))
    monkeypatch.setattr(collect, "RERANK", len(plain))  # then the whole order is exact
    best = sorted(with_run, key=lambda d: (-with_run[d], d))[:10]
    assert best != sorted(plain, key=lambda d: (-plain[d], d))[:10]
    expected = [int(searcher.stored_fields(d)["django_id"]) for d in best]
    assert [h.speech.pk for h in _fresh(query=q, page_size=10, match="words").hits] == expected


@pytest.mark.parametrize("run", ["高质量发展", "社会主义", "经济的发展", "中华人民共和国"])
def test_runs_find_exactly_the_addresses_holding_them(corpus_index, run):
    searcher = service.backend().searcher()
    holding = {pk for pk in corpus_index if run in fold(searchable_text(Speech.objects.get(pk=pk)))}
    found = {
        int(searcher.stored_fields(d)["django_id"])
        for d in searcher.docs_for_query(Run(run).whoosh())
    }
    assert found == holding and found
    assert service.matching_ids(f"“{run}”") == holding
    if run == "经济的发展":  # its bigrams also occur apart
        loose = Run(run).whoosh().child
        assert len(set(searcher.docs_for_query(loose))) > len(found)


def _holding(corpus_index, *texts):
    """The corpus addresses whose folded searchable text holds every one of `texts`."""
    folded = {pk: fold(searchable_text(Speech.objects.get(pk=pk))) for pk in corpus_index}
    return {pk for pk, text in folded.items() if all(fold(t) in text for t in texts)}


def test_a_minus_before_a_quoted_phrase_excludes_it(corpus_index):
    with_it = _holding(corpus_index, "粤港澳大湾区")
    development = _holding(corpus_index, "发展")
    assert with_it and with_it <= development
    for raw in ('-"粤港澳大湾区"', "-“粤港澳大湾区”"):
        assert service.matching_ids(f"发展 {raw}") == development - with_it


def test_an_exclusion_alone_finds_every_address_without_it(corpus_index):
    found = service.matching_ids("-粤港澳大湾区")
    assert found == set(corpus_index) - _holding(corpus_index, "粤港澳大湾区") and found


def test_repeated_speakers_and_years_are_alternatives(corpus_index):
    by_name = {
        name: set(
            Speech.objects.filter(pk__in=corpus_index, speaker__name=name).values_list(
                "pk", flat=True
            )
        )
        for name in ("李鹏", "朱镕基")
    }
    assert all(by_name.values())
    assert (
        service.matching_ids("speaker:李鹏 speaker:朱镕基") == by_name["李鹏"] | by_name["朱镕基"]
    )
    assert (
        service.matching_ids("speaker:李鹏 OR speaker:朱镕基")
        == by_name["李鹏"] | by_name["朱镕基"]
    )
    years = set(
        Speech.objects.filter(pk__in=corpus_index, date__year__in=(1954, 2024)).values_list(
            "pk", flat=True
        )
    )
    assert len(years) >= 2 and service.matching_ids("year:2024 year:1954") == years


def test_a_target_year_is_text(corpus_index):
    """2020年 is text, however the address writes the year (2020年, 二〇二〇年, 二零二〇年)."""
    expected = set().union(
        *(
            _holding(corpus_index, year, "小康社会")
            for year in ("2020年", "二〇二〇年", "二零二〇年")
        )
    )
    assert expected > _holding(corpus_index, "2020年", "小康社会")
    assert service.matching_ids("2020年 小康社会") == expected


def test_year_numerals_printed_with_a_circle_are_found(corpus_index):
    printed = _holding(corpus_index, "一九五○年")
    assert printed and printed <= service.matching_ids("“一九五〇年”")


def _folded_bodies(corpus_index):
    return {pk: fold(searchable_text(Speech.objects.get(pk=pk))) for pk in corpus_index}


def test_an_unquoted_string_counts_exactly_the_addresses_holding_it(corpus_index):
    """100 random 3-6 character strings, typed without quotes: the count is the number of
    addresses whose text holds the string as it stands, and every hit holds it."""
    bodies = _folded_bodies(corpus_index)
    rng = random.Random(20261204)
    runs = [r for text in bodies.values() for r in CJK_RUN.findall(text) if len(r) >= 6]
    checked = 0
    while checked < 100:
        run = rng.choice(runs)
        size = rng.randint(3, 6)
        start = rng.randrange(len(run) - size + 1)
        q = run[start : start + size]
        holding = {pk for pk, text in bodies.items() if q in text}
        outcome = _fresh(query=q, page_size=100, facets=False)
        assert outcome.count == len(holding), q
        assert {h.speech.pk for h in outcome.hits} == holding, q
        checked += 1


@pytest.mark.parametrize("q", ["“9.9%”", "人工智能+", "“大众创业、万众创新”", "“GDP”"])
def test_a_string_with_punctuation_is_matched_with_it(corpus_index, q):
    bodies = _folded_bodies(corpus_index)
    phrase = parse(q).positive_terms[0].phrase
    holding = {pk for pk, text in bodies.items() if phrase in re.sub(r"\s+", "", text)}
    assert service.matching_ids(q) == holding
    assert holding or q == "“GDP”"


def test_the_words_reading_is_offered_and_used_when_nothing_is_exact(corpus_index):
    bodies = _folded_bodies(corpus_index)
    exact = {pk for pk, text in bodies.items() if "质生产" in text}
    loose = {pk for pk, text in bodies.items() if "质" in text and "生产" in text}
    outcome = _fresh(query="质生产")
    assert outcome.count == len(exact) and outcome.broader == len(loose) - len(exact) > 0
    words = _fresh(query="质生产", match="words")
    assert words.count == len(loose) and words.query.match == "words"
    nothing = _fresh(query="改革生产力发展")  # the words occur, never together
    assert not any("改革生产力发展" in t for t in bodies.values())
    assert nothing.fallback and nothing.count > 0 and nothing.query.match == "words"


def _ndcg(ranked, gains, k=10):
    dcg = sum(gains.get(f, 0) / math.log2(i + 2) for i, f in enumerate(ranked[:k]))
    ideal = sorted(gains.values(), reverse=True)[:k]
    best = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / best if best else 1.0


def test_relevance_by_occurrences_is_no_worse_than_the_plain_baseline(corpus_index, corpus_dir):
    """nDCG@10 on the relevance seeds (gain: the file's occurrences of the query), against a
    baseline computed here: occurrences of the query string divided by the text's length."""
    texts = {
        pk: re.sub(r"\s+", "", (corpus_dir / "speeches" / name).read_text(encoding="utf-8"))
        for pk, name in corpus_index.items()
    }
    ours, baseline = [], []
    for query, gains in _seeds(corpus_dir):
        hits = _fresh(query=query, page_size=10, facets=False).hits
        ours.append(_ndcg([corpus_index[h.speech.pk] for h in hits], gains))
        plain = {pk: text.count(query) / len(text) for pk, text in texts.items()}
        order = sorted((pk for pk in plain if plain[pk]), key=lambda pk: -plain[pk])
        baseline.append(_ndcg([corpus_index[pk] for pk in order], gains))
    mean_ours, mean_baseline = sum(ours) / len(ours), sum(baseline) / len(baseline)
    print(f"nDCG@10 over {len(ours)} seeds: ours {mean_ours:.3f}, baseline {mean_baseline:.3f}")
    assert mean_ours >= mean_baseline


_SENTENCE = re.compile("[。！？；…!?;]+")


def _paragraphs_of(pk):
    return list(Paragraph.objects.filter(speech_id=pk).values_list("text", flat=True))


@pytest.mark.parametrize(
    ("q", "first", "second", "unit"),
    [
        ("改革 同段 开放", "改革", "开放", "paragraph"),
        ("改革 /p 开放", "改革", "开放", "paragraph"),
        ("经济 同句 人民", "经济", "人民", "sentence"),
        ("“科学技术” /s 现代化", "科学技术", "现代化", "sentence"),
    ],
)
def test_same_paragraph_and_same_sentence_find_exactly_where_both_meet(
    corpus_index, q, first, second, unit
):
    """Ground truth from the paragraphs: both strings in one paragraph, or one sentence."""
    expected = set()
    for pk in corpus_index:
        for paragraph in map(fold, _paragraphs_of(pk)):
            units = _SENTENCE.split(paragraph) if unit == "sentence" else [paragraph]
            if any(first in u and second in u for u in units):
                expected.add(pk)
                break
    both = service.matching_ids(f"{first} {second}")
    assert expected and expected < both, "some addresses hold both, but apart"
    assert service.matching_ids(q) == expected


@pytest.mark.parametrize("q", ["1950年", "一九五〇年", "一九五零年", "year:一九五四 经济"])
def test_years_in_chinese_numerals_are_the_same_year(corpus_index, q):
    bodies = _folded_bodies(corpus_index)
    if q.startswith("year:"):
        in_1954 = set(
            Speech.objects.filter(pk__in=corpus_index, date__year=1954).values_list("pk", flat=True)
        )
        assert in_1954 and service.matching_ids(q) == {pk for pk in in_1954 if "经济" in bodies[pk]}
        return
    forms = ("1950年", "一九五〇年", "一九五零年")
    holding = {pk for pk, text in bodies.items() if any(f in text for f in forms)}
    assert holding and service.matching_ids(q) == holding


def test_a_term_finds_its_synonyms_unless_asked_not_to(corpus_index, client):
    """The seeded vocabulary says 十四五 is 第十四个五年规划: each finds the other."""
    bodies = _folded_bodies(corpus_index)
    long = {pk for pk, text in bodies.items() if "第十四个五年规划" in text}
    either = long | {pk for pk, text in bodies.items() if "十四五" in text}
    assert long and long < either, "the corpus writes it both ways"
    outcome = _fresh(query="第十四个五年规划", page_size=100)
    assert {h.speech.pk for h in outcome.hits} == either
    assert outcome.query.tokens == ["第十四个五年规划（含同义：十四五）"]
    unlinked = _fresh(query="第十四个五年规划", page_size=100, with_synonyms=False)
    assert {h.speech.pk for h in unlinked.hits} == long
    assert {h.speech.pk for h in _fresh(query="十四五", page_size=100).hits} == either
    page = client.get("/search/", {"q": "十四五"}).content.decode()
    assert "十四五（含同义：第十四个五年规划）" in page and "syn=0" in page


def test_titles_for_the_title_boost_come_from_the_head_column_as_from_the_text(
    corpus_index, monkeypatch
):
    """The title boost reads each hit's title from the HEAD column; an index written
    without it reads the start of the folded text: both give the folded titles."""
    searcher = service.backend().searcher()
    docs = Evaluation(searcher).every(None)
    expected = {
        searcher.document_number(django_id=str(pk)): fold(title)
        for pk, title in Speech.objects.published().values_list("pk", "title")
    }
    from_head = [t.decode() for t in Evaluation(searcher)._titles(docs)]
    monkeypatch.setattr(evaluation, "heads", lambda s: ())
    from_text = [t.decode() for t in Evaluation(searcher)._titles(docs)]
    assert from_head == from_text == [expected[d] for d in docs.tolist()]
    assert len(docs) == len(corpus_index)
