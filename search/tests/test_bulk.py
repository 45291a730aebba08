"""The rebuild's segment writer (search.bulk) must write what Whoosh's own writer writes."""

import datetime
import random
from pathlib import Path

import numpy as np
import pytest
from haystack import connections
from whoosh.codec.whoosh3 import W3Codec, W3TermInfo
from whoosh.columns import VarBytesColumn
from whoosh.filedb.filestore import FileStorage, RamStorage
from whoosh.util.times import datetime_to_long
from whoosh.writing import SegmentWriter

from search.engine import codec, store
from search.engine.analysis import fold, word_lengths
from search.engine.evaluation import Evaluation
from search.engine.query import build_plan
from search.engine.query.syntax import parse
from search.engine.store import WRITER_OPTIONS

WORDS = (
    "经济 發展 改革 高质量 社会主义 創新 驱动 产业 开放 建设 推进 质量 生产 人民 中华 的 "
    "轴承 2024 年 ＡＩ Made In China 第一章 总则 ，。、 ¶ 10 000 多 林权 龘"
).split()


def _documents(count, seed=7):
    """Speech-like documents over our real schema, with rare and very common terms, empty
    and missing values, and texts repeated whole."""
    rng = random.Random(seed)
    docs = []
    for n in range(count):
        body = "".join(rng.choices(WORDS, k=rng.randint(0, 300)))
        if n % 50 == 7:
            body = docs[n - 5]["text"]
        docs.append(
            {
                "id": f"speeches.speech.{n}",
                "django_ct": "speeches.speech",
                "django_id": str(n),
                "text": body,
                "title": "".join(rng.choices(WORDS, k=3)),
                "grams": body,
                "chars": body,
                "folded": fold(body),
                "words": word_lengths(fold(body)),
                "body_chars": str(len(fold(body))),
                "year": str(rng.randint(1954, 2025)),
                "kind": rng.choice(["报告", "其他"]),
                "speaker": str(rng.randint(1, 9)) if n % 3 else None,
                "updated": f"2026-01-{n % 28 + 1:02d}",
            }
        )
    return docs


@pytest.fixture(scope="module")
def schema():
    backend = connections["default"].get_backend()
    return backend.build_schema(connections["default"].get_unified_index().all_searchfields())[1]


def _write(folder, schema, docs, writer_class, **options):
    """The index written, and the writer."""
    folder.mkdir()
    ix = FileStorage(str(folder)).create_index(schema)
    writer = writer_class(ix, **WRITER_OPTIONS, **options)
    for doc in docs:
        writer.add_document(**doc)
    writer.commit()
    return ix, writer


def _segment_files(folder):
    """{file extension: bytes} of the index's one segment."""
    files = {}
    for path in Path(folder).glob("MAIN_*.*"):
        if not path.name.startswith("_"):
            files[path.name.split(".", 1)[1]] = path.read_bytes()
    return files


def test_segments_are_whooshs_file_for_file_and_term_for_term(tmp_path, schema, monkeypatch):
    # Whoosh's writer, with its short-list branch working (it calls a method W3TermInfo
    # lacks), and ours compressing blocks, as Whoosh does.
    monkeypatch.setattr(W3TermInfo, "set_inline", W3TermInfo.set_inlined, raising=False)
    monkeypatch.setattr(codec, "COMPRESSION", 3)
    docs = _documents(700)
    theirs, _ = _write(
        tmp_path / "whoosh", schema, docs, SegmentWriter, codec=W3Codec(inlinelimit=128)
    )
    ours, writer = _write(tmp_path / "bulk", schema, docs, codec.BulkSegmentWriter)
    # Our analyzers' terms are counted, not put through Whoosh's Token objects.
    assert {name for name, columns in writer.counted.items() if columns.size} == {
        "text",
        "title",
        "grams",
        "chars",
    }
    expected, found = _segment_files(tmp_path / "whoosh"), _segment_files(tmp_path / "bulk")
    assert found.keys() == expected.keys() and {"trm", "pst", "folded.col"} <= found.keys()
    # The term file holds pickled short lists, where ours share equal value objects (pickle
    # writes them once): compared term by term instead, every statistic and posting.
    for extension in expected.keys() - {"trm"}:
        assert found[extension] == expected[extension], extension
    with theirs.reader() as known, ours.reader() as written:
        terms = list(known.all_terms())
        assert list(written.all_terms()) == terms and len(terms) > 1000
        for fieldname, text in terms:
            info = written.term_info(fieldname, text)
            assert vars(info) == _valued(vars(known.term_info(fieldname, text))), (fieldname, text)
    (seg_theirs,), (seg_ours,) = theirs._segments(), ours._segments()
    assert seg_ours._fieldlengths == seg_theirs._fieldlengths
    assert type(seg_ours.codec()) is W3Codec


