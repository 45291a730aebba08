"""Evaluating the search's Whoosh queries over posting lists decoded block by block.

Whoosh's matcher tree steps through every posting with several Python calls (skip_to,
is_active, id); reading each term's blocks whole into numpy arrays, intersecting sorted
arrays and computing BM25F for all matches at once is many times faster on the common words
that match most of the archive. The documents found and the BM25F scores are Whoosh's own
(search/tests/test_ranking.py compares them on a real index).
"""

import io
import pickle
import struct
import threading
import zlib
from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from dataclasses import dataclass
from itertools import accumulate

import numpy as np
from whoosh import query as wq
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC
from whoosh.matching import FilterMatcher
from whoosh.query.wrappers import WrappingQuery
from whoosh.reading import TermNotFound
from whoosh.scoring import BM25FScorer, WeightScorer

from .analysis import is_one_word, query_grams

GRAMS, WORDS_FIELD = "grams", "text"
# Columns of each document's folded searchable text and of its word lengths (search_indexes).
FOLDED, WORDS = "folded", "words"


class Run(WrappingQuery):
    """A run of 3 or more characters: the documents holding all of its bigrams (the child
    query, which also scores it) and, verbatim in their folded text, the run itself.

    Bigrams carry no positions: confirming the few documents that hold all of a run's
    bigrams costs less at search time than positions cost at every indexing.
    """

    def __init__(self, text, boost=1.0, *, child=None):
        self.text = text
        if child is None:
            child = wq.And([wq.Term(GRAMS, g) for g in query_grams(text)], boost=boost)
        super().__init__(child)

    @property
    def boost(self):
        return self.child.boost

    def _rewrap(self, child):
        return Run(self.text, child=child)

    def __eq__(self, other):
        return isinstance(other, Run) and (self.text, self.child) == (other.text, other.child)

    __hash__ = WrappingQuery.__hash__

    def matcher(self, searcher, context=None):
        texts = DocumentTexts(searcher.reader(), FOLDED)
        needle = self.text.encode("utf-8")
        kept = {d for d in self.child.docs(searcher) if texts.holds(d, needle)}
        return FilterMatcher(self.child.matcher(searcher, context), kept)


class DocumentTexts:
    """A text column (search.backend.TextColumn) of every segment of a reader, by docnum."""

    def __init__(self, reader, name):
        self.starts, self.columns = [], []
        for leaf, offset in reader.leaf_readers():
            self.starts.append(offset)
            column = None
            if name in leaf.schema and leaf.has_column(name):
                column = leaf.column_reader(name, translate=False)
            self.columns.append(column)

    def raw(self, docnum):
        """The document's UTF-8 bytes, or None where the index was written without them."""
        i = bisect_right(self.starts, docnum) - 1
        column = self.columns[i]
        return None if column is None else column[docnum - self.starts[i]]

    def text(self, docnum):
        raw = self.raw(docnum)
        return None if raw is None else raw.decode("utf-8")

    def holds(self, docnum, needle):
        """Whether the document holds the bytes `needle`. An index written before the
        column existed cannot tell: it says yes, so a run is never missed there."""
        raw = self.raw(docnum)
        return raw is None or needle in raw


def document_texts(searcher, name):
    """The searcher's DocumentTexts of a column, opened once per searcher."""
    return _texts.get(searcher, name, lambda: DocumentTexts(searcher.reader(), name))


# -- evaluating a query over posting lists decoded block by block ---------------------------

# Whoosh writes at most this many postings to a block: a block is decoded whole or skipped.
BLOCK = 128
NONE = np.zeros(0, dtype=np.int64)


@dataclass
class _Postings:
    """A term's postings: global docnums (ascending) and weights, as arrays. All of them, or
    (`scope` an array of docnums) those of the blocks that hold the documents of `scope`."""

    ids: np.ndarray
    weights: np.ndarray
    scope: np.ndarray | None = None

    def covers(self, docs):
        """Whether these postings are complete at the documents `docs` (all if None)."""
        return covers(self.scope, docs)

    def at(self, docs):
        """(where, found): the positions in these postings of `docs` (not empty), where found."""
        where = np.searchsorted(self.ids, docs)
        where[where == len(self.ids)] = 0
        return where, self.ids[where] == docs


