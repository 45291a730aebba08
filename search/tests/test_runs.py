"""The runs files (search.engine.runs) must say what the texts Whoosh's reader reads say."""

import random
from pathlib import Path

import numpy as np
import pytest
from whoosh.filedb.filestore import FileStorage
from whoosh.writing import SegmentWriter

from search import rebuild
from search.engine import codec, runs
from search.engine.analysis import SEPARATOR, fold
from search.engine.cache import cache
from search.engine.evaluation import Evaluation
from search.engine.query.plan import Run
from search.engine.store import FOLDED, WRITER_OPTIONS
from search.queue import drain
from search.service import backend

from .test_bulk import schema  # noqa: F401

# Bigrams common and rare, runs overlapping themselves (哈哈哈, 是不是不是), Latin and digits,
# a character of four UTF-8 bytes (𠀀), punctuation no run holds, and the separator.
PIECES = (
    "第十三章 第十三条 第十 十三 三章 必要时 哈哈哈哈 是不是不是 经济发展 发展 改革 "
    "2024年 ai2024 made in china 𠀀𠀀中 中𠀀 ，。 人民 的"
).split()


def _documents(count, seed):
    """Documents over our real schema with the columns runs are made from: the folded text
    is the head (the title here) and the body's paragraphs, joined by SEPARATOR."""
    rng = random.Random(seed)
    docs = []
    for n in range(count):
        paragraphs = [
            "".join(rng.choices(PIECES, k=rng.randint(0, 40))) for _ in range(rng.randint(0, 4))
        ]
        title = "".join(rng.choices(PIECES, k=rng.randint(0, 3)))
        text = SEPARATOR.join([title, *paragraphs])  # as search.documents writes it
        docs.append(
            {
                "id": f"speeches.speech.{seed}.{n}",
                "django_ct": "speeches.speech",
                "django_id": f"{seed}{n}",
                "text": text,
                "grams": text,
                "chars": text,
                "title": title,
                "folded": fold(text),
                "head": fold(title),
            }
        )
    return docs


def _index(folder, schema, writer_class=SegmentWriter):  # noqa: F811
    """Three segments, the first with deletions, each with its runs file."""
    folder.mkdir()
    ix = FileStorage(str(folder)).create_index(schema)
    for seed, count in ((1, 300), (2, 120), (3, 1)):
        writer = writer_class(ix.refresh(), **WRITER_OPTIONS)
        for doc in _documents(count, seed):
            writer.add_document(**doc)
        writer.commit(merge=False)
    writer = ix.refresh().writer(**WRITER_OPTIONS)
    for n in range(0, 300, 7):
        writer.delete_by_term("id", f"speeches.speech.1.{n}")
    writer.commit(merge=False)
    runs.write_missing(ix.refresh())
    return ix.refresh()


def _needles(texts, rng):
    """Runs drawn from the texts, and some no text holds."""
    needles = ["第十三章", "必要时", "哈哈哈", "是不是", "不是不", "𠀀中", "𠀀𠀀", "ai2024", "龘靐"]
    needles += ["china中", "made中𠀀"]  # folded text may hold a space between: not placed
    for _ in range(60):
        text = rng.choice([t for t in texts if len(t) > 10])
        start = rng.randrange(len(text) - 8)
        needles.append(text[start : start + rng.randint(2, 8)])
    return needles


def test_runs_files_find_and_count_what_whooshs_reader_reads(tmp_path, schema):  # noqa: F811
    """Which documents hold a run anywhere in their folded text, and how often their body
    holds it (bytes.count: not overlapping), as the texts Whoosh's own column reader reads
    say; for every document, and for a few."""
    ix = _index(tmp_path / "index", schema)
    rng = random.Random(5)
    with ix.searcher() as searcher:
        assert len(searcher.leaf_searchers()) == 3 and searcher.reader().has_deletions()
        texts = [
            (raw or b"")
            for sub, _offset in searcher.leaf_searchers()
            for raw in sub.reader().column_reader(FOLDED, translate=False)
        ]
        heads = [
            len(raw) + len(SEPARATOR.encode())
            for sub, _offset in searcher.leaf_searchers()
            for raw in sub.reader().column_reader("head", translate=False)
        ]
        placed = runs.Runs(searcher.reader())
        assert all(segment is not None for _o, _c, segment in placed.segments)
        every = np.arange(searcher.doc_count_all())
        seen = {"held": 0, "absent": 0, "only before the body": 0, "not placed": 0}
        for needle in _needles([t.decode() for t in texts], rng):
            runs_of = needle.encode()
            for docs in (every, np.array(sorted(rng.sample(range(len(texts)), 40)))):
                found = placed.find(needle, docs)
                held = [d for d in docs.tolist() if runs_of in texts[d]]
                counts = [texts[d].count(runs_of, heads[d]) for d in held]
                if not runs.placeable(needle):  # punctuation, a separator, made中: not placed
                    assert not len(found.answered)
                    seen["not placed"] += 1
                    continue
                assert found.answered.tolist() == docs.tolist()
                assert (found.held.tolist(), found.counts.tolist()) == (held, counts), needle
                seen["held"] += bool(held)
                seen["absent"] += not held
                seen["only before the body"] += counts.count(0)
        assert min(seen.values()) > 0, seen
        # 哈哈哈哈 holds 哈哈哈 at two places, counted once.
        overlapping = placed.find("哈哈哈", every)
        starts = sum(len(s.starts_of("哈哈哈")[0]) for *_, s in placed.segments)
        assert 0 < overlapping.counts.sum() < starts


