"""Evaluating a query plan (search.engine.query.plan) over posting lists decoded whole.

Whoosh's matcher tree steps through every posting with several Python calls (skip_to,
is_active, id); reading each term's blocks whole into numpy arrays, intersecting sorted
arrays and computing BM25F for all matches at once is many times faster on the common words
that match most of the archive. The documents found and the BM25F scores are Whoosh's own
(search/tests/test_ranking.py compares them on a real index).

An Evaluation lives for one search: it keeps the postings and the matches it has found, so
that each node of the plan is evaluated once however often the ranking asks for it.
"""

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from whoosh.scoring import BM25FScorer, WeightScorer

from . import codec
from .analysis import SEPARATOR, is_one_word, is_plain, phrase_pattern, query_grams
from .cache import cache
from .runs import placeable, runs
from .store import FOLDED, document_texts, field_norms, heads

WORDS_FIELD = "text"
_SEPARATOR = SEPARATOR.encode("utf-8")
_UNREAD = object()
NONE = codec.NONE


@dataclass(frozen=True)
class Confirmed:
    """The documents found holding a string (`found`) among the candidates read."""

    candidates: np.ndarray
    found: np.ndarray

    @property
    def nbytes(self):
        return self.candidates.nbytes + self.found.nbytes + 64


class Evaluation:
    """The documents and scores of one search's plan, as arrays: documents are sorted arrays
    of docnums, and scores arrays aligned with the documents asked about."""

    def __init__(self, searcher, *, counting=None):
        """`counting`: a counting.BodyCounts, whose run is counted in each text read to
        confirm it, so that a caller counting in the same texts reads none twice."""
        self.searcher, self.counting = searcher, counting
        self.reader = searcher.reader()
        self.leaves = [(sub.reader(), offset) for sub, offset in searcher.leaf_searchers()]
        self.terms = {}
        self.found = {}
        self.read = {}  # docnum: its folded text (bytes), read once per search

    def postings(self, fieldname, text, within=None):
        """The term's postings, complete at least at the docnums `within` (all if None)."""
        key = (fieldname, text)
        known = self.terms.get(key)
        if known is None or not known.covers(within):
            known = cache.get(self.searcher, ("postings", *key))
        if known is None or not known.covers(within):
            frequency = self.doc_frequency(fieldname, text)
            few = within is not None and len(within) * codec.BLOCK_LIMIT < frequency
            known = codec.read_postings(self.leaves, fieldname, text, within if few else None)
            if known.scope is None:
                cache.put(self.searcher, ("postings", *key), known)
        self.terms[key] = known
        return known

    def docs(self, node, within=None):
        """The docnums `node` matches (those of `within`, if given), each node found once."""
        if not node.memo:
            return node.docs(self, within)
        known = self.found.get(id(node))
        if known is None or not codec.covers(known[1], within):
            # Kept with the node itself: an id is unique only while its object lives.
            known = self.found[id(node)] = node, within, node.docs(self, within)
        _node, scope, found = known
        return found if within is None or within is scope else restrict(found, within)

    def ranking(self, plan, docs):
        """The plan's scores at `docs`, all of them matches: what must match, plus the rank."""
        scores = plan.matched.scores(self, docs)
        return scores if plan.rank is None else scores + plan.rank.scores(self, docs)

    def term_scores(self, fieldname, text, boost, docs):
        """Whoosh's score of Term(fieldname, text, boost=boost) at each of `docs`."""
        postings = self.postings(fieldname, text, docs)
        if not len(postings.ids):
            return np.zeros(len(docs))
        where, found = postings.at(docs)
        weights = np.where(found, postings.weights[where], 0.0)
        scorer = self._scorer(fieldname, text)
        if isinstance(scorer, WeightScorer):  # a field without lengths: ids, years
            return weights * boost
        if not isinstance(scorer, BM25FScorer):
            raise TypeError(f"cannot score with {scorer!r}")
        norms = field_norms(self.searcher, fieldname, scorer.B, scorer.K1, scorer.avgfl)
        # bm25() of whoosh.scoring, with the part for the length computed once per searcher.
        scores = scorer.idf * ((weights * (scorer.K1 + 1)) / (weights + norms[docs]))
        return np.where(found, scores * boost, 0.0)

    def doc_frequency(self, fieldname, text):
        """How many documents hold the term, looked up once per index generation (a lookup
        is a few reads in each segment's term table; a plan asks it of every term)."""
        return cache.value(
            self.searcher,
            ("postings", "frequency", fieldname, text),
            lambda: self.reader.doc_frequency(fieldname, text),
            weight=100,
        )

    def _scorer(self, fieldname, text):
        """Whoosh's scorer of a term, whose statistics (idf, average length) hold for the
        index generation: made once, not at each search (it looks the term up again)."""
        return cache.value(
            self.searcher,
            ("postings", "scorer", fieldname, text),
            lambda: self.searcher.weighting.scorer(self.searcher, fieldname, text),
            weight=500,
        )

    def run(self, text, grams, within):
        """Those of `within` (every document if None) whose folded text holds the run
        `text`: where every segment has its runs file, found there; else among those the
        node `grams` (its bigrams) matches, confirmed (containing())."""
        placed = runs(self.searcher)
        if not (placed.complete and placeable(text)):
            return self.containing(text, self.docs(grams, within))
        # Found among every document, and kept for the index generation as postings are.
        found = cache.value(
            self.searcher,
            ("postings", "placed", text),
            lambda: placed.find(text, self.every(None)),
        )
        held = found.held if within is None else restrict(found.held, within)
        counting = self._counting(text)
        if counting is not None:
            counts = (
                found.counts if within is None else found.counts[codec.found_in(held, found.held)]
            )
            counting.update(zip(held.tolist(), counts.tolist(), strict=True))
        return held

    def _counting(self, text):
        """The BodyCounts to count `text` into, if the caller counts this run."""
        counting = self.counting
        return counting if counting is not None and counting.needle == text.encode() else None

    def containing(self, text, docs):
        """Those of `docs` whose folded text holds `text` verbatim. Where `text` is a word of
        jieba's, the documents indexed with that word hold it: only the others are read."""
        return self._confirmed(("containing", text), docs, lambda: self._containing(text, docs))

    def _containing(self, text, docs):
        sure = NONE
        if is_one_word(text):
            sure = restrict(self.postings(WORDS_FIELD, text, docs).ids, docs)
        unsure = without(docs, sure)
        texts, needle = document_texts(self.searcher, FOLDED), text.encode("utf-8")
        counting = self._counting(text)
        placed = runs(self.searcher).find(text, unsure)
        if counting is not None:
            counting.update(placed.counted())
        unread = without(unsure, placed.answered)
        held = unread[texts.holding(unread, needle, counting=counting)]
        return union([sure, placed.held, held])

    def raw(self, docnum):
        """The document's folded text as bytes (None: indexed without it), read once per
        search however many phrases ask."""
        found = self.read.get(docnum, _UNREAD)
        if found is _UNREAD:
            found = self.read[docnum] = document_texts(self.searcher, FOLDED).raw(docnum)
        return found

    def holding(self, phrase, docs):
        """Those of `docs` whose folded text holds the phrase, whitespace in the text never
        separating a match (see analysis.phrase_pattern)."""
        if not len(docs):
            return docs
        find = _finder(phrase)
        return self._confirmed(
            ("holding", phrase), docs, lambda: docs[[find(self.raw(d)) for d in docs.tolist()]]
        )

    def _confirmed(self, key, docs, confirm):
        """confirm(): those of the candidates `docs` whose text holds a run or a phrase, read
        in their text. Whoosh keeps no positions, so this is the string's posting list: it
        is kept for the index generation, as decoded postings are, with the candidates it was
        read among, and answers any candidates among those without reading a text again."""
        key = ("postings", "confirmed", *key)
        kept = cache.get(self.searcher, key)
        if kept is not None and len(restrict(docs, kept.candidates)) == len(docs):
            return restrict(kept.found, docs)
        found = confirm()
        if kept is None or len(docs) > len(kept.candidates):
            cache.put(self.searcher, key, Confirmed(docs, found), replace=True)
        return found

    def occurrences(self, phrase, docs):
        """How often the phrase occurs in the folded text of each of `docs` (not overlapping,
        as str.count counts)."""
        count = _counter(phrase)
        return np.array([count(self.raw(d)) for d in docs.tolist()], dtype=np.float64)

    def together(self, first, second, unit, docs):
        """Those of `docs` where one of the phrases `first` and one of `second` occur in one
        paragraph (`unit` "paragraph") or one sentence ("sentence")."""
        if not len(docs):
            return docs
        return docs[[together(self.raw(d), first, second, unit) for d in docs.tolist()]]

    def in_title(self, phrases, docs):
        """1.0 for each of `docs` whose title (the first part of its folded text) holds every
        one of the phrases, else 0.0."""
        finds = [_finder(p) for p in phrases]
        return np.array([float(all(f(t) for f in finds)) for t in self._titles(docs)])

    def _titles(self, docs):
        """The folded titles of `docs`, as UTF-8: from the HEAD column, where the index has
        it, else from the start of each document's folded text."""
        before = heads(self.searcher)
        if before:
            return [before[d].split(_SEPARATOR, 1)[0] for d in docs.tolist()]
        titles = []
        for raw in ((self.raw(d) or b"") for d in docs.tolist()):
            end = raw.find(_SEPARATOR)
            titles.append(raw if end < 0 else raw[:end])
        return titles

    def estimated_occurrences(self, phrase, parts, docs):
        """An upper bound of each of `docs`' occurrences of the phrase, from the postings
        alone: the fewest occurrences of any of its bigrams (1 where it has none)."""
        grams = {g for part in parts for g in query_grams(part) if len(g) == 2}
        if not grams:
            return np.ones(len(docs))
        counts = []
        for gram in grams:
            postings = self.postings("grams", gram, docs)
            where, found = postings.at(docs) if len(postings.ids) else (None, None)
            counts.append(
                np.where(found, postings.weights[where], 0.0)
                if found is not None
                else np.zeros(len(docs))
            )
        return np.maximum(np.min(counts, axis=0), 1.0)

    def length_norms(self):
        """BM25's length part of every document, by its number of bigrams (about its length
        in characters), with Whoosh's B and K1."""
        weighting, reader = self.searcher.weighting, self.reader
        average = reader.field_length("grams") / max(1, reader.doc_count_all())
        return field_norms(self.searcher, "grams", weighting.B, weighting.K1, average or 1.0)

    def every(self, within):
        # Each segment's docnums follow the one before's: joined, they are sorted already.
        live = [offset + _live(reader) for reader, offset in self.leaves]
        return restrict(np.concatenate([NONE, *live]), within)