class Evaluation:
    """The documents and scores of one search's Whoosh queries, as arrays: documents are
    sorted arrays of docnums, and scores arrays aligned with the documents asked about.

    Scores follow Whoosh's BM25F, summed in another order (a difference of rounding only),
    for every match: Whoosh's own top-N search replaces its matchers as it goes and drops an
    Or clause (the title) whose best score alone is below the minimum so far, though it adds
    to the others' scores.
    """

    def __init__(self, searcher):
        self.searcher = searcher
        self.leaves = [(sub.reader(), offset) for sub, offset in searcher.leaf_searchers()]
        self.terms = {}
        self.found = {}

    def postings(self, fieldname, text, within=None):
        """The term's postings, complete at least at the docnums `within` (all if None)."""
        key = (fieldname, text)
        known = self.terms.get(key)
        if known is None or not known.covers(within):
            known = _decoded.get(self.searcher, key)
        if known is None or not known.covers(within):
            frequency = self.searcher.reader().doc_frequency(fieldname, text)
            few = within is not None and len(within) * BLOCK < frequency
            known = _read_postings(self.leaves, fieldname, text, within if few else None)
            if known.scope is None:
                _decoded.put(self.searcher, key, known)
        self.terms[key] = known
        return known

    def docs(self, query, within=None):
        """The docnums `query` matches (those of `within`, if given), as Whoosh finds them."""
        if isinstance(query, wq.Term):
            return restrict(self.postings(query.fieldname, query.text, within).ids, within)
        known = self.found.get(id(query))
        if known is None or not covers(known[1], within):
            # Kept with the query itself: an id is unique only while its object lives.
            known = self.found[id(query)] = query, within, self._docs(query, within)
        _query, scope, found = known
        return found if within is None or within is scope else restrict(found, within)

    def _docs(self, query, within):
        if isinstance(query, Run):
            return self.containing(query.text, self.docs(query.child, within))
        if isinstance(query, wq.And):
            return self._all(query.subqueries, within)
        if isinstance(query, wq.Or):
            return union([self.docs(sub, within) for sub in query.subqueries])
        if isinstance(query, wq.AndNot):
            found = self.docs(query.a, within)
            return without(found, self.docs(query.b, found))
        if isinstance(query, wq.TermRange):
            return union([self.docs(t, within) for t in self._range_terms(query)])
        if isinstance(query, wq.Every):
            every = [
                offset + np.fromiter(reader.all_doc_ids(), np.int64)
                for reader, offset in self.leaves
            ]
            return restrict(union(every), within)
        raise TypeError(f"cannot evaluate {query!r}")

    def _all(self, queries, within):
        """The docnums matching all of `queries`: the rarest first, each later one looked
        for only among the matches so far (a rare word skips most of a common one's blocks)."""
        reader = self.searcher.reader()
        for query in sorted(queries, key=lambda q: q.estimate_size(reader)):
            within = self.docs(query, within)
        return within

    def ranking(self, matched, rank, docs):
        """The scores of _scoring(matched, rank) at `docs`, all of them matches of `matched`."""
        scores = self.scores(matched, docs)
        return scores if rank is None else scores + self.scores(rank, docs)

    def scores(self, query, docs):
        """Whoosh's score of `query` at each of `docs`: 0 where it does not match."""
        if isinstance(query, wq.Term):
            return self.term_scores(query.fieldname, query.text, query.boost, docs)
        if isinstance(query, wq.Or):  # each alternative where it matches
            return _sum([self.scores(sub, docs) for sub in query.subqueries], len(docs))
        matching = self.docs(query, docs)
        if isinstance(query, Run):
            scores = self.scores(query.child, matching)
        elif isinstance(query, wq.And):
            scores = _sum([self.scores(sub, matching) for sub in query.subqueries], len(matching))
            scores *= query.boost
        elif isinstance(query, wq.AndNot):
            scores = self.scores(query.a, matching)
        elif isinstance(query, wq.TermRange | wq.Every):
            # A constant: the boost, 0 for a filter. (Whoosh scores a range of one term, or
            # of several in a segment of up to 5,000 documents, as 1 whatever its boost:
            # the same for every match, so never a change of order.)
            scores = np.full(len(matching), float(query.boost))
        else:
            raise TypeError(f"cannot score {query!r}")
        return spread(scores, matching, docs)

    def term_scores(self, fieldname, text, boost, docs):
        """Whoosh's score of Term(fieldname, text, boost=boost) at each of `docs`."""
        postings = self.postings(fieldname, text, docs)
        if not len(postings.ids):
            return np.zeros(len(docs))
        where, found = postings.at(docs)
        weights = np.where(found, postings.weights[where], 0.0)
        scorer = self.searcher.weighting.scorer(self.searcher, fieldname, text)
        if isinstance(scorer, WeightScorer):  # a field without lengths: ids, years
            return weights * boost
        if not isinstance(scorer, BM25FScorer):
            raise TypeError(f"cannot score with {scorer!r}")
        key = (fieldname, scorer.B, scorer.K1, scorer.avgfl)
        norms = _norms.get(self.searcher, key, lambda: _field_norms(self.searcher, *key))
        # bm25() of whoosh.scoring, with the part for the length computed once per searcher.
        scores = scorer.idf * ((weights * (scorer.K1 + 1)) / (weights + norms[docs]))
        return np.where(found, scores * boost, 0.0)

    def containing(self, text, docs):
        """Those of `docs` whose folded text holds `text` verbatim. Where `text` is a word of
        jieba's, the documents indexed with that word hold it: only the others are read."""
        sure = NONE
        if is_one_word(text):
            sure = restrict(self.postings(WORDS_FIELD, text, docs).ids, docs)
        unsure = without(docs, sure)
        texts, needle = document_texts(self.searcher, FOLDED), text.encode("utf-8")
        read = unsure[[texts.holds(d, needle) for d in unsure.tolist()]] if len(unsure) else unsure
        return union([sure, read])

    def _range_terms(self, query):
        fieldname, reader = query.fieldname, self.searcher.reader()
        return [wq.Term(fieldname, text) for _, text in query.expanded_terms(reader)]