def _valued(info):
    """A term record as ours keeps it: a short list without values (ids, years) has an empty
    value for each posting, where Whoosh's writer keeps none, and its reader then answers ""
    (a str) that its own writer refuses when it merges the segment."""
    inlined = info.get("_inlined")
    if inlined and not inlined[2]:
        info = {**info, "_inlined": (*inlined[:2], (b"",) * len(inlined[0]))}
    return info


def test_bulk_segments_merge_with_whooshs_own_writer(tmp_path, schema):
    """The indexer's ordinary commits merge small segments, the rebuild's among them."""
    ix, _ = _write(tmp_path / "bulk", schema, _documents(300), codec.BulkSegmentWriter)
    more = codec.BulkSegmentWriter(ix.refresh(), **WRITER_OPTIONS)
    for doc in _documents(40, seed=9):
        more.add_document(**(doc | {"id": doc["id"] + "x", "django_id": doc["django_id"] + "0"}))
    more.commit()
    assert len(ix.refresh()._segments()) == 2
    writer = ix.refresh().writer(**WRITER_OPTIONS)
    writer.update_document(**_documents(1, seed=3)[0])
    writer.commit(optimize=True)
    with ix.refresh().reader() as merged:
        assert merged.doc_count() == 340 and len(ix.refresh()._segments()) == 1


def test_columns_read_whole_are_what_whooshs_column_reader_reads(tmp_path, schema):
    """codec reads a segment's column in one go (VarBytesRows, numeric_values); Whoosh's reader
    reads it a document at a time. Text, keyword and date columns, values missing and empty."""
    docs = _documents(300)
    for n, doc in enumerate(docs):
        if n % 4:
            doc["date"] = datetime.datetime(1954 + n % 70, 3, 5)
    ix, _ = _write(tmp_path / "whoosh", schema, docs, SegmentWriter)
    with ix.reader() as reader:
        for name in ("folded", "words", "body_chars", "year", "kind", "speaker", "date"):
            whooshs = list(reader.column_reader(name, translate=False))
            ours = codec.numeric_values(reader, name)
            ours = _rows(codec.column_rows(reader, name)) if ours is None else ours.tolist()
            assert ours == whooshs, name
            assert len(whooshs) == 300 and len(set(whooshs)) > 1


@pytest.mark.parametrize("cutoff", [10, 2**15], ids=["offsets written", "offsets derived"])
def test_var_bytes_rows_are_what_whooshs_reader_reads(cutoff):
    """Whoosh writes a variable-width column's offsets only past `cutoff` rows, and its
    lengths in the narrowest array type that holds them: rows empty, short and over 64 KB."""
    rng = random.Random(cutoff)
    values = [b"", "经济".encode() * 40_000, b"2024", b""]
    values += [bytes(rng.choices(b"0123456789abc", k=rng.randint(0, 300))) for _ in range(200)]
    storage = RamStorage()
    with storage.create_file("column") as out:
        writer = VarBytesColumn(write_offsets_cutoff=cutoff).writer(out)
        for docnum, value in enumerate(values):
            if value:  # an empty row is a row never added, as a document without a value
                writer.add(docnum, value)
        writer.finish(len(values))
    column = storage.open_file("column")
    args = (column, 0, storage.file_length("column"), len(values))
    whooshs = VarBytesColumn.Reader(*args)
    ours = codec.VarBytesRows(*args)
    assert whooshs.had_stored_offsets is (cutoff == 10)
    assert list(whooshs) == values == _rows(ours) == [ours[n] for n in range(len(values))]
    # Read by spans, neighbours together: some reads hold several rows, some one too long
    # for a read of its own, and every subset gives each row's bytes.
    for gap, chunk in ((0, 1), (50, 400), (8192, 131072)):
        for subset in (range(len(values)), sorted(rng.sample(range(len(values)), 60))):
            spans = list(ours.spans(list(subset), gap=gap, chunk=chunk))
            assert [d for d, *_ in spans] == list(subset)
            assert [buffer[s:e] for _d, buffer, s, e in spans] == [values[d] for d in subset]
    spans = list(ours.spans(list(range(len(values)))))
    reads = {id(buffer) for _d, buffer, _s, _e in spans}
    assert 1 < len(reads) < len(values) / 10


