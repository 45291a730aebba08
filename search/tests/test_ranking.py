"""Matches and scores computed from posting lists (search.engine) must be Whoosh's own."""

import random

import numpy as np
import pytest
from whoosh import fields
from whoosh import index as whoosh_index
from whoosh import query as wq

from search import service
from search.engine import codec, collect
from search.engine.analysis import BigramAnalyzer, CharAnalyzer, JiebaAnalyzer, fold
from search.engine.cache import SearcherCache, cache
from search.engine.evaluation import Evaluation
from search.engine.query import build_plan
from search.engine.query.plan import Run
from search.engine.query.syntax import parse
from search.engine.store import DocumentTexts, TextColumn, stored_numbers
from search.queue import drain
from speeches.tests.factories import make_speech

WORDS = (
    "经济 发展 改革 高质量 社会 主义 创新 驱动 产业 开放 建设 推进 质量 生产 人民 中华 的".split()
)
RARE = {5: "林权", 290: "林权", 555: "林权"}
QUERIES = [
    "发展",
    "经济 改革",
    "“高质量发展”",
    "经济发展",
    "经济的发展",
    "质生产",
    "林权 发展",
    "林权 经济发展",
    "经济 OR 林权",
    "发展 year:2020",
    "产业 year:2019-2021",
    "创新 -改革",
    "质",
    "中华人民",
]


@pytest.fixture(scope="module")
def searcher(tmp_path_factory):
    """600 generated documents in three segments, some deleted: terms span many blocks."""
    schema = fields.Schema(
        django_id=fields.ID(stored=True, unique=True),
        text=fields.TEXT(analyzer=JiebaAnalyzer(), phrase=False),
        title=fields.TEXT(analyzer=JiebaAnalyzer(), phrase=False, field_boost=2.0),
        grams=fields.TEXT(analyzer=BigramAnalyzer(), phrase=False),
        chars=fields.TEXT(analyzer=CharAnalyzer(), phrase=False),
        folded=TextColumn(),
        year=fields.ID(stored=True, sortable=True),
    )
    ix = whoosh_index.create_in(tmp_path_factory.mktemp("ranking_index"), schema)
    rng = random.Random(20241125)
    for start in (0, 200, 400):
        writer = ix.writer()
        for n in range(start, start + 200):
            words = rng.choices(WORDS, k=rng.randint(20, 160)) + [RARE.get(n, "")]
            body = "".join(words)
            writer.add_document(
                django_id=str(n),
                text=body,
                title="".join(rng.choices(WORDS, k=3)),
                grams=body,
                chars=body,
                folded=fold(body),
                year=str(rng.randint(2018, 2022)),
            )
        writer.commit(merge=False)
    writer = ix.writer()
    for n in range(0, 600, 37):
        writer.delete_by_term("django_id", str(n))
    writer.commit(merge=False)
    with ix.searcher() as searcher:
        assert len(searcher.leaf_searchers()) == 3 and searcher.reader().has_deletions()
        yield searcher


def test_posting_lists_are_those_whooshs_matcher_steps_through(searcher):
    """codec.read_postings decodes a term's blocks whole, their deltas summed at once across
    blocks, the deleted documents left out: every term of every field has the docnums and
    weights Whoosh's own matcher gives; and, asked for a few documents, the blocks it reads
    hold each of those that has the term."""
    reader = searcher.reader()
    leaves = [(sub.reader(), offset) for sub, offset in searcher.leaf_searchers()]
    within = np.array([3, 150, 201, 222, 401, 598], dtype=np.int64)
    longest = 0
    for fieldname in ("text", "grams", "chars"):
        for term in reader.lexicon(fieldname):
            term = term.decode("utf-8")
            matcher, theirs = reader.postings(fieldname, term), {}
            while matcher.is_active():
                theirs[matcher.id()] = matcher.weight()
                matcher.next()
            ours = codec.read_postings(leaves, fieldname, term, None)
            assert dict(zip(ours.ids.tolist(), ours.weights.tolist(), strict=True)) == theirs
            some = codec.read_postings(leaves, fieldname, term, within)
            found = dict(zip(some.ids.tolist(), some.weights.tolist(), strict=True))
            assert {d: found.get(d) for d in within.tolist() if d in theirs} == {
                d: theirs[d] for d in within.tolist() if d in theirs
            }
            longest = max(longest, len(theirs))
    # Over three segments' worth of Whoosh's blocks of 128: some segment holds two blocks.
    assert longest > 3 * 128