def test_a_run_found_through_the_files_is_found_in_the_texts(tmp_path, schema):  # noqa: F811
    """Search finds the same documents with the files as for an index written before them:
    a run (plan.Run: straight from the files, when every segment has one) and the documents
    it is confirmed among (Evaluation.containing), deleted documents never among them. The
    files make it faster, never different."""
    ix = _index(tmp_path / "index", schema)

    def searched(searcher, needles):
        cache.clear()
        live = Evaluation(searcher).every(None)  # what search asks about: no deleted ones
        return [
            (Evaluation(searcher).containing(n, live).tolist(), run_docs(searcher, n))
            for n in needles
        ]

    def run_docs(searcher, needle):  # a plan holds a Run of a run of letters, digits, CJK
        return (
            Run(needle).docs(Evaluation(searcher), None).tolist()
            if runs.placeable(needle)
            else None
        )

    with ix.searcher() as searcher:
        leaves = searcher.reader().leaf_readers()
        texts = [codec.column_rows(leaf, FOLDED).data().decode() for leaf, _offset in leaves]
        needles = [n for n in _needles(texts, random.Random(8)) if len(n) > 2]
        assert runs.runs(searcher).complete
        found = searched(searcher, needles)
        every_text = [raw or b"" for raw in searcher.reader().column_reader(FOLDED)]
        live = set(searcher.reader().all_doc_ids())
        truth = [
            [d for d in sorted(live) if n.encode() in every_text[d]] if runs.placeable(n) else None
            for n in needles
        ]
    assert [run for _confirmed, run in found] == truth and truth.count(None) > 3
    for path in (tmp_path / "index").glob(f"*{runs.SUFFIX}"):
        path.unlink()
    with ix.refresh().searcher() as searcher:
        assert not runs.runs(searcher).complete
        assert searched(searcher, needles) == found
    assert sum(map(bool, truth)) > 20


def test_the_file_is_the_same_for_whooshs_writer_and_the_rebuilds(tmp_path, schema):  # noqa: F811
    """A segment's runs file depends on its texts alone, not on which writer wrote it."""
    theirs = _index(tmp_path / "whoosh", schema)
    ours = _index(tmp_path / "bulk", schema, codec.BulkSegmentWriter)
    files = [
        sorted(path.read_bytes() for path in Path(ix.storage.folder).glob(f"*{runs.SUFFIX}"))
        for ix in (theirs, ours)
    ]
    assert len(files[0]) == 3 and files[0] == files[1]


def test_whoosh_removes_the_file_with_its_segment(tmp_path, schema):  # noqa: F811
    """Merged away, a segment's files go, its runs file among them; the merged segment gets
    its own at the next write_missing."""
    ix = _index(tmp_path / "index", schema)
    before = {p.name for p in (tmp_path / "index").glob(f"*{runs.SUFFIX}")}
    writer = ix.writer(**WRITER_OPTIONS)
    writer.commit(optimize=True)
    left = {p.name for p in (tmp_path / "index").glob(f"*{runs.SUFFIX}")}
    assert len(before) == 3 and not left
    runs.write_missing(ix.refresh())
    (segment,) = ix.refresh()._segments()
    assert {p.name for p in (tmp_path / "index").glob(f"*{runs.SUFFIX}")} == {
        segment.make_filename(runs.SUFFIX)
    }


@pytest.mark.parametrize("damage", ["cut short", "another segment's", "not one"])
def test_a_damaged_file_is_not_read(tmp_path, schema, damage):  # noqa: F811
    """A file cut short, or another segment's, or not a runs file at all, answers for no
    document: that segment's texts are read instead."""
    ix = _index(tmp_path / "index", schema)
    paths = sorted((tmp_path / "index").glob(f"*{runs.SUFFIX}"), key=lambda p: p.stat().st_size)
    small, large = paths[0], paths[-1]
    if damage == "cut short":
        large.write_bytes(large.read_bytes()[:-3])
    elif damage == "another segment's":
        large.write_bytes(small.read_bytes())
    else:
        large.write_bytes(b"0" * 4096)
    with ix.searcher() as searcher:
        placed = runs.Runs(searcher.reader())
        assert sum(segment is None for _o, _c, segment in placed.segments) == 1
        found = placed.find("发展", np.arange(searcher.doc_count_all()))
        assert 0 < len(found.answered) < searcher.doc_count_all()


def _files_and_segments():
    index = backend().index.refresh()
    files = {p.name for p in Path(index.storage.folder).glob(f"*{runs.SUFFIX}")}
    return files, {segment.make_filename(runs.SUFFIX) for segment in index._segments()}


def test_every_segment_the_archive_writes_has_its_file(seed):
    """The indexer's commits and the rebuild each write the files of the segments they make,
    and Whoosh removes those of the segments they replace."""
    files, segments = _files_and_segments()
    assert files == segments and len(segments) == 1
    seed.title = "发展新质生产力与轴承产业新机遇（修订）"
    seed.save()
    drain()
    assert _files_and_segments()[0] == _files_and_segments()[1] != segments
    rebuild.rebuild(workers=1)
    files, segments = _files_and_segments()
    assert files == segments and len(segments) == 1
    cache.clear()
    searcher = backend().searcher()
    found = runs.runs(searcher).find("轴承产业", np.arange(searcher.doc_count_all()))
    assert len(found.held) == 1 and found.counts.tolist() == [seed_count(seed, "轴承产业")]


def seed_count(speech, run):
    return sum(fold(p.text).count(run) for p in speech.paragraphs.all())
