"""Evaluating the search's Whoosh queries over posting lists decoded block by block.

Whoosh's matcher tree steps through every posting with several Python calls (skip_to,
is_active, id); reading each term's blocks whole and intersecting sets is several times
faster on the common words that match most of the archive. The documents found and the
BM25F scores are Whoosh's own (search/tests/test_ranking.py compares them on a real index).
"""

import threading
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate

from whoosh import query as wq
from whoosh.matching import FilterMatcher
from whoosh.query.wrappers import WrappingQuery
from whoosh.reading import TermNotFound
from whoosh.scoring import BM25FScorer, WeightScorer

from .analysis import query_grams

GRAMS = "grams"
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


@dataclass
class _Postings:
    """A term's postings: global docnums (ascending) and weights. All of them, or (`scope` a
    set of docnums) those of the blocks that hold the documents of `scope`."""

    fieldname: str
    text: str
    ids: list
    weights: list
    scope: set | None = None

    @cached_property
    def docs(self):
        return set(self.ids)

    def covers(self, docs):
        """Whether these postings are complete at the documents `docs` (all if None)."""
        return _inside(docs, self.scope)

    def at(self, docnum):
        """Index of `docnum` in the lists, or -1."""
        i = bisect_left(self.ids, docnum)
        return i if i < len(self.ids) and self.ids[i] == docnum else -1


class Evaluation:
    """The documents and scores of one search's Whoosh queries. Scores follow Whoosh's BM25F,
    summed in another order (a difference of rounding only), for every match: Whoosh's own
    top-N search replaces its matchers as it goes and drops an Or clause (the title) whose
    best score alone is below the minimum so far, though it adds to the others' scores.
    """

    def __init__(self, searcher):
        self.searcher = searcher
        self.leaves = [(sub.reader(), offset) for sub, offset in searcher.leaf_searchers()]
        self.terms = {}
        self.found = {}

    def postings(self, fieldname, text, within=None):
        """The term's postings, complete at least at the docnums `within` (all if None)."""
        known = self.terms.get((fieldname, text))
        if known is None or not known.covers(within):
            frequency = self.searcher.reader().doc_frequency(fieldname, text)
            few = within is not None and len(within) * BLOCK < frequency
            known = _read_postings(self.leaves, fieldname, text, within if few else None)
            self.terms[fieldname, text] = known
        return known

    def docs(self, query, within=None):
        """The docnums `query` matches (those of `within`, if given), as Whoosh finds them."""
        if isinstance(query, wq.Term):
            found = self.postings(query.fieldname, query.text, within).docs
            return found if within is None else found & within
        known = self.found.get(id(query))
        if known is None or not _inside(within, known[1]):
            # Kept with the query itself: an id is unique only while its object lives.
            known = self.found[id(query)] = query, within, self._docs(query, within)
        _query, scope, found = known
        return found if within is None or within is scope or within is found else found & within

    def _docs(self, query, within):
        if isinstance(query, Run):
            return self.containing(query.text, self.docs(query.child, within))
        if isinstance(query, wq.And):
            return self._all(query.subqueries, within)
        if isinstance(query, wq.Or):
            return set().union(*(self.docs(sub, within) for sub in query.subqueries))
        if isinstance(query, wq.AndNot):
            found = self.docs(query.a, within)
            return found - self.docs(query.b, found)
        if isinstance(query, wq.TermRange):
            return set().union(*(self.docs(t, within) for t in self._range_terms(query)))
        if isinstance(query, wq.Every):
            every = {offset + d for reader, offset in self.leaves for d in reader.all_doc_ids()}
            return every if within is None else every & within
        raise TypeError(f"cannot evaluate {query!r}")

    def _all(self, queries, within):
        """The docnums matching all of `queries`: the rarest first, each later one looked
        for only among the matches so far (a rare word skips most of a common one's blocks)."""
        reader = self.searcher.reader()
        for query in sorted(queries, key=lambda q: q.estimate_size(reader)):
            within = self.docs(query, within)
        return within

    def ranking(self, matched, rank, docs):
        """{docnum: the score of _scoring(matched, rank)} at `docs`, all matches of `matched`."""
        scores = self.scores(matched, docs)
        return scores if rank is None else sum_scores([scores, self.scores(rank, docs)])

    def scores(self, query, docs):
        """{docnum: Whoosh's score of `query`} at those of `docs` that it matches."""
        if isinstance(query, wq.Term):
            return self.term_scores(query.fieldname, query.text, query.boost, docs)
        if isinstance(query, wq.Or):  # each alternative where it matches
            return sum_scores([self.scores(sub, docs) for sub in query.subqueries])
        docs = self.docs(query, docs)
        if isinstance(query, Run):
            return self.scores(query.child, docs)
        if isinstance(query, wq.And):
            return _boosted(
                sum_scores([self.scores(sub, docs) for sub in query.subqueries]), query.boost
            )
        if isinstance(query, wq.AndNot):
            return self.scores(query.a, docs)
        if isinstance(query, wq.TermRange | wq.Every):
            # A constant: the boost, 0 for a filter. (Whoosh scores a range of one term, or
            # of several in a segment of up to 5,000 documents, as 1 whatever its boost:
            # the same for every match, so never a change of order.)
            return dict.fromkeys(docs, query.boost)
        raise TypeError(f"cannot score {query!r}")

    def term_scores(self, fieldname, text, boost, docs):
        """{docnum: Whoosh's score of Term(fieldname, text, boost=boost)} at `docs`."""
        postings = self.postings(fieldname, text, docs)
        if not postings.ids:
            return {}
        if len(docs) * 16 < len(postings.ids):  # a few documents: look each one up
            pairs = [(d, postings.weights[i]) for d in docs if (i := postings.at(d)) >= 0]
        else:
            pairs = zip(postings.ids, postings.weights, strict=True)
        scorer = self.searcher.weighting.scorer(self.searcher, fieldname, text)
        if isinstance(scorer, WeightScorer):  # a field without lengths: ids, years
            return _boosted({d: w for d, w in pairs if d in docs}, boost)
        if not isinstance(scorer, BM25FScorer):
            raise TypeError(f"cannot score with {scorer!r}")
        idf, k = scorer.idf, scorer.K1 + 1
        key = (fieldname, scorer.B, scorer.K1, scorer.avgfl)
        norms = _norms.get(self.searcher, key, lambda: _field_norms(self.searcher, *key))
        # bm25() of whoosh.scoring, with the part for the length computed once per searcher.
        scores = {d: idf * ((w * k) / (w + norms[d])) for d, w in pairs if d in docs}
        return _boosted(scores, boost)

    def containing(self, text, docs):
        """Those of `docs` whose folded text holds `text` verbatim."""
        texts, needle = document_texts(self.searcher, FOLDED), text.encode("utf-8")
        return {d for d in docs if texts.holds(d, needle)}

    def _range_terms(self, query):
        fieldname, reader = query.fieldname, self.searcher.reader()
        return [wq.Term(fieldname, text) for _, text in query.expanded_terms(reader)]