def _whoosh_docs(searcher, query):
    # Whoosh's AndNot lets through a first match the exclusion holds, when the exclusion's
    # postings start earlier: the expected set is the difference.
    if isinstance(query, wq.AndNot):
        return _whoosh_docs(searcher, query.a) - _whoosh_docs(searcher, query.b)
    return set(searcher.docs_for_query(query))


def _scored(plan):
    """The plan as Whoosh's query, without its filters (boost 0): Whoosh scores some of them
    as 1 anyway."""
    query = plan.matched.whoosh()
    if isinstance(query, wq.And):
        query = wq.And([q for q in query.subqueries if q.boost])
    return wq.AndMaybe(query, plan.rank.whoosh()) if plan.rank else query


def _order(scores):
    """Best first, then lowest docnum: Whoosh's order. Rounded: sums may differ in the last bit."""
    return sorted(scores, key=lambda d: (-round(scores[d], 9), d))


@pytest.mark.parametrize("block", [codec.BLOCK_LIMIT, 1])  # 1: blocks are skipped far more often
@pytest.mark.parametrize("q", QUERIES)
def test_matches_and_scores_are_whooshs(searcher, monkeypatch, block, q):
    """In the words reading, BM25 over jieba words, as Whoosh scores it."""
    monkeypatch.setattr(codec, "BLOCK_LIMIT", block)
    cache.clear()
    plan = build_plan(parse(q, match="words"))
    found = searcher.search(_scored(plan), limit=None)
    # Twice: first decoding the blocks, then from the posting lists the first one kept.
    for _ in range(2):
        index = Evaluation(searcher)
        docs = index.docs(plan.matched)
        assert set(docs.tolist()) == _whoosh_docs(searcher, plan.matched.whoosh()) and len(docs)
        ours = dict(zip(docs.tolist(), index.ranking(plan, docs).tolist(), strict=True))
        theirs = {docnum: score for score, docnum in found.top_n if docnum in ours}
        assert ours.keys() == theirs.keys()
        assert ours == pytest.approx(theirs, rel=1e-12)
        assert _order(ours) == _order(theirs)
    assert any(key[0] == "postings" for key in cache.entries)


@pytest.mark.parametrize("q", [*QUERIES, "经济，发展", "“发展。”", "经济 -改革发展"])
def test_exact_matches_are_whooshs_and_the_texts_holding_the_strings(searcher, q):
    """In the exact reading, the documents Whoosh's own matchers find for the same plan; and,
    for strings alone, exactly the documents whose folded text holds each as it stands."""
    parsed = parse(q)
    docs = set(Evaluation(searcher).docs(build_plan(parsed).matched).tolist())
    assert docs == _whoosh_docs(searcher, build_plan(parsed).matched.whoosh())
    if parsed.has_filters or any(len(g) > 1 for g in parsed.groups):
        return
    texts = DocumentTexts(searcher.reader(), "folded")
    live = [d for d in range(searcher.doc_count_all()) if not searcher.reader().is_deleted(d)]
    holding = {
        d
        for d in live
        if all(t.phrase in texts.text(d) for t in parsed.positive_terms)
        and not any(t.phrase in texts.text(d) for t in parsed.excluded)
    }
    assert docs == holding


def test_decoded_postings_keep_to_their_budget_and_their_searcher(searcher):
    kept = SearcherCache(budget=600 * 16)  # bytes: 16 a posting
    index = Evaluation(searcher)
    common, rare = index.postings("text", "发展"), index.postings("text", "林权")
    assert 600 > len(common.ids) > 300 and len(rare.ids) == 1
    kept.put(searcher, ("text", "发展"), common)
    kept.put(searcher, ("text", "林权"), rare)
    assert kept.get(searcher, ("text", "发展")) is common
    assert kept.size == 16 * (len(common.ids) + 1)
    assert kept.get(searcher, ("text", "林权")) is rare  # now the most recently used
    kept.put(searcher, ("grams", "发展"), index.postings("grams", "发展"))
    assert kept.get(searcher, ("text", "发展")) is None, "the least recently used goes first"
    assert kept.get(searcher, ("text", "林权")) is rare and kept.size <= 600 * 16
    assert kept.get(object(), ("text", "林权")) is None, "another searcher: another index"