# -- sorted arrays of docnums -----------------------------------------------------------------


def as_docs(docnums):
    """A sorted array of distinct docnums."""
    return np.unique(np.fromiter(docnums, dtype=np.int64))


def restrict(docs, within):
    """Those of `docs` in `within` (None: all of them); both sorted."""
    if within is None:
        return docs
    small, large = (docs, within) if len(docs) < len(within) else (within, docs)
    return small[_found(large, small)]


def without(docs, other):
    return docs[~_found(other, docs)]


def covers(scope, docs):
    """Whether `scope` (None: every document) holds all of `docs` (None: every document)."""
    if scope is None or docs is scope:
        return True
    return docs is not None and bool(_found(scope, docs).all())


def union(arrays):
    return np.unique(np.concatenate(arrays)) if arrays else NONE


def spread(scores, matching, docs):
    """`scores` at `matching` (a part of `docs`), as an array aligned with `docs`: 0 elsewhere."""
    if len(matching) == len(docs):
        return scores
    out = np.zeros(len(docs))
    out[np.searchsorted(docs, matching)] = scores
    return out


def _found(large, small):
    """For each of `small`, whether the sorted array `large` holds it."""
    if not len(large):
        return np.zeros(len(small), dtype=bool)
    where = np.searchsorted(large, small)
    where[where == len(large)] = 0
    return large[where] == small


def _sum(parts, size):
    """Scores added up. Whoosh adds them in the order of its matcher tree: the sums differ
    in rounding only."""
    return np.sum(parts, axis=0) if parts else np.zeros(size)


def _read_postings(leaves, fieldname, text, within):
    """The term's postings in all segments: all of them, or (`within` an array of docnums)
    those of the blocks holding the documents of `within`."""
    ids, weights = [], []
    for reader, offset in leaves:
        try:
            info = reader.term_info(fieldname, text)
        except TermNotFound:
            continue
        if info.is_inlined():  # a short list, kept in the term's record
            blocks = [info.inlined_postings()[:2]]
        else:
            wanted = None
            if within is not None:
                end = offset + reader.doc_count_all()
                wanted = (within[(within >= offset) & (within < end)] - offset).tolist()
            blocks = _blocks(reader, info, wanted)
        for block_ids, block_weights in blocks:
            if reader.has_deletions():
                kept = [i for i, d in enumerate(block_ids) if not reader.is_deleted(d)]
                block_ids = [block_ids[i] for i in kept]
                block_weights = [block_weights[i] for i in kept]
            ids += [offset + d for d in block_ids] if offset else block_ids
            weights += block_weights
    return _Postings(np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float64), within)