def _rows(column):
    """A VarBytesRows' rows, cut from its data read whole."""
    data = column.data()
    return [data[o : o + n] for o, n in zip(column.offsets, column.lengths, strict=True)]


def test_the_stores_columns_of_several_segments_are_whooshs_values(tmp_path, schema):
    """Facet codes, numbers and texts read whole across segments, one written without the
    column, are the values Whoosh's reader reads a document at a time."""
    docs = _documents(300)
    for n, doc in enumerate(docs):
        if n % 3:
            doc["date"] = datetime.datetime(1954 + n % 70, 3, 5)
    ix, _ = _write(tmp_path / "whoosh", schema, docs, SegmentWriter)
    more = SegmentWriter(ix.refresh(), **WRITER_OPTIONS)
    for n, doc in enumerate(_documents(40, seed=9)):
        doc = doc | {"id": f"x{n}", "django_id": f"{n}0", "speaker": None, "body_chars": None}
        more.add_document(**{k: v for k, v in doc.items() if v is not None})
    more.commit(merge=False)
    with ix.refresh().searcher() as searcher:
        assert len(searcher.leaf_searchers()) == 2
        whooshs = {name: _whooshs_values(searcher, name) for name in ("year", "speaker")}
        for name, expected in whooshs.items():
            coded = store.coded_column(searcher, name)
            assert [coded.values[c] for c in coded.codes] == expected, name
            assert len(set(expected)) > 5
        numbers = store.column_numbers(searcher, "body_chars").tolist()
        assert numbers == [int(v) if v else -1 for v in _whooshs_values(searcher, "body_chars")]
        assert numbers[-40:] == [-1] * 40 and min(numbers[:300]) >= 0
        assert store.heads(searcher) == ()  # the test's documents have no HEAD column
        when = store.dates(searcher).tolist()
        expected = [datetime_to_long(d["date"]) if "date" in d else 0 for d in docs] + [0] * 40
        assert when == expected and when.count(0) == 100 + 40


def test_texts_read_with_their_neighbours_are_each_documents_own(tmp_path, schema):
    """DocumentTexts.holding and .each read the folded texts of neighbouring documents
    together: across two segments, the second written without the column (which cannot
    tell, so it holds every needle), each document's answer is its own text's."""
    ix, _ = _write(tmp_path / "whoosh", schema, _documents(300), SegmentWriter)
    more = SegmentWriter(ix.refresh(), **WRITER_OPTIONS)
    for n, doc in enumerate(_documents(40, seed=9)):
        doc = doc | {"id": f"x{n}", "django_id": f"{n}0", "speaker": None, "folded": None}
        more.add_document(**{k: v for k, v in doc.items() if v is not None})
    more.commit(merge=False)
    rng = random.Random(3)
    with ix.refresh().searcher() as searcher:
        texts = store.DocumentTexts(searcher.reader(), store.FOLDED)
        assert texts.columns[0] is not None and texts.columns[1] is None
        answers = set()
        for docs in (range(340), sorted(rng.sample(range(340), 90)), [5, 299, 300, 339], []):
            docs = np.array(docs, dtype=np.int64)
            own = [texts.raw(d) for d in docs.tolist()]
            assert list(texts.each(docs)) == list(zip(docs.tolist(), own, strict=True))
            for needle in ("经济".encode(), "发展改革".encode(), "龘".encode()):
                held = [raw is None or needle in raw for raw in own]
                assert texts.holding(docs, needle).tolist() == held
                answers |= {(raw is None, h) for raw, h in zip(own, held, strict=True)}
        assert answers == {(False, True), (False, False), (True, True)}