def _live(reader):
    """A segment's documents less its deleted ones. (Whoosh's all_doc_ids() asks about each
    document in turn: 5 ms for 10,000, on every search that starts from every document.)"""
    docs, deleted = np.arange(reader.doc_count_all(), dtype=np.int64), codec.deleted_docs(reader)
    return np.setdiff1d(docs, deleted, assume_unique=True) if len(deleted) else docs


# -- sorted arrays of docnums -----------------------------------------------------------------


def as_docs(docnums):
    """A sorted array of distinct docnums."""
    return np.unique(np.fromiter(docnums, dtype=np.int64))


def restrict(docs, within):
    """Those of `docs` in `within` (None: all of them); both sorted."""
    if within is None:
        return docs
    small, large = (docs, within) if len(docs) < len(within) else (within, docs)
    return small[codec.found_in(large, small)]


def without(docs, other):
    return docs[~codec.found_in(other, docs)]


def union(arrays):
    return np.unique(np.concatenate(arrays)) if arrays else NONE


def spread(scores, matching, docs):
    """`scores` at `matching` (a part of `docs`), as an array aligned with `docs`: 0 elsewhere."""
    if len(matching) == len(docs):
        return scores
    out = np.zeros(len(docs))
    out[np.searchsorted(docs, matching)] = scores
    return out