def _blocks(reader, info, wanted=None):
    """(ids, weights) of each block of a term's postings; with `wanted` (sorted docnums), only
    of the blocks that may hold one of them.

    Whoosh 2.7 (pinned) writes a term's postings as a header, then blocks: each a signed
    length (negative for the last), a pickled tuple of block statistics (the last id among
    them), and a pickled tuple of delta-coded ids, weights (None: all 1.0; a float: all that)
    and values. Its W3LeafMatcher reads them block by block, two reads each, and decodes
    posting by posting; here the term's extent is read in one call, and each block whole.
    """
    offset, length = info.extent()
    if isinstance(length, tuple):  # Whoosh 2.7.4 reads it back unpacked: (length,)
        (length,) = length
    data = reader._terms._postfile.get(offset, length)
    if data[:4] != WHOOSH3_HEADER_MAGIC:
        raise ValueError(f"no postings at {offset} of {reader.segment()}")
    stream, position, following, last_block = io.BytesIO(data), 4, 0, False
    while not last_block:
        size = _BLOCK_SIZE.unpack_from(data, position)[0]
        last_block, start = size < 0, position + _BLOCK_SIZE.size
        position = start + abs(size)
        stream.seek(start)
        count, last, _weight, compression, _shortest, _longest = pickle.load(stream)
        if wanted is not None:
            if following == len(wanted):
                return
            if wanted[following] > last:
                continue
            following = bisect_left(wanted, last + 1, following)
        block = data[stream.tell() : position]
        ids, weights, _values = pickle.loads(zlib.decompress(block) if compression else block)
        if weights is None or isinstance(weights, float):
            weights = [1.0 if weights is None else weights] * count
        yield list(accumulate(ids)), weights


_BLOCK_SIZE = struct.Struct("!i")


class PerSearcher:
    """Values derived from one searcher (one state of the index): each computed once, all
    dropped when a newer searcher comes."""

    def __init__(self):
        self.owner, self.values = None, {}
        self.lock = threading.Lock()

    def get(self, searcher, key, build):
        with self.lock:
            if self.owner is not searcher:
                self.owner, self.values = searcher, {}
            if key not in self.values:
                self.values[key] = build()
            return self.values[key]


class RecentPerSearcher:
    """The values of one searcher (one state of the index) used last, up to `budget` in all
    (each weighing weight(value)), the least recently used dropped first; all dropped when a
    newer searcher comes."""

    def __init__(self, budget):
        self.budget, self.owner, self.entries, self.size = budget, None, OrderedDict(), 0
        self.lock = threading.Lock()

    def weight(self, value):
        return 1

    def get(self, searcher, key):
        with self.lock:
            if self.owner is not searcher:
                return None
            value = self.entries.get(key)
            if value is not None:
                self.entries.move_to_end(key)
            return value

    def put(self, searcher, key, value):
        with self.lock:
            if self.owner is not searcher:
                self.owner, self.entries, self.size = searcher, OrderedDict(), 0
            if key in self.entries or self.weight(value) > self.budget:
                return
            self.entries[key] = value
            self.size += self.weight(value)
            while self.size > self.budget:
                _key, dropped = self.entries.popitem(last=False)
                self.size -= self.weight(dropped)

    def clear(self):
        with self.lock:
            self.owner, self.entries, self.size = None, OrderedDict(), 0


class DecodedPostings(RecentPerSearcher):
    """Whole posting lists decoded by recent searches of this process, up to `budget`
    postings in all. The common words (发展, 经济) are in most queries, and decoding their
    blocks was the largest part of finding the matches; an engine in C would read them from
    the page cache at no cost. Lucene keeps a cache of this kind (LRUQueryCache) for the same
    reason."""

    def __init__(self, budget=1_000_000):
        super().__init__(budget)

    def weight(self, postings):
        return len(postings.ids)


_decoded = DecodedPostings()


# BM25's part for the length, K1 * ((1 - B) + B * length / average length), of every document,
# per field: computed once per searcher, not at every match of every search.
_norms = PerSearcher()
_texts = PerSearcher()


def _field_norms(searcher, fieldname, b, k1, average):
    norms = array("d")
    for sub, _offset in searcher.leaf_searchers():
        reader = sub.reader()
        for docnum in range(reader.doc_count_all()):
            # (None where the field is empty: Whoosh never scores such a document.)
            length = reader.doc_field_length(docnum, fieldname, 1) or 0
            norms.append(k1 * ((1 - b) + b * length / average))
    return np.frombuffer(norms, dtype=np.float64)