@pytest.mark.parametrize("q", ["经济发展", "经济的发展", "高质量发展"])
def test_intact_bonus_is_the_runs_score(searcher, q):
    plan = build_plan(parse(q, match="words"))
    run = Run(q).whoosh()
    assert [r.text for r in plan.rerank.children] == [q] and not plan.replace
    scores = {docnum: score for score, docnum in searcher.search(run, limit=None).top_n}
    docnums = list(range(0, searcher.doc_count_all(), 3))
    zero = dict.fromkeys(docnums, 0.0)
    rescored = collect.rescored(Evaluation(searcher), plan, docnums, zero)
    bonus = {d: b for d, b in rescored.items() if b}
    assert bonus.keys() == scores.keys() & set(docnums) and bonus
    assert bonus == pytest.approx({d: scores[d] for d in bonus}, rel=1e-12)


@pytest.fixture
def bearings(seed):
    for n in range(1, 6):
        make_speech(
            title=f"轴承报告{n}",
            paragraphs=["轴承" * n + "产业发展。", "产业" * (6 - n) + "升级，轴承钢。" * n],
        )
    drain()


@pytest.mark.parametrize("q", ["轴承", "轴承产业", "产业 发展", "轴承 OR 产业"])
def test_pages_list_whooshs_bm25_order(bearings, monkeypatch, q):
    monkeypatch.setattr(collect, "RERANK", 0)  # no bonus for intact runs: BM25 alone
    searcher = service.backend().searcher()
    found = searcher.search(build_plan(parse(q, match="words")).whoosh(), limit=None)
    scores = {docnum: score for score, docnum in found.top_n}
    expected = [int(searcher.stored_fields(d)["django_id"]) for d in _order(scores)]
    cache.clear()
    hits = service.search(query=q, page_size=50, match="words").hits
    assert [h.speech.pk for h in hits] == expected and len(expected) > 2
    assert [h.score for h in hits] == pytest.approx([round(scores[d], 4) for d in _order(scores)])


def test_an_exclusion_drops_every_document_holding_it(search_index):
    # In either indexing order, the exclusion's postings start before the positive word's:
    # Whoosh's AndNot matcher lets the first document holding both through.
    make_speech(paragraphs=["钢铁工业。"])
    make_speech(paragraphs=["轴承钢铁。"])
    bearing = make_speech(paragraphs=["轴承。"])
    make_speech(paragraphs=["钢铁轴承。"])
    make_speech(paragraphs=["钢铁。"])
    drain()
    assert len(service.matching_ids("轴承")) == 3
    assert service.matching_ids("轴承 -钢铁") == {bearing.pk}
    assert [h.speech.pk for h in service.search(query="轴承 -钢铁").hits] == [bearing.pk]


def test_every_document_is_whooshs_live_documents(searcher):
    """Every live document of every segment, the deleted ones left out, as Whoosh lists them."""
    expected = sorted(searcher.reader().all_doc_ids())
    assert len(expected) == 600 - len(range(0, 600, 37))
    assert Evaluation(searcher).every(None).tolist() == expected
    within = np.array([0, 1, 37, 200, 222, 599], dtype=np.int64)
    assert Evaluation(searcher).every(within).tolist() == [d for d in within if d in expected]


def test_stored_numbers_are_whooshs_stored_fields_in_every_segment(searcher):
    cache.clear()
    live = [d for d in range(searcher.doc_count_all()) if not searcher.reader().is_deleted(d)]
    expected = [int(searcher.stored_fields(d)["django_id"]) for d in live]
    assert stored_numbers(searcher, live, "django_id") == expected
    # Read once: asked again (in another order), the kept numbers answer.
    assert stored_numbers(searcher, live[::-1], "django_id") == expected[::-1]
    assert len(cache.get(searcher, ("stored", "django_id"))) == len(live)