def _inside(docs, scope):
    """Whether the set `docs` (None: every document) is inside `scope` (None: every one)."""
    return scope is None or docs is not None and (docs is scope or docs <= scope)


def sum_scores(parts):
    """Scores added up by document (into the first of `parts`). Whoosh adds them in the
    order of its matcher tree: the sums differ in rounding only."""
    if not parts:
        return {}
    total = parts[0]
    for part in parts[1:]:
        for docnum, score in part.items():
            total[docnum] = total.get(docnum, 0.0) + score
    return total


def _boosted(scores, boost):
    return scores if boost == 1.0 else {d: s * boost for d, s in scores.items()}


def _read_postings(leaves, fieldname, text, within):
    """The term's postings in all segments: all of them, or (`within` a set of docnums)
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
                wanted = sorted(d - offset for d in within if offset <= d < end)
            blocks = _blocks(reader.postings(fieldname, text), wanted)
        for block_ids, block_weights in blocks:
            if reader.has_deletions():
                kept = [i for i, d in enumerate(block_ids) if not reader.is_deleted(d)]
                block_ids = [block_ids[i] for i in kept]
                block_weights = [block_weights[i] for i in kept]
            ids += [offset + d for d in block_ids] if offset else block_ids
            weights += block_weights
    return _Postings(fieldname, text, ids, weights, within)


def _blocks(matcher, wanted=None):
    """(ids, weights) of each block of postings; with `wanted` (sorted docnums), only of the
    blocks that may hold one of them.

    Whoosh 2.7 (pinned) stores a block as one pickled tuple of delta-coded ids, weights
    (None: all 1.0; a float: all that) and values, after a header with the block's last id;
    W3LeafMatcher decodes it lazily, posting by posting. Here each block is taken whole.
    """
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child  # it hides deleted documents: the caller drops them instead
    following = 0  # the first of `wanted` not in the blocks before
    while matcher.is_active():
        last = matcher.block_max_id()
        if wanted is not None:
            if following == len(wanted):
                return
            if wanted[following] > last:
                matcher._next_block()
                continue
            following = bisect_left(wanted, last + 1, following)
        if matcher._data is None:
            matcher._read_data()
        ids, weights, _values = matcher._data
        count = len(ids)
        if weights is None or isinstance(weights, float):
            weights = [1.0 if weights is None else weights] * count
        ids = ids if matcher._byteids else list(accumulate(ids))
        yield ids, weights
        matcher._next_block()


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


# BM25's part for the length, K1 * ((1 - B) + B * length / average length), of every document,
# per field: computed once per searcher, not at every match of every search.
_norms = PerSearcher()
_texts = PerSearcher()


def _field_norms(searcher, fieldname, b, k1, average):
    norms = array("d")  # a float a document, unboxed
    for sub, _offset in searcher.leaf_searchers():
        reader = sub.reader()
        for docnum in range(reader.doc_count_all()):
            # (None where the field is empty: Whoosh never scores such a document.)
            length = reader.doc_field_length(docnum, fieldname, 1) or 0
            norms.append(k1 * ((1 - b) + b * length / average))
    return norms