def total(parts, size):
    """Scores added up. Whoosh adds them in the order of its matcher tree: the sums differ
    in rounding only."""
    return np.sum(parts, axis=0) if parts else np.zeros(size)


# Where a sentence ends, in folded text (full-width ！？； fold to ASCII).
_SENTENCE_END = re.compile("(?:。|!|\\?|;|…)+".encode())


def together(raw, first, second, unit):
    """Whether folded text (bytes) holds one of the phrases `first` and one of `second` in one
    paragraph, or one sentence. The parts before the body (title, names) count as paragraphs
    of their own."""
    if raw is None:
        return True  # an index written without the text column cannot tell: never missed
    firsts, seconds = [_finder(p) for p in first], [_finder(p) for p in second]
    for paragraph in raw.split(_SEPARATOR):
        units = _SENTENCE_END.split(paragraph) if unit == "sentence" else (paragraph,)
        for u in units:
            if any(f(u) for f in firsts) and any(f(u) for f in seconds):
                return True
    return False


def idf(documents, matching):
    """BM25's inverse document frequency (Lucene's, never negative)."""
    return math.log(1 + (documents - matching + 0.5) / (matching + 0.5))


@lru_cache(maxsize=256)
def _finder(phrase):
    """found(raw bytes) for a phrase: a plain substring test where the text can hold it only
    as it stands, else its pattern. Text indexed without the column (None) holds it."""
    if is_plain(phrase):
        needle = phrase.encode("utf-8")
        return lambda raw: raw is None or needle in raw
    pattern = re.compile(phrase_pattern(phrase).encode("utf-8"))
    return lambda raw: raw is None or pattern.search(raw) is not None


@lru_cache(maxsize=256)
def _counter(phrase):
    if is_plain(phrase):
        needle = phrase.encode("utf-8")
        return lambda raw: 0 if raw is None else raw.count(needle)
    pattern = re.compile(phrase_pattern(phrase).encode("utf-8"))
    return lambda raw: 0 if raw is None else sum(1 for _ in pattern.finditer(raw))