def test_occurrences_in_rows_read_whole_are_each_rows_own():
    """A match across two rows is no row's; empty rows come between; a row may hold several."""
    values = ["法条", "", "", "条例法", "法", "条条法条", "", "條"]
    lengths = np.array([len(v.encode()) for v in values])
    rows = store.Rows("".join(values).encode(), np.cumsum(lengths) - lengths, lengths, lengths < 0)
    for needle in ("条", "法条", "条法", "法"):
        expected = [v.count(needle) for v in values]
        assert rows.occurrences(needle.encode()).tolist() == expected, needle
    assert rows.occurrences("法条".encode()).sum() < "".join(values).count("法条")


def _whooshs_values(searcher, name):
    values = []
    for sub, _offset in searcher.leaf_searchers():
        reader = sub.reader()
        if not reader.has_column(name):
            values += [None] * reader.doc_count_all()
            continue
        values += [v.decode() or None for v in reader.column_reader(name, translate=False)]
    return values


def test_bulk_segments_read_as_whooshs(tmp_path, schema):
    """With inline postings and uncompressed blocks, every term, posting, stored field and
    column reads back as from Whoosh's own writer, and searches find the same."""
    docs = _documents(900, seed=11)
    theirs, _ = _write(tmp_path / "whoosh", schema, docs, SegmentWriter)
    ours, _ = _write(tmp_path / "bulk", schema, docs, codec.BulkSegmentWriter)
    with theirs.reader() as expected, ours.reader() as found:
        assert list(found.all_terms()) == list(expected.all_terms())
        inline = blocks = 0
        for fieldname, text in expected.all_terms():
            info, known = found.term_info(fieldname, text), expected.term_info(fieldname, text)
            inline += info.is_inlined()
            blocks += info.doc_frequency() > codec.INLINE_LIMIT
            assert _stats(info) == _stats(known), (fieldname, text)
            assert _postings(found, fieldname, text) == _postings(expected, fieldname, text)
        assert inline and blocks
        assert list(found.all_stored_fields()) == list(expected.all_stored_fields())
        for name in ("folded", "words", "year", "speaker"):
            assert list(found.column_reader(name)) == list(expected.column_reader(name)), name
        for name in ("text", "title", "grams", "chars"):
            lengths = [
                (r.doc_field_length(d, name), r.field_length(name))
                for r in (found, expected)
                for d in range(900)
            ]
            assert lengths[:900] == lengths[900:], name
    with theirs.searcher() as expected, ours.searcher() as found:
        for q in ("经济", "發展 改革", "“高质量”", "轴", "made china", "社会主义 -林权", "2024年"):
            plan = build_plan(parse(q))
            ranked = [Evaluation(s) for s in (found, expected)]
            docs_found, docs_expected = (e.docs(plan.matched) for e in ranked)
            assert docs_found.tolist() == docs_expected.tolist() and len(docs_found), q
            scores = [e.ranking(plan, docs_found).tolist() for e in ranked]
            assert scores[0] == pytest.approx(scores[1], rel=1e-12), q
            # Whoosh's own matchers read inline postings too.
            assert set(found.docs_for_query(plan.matched.whoosh())) == set(docs_found.tolist()), q


def _stats(info):
    return (
        info.weight(),
        info.doc_frequency(),
        info.min_length(),
        info.max_length(),
        info.max_weight(),
        info.min_id(),
        info.max_id(),
    )


def _postings(reader, fieldname, text):
    matcher = reader.postings(fieldname, text)
    found = []
    while matcher.is_active():
        # Fields without values answer None from a block, "" from a term's record.
        found.append((matcher.id(), matcher.weight(), matcher.value() or None))
        matcher.next()
    return found


def test_what_the_bulk_writer_cannot_write_is_refused(tmp_path, schema):
    ix = FileStorage(str(tmp_path)).create_index(schema)
    writer = codec.BulkSegmentWriter(ix, **WRITER_OPTIONS)
    with pytest.raises(ValueError, match="_boost"):
        writer.add_document(**_documents(1)[0], _boost=2.0)
    with pytest.raises(NotImplementedError):
        writer.add_reader(None)
    writer.cancel()
